"""Screening reuses a row only when neither the bundle nor the recording's inputs changed, and says why it screens again."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from semiology.cli import screen
from semiology.screen.batch import RESULTS_FILE, bundle_digest, items_from_manifest, run_screen
from tests.bundle_fixtures import tiny_bundle, tiny_records
from tests.screen.test_screen import _manifest


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return tiny_bundle(tmp_path_factory.getbasetemp() / "tiny_bundle")


def _rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / RESULTS_FILE).read_text().splitlines()]


def test_changed_inputs_or_bundle_are_screened_again_and_each_recording_keeps_one_row(bundle, tmp_path: Path) -> None:
    records = tiny_records(4, seed=21)
    items = items_from_manifest(_manifest(records, tmp_path, "manifest.csv"))
    out = tmp_path / "out"
    first = run_screen(bundle.path, items, out, progress=False)
    assert first.n_ok == 4 and first.rescreened == {}
    again = run_screen(bundle.path, items, out, progress=False)
    assert again.n_skipped == 4 and again.rescreened == {}

    moved = [dataclasses.replace(items[0], onset_s=items[0].onset_s + 1.0), *items[1:]]
    changed = run_screen(bundle.path, moved, out, progress=False)
    assert changed.rescreened == {"inputs changed": 1} and changed.n_skipped == 3
    rows = _rows(out)
    assert [row["seizure_id"] for row in rows].count(items[0].seizure_id) == 1, "the superseded row is gone"
    assert len(rows) == 4

    retrained = tmp_path / "retrained"
    shutil.copytree(bundle.path, retrained)
    meta = json.loads((retrained / "bundle.json").read_text())
    first_model = next(entry for entry in meta["models"] if entry["selection"]["threshold"] is not None)
    first_model["selection"]["threshold"] = 0.99
    (retrained / "bundle.json").write_text(json.dumps(meta))
    rerun = run_screen(retrained, moved, out, progress=False)
    assert rerun.rescreened == {"bundle changed": 4} and rerun.n_skipped == 0
    assert {row["inputs"]["bundle"] for row in _rows(out)} == {bundle_digest(retrained)}
    assert len(_rows(out)) == 4


def test_the_screen_tool_exits_1_and_lists_what_failed(bundle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = tiny_records(3, seed=22)
    manifest = _manifest(records, tmp_path, "manifest.csv")
    (tmp_path / "cache" / f"{records[1].seizure_id}.npz").write_bytes(b"not a cache file")
    status = screen(["--bundle", str(bundle.path), "--manifest", str(manifest), "--out", str(tmp_path / "out"), "--no-progress"])
    captured = capsys.readouterr()
    assert status == 1
    assert f"failed: {records[1].seizure_id}:" in captured.err
    assert "3 recordings: 2 screened, 1 errors" in captured.out
