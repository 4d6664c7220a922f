"""Extraction reuses a cached record only when nothing it was made from changed, and its summary survives reruns and kills."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest

from semiology.config import config_from_dict
from semiology.extract import batch as batch_module
from semiology.extract.batch import SUMMARY_FILE, run_extraction
from semiology.extract.config import ExtractionConfig
from semiology.io.cache import cache_path, load_record
from tests.blob_backend import FPS, blob_video, register_blob

COLUMNS = ["seizure_id", "subject_id", "ir", "fps", "onset_s", "offset_s", "motion"]


@pytest.fixture(scope="module")
def config() -> ExtractionConfig:
    register_blob()
    return config_from_dict(
        {"body_layout": "blob_3", "pose": {"backend": "bright_blob"}, "roi": {"enabled": False}, "face": {"enabled": False},
         "crops": {"enabled": False}, "lift": {"method": "none"}},
        ExtractionConfig,
    )


def _manifest(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows({"fps": str(FPS), "onset_s": "1.0", "offset_s": "3.5", "motion": "sway", **row} for row in rows)
    return path


def _summary(folder: Path) -> dict[str, dict[str, str]]:
    with (folder / SUMMARY_FILE).open(newline="") as handle:
        return {row["seizure_id"]: row for row in csv.DictReader(handle)}


def test_a_row_pointed_at_another_video_is_extracted_again(tmp_path: Path, config: ExtractionConfig) -> None:
    still, moving = tmp_path / "still", tmp_path / "moving"
    blob_video(still, moving=False, phase=0.0)
    truth = blob_video(moving, moving=True, phase=0.0)
    manifest = _manifest(tmp_path / "m.csv", [{"seizure_id": "s1", "subject_id": "P1", "ir": str(still)}])
    cache = tmp_path / "cache"
    assert [r.status for r in run_extraction(manifest, cache, config, progress=False)] == ["extracted"]
    assert [r.status for r in run_extraction(manifest, cache, config, progress=False)] == ["cached"]
    _manifest(manifest, [{"seizure_id": "s1", "subject_id": "P1", "ir": str(moving)}])
    (result,) = run_extraction(manifest, cache, config, progress=False)
    assert result.status == "extracted" and "extracted again: inputs changed" in result.reason
    record = load_record(cache_path(cache, "s1"))
    assert np.abs(record.body_2d.coords[:, 0] - truth).max() < 1.0, "the cache holds the new video's keypoints"


def test_a_changed_onset_or_a_replaced_file_is_extracted_again(tmp_path: Path, config: ExtractionConfig) -> None:
    video = tmp_path / "video"
    blob_video(video, moving=True, phase=0.0)
    manifest = _manifest(tmp_path / "m.csv", [{"seizure_id": "s1", "subject_id": "P1", "ir": str(video)}])
    cache = tmp_path / "cache"
    run_extraction(manifest, cache, config, progress=False)
    _manifest(manifest, [{"seizure_id": "s1", "subject_id": "P1", "ir": str(video), "onset_s": "1.5"}])
    (result,) = run_extraction(manifest, cache, config, progress=False)
    assert result.status == "extracted" and load_record(cache_path(cache, "s1")).onset_s == 1.5
    frame = sorted(video.iterdir())[5]
    stat = frame.stat()
    os.utime(frame, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    (result,) = run_extraction(manifest, cache, config, progress=False)
    assert result.status == "extracted", "a frame file rewritten in place makes the record stale"


def test_the_summary_keeps_earlier_figures_and_survives_a_kill(tmp_path: Path, config: ExtractionConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = []
    for index in range(3):
        blob_video(tmp_path / f"v{index}", moving=index == 1, phase=0.0)
        rows.append({"seizure_id": f"s{index}", "subject_id": f"P{index}", "ir": str(tmp_path / f"v{index}")})
    manifest = _manifest(tmp_path / "m.csv", rows[:2])
    cache = tmp_path / "cache"
    run_extraction(manifest, cache, config, progress=False)
    first = _summary(cache)
    assert set(first) == {"s0", "s1"} and float(first["s0"]["person_found"]) == 1.0

    _manifest(manifest, rows)
    real = batch_module.extract_recording

    def killed_at_s2(chain, row, *args, **kwargs):
        if row.seizure_id == "s2":
            raise KeyboardInterrupt
        return real(chain, row, *args, **kwargs)

    monkeypatch.setattr(batch_module, "extract_recording", killed_at_s2)
    with pytest.raises(KeyboardInterrupt):
        run_extraction(manifest, cache, config, progress=False)
    after_kill = _summary(cache)
    assert set(after_kill) == {"s0", "s1"}
    assert after_kill["s0"]["status"] == "cached" and after_kill["s0"]["person_found"] == first["s0"]["person_found"], "a cached row keeps its figures"
    assert not list(cache.glob(".*.tmp")), "no temporary file is left behind"

    monkeypatch.setattr(batch_module, "extract_recording", real)
    run_extraction(manifest, cache, config, progress=False)
    final = _summary(cache)
    assert set(final) == {"s0", "s1", "s2"} and final["s2"]["status"] == "extracted"
    assert final["s1"]["frames"] == first["s1"]["frames"] != ""
