"""The per-frame extraction chain: patient ROI → body pose → head crop → face landmarks → crops → depth.

The pose and face detectors are the backends the config names (`semiology.detect.registry`;
MediaPipe by default); the chain reads their layouts, never assumes one. The face crop is
built around the pose layout's `head` group, when it has one.

One `FrameChain` serves one recording at a time (`start` resets it). Frames go in one by one, so
a recording is never held in memory; `finish` returns the sequences. The pose runs on the whole
frame until the patient has been seen in `roi.frames` frames, then on the fixed patient+bed box
built from those sightings (`semiology.preprocess.roi.patient_bed_box`): cheaper, and the
clinician outside the box is never picked. A patient who appears late is still found, since
until then every frame is searched whole.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from semiology.camera import CameraIntrinsics
from semiology.detect.keypoints import KeypointEstimate
from semiology.detect.registry import KeypointBackend, get_backend
from semiology.errors import ConfigError
from semiology.extract.config import ExtractionConfig
from semiology.extract.crops import SmoothedBox, grey_crop, square_around
from semiology.layouts import get_layout, get_mapping
from semiology.lift.depth import back_project_keypoints
from semiology.preprocess.roi import patient_bed_box
from semiology.records import Box, Detection

FACE_BOX_SCALE = 1.6
"""face_23 spans brows to lower lip; the face crop adds forehead and chin around it."""


@dataclass
class ChainOutput:
    """Sequences of one recording: raw detector output before cleaning and layout mapping."""

    body_px: np.ndarray
    body_confidence: np.ndarray
    body_mm: np.ndarray | None
    body_mm_confidence: np.ndarray | None
    face_px: np.ndarray | None
    face_confidence: np.ndarray | None
    face_searched: np.ndarray | None
    body_crops: np.ndarray | None
    face_crops: np.ndarray | None
    roi: Box | None
    roi_from_frame: int | None
    body_layout: str
    face_layout: str | None


class FrameChain:
    """Runs the per-frame detectors of an `ExtractionConfig` over one recording at a time."""

    def __init__(self, config: ExtractionConfig) -> None:
        self.config = config
        self.pose: KeypointBackend = get_backend("pose", config.pose.backend).create(config.pose)
        self.face_mesh: KeypointBackend | None = get_backend("face", config.face.backend).create(config.face) if config.face.enabled else None
        self.body_layout = get_layout(self.pose.layout)
        if self.body_layout.name != config.body_layout:
            try:
                get_mapping(self.body_layout.name, config.body_layout)
            except KeyError as error:
                raise ConfigError(f"body_layout: the {config.pose.backend} pose backend gives {self.body_layout.name}, which cannot be mapped to {config.body_layout} ({error.args[0]})") from None
        self.face_layout = get_layout(self.face_mesh.layout) if self.face_mesh is not None else None
        head = self.body_layout.group_members.get("head", ())
        self.head_points = [self.body_layout.index(name) for name in head]
        self.start((1, 1))

    @property
    def sources(self) -> dict[str, str]:
        """Detector names (with versions) for the keypoints' `source`."""
        names = {"body": self.pose.name}
        if self.face_mesh is not None:
            names["face"] = self.face_mesh.name
        return names

    def start(self, image_size: tuple[int, int], intrinsics: CameraIntrinsics | None = None) -> None:
        """Forget the previous recording; frames of `image_size` (width, height) follow."""
        self.pose.reset()
        self.width, self.height = image_size
        self.intrinsics = intrinsics
        self.roi: Box | None = None
        self.roi_from_frame: int | None = None
        self._sightings: list[Detection] = []
        self._body_box = SmoothedBox(self.config.crops.box_smoothing)
        self._face_box = SmoothedBox(self.config.crops.box_smoothing)
        self._body_px: list[np.ndarray] = []
        self._body_confidence: list[np.ndarray] = []
        self._body_mm: list[np.ndarray] = []
        self._body_mm_confidence: list[np.ndarray] = []
        self._face_px: list[np.ndarray] = []
        self._face_confidence: list[np.ndarray] = []
        self._face_searched: list[bool] = []
        self._body_crops: list[np.ndarray] = []
        self._face_crops: list[np.ndarray] = []

    def process(self, image: np.ndarray, depth_mm: np.ndarray | None = None) -> None:
        """Run the chain on one uint8 frame (grey or RGB) and, when given, its depth frame (mm)."""
        body = self.pose.estimate(image, self.roi)
        if body is None and self.roi is not None:
            body = self._outside_roi(image)
        self._record_body(body)
        self._update_roi(body)
        face = None
        if self.face_mesh is not None:
            searched = len(self._face_searched) % self.config.face.every_n_frames == 0
            self._face_searched.append(searched)
            face = self._face(image, body) if searched else self._no_face()
        if self.config.crops.enabled:
            self._crop(image, body, face)
        if depth_mm is not None:
            self._back_project(depth_mm)

    def _record_body(self, body: KeypointEstimate | None) -> None:
        if body is None:
            self._body_px.append(np.full((self.body_layout.num_joints, 2), np.nan, dtype=np.float32))
            self._body_confidence.append(np.zeros(self.body_layout.num_joints, dtype=np.float32))
        else:
            self._body_px.append(body.points_px)
            self._body_confidence.append(body.confidence)

    def _outside_roi(self, image: np.ndarray) -> KeypointEstimate | None:
        """The whole frame, searched when the patient is lost in the ROI: kept only if centred in the ROI."""
        assert self.roi is not None
        found = self.pose.estimate(image)
        box = None if found is None else found.box(self.config.cleaning.min_confidence, (self.width, self.height))
        if box is None or not self.roi.contains(np.array(box.centre)):
            return None
        return found

    def _update_roi(self, body: KeypointEstimate | None) -> None:
        if not self.config.roi.enabled or self.roi is not None or body is None:
            return
        box = body.box(self.config.cleaning.min_confidence, (self.width, self.height))
        if box is None:
            return
        self._sightings.append(Detection(box=box, score=1.0))
        if len(self._sightings) == self.config.roi.frames:
            detections = [[sighting] for sighting in self._sightings]
            roi = patient_bed_box(detections, self.width, self.height, margin=self.config.roi.margin)
            if roi is not None and roi.area <= self.config.roi.max_area_fraction * self.width * self.height:
                self.roi = roi
                self.roi_from_frame = len(self._body_px)
                self.pose.reset()

    def _head_box(self, body: KeypointEstimate | None) -> Box | None:
        if body is None or not self.head_points:
            return None
        head = KeypointEstimate(body.points_px[self.head_points], body.confidence[self.head_points], body.layout)
        box = head.box(self.config.cleaning.min_confidence, (self.width, self.height))
        if box is None:
            return None
        return Box.from_array(square_around(box, self.config.face.head_scale))

    def _face(self, image: np.ndarray, body: KeypointEstimate | None) -> KeypointEstimate | None:
        assert self.face_mesh is not None
        head = self._head_box(body)
        face = self.face_mesh.estimate(image, head if head is not None else self.roi)
        if face is None:
            return self._no_face()
        self._face_px.append(face.points_px)
        self._face_confidence.append(face.confidence)
        return face

    def _no_face(self) -> None:
        assert self.face_layout is not None
        self._face_px.append(np.full((self.face_layout.num_joints, 2), np.nan, dtype=np.float32))
        self._face_confidence.append(np.zeros(self.face_layout.num_joints, dtype=np.float32))

    def _crop(self, image: np.ndarray, body: KeypointEstimate | None, face: KeypointEstimate | None) -> None:
        size = self.config.crops.size_px
        body_box = None if body is None else body.box(self.config.cleaning.min_confidence, (self.width, self.height))
        corners = self._body_box.update(None if body_box is None else square_around(body_box, 1.0 + 2 * self.config.crops.body_margin))
        self._body_crops.append(grey_crop(image, corners, size))
        if self.face_mesh is not None:
            face_box = None if face is None else face.box(0.0)
            face_corners = None if face_box is None else square_around(face_box, FACE_BOX_SCALE)
            self._face_crops.append(grey_crop(image, self._face_box.update(face_corners), size))

    def _back_project(self, depth_mm: np.ndarray) -> None:
        if self.intrinsics is None:
            raise ValueError("back-projection needs camera intrinsics (pass them to FrameChain.start)")
        points, confidence = back_project_keypoints(
            self._body_px[-1][None], depth_mm[None], self.intrinsics, self._body_confidence[-1][None], self.config.lift.depth_window_px
        )
        self._body_mm.append(points[0])
        self._body_mm_confidence.append(confidence[0])

    def finish(self) -> ChainOutput:
        """The recording's sequences (`[T, V, C]` arrays, crops `[T, S, S]`); call `start` before the next one."""
        body_joints = self.body_layout.num_joints
        face_joints = self.face_layout.num_joints if self.face_layout is not None else 0
        face = self.face_mesh is not None
        crops = self.config.crops.enabled
        depth = bool(self._body_mm)
        return ChainOutput(
            body_px=_stack(self._body_px, (body_joints, 2), np.float32),
            body_confidence=_stack(self._body_confidence, (body_joints,), np.float32),
            body_mm=_stack(self._body_mm, (body_joints, 3), np.float32) if depth else None,
            body_mm_confidence=_stack(self._body_mm_confidence, (body_joints,), np.float32) if depth else None,
            face_px=_stack(self._face_px, (face_joints, 2), np.float32) if face else None,
            face_confidence=_stack(self._face_confidence, (face_joints,), np.float32) if face else None,
            face_searched=np.array(self._face_searched, dtype=bool) if face else None,
            body_crops=_stack(self._body_crops, self._crop_shape, np.uint8) if crops else None,
            face_crops=_stack(self._face_crops, self._crop_shape, np.uint8) if crops and face else None,
            roi=self.roi,
            roi_from_frame=self.roi_from_frame,
            body_layout=self.body_layout.name,
            face_layout=None if self.face_layout is None else self.face_layout.name,
        )

    @property
    def _crop_shape(self) -> tuple[int, int]:
        return (self.config.crops.size_px, self.config.crops.size_px)

    def close(self) -> None:
        self.pose.close()
        if self.face_mesh is not None:
            self.face_mesh.close()


def _stack(frames: list[np.ndarray], shape: tuple[int, ...], dtype: type) -> np.ndarray:
    """Per-frame arrays stacked along a new time axis; an empty `[0, *shape]` array for no frames."""
    return np.stack(frames).astype(dtype, copy=False) if frames else np.zeros((0, *shape), dtype=dtype)
