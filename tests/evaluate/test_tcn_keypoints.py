"""`tcn.keypoints`: the TCN reads appearance features followed by the window's normalised keypoints."""

import numpy as np

from semiology.config import config_from_dict, override
from semiology.evaluate.study import build_stream_windows, keypoints_per_frame
from semiology.experiment import ExperimentConfig
from tests.evaluate.test_study import SMALL


def test_keypoints_per_frame_is_joint_major():
    window = np.arange(3 * 4 * 2, dtype=np.float32).reshape(3, 4, 2, 1)
    flat = keypoints_per_frame(window)
    assert flat.shape == (4, 6)
    np.testing.assert_array_equal(flat[1], [window[0, 1, 0, 0], window[1, 1, 0, 0], window[2, 1, 0, 0], window[0, 1, 1, 0], window[1, 1, 1, 0], window[2, 1, 1, 0]])


def test_tcn_inputs_append_the_keypoint_window(small_records):
    plain = config_from_dict(SMALL, ExperimentConfig, source="test")
    with_keypoints = override(plain, {"tcn.keypoints": True})
    task = plain.tasks[0]
    appearance = build_stream_windows(small_records, task, "body", plain)
    both = build_stream_windows(small_records, task, "body", with_keypoints)
    channels, frames, joints, _ = appearance.keypoints.shape[1:]
    dims = appearance.features.shape[-1]
    assert both.features.shape == appearance.features.shape[:2] + (dims + joints * channels,)
    np.testing.assert_array_equal(both.features[..., :dims], appearance.features)
    expected = np.stack([keypoints_per_frame(window) for window in appearance.keypoints])
    np.testing.assert_array_equal(both.features[..., dims:], expected)
    np.testing.assert_array_equal(both.keypoints, appearance.keypoints)
