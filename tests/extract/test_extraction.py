"""Batch extraction: good and bad recordings in one manifest, resumability, depth lifting, the CLI."""

from __future__ import annotations

import csv
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from semiology.camera import KINECT_V2_DEPTH
from semiology.config import config_from_dict
from semiology.extract.batch import SUMMARY_FILE, format_summary, run_extraction
from semiology.extract.cli import extract_keypoints
from semiology.extract.config import ExtractionConfig
from semiology.io.cache import cache_path, load_record
from semiology.io.video import open_video
from semiology.pseudonyms import subject_pseudonym

FAST = config_from_dict({"crops": {"features": False}}, ExtractionConfig)
GOOD_FRAMES = 30


@pytest.fixture(scope="module")
def tai_chi(shared_data_module: Path) -> np.ndarray:
    with open_video(shared_data_module / "video" / "kinetics_tai_chi.mp4") as reader:
        return np.stack([frame.image for _, frame in zip(range(GOOD_FRAMES), reader)])


@pytest.fixture(scope="module")
def shared_data_module() -> Path:
    from tests.conftest import SHARED_DATA

    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test data not found at {SHARED_DATA} (../shared/data beside the project)")
    return SHARED_DATA


def _unsupported_codec(path: Path) -> Path:
    clean = path.with_name("clean.avi")
    with av.open(str(clean), "w") as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for level in range(3):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.full((48, 64, 3), level * 50, np.uint8), format="rgb24")))
        container.mux(stream.encode())
    path.write_bytes(clean.read_bytes().replace(b"FMP4", b"QZQZ"))
    return path


