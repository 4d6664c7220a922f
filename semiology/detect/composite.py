"""A box detector first, a keypoint backend inside its box: Mask R-CNN or mmdet → MediaPipe Pose, MTCNN → face mesh.

The source studies found the person (Mask R-CNN) or the face (MTCNN) before reading keypoints.
`BoxThenKeypoints` does that for any detector with `detect(image) -> list[Detection]` and any
keypoint backend: the detector runs inside the chain's search box, the patient's box is chosen
(`semiology.preprocess.roi.select_patient` for people: on the search box, else overlapping the
last one, else the largest; the highest score for faces), widened by `scale`, and the keypoint
backend reads inside it. A frame where the detector finds nothing has no keypoints.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from semiology.detect.keypoints import KeypointEstimate, crop_to
from semiology.preprocess.roi import select_patient
from semiology.records import Box, Detection


class BoxDetector(Protocol):
    name: str

    def detect(self, image: np.ndarray) -> list[Detection]: ...


class InsideBox(Protocol):
    """The keypoint side: `semiology.detect.registry.KeypointBackend` (which registers this module's backends, so not imported here)."""

    name: str
    layout: str

    def estimate(self, image: np.ndarray, roi: Box | None = None) -> KeypointEstimate | None: ...

    def reset(self) -> None: ...

    def close(self) -> None: ...


class BoxThenKeypoints:
    """A `KeypointBackend` that reads keypoints inside the box a detector finds (`people`: the patient; else the best face)."""

    def __init__(self, detector: BoxDetector, estimator: InsideBox, people: bool, scale: float = 1.2) -> None:
        self.detector, self.estimator, self.people, self.scale = detector, estimator, people, scale
        self.name = f"{detector.name}+{estimator.name}"
        self.layout = estimator.layout
        self._previous: Box | None = None

    def box(self, image: np.ndarray, roi: Box | None = None) -> Box | None:
        """The chosen box in full-frame pixels (widened by `scale`, inside the image), or None."""
        region, (u_offset, v_offset) = crop_to(image, roi)
        found = [
            Detection(Box(d.box.u0 + u_offset, d.box.v0 + v_offset, d.box.u1 + u_offset, d.box.v1 + v_offset), d.score, d.label)
            for d in self.detector.detect(region)
        ]
        if not found:
            return None
        chosen = select_patient(found, bed=roi, previous=self._previous) if self.people else max(found, key=lambda d: d.score)
        if chosen is None:
            return None
        self._previous = chosen.box
        (u, v), half_u, half_v = chosen.box.centre, chosen.box.width * self.scale / 2, chosen.box.height * self.scale / 2
        height, width = image.shape[:2]
        return Box(max(0.0, u - half_u), max(0.0, v - half_v), min(float(width), u + half_u), min(float(height), v + half_v))

    def estimate(self, image: np.ndarray, roi: Box | None = None) -> KeypointEstimate | None:
        box = self.box(image, roi)
        return None if box is None else self.estimator.estimate(image, box)

    def reset(self) -> None:
        self._previous = None
        self.estimator.reset()

    def close(self) -> None:
        self.estimator.close()
        closer: Any = getattr(self.detector, "close", None)
        if callable(closer):
            closer()
