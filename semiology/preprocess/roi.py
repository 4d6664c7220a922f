"""Regions of interest: the patient+bed box that crops a whole recording, and a tracked patient box.

The fixed box is the union of the person boxes found in the first frames (and the bed box from
the depth volume, where there is depth), widened by 30 % of its size on each side and clipped to
the image: the patient moves inside it, and the detector sees a smaller, steadier image. In a
frame with several people the patient is the person on the bed, else the one that overlaps the
previous patient box most, else the largest. The optional per-frame box follows that choice and
is smoothed exponentially so the crop does not jitter.
"""

from __future__ import annotations

from collections.abc import Sequence

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
