"""Kinematic band power through scipy's periodogram gives the features of the hand-written |rfft|^2 it replaced."""

from __future__ import annotations

import numpy as np
import pytest

from semiology.preprocess import kinematics
from semiology.preprocess.kinematics import step_features
from semiology.records import Keypoints


def reference_band_power(filled: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """The earlier formula: |rfft| squared of the Hann-tapered windows, summed over coordinates, over the window length."""
    length = filled.shape[1]
    taper = np.hanning(length)[None, :, None, None]
    power = (np.abs(np.fft.rfft(filled * taper, axis=1)) ** 2).sum(axis=-1) / length
    return power, np.fft.rfftfreq(length, d=1.0 / fps)


def synthetic_keypoints(fps: float, seconds: float = 8.0, seed: int = 3) -> Keypoints:
    """Noise, five joints oscillating at 0.8-9.5 Hz, a tenth of the detections missing."""
    rng = np.random.default_rng(seed)
    frames = round(seconds * fps)
    time_s = np.arange(frames) / fps
    coords = rng.normal(scale=2.0, size=(frames, 11, 2)).astype(np.float32)
    coords[:, 1, 0] += 100.0
    for joint, frequency in enumerate((0.8, 2.5, 3.5, 7.0, 9.5)):
        coords[:, 2 + joint, joint % 2] += 20.0 * np.sin(2 * np.pi * frequency * time_s)
    confidence = np.ones((frames, 11), np.float32)
    confidence[rng.random((frames, 11)) < 0.1] = 0.0
    coords[confidence == 0] = np.nan
    return Keypoints(coords, confidence, "upper_body_11", fps, "test")


@pytest.mark.parametrize("length", [4, 25, 40, 60])
def test_periodogram_power_equals_the_rfft_formula(length: int) -> None:
    filled = np.random.default_rng(length).normal(size=(5, length, 11, 3))
    power, frequency = kinematics._band_power(filled, 30.0)
    expected_power, expected_frequency = reference_band_power(filled, 30.0)
    np.testing.assert_allclose(frequency, expected_frequency, rtol=0, atol=1e-12)
    np.testing.assert_allclose(power, expected_power, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("fps", [30.0, 25.0, 20.0, 15.0, 12.5])
def test_features_equal_those_of_the_rfft_formula(fps: float, monkeypatch: pytest.MonkeyPatch) -> None:
    keypoints = synthetic_keypoints(fps)
    centres = np.arange(0, keypoints.num_frames, 7)
    found = step_features(keypoints, centres)
    monkeypatch.setattr(kinematics, "_band_power", reference_band_power)
    expected = step_features(keypoints, centres)
    assert np.abs(expected).max() > 1.0
    np.testing.assert_allclose(found, expected, rtol=0, atol=1e-6)
