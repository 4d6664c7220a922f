"""Keypoints from elsewhere: NTU / Kinect .skeleton, OpenPose JSON, pyskl pickles, into records and the cache."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from semiology.errors import SemiologyError
from semiology.io.cache import load_record
from semiology.io.manifest import ManifestRow, load_manifest, write_manifest
from semiology.io.ntu_skeleton import SkeletonFileError, read_ntu_skeleton
from semiology.io.openpose import read_openpose
from semiology.io.pyskl import read_pickle, write_records
from semiology.io.skeletons import import_keypoints, load_keypoint_file, row_record
from semiology.layouts.body import COCO_17, NTU_25
from semiology.records import Keypoints, SeizureRecord

FX, CX, CY = 365.0, 256.0, 212.0


def _ntu_joint(point_m: np.ndarray, state: int) -> str:
    x, y, z = point_m
    # the Kinect's camera space: y up, x to the sensor's left (seen in the depth image as u decreasing)
    depth_u, depth_v = CX - FX * x / z, CY - FX * y / z
    return f"{x} {y} {z} {depth_u} {depth_v} {depth_u * 3.75} {depth_v * 2.55} 1 0 0 0 {state}"


def _write_ntu(path: Path, frames: int, bodies: dict[str, range]) -> np.ndarray:
    """A .skeleton file in the NTU toolbox's format; returns the patient's points in the project's convention (mm)."""
    rng = np.random.default_rng(0)
    rest = np.stack([rng.uniform(-0.4, 0.4, 25), rng.uniform(-0.6, 0.6, 25), rng.uniform(2.5, 3.0, 25)], axis=1)
    lines = [str(frames)]
    expected = np.full((frames, 25, 3), np.nan)
    for frame in range(frames):
        present = [body for body, span in bodies.items() if frame in span]
        lines.append(str(len(present)))
        for body in present:
            lines.append(f"{body} 0 0 0 0 0 0 0 0 2")
            lines.append("25")
            points = rest + [0.01 * frame, 0, 0] + (0.5 if body != "72057594037931101" else 0.0)
            for joint, point in enumerate(points):
                state = 0 if (joint == 7 and frame == 1) else (1 if joint == 3 else 2)
                lines.append(_ntu_joint(point, state))
            if body == "72057594037931101":
                expected[frame] = points * [-1000.0, -1000.0, 1000.0]
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return expected


def test_ntu_skeleton_picks_the_longest_tracked_body_in_the_image_convention(tmp_path: Path) -> None:
    path = tmp_path / "S001C001P001R001A001.skeleton"
    expected = _write_ntu(path, 6, {"72057594037931101": range(0, 6), "72057594037931999": range(2, 4)})
    skeleton = read_ntu_skeleton(path)
    assert skeleton.body_id == "72057594037931101"
    assert skeleton.points_mm.shape == (6, 25, 3) and skeleton.colour_px.shape == (6, 25, 2)
    seen = skeleton.confidence > 0
    np.testing.assert_allclose(skeleton.points_mm[seen], expected[seen], rtol=1e-5)
    # x, y flipped into u-right, v-down: the projection through the depth intrinsics lands on the file's depth pixels
    u = FX * skeleton.points_mm[..., 0] / skeleton.points_mm[..., 2] + CX
    np.testing.assert_allclose(u[seen], skeleton.depth_px[..., 0][seen], atol=1e-2)
    assert skeleton.confidence[0, 3] == 0.5 and skeleton.confidence[0, 0] == 1.0
    assert skeleton.confidence[1, 7] == 0.0 and np.isnan(skeleton.points_mm[1, 7]).all()


def test_ntu_skeleton_errors_name_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "cut.skeleton"
    _write_ntu(path, 3, {"72057594037931101": range(3)})
    path.write_text("\n".join(path.read_text().splitlines()[:40]))
    with pytest.raises(SkeletonFileError, match=r"cut\.skeleton: truncated"):
        read_ntu_skeleton(path)
    path.write_text("3\n1\nbody 0 0 0 0 0 0 0 0 2\n18\n")
    with pytest.raises(SkeletonFileError, match=r"line 4: 18 joints"):
        read_ntu_skeleton(path)


def _openpose_frame(folder: Path, index: int, people: list[np.ndarray]) -> None:
    content = {"version": 1.3, "people": [{"person_id": [-1], "pose_keypoints_2d": p.ravel().tolist(), "face_keypoints_2d": []} for p in people]}
    (folder / f"clip_{index:012d}_keypoints.json").write_text(json.dumps(content))


