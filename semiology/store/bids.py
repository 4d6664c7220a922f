"""BIDS-style events: one `events.tsv` per seizure recording, written from the store and read back into it.

Layout (BIDS 1.10 conventions; video is not a BIDS modality, so events sit under `beh/`):

    dataset_description.json
    participants.tsv                  participant_id: sub-<pseudonym>
    task-seizure_events.json          the columns and their levels, inherited by every events file
    seizures.tsv                      events_file -> seizure_id (what a re-import matches on)
    sub-<pseudonym>/beh/sub-<pseudonym>_task-seizure_run-<n>_events.tsv

Each events file has one `seizure` row (onset and duration of the seizure, its ILAE 2025 type
and event kind in their own columns, their HED SCORE tags in `HED`), a `generalisation` row
when it generalised, and one row per sign label: `trial_type` is the sign term, `HED` its HED
SCORE tag, and side, region, annotator, model, confidence and status each have a column. Empty
cells are `n/a`. All times are seconds from the first frame, written to the microsecond, so
store -> events -> store gives the same labels (the round trip is tested).

An import (`import_events`) makes each listed seizure's sign labels those of its file (labels
missing from the file are removed, new ones added; the audit log keeps the difference) and
updates its classification and times. Every problem in every file is reported at once, with
file, row and column.
"""

from __future__ import annotations

import csv
import json
import logging
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from semiology import __version__
from semiology.io.atomic import atomic_path
from semiology.store.accounts import get_user
from semiology.store.database import Store
from semiology.store.errors import EventsFileError
from semiology.store.labels import SignSpan, get_seizure, seconds, sign_terms, span_problems
from semiology.store.schema import Patient, Seizure, SignLabel, User
from semiology.store.vocabulary import EVENT_KIND_KEYS, EVENT_KINDS, REGIONS, SEIZURE_TYPE_KEYS, SEIZURE_TYPES, SIDES, STATUSES, term_of

log = logging.getLogger(__name__)

COLUMNS: tuple[str, ...] = ("onset", "duration", "trial_type", "HED", "side", "region", "annotator", "model", "confidence", "status", "seizure_type", "event_kind")
SEIZURE_EVENT = "seizure"
GENERALISATION_EVENT = "generalisation"
INDEX_FILE = "seizures.tsv"
SIDECAR_FILE = "task-seizure_events.json"
MISSING = "n/a"
TIME_TOLERANCE_S = 1e-6
"""A seizure's onset or offset read back within this of the stored value is the stored value (the file keeps microseconds)."""


@dataclass(frozen=True)
class EventsImport:
    """What an events import did: seizures read, sign labels added, removed and kept, seizures whose fields changed."""

    seizures: int
    added: int
    removed: int
    kept: int
    reclassified: int


def _time(value: float) -> str:
    text = f"{seconds(value):.6f}".rstrip("0").rstrip(".")
    return text or "0"


