"""Regions of interest: the patient followed frame by frame with identities, and the boxes that crop them.

`PatientTracker` is what extraction runs: it keeps the patient's identity from frame to frame
(a sighting that jumps further than a person moves in a frame is someone else and is refused),
says where the detector should look next (the patient's own box widened by a margin, moved when
the patient reaches its edge, the whole frame once the patient has been lost for a while) and
records every identity decision, so that a reviewer can see where a track began, was lost and
was taken up again. `ViewChange` notices a cut or a jump of the camera (EMU cameras are panned
and zoomed by technicians), after which the patient is searched anew. A fixed patient+bed box
(`patient_bed_box`) and smoothed per-frame boxes (`track_patient`) remain for callers that hold
a whole recording's detections. In a frame with several people the patient is the person on the
bed (or in the configured seed box), else the one that overlaps the previous patient box most,
else the largest (`select_patient`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from semiology.records import Box, Detection

ROI_MARGIN = 0.3


def expand_box(box: Box, margin: float, width: int, height: int) -> Box:
    """`box` widened by `margin` times its width/height on each side, clipped to a `width` x `height` image."""
    du, dv = margin * box.width, margin * box.height
    return Box(max(box.u0 - du, 0.0), max(box.v0 - dv, 0.0), min(box.u1 + du, float(width)), min(box.v1 + dv, float(height)))


def union_box(boxes: Sequence[Box]) -> Box:
    """The smallest box holding all `boxes`."""
    if not boxes:
        raise ValueError("union of no boxes")
    corners = np.stack([box.as_array() for box in boxes])
    return Box(corners[:, 0].min(), corners[:, 1].min(), corners[:, 2].max(), corners[:, 3].max())


def mask_box(mask: np.ndarray, min_pixels: int = 50) -> Box | None:
    """The box around the largest connected region of a boolean mask [H, W] (e.g. the bed volume); None when too small."""
    count, components, stats, _ = cv2.connectedComponentsWithStats(np.asarray(mask, dtype=np.uint8), connectivity=8)
    if count <= 1:
        return None
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    if stats[largest, cv2.CC_STAT_AREA] < min_pixels:
        return None
    left, top, box_width, box_height = (int(value) for value in stats[largest, :4])
    return Box(float(left), float(top), float(left + box_width), float(top + box_height))


def select_patient(
    detections: Sequence[Detection], bed: Box | None = None, previous: Box | None = None, label: str = "person"
) -> Detection | None:
    """The patient among `detections`: most inside the bed box, else most overlapping `previous`, else the largest."""
    people = [detection for detection in detections if detection.label == label]
    if not people:
        return None
    if bed is not None:
        on_bed = [(person.box.intersection(bed) / max(person.box.area, 1e-9), person) for person in people]
        share, best = max(on_bed, key=lambda pair: pair[0])
        if share > 0.5:
            return best
    if previous is not None:
        overlap, best = max(((person.box.iou(previous), person) for person in people), key=lambda pair: pair[0])
        if overlap > 0:
            return best
    return max(people, key=lambda person: person.box.area)


def patient_bed_box(
    detections_per_frame: Sequence[Sequence[Detection]],
    width: int,
    height: int,
    bed: Box | None = None,
    margin: float = ROI_MARGIN,
) -> Box | None:
    """The fixed crop for a recording: patients of the given (first) frames and the bed, merged, +`margin` each side.

    None when neither a patient nor a bed was found (the caller looks at later frames).
    """
    boxes = [bed] if bed is not None else []
    previous: Box | None = None
    for detections in detections_per_frame:
        patient = select_patient(detections, bed=bed, previous=previous)
        if patient is not None:
            boxes.append(patient.box)
            previous = patient.box
    if not boxes:
        return None
    return expand_box(union_box(boxes), margin, width, height)


def smooth_boxes(boxes: np.ndarray, alpha: float = 0.3) -> np.ndarray:
    """Exponentially smoothed boxes `[T, 4]` (u0, v0, u1, v1); NaN rows (nobody) keep the last box, leading NaNs stay NaN."""
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha must lie in (0, 1], got {alpha}")
    raw = np.asarray(boxes, dtype=np.float64)
    smoothed = np.full_like(raw, np.nan)
    state: np.ndarray | None = None
    for index, row in enumerate(raw):
        if np.isfinite(row).all():
            state = row.copy() if state is None else alpha * row + (1.0 - alpha) * state
        if state is not None:
            smoothed[index] = state
    return smoothed


def track_patient(
    detections_per_frame: Sequence[Sequence[Detection]], bed: Box | None = None, alpha: float = 0.3
) -> np.ndarray:
    """The patient's box in every frame `[T, 4]`, chosen frame by frame and smoothed; NaN before the first sighting."""
    boxes = np.full((len(detections_per_frame), 4), np.nan)
    previous: Box | None = None
    for index, detections in enumerate(detections_per_frame):
        patient = select_patient(detections, bed=bed, previous=previous)
        if patient is not None:
            boxes[index] = patient.box.as_array()
            previous = patient.box
    return smooth_boxes(boxes, alpha)


