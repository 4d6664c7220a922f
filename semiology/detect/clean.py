"""Cleaning detected keypoint sequences: drop weak joints, bridge short gaps, optionally smooth.

A detector's weak guesses are worse than no value: a wrist placed on the blanket at confidence
0.1 becomes a jerk the classifier may learn. So joints under a confidence threshold become
missing (NaN, confidence 0); gaps no longer than `max_gap_s` are bridged by linear interpolation
(a blink of occlusion), longer ones stay missing (a clinician standing in front of the patient).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from semiology.records import Keypoints


@dataclass(frozen=True)
class CleaningConfig:
    """`min_confidence`: joints below it become missing. `max_gap_s`: longest gap interpolated.
    `smooth_s`: width of a centred moving average over present frames (0 = no smoothing)."""

    min_confidence: float = 0.3
    max_gap_s: float = 0.2
    smooth_s: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_confidence <= 1.0:
            raise ValueError(f"min_confidence must lie in [0, 1], got {self.min_confidence}")
        if self.max_gap_s < 0 or self.smooth_s < 0:
            raise ValueError(f"max_gap_s and smooth_s must be >= 0, got {self.max_gap_s} and {self.smooth_s}")


def clean_keypoints(keypoints: Keypoints, config: CleaningConfig = CleaningConfig()) -> Keypoints:
    """A cleaned copy of `keypoints` (the input is not changed); see the module docstring.

    Interpolated joints take the lower confidence of the two frames that bound their gap, so a
    bridged value never claims more certainty than the evidence on either side.
    """
    coords = keypoints.coords.copy()
    confidence = keypoints.confidence.copy()
    weak = (confidence < config.min_confidence) | ~np.isfinite(coords).all(axis=-1)
    coords[weak] = np.nan
    confidence[weak] = 0.0
    max_gap = round(config.max_gap_s * keypoints.fps)
    if max_gap > 0:
        for joint in range(coords.shape[1]):
            _bridge_gaps(coords[:, joint], confidence[:, joint], max_gap)
    window = round(config.smooth_s * keypoints.fps) | 1
    if config.smooth_s > 0 and window > 1:
        coords = _moving_average(coords, window)
    return Keypoints(
        coords=coords,
        confidence=confidence,
        layout=keypoints.layout,
        fps=keypoints.fps,
        source=f"{keypoints.source}+cleaned",
    )


def _bridge_gaps(coords: np.ndarray, confidence: np.ndarray, max_gap: int) -> None:
    """Linearly interpolate, in place, runs of at most `max_gap` missing frames bounded on both sides."""
    present = confidence > 0
    if present.all() or not present.any():
        return
    changes = np.flatnonzero(np.diff(present.astype(np.int8)))
    for start in changes[present[changes]]:
        after = np.flatnonzero(present[start + 1 :])
        if after.size == 0:
            break
        end = start + 1 + int(after[0])
        length = end - start - 1
        if length <= max_gap:
            weights = np.linspace(0.0, 1.0, length + 2)[1:-1, None]
            coords[start + 1 : end] = (1.0 - weights) * coords[start] + weights * coords[end]
            confidence[start + 1 : end] = min(confidence[start], confidence[end])


def _moving_average(coords: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average along time over present frames only; missing frames stay missing."""
    present = np.isfinite(coords).all(axis=-1, keepdims=True)
    values = np.where(present, coords, 0.0)
    padding = window // 2

    def running_sum(array: np.ndarray) -> np.ndarray:
        padded = np.pad(array, [(padding, padding)] + [(0, 0)] * (array.ndim - 1))
        cumulative = np.cumsum(padded, axis=0, dtype=np.float64)
        cumulative = np.concatenate([np.zeros_like(cumulative[:1]), cumulative])
        return cumulative[window:] - cumulative[:-window]

    totals = running_sum(values)
    counts = running_sum(present.astype(np.float64))
    smoothed = (totals / np.maximum(counts, 1.0)).astype(np.float32)
    return np.where(present, smoothed, np.float32(np.nan))
