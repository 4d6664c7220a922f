"""The manifest: one row per seizure recording, read from CSV or YAML and checked in one pass.

Columns: `seizure_id` and `subject_id` (required), the modality paths `ir`, `depth`, `rgb` and
`keypoints` (each optional, at least one per row; relative paths are taken from the manifest's
folder), `fps` (optional), the clinical times `onset_s` and `offset_s` (required, seconds from
the first frame) and `generalisation_s` (optional). Every other column is a task label
(`seizure_type`, `dystonia`, `emotion`, ...); an empty label cell means the label is unknown.

`view` (optional) names the camera of a seizure filmed by several: rows of one `seizure_id`
with different views are that seizure's recordings. Each such row's own id is
`<seizure_id>.<view>` (its cache file, its features), `view_of` is the seizure, and GESTURES
averages the views' predictions into one per seizure (`semiology.models.gestures`).

`keypoints` names keypoints made elsewhere: a cache file (`.npz`), an NTU RGB+D / Kinect
`.skeleton` file, OpenPose JSON (one file, or a folder of one file per frame) or a pyskl /
mmaction2 pickle (`.pkl`); `semiology.io.skeletons.load_keypoint_file` reads each.

A bad manifest raises one `ManifestError` listing every problem, so a person fixes them all at once.
"""

from __future__ import annotations

import csv
import difflib
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from semiology.errors import ManifestError

MODALITIES: tuple[str, ...] = ("ir", "depth", "rgb", "keypoints")
VIDEO_MODALITIES: tuple[str, ...] = ("ir", "rgb", "depth")
"""The modalities that are videos (the rest are files made from them), in the order a reader prefers them."""
REQUIRED_COLUMNS: tuple[str, ...] = ("seizure_id", "subject_id", "onset_s", "offset_s")
TIME_COLUMNS: tuple[str, ...] = ("onset_s", "offset_s", "generalisation_s")
RESERVED_COLUMNS: tuple[str, ...] = ("seizure_id", "subject_id", *MODALITIES, "fps", *TIME_COLUMNS, "view")

_VIDEO_EXTENSIONS = frozenset({".mp4", ".avi", ".mkv", ".mov", ".m4v", ".mpg", ".mpeg", ".asf", ".wmv", ".webm"})
_ARRAY_EXTENSIONS = frozenset({".npy", ".npz"})
KEYPOINT_EXTENSIONS = frozenset({".npz", ".skeleton", ".json", ".pkl"})
"""What `semiology.io.skeletons.load_keypoint_file` reads: cache files, NTU skeletons, OpenPose JSON, pyskl pickles."""
MODALITY_EXTENSIONS: Mapping[str, frozenset[str]] = {
    "ir": _VIDEO_EXTENSIONS | _ARRAY_EXTENSIONS,
    "depth": _VIDEO_EXTENSIONS | _ARRAY_EXTENSIONS,
    "rgb": _VIDEO_EXTENSIONS | _ARRAY_EXTENSIONS,
    "keypoints": KEYPOINT_EXTENSIONS,
}
"""File extensions accepted per modality; a path without an extension is a folder (an image
sequence, or one keypoint JSON per frame as OpenPose writes them)."""

_YAML_NULLS = frozenset({"", "~", "null", "Null", "NULL"})


@dataclass(frozen=True)
class ManifestRow:
    """One seizure recording as listed in the manifest; `paths` are absolute, keyed by modality.

    `sign_spans` are the annotated spans of each sign term: rows read from the label store
    carry its trusted sign labels (a dict, empty when it holds none, and then a record's cached
    spans are dropped: the store is the authority); None where the source keeps no spans (a
    CSV manifest), which leaves a cached record's own spans as they are.
    """

    seizure_id: str
    subject_id: str
    paths: dict[str, Path]
    fps: float | None
    onset_s: float
    offset_s: float
    generalisation_s: float | None = None
    labels: dict[str, str] = field(default_factory=dict)
    row_number: int = 0
    view: str | None = None
    view_of: str | None = None
    sign_spans: dict[str, list[tuple[float, float]]] | None = None

    @property
    def view_meta(self) -> dict[str, str]:
        """`{"view", "view_of"}` for a record of one camera view of a seizure, else empty."""
        return {} if self.view is None or self.view_of is None else {"view": self.view, "view_of": self.view_of}


