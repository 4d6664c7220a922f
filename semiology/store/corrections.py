"""People's keypoint corrections applied to a cached keypoint record, so that training reads the corrected joints.

A correction (`labels.add_keypoint_correction`, made in the review app by dragging a joint on a
paused frame) names a recording, a frame, a layout and a joint. `corrected_record` writes the
newest correction of each (frame, layout, joint) into the stream of that layout (2D positions
into a 2D stream, 3D into a 3D one) with confidence 1, and records which corrections it applied
and their digest in `meta["keypoint_corrections"]`: a cache rebuilt with other corrections has
another input hash (`corrections_digest`), so a stale corrected cache is never reused.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from semiology.io.cache import cache_path, load_record, save_record
from semiology.layouts import get_layout
from semiology.records import SeizureRecord
from semiology.store.database import Store
from semiology.store.errors import StoreError
from semiology.store.schema import KeypointCorrection, Recording, Seizure

_STREAMS = ("body_2d", "body_3d", "face_2d")


@dataclass(frozen=True)
class JointCorrection:
    """One corrected joint position: frame, layout, joint name and (x, y) pixels or (x, y, z) millimetres."""

    frame: int
    layout: str
    joint: str
    position: tuple[float, ...]


def seizure_corrections(session: Session, seizure: Seizure, modality: str = "keypoints") -> list[JointCorrection]:
    """The newest correction of each (frame, layout, joint) of the seizure's keypoint recording, in frame order."""
    rows = session.scalars(
        select(KeypointCorrection).join(Recording, KeypointCorrection.recording_id == Recording.id)
        .where(Recording.seizure_id == seizure.id, Recording.modality == modality).order_by(KeypointCorrection.id)
    ).all()
    newest: dict[tuple[int, str, str], JointCorrection] = {}
    for row in rows:
        position = (row.x, row.y) if row.z is None else (row.x, row.y, row.z)
        newest[(row.frame, row.layout, row.joint)] = JointCorrection(row.frame, row.layout, row.joint, position)
    return sorted(newest.values(), key=lambda item: (item.frame, item.layout, item.joint))


def corrections_digest(corrections: Sequence[JointCorrection]) -> str:
    """A hash of the corrections (part of a corrected cache's input hash)."""
    payload = json.dumps([[c.frame, c.layout, c.joint, list(c.position)] for c in corrections], separators=(",", ":"))
    return "sha256:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()


def corrected_record(record: SeizureRecord, corrections: Sequence[JointCorrection]) -> SeizureRecord:
    """A copy of `record` with every correction written into the stream of its layout and dimension; the record is not changed.

    A correction whose layout or dimension no stream has, or whose frame the stream lacks, is an
    error naming the seizure and the correction (never silently skipped).
    """
    corrected = copy.deepcopy(record)
    for item in corrections:
        target = None
        for name in _STREAMS:
            stream = getattr(corrected, name)
            if stream is not None and stream.layout == item.layout and stream.coords.shape[-1] == len(item.position):
                target = stream
                break
        where = f"seizure {record.seizure_id!r}: correction of {item.joint!r} in frame {item.frame}"
        if target is None:
            raise StoreError(f"{where}: the record has no {len(item.position)}D stream of layout {item.layout!r}")
        if not 0 <= item.frame < target.num_frames:
            raise StoreError(f"{where}: outside the record's frames 0 to {target.num_frames - 1}")
        joint = list(get_layout(item.layout).joint_names).index(item.joint)
        target.coords[item.frame, joint] = item.position
        target.confidence[item.frame, joint] = 1.0
    corrected.meta = {**corrected.meta, "keypoint_corrections": {"count": len(corrections), "digest": corrections_digest(corrections)}}
    return corrected


def cached_config_hash(path: Path) -> str:
    """The config hash a cache file was written with (its meta entry), kept when the corrected copy is written."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            return str(json.loads(str(archive["meta"]))["config_hash"])
    except (OSError, KeyError, ValueError) as exc:
        raise StoreError(f"{path}: not a readable cache file ({exc})") from None


def write_corrected_cache(store: Store, cache_dir: str | Path, out_dir: str | Path) -> tuple[list[Path], list[str]]:
    """Write every stored seizure's cached record, corrections applied, into `out_dir` (same file names, same config hash).

    The corrections' digest is the copy's input hash, so training on `out_dir` reads the corrected
    joints and a later rebuild with other corrections replaces the file. Returns the files written
    and the seizures that have no cached record in `cache_dir` (the others are written regardless).
    """
    source, target = Path(cache_dir), Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    written, missing = [], []
    with store.session() as session:
        for seizure in session.scalars(select(Seizure).order_by(Seizure.seizure_key)):
            path = cache_path(source, seizure.seizure_key)
            if not path.is_file():
                missing.append(seizure.seizure_key)
                continue
            corrections = seizure_corrections(session, seizure)
            record = corrected_record(load_record(path), corrections)
            written.append(save_record(record, target / path.name, cached_config_hash(path), input_hash=corrections_digest(corrections)))
    return written, missing
