"""Skeleton annotations for pyskl and mmaction2: the store's cached keypoints with their labels, in one pickle.

The file is the dict both toolkits read for skeleton-based action recognition:

    {"split": {"all": [frame_dir, ...], "sub-<pseudonym>": [...], ...},
     "annotations": [{"frame_dir", "label", "total_frames", "img_shape", "original_shape",
                      "keypoint" [1, T, V, C] float32, "keypoint_score" [1, T, V] float32, ...}],
     "label_names": [...], "layout": ..., "joint_names": [...]}

One annotation per seizure that has a cached keypoint record and a value of the chosen task;
`frame_dir` is the seizure id, `label` the index of its value in `label_names`. A split per
subject (`sub-<pseudonym>`) lets a leave-one-subject-out loader build its folds. Beyond the
required keys each annotation carries `subject` (the pseudonym), `fps`, the ictal frames
(`onset_frame`, `offset_frame`) and the seizure's sign labels in frames (`signs`). Missing
joints (NaN) are written as 0 with score 0, as the toolkits expect. The identity stored in a
cache file is not used: ids come from the store, so a cache made before pseudonymisation does
not leak a subject identifier into the export. For 2D keypoints in pixels `img_shape` is the
smallest frame holding every detected joint (the cache keeps no frame size); 3D keypoints have
no image shape. The annotation and the file are written by `semiology.io.pyskl`, which also
reads such pickles back (and writes them from cached records without a store).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from semiology.errors import CacheError
from semiology.io.cache import load_record
from semiology.io.pyskl import annotation, write_pickle
from semiology.records import Keypoints
from semiology.store.database import Store
from semiology.store.errors import StoreError
from semiology.store.schema import Patient, Seizure, User
from semiology.store.vocabulary import EVENT_KIND_COLUMN, SEIZURE_TYPE_COLUMN

log = logging.getLogger(__name__)

STREAMS: tuple[str, ...] = ("body_2d", "body_3d", "face_2d")


@dataclass(frozen=True)
class SkeletonExport:
    """The pickle written, the seizures in it, and the seizures left out with the reason."""

    path: Path
    annotations: int
    label_names: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]


def _annotation(seizure: Seizure, keypoints: Keypoints, label: int, users: dict[int, str]) -> dict[str, Any]:
    fps = float(keypoints.fps)
    return annotation(
        seizure.seizure_key, keypoints, label,
        subject=seizure.patient.pseudonym,
        onset_frame=round(seizure.onset_s * fps),
        offset_frame=round(seizure.offset_s * fps),
        signs=[
            {"term": sign.term, "side": sign.side, "region": sign.region, "start_frame": round(sign.start_s * fps),
             "end_frame": round(sign.end_s * fps), "status": sign.status, "annotator": users.get(sign.annotator_id) if sign.annotator_id else None,
             "model": sign.model}
            for sign in seizure.sign_labels
        ],
    )


def export_skeletons(
    store: Store, path: str | Path, task: str, stream: str = "body_2d", classes: Sequence[str] | None = None, site: str | None = None
) -> SkeletonExport:
    """Write the pyskl/mmaction2 pickle of `task` (a task label, `ilae_seizure_type` or `event_kind`) on keypoint `stream`.

    `classes` fixes the label order (default: the values found, sorted); a seizure whose value
    is not among them, that has no value, or whose cached record is missing, unreadable or lacks
    the stream is left out and listed in the result.
    """
    if stream not in STREAMS:
        raise StoreError(f"unknown keypoint stream {stream!r} (streams: {', '.join(STREAMS)})")
    with store.session() as session:
        users = {user.id: user.username for user in session.scalars(select(User))}
        query = select(Seizure).options(selectinload(Seizure.recordings), selectinload(Seizure.task_labels), selectinload(Seizure.sign_labels),
                                        selectinload(Seizure.patient).selectinload(Patient.site)).order_by(Seizure.id)
        seizures = [s for s in session.scalars(query) if site is None or s.patient.site.name == site]
    values = {seizure.seizure_key: _task_value(seizure, task) for seizure in seizures}
    names = tuple(classes) if classes is not None else tuple(sorted({v for v in values.values() if v is not None}))
    if not names:
        raise StoreError(f"{store.name}: no seizure has a value of task {task!r}")
    annotations, skipped, layout = [], [], None
    for seizure in seizures:
        value = values[seizure.seizure_key]
        recording = next((r for r in seizure.recordings if r.modality == "keypoints"), None)
        reason = None
        if value is None or value not in names:
            reason = f"no value of task {task!r}" if value is None else f"value {value!r} is not one of the classes"
        elif recording is None:
            reason = "no cached keypoint record (column 'keypoints')"
        if reason is None:
            try:
                keypoints = getattr(load_record(recording.path), stream)
            except CacheError as error:
                keypoints, reason = None, str(error)
            if keypoints is None and reason is None:
                reason = f"the cached record has no {stream} keypoints"
        if reason is not None:
            skipped.append((seizure.seizure_key, reason))
            continue
        if layout is not None and keypoints.layout != layout:
            raise StoreError(f"seizure {seizure.seizure_key!r}: {stream} keypoints in layout {keypoints.layout!r}, the others in {layout!r}; export one layout at a time")
        layout = keypoints.layout
        annotations.append(_annotation(seizure, keypoints, names.index(value), users))
    if not annotations:
        raise StoreError(f"{store.name}: nothing to export for task {task!r}: " + "; ".join(f"{key}: {why}" for key, why in skipped[:5]))
    path = write_pickle(path, annotations, names, layout, stream=stream)
    log.info("exported %d skeleton annotations of task %s to %s (%d seizures left out)", len(annotations), task, path, len(skipped))
    return SkeletonExport(path, len(annotations), names, tuple(skipped))


def _task_value(seizure: Seizure, task: str) -> str | None:
    if task == SEIZURE_TYPE_COLUMN:
        return seizure.seizure_type
    if task == EVENT_KIND_COLUMN:
        return seizure.event_kind
    return next((label.value for label in seizure.task_labels if label.task == task), None)