def test_openpose_body_25_folder_follows_the_patient_into_coco_17(tmp_path: Path) -> None:
    patient = np.zeros((25, 3))
    patient[:, 0], patient[:, 1], patient[:, 2] = np.arange(25) + 100, 200, 0.9
    patient[16] = 0  # left eye not found: written as 0, 0, 0
    nurse = patient.copy()
    nurse[:, 0] += 400
    nurse[:, 2] = 0.95
    for index in range(12):  # more than 10 frames: natural order, not 0, 1, 10, 11, 2
        people = [patient + [index, 0, 0]] + ([nurse] if index % 2 else [])
        _openpose_frame(tmp_path, index, people if index != 3 else [nurse, patient + [index, 0, 0]])
    coords, confidence = read_openpose(tmp_path)
    assert coords.shape == (12, 17, 2)
    left_eye, right_shoulder = COCO_17.index("left_eye"), COCO_17.index("right_shoulder")
    np.testing.assert_allclose(coords[:, right_shoulder, 0], 102 + np.arange(12), err_msg="BODY_25 RShoulder, frame order kept")
    assert np.isnan(coords[:, left_eye]).all() and (confidence[:, left_eye] == 0).all()
    record = load_keypoint_file(tmp_path, "s1", fps=25.0)
    assert record.body_2d is not None and record.body_2d.layout == "coco_17" and record.body_2d.fps == 25.0
    with pytest.raises(SkeletonFileError, match="no frame rate"):
        load_keypoint_file(tmp_path, "s1")
    (tmp_path / "clip_000000000099_keypoints.json").write_text(json.dumps({"people": [{"pose_keypoints_2d": [1, 2, 3]}]}))
    with pytest.raises(SkeletonFileError, match=r"clip_000000000099_keypoints\.json: person 0: 3 pose values"):
        read_openpose(tmp_path)


def _record(seizure_id: str, label: str) -> SeizureRecord:
    rng = np.random.default_rng(len(seizure_id))
    coords = rng.uniform(0, 300, (20, 17, 2)).astype(np.float32)
    confidence = np.ones((20, 17), np.float32)
    coords[3, 4], confidence[3, 4] = np.nan, 0.0
    keypoints = Keypoints(coords, confidence, "coco_17", 30.0, "test")
    return SeizureRecord(seizure_id, "pseudo-1", 30.0, 0.2, 0.5, {"seizure_type": label}, body_2d=keypoints, meta={"view": "left", "view_of": "sz"})


def test_pyskl_pickle_round_trip_and_toolkit_pickles(tmp_path: Path) -> None:
    path = write_records(tmp_path / "skeletons.pkl", [_record("a", "FOS"), _record("bb", "TCS")], "seizure_type")
    content = read_pickle(path)
    assert [entry["label"] for entry in content["annotations"]] == [0, 1] and content["layout"] == "coco_17"
    assert content["annotations"][0]["keypoint"].shape == (1, 20, 17, 2) and content["annotations"][0]["view_of"] == "sz"
    back = load_keypoint_file(path, "bb")
    original = _record("bb", "TCS").body_2d
    assert back.body_2d is not None and back.body_2d.fps == 30.0
    np.testing.assert_array_equal(back.body_2d.coords, original.coords)
    np.testing.assert_array_equal(back.body_2d.confidence, original.confidence)
    # a pickle as pyskl writes it: two persons, no layout, no fps; the higher-scoring person is the patient
    keypoint = np.zeros((2, 5, 25, 3), np.float32)
    keypoint[1] = 7.0
    score = np.stack([np.full((5, 25), 0.2), np.full((5, 25), 0.9)]).astype(np.float32)
    with (tmp_path / "ntu.pkl").open("wb") as handle:
        pickle.dump({"split": {"xsub_train": ["x"]}, "annotations": [{"frame_dir": "x", "label": 3, "keypoint": keypoint, "keypoint_score": score, "total_frames": 5}]}, handle)
    record = load_keypoint_file(tmp_path / "ntu.pkl", "x", fps=30.0)
    assert record.body_3d is not None and record.body_3d.layout == NTU_25.name and (record.body_3d.coords == 7.0).all()
    with pytest.raises(SkeletonFileError, match="no annotation with frame_dir 'y'"):
        load_keypoint_file(tmp_path / "ntu.pkl", "y", fps=30.0)
    with pytest.raises(SkeletonFileError, match="keeps no frame rate"):
        load_keypoint_file(tmp_path / "ntu.pkl", "x")
    (tmp_path / "junk.pkl").write_bytes(b"not a pickle")
    with pytest.raises(SkeletonFileError, match=r"junk\.pkl: not readable as a pyskl pickle"):
        load_keypoint_file(tmp_path / "junk.pkl", "x", fps=30.0)


def test_manifest_rows_import_into_the_cache_and_a_bad_file_does_not_stop_the_batch(tmp_path: Path) -> None:
    _write_ntu(tmp_path / "a.skeleton", 4, {"72057594037931101": range(4)})
    (tmp_path / "bad.skeleton").write_text("two\n")
    rows = [
        ManifestRow("a", "P1", {"keypoints": tmp_path / "a.skeleton"}, None, 0.0, 0.1, labels={"seizure_type": "FOS"}),
        ManifestRow("bad", "P1", {"keypoints": tmp_path / "bad.skeleton"}, None, 0.0, 0.1),
    ]
    manifest = write_manifest(rows, tmp_path / "manifest.csv")
    loaded = load_manifest(manifest)
    summary = import_keypoints(loaded, tmp_path / "cache")
    assert summary.written == ["a"] and summary.failed[0][0] == "bad" and "bad.skeleton: line 1" in summary.failed[0][1]
    record = load_record(tmp_path / "cache" / "a.npz")
    assert record.body_3d is not None and record.body_3d.layout == "ntu_25" and record.labels == {"seizure_type": "FOS"}
    assert import_keypoints(loaded, tmp_path / "cache").skipped == ["a"], "an unchanged file is not imported again"
    _write_ntu(tmp_path / "a.skeleton", 5, {"72057594037931101": range(5)})
    assert import_keypoints(loaded, tmp_path / "cache").written == ["a"], "a changed file is"
    with pytest.raises(SemiologyError):
        row_record(loaded[1])
