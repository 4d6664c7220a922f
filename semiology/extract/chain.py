"""The per-frame extraction chain: follow the patient → body pose → head crop → face landmarks → crops → depth.

The pose and face detectors are the backends the config names (`semiology.detect.registry`;
MediaPipe by default); the chain reads their layouts, never assumes one. The face crop is
built around the pose layout's `head` group, when it has one.

One `FrameChain` serves one recording at a time (`start` resets it). Frames go in one by one, so
a recording is never held in memory; `finish` returns the sequences. The patient is followed,
not boxed once (`semiology.preprocess.roi.PatientTracker`): the pose runs on the patient's own
box widened by a margin, which moves with the patient; a sighting that jumps to another person
is refused (and the patient looked for again at their last place); after the patient has been
lost for `roi.reacquire_s`, or when the camera view changes (`ViewChange`), the whole frame is
searched again. Every `roi.presence_every_s`, and before a track starts, a backend that can
(`estimate_anew`) checks with a fresh detection that the tracked person is really there, so a
skeleton left on an empty scene is dropped and such frames are reported without a person. A
check made on frame t is read on frame t + 1, after that frame's pose: when it drops the track,
frame t + 1 goes with it and the pose looks anew from frame t + 2. The
per-frame search box, patient box, track id and crop boxes, and every identity decision, are
returned with the keypoints and go into the cache.

The face mesh and the presence check of a frame run on a second thread while the pose of the
next frame runs (`overlap`): MediaPipe releases the GIL inside a graph, and the bare pose loop
keeps about one core busy. Each graph still sees the same images in the same order and each
result is read at the same point of the next frame as without the thread, so the output equals
the chain's without it bit for bit (tested); a frame's face crop is cut when its face is in,
before the next frame changes anything it reads.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import numpy as np

from semiology.camera import CameraIntrinsics
from semiology.detect.keypoints import KeypointEstimate
from semiology.detect.registry import KeypointBackend, get_backend
from semiology.errors import ConfigError
from semiology.extract.config import ExtractionConfig
from semiology.extract.crops import SmoothedBox, grey_crop, square_around
from semiology.layouts import get_layout, get_mapping
from semiology.lift.depth import back_project_keypoints
from semiology.preprocess.roi import IdentityEvent, PatientTracker, PresenceSchedule, ViewChange, expand_box, other_people
from semiology.records import Box

Result = TypeVar("Result")

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
    search_box_px: np.ndarray
    patient_box_px: np.ndarray
    track: np.ndarray
    body_crop_box_px: np.ndarray | None
    face_crop_box_px: np.ndarray | None
    identity_events: list[IdentityEvent]
    body_layout: str
    face_layout: str | None

    @property
    def person_found(self) -> np.ndarray:
        """`[T]` bool: frames where the patient was found (a track id, not only a detector's guess)."""
        return self.track >= 0


class FrameChain:
    """Runs the per-frame detectors of an `ExtractionConfig` over one recording at a time.

    `overlap=False` runs the face mesh and the presence checks in line, for a check that the
    overlap changes nothing. A frame that the second thread reads is copied first, so the caller
    may reuse its buffer.
    """

    def __init__(self, config: ExtractionConfig, overlap: bool = True) -> None:
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
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="frame-chain") if overlap else None
        self._pending: tuple[np.ndarray, Future[KeypointEstimate | None] | None] | None = None
        self._check: tuple[int, Future[bool]] | None = None
        self._used = False
        self.start((1, 1))

    @property
    def sources(self) -> dict[str, str]:
        """Detector names (with versions) for the keypoints' `source`."""
        names = {"body": self.pose.name}
        if self.face_mesh is not None:
            names["face"] = self.face_mesh.name
        return names

    def start(self, image_size: tuple[int, int], intrinsics: CameraIntrinsics | None = None, fps: float = 30.0) -> None:
        """Forget the previous recording; frames of `image_size` (width, height) at `fps` follow."""
        self._abandon()
        if self._used:
            self.pose.reset()
            if self.face_mesh is not None:
                self.face_mesh.reset()
            self._used = False
        self.width, self.height = image_size
        self.intrinsics = intrinsics
        self._drained = 0
        self.tracker = self._tracker(fps)
        self.view_change = ViewChange(self.config.roi.view_change)
        self.presence = PresenceSchedule(max(round(self.config.roi.presence_every_s * fps), 1), max(round(0.1 * fps), 1))
        self._previous_track = -1
        self._crop_track = -1
        self._presence_events: list[IdentityEvent] = []
        self._search_boxes: list[Box | None] = []
        self._patient_boxes: list[Box | None] = []
        self._tracks: list[int] = []
        self._body_crop_boxes: list[np.ndarray | None] = []
        self._face_crop_boxes: list[np.ndarray | None] = []
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

    def _tracker(self, fps: float) -> PatientTracker | None:
        roi = self.config.roi
        if not roi.enabled:
            return None
        seed = Box.from_array(roi.seed_px) if roi.seed_px is not None else None
        return PatientTracker(
            self.width, self.height, margin=roi.margin, max_jump=roi.max_jump, max_scale=roi.max_scale,
            reacquire_frames=max(round(roi.reacquire_s * fps), 1), seed=seed, max_area_fraction=roi.max_area_fraction,
        )

    def process(self, image: np.ndarray, depth_mm: np.ndarray | None = None) -> None:
        """Run the chain on one uint8 frame (grey or RGB) and, when given, its depth frame (mm)."""
        self._used = True
        frame = self._drained + len(self._body_px)
        if self.tracker is not None and self.view_change(image):
            self._settle()
            self.tracker.view_changed(frame)
            self._forget()
            self._body_box.reset()
            self._face_box.reset()
        search = None if self.tracker is None else self.tracker.search_box
        body = self._patient(frame, image, search)
        self._search_boxes.append(search)
        self._record_body(body)
        self._settle()
        if self._tracks[-1] >= 0 and self._tracks[-1] != self._crop_track:
            self._crop_track = self._tracks[-1]
            self._body_box.reset()
            self._face_box.reset()
        face: Future[KeypointEstimate | None] | None = None
        if self.face_mesh is not None:
            searched = frame % self.config.face.every_n_frames == 0
            self._face_searched.append(searched)
            if searched:
                image, face = self._look_for_face(image, body, search)
        if self.config.crops.enabled:
            self._crop_body(image, body)
        if depth_mm is not None:
            self._back_project(depth_mm)
        if self.face_mesh is not None:
            self._pending = (image, face)
            if face is None or self._worker is None:
                self._settle()

    def _box(self, body: KeypointEstimate | None) -> Box | None:
        return None if body is None else body.box(self.config.cleaning.min_confidence, (self.width, self.height))

    def _patient(self, frame: int, image: np.ndarray, search: Box | None) -> KeypointEstimate | None:
        """The patient's keypoints in this frame, or None: the detector's find, checked for identity and presence."""
        body = self.pose.estimate(image, search)
        if self._read_check():
            body = None
        box = self._box(body)
        tracker = self.tracker
        if tracker is not None and box is not None and tracker.last is not None and tracker.missed < tracker.reacquire_frames and not tracker.continues(box):
            self._forget()
            body = self._anew(image, expand_box(tracker.last, self.config.roi.margin, self.width, self.height))
            box = self._box(body)
        track = (0 if box is not None else -1) if tracker is None else tracker.update(frame, box)
        if track < 0 and box is not None:
            self._forget()
        if track >= 0 and self._can_check:
            if track != self._previous_track or (tracker is None and not self._tracks[-1:] == [0]):
                self.presence.start_track(frame)
                self._previous_track = track
            if self.presence.due(frame):
                around = None if tracker is None else tracker.search_box
                if self._worker is not None:
                    image = image.copy()
                self._check = (frame, self._submit(self._someone_there, image, around))
        if track < 0:
            body, box = None, None
        self._tracks.append(track)
        self._patient_boxes.append(box)
        return body

    def _someone_there(self, image: np.ndarray, around: Box | None) -> bool:
        """A fresh detection finds someone `around` the patient, or else anywhere in the frame (small people vanish in a wide frame, crops cut others)."""
        if around is not None and self._anew(image, around) is not None:
            return True
        return self._anew(image, None) is not None

    def _read_check(self) -> bool:
        """Read the presence check of the frame before; True when it dropped the track (that frame and those before it, back to the track's doubt)."""
        if self._check is None:
            return False
        frame, future = self._check
        self._check = None
        first = self.presence.result(frame, future.result())
        if first is None:
            return False
        self._drop(first, frame)
        return True

    def _submit(self, function: Callable[..., Result], *args: Any) -> Future[Result]:
        """`function(*args)` on the second thread, or here and now without one."""
        if self._worker is not None:
            return self._worker.submit(function, *args)
        done: Future[Result] = Future()
        done.set_result(function(*args))
        return done

    def _drop(self, first: int, frame: int) -> None:
        """Presence checks found nobody: the frames from `first` (still held) are reported without a person."""
        detail = f"fresh detections found nobody: frames {first}-{frame} reported without a person"
        if self.tracker is not None:
            self.tracker.drop(frame, detail)
        else:
            self._presence_events.append(IdentityEvent(frame, "dropped", 0, detail))
        self._forget()
        for index in range(max(first - self._drained, 0), len(self._tracks)):
            self._tracks[index] = -1
            self._patient_boxes[index] = None
            self._body_px[index] = np.full_like(self._body_px[index], np.nan)
            self._body_confidence[index] = np.zeros_like(self._body_confidence[index])
            if index < len(self._body_mm):
                self._body_mm[index] = np.full_like(self._body_mm[index], np.nan)
                self._body_mm_confidence[index] = np.zeros_like(self._body_mm_confidence[index])

    @property
    def _can_check(self) -> bool:
        return self.config.roi.presence_every_s > 0 and hasattr(self.pose, "estimate_anew")

    def _anew(self, image: np.ndarray, region: Box | None) -> KeypointEstimate | None:
        """A fresh detection (no tracking) in `region`, from a backend that offers one; else None."""
        estimate_anew = getattr(self.pose, "estimate_anew", None)
        return None if estimate_anew is None else estimate_anew(image, region)

    def _forget(self) -> None:
        forget = getattr(self.pose, "forget", None)
        if forget is not None:
            forget()

    def _record_body(self, body: KeypointEstimate | None) -> None:
        if body is None:
            self._body_px.append(np.full((self.body_layout.num_joints, 2), np.nan, dtype=np.float32))
            self._body_confidence.append(np.zeros(self.body_layout.num_joints, dtype=np.float32))
        else:
            self._body_px.append(body.points_px)
            self._body_confidence.append(body.confidence)

    def _head_box(self, body: KeypointEstimate | None) -> Box | None:
        if body is None or not self.head_points:
            return None
        head = KeypointEstimate(body.points_px[self.head_points], body.confidence[self.head_points], body.layout)
        box = head.box(self.config.cleaning.min_confidence, (self.width, self.height))
        if box is None:
            return None
        return Box.from_array(square_around(box, self.config.face.head_scale))

    def _look_for_face(self, image: np.ndarray, body: KeypointEstimate | None, search: Box | None) -> tuple[np.ndarray, Future[KeypointEstimate | None]]:
        """Start the face mesh on the patient's head (else the search box); the frame it reads, and its future result."""
        assert self.face_mesh is not None
        head = self._head_box(body)
        region = head if head is not None else search
        if self._worker is not None:
            image = image.copy()
        return image, self._submit(self.face_mesh.estimate, image, region)

    def _settle(self) -> None:
        """The previous frame's face is in: record its landmarks and cut its face crop."""
        if self._pending is None:
            return
        image, future = self._pending
        self._pending = None
        face = None if future is None else future.result()
        if face is None:
            self._no_face()
        else:
            self._face_px.append(face.points_px)
            self._face_confidence.append(face.confidence)
        if self.config.crops.enabled:
            self._crop_face(image, face)

    def _abandon(self) -> None:
        """Work left by a recording that was not finished: wait for it (the graphs are about to be reset) and drop it.

        The wait is for an empty job queued behind everything submitted, so a job whose frame
        failed before its future was kept is waited for too."""
        if self._worker is not None:
            self._worker.submit(lambda: None).result()
        self._pending, self._check = None, None

    def _no_face(self) -> None:
        assert self.face_layout is not None
        self._face_px.append(np.full((self.face_layout.num_joints, 2), np.nan, dtype=np.float32))
        self._face_confidence.append(np.zeros(self.face_layout.num_joints, dtype=np.float32))

    def _crop_body(self, image: np.ndarray, body: KeypointEstimate | None) -> None:
        body_box = None if body is None else body.box(self.config.cleaning.min_confidence, (self.width, self.height))
        corners = self._body_box.update(None if body_box is None else square_around(body_box, 1.0 + 2 * self.config.crops.body_margin))
        self._body_crops.append(grey_crop(image, corners, self.config.crops.size_px))
        self._body_crop_boxes.append(corners)

    def _crop_face(self, image: np.ndarray, face: KeypointEstimate | None) -> None:
        face_box = None if face is None else face.box(0.0)
        face_corners = self._face_box.update(None if face_box is None else square_around(face_box, FACE_BOX_SCALE))
        self._face_crops.append(grey_crop(image, face_corners, self.config.crops.size_px))
        self._face_crop_boxes.append(face_corners)

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
        self._read_check()
        self._settle()
        output = self._output()
        if self.config.roi.patient == "longest":
            view_changes = [event.frame for event in output.identity_events if event.event == "view_change"]
            output = _without(output, other_people(output.track, output.patient_box_px, view_changes, self.config.roi.same_place_iou))
        return output

    def _output(self) -> ChainOutput:
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
            search_box_px=_boxes(self._search_boxes),
            patient_box_px=_boxes(self._patient_boxes),
            track=np.array(self._tracks, dtype=np.int32),
            body_crop_box_px=_boxes(self._body_crop_boxes) if crops else None,
            face_crop_box_px=_boxes(self._face_crop_boxes) if crops and face else None,
            identity_events=sorted([*([] if self.tracker is None else self.tracker.events), *self._presence_events], key=lambda event: event.frame),
            body_layout=self.body_layout.name,
            face_layout=None if self.face_layout is None else self.face_layout.name,
        )

    def drain(self) -> ChainOutput:
        """The sequences of the frames processed since the last `drain` (or `start`), which are then forgotten.

        The patient box, the trackers and the face cadence carry on: a live session drains
        after each frame and keeps only the recent past, and the frames come out as `finish`
        would have given them for the whole recording, except where a presence check drops a
        track: frames already drained keep their person (in a live session that is the checked
        frame and the doubt before it), and the face of the last frame is waited for here.
        `roi.patient: longest` decides at the end of a recording, so it cannot be drained.
        """
        refuse_draining(self.config)
        self._settle()
        output = self._output()
        self._drained += len(output.body_px)
        for sequence in (self._body_px, self._body_confidence, self._body_mm, self._body_mm_confidence, self._face_px, self._face_confidence,
                         self._face_searched, self._body_crops, self._face_crops, self._search_boxes, self._patient_boxes, self._tracks,
                         self._body_crop_boxes, self._face_crop_boxes, self._presence_events):
            sequence.clear()
        if self.tracker is not None:
            self.tracker.events.clear()
        return output

    @property
    def _crop_shape(self) -> tuple[int, int]:
        return (self.config.crops.size_px, self.config.crops.size_px)

    def close(self) -> None:
        self._abandon()
        if self._worker is not None:
            self._worker.shutdown()
        self.pose.close()
        if self.face_mesh is not None:
            self.face_mesh.close()