def crop(image: np.ndarray, box: Box) -> np.ndarray:
    """The pixels of `image` inside `box` (rounded outwards to whole pixels), a view, not a copy."""
    height, width = image.shape[:2]
    u0, v0 = max(int(np.floor(box.u0)), 0), max(int(np.floor(box.v0)), 0)
    u1, v1 = min(int(np.ceil(box.u1)), width), min(int(np.ceil(box.v1)), height)
    return image[v0:v1, u0:u1]


def crop_offset(box: Box) -> tuple[int, int]:
    """Pixel offset (u, v) of a crop made by `crop`: add it to crop coordinates to get image coordinates."""
    return max(int(np.floor(box.u0)), 0), max(int(np.floor(box.v0)), 0)


@dataclass(frozen=True)
class IdentityEvent:
    """One identity decision of a `PatientTracker`: at `frame`, track `track` was `event`, because `detail`.

    Events: `acquired` (the first sighting, or the first after a view change), `reacquired` (a
    person found after the patient was lost for `reacquire_frames`: a new track, which a reviewer
    should check), `refused` (a sighting that is not the patient: a jump, or outside the seed),
    `lost` (the patient was not seen for `reacquire_frames`: the whole frame is searched),
    `view_change` (the camera view changed: the next sighting starts a new track), `dropped`
    (presence checks found nobody where the track was: its frames are reported without a person),
    `excluded` (with `roi.patient: longest`, a track of another person than the one present
    longest: its frames are reported without a person).
    """

    frame: int
    event: str
    track: int
    detail: str = ""

    def as_dict(self) -> dict[str, int | str]:
        return {"frame": self.frame, "event": self.event, "track": self.track, "detail": self.detail}


