"""Kinematic snippet features: planted frequencies land in their band, missing joints are handled."""

import numpy as np

from semiology.preprocess.kinematics import BANDS_HZ, PER_JOINT_FEATURES, kinematic_sample_features, step_features
from semiology.records import Keypoints, padding_mask


def _oscillation(frequency_hz: float, fps: float = 30.0, seconds: float = 6.0) -> Keypoints:
    time_s = np.arange(int(seconds * fps)) / fps
    coords = np.zeros((len(time_s), 11, 3), dtype=np.float32)
    coords[:, 1, 0] = 100.0  # the left shoulder, 100 units from the right one
    coords[:, 6, 1] = 30.0 * np.sin(2 * np.pi * frequency_hz * time_s)  # a wrist
    return Keypoints(coords, np.ones(coords.shape[:2], np.float32), "upper_body_11", fps, "test")


def _column(name: str) -> int:
    return PER_JOINT_FEATURES.index(name)


def test_dominant_frequency_and_band() -> None:
    for frequency, band in ((1.0, "automatisms"), (3.0, "clonic"), (7.5, "tremor")):
        features = step_features(_oscillation(frequency), np.array([90])).reshape(11, -1)
        wrist = features[6]
        assert abs(wrist[_column("dominant_hz")] * 5.0 - frequency) <= 0.5
        powers = {name: wrist[_column(f"power_{name}")] for name in BANDS_HZ}
        assert max(powers, key=powers.get) == band or (band == "clonic" and powers["clonic"] >= powers["automatisms"])
        assert features[4, _column("speed")] == 0.0


def test_missing_joints_are_left_out() -> None:
    keypoints = _oscillation(1.0)
    keypoints.coords[:, 6] = np.nan
    keypoints.confidence[:, 6] = 0.0
    features = step_features(keypoints, np.array([90])).reshape(11, -1)
    assert np.isfinite(features).all()
    assert np.all(features[6] == 0.0)


def test_sample_features_are_pre_padded() -> None:
    samples = kinematic_sample_features(_oscillation(1.0, seconds=4.4), onset_s=0.0, offset_s=4.4)
    assert samples.features.shape == (3, 7, 11 * len(PER_JOINT_FEATURES))
    assert padding_mask(samples.features).sum(axis=1).tolist() == [7, 7, 1]
    assert samples.segment.tolist() == [1, 1, 1]