def _write_manifest(path: Path, rows: list[dict[str, str]]) -> Path:
    columns = ["seizure_id", "subject_id", "rgb", "depth", "fps", "onset_s", "offset_s", "seizure_type"]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({"onset_s": "0.2", "offset_s": "1.0", "seizure_type": "focal", "depth": "", "fps": "30", **row})
    return path


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory, shared_data_module: Path, tai_chi: np.ndarray):
    folder = tmp_path_factory.mktemp("batch")
    np.save(folder / "good.npy", tai_chi)
    blank = np.full((10, *tai_chi.shape[1:]), 90, dtype=np.uint8)
    np.save(folder / "nobody.npy", blank)
    late = np.concatenate([np.full((100, *tai_chi.shape[1:]), 90, dtype=np.uint8), tai_chi[:12]])
    np.save(folder / "late.npy", late)
    np.save(folder / "empty.npy", np.zeros((0, *tai_chi.shape[1:]), dtype=np.uint8))
    np.save(folder / "depth8.npy", np.full(tai_chi.shape[:3], 100, dtype=np.uint8))
    data = (shared_data_module / "video" / "kinetics_tai_chi.mp4").read_bytes()
    (folder / "cut.mp4").write_bytes(data[: len(data) // 2])
    _unsupported_codec(folder / "unknown_codec.avi")
    manifest = _write_manifest(
        folder / "manifest.csv",
        [
            {"seizure_id": "good", "subject_id": "A", "rgb": "good.npy"},
            {"seizure_id": "truncated", "subject_id": "B", "rgb": "cut.mp4", "fps": ""},
            {"seizure_id": "zero", "subject_id": "C", "rgb": "empty.npy"},
            {"seizure_id": "codec", "subject_id": "D", "rgb": "unknown_codec.avi", "fps": ""},
            {"seizure_id": "depth8", "subject_id": "E", "rgb": "good.npy", "depth": "depth8.npy"},
            {"seizure_id": "nobody", "subject_id": "F", "rgb": "nobody.npy"},
            {"seizure_id": "late", "subject_id": "G", "rgb": "late.npy"},
        ],
    )
    out = folder / "cache"
    results = run_extraction(manifest, out, FAST, progress=False)
    return manifest, out, {result.seizure_id: result for result in results}


def test_every_bad_recording_gets_its_own_reason_and_the_batch_goes_on(batch) -> None:
    _, out, results = batch
    assert list(results) == ["good", "truncated", "zero", "codec", "depth8", "nobody", "late"]
    assert results["good"].status == "extracted" and results["good"].stats.person_found >= 0.9
    for seizure_id, reason in [
        ("truncated", r"cut\.mp4.*(truncated|corrupt)"),
        ("zero", r"empty\.npy.*zero frames"),
        ("codec", r"unknown_codec\.avi.*unsupported codec"),
        ("depth8", r"depth8\.npy.*16-bit depth"),
    ]:
        assert results[seizure_id].status == "failed"
        assert pytest.importorskip("re").search(reason, results[seizure_id].reason), results[seizure_id].reason
        assert not cache_path(out, seizure_id).exists()
    table = format_summary(list(results.values()))
    assert "person %" in table and "unsupported codec" in table
    with (out / SUMMARY_FILE).open() as handle:
        assert [row["seizure_id"] for row in csv.DictReader(handle)] == list(results)


def test_nobody_in_any_frame_is_a_result_not_a_crash(batch) -> None:
    _, out, results = batch
    nobody = results["nobody"]
    assert nobody.status == "extracted" and nobody.stats.person_found == 0.0 and nobody.reason == "no person detected"
    record = load_record(cache_path(out, "nobody"))
    assert np.isnan(record.body_2d.coords).all() and (record.body_2d.confidence == 0).all()


def test_a_person_appearing_after_frame_100_is_found(batch) -> None:
    _, out, results = batch
    record = load_record(cache_path(out, "late"))
    found = (record.body_2d.confidence > 0).any(axis=1)
    assert not found[:100].any()
    assert found[100:].mean() >= 0.9
    assert results["late"].stats.frames == 112


def test_good_record_holds_every_stream_in_the_project_layouts(batch) -> None:
    _, out, _ = batch
    record = load_record(cache_path(out, "good"))
    assert record.subject_id == subject_pseudonym("A") and record.labels == {"seizure_type": "focal"} and record.fps == 30
    assert record.body_2d.layout == "upper_body_11" and record.body_2d.coords.shape == (GOOD_FRAMES, 11, 2)
    assert "mediapipe_pose" in record.body_2d.source
    assert record.face_2d is not None and record.face_2d.coords.shape == (GOOD_FRAMES, 23, 2)
    assert record.body_crops.shape == (GOOD_FRAMES, 32, 32) and record.body_crops.dtype == np.uint8
    assert record.body_crops.std() > 5  # real image content, not blank
    missing = record.body_2d.confidence == 0
    assert np.isnan(record.body_2d.coords[missing]).all()
    assert np.isfinite(record.body_2d.coords[~missing]).all()
    assert record.body_3d is None  # no depth, no lifter configured


def test_second_run_resumes_and_a_changed_config_extracts_again(batch) -> None:
    manifest, out, _ = batch
    again = {r.seizure_id: r for r in run_extraction(manifest, out, FAST, progress=False)}
    assert again["good"].status == "cached" and again["nobody"].status == "cached"
    assert again["codec"].status == "failed"
    changed = config_from_dict({"crops": {"features": False}, "face": {"enabled": False}}, ExtractionConfig)
    manifest_good = manifest.with_name("only_good.csv")
    manifest_good.write_text("\n".join(manifest.read_text().splitlines()[:2]) + "\n")
    redone = run_extraction(manifest_good, out, changed, progress=False)
    assert [r.status for r in redone] == ["extracted"]
    assert load_record(cache_path(out, "good")).face_2d is None


def test_depth_back_projection_in_the_pipeline(tmp_path: Path, tai_chi: np.ndarray) -> None:
    frames = np.stack([cv2.resize(image, (KINECT_V2_DEPTH.width, KINECT_V2_DEPTH.height)) for image in tai_chi[:15]])
    np.save(tmp_path / "rgb.npy", frames)
    np.save(tmp_path / "depth.npy", np.full(frames.shape[:3], 2000, dtype=np.uint16))
    manifest = _write_manifest(tmp_path / "m.csv", [{"seizure_id": "d", "subject_id": "A", "rgb": "rgb.npy", "depth": "depth.npy"}])
    config = config_from_dict({"crops": {"enabled": False}, "face": {"enabled": False}, "cleaning": {"max_gap_s": 0.0}}, ExtractionConfig)
    [result] = run_extraction(manifest, tmp_path / "out", config, progress=False)
    assert result.status == "extracted", result.reason
    record = load_record(cache_path(tmp_path / "out", "d"))
    body_3d, body_2d = record.body_3d, record.body_2d
    assert body_3d is not None and body_3d.coords.shape == (15, 11, 3)
    both = (body_3d.confidence > 0) & (body_2d.confidence > 0)
    assert both.mean() > 0.5
    np.testing.assert_allclose(body_3d.coords[both][:, 2], 2000.0, atol=1e-3)
    expected_x = (body_2d.coords[both][:, 0] - KINECT_V2_DEPTH.cx) * 2000.0 / KINECT_V2_DEPTH.fx
    np.testing.assert_allclose(body_3d.coords[both][:, 0], expected_x, atol=0.5)


def test_cli_prints_the_table_and_exits_1_when_a_recording_failed(batch, tmp_path: Path, capsys) -> None:
    manifest, out, _ = batch
    fast = tmp_path / "fast.yaml"
    fast.write_text("crops:\n  features: false\n")
    assert extract_keypoints(["--manifest", str(manifest), "--out", str(out), "--config", str(fast), "--no-progress"]) == 1
    printed = capsys.readouterr().out
    assert "cached" in printed and "unsupported codec" in printed and "3 of 7 recordings ready" in printed
    bad = tmp_path / "bad.yaml"
    bad.write_text("crops:\n  sise_px: 64\n")
    assert extract_keypoints(["--manifest", str(manifest), "--out", str(out), "--config", str(bad)]) == 2
    assert "bad.yaml" in capsys.readouterr().err


def test_temporal_lifter_fills_body_3d_without_depth(tmp_path: Path, tai_chi: np.ndarray) -> None:
    from semiology.errors import CheckpointError
    from semiology.lift.temporal import LifterConfig, TemporalLifter, save_lifter

    np.save(tmp_path / "rgb.npy", tai_chi[:10])
    manifest = _write_manifest(tmp_path / "m.csv", [{"seizure_id": "t", "subject_id": "A", "rgb": "rgb.npy"}])
    checkpoint = save_lifter(TemporalLifter(LifterConfig(layout="upper_body_11", num_joints=11, channels=16)), tmp_path / "lifter.pt")
    settings = {"crops": {"enabled": False}, "face": {"enabled": False}, "lift": {"method": "temporal", "lifter_checkpoint": str(checkpoint)}}
    [result] = run_extraction(manifest, tmp_path / "out", config_from_dict(settings, ExtractionConfig), progress=False)
    assert result.status == "extracted", result.reason
    record = load_record(cache_path(tmp_path / "out", "t"))
    assert record.body_3d is not None and record.body_3d.coords.shape == (10, 11, 3)
    assert "temporal_lifter" in record.body_3d.source
    assert np.array_equal(record.body_3d.confidence > 0, record.body_2d.confidence > 0)
    settings["body_layout"] = "coco_17"
    with pytest.raises(CheckpointError, match="trained on upper_body_11"):
        run_extraction(manifest, tmp_path / "out2", config_from_dict(settings, ExtractionConfig), progress=False)


def test_the_patient_roi_keeps_the_clinician_out(tmp_path: Path, tai_chi: np.ndarray) -> None:
    """A second person (the 'clinician') walks in beside the patient, and the patient is briefly hidden:
    the pipeline never takes the clinician for the patient."""
    n_frames, height, width = GOOD_FRAMES, *tai_chi.shape[1:3]
    canvas = np.full((n_frames, height, 2 * width + 80, 3), 90, dtype=np.uint8)
    canvas[:, :, :width] = tai_chi[:n_frames]
    canvas[10:, :, width + 80 :] = tai_chi[: n_frames - 10]
    canvas[18:25, :, :width] = 90
    np.save(tmp_path / "two.npy", canvas)
    manifest = _write_manifest(tmp_path / "m.csv", [{"seizure_id": "two", "subject_id": "A", "rgb": "two.npy"}])
    config = config_from_dict({"crops": {"enabled": False}, "face": {"enabled": False}}, ExtractionConfig)
    [result] = run_extraction(manifest, tmp_path / "out", config, progress=False)
    assert result.status == "extracted", result.reason
    record = load_record(cache_path(tmp_path / "out", "two"))
    searched = record.meta["search_box_px"]
    assert np.isfinite(searched[5:]).all() and (searched[5:, 2] < width + 80).all(), "the pose searched beyond the patient"
    found = (record.body_2d.confidence > 0).any(axis=1)
    neck_u = record.body_2d.coords[:, 1, 0]
    assert (neck_u[found & np.isfinite(neck_u)] < width).all(), "a clinician was taken for the patient"
    assert found[:18].mean() >= 0.9 and found[26:].mean() >= 0.75
    assert found[19:25].sum() <= 1
