"""Temporal slicing for the action stream: 2-s samples and GESTURES snippet sampling.

The 3D-video study cuts a seizure into 60-frame samples (optionally 50 % overlapping), keeps a
trailing leftover of at least 10 frames, and pre-pads the leftover's shorter feature sequence
with -1 vectors to the 7 steps of a full sample, so that the LSTM can mask them.

GESTURES splits a seizure's snippet sequence into n equal segments and draws one snippet per
segment at a Beta(gamma, gamma) position: gamma = 1 is uniform (training), gamma -> infinity the
segment centre (evaluation). Following TorchIO's habit, the draw returns its indices, which are
data: log them and `take` them again to replay a run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from semiology.preprocess.windows import Window, slice_windows
from semiology.records import PAD_VALUE

SAMPLE_FRAMES = 60
MIN_LEFTOVER_FRAMES = 10
TEMPORAL_STRIDE = 8


def sample_steps(num_frames: int) -> int:
    """Feature steps of a sample of `num_frames` frames (I3D's ceil(T / 8) - 1, at least 1)."""
    return max(1, math.ceil(num_frames / TEMPORAL_STRIDE) - 1)


STEPS_PER_SAMPLE = sample_steps(SAMPLE_FRAMES)


def sample_windows(
    start: int, stop: int, sample_frames: int = SAMPLE_FRAMES, overlap: bool = False, min_leftover_frames: int = MIN_LEFTOVER_FRAMES
) -> list[Window]:
    """The samples of frames `[start, stop)`: full `sample_frames` windows, stride half of that
    with `overlap`, and a trailing leftover kept when it has at least `min_leftover_frames`."""
    stride = sample_frames // 2 if overlap else sample_frames
    return slice_windows(start, stop, sample_frames, max(1, stride), min_leftover_frames)


def pre_pad(features: np.ndarray, steps: int = STEPS_PER_SAMPLE, value: float = PAD_VALUE) -> np.ndarray:
    """`[t, D]` features as `[steps, D]`, the missing `steps - t` rows filled with `value` in front."""
    features = np.asarray(features, dtype=np.float32)
    if features.ndim != 2 or features.shape[0] > steps:
        raise ValueError(f"features must be [t <= {steps}, D], got shape {features.shape}")
    padded = np.full((steps, features.shape[1]), value, dtype=np.float32)
    padded[steps - features.shape[0] :] = features
    return padded


@dataclass(frozen=True)
class SnippetDraw:
    """One GESTURES draw: the chosen snippet index per segment and its position in [0, 1]."""

    indices: np.ndarray
    positions: np.ndarray


def draw_snippets(num_snippets: int, n_segments: int, gamma: float | None, rng: np.random.Generator | None = None) -> SnippetDraw:
    """One snippet per segment of `num_snippets` split into `n_segments` equal parts.

    The position within each segment is Beta(gamma, gamma); `gamma=None` (or infinite) takes
    the centre and needs no generator. With fewer snippets than segments, segments share
    snippets. Deterministic given the generator's state.
    """
    if num_snippets < 1 or n_segments < 1:
        raise ValueError(f"need at least one snippet and one segment, got {num_snippets} and {n_segments}")
    if gamma is None or math.isinf(gamma):
        positions = np.full(n_segments, 0.5)
    else:
        if gamma <= 0:
            raise ValueError(f"gamma must be positive, got {gamma}")
        if rng is None:
            raise ValueError("a random draw (finite gamma) needs a numpy Generator")
        positions = rng.beta(gamma, gamma, size=n_segments)
    length = num_snippets / n_segments
    indices = np.floor((np.arange(n_segments) + positions) * length).astype(np.int64)
    return SnippetDraw(indices=np.clip(indices, 0, num_snippets - 1), positions=positions)


def snippet_labels(midpoint_s: np.ndarray, generalisation_s: float | None) -> np.ndarray:
    """1 (tonic-clonic) for snippets whose midpoint lies after the generalisation time, else 0."""
    midpoint_s = np.asarray(midpoint_s, dtype=np.float64)
    if generalisation_s is None:
        return np.zeros(midpoint_s.shape, dtype=np.int64)
    return (midpoint_s > generalisation_s).astype(np.int64)


SEGMENTS: tuple[str, ...] = ("pre_ictal", "ictal", "post_ictal")


def recording_samples(
    num_frames: int, fps: float, onset_s: float, offset_s: float, overlap: bool = False, sample_frames: int = SAMPLE_FRAMES
) -> tuple[list[Window], np.ndarray]:
    """The samples of a recording, cut separately from its pre-ictal, ictal and post-ictal parts.

    Each part is sliced as the 3D-video study slices a seizure (see `sample_windows`), so the
    ictal samples start at onset. Returns the windows and each one's `SEGMENTS` index.
    """
    onset = min(max(int(round(onset_s * fps)), 0), num_frames)
    offset = min(max(int(round(offset_s * fps)), onset), num_frames)
    windows: list[Window] = []
    segments: list[int] = []
    for index, (first, last) in enumerate(((0, onset), (onset, offset), (offset, num_frames))):
        part = sample_windows(first, last, sample_frames, overlap) if last > first else []
        windows += part
        segments += [index] * len(part)
    return windows, np.asarray(segments, dtype=np.int8)
