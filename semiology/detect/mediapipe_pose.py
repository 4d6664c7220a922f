"""MediaPipe Pose (legacy `mediapipe.solutions.pose`, full model) as a body keypoint estimator.

mediapipe 0.10.21 is the newest release whose wheel ships the pose models, and only the full
landmark model (`model_complexity=1`); the lite and heavy ones would be downloaded at run time
and fail offline. Output is MediaPipe-33 in pixels with each landmark's visibility as its
confidence; `to_layout` maps a sequence to upper-body-11 or COCO-17 with the project's layout
mappings.

In video mode MediaPipe tracks the person it found last, so in a two-person scene it stays on
one of them; the extraction pipeline narrows the frame to the patient's region first.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

import numpy as np

from semiology.detect.keypoints import KeypointEstimate, as_rgb, crop_to
from semiology.layouts.body import MEDIAPIPE_33
from semiology.records import Box, Detection

MODEL_COMPLEXITY = 1
"""The only MediaPipe Pose landmark model (`pose_landmark_full`) shipped in the 0.10.21 wheel."""


def mediapipe_version() -> str:
    """The installed mediapipe version, for the `source` of keypoints."""
    import mediapipe

    return str(mediapipe.__version__)


class MediaPipeGraph:
    """A MediaPipe solution graph held in `_graph`: closed by `close()` or on leaving a `with` block."""

    _graph: Any

    def close(self) -> None:
        self._graph.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


class MediaPipePose(MediaPipeGraph):
    """One person's MediaPipe-33 landmarks per frame; also a person `Detector` (box from the landmarks).

    `video_mode=True` tracks between frames (faster, steadier, sticks to one person); set it
    False for unrelated still images. The default thresholds (0.3) are lower than MediaPipe's
    0.5: a patient in bed under a blanket is a hard case, and weak joints are removed later by
    confidence, not by losing the whole frame.
    """

    layout = MEDIAPIPE_33.name

    def __init__(
        self,
        video_mode: bool = True,
        min_detection_confidence: float = 0.3,
        min_tracking_confidence: float = 0.3,
    ) -> None:
        from mediapipe.python.solutions import pose

        self._solution = pose
        self._settings: dict[str, Any] = {
            "static_image_mode": not video_mode,
            "model_complexity": MODEL_COMPLEXITY,
            "smooth_landmarks": video_mode,
            "enable_segmentation": False,
            "min_detection_confidence": min_detection_confidence,
            "min_tracking_confidence": min_tracking_confidence,
        }
        self.name = f"mediapipe_pose-{mediapipe_version()}-full"
        self._graph = pose.Pose(**self._settings)

    def estimate(self, image: np.ndarray, roi: Box | None = None) -> KeypointEstimate | None:
        """MediaPipe-33 landmarks of the person in `image` (uint8 grey or RGB), inside `roi` if given."""
        region, (u_offset, v_offset) = crop_to(image, roi)
        region = np.ascontiguousarray(as_rgb(region))
        result = self._graph.process(region)
        if result.pose_landmarks is None:
            return None
        height, width = region.shape[:2]
        values = np.array(
            [(mark.x, mark.y, mark.visibility) for mark in result.pose_landmarks.landmark], dtype=np.float32
        )
        points = np.empty((len(values), 2), dtype=np.float32)
        points[:, 0] = values[:, 0] * width + u_offset
        points[:, 1] = values[:, 1] * height + v_offset
        confidence = np.clip(values[:, 2], 0.0, 1.0)
        return KeypointEstimate(points_px=points, confidence=confidence, layout=self.layout)

    def detect(self, image: np.ndarray) -> list[Detection]:
        """The person MediaPipe finds, as one box from the landmarks it is confident of (or none)."""
        found = self.estimate(image)
        box = None if found is None else found.box()
        if box is None:
            return []
        return [Detection(box=box, score=float(np.median(found.confidence)), label="person")]

    def reset(self) -> None:
        """A fresh graph: no tracking carried over from the previous recording."""
        self._graph.close()
        self._graph = self._solution.Pose(**self._settings)
