"""Fingerprints of the inputs a result was made from, so that a rerun can tell what changed.

A recording can be gigabytes; hashing all of it on every rerun would cost more than the check
saves. A file's fingerprint is its size, its modification time and a SHA-256 of its first and
last mebibyte: a replaced, re-encoded, truncated or appended file changes it. A folder of frames
is fingerprinted by its file names, sizes and times.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SAMPLE_BYTES = 1 << 20


def file_fingerprint(path: str | Path) -> str:
    """The fingerprint of a file or a folder of files; `missing` when there is nothing at `path`."""
    path = Path(path)
    digest = hashlib.sha256()
    if path.is_dir():
        for member in sorted(path.iterdir()):
            if member.is_file():
                stat = member.stat()
                digest.update(f"{member.name}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
        return "dir:" + digest.hexdigest()
    if not path.is_file():
        return "missing"
    stat = path.stat()
    digest.update(f"{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    with path.open("rb") as handle:
        digest.update(handle.read(SAMPLE_BYTES))
        if stat.st_size > 2 * SAMPLE_BYTES:
            handle.seek(-SAMPLE_BYTES, 2)
            digest.update(handle.read(SAMPLE_BYTES))
    return "file:" + digest.hexdigest()


def inputs_hash(fields: Mapping[str, Any], files: Mapping[str, str | Path]) -> str:
    """SHA-256 of some named values (a manifest row's times and labels) and the fingerprints of some named files."""
    payload = {"fields": {key: fields[key] for key in sorted(fields)}, "files": {key: file_fingerprint(files[key]) for key in sorted(files)}}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def content_sha256(path: str | Path) -> str | None:
    """SHA-256 (hex) of every byte of a file, or of a folder's files (each relative name, a NUL, its bytes, in name order); None when absent.

    For what must change whenever any byte does (a model bundle, a recording's checksum in the
    label store), where `file_fingerprint`'s sample would not do.
    """
    path = Path(path)
    if path.is_file():
        files = [(None, path)]
    elif path.is_dir():
        files = sorted((str(item.relative_to(path)), item) for item in path.rglob("*") if item.is_file())
    else:
        return None
    digest = hashlib.sha256()
    for name, item in files:
        if name is not None:
            digest.update(name.encode("utf-8") + b"\0")
        with item.open("rb") as handle:
            for block in iter(lambda: handle.read(SAMPLE_BYTES), b""):
                digest.update(block)
    return digest.hexdigest()