def refuse_draining(config: ExtractionConfig) -> None:
    """A ConfigError when `config` decides something only at the end of a recording, which a chain drained frame by frame (a live session) never reaches."""
    if config.roi.patient != "any":
        raise ConfigError(f"roi.patient: {config.roi.patient} chooses the patient when a recording is finished; a live session needs roi.patient: any")


def _stack(frames: list[np.ndarray], shape: tuple[int, ...], dtype: type) -> np.ndarray:
    """Per-frame arrays stacked along a new time axis; an empty `[0, *shape]` array for no frames."""
    return np.stack(frames).astype(dtype, copy=False) if frames else np.zeros((0, *shape), dtype=dtype)


def _boxes(boxes: list[Box | np.ndarray | None]) -> np.ndarray:
    """Per-frame boxes as `[T, 4]` float32 corners (u0, v0, u1, v1); NaN rows where there was none."""
    rows = np.full((len(boxes), 4), np.nan, dtype=np.float32)
    for index, box in enumerate(boxes):
        if box is not None:
            rows[index] = box.as_array() if isinstance(box, Box) else box
    return rows


def _without(output: ChainOutput, others: dict[int, str]) -> ChainOutput:
    """`output` with the frames of the tracks in `others` reported without a person, their crops blank, and an `excluded` event for each track.

    The frames after such a track, until the next one starts, go too: their crop boxes stay where
    that person was last seen and the face mesh still searches there."""
    if not others:
        return output
    started = np.where(output.track >= 0, np.arange(len(output.track)), 0)
    latest = output.track[np.maximum.accumulate(started)]
    gone = np.isin(latest, list(others))

    def blank(array: np.ndarray | None, fill: float) -> np.ndarray | None:
        if array is None:
            return None
        array = array.copy()
        array[gone] = fill
        return array

    excluded = [IdentityEvent(int(np.flatnonzero(output.track == track)[0]), "excluded", track, why) for track, why in sorted(others.items())]
    return replace(
        output,
        body_px=blank(output.body_px, np.nan), body_confidence=blank(output.body_confidence, 0.0),
        body_mm=blank(output.body_mm, np.nan), body_mm_confidence=blank(output.body_mm_confidence, 0.0),
        face_px=blank(output.face_px, np.nan), face_confidence=blank(output.face_confidence, 0.0), face_searched=blank(output.face_searched, False),
        body_crops=blank(output.body_crops, 0), face_crops=blank(output.face_crops, 0),
        patient_box_px=blank(output.patient_box_px, np.nan), track=blank(output.track, -1),
        body_crop_box_px=blank(output.body_crop_box_px, np.nan), face_crop_box_px=blank(output.face_crop_box_px, np.nan),
        identity_events=sorted([*output.identity_events, *excluded], key=lambda event: event.frame),
    )
