"""The extraction cache: one NPZ file per seizure, tagged with its cache version and config hash.

Extraction (reading video, detecting and lifting keypoints, encoding crops) is slow and runs
once per recording; modelling reads these files. Each file holds every array of a
`SeizureRecord` plus a JSON meta entry (ids, times, labels, stream layouts, `cache_version`,
`config_hash`, semiology version), so a cache made by other code or another config is detected
as stale instead of being silently reused.

Arrays inside `record.meta` (the per-frame patient boxes, track ids and crop boxes extraction
records, see `semiology.extract.recording.tracking_meta`) are stored as arrays of their own,
named `meta/<key>/<key>…`, with a `{"__array__": name}` marker in the JSON where they were, and
put back on reading. Files written before there were such arrays read as they always did.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from semiology import __version__
from semiology.errors import CacheError, StaleCacheError
from semiology.io.atomic import atomic_path
from semiology.records import Keypoints, SeizureRecord

CACHE_VERSION = 1

_META_KEY = "meta"
_META_ARRAY = "__array__"
_KEYPOINT_STREAMS = ("body_3d", "body_2d", "face_2d")
_ARRAY_FIELDS = ("body_crops", "face_crops", "body_features", "face_features")
_UNSAFE_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")
_READ_ERRORS = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error)


def cache_path(cache_dir: str | Path, seizure_id: str) -> Path:
    """The cache file of a seizure: its id made safe for a file name, still readable.

    Characters outside letters, digits, `.`, `_` and `-` become `_`; when that changes the id, a
    short hash of the original is appended so that two ids never share a file.
    """
    if not seizure_id:
        raise ValueError("seizure_id must be a non-empty string")
    stem = _UNSAFE_CHARACTERS.sub("_", seizure_id)
    if stem.startswith("."):
        stem = "_" + stem[1:]
    if stem != seizure_id:
        stem += "-" + hashlib.sha256(seizure_id.encode("utf-8")).hexdigest()[:8]
    return Path(cache_dir) / f"{stem}.npz"


def save_record(record: SeizureRecord, path: str | Path, config_hash: str, input_hash: str | None = None) -> Path:
    """Write `record` to `path` atomically and return the path.

    Written through `atomic_path`, so an interrupted run leaves either the old file or the new
    one, never half of one. `record.meta` must be JSON-able (numpy scalars and arrays become numbers and lists,
    tuples come back as lists).
    """
    path = Path(path)
    arrays: dict[str, np.ndarray] = {}
    streams: dict[str, dict[str, Any]] = {}
    for name in _KEYPOINT_STREAMS:
        keypoints: Keypoints | None = getattr(record, name)
        if keypoints is not None:
            arrays[f"{name}.coords"] = keypoints.coords
            arrays[f"{name}.confidence"] = keypoints.confidence
            streams[name] = {"layout": keypoints.layout, "fps": float(keypoints.fps), "source": keypoints.source}
    for name in _ARRAY_FIELDS:
        array = getattr(record, name)
        if array is not None:
            arrays[name] = np.asarray(array)
    meta_arrays: dict[str, np.ndarray] = {}
    record_meta = _split_arrays(record.meta, "meta", meta_arrays)
    arrays.update(meta_arrays)
    meta = {
        "cache_version": CACHE_VERSION,
        "config_hash": config_hash,
        "input_hash": input_hash,
        "semiology_version": __version__,
        "seizure_id": record.seizure_id,
        "subject_id": record.subject_id,
        "fps": float(record.fps),
        "onset_s": float(record.onset_s),
        "offset_s": float(record.offset_s),
        "generalisation_s": None if record.generalisation_s is None else float(record.generalisation_s),
        "labels": dict(record.labels),
        "synthetic": bool(record.synthetic),
        "meta": record_meta,
        "streams": streams,
        "arrays": sorted(arrays),
    }
    try:
        meta_json = json.dumps(meta, default=_json_default)
    except (TypeError, ValueError) as exc:
        raise CacheError(f"{path}: record.meta of seizure '{record.seizure_id}' is not JSON-able ({exc})") from None

    with atomic_path(path) as temporary, temporary.open("wb") as handle:
        np.savez_compressed(handle, **{_META_KEY: np.array(meta_json)}, **arrays)
        handle.flush()
        os.fsync(handle.fileno())
    return path


def load_record(path: str | Path, expected_config_hash: str | None = None) -> SeizureRecord:
    """Read a cached record back exactly as saved (arrays, NaNs, absent streams).

    Raises `StaleCacheError` when the file was written by another cache version or, when
    `expected_config_hash` is given, by another config; `CacheError` when it is missing or corrupt.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            meta = _parse_meta(archive, path)
            _check_fresh(meta, path, expected_config_hash)
            missing = [name for name in meta["arrays"] if name not in archive.files]
            if missing:
                raise CacheError(f"{path}: corrupt cache file: arrays {missing} listed in its meta are absent")
            arrays = {name: archive[name] for name in meta["arrays"]}
    except FileNotFoundError:
        raise CacheError(f"{path}: cache file not found") from None
    except _READ_ERRORS as exc:
        raise CacheError(f"{path}: unreadable or corrupt cache file ({type(exc).__name__}: {exc})") from None

    try:
        streams = {
            name: Keypoints(
                coords=arrays[f"{name}.coords"],
                confidence=arrays[f"{name}.confidence"],
                layout=info["layout"],
                fps=info["fps"],
                source=info["source"],
            )
            for name, info in meta["streams"].items()
        }
        return SeizureRecord(
            seizure_id=meta["seizure_id"],
            subject_id=meta["subject_id"],
            fps=meta["fps"],
            onset_s=meta["onset_s"],
            offset_s=meta["offset_s"],
            labels=meta["labels"],
            generalisation_s=meta["generalisation_s"],
            synthetic=meta["synthetic"],
            meta=_join_arrays(meta["meta"], arrays, path),
            **streams,
            **{name: arrays.get(name) for name in _ARRAY_FIELDS},
        )
    except (KeyError, TypeError, ValueError) as exc:
        reason = f"{type(exc).__name__}: {exc}"
        raise CacheError(f"{path}: corrupt cache file: cannot rebuild the record ({reason})") from None


