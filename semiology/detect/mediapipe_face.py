"""MediaPipe face detection (a face `Detector`) and face mesh (the 23-point face layout).

Both models ship in the mediapipe 0.10.21 wheel. Face detection comes in two ranges: `short`
(faces within about 2 m, the model the face mesh itself uses) and `full` (up to about 5 m, for a
wide view of a bed). The face mesh gives 468 landmarks; the project's 23-point face layout reads
them by mesh index through `semiology.layouts.mapping.FACE_MESH_INDEX`:

| face_23 point | mesh index | face_23 point | mesh index |
|---|---|---|---|
| right_brow_outer / middle / inner | 70 / 105 / 107 | left_brow_inner / middle / outer | 336 / 334 / 300 |
| right_eye_outer / top / inner / bottom | 33 / 159 / 133 / 145 | left_eye_inner / top / outer / bottom | 362 / 386 / 263 / 374 |
| nose_bridge / nose_mid / nose_tip | 168 / 6 / 1 | right_nostril / left_nostril | 98 / 327 |
| mouth_right / top / left / bottom | 61 / 0 / 291 / 17 | | |

"right" is the subject's right (the image's left in a frontal view). The legacy mesh reports
no per-landmark score, so a found face's landmarks have confidence 1 where they fall inside the
image and are missing (NaN, confidence 0) where they fall outside it.
"""

from __future__ import annotations

import numpy as np

from semiology.detect.keypoints import KeypointEstimate, as_rgb, crop_to
from semiology.detect.mediapipe_pose import MediaPipeGraph, mediapipe_version, quiet_native_logs
from semiology.layouts.face import FACE_23
from semiology.layouts.mapping import FACE_MESH, get_mapping
from semiology.records import Box, Detection

FACE_RANGES: dict[str, int] = {"short": 0, "full": 1}
"""MediaPipe face detection `model_selection` per range: short (< 2 m) and full (< 5 m)."""


class MediaPipeFaceDetector(MediaPipeGraph):
    """Faces in a frame as scored boxes (`Detector`), from MediaPipe face detection."""

    def __init__(self, face_range: str = "short", min_score: float = 0.5) -> None:
        if face_range not in FACE_RANGES:
            raise ValueError(f"face_range must be one of {sorted(FACE_RANGES)}, got {face_range!r}")
        from mediapipe.python.solutions import face_detection

        self.name = f"mediapipe_face_detection-{mediapipe_version()}-{face_range}"
        with quiet_native_logs():
            self._graph = face_detection.FaceDetection(model_selection=FACE_RANGES[face_range], min_detection_confidence=min_score)

    def detect(self, image: np.ndarray, roi: Box | None = None) -> list[Detection]:
        """Every face in `image` (inside `roi` when given), boxes in full-frame pixels, clipped to the image."""
        region, (u_offset, v_offset) = crop_to(image, roi)
        region = np.ascontiguousarray(as_rgb(region))
        result = self._process(self._graph, region)
        height, width = region.shape[:2]
        found = []
        for detection in result.detections or ():
            relative = detection.location_data.relative_bounding_box
            u0 = max(relative.xmin, 0.0) * width + u_offset
            v0 = max(relative.ymin, 0.0) * height + v_offset
            u1 = min(relative.xmin + relative.width, 1.0) * width + u_offset
            v1 = min(relative.ymin + relative.height, 1.0) * height + v_offset
            if u1 > u0 and v1 > v0:
                found.append(Detection(box=Box(u0, v0, u1, v1), score=float(detection.score[0]), label="face"))
        return found


class MediaPipeFaceMesh(MediaPipeGraph):
    """The 23-point face layout of the most prominent face, from MediaPipe's 468-point face mesh.

    `video_mode=True` tracks the face between frames (faster and steadier than detecting anew).
    """

    layout = FACE_23.name

    def __init__(self, video_mode: bool = True, min_detection_confidence: float = 0.5, min_tracking_confidence: float = 0.5) -> None:
        from mediapipe.python.solutions import face_mesh

        self._solution = face_mesh
        self._settings = {
            "static_image_mode": not video_mode,
            "max_num_faces": 1,
            "refine_landmarks": False,
            "min_detection_confidence": min_detection_confidence,
            "min_tracking_confidence": min_tracking_confidence,
        }
        self._mapping = get_mapping(FACE_MESH, FACE_23.name)
        self.name = f"mediapipe_face_mesh-{mediapipe_version()}"
        with quiet_native_logs():
            self._graph = face_mesh.FaceMesh(**self._settings)

    def estimate_mesh(self, image: np.ndarray, roi: Box | None = None) -> np.ndarray | None:
        """All 468 mesh points `[468, 2]` in full-frame pixels, or None when no face is found."""
        region, (u_offset, v_offset) = crop_to(image, roi)
        region = np.ascontiguousarray(as_rgb(region))
        result = self._process(self._graph, region)
        if not result.multi_face_landmarks:
            return None
        height, width = region.shape[:2]
        points = np.array([(mark.x, mark.y) for mark in result.multi_face_landmarks[0].landmark], dtype=np.float32)
        points[:, 0] = points[:, 0] * width + u_offset
        points[:, 1] = points[:, 1] * height + v_offset
        return points

    def estimate(self, image: np.ndarray, roi: Box | None = None) -> KeypointEstimate | None:
        """face_23 landmarks of the face in `image` (inside `roi` when given), or None."""
        mesh = self.estimate_mesh(image, roi)
        if mesh is None:
            return None
        height, width = image.shape[:2]
        inside = (mesh[:, 0] >= 0) & (mesh[:, 0] < width) & (mesh[:, 1] >= 0) & (mesh[:, 1] < height)
        points, confidence = self._mapping.apply(mesh, inside.astype(np.float32))
        points[confidence == 0] = np.nan
        return KeypointEstimate(points_px=points, confidence=confidence, layout=self.layout)

    def reset(self) -> None:
        """A fresh graph: no face tracked from the previous recording."""
        self._graph.close()
        self._new_graphs()
        with quiet_native_logs():
            self._graph = self._solution.FaceMesh(**self._settings)
