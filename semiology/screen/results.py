"""The screening results file: JSON lines, one per recording, appended atomically and resumable.

Each row is written as one `write` of a complete line followed by `flush` and `fsync`, so a
run killed at any moment leaves every finished row on disk and at most one torn last line.
Opening the file again detects a torn last line (no newline, or not valid JSON), cuts it
off and reports it. A recording screened again (its inputs or the bundle changed) appends a
newer row; the last row of an id is the one that counts, and `compact` rewrites the file
(atomically) with that row alone, so each recording ends with exactly one row.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from semiology.errors import SemiologyError
from semiology.io.atomic import atomic_path


class ResultsFileError(SemiologyError):
    """A results file whose finished rows cannot be read (not a torn last line: a damaged file)."""


class ResultsLog:
    """Append-only JSON-lines results keyed by `seizure_id`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.rows: dict[str, dict[str, Any]] = {}
        self.repaired_bytes = 0
        self.superseded = 0
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        complete = data.rfind(b"\n") + 1
        lines = data[:complete].split(b"\n")[:-1]
        torn = complete < len(data)
        for number, line in enumerate(lines, start=1):
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                if number == len(lines) and not torn:
                    complete -= len(line) + 1
                    torn = True
                    break
                raise ResultsFileError(f"{self.path}: line {number} is not valid JSON ({exc}); the file is damaged beyond a torn last line") from None
            self.superseded += row["seizure_id"] in self.rows
            self.rows[row["seizure_id"]] = row
        if torn:
            self.repaired_bytes = len(data) - complete
            with self.path.open("r+b") as handle:
                handle.truncate(complete)
                handle.flush()
                os.fsync(handle.fileno())

    def __contains__(self, seizure_id: str) -> bool:
        return seizure_id in self.rows

    def append(self, row: dict[str, Any]) -> None:
        """Write one row durably (a whole line, flushed and fsync'd) and remember it."""
        line = (json.dumps(row, sort_keys=True, allow_nan=True) + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        self.superseded += row["seizure_id"] in self.rows
        self.rows[row["seizure_id"]] = row

    def compact(self) -> None:
        """Rewrite the file atomically with the last row of each recording only (after rows were superseded)."""
        with atomic_path(self.path) as temporary:
            temporary.write_bytes(b"".join((json.dumps(row, sort_keys=True, allow_nan=True) + "\n").encode("utf-8") for row in self.rows.values()))
        self.superseded = 0