@dataclass
class _RawRow:
    row_number: int
    cells: dict[str, str | None]


def load_manifest(
    path: str | Path,
    label_values: Mapping[str, Sequence[str]] | None = None,
    check_files: bool = True,
) -> list[ManifestRow]:
    """Read and validate a manifest (`.csv`, `.yaml` or `.yml`).

    Row numbers in messages and in `ManifestRow.row_number` are those a person counts in the
    file: for CSV the line number, so the header is row 1 and the first seizure row 2 (blank
    lines and lines starting with `#` are skipped); for YAML the position in the list, from 1.
    `label_values` maps a task (a label column) to its allowed values; the column must exist
    and every non-empty cell must be one of them. `check_files=False` skips the existence check,
    e.g. to read a manifest written on another machine.
    """
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise ManifestError(f"{name}: manifest not found")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        columns, raw_rows, problems = _read_csv(path)
    elif suffix in (".yaml", ".yml"):
        columns, raw_rows, problems = _read_yaml(path)
    else:
        raise ManifestError(f"{name}: unknown manifest format '{suffix}' (expected .csv, .yaml or .yml)")

    for column in REQUIRED_COLUMNS:
        if column not in columns:
            close = difflib.get_close_matches(column, [c for c in columns if c not in RESERVED_COLUMNS], n=1)
            hint = f" (found '{close[0]}'; did you mean '{column}'?)" if close else ""
            problems.append(f"{name}: missing required column '{column}'{hint}")
    modality_columns = [m for m in MODALITIES if m in columns]
    if columns and not modality_columns:
        problems.append(f"{name}: no modality column: a manifest needs at least one of {_quoted(MODALITIES)}")
    label_values = dict(label_values or {})
    for task, allowed in label_values.items():
        if task not in columns:
            problems.append(f"{name}: missing label column '{task}' (allowed values: {_quoted(allowed)})")
    if not raw_rows:
        problems.append(f"{name}: empty manifest: no seizure rows")
    if any(column not in columns for column in REQUIRED_COLUMNS):
        raise ManifestError.from_problems(problems)

    label_columns = [c for c in columns if c not in RESERVED_COLUMNS]
    first_row_of: dict[str, int] = {}
    rows: list[ManifestRow] = []
    for raw in raw_rows:
        row = _validate_row(raw, path, columns, label_columns, label_values, check_files, first_row_of)
        if isinstance(row, ManifestRow):
            rows.append(row)
        else:
            problems.extend(row)
    if problems:
        raise ManifestError.from_problems(problems)
    return rows


def write_manifest(rows: Iterable[ManifestRow], path: str | Path) -> Path:
    """Write rows as a manifest that `load_manifest` reads back to the same rows (CSV, or YAML by suffix).

    Paths inside the manifest's folder are written relative to it, so the folder can be moved.
    """
    path = Path(path)
    rows = list(rows)
    folder = Path(os.path.abspath(path.parent))
    modalities = [m for m in MODALITIES if any(m in row.paths for row in rows)]
    label_columns: list[str] = []
    for row in rows:
        for task in row.labels:
            if task in RESERVED_COLUMNS:
                raise ValueError(f"seizure {row.seizure_id!r}: label name {task!r} is a reserved manifest column")
            if task not in label_columns:
                label_columns.append(task)
    views = ["view"] if any(row.view is not None for row in rows) else []
    columns = ["seizure_id", "subject_id", *views, *modalities, "fps", *TIME_COLUMNS, *label_columns]

    records: list[dict[str, str]] = []
    for row in rows:
        record = {"seizure_id": row.view_of or row.seizure_id, "subject_id": row.subject_id}
        if views:
            record["view"] = row.view or ""
        for modality in modalities:
            record[modality] = _relative_path(row.paths[modality], folder) if modality in row.paths else ""
        record["fps"] = "" if row.fps is None else repr(float(row.fps))
        record["onset_s"] = repr(float(row.onset_s))
        record["offset_s"] = repr(float(row.offset_s))
        record["generalisation_s"] = "" if row.generalisation_s is None else repr(float(row.generalisation_s))
        for task in label_columns:
            record[task] = row.labels.get(task, "")
        records.append(record)

    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".yaml", ".yml"):
        entries = [{key: value for key, value in record.items() if value != ""} for record in records]
        path.write_text(yaml.safe_dump(entries, sort_keys=False, allow_unicode=True), encoding="utf-8")
    else:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(records)
    return path


