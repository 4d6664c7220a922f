"""Fuzz every reader and loader a user feeds; print the inputs tried and the findings per target.

    .venv/bin/python benchmarks/fuzz_loaders.py --examples 2000

The targets and input strategies are those of `tests/fuzz_targets.py` (the test suite runs a
few hundred fixed examples per target); here hypothesis draws fresh random ones. A finding is
any outcome other than a valid result or a `SemiologyError`; hypothesis shrinks it to a minimal
input, printed with the exception.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import fuzz_targets as targets  # noqa: E402
from tests.bundle_fixtures import tiny_bundle  # noqa: E402


def fuzz(name: str, target, valid: bytes, examples: int, folder: Path) -> tuple[Counter, str | None]:
    outcomes: Counter = Counter()

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(data=targets.mutations(valid))
    def check(data: bytes) -> None:
        outcomes[targets.run_target(target, data, folder)] += 1

    try:
        check()
    except Exception:
        return outcomes, traceback.format_exc(limit=4)
    return outcomes, None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1000, help="inputs per target (default 1000)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="semiology-fuzz-"))
    bundle = tiny_bundle(root / "tiny_bundle")
    cases = [
        ("manifest_csv", targets.manifest_csv, targets.VALID_MANIFEST_CSV),
        ("manifest_yaml", targets.manifest_yaml, targets.VALID_MANIFEST_YAML),
        ("experiment_config", targets.experiment_config, targets.VALID_EXPERIMENT),
        ("extraction_config", targets.extraction_config, targets.VALID_EXTRACTION),
        ("cache_record", targets.cache_record, targets.valid_cache_bytes(root)),
        ("video_file", targets.video_file, b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(64)),
        ("bundle_json", targets.bundle_description(bundle.path), targets.valid_bundle_json(bundle.path)),
    ]
    print(f"{'target':<18} {'inputs':>7} {'ok':>6} {'refused':>8} {'findings':>8} {'time s':>7}")
    findings = 0
    for name, target, valid in cases:
        folder = root / name
        folder.mkdir()
        started = time.perf_counter()
        outcomes, failure = fuzz(name, target, valid, args.examples, folder)
        tried = sum(outcomes.values()) + (1 if failure else 0)
        print(f"{name:<18} {tried:>7} {outcomes['ok']:>6} {outcomes['refused']:>8} {int(failure is not None):>8} {time.perf_counter() - started:>7.1f}")
        if failure:
            findings += 1
            print(failure)
    print(f"findings: {findings}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
