"""2D keypoints to 3D through a depth frame: a robust depth per keypoint, then back-projection.

A depth camera reports 0 where it has no reading and is noisy at edges, so each keypoint takes
the median of the non-zero depths in a small window around it. A keypoint with no valid depth
becomes NaN with confidence 0, never a point at the camera. The depth seen is the skin or
blanket surface; `surface_offset_mm` pushes each point that far along its viewing ray, towards
the joint centre behind the surface (about half a limb's thickness).
"""

from __future__ import annotations

import warnings

import numpy as np

from semiology.camera import CameraIntrinsics, back_project


def sample_depth(depth_mm: np.ndarray, pixels: np.ndarray, window_px: int = 5) -> np.ndarray:
    """Median non-zero depth (mm, float32) in a `window_px` square around each pixel `[..., 2]`; NaN where none."""
    if window_px < 1 or window_px % 2 == 0:
        raise ValueError(f"window_px must be a positive odd number, got {window_px}")
    depth = np.asarray(depth_mm)
    points = np.asarray(pixels, dtype=np.float64)
    flat = points.reshape(-1, 2)
    result = np.full(len(flat), np.nan, dtype=np.float32)
    finite = np.isfinite(flat).all(axis=1)
    if not finite.any():
        return result.reshape(points.shape[:-1])
    half = window_px // 2
    height, width = depth.shape
    padded = np.pad(depth.astype(np.float32), half, constant_values=0.0)
    u = np.round(flat[finite, 0]).astype(int)
    v = np.round(flat[finite, 1]).astype(int)
    inside = (u >= 0) & (u < width) & (v >= 0) & (v < height)
    offsets = np.arange(-half, half + 1)
    rows = (v[inside, None, None] + half + offsets[None, :, None]).clip(0, height + 2 * half - 1)
    cols = (u[inside, None, None] + half + offsets[None, None, :]).clip(0, width + 2 * half - 1)
    windows = padded[rows, cols].reshape(int(inside.sum()), -1)
    windows[windows <= 0] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        medians = np.nanmedian(windows, axis=1)
    sampled = np.full(int(finite.sum()), np.nan, dtype=np.float32)
    sampled[inside] = medians
    result[finite] = sampled
    return result.reshape(points.shape[:-1])


def back_project_keypoints(
    pixels: np.ndarray,
    depth_mm: np.ndarray,
    intrinsics: CameraIntrinsics,
    confidence: np.ndarray | None = None,
    window_px: int = 5,
    surface_offset_mm: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints `[T, V, 2]` (pixels) and depth frames `[T, H, W]` (mm) to camera-frame points `[T, V, 3]` (mm).

    Returns float32 points and confidences `[T, V]`: the given 2D confidence (1 when none is
    given) where a depth was found, 0 with NaN coordinates where the keypoint or its depth is missing.
    """
    keypoints = np.asarray(pixels, dtype=np.float64)
    frames = np.asarray(depth_mm)
    if keypoints.ndim != 3 or keypoints.shape[-1] != 2:
        raise ValueError(f"pixels must be [T, V, 2], got shape {keypoints.shape}")
    if frames.ndim != 3 or frames.shape[0] != keypoints.shape[0]:
        raise ValueError(f"depth must be [T, H, W] with T={keypoints.shape[0]}, got shape {frames.shape}")
    if frames.shape[1:] != (intrinsics.height, intrinsics.width):
        raise ValueError(f"depth frames are {frames.shape[2]}x{frames.shape[1]}, the intrinsics {intrinsics.width}x{intrinsics.height}")
    depths = np.stack([sample_depth(frame, points, window_px) for frame, points in zip(frames, keypoints)])
    points = back_project(keypoints, depths, intrinsics)
    if surface_offset_mm:
        rays = points / np.linalg.norm(points, axis=-1, keepdims=True)
        points = points + surface_offset_mm * rays
    found = np.isfinite(points).all(axis=-1)
    given = np.ones(found.shape, dtype=np.float32) if confidence is None else np.asarray(confidence, dtype=np.float32)
    scores = np.where(found, given, 0.0).astype(np.float32)
    points[~found] = np.nan
    return points.astype(np.float32), scores