class PatientTracker:
    """The patient's identity and search box, frame by frame; one tracker per recording.

    Call `search_box` for where to run the detector (None: the whole frame), then `update` with
    the patient box the detector found there (or None). A sighting continues the current track
    when its centre lies within `max_jump` patient sizes of the last sighting (more when frames
    were missed) and its size changed by less than `max_scale` times; anything else is another
    person and is refused, so a clinician leaning over the bed does not take the track. After
    `reacquire_frames` frames without the patient the whole frame is searched and the next
    person found starts a new track (recorded as `reacquired`). With a `seed` box (the bed, or
    one the user configures) a track only starts from a person whose centre lies inside it, and
    the seed box, not the whole frame, is searched while there is no track.
    The search box is the last sighting widened by `margin` on each side; it moves only when the
    patient leaves it or fills less than a tenth of it (a zoom out), so a tracking detector sees
    a steady image. A box over `max_area_fraction` of the frame is not worth cropping: the whole
    frame is searched instead.
    """

    def __init__(
        self,
        width: int,
        height: int,
        margin: float = ROI_MARGIN,
        max_jump: float = 0.5,
        max_scale: float = 1.6,
        reacquire_frames: int = 15,
        seed: Box | None = None,
        max_area_fraction: float = 0.6,
    ) -> None:
        if max_jump <= 0 or max_scale <= 1 or reacquire_frames < 1:
            raise ValueError(f"max_jump must be > 0, max_scale > 1 and reacquire_frames >= 1; got {max_jump}, {max_scale}, {reacquire_frames}")
        self.width, self.height = width, height
        self.margin, self.max_jump, self.max_scale = margin, max_jump, max_scale
        self.reacquire_frames, self.seed, self.max_area_fraction = reacquire_frames, seed, max_area_fraction
        self.track = -1
        self.last: Box | None = None
        self.missed = 0
        self.events: list[IdentityEvent] = []
        self._search: Box | None = None

    @property
    def search_box(self) -> Box | None:
        """Where the detector looks in the next frame (the seed box while there is no track); None for the whole frame."""
        if self._search is None and self.seed is not None and (self.last is None or self.missed >= self.reacquire_frames):
            return self.seed
        return self._search

    def view_changed(self, frame: int) -> None:
        """The camera view changed at `frame`: forget where the patient was and search the whole frame."""
        self.events.append(IdentityEvent(frame, "view_change", self.track))
        self.last, self._search, self.missed = None, None, 0

    def drop(self, frame: int, detail: str) -> None:
        """The current track was not a person (a presence check failed): end it; the next sighting starts a new one."""
        self.events.append(IdentityEvent(frame, "dropped", self.track, detail))
        self.last, self._search, self.missed = None, None, 0

    def continues(self, sighting: Box) -> bool:
        """Whether `sighting` can be the patient last seen (near enough, of a similar size)."""
        if self.last is None:
            return False
        size = max(self.last.width, self.last.height, 1.0)
        shift = float(np.hypot(sighting.centre[0] - self.last.centre[0], sighting.centre[1] - self.last.centre[1])) / size
        scale = float(np.sqrt(max(sighting.area, 1.0) / max(self.last.area, 1.0)))
        return shift <= self.max_jump * (1 + self.missed) and 1 / self.max_scale <= scale <= self.max_scale

    def update(self, frame: int, sighting: Box | None) -> int:
        """Decide whether `sighting` (the person box found this frame, or None) is the patient; returns its track id, or -1."""
        if sighting is None:
            return self._miss(frame)
        if self.last is not None and self.missed < self.reacquire_frames:
            if not self.continues(sighting):
                self.events.append(IdentityEvent(frame, "refused", self.track, "a sighting too far from the patient or of another size"))
                return self._miss(frame)
        else:
            if self.seed is not None and not self.seed.contains(np.array(sighting.centre)):
                self.events.append(IdentityEvent(frame, "refused", self.track, "a person outside the seed box"))
                return self._miss(frame)
            event = "acquired" if self.last is None else "reacquired"
            self.track += 1
            detail = "" if event == "acquired" else f"after {self.missed} frames without the patient"
            self.events.append(IdentityEvent(frame, event, self.track, detail))
        self.last, self.missed = sighting, 0
        self._follow(sighting)
        return self.track

    def _miss(self, frame: int) -> int:
        self.missed += 1
        if self.last is not None and self.missed == self.reacquire_frames:
            self.events.append(IdentityEvent(frame, "lost", self.track, f"not seen for {self.missed} frames: searching the whole frame"))
            self._search = None
        return -1

    def _follow(self, sighting: Box) -> None:
        search = self._search
        if search is not None and search.intersection(sighting) >= sighting.area and sighting.area >= 0.1 * search.area:
            return
        widened = expand_box(sighting, self.margin, self.width, self.height)
        self._search = None if widened.area > self.max_area_fraction * self.width * self.height else widened


def other_people(track: np.ndarray, patient_box: np.ndarray, view_changes: Sequence[int], same_place_iou: float = 0.3) -> dict[int, str]:
    """The tracks that are not the patient, when the patient is the person present longest in each camera view.

    `track` is `[T]` track ids (-1: nobody), `patient_box` `[T, 4]` boxes (u0, v0, u1, v1),
    `view_changes` the frames where the camera view changed (a track never spans one). Within a
    view, two tracks are one person when their median boxes overlap by `same_place_iou` or more,
    directly or through a third: a patient lost behind a clinician and taken up again is at the
    same place, a clinician beside the bed is not. The person with the most frames is the patient
    (on a tie, the one seen first). Returns {track id: why it is not the patient} for the others.
    A union-find over a handful of tracks: scipy's connected components would need a graph built
    for it and say no more.
    """
    track = np.asarray(track)
    changes = np.sort(np.asarray(view_changes, dtype=np.int64))
    ids = [int(k) for k in np.unique(track[track >= 0])]
    frames = {k: np.flatnonzero(track == k) for k in ids}
    boxes = {k: Box.from_array(np.nanmedian(np.asarray(patient_box, dtype=np.float64)[frames[k]], axis=0)) for k in ids}
    view_of = {k: int(np.searchsorted(changes, frames[k][0], side="right")) for k in ids}
    person = {k: k for k in ids}

    def root(k: int) -> int:
        while person[k] != k:
            k = person[k]
        return k

    for index, first in enumerate(ids):
        for second in ids[index + 1 :]:
            if view_of[first] == view_of[second] and boxes[first].iou(boxes[second]) >= same_place_iou:
                person[root(second)] = root(first)
    others: dict[int, str] = {}
    for view in sorted(set(view_of.values())):
        people: dict[int, list[int]] = {}
        for k in ids:
            if view_of[k] == view:
                people.setdefault(root(k), []).append(k)
        sizes = {key: sum(len(frames[k]) for k in members) for key, members in people.items()}
        patient = max(people, key=lambda key: (sizes[key], -min(frames[k][0] for k in people[key])))
        for key, members in people.items():
            if key != patient:
                for k in members:
                    others[k] = (f"another person than the patient: {sizes[key]} frames at another place, against the patient's {sizes[patient]} "
                                 "in this camera view")
    return others