def _cell(value: object) -> str:
    if value is None:
        return MISSING
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _write_tsv(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temporary, temporary.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _write_json(path: Path, data: dict) -> Path:
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


def _sidecar(terms: dict) -> dict:
    return {
        "onset": {"Description": "Start in seconds from the first frame of the recording", "Units": "s"},
        "duration": {"Description": "Length in seconds", "Units": "s"},
        "trial_type": {"Description": "'seizure', 'generalisation' (the time the seizure became bilateral tonic-clonic), or a sign term",
                       "Levels": {SEIZURE_EVENT: "The seizure, from clinical onset to offset", GENERALISATION_EVENT: "Generalisation time",
                                  **{term.term: term.label for term in terms.values()}}},
        "HED": {"Description": "HED SCORE library (2.1.0) tags of the seizure type and event kind, or of the sign"},
        "side": {"Description": "The patient's side of the sign", "Levels": {side: side for side in SIDES}},
        "region": {"Description": "Region of interest the sign is seen in", "Levels": {region: region for region in REGIONS}},
        "annotator": {"Description": "Username of the person who labelled the sign (n/a for a model's proposal)"},
        "model": {"Description": "Model bundle and model that proposed the sign (n/a for a person's label)"},
        "confidence": {"Description": "Annotator's or model's confidence in [0, 1]"},
        "status": {"Description": "How the label came to be", "Levels": {status: status for status in STATUSES}},
        "seizure_type": {"Description": "ILAE 2025 seizure type (on the seizure row)", "Levels": {term.key: term.label for term in SEIZURE_TYPES}},
        "event_kind": {"Description": "Epileptic or not (on the seizure row)", "Levels": {term.key: term.label for term in EVENT_KINDS}},
    }


def _seizure_row(seizure: Seizure) -> list[str]:
    tags = []
    if seizure.event_kind is not None:
        tags.append(term_of(EVENT_KINDS, seizure.event_kind).hed)
    if seizure.seizure_type is not None:
        tags.append(term_of(SEIZURE_TYPES, seizure.seizure_type).hed)
    values = {"onset": repr(seizure.onset_s), "duration": repr(seizure.offset_s - seizure.onset_s), "trial_type": SEIZURE_EVENT,
              "HED": ", ".join(tags) or MISSING, "seizure_type": _cell(seizure.seizure_type), "event_kind": _cell(seizure.event_kind)}
    return [values.get(column, MISSING) for column in COLUMNS]


def _sign_row(label: SignLabel, hed: str, users: dict[int, str]) -> list[str]:
    values = {"onset": _time(label.start_s), "duration": _time(label.end_s - label.start_s), "trial_type": label.term, "HED": hed,
              "side": _cell(label.side), "region": _cell(label.region), "annotator": _cell(users.get(label.annotator_id) if label.annotator_id else None),
              "model": _cell(label.model), "confidence": _cell(label.confidence), "status": label.status}
    return [values.get(column, MISSING) for column in COLUMNS]


def export_events(store: Store, out_dir: str | Path, site: str | None = None) -> list[Path]:
    """Write the dataset described above for every seizure (of `site`, or all); returns the events files."""
    out_dir = Path(out_dir)
    written: list[Path] = []
    with store.session() as session:
        terms = sign_terms(session)
        users = {user.id: user.username for user in session.scalars(select(User))}
        query = select(Seizure).options(selectinload(Seizure.sign_labels), selectinload(Seizure.patient).selectinload(Patient.site)).order_by(Seizure.id)
        seizures = [s for s in session.scalars(query) if site is None or s.patient.site.name == site]
    if not seizures:
        raise EventsFileError(f"{store.name}: no seizures to export" + (f" for site {site!r}" if site else ""))
    runs: Counter[str] = Counter()
    index_rows = []
    for seizure in seizures:
        participant = f"sub-{seizure.patient.pseudonym}"
        runs[participant] += 1
        relative = Path(participant) / "beh" / f"{participant}_task-seizure_run-{runs[participant]}_events.tsv"
        rows = [_seizure_row(seizure)]
        if seizure.generalisation_s is not None:
            rows.append([repr(seizure.generalisation_s), "0", GENERALISATION_EVENT] + [MISSING] * (len(COLUMNS) - 3))
        labels = sorted(seizure.sign_labels, key=lambda label: (label.start_s, label.id))
        rows += [_sign_row(label, terms[label.term].hed, users) for label in labels]
        written.append(_write_tsv(out_dir / relative, COLUMNS, rows))
        index_rows.append([relative.as_posix(), seizure.seizure_key])
    _write_tsv(out_dir / INDEX_FILE, ("events_file", "seizure_id"), index_rows)
    _write_tsv(out_dir / "participants.tsv", ("participant_id",), [[name] for name in sorted(runs)])
    _write_json(out_dir / SIDECAR_FILE, _sidecar(terms))
    _write_json(out_dir / "dataset_description.json", {
        "Name": "semiology label store export", "BIDSVersion": "1.10.0", "DatasetType": "raw",
        "GeneratedBy": [{"Name": "semiology", "Version": __version__, "Description": "tools/store.py export-bids"}],
    })
    log.info("exported the events of %d seizures to %s", len(written), out_dir)
    return written


def _read_tsv(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            lines = list(csv.reader(handle, delimiter="\t"))
    except (OSError, UnicodeDecodeError) as exc:
        raise EventsFileError(f"{path}: cannot read ({exc})") from None
    if not lines:
        raise EventsFileError(f"{path}: empty file: no header")
    header = lines[0]
    return header, [(number, dict(zip(header, cells, strict=False))) for number, cells in enumerate(lines[1:], start=2) if any(cells)]


@dataclass(frozen=True)
class _Sign:
    term: str
    region: str | None
    side: str | None
    start_s: float
    end_s: float
    annotator_id: int | None
    model: str | None
    confidence: float | None
    status: str


@dataclass
class _SeizureEvents:
    seizure_key: str
    onset_s: float | None = None
    offset_s: float | None = None
    generalisation_s: float | None = None
    seizure_type: str | None = None
    event_kind: str | None = None


def _optional(cells: dict[str, str], column: str) -> str | None:
    value = cells.get(column, MISSING).strip()
    return None if value in ("", MISSING) else value


def _parse_file(path: Path, seizure_key: str, terms: dict, users: dict[str, int]) -> tuple[_SeizureEvents, list[_Sign], list[str]]:
    header, rows = _read_tsv(path)
    problems = [f"{path}: row 1: missing column '{column}'" for column in ("onset", "duration", "trial_type") if column not in header]
    events, signs = _SeizureEvents(seizure_key), []
    if problems:
        return events, signs, problems
    seizure_rows = 0
    for number, cells in rows:
        def bad(column: str, message: str, row: int = number) -> None:
            problems.append(f"{path}: row {row}: column '{column}': {message}")

        numbers, known_problems = {}, len(problems)
        for column in ("onset", "duration", "confidence"):
            text = _optional(cells, column)
            if text is None:
                if column != "confidence":
                    bad(column, "missing value")
                continue
            try:
                numbers[column] = float(text)
            except ValueError:
                bad(column, f"not a number: '{text}'")
                continue
            if not math.isfinite(numbers[column]) or (column == "duration" and numbers[column] < 0):
                bad(column, f"not a finite, non-negative number: '{text}'")
        trial_type = _optional(cells, "trial_type")
        if trial_type is None:
            bad("trial_type", "missing value")
            continue
        if len(problems) > known_problems:
            continue
        onset, duration = numbers["onset"], numbers["duration"]
        if trial_type == SEIZURE_EVENT:
            seizure_rows += 1
            events.onset_s, events.offset_s = onset, onset + duration
            events.seizure_type, events.event_kind = _optional(cells, "seizure_type"), _optional(cells, "event_kind")
            if events.seizure_type is not None and events.seizure_type not in SEIZURE_TYPE_KEYS:
                bad("seizure_type", f"unknown ILAE 2025 seizure type '{events.seizure_type}' (types: {', '.join(SEIZURE_TYPE_KEYS)})")
            if events.event_kind is not None and events.event_kind not in EVENT_KIND_KEYS:
                bad("event_kind", f"unknown event kind '{events.event_kind}' (kinds: {', '.join(EVENT_KIND_KEYS)})")
            continue
        if trial_type == GENERALISATION_EVENT:
            events.generalisation_s = onset
            continue
        span = SignSpan(trial_type, onset, seconds(onset + duration), _optional(cells, "side"), _optional(cells, "region"), numbers.get("confidence"))
        columns = {"term": "trial_type", "start_s": "onset", "end_s": "duration"}
        for field_name, problem in span_problems(span, terms):
            bad(columns.get(field_name, field_name), problem)
        annotator, model, status = _optional(cells, "annotator"), _optional(cells, "model"), _optional(cells, "status") or "human"
        if annotator is not None and annotator not in users:
            bad("annotator", f"no user '{annotator}' in the store (add the user first: tools/store.py add-user)")
        if (annotator is None) == (model is None):
            bad("annotator", "a sign needs either an annotator or a model")
        if status not in STATUSES:
            bad("status", f"unknown status '{status}' (statuses: {', '.join(STATUSES)})")
        signs.append(_Sign(trial_type, span.region, span.side, seconds(onset), seconds(onset + duration), users.get(annotator) if annotator else None,
                           model, span.confidence, status))
    if seizure_rows != 1:
        problems.append(f"{path}: expected exactly one '{SEIZURE_EVENT}' row, found {seizure_rows}")
    return events, signs, problems


def _key(label: SignLabel | _Sign) -> tuple:
    return (label.term, label.region, label.side, label.start_s, label.end_s, label.annotator_id, label.model, label.confidence, label.status)


def import_events(store: Store, root: str | Path, user: str) -> EventsImport:
    """Read a dataset written by `export_events` (or edited since) back into the store, as `user`."""
    root = Path(root)
    index = root / INDEX_FILE
    if not index.is_file():
        raise EventsFileError(f"{root}: no {INDEX_FILE} (events_file, seizure_id) listing which seizure each events file belongs to")
    header, entries = _read_tsv(index)
    missing = [column for column in ("events_file", "seizure_id") if column not in header]
    if missing:
        raise EventsFileError(f"{index}: row 1: missing columns {', '.join(repr(c) for c in missing)}")
    problems: list[str] = []
    parsed = []
    with store.session(actor=user) as session:
        get_user(session, user)
        terms = sign_terms(session)
        users = {u.username: u.id for u in session.scalars(select(User))}
        for number, cells in entries:
            path, key = root / cells.get("events_file", ""), cells.get("seizure_id", "")
            if not path.is_file():
                problems.append(f"{index}: row {number}: column 'events_file': file not found: {path}")
                continue
            if session.scalar(select(Seizure.id).where(Seizure.seizure_key == key)) is None:
                problems.append(f"{index}: row {number}: column 'seizure_id': no seizure '{key}' in the store (import its manifest first)")
                continue
            events, signs, file_problems = _parse_file(path, key, terms, users)
            problems.extend(file_problems)
            parsed.append((events, signs))
        if problems:
            raise EventsFileError.from_problems(problems)
        added = removed = kept = reclassified = 0
        for events, signs in parsed:
            seizure = get_seizure(session, events.seizure_key)
            if _reclassify(seizure, events):
                reclassified += 1
            wanted = Counter(_key(sign) for sign in signs)
            for label in list(seizure.sign_labels):
                if wanted[_key(label)] > 0:
                    wanted[_key(label)] -= 1
                    kept += 1
                else:
                    seizure.sign_labels.remove(label)
                    removed += 1
            for sign in signs:
                if wanted[_key(sign)] > 0:
                    wanted[_key(sign)] -= 1
                    seizure.sign_labels.append(SignLabel(term=sign.term, region=sign.region, side=sign.side, start_s=sign.start_s, end_s=sign.end_s,
                                                         annotator_id=sign.annotator_id, model=sign.model, confidence=sign.confidence, status=sign.status))
                    added += 1
        session.flush()
    result = EventsImport(len(parsed), added, removed, kept, reclassified)
    log.info("imported events of %d seizures from %s: %d sign labels added, %d removed, %d kept", result.seizures, root, added, removed, kept)
    return result


def _reclassify(seizure: Seizure, events: _SeizureEvents) -> bool:
    changed = False
    for name in ("onset_s", "offset_s", "generalisation_s"):
        value, stored = getattr(events, name), getattr(seizure, name)
        if value is None and stored is None:
            continue
        if value is None or stored is None or abs(value - stored) > TIME_TOLERANCE_S:
            setattr(seizure, name, value)
            changed = True
    for name in ("seizure_type", "event_kind"):
        if getattr(seizure, name) != getattr(events, name):
            setattr(seizure, name, getattr(events, name))
            changed = True
    return changed
