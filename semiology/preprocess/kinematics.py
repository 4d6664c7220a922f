"""Kinematic snippet features: a weight-free snippet encoder over cached keypoints.

Quantitative semiology measures movement directly: for every feature step (8 frames apart, the
temporal stride of I3D features) and every joint, over the 2-s window centred on the step: mean
speed, mean acceleration, amplitude (spread of positions), dominant frequency, and the log power
in clinically meaningful bands: 0.4-1.8 Hz (automatisms), 1.5-3 Hz (hyperkinetic, frontal),
2-4 Hz (clonic) and 6-9 Hz (tonic tremor); plus the fraction of frames the joint was seen.
Coordinates are divided by the recording's shoulder distance so that camera distance is not
a feature. Missing joints (NaN, confidence 0) are left out of every statistic; a joint seen in
under a quarter of the window gets zeros.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import periodogram

from semiology.preprocess.snippets import STEPS_PER_SAMPLE, pre_pad, recording_samples, sample_steps
from semiology.preprocess.windows import Window, pair_scale
from semiology.records import Keypoints, SampleFeatures

BANDS_HZ: dict[str, tuple[float, float]] = {
    "automatisms": (0.4, 1.8),
    "hyperkinetic": (1.5, 3.0),
    "clonic": (2.0, 4.0),
    "tremor": (6.0, 9.0),
}
PER_JOINT_FEATURES: tuple[str, ...] = ("speed", "acceleration", "amplitude", "dominant_hz", *[f"power_{name}" for name in BANDS_HZ], "visible")
WINDOW_S = 2.0
SAMPLE_S = 2.0
STEP_FRAMES = 8
MIN_VISIBLE = 0.25
SCALE_PAIR = ("right_shoulder", "left_shoulder")


def feature_names(joint_names: tuple[str, ...]) -> list[str]:
    """Names of the columns of `step_features`: `joint:feature`, joint-major."""
    return [f"{joint}:{feature}" for joint in joint_names for feature in PER_JOINT_FEATURES]


def step_features(keypoints: Keypoints, centres: np.ndarray, scale: float | None = None, window_s: float = WINDOW_S) -> np.ndarray:
    """Features `[len(centres), V * len(PER_JOINT_FEATURES)]` of windows centred on frames `centres`.

    Windows reaching past the recording are clipped (edge frames repeat). `scale` defaults to
    the recording's shoulder distance.
    """
    fps = keypoints.fps
    length = max(4, int(round(window_s * fps)))
    if scale is None:
        try:
            scale = pair_scale(keypoints.coords, keypoints.layout, SCALE_PAIR)
        except (KeyError, ValueError):
            scale = 1.0
    coords = np.where((keypoints.confidence > 0)[..., None], keypoints.coords, np.nan) / scale
    index = np.clip(np.asarray(centres)[:, None] - length // 2 + np.arange(length)[None, :], 0, keypoints.num_frames - 1)
    windows = coords[index]  # [S, L, V, C]
    seen = np.isfinite(windows).all(axis=-1)  # [S, L, V]
    visible = seen.mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        velocity = np.linalg.norm(np.diff(windows, axis=1), axis=-1) * fps
        acceleration = np.linalg.norm(np.diff(windows, n=2, axis=1), axis=-1) * fps**2
        speed = _nanmean(velocity, axis=1)
        accel = _nanmean(acceleration, axis=1)
        centred = windows - _nanmean(windows, axis=1)[:, None]
        amplitude = np.sqrt(np.nansum(_nanmean(centred**2, axis=1), axis=-1))
    filled = np.where(np.isfinite(centred), centred, 0.0)
    power, frequency = _band_power(filled, fps)
    moving = (frequency >= 0.4) & (frequency <= min(10.0, fps / 2))
    dominant = frequency[moving][np.argmax(power[:, moving], axis=1)]
    bands = [np.log1p(power[:, (frequency >= low) & (frequency <= high)].sum(axis=1)) for low, high in BANDS_HZ.values()]
    columns = [np.log1p(speed), np.log1p(accel / 10.0), np.log1p(10.0 * amplitude), dominant / 5.0, *bands, visible]
    features = np.stack([np.nan_to_num(column, nan=0.0) for column in columns], axis=-1)  # [S, V, F]
    features[visible < MIN_VISIBLE] = 0.0
    features[..., -1] = visible
    return features.reshape(len(centres), -1).astype(np.float32)


def _band_power(filled: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Power `[S, F, V]` of Hann-tapered windows `[S, L, V, C]` (summed over coordinates) at frequencies `[F]` 0..fps/2.

    scipy's periodogram, kept on the scale the features have always had, |FFT|^2 / L: two-sided
    (no bin doubled; its first L // 2 + 1 bins, frequencies taken as magnitudes) and rescaled
    from `spectrum` scaling (|FFT|^2 / sum(taper)^2).
    """
    length = filled.shape[1]
    taper = np.hanning(length)
    frequency, spectrum = periodogram(filled, fs=fps, window=taper, detrend=False, return_onesided=False, scaling="spectrum", axis=1)
    half = length // 2 + 1
    return spectrum[:, :half].sum(axis=-1) * (taper.sum() ** 2 / length), np.abs(frequency[:half])


def _nanmean(values: np.ndarray, axis: int) -> np.ndarray:
    counts = np.isfinite(values).sum(axis=axis)
    return np.nansum(values, axis=axis) / np.maximum(counts, 1) + np.where(counts > 0, 0.0, np.nan)


def step_centres(window: Window) -> np.ndarray:
    """Frames of a sample's feature steps: every 8th frame from its 8th, `sample_steps` of them."""
    return window.start + STEP_FRAMES * (np.arange(sample_steps(window.length)) + 1)


def kinematic_sample_features(
    keypoints: Keypoints, onset_s: float, offset_s: float, overlap: bool = False, window_s: float = WINDOW_S
) -> SampleFeatures:
    """The kinematic features of every 2-s sample of a recording, `[N, 7, D]`, -1 pre-padded.

    Samples last `round(2 s * fps)` frames (60 at 30 fps, as in the 3D-video study).
    """
    sample_frames = int(round(SAMPLE_S * keypoints.fps))
    windows, segments = recording_samples(keypoints.num_frames, keypoints.fps, onset_s, offset_s, overlap, sample_frames)
    centres = [np.minimum(step_centres(window), keypoints.num_frames - 1) for window in windows]
    flat = step_features(keypoints, np.concatenate(centres), window_s=window_s) if windows else np.zeros((0, 0), np.float32)
    bounds = np.cumsum([0] + [len(c) for c in centres])
    stacked = [pre_pad(flat[bounds[i] : bounds[i + 1]]) for i in range(len(windows))]
    dim = keypoints.num_joints * len(PER_JOINT_FEATURES)
    return SampleFeatures(
        features=np.stack(stacked) if stacked else np.zeros((0, STEPS_PER_SAMPLE, dim), np.float32),
        start_frame=np.array([w.start for w in windows], dtype=np.int64),
        num_frames=np.array([w.length for w in windows], dtype=np.int64),
        segment=segments,
        fps=float(keypoints.fps),
        encoder="kinematic",
    )
