"""The keypoint-estimator interface: an image (and optionally a region) in, one person's points out.

Box detectors (`semiology.detect.base.Detector`) say *where* people and faces are; keypoint
estimators (MediaPipe Pose, MediaPipe face mesh, an mmpose model) say where their joints are.
An estimator sees one person per call: multi-person scenes are narrowed to the patient before
(by the recording's region of interest) or inside the estimator (by tracking the person found
last), never by returning everyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from semiology.preprocess.roi import crop, crop_offset
from semiology.records import Box


@dataclass(frozen=True)
class KeypointEstimate:
    """One person's keypoints in one frame: `points_px [V, 2]` (u, v) and `confidence [V]` in [0, 1].

    Points are in pixels of the full frame even when the estimator ran on a crop. A point the
    estimator could not place is NaN with confidence 0.
    """

    points_px: np.ndarray
    confidence: np.ndarray
    layout: str

    def box(self, min_confidence: float = 0.3, image_size: tuple[int, int] | None = None) -> Box | None:
        """The tight box around the points at least `min_confidence` confident (and inside a
        `image_size` = (width, height) image when given); None when there are none."""
        keep = (self.confidence >= min_confidence) & np.isfinite(self.points_px).all(axis=-1)
        if image_size is not None:
            u, v = self.points_px[:, 0], self.points_px[:, 1]
            keep &= (u >= 0) & (u < image_size[0]) & (v >= 0) & (v < image_size[1])
        if not keep.any():
            return None
        points = self.points_px[keep]
        low, high = points.min(axis=0), points.max(axis=0)
        return Box(float(low[0]), float(low[1]), float(high[0]), float(high[1]))


@runtime_checkable
class KeypointEstimator(Protocol):
    """Anything that places one person's keypoints of a named layout in a frame."""

    name: str
    layout: str

    def estimate(self, image: np.ndarray, roi: Box | None = None) -> KeypointEstimate | None:
        """Keypoints of the person in `image` (inside `roi` when given), or None when nobody is found."""
        ...

    def reset(self) -> None:
        """Forget any tracking state, before a new recording."""
        ...


def as_rgb(image: np.ndarray) -> np.ndarray:
    """An 8-bit frame as H x W x 3 RGB: grey (IR) is repeated on three channels, RGB passes through.

    16-bit IR must be scaled first (`semiology.io.video.ir_to_uint8`): its counts mean nothing to a
    detector trained on 8-bit images.
    """
    if image.dtype != np.uint8:
        raise ValueError(f"detectors take uint8 frames; got {image.dtype} (scale 16-bit IR with ir_to_uint8 first)")
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    raise ValueError(f"frames must be H x W (grey) or H x W x 3 (RGB), got shape {image.shape}")


def crop_to(image: np.ndarray, roi: Box | None) -> tuple[np.ndarray, tuple[int, int]]:
    """The part of `image` inside `roi` (a view, no copy) and its top-left offset `(u, v)` in pixels.

    The box is rounded outwards and clipped to the image (`semiology.preprocess.roi.crop`); a box
    that leaves less than 2 x 2 pixels of the image yields the whole image.
    """
    if roi is None:
        return image, (0, 0)
    region = crop(image, roi)
    if region.shape[0] < 2 or region.shape[1] < 2:
        return image, (0, 0)
    return region, crop_offset(roi)