def is_cached(path: str | Path, config_hash: str, input_hash: str | None = None) -> bool:
    """Whether `path` holds a readable record of this cache version made with `config_hash` (and, when given, from inputs hashing to `input_hash`).

    Reads only the meta entry, so checking a whole cohort before resuming work is cheap.
    """
    return stale_reason(path, config_hash, input_hash) is None


def stale_reason(path: str | Path, config_hash: str, input_hash: str | None = None) -> str | None:
    """Why the record at `path` cannot be reused (`not cached`, `unreadable`, `made by another cache version`, `config changed`, `inputs changed`), or None when it can."""
    path = Path(path)
    if not path.is_file():
        return "not cached"
    try:
        with np.load(path, allow_pickle=False) as archive:
            meta = _parse_meta(archive, path)
    except (CacheError, *_READ_ERRORS):
        return "unreadable"
    if meta.get("cache_version") != CACHE_VERSION:
        return "made by another cache version"
    if meta.get("config_hash") != config_hash:
        return "config changed"
    if input_hash is not None and meta.get("input_hash") != input_hash:
        return "inputs changed"
    return None


def _parse_meta(archive: Any, path: Path) -> dict[str, Any]:
    if _META_KEY not in archive.files:
        raise CacheError(f"{path}: not a semiology cache file (no '{_META_KEY}' entry)")
    try:
        meta = json.loads(str(archive[_META_KEY]))
    except json.JSONDecodeError as exc:
        raise CacheError(f"{path}: corrupt cache file: meta is not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("arrays"), list):
        raise CacheError(f"{path}: corrupt cache file: meta has no list of arrays")
    return meta


def _check_fresh(meta: dict[str, Any], path: Path, expected_config_hash: str | None) -> None:
    version = meta.get("cache_version")
    if version != CACHE_VERSION:
        raise StaleCacheError(
            f"{path}: stale cache: written as cache version {version}, this semiology "
            f"({__version__}) reads version {CACHE_VERSION}; extract it again"
        )
    found = meta.get("config_hash")
    if expected_config_hash is not None and found != expected_config_hash:
        raise StaleCacheError(
            f"{path}: stale cache: made with config hash {str(found)[:12]}, "
            f"the current config hashes to {expected_config_hash[:12]}; extract it again"
        )


def _split_arrays(value: Any, name: str, arrays: dict[str, np.ndarray]) -> Any:
    """`value` with every numpy array of at least one dimension replaced by a marker; the arrays go into `arrays` by name."""
    if isinstance(value, np.ndarray) and value.ndim > 0:
        if value.dtype == object:
            raise CacheError(f"record.meta entry {name!r} is an object array; only numeric and boolean arrays can be cached")
        arrays[name] = value
        return {_META_ARRAY: name}
    if isinstance(value, dict):
        return {key: _split_arrays(item, f"{name}/{key}", arrays) for key, item in value.items()}
    return value


def _join_arrays(value: Any, arrays: dict[str, np.ndarray], path: Path) -> Any:
    """The meta with each array marker replaced by its array (the inverse of `_split_arrays`)."""
    if isinstance(value, dict):
        if set(value) == {_META_ARRAY}:
            name = value[_META_ARRAY]
            if name not in arrays:
                raise CacheError(f"{path}: corrupt cache file: meta array {name!r} is absent")
            return arrays[name]
        return {key: _join_arrays(item, arrays, path) for key, item in value.items()}
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"object of type {type(value).__name__} is not JSON-able")