def _read_csv(path: Path) -> tuple[list[str], list[_RawRow], list[str]]:
    """Header columns, data rows and structural problems of a CSV manifest."""
    name = str(path)
    problems: list[str] = []
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise ManifestError(f"{name}: cannot read manifest ({exc})") from None
    with handle:
        reader = csv.reader(handle)
        columns: list[str] | None = None
        raw_rows: list[_RawRow] = []
        previous_line = 0
        try:
            for cells in reader:
                row_number, previous_line = previous_line + 1, reader.line_num
                if not any(cell.strip() for cell in cells) or cells[0].lstrip().startswith("#"):
                    continue
                cells = [cell.strip() for cell in cells]
                if columns is None:
                    columns = cells
                    problems.extend(_header_problems(name, columns))
                    continue
                if len(cells) > len(columns):
                    problems.append(
                        f"{name}: row {row_number}: {len(cells)} values but the header has {len(columns)} columns"
                    )
                padded = cells + [""] * (len(columns) - len(cells))
                values = {column: padded[i] or None for i, column in enumerate(columns) if column}
                raw_rows.append(_RawRow(row_number, values))
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ManifestError(f"{name}: row {previous_line + 1}: not readable as CSV ({exc})") from None
    if columns is None:
        raise ManifestError(f"{name}: empty manifest: no header and no seizure rows")
    return [c for c in columns if c], raw_rows, problems