class PresenceSchedule:
    """When to check, with a fresh detection, that a tracked person is really there, and what a failed check drops.

    A tracking detector keeps a skeleton on an empty scene once it has one (a false detection on
    a title card or a desk, or a patient who left), so a track is first tentative: it is checked
    `recheck_frames` after it starts and every `recheck_frames` after that until a check finds
    someone, and dropped whole (from its first frame) when two checks in a row find nobody. A confirmed track is checked every `every_frames`; after a failed check it is
    checked again every `recheck_frames`, and dropped from the first failed check only when the
    checks keep failing for `every_frames` (one miss of a fresh detector on a hard pose is not
    an empty scene). Pure bookkeeping: the caller runs the checks.
    """

    def __init__(self, every_frames: int, recheck_frames: int = 3) -> None:
        if every_frames < 1 or recheck_frames < 1:
            raise ValueError(f"every_frames and recheck_frames must be >= 1, got {every_frames} and {recheck_frames}")
        self.every_frames, self.recheck_frames = every_frames, recheck_frames
        self.tentative_since: int | None = None
        self.doubt_since: int | None = None
        self.next_check = 0
        self.failures = 0

    def start_track(self, frame: int) -> None:
        """A new track starts at `frame`: tentative until a check confirms it."""
        self.tentative_since, self.doubt_since, self.next_check, self.failures = frame, None, frame + self.recheck_frames, 0

    def due(self, frame: int) -> bool:
        return frame >= self.next_check

    def result(self, frame: int, present: bool) -> int | None:
        """Record the check made at `frame`; returns the first frame of the track to drop, or None to keep it."""
        if present:
            self.failures = 0
            self.tentative_since = self.doubt_since = None
            self.next_check = frame + self.every_frames
            return None
        self.failures += 1
        if (self.tentative_since is not None and self.failures >= 2) or (self.doubt_since is not None and frame - self.doubt_since >= self.every_frames):
            first = self.tentative_since if self.tentative_since is not None else self.doubt_since
            self.tentative_since = self.doubt_since = None
            self.failures = 0
            self.next_check = frame + self.every_frames
            return first
        if self.doubt_since is None:
            self.doubt_since = frame
        self.next_check = frame + self.recheck_frames
        return None


class ViewChange:
    """Notices a change of camera view (a cut, a fast pan or zoom) between consecutive frames.

    Each frame is reduced to a 32 x 24 grey thumbnail; the view changed when its correlation with
    the previous thumbnail falls below `threshold`. People moving in a still view change a few
    thumbnail pixels and keep the correlation near 1; a new view changes all of them. Cheap and
    needs no model: the thumbnail is the block mean of the frame's central region whose sides are
    whole multiples of 32 and 24 (a 512 x 424 frame loses 8 rows at top and bottom), which OpenCV's
    area resize computes on its integer-factor path: 0.04 ms per 512 x 424 frame against 0.40 ms
    for the same resize of the whole frame, measured on the 2-core test machine.
    """

    SIZE = (32, 24)

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = threshold
        self._previous: np.ndarray | None = None

    def reset(self) -> None:
        self._previous = None

    def __call__(self, image: np.ndarray) -> bool:
        """Whether `image` shows another view than the frame before it (False for the first frame)."""
        small = cv2.resize(_whole_blocks(image, self.SIZE), self.SIZE, interpolation=cv2.INTER_AREA).astype(np.float32)
        if small.ndim == 3:
            small = small.mean(axis=2)
        small -= small.mean()
        norm = float(np.linalg.norm(small))
        thumbnail = small / norm if norm > 1e-6 else small
        previous, self._previous = self._previous, thumbnail
        if previous is None or norm <= 1e-6 or float(np.linalg.norm(previous)) <= 1e-6:
            return False
        return float((previous * thumbnail).sum()) < self.threshold


def _whole_blocks(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The central region of `image` whose width and height are whole multiples of `size` (width, height); the image itself when it is smaller."""
    height, width = image.shape[:2]
    keep_v, keep_u = height - height % size[1], width - width % size[0]
    if keep_v == 0 or keep_u == 0:
        return image
    v0, u0 = (height - keep_v) // 2, (width - keep_u) // 2
    return image[v0 : v0 + keep_v, u0 : u0 + keep_u]
