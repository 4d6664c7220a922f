"""The detector interface: an image in, labelled and scored boxes out.

Every box detector (MediaPipe, torchvision Mask R-CNN, an mmdet model, MTCNN faces) implements
`Detector`, so the region-of-interest code and the extraction pipeline never depend on which one
runs. Boxes are in pixels of the image that was passed in, `(u0, v0)` top-left inclusive and
`(u1, v1)` bottom-right exclusive, u along the image width and v along its height.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixels: `u0 <= u1`, `v0 <= v1`."""

    u0: float
    v0: float
    u1: float
    v1: float

    def __post_init__(self) -> None:
        if not (self.u0 <= self.u1 and self.v0 <= self.v1):
            raise ValueError(f"box corners out of order: ({self.u0}, {self.v0}, {self.u1}, {self.v1})")

    @property
    def width(self) -> float:
        return self.u1 - self.u0

    @property
    def height(self) -> float:
        return self.v1 - self.v0

    @property
    def area(self) -> float:
        return self.width * self.height

    @property
    def centre(self) -> tuple[float, float]:
        return (self.u0 + self.u1) / 2.0, (self.v0 + self.v1) / 2.0

    def as_array(self) -> np.ndarray:
        """`[u0, v0, u1, v1]` as float64."""
        return np.array([self.u0, self.v0, self.u1, self.v1], dtype=np.float64)

    @classmethod
    def from_array(cls, values: np.ndarray | tuple[float, float, float, float]) -> Box:
        u0, v0, u1, v1 = (float(value) for value in np.asarray(values, dtype=np.float64).reshape(4))
        return cls(u0, v0, u1, v1)

    def intersection(self, other: Box) -> float:
        """Area shared with `other` (0 when they do not overlap)."""
        width = min(self.u1, other.u1) - max(self.u0, other.u0)
        height = min(self.v1, other.v1) - max(self.v0, other.v0)
        return max(width, 0.0) * max(height, 0.0)

    def iou(self, other: Box) -> float:
        """Intersection over union with `other`."""
        shared = self.intersection(other)
        union = self.area + other.area - shared
        return shared / union if union > 0 else 0.0

    def contains(self, points_px: np.ndarray) -> np.ndarray:
        """Which of the points `[..., 2]` (u, v) lie inside the box; NaN points do not."""
        points = np.asarray(points_px, dtype=np.float64)
        u, v = points[..., 0], points[..., 1]
        return (u >= self.u0) & (u < self.u1) & (v >= self.v0) & (v < self.v1)


@dataclass(frozen=True)
class Detection:
    """One detected object: its box, the detector's confidence in [0, 1] and a class label."""

    box: Box
    score: float
    label: str = "person"


@runtime_checkable
class Detector(Protocol):
    """Anything that finds objects in one image (H x W x 3 uint8 RGB, or H x W uint8 gray)."""

    name: str

    def detect(self, image: np.ndarray) -> list[Detection]:
        """All objects found in `image`, any order; an empty list when there are none."""
        ...