def _read_yaml(path: Path) -> tuple[list[str], list[_RawRow], list[str]]:
    """Columns (keys in first-seen order), rows and structural problems of a YAML manifest.

    Read with YAML's base loader, so every value stays the text written (`no` stays 'no').
    """
    name = str(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    except yaml.YAMLError as exc:
        raise ManifestError(f"{name}: invalid YAML ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{name}: cannot read manifest ({exc})") from None
    if data is None or data == "":
        data = []
    if not isinstance(data, list):
        raise ManifestError(f"{name}: expected a list of rows (one mapping per seizure), got a {type(data).__name__}")
    columns: list[str] = []
    raw_rows: list[_RawRow] = []
    problems: list[str] = []
    for row_number, entry in enumerate(data, start=1):
        if not isinstance(entry, dict):
            problems.append(f"{name}: row {row_number}: expected a mapping of columns to values")
            continue
        cells: dict[str, str | None] = {}
        for column, value in entry.items():
            if column not in columns:
                columns.append(column)
            if isinstance(value, (list, dict)):
                kind = type(value).__name__
                problems.append(f"{name}: row {row_number}: column '{column}': expected a single value, got a {kind}")
                value = None
            cells[column] = None if value is None or value.strip() in _YAML_NULLS else value.strip()
        raw_rows.append(_RawRow(row_number, cells))
    return columns, raw_rows, problems


def _header_problems(name: str, columns: Sequence[str]) -> list[str]:
    problems = []
    seen: set[str] = set()
    for index, column in enumerate(columns, start=1):
        if not column:
            problems.append(f"{name}: row 1: column {index} has no name")
        elif column in seen:
            problems.append(f"{name}: row 1: column '{column}' appears more than once in the header")
        seen.add(column)
    return problems


def _validate_row(
    raw: _RawRow,
    manifest: Path,
    columns: Sequence[str],
    label_columns: Sequence[str],
    label_values: Mapping[str, Sequence[str]],
    check_files: bool,
    first_row_of: dict[str, int],
) -> ManifestRow | list[str]:
    """The row, or its problems, each naming the file, row, seizure and column."""
    cells = raw.cells
    seizure_id = cells.get("seizure_id")
    where = f"{manifest}: row {raw.row_number}" + (f" (seizure_id '{seizure_id}')" if seizure_id else "")
    problems: list[str] = []

    def bad(column: str, message: str) -> None:
        problems.append(f"{where}: column '{column}': {message}")

    for column in ("seizure_id", "subject_id"):
        if column in columns and cells.get(column) is None:
            bad(column, "missing value")
    view = cells.get("view")
    record_id = seizure_id if view is None or seizure_id is None else f"{seizure_id}.{view}"
    if record_id is not None:
        if record_id in first_row_of:
            what = f"view '{view}' of seizure_id '{seizure_id}'" if view is not None else f"seizure_id '{seizure_id}'"
            bad("seizure_id" if view is None else "view", f"duplicate {what} (also row {first_row_of[record_id]})")
        else:
            first_row_of[record_id] = raw.row_number

    modality_columns = [m for m in MODALITIES if m in columns]
    paths: dict[str, Path] = {}
    for modality in modality_columns:
        text = cells.get(modality)
        if text is None:
            continue
        resolved = Path(text).expanduser()
        if not resolved.is_absolute():
            resolved = manifest.parent / resolved
        resolved = Path(os.path.abspath(resolved))
        problem = _path_problem(modality, resolved, check_files)
        if problem:
            bad(modality, problem)
        paths[modality] = resolved
    if modality_columns and not paths:
        problems.append(f"{where}: no recording: fill at least one of the columns {_quoted(modality_columns)}")

    fps = _number(cells.get("fps"), "fps", bad, positive=True)
    onset_s = _number(cells.get("onset_s"), "onset_s", bad, required="onset_s" in columns)
    offset_s = _number(cells.get("offset_s"), "offset_s", bad, required="offset_s" in columns)
    generalisation_s = _number(cells.get("generalisation_s"), "generalisation_s", bad)
    if onset_s is not None and offset_s is not None:
        if onset_s >= offset_s:
            bad("offset_s", f"offset {offset_s:g} s is not after onset {onset_s:g} s")
        elif generalisation_s is not None and not onset_s <= generalisation_s <= offset_s:
            bad("generalisation_s", f"{generalisation_s:g} s is outside the seizure [{onset_s:g} s, {offset_s:g} s]")

    labels = {task: value for task in label_columns if (value := cells.get(task)) is not None}
    for task, allowed in label_values.items():
        value = labels.get(task)
        if value is not None and value not in allowed:
            close = difflib.get_close_matches(value, list(allowed), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            bad(task, f"unknown label '{value}' (allowed: {_quoted(allowed)}){hint}")

    if problems or record_id is None or seizure_id is None or onset_s is None or offset_s is None:
        return problems
    return ManifestRow(
        seizure_id=record_id,
        subject_id=str(cells["subject_id"]),
        paths=paths,
        fps=fps,
        onset_s=onset_s,
        offset_s=offset_s,
        generalisation_s=generalisation_s,
        labels=labels,
        row_number=raw.row_number,
        view=view,
        view_of=seizure_id if view is not None else None,
    )


def _number(
    text: str | None,
    column: str,
    bad: Callable[[str, str], None],
    required: bool = False,
    positive: bool = False,
) -> float | None:
    """A finite time or rate from a cell; None (after reporting through `bad`) when missing or invalid."""
    if text is None:
        if required:
            bad(column, "missing value")
        return None
    try:
        value = float(text)
    except ValueError:
        bad(column, f"not a number: '{text}'")
        return None
    if not math.isfinite(value):
        bad(column, f"not a finite number: '{text}'")
        return None
    if positive and value <= 0:
        bad(column, f"must be positive, got {value:g}")
        return None
    if value < 0:
        bad(column, f"negative time {value:g} s")
        return None
    return value


def _path_problem(modality: str, path: Path, check_files: bool) -> str | None:
    if path.is_dir():
        return None
    suffix = path.suffix.lower()
    allowed = MODALITY_EXTENSIONS[modality]
    if suffix and suffix not in allowed:
        return f"unknown file extension '{path.suffix}' (expected a folder or one of {', '.join(sorted(allowed))})"
    if check_files and not path.exists():
        return f"file not found: {path}"
    return None


def _relative_path(path: Path, folder: Path) -> str:
    if path.is_absolute() and Path(os.path.abspath(path)).is_relative_to(folder):
        return Path(os.path.relpath(os.path.abspath(path), folder)).as_posix()
    return path.as_posix()


def _quoted(values: Iterable[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)
