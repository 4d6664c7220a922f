"""The live output: JSON lines (stdout or a file), each line written whole and flushed at once.

A reader tailing the file, or a process killed mid-run, sees only complete lines: every
decision is on disk (or in the pipe) as soon as it is made, and a stopped session still ends
with its `end` line.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import IO, Any

from semiology.errors import SemiologyError


def _plain(value: Any) -> Any:
    """`value` with non-finite floats as None, so that every line is standard JSON."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class JsonLines:
    """Writes one JSON object per line to `path` (created anew) or to stdout when `path` is None."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        if path is None:
            self._handle: IO[str] = sys.stdout
        else:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._handle = path.open("w", encoding="utf-8")
            except OSError as error:
                raise SemiologyError(f"{path}: cannot write the live output ({error.strerror})") from None
        self.lines = 0

    def write(self, event: dict[str, Any]) -> None:
        self._handle.write(json.dumps(_plain(event), sort_keys=True, allow_nan=False) + "\n")
        self._handle.flush()
        self.lines += 1

    def close(self) -> None:
        if self.path is not None:
            self._handle.close()
