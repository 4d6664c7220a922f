"""The readers and loaders users feed answer any input with a valid result or one clear SemiologyError.

See `tests/fuzz_targets.py`; `benchmarks/fuzz_loaders.py` runs the same targets longer.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from tests import fuzz_targets as targets
from tests.bundle_fixtures import tiny_bundle

EXAMPLES = 150
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.mark.parametrize(
    ("target", "valid"),
    [
        (targets.manifest_csv, targets.VALID_MANIFEST_CSV),
        (targets.manifest_yaml, targets.VALID_MANIFEST_YAML),
        (targets.experiment_config, targets.VALID_EXPERIMENT),
        (targets.extraction_config, targets.VALID_EXTRACTION),
    ],
    ids=["manifest_csv", "manifest_yaml", "experiment_config", "extraction_config"],
)
def test_text_inputs(target, valid, tmp_path: Path) -> None:
    assert targets.run_target(target, valid, tmp_path) == "ok", "the valid seed input loads"

    @FUZZ
    @given(data=targets.mutations(valid))
    def check(data: bytes) -> None:
        targets.run_target(target, data, tmp_path)

    check()


def test_cache_records(tmp_path: Path) -> None:
    valid = targets.valid_cache_bytes(tmp_path)
    assert targets.run_target(targets.cache_record, valid, tmp_path) == "ok"

    @FUZZ
    @given(data=targets.mutations(valid))
    def check(data: bytes) -> None:
        targets.run_target(targets.cache_record, data, tmp_path)

    check()


def test_video_headers(tmp_path: Path) -> None:
    @FUZZ
    @given(data=targets.mutations(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(64)))
    def check(data: bytes) -> None:
        targets.run_target(targets.video_file, data, tmp_path)

    check()


def test_bundle_descriptions(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    bundle = tiny_bundle(tmp_path_factory.getbasetemp() / "tiny_bundle")
    target = targets.bundle_description(bundle.path)
    valid = targets.valid_bundle_json(bundle.path)
    assert targets.run_target(target, valid, tmp_path) == "ok"

    @settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(data=targets.mutations(valid))
    def check(data: bytes) -> None:
        targets.run_target(target, data, tmp_path)

    check()
