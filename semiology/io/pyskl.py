"""pyskl / mmaction2 skeleton pickles: read their annotations as keypoints, write records as annotations.

The pickle is the dict both toolkits read for skeleton-based action recognition:
`{"split": {name: [frame_dir, ...]}, "annotations": [{"frame_dir", "label", "total_frames",
"keypoint" [M, T, V, C], "keypoint_score" [M, T, V], "img_shape", ...}]}`. Toolkits write a
missing joint as 0 with score 0; here it is NaN with confidence 0 again. The layout is the
pickle's own `layout` when it names one (this project writes it), else told from the number of
joints: 17 is COCO-17 (pyskl's HRNet 2D), 25 is NTU-25 (Kinect 3D). Of several persons (M > 1)
the one with the highest total score is the patient. pyskl keeps no frame rate; an annotation's
own `fps` (written here) is used, else the caller's.

`annotation` and `write_pickle` are also what the label store's export (`semiology.store.pyskl`)
writes with.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from semiology.io.atomic import atomic_path
from semiology.io.ntu_skeleton import SkeletonFileError
from semiology.layouts import get_layout
from semiology.records import Keypoints, SeizureRecord

PICKLE_PROTOCOL = 4
LAYOUT_BY_JOINTS = {17: "coco_17", 25: "ntu_25"}


def image_shape(keypoints: Keypoints) -> tuple[int, int] | None:
    """The smallest frame (height, width) holding every detected 2D joint; None for 3D keypoints."""
    if keypoints.coords.shape[-1] != 2:
        return None
    seen = keypoints.coords[np.isfinite(keypoints.coords).all(axis=-1) & (keypoints.confidence > 0)]
    if len(seen) == 0:
        return (1, 1)
    return (math.ceil(float(seen[:, 1].max())) + 1, math.ceil(float(seen[:, 0].max())) + 1)


def annotation(frame_dir: str, keypoints: Keypoints, label: int, **extra: Any) -> dict[str, Any]:
    """One pyskl annotation of a keypoint sequence (one person), missing joints as 0 with score 0, plus `extra` keys."""
    coords = np.nan_to_num(keypoints.coords, nan=0.0).astype(np.float32)
    score = np.where(np.isfinite(keypoints.coords).all(axis=-1), keypoints.confidence, 0.0).astype(np.float32)
    entry: dict[str, Any] = {"frame_dir": frame_dir, "label": int(label), "total_frames": int(keypoints.num_frames),
                             "keypoint": coords[None], "keypoint_score": score[None], "fps": float(keypoints.fps), **extra}
    shape = image_shape(keypoints)
    if shape is not None:
        entry["img_shape"] = shape
        entry["original_shape"] = shape
    return entry


def write_pickle(path: str | Path, annotations: Sequence[dict[str, Any]], label_names: Sequence[str], layout: str, **extra: Any) -> Path:
    """Write annotations as a pyskl pickle (atomically), with an `all` split and one split per `subject`."""
    split: dict[str, list[str]] = {"all": [entry["frame_dir"] for entry in annotations]}
    for entry in annotations:
        if "subject" in entry:
            split.setdefault(f"sub-{entry['subject']}", []).append(entry["frame_dir"])
    data = {"split": split, "annotations": list(annotations), "label_names": list(label_names), "layout": layout,
            "joint_names": list(get_layout(layout).joint_names), **extra}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temporary, temporary.open("wb") as handle:
        pickle.dump(data, handle, protocol=PICKLE_PROTOCOL)
    return path


def write_records(path: str | Path, records: Sequence[SeizureRecord], task: str, stream: str = "body_2d", classes: Sequence[str] | None = None) -> Path:
    """Cached records as a pyskl pickle of `task` on keypoint `stream`; a record without the label or the stream is an error naming it."""
    names = list(classes) if classes is not None else sorted({r.labels[task] for r in records if task in r.labels})
    problems = []
    for record in records:
        if getattr(record, stream) is None:
            problems.append(f"seizure {record.seizure_id!r}: no {stream} keypoints")
        if record.labels.get(task) not in names:
            problems.append(f"seizure {record.seizure_id!r}: {task} is {record.labels.get(task)!r}, not one of {names}")
    layouts = {getattr(r, stream).layout for r in records if getattr(r, stream) is not None}
    if len(layouts) > 1:
        problems.append(f"{stream} keypoints in several layouts ({sorted(layouts)}); write one layout at a time")
    if problems or not records:
        raise SkeletonFileError(f"{path}: cannot write the pyskl pickle: " + ("; ".join(problems) or "no records"))
    entries = [
        annotation(r.seizure_id, getattr(r, stream), names.index(r.labels[task]), subject=r.subject_id,
                   **{key: value for key, value in r.meta.items() if key in ("view", "view_of")})
        for r in records
    ]
    return write_pickle(path, entries, names, layouts.pop(), stream=stream)


def read_pickle(path: str | Path) -> dict[str, Any]:
    """A pyskl pickle's content, checked to hold a list of annotations with keypoints."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            content = pickle.load(handle)  # noqa: S301 - a skeleton pickle the user names, as pyskl itself reads it
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError) as error:
        raise SkeletonFileError(f"{path}: not readable as a pyskl pickle ({type(error).__name__}: {error})") from None
    annotations = content.get("annotations") if isinstance(content, Mapping) else content
    if not isinstance(annotations, list) or not all(isinstance(entry, Mapping) and "keypoint" in entry for entry in annotations):
        raise SkeletonFileError(f"{path}: no list of annotations with 'keypoint' arrays: not a pyskl skeleton pickle")
    return {"annotations": annotations, "layout": content.get("layout") if isinstance(content, Mapping) else None}


def annotation_keypoints(entry: Mapping[str, Any], layout: str | None, fps: float | None, path: Path) -> Keypoints:
    """The patient's keypoints of one annotation (the person with the highest total score)."""
    where = f"{path}: annotation {entry.get('frame_dir')!r}"
    keypoint = np.asarray(entry["keypoint"], dtype=np.float32)
    if keypoint.ndim != 4 or keypoint.shape[-1] not in (2, 3):
        raise SkeletonFileError(f"{where}: keypoint has shape {keypoint.shape}, expected [M, T, V, 2|3]")
    score = np.asarray(entry.get("keypoint_score", np.ones(keypoint.shape[:3])), dtype=np.float32)
    if score.shape != keypoint.shape[:3]:
        raise SkeletonFileError(f"{where}: keypoint_score has shape {score.shape}, keypoint {keypoint.shape}")
    layout = layout or LAYOUT_BY_JOINTS.get(keypoint.shape[2])
    if layout is None or get_layout(layout).num_joints != keypoint.shape[2]:
        raise SkeletonFileError(f"{where}: {keypoint.shape[2]} joints and no layout of that size (known by size: {LAYOUT_BY_JOINTS})")
    rate = entry.get("fps", fps)
    if rate is None:
        raise SkeletonFileError(f"{where}: pyskl keeps no frame rate; give fps (the manifest's fps column)")
    person = int(np.argmax(score.reshape(score.shape[0], -1).sum(axis=1)))
    confidence = np.clip(score[person], 0.0, 1.0)
    coords = np.where((confidence > 0)[..., None], keypoint[person], np.nan)
    return Keypoints(coords, confidence, layout, float(rate), f"pyskl:{path.name}")
