import numpy as np
import pytest

from semiology.layouts import get_layout
from semiology.preprocess.resample import resample_record
from semiology.preprocess.windows import keypoint_window_tensor, normalise_keypoint_window, resample_indices, slice_windows
from semiology.records import Keypoints, SeizureRecord


def test_slice_windows_keeps_a_long_enough_leftover():
    windows = slice_windows(0, 130, window_frames=60, stride_frames=60, min_leftover_frames=10)
    assert [(w.start, w.stop) for w in windows] == [(0, 60), (60, 120), (120, 130)]


def test_slice_windows_drops_a_short_leftover_and_overlaps():
    assert [(w.start, w.stop) for w in slice_windows(0, 129, 60, 60, 10)] == [(0, 60), (60, 120)]
    overlapping = slice_windows(10, 100, 60, 30, 10)
    assert [(w.start, w.stop) for w in overlapping] == [(10, 70), (40, 100)]


def test_resample_indices_follow_time():
    index = resample_indices(num_frames=300, fps=30.0, target_fps=10.0)
    assert len(index) == 100
    assert index[:4].tolist() == [0, 3, 6, 9]
    assert resample_indices(250, 25.0, 10.0)[-1] <= 249


def test_normalisation_removes_position_and_scale():
    layout = get_layout("upper_body_11")
    rng = np.random.default_rng(0)
    pose = rng.normal(size=(11, 2)).astype(np.float32)
    coords = np.repeat(pose[None], 5, axis=0)
    shifted = coords * 3.0 + np.array([100.0, -40.0], dtype=np.float32)
    confidence = np.ones((5, 11), dtype=np.float32)
    pair = ("right_shoulder", "left_shoulder")
    first = normalise_keypoint_window(coords, confidence, layout.name, pair)
    second = normalise_keypoint_window(shifted, confidence, layout.name, pair)
    np.testing.assert_allclose(first, second, atol=1e-5)
    np.testing.assert_allclose(first[:, layout.center, :2], 0.0, atol=1e-6)


def test_missing_joints_become_zero_with_zero_confidence():
    coords = np.random.default_rng(1).normal(size=(4, 11, 2)).astype(np.float32)
    coords[2, 4] = np.nan
    confidence = np.full((4, 11), 0.9, dtype=np.float32)
    confidence[2, 4] = 0.0
    keypoints = Keypoints(coords, confidence, "upper_body_11", 10.0, "test")
    tensor = keypoint_window_tensor(keypoints, np.arange(4), window_frames=6, scale_pair=("right_shoulder", "left_shoulder"), bones=False)
    assert tensor.shape == (3, 6, 11, 1)
    assert np.isfinite(tensor).all()
    assert tensor[:, 2, 4, 0].tolist() == [0.0, 0.0, 0.0]
    assert np.all(tensor[:, 4:] == 0.0), "frames past the window are zero padding"


def test_bone_windows_are_differences_along_edges():
    layout = get_layout("upper_body_11")
    coords = np.random.default_rng(2).normal(size=(3, 11, 2)).astype(np.float32)
    keypoints = Keypoints(coords, np.ones((3, 11), np.float32), layout.name, 10.0, "test")
    pair = ("right_shoulder", "left_shoulder")
    joints = keypoint_window_tensor(keypoints, np.arange(3), 3, pair, bones=False)
    bones = keypoint_window_tensor(keypoints, np.arange(3), 3, pair, bones=True)
    wrist, elbow = layout.index("right_wrist"), layout.index("right_elbow")
    np.testing.assert_allclose(bones[:2, :, wrist, 0], joints[:2, :, wrist, 0] - joints[:2, :, elbow, 0], atol=1e-6)
    np.testing.assert_allclose(bones[:2, :, layout.center, 0], 0.0)


def test_a_bone_with_a_missing_end_is_zero():
    layout = get_layout("upper_body_11")
    coords = np.random.default_rng(3).normal(size=(3, 11, 2)).astype(np.float32)
    elbow, wrist, shoulder = layout.index("right_elbow"), layout.index("right_wrist"), layout.index("right_shoulder")
    coords[1, elbow] = np.nan
    confidence = np.ones((3, 11), np.float32)
    confidence[1, elbow] = 0.0
    keypoints = Keypoints(coords, confidence, layout.name, 10.0, "test")
    bones = keypoint_window_tensor(keypoints, np.arange(3), 3, ("right_shoulder", "left_shoulder"), bones=True)
    assert layout.parents[wrist] == elbow and layout.parents[elbow] == shoulder
    np.testing.assert_array_equal(bones[:2, 1, elbow, 0], 0.0)
    np.testing.assert_array_equal(bones[:2, 1, wrist, 0], 0.0)
    assert bones[2, 1, wrist, 0] == 1.0, "the wrist itself is seen: only its bone is unknown"
    assert np.abs(bones[:2, 0, wrist, 0]).sum() > 0 and np.abs(bones[:2, 2, elbow, 0]).sum() > 0


def test_resample_record_aligns_every_stream():
    frames = 90
    coords = np.arange(frames * 11 * 2, dtype=np.float32).reshape(frames, 11, 2)
    record = SeizureRecord(
        seizure_id="S1",
        subject_id="P1",
        fps=30.0,
        onset_s=1.0,
        offset_s=2.0,
        labels={},
        body_2d=Keypoints(coords, np.ones((frames, 11), np.float32), "upper_body_11", 30.0, "test"),
        body_crops=np.arange(frames, dtype=np.uint8)[:, None, None].repeat(4, 1).repeat(4, 2),
    )
    resampled = resample_record(record, 10.0)
    assert resampled.fps == 10.0 and resampled.num_frames == 30
    assert resampled.body_2d.coords[5, 0, 0] == coords[15, 0, 0]
    assert resampled.body_crops[5, 0, 0] == 15
    assert resampled.onset_s == 1.0
    with pytest.raises(ValueError):
        slice_windows(0, 10, 0, 1, 1)
