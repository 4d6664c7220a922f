"""The detector interface: an image in, labelled and scored boxes out.

Every box detector (MediaPipe, torchvision Mask R-CNN, an mmdet model, MTCNN faces) implements
`Detector`, so the region-of-interest code and the extraction pipeline never depend on which one
runs. Boxes are in pixels of the image that was passed in, `(u0, v0)` top-left inclusive and
`(u1, v1)` bottom-right exclusive, u along the image width and v along its height.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from semiology.records import Detection


@runtime_checkable
class Detector(Protocol):
    """Anything that finds objects in one image (H x W x 3 uint8 RGB, or H x W uint8 gray)."""

    name: str

    def detect(self, image: np.ndarray) -> list[Detection]:
        """All objects found in `image`, any order; an empty list when there are none."""
        ...
