"""Keypoint cleaning: weak joints dropped, short gaps bridged, long gaps kept, smoothing."""

from __future__ import annotations

import numpy as np
import pytest

from semiology.detect.clean import CleaningConfig, clean_keypoints
from semiology.records import Keypoints


def _line(n_frames: int = 30, fps: float = 10.0) -> Keypoints:
    time = np.arange(n_frames, dtype=np.float32)
    coords = np.stack([np.stack([time, 2 * time], axis=-1)] * 2, axis=1)
    return Keypoints(coords=coords, confidence=np.full((n_frames, 2), 0.9), layout="test", fps=fps, source="unit")


def test_weak_joints_become_missing_with_zero_confidence() -> None:
    keypoints = _line()
    keypoints.confidence[5, 0] = 0.1
    cleaned = clean_keypoints(keypoints, CleaningConfig(min_confidence=0.3, max_gap_s=0.0))
    assert np.isnan(cleaned.coords[5, 0]).all() and cleaned.confidence[5, 0] == 0.0
    assert np.isfinite(cleaned.coords[5, 1]).all()
    assert np.isfinite(keypoints.coords[5, 0]).all(), "the input must not change"


def test_short_gap_is_interpolated_and_long_gap_is_left_missing() -> None:
    keypoints = _line(fps=10.0)
    keypoints.confidence[4:6, 0] = 0.0  # 2 frames = 0.2 s: bridged
    keypoints.confidence[10:16, 0] = 0.0  # 6 frames = 0.6 s: left missing
    keypoints.confidence[3, 0] = 0.5
    keypoints.coords[0, 1] = np.nan  # a NaN at the start has no left side: stays missing
    cleaned = clean_keypoints(keypoints, CleaningConfig(max_gap_s=0.2))
    np.testing.assert_allclose(cleaned.coords[4:6, 0], [[4, 8], [5, 10]])
    np.testing.assert_allclose(cleaned.confidence[4:6, 0], 0.5)
    assert np.isnan(cleaned.coords[10:16, 0]).all() and (cleaned.confidence[10:16, 0] == 0).all()
    assert np.isnan(cleaned.coords[0, 1]).all() and cleaned.confidence[0, 1] == 0


def test_smoothing_reduces_jitter_and_keeps_missing_frames_missing() -> None:
    rng = np.random.default_rng(0)
    keypoints = _line(n_frames=60, fps=30.0)
    clean_path = keypoints.coords.copy()
    keypoints.coords += rng.normal(0, 1.0, keypoints.coords.shape).astype(np.float32)
    keypoints.confidence[20:40, 1] = 0.0
    smoothed = clean_keypoints(keypoints, CleaningConfig(max_gap_s=0.0, smooth_s=0.2))
    inner = slice(5, 55)
    raw_error = np.abs(keypoints.coords[inner, 0] - clean_path[inner, 0]).mean()
    smooth_error = np.abs(smoothed.coords[inner, 0] - clean_path[inner, 0]).mean()
    assert smooth_error < 0.6 * raw_error
    assert np.isnan(smoothed.coords[20:40, 1]).all()


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="min_confidence"):
        CleaningConfig(min_confidence=1.5)
