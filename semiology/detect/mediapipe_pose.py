"""MediaPipe Pose (legacy `mediapipe.solutions.pose`, full model) as a body keypoint estimator.

mediapipe 0.10.21 is the newest release whose wheel ships the pose models, and only the full
landmark model (`model_complexity=1`); the lite and heavy ones would be downloaded at run time
and fail offline. Output is MediaPipe-33 in pixels with each landmark's visibility as its
confidence; `to_layout` maps a sequence to upper-body-11 or COCO-17 with the project's layout
mappings.

In video mode MediaPipe tracks the person it found last, so in a two-person scene it stays on
one of them; the extraction pipeline narrows the frame to the patient's region first. Tracking
also keeps a skeleton on an empty scene (a title card, a chair) once a person left, so the
pipeline checks presence now and then with `estimate_anew` (a detection from scratch, on a
second graph in still-image mode) and drops the tracked person with `forget` when nobody is
there. Both graphs are built once per backend: building one costs far more than a frame.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self

import numpy as np

from semiology.detect.keypoints import KeypointEstimate, as_rgb, crop_to
from semiology.layouts.body import MEDIAPIPE_33
from semiology.records import Box, Detection

MODEL_COMPLEXITY = 1
"""The only MediaPipe Pose landmark model (`pose_landmark_full`) shipped in the 0.10.21 wheel."""


_STDERR_SWAP = threading.RLock()
"""One swap of file descriptor 2 at a time: graphs start on the extraction chain's two threads,
and two interleaved swaps would leave stderr pointing at /dev/null."""

NATIVE_LOGS_ENV = "SEMIOLOGY_NATIVE_LOGS"
"""Set to 1 (`tools/extract_keypoints.py --verbose` does) to let MediaPipe / TF Lite / absl log to stderr."""


@contextmanager
def quiet_native_logs() -> Iterator[None]:
    """Silence what MediaPipe's C++ side (TF Lite, absl, glog) writes to stderr while a graph starts.

    Those lines ("Created TensorFlow Lite XNNPACK delegate", "All log messages before
    absl::InitializeLog()", "Feedback manager requires a model…") come from native code that
    ignores Python logging and the GLOG/TF environment variables (measured with mediapipe
    0.10.21), so file descriptor 2 itself points at /dev/null for the duration: only around a
    graph's construction and its first frame, where they are printed, never around the frames
    after. `SEMIOLOGY_NATIVE_LOGS=1` keeps them.
    """
    if os.environ.get(NATIVE_LOGS_ENV, "") not in ("", "0"):
        yield
        return
    with _STDERR_SWAP:
        sys.stderr.flush()
        saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(null)


@contextmanager
def python_stderr_only() -> Iterator[None]:
    """For a command-line run: native code's writes to stderr go to /dev/null, Python's still reach the terminal.

    MediaPipe's sub-models start lazily (a face landmark model first runs on the first frame
    with a face), so their log lines cannot all be caught around graph construction. Here file
    descriptor 2 points at /dev/null for the whole block while `sys.stderr` writes to a copy of
    the real one: progress bars, warnings, logging and error messages are shown, C++ logging
    is not. `SEMIOLOGY_NATIVE_LOGS=1` (`--verbose`) leaves stderr alone.
    """
    if os.environ.get(NATIVE_LOGS_ENV, "") not in ("", "0"):
        yield
        return
    sys.stderr.flush()
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    python_stderr = sys.stderr
    sys.stderr = os.fdopen(os.dup(saved), "w", buffering=1, encoding=getattr(python_stderr, "encoding", None) or "utf-8", errors="backslashreplace")
    os.dup2(null, 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        sys.stderr.close()
        sys.stderr = python_stderr
        os.close(saved)
        os.close(null)


def mediapipe_version() -> str:
    """The installed mediapipe version, for the `source` of keypoints."""
    import mediapipe

    return str(mediapipe.__version__)


class MediaPipeGraph:
    """A MediaPipe solution graph held in `_graph`: closed by `close()` or on leaving a `with` block.

    `_process` runs a graph on one frame, silencing the native logging of its first frame."""

    _graph: Any

    def _process(self, graph: Any, image: np.ndarray) -> Any:
        started: set[int] = self.__dict__.setdefault("_started", set())
        if id(graph) in started:
            return graph.process(image)
        with quiet_native_logs():
            result = graph.process(image)
        started.add(id(graph))
        return result

    def _new_graphs(self) -> None:
        """Graphs were rebuilt: their first frames are silenced again."""
        self.__dict__.pop("_started", None)

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
        with quiet_native_logs():
            self._graph = pose.Pose(**self._settings)
        self._still: Any = None

    def estimate(self, image: np.ndarray, roi: Box | None = None) -> KeypointEstimate | None:
        """MediaPipe-33 landmarks of the person in `image` (uint8 grey or RGB), inside `roi` if given."""
        return self._run(self._graph, image, roi)

    def estimate_anew(self, image: np.ndarray, roi: Box | None = None) -> KeypointEstimate | None:
        """Like `estimate`, but detected from scratch (still-image mode), never carried over from earlier frames."""
        if self._still is None:
            with quiet_native_logs():
                self._still = self._solution.Pose(**{**self._settings, "static_image_mode": True, "smooth_landmarks": False})
        return self._run(self._still, image, roi)

    def forget(self) -> None:
        """Drop the person tracked so far: the next `estimate` detects anew.

        One small blank image through the graph ends its tracking (no landmarks to follow), far
        cheaper than building the graph again (`reset`)."""
        self._process(self._graph, np.zeros((64, 64, 3), dtype=np.uint8))

    def _run(self, graph: Any, image: np.ndarray, roi: Box | None) -> KeypointEstimate | None:
        region, (u_offset, v_offset) = crop_to(image, roi)
        region = np.ascontiguousarray(as_rgb(region))
        result = self._process(graph, region)
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
        self._new_graphs()
        with quiet_native_logs():
            self._graph = self._solution.Pose(**self._settings)

    def close(self) -> None:
        self._graph.close()
        if self._still is not None:
            self._still.close()
            self._still = None
