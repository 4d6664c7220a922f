"""Keypoints made elsewhere, into this project's records and cache: one entry point for every format.

A manifest's `keypoints` column names a cache file (`.npz`), an NTU RGB+D / Kinect v2 `.skeleton`
file, OpenPose JSON (a folder of per-frame files, or one file) or a pyskl / mmaction2 pickle
(`.pkl`, the annotation whose `frame_dir` is the row's seizure id). `load_keypoint_file` reads
any of them as a `SeizureRecord`; `import_keypoints` writes the records of a row source into a
cache folder, so that studies, screening and the action stream read them like extracted ones.
Cached records are tagged with the file's fingerprint: a changed file is imported again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from semiology.config import config_hash
from semiology.errors import SemiologyError
from semiology.io.cache import cache_path, load_record, save_record, stale_reason
from semiology.io.fingerprint import inputs_hash
from semiology.io.manifest import ManifestRow
from semiology.io.ntu_skeleton import SkeletonFileError, read_ntu_skeleton
from semiology.io.openpose import read_openpose
from semiology.io.pyskl import annotation_keypoints, read_pickle
from semiology.layouts.body import COCO_17, NTU_25
from semiology.records import SIGN_SPANS, Keypoints, SeizureRecord

KINECT_V2_FPS = 30.0
"""Kinect v2 (NTU RGB+D) skeletons are tracked at 30 frames/s; `.skeleton` files store no rate."""
IMPORT_VERSION = 1
"""Bumped when a reader changes what it makes of a file, so imported caches are made again."""


def keypoint_format(path: Path) -> str:
    """`cache`, `ntu`, `openpose` or `pyskl`, from the path's suffix (a folder is OpenPose per-frame JSON)."""
    suffix = path.suffix.lower()
    if path.is_dir() or suffix == ".json":
        return "openpose"
    formats = {".npz": "cache", ".skeleton": "ntu", ".pkl": "pyskl"}
    if suffix not in formats:
        raise SkeletonFileError(f"{path}: unknown keypoint format {suffix!r} (expected .npz, .skeleton, .json, a folder of OpenPose .json or .pkl)")
    return formats[suffix]


def _pyskl_keypoints(path: Path, seizure_id: str, fps: float | None) -> Keypoints:
    content = read_pickle(path)
    entries = [entry for entry in content["annotations"] if str(entry.get("frame_dir")) == seizure_id]
    if not entries:
        raise SkeletonFileError(f"{path}: no annotation with frame_dir {seizure_id!r} ({len(content['annotations'])} annotations)")
    return annotation_keypoints(entries[0], content["layout"], fps, path)


def load_keypoint_file(path: str | Path, seizure_id: str, fps: float | None = None) -> SeizureRecord:
    """The keypoints in `path` as a record of `seizure_id` (times and labels empty: the manifest row supplies them).

    `fps` is required for OpenPose (its files carry no rate) and for pyskl pickles without an
    `fps` entry; `.skeleton` files default to the Kinect's 30 frames/s.
    """
    path = Path(path)
    kind = keypoint_format(path)
    if kind == "cache":
        return load_record(path)
    body_2d = body_3d = None
    if kind == "ntu":
        skeleton = read_ntu_skeleton(path)
        rate = fps or KINECT_V2_FPS
        source = f"kinect_v2:{path.name}"
        body_3d = Keypoints(skeleton.points_mm, skeleton.confidence, NTU_25.name, rate, source)
        body_2d = Keypoints(skeleton.colour_px, skeleton.confidence, NTU_25.name, rate, source)
    elif kind == "openpose":
        if fps is None:
            raise SkeletonFileError(f"{path}: OpenPose JSON carries no frame rate; give fps (the manifest's fps column)")
        coords, confidence = read_openpose(path)
        body_2d = Keypoints(coords, confidence, COCO_17.name, fps, f"openpose:{path.name}")
    else:
        keypoints = _pyskl_keypoints(path, seizure_id, fps)
        body_2d, body_3d = (keypoints, None) if keypoints.coords.shape[-1] == 2 else (None, keypoints)
    rate = (body_2d or body_3d).fps  # type: ignore[union-attr]
    return SeizureRecord(seizure_id=seizure_id, subject_id="", fps=rate, onset_s=0.0, offset_s=0.0, labels={},
                         body_2d=body_2d, body_3d=body_3d, meta={"imported_from": kind})


def row_record(row: ManifestRow) -> SeizureRecord:
    """The manifest row's keypoint file as its record: the row's ids, times, labels, view and (from the label store) sign spans win over the file's."""
    if "keypoints" not in row.paths:
        raise SkeletonFileError(f"row {row.row_number} (seizure_id {row.seizure_id!r}): column 'keypoints' is empty")
    record = load_keypoint_file(row.paths["keypoints"], row.seizure_id, row.fps)
    record.seizure_id, record.subject_id = row.seizure_id, row.subject_id
    record.onset_s, record.offset_s, record.generalisation_s = row.onset_s, row.offset_s, row.generalisation_s
    record.labels = {**record.labels, **row.labels}
    record.meta = {**record.meta, **row.view_meta}
    if row.sign_spans is not None:
        record.meta.pop(SIGN_SPANS, None)
        if row.sign_spans:
            record.meta[SIGN_SPANS] = {term: [[start, end] for start, end in spans] for term, spans in row.sign_spans.items()}
    return record


@dataclass
class ImportSummary:
    """What `import_keypoints` did: records written, skipped (cached from the same file), failed with the reason."""

    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def import_keypoints(rows: Iterable[ManifestRow], cache_dir: str | Path) -> ImportSummary:
    """Write each row's keypoint file (NTU, OpenPose, pyskl) into `cache_dir` as a record; bad files are listed, the rest go on."""
    summary = ImportSummary()
    settings = config_hash({"import_keypoints": IMPORT_VERSION})
    for row in rows:
        path = row.paths.get("keypoints")
        if path is None:
            summary.failed.append((row.seizure_id, "column 'keypoints' is empty"))
            continue
        made_from = inputs_hash({"seizure_id": row.seizure_id, "fps": row.fps, "view": row.view}, {"keypoints": path})
        target = cache_path(cache_dir, row.seizure_id)
        if stale_reason(target, settings, made_from) is None:
            summary.skipped.append(row.seizure_id)
            continue
        try:
            save_record(row_record(row), target, settings, input_hash=made_from)
        except (SemiologyError, OSError, ValueError) as error:
            summary.failed.append((row.seizure_id, str(error)))
            continue
        summary.written.append(row.seizure_id)
    return summary
