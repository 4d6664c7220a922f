"""Manifests in and out of the store, and the store as a row source for extraction, screening and studies.

Import (`import_manifest`) reads a manifest with `semiology.io.manifest.load_manifest` (the same
validation and messages as every other tool), then refuses anything that would put a patient
identifier into the store:

- identifying columns (`semiology.pseudonyms.IDENTIFYING_COLUMNS`: names, birth dates, hospital numbers,
  addresses...) unless told to leave them out (`drop_identifying`), and then they are not stored;
- a subject identifier repeated in the row's seizure id, a path or a label value (a folder named
  after the hospital number), named by row and column only, never by value.

Subject identifiers become pseudonyms keyed with the site's secret (`semiology.pseudonyms`);
a manifest whose subject ids are already pseudonyms (a research cohort) is imported with
`pseudonymised=True`. Importing the same manifest again changes nothing; a changed manifest
updates the store, and the audit log keeps what was there before.

Every label column becomes a task label of the seizure, except `ilae_seizure_type` and
`event_kind`, which are the seizure's classification (checked against the vocabulary). Export
(`export_manifest`) writes the same columns back, with subject ids as pseudonyms, so
manifest -> store -> manifest gives the same rows.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from semiology.errors import CacheError, ManifestError
from semiology.io.cache import load_record
from semiology.io.fingerprint import content_sha256
from semiology.io.manifest import MODALITIES, MODALITY_EXTENSIONS, ManifestRow, load_manifest, write_manifest
from semiology.pseudonyms import identifying_columns, pseudonym
from semiology.store.accounts import check_site_secret, get_site, get_user
from semiology.store.database import Store, database_url, display_name, open_store
from semiology.store.errors import IdentifierError, StoreError
from semiology.store.schema import Patient, Recording, Seizure, Site, TaskLabel, User
from semiology.store.vocabulary import EVENT_KIND_COLUMN, EVENT_KIND_KEYS, SEIZURE_TYPE_COLUMN, SEIZURE_TYPE_KEYS, TRUSTED_STATUSES

log = logging.getLogger(__name__)

SHORT_IDENTIFIER_CHARS = 4
"""Subject identifiers this long or longer are looked for anywhere in a seizure id, path or label;
shorter ones only as a whole word (so that subject '7' does not match every path with a 7)."""
_WORD = re.compile(r"[A-Za-z0-9]+")
_CHUNK = 500


@dataclass(frozen=True)
class ImportSummary:
    """What an import did: rows read, seizures created, updated and left as they were, columns left out."""

    source: str
    rows: int
    created: int
    updated: int
    unchanged: int
    dropped_columns: tuple[str, ...] = ()


def _label_columns(rows: Sequence[ManifestRow]) -> list[str]:
    columns: list[str] = []
    for row in rows:
        for task in row.labels:
            if task not in columns:
                columns.append(task)
    return columns


def _contains(text: str, identifier: str) -> bool:
    if len(identifier) >= SHORT_IDENTIFIER_CHARS:
        return identifier.casefold() in text.casefold()
    return identifier.casefold() in (word.casefold() for word in _WORD.findall(text))


def identifier_leaks(manifest: str, rows: Sequence[ManifestRow]) -> list[str]:
    """Where a row repeats its own subject identifier (seizure id, paths, label values): row and column, never the value."""
    problems = []
    for row in rows:
        identifier = row.subject_id.strip()
        where = f"{manifest}: row {row.row_number}"
        places = [("seizure_id", row.seizure_id), *((modality, str(path)) for modality, path in row.paths.items()), *row.labels.items()]
        for column, text in places:
            if _contains(text, identifier):
                problems.append(f"{where}: column '{column}': contains the row's subject identifier, which the store must not keep; rename it "
                                "(or, if the subject ids are already pseudonyms, import with --pseudonymised)")
    return problems


def _classification(manifest: str, row: ManifestRow) -> tuple[str | None, str | None, list[str]]:
    problems = []
    seizure_type, event_kind = row.labels.get(SEIZURE_TYPE_COLUMN), row.labels.get(EVENT_KIND_COLUMN)
    where = f"{manifest}: row {row.row_number} (seizure_id '{row.seizure_id}')"
    for column, value, allowed in ((SEIZURE_TYPE_COLUMN, seizure_type, SEIZURE_TYPE_KEYS), (EVENT_KIND_COLUMN, event_kind, EVENT_KIND_KEYS)):
        if value is not None and value not in allowed:
            problems.append(f"{where}: column '{column}': unknown value '{value}' (allowed: {_quoted(allowed)}){_hint(value, allowed)}")
    return seizure_type, event_kind, problems


def file_checksum(path: Path) -> str | None:
    """`sha256:<hex>` of a file's bytes (what `sha256sum` prints), or of a folder's files (see `content_sha256`); None when absent."""
    digest = content_sha256(path)
    return None if digest is None else f"sha256:{digest}"


def _frame_count(modality: str, path: Path) -> int | None:
    if modality != "keypoints" or not path.is_file():
        return None
    try:
        return load_record(path).num_frames
    except CacheError as error:
        log.warning("keypoints of a recording not readable, frame count left empty: %s", error)
        return None


def _sync_recordings(seizure: Seizure, row: ManifestRow, probe_files: bool) -> bool:
    """Make the seizure's recordings those of the row; whether anything changed."""
    changed = False
    current = {recording.modality: recording for recording in seizure.recordings}
    for modality in MODALITIES:
        path = row.paths.get(modality)
        recording = current.get(modality)
        if path is None:
            if recording is not None:
                seizure.recordings.remove(recording)
                changed = True
            continue
        text = path.as_posix()
        if recording is None:
            recording = Recording(modality=modality, path=text)
            seizure.recordings.append(recording)
            changed = True
        elif recording.path != text:
            recording.path, recording.checksum, recording.frame_count = text, None, None
            changed = True
        if recording.fps != row.fps:
            recording.fps = row.fps
            changed = True
        if probe_files and recording.checksum is None:
            recording.checksum = file_checksum(path)
            recording.frame_count = _frame_count(modality, path)
            changed = changed or recording.checksum is not None
    return changed


def _sync_task_labels(seizure: Seizure, labels: Mapping[str, str], annotator: User) -> bool:
    changed = False
    current = {label.task: label for label in seizure.task_labels}
    for task, label in current.items():
        if task not in labels:
            seizure.task_labels.remove(label)
            changed = True
    for task, value in labels.items():
        label = current.get(task)
        if label is None:
            seizure.task_labels.append(TaskLabel(task=task, value=value, annotator_id=annotator.id, status="human"))
            changed = True
        elif label.value != value:
            label.value, label.annotator_id, label.status = value, annotator.id, "edited"
            changed = True
    return changed


def _patients(session: Session, site: Site, pseudonyms: Iterable[str]) -> dict[str, Patient]:
    wanted = sorted(set(pseudonyms))
    found: dict[str, Patient] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        found.update((patient.pseudonym, patient) for patient in session.scalars(select(Patient).where(Patient.site_id == site.id, Patient.pseudonym.in_(chunk))))
    for name in wanted:
        if name not in found:
            found[name] = Patient(site_id=site.id, pseudonym=name)
            session.add(found[name])
    session.flush()
    return found


def _existing_seizures(session: Session, keys: Sequence[str]) -> dict[str, Seizure]:
    found: dict[str, Seizure] = {}
    options = (selectinload(Seizure.recordings), selectinload(Seizure.task_labels), selectinload(Seizure.patient))
    for start in range(0, len(keys), _CHUNK):
        chunk = list(keys[start : start + _CHUNK])
        found.update((seizure.seizure_key, seizure) for seizure in session.scalars(select(Seizure).where(Seizure.seizure_key.in_(chunk)).options(*options)))
    return found


def import_manifest(
    store: Store,
    manifest: str | Path,
    site: str,
    user: str,
    secret: bytes | None = None,
    pseudonymised: bool = False,
    drop_identifying: bool = False,
    check_files: bool = True,
    probe_files: bool = True,
) -> ImportSummary:
    """Import (or re-import) a manifest's seizures into `site`, as `user` (who the audit log and the task labels name).

    `secret` is the site's secret (required unless `pseudonymised`). `probe_files` records each
    file's checksum and, for cached keypoints, the frame count (for files that exist).
    """
    name = str(manifest)
    rows = load_manifest(manifest, check_files=check_files)
    columns = _label_columns(rows)
    identifying = identifying_columns(columns)
    if identifying and not drop_identifying:
        raise IdentifierError(
            f"{name}: identifying columns refused: {_quoted(identifying)}. The store keeps patients under pseudonyms only; "
            "remove these columns, or import without them (--drop-identifying)"
        )
    if identifying:
        dropped = set(identifying)
        rows = [ManifestRow(row.seizure_id, row.subject_id, row.paths, row.fps, row.onset_s, row.offset_s, row.generalisation_s,
                            {task: value for task, value in row.labels.items() if task not in dropped}, row.row_number) for row in rows]
    problems = [] if pseudonymised else identifier_leaks(name, rows)
    if problems:
        raise IdentifierError.from_problems(problems)
    classified = []
    for row in rows:
        seizure_type, event_kind, row_problems = _classification(name, row)
        problems.extend(row_problems)
        labels = {task: value for task, value in row.labels.items() if task not in (SEIZURE_TYPE_COLUMN, EVENT_KIND_COLUMN)}
        classified.append((row, seizure_type, event_kind, labels))
    if problems:
        raise ManifestError.from_problems(problems)
    if not pseudonymised and secret is None:
        raise StoreError(f"{name}: the site secret is needed to turn subject ids into pseudonyms (or import with --pseudonymised)")

    created = updated = 0
    with store.session(actor=user) as session:
        annotator = get_user(session, user)
        site_row = get_site(session, site)
        if not pseudonymised:
            check_site_secret(site_row, secret)
        names = {row.seizure_id: row.subject_id.strip() if pseudonymised else pseudonym(row.subject_id, secret) for row in rows}
        patients = _patients(session, site_row, names.values())
        existing = _existing_seizures(session, [row.seizure_id for row in rows])
        for row, seizure_type, event_kind, labels in classified:
            patient = patients[names[row.seizure_id]]
            seizure = existing.get(row.seizure_id)
            if seizure is not None and seizure.patient.site_id != site_row.id:
                raise StoreError(f"{name}: row {row.row_number} (seizure_id '{row.seizure_id}'): the seizure belongs to another site of the store")
            values = {"patient_id": patient.id, "onset_s": row.onset_s, "offset_s": row.offset_s, "generalisation_s": row.generalisation_s,
                      "seizure_type": seizure_type, "event_kind": event_kind}
            if seizure is None:
                seizure = Seizure(seizure_key=row.seizure_id, **values)
                session.add(seizure)
                created += 1
                changed = True
            else:
                changed = False
                for key, value in values.items():
                    if getattr(seizure, key) != value:
                        setattr(seizure, key, value)
                        changed = True
            changed = _sync_recordings(seizure, row, probe_files) | changed
            changed = _sync_task_labels(seizure, labels, annotator) | changed
            if changed and seizure.id is not None:
                updated += 1
        session.flush()
    summary = ImportSummary(name, len(rows), created, updated, len(rows) - created - updated, tuple(identifying))
    log.info("imported %s: %d rows, %d new seizures, %d updated, %d unchanged%s", name, summary.rows, created, updated, summary.unchanged,
             f"; left out the columns {', '.join(identifying)}" if identifying else "")
    return summary


def trusted_sign_spans(seizure: Seizure) -> dict[str, list[tuple[float, float]]]:
    """The seizure's sign spans by term, from labels that count as a person's judgement (`TRUSTED_STATUSES`), in time order.

    A model's pending or rejected proposal never becomes a span a study trains on.
    """
    spans: dict[str, list[tuple[float, float]]] = {}
    for label in sorted(seizure.sign_labels, key=lambda label: (label.start_s, label.id)):
        if label.status in TRUSTED_STATUSES:
            spans.setdefault(label.term, []).append((float(label.start_s), float(label.end_s)))
    return spans


def read_rows(session: Session, site: str | None = None) -> list[ManifestRow]:
    """The store's seizures as manifest rows (subject ids are pseudonyms; `row_number` is the seizure's id in the store;
    `sign_spans` from the trusted sign labels)."""
    query = (
        select(Seizure)
        .options(selectinload(Seizure.recordings), selectinload(Seizure.task_labels), selectinload(Seizure.sign_labels), selectinload(Seizure.patient))
        .order_by(Seizure.id)
    )
    if site is not None:
        query = query.join(Patient, Seizure.patient_id == Patient.id).where(Patient.site_id == get_site(session, site).id)
    rows = []
    for seizure in session.scalars(query):
        recordings = {recording.modality: recording for recording in seizure.recordings}
        fps_values = {recording.fps for recording in recordings.values()}
        if len(fps_values) > 1:
            raise StoreError(f"seizure {seizure.seizure_key!r}: its recordings disagree on fps ({sorted(v for v in fps_values if v is not None)}); a manifest row has one")
        labels = {label.task: label.value for label in seizure.task_labels}
        if seizure.seizure_type is not None:
            labels[SEIZURE_TYPE_COLUMN] = seizure.seizure_type
        if seizure.event_kind is not None:
            labels[EVENT_KIND_COLUMN] = seizure.event_kind
        rows.append(ManifestRow(
            seizure_id=seizure.seizure_key,
            subject_id=seizure.patient.pseudonym,
            paths={modality: Path(recordings[modality].path) for modality in MODALITIES if modality in recordings},
            fps=next(iter(fps_values)) if fps_values else None,
            onset_s=seizure.onset_s,
            offset_s=seizure.offset_s,
            generalisation_s=seizure.generalisation_s,
            labels=labels,
            row_number=seizure.id,
            sign_spans=trusted_sign_spans(seizure),
        ))
    return rows


def export_manifest(store: Store, path: str | Path, site: str | None = None) -> Path:
    """Write the store's seizures (of one site, or all) as a manifest CSV or YAML that every tool reads."""
    with store.session() as session:
        rows = read_rows(session, site)
    if not rows:
        raise StoreError(f"{store.name}: no seizures to export" + (f" for site {site!r}" if site else ""))
    written = write_manifest(rows, path)
    log.info("exported %d seizures to %s", len(rows), written)
    return written


@dataclass(frozen=True)
class StoreSource:
    """The label store as a row source (`semiology.io.sources.RowSource`): its seizures as validated manifest rows.

    Validation and messages are those of a manifest file (`load_manifest`): label values outside
    a task's classes, a missing label column, missing files; rows are named by the seizure's id
    in the store.
    """

    db: str
    site: str | None = None

    @property
    def name(self) -> str:
        where = f"store {display_name(database_url(self.db))}"
        return where + (f" (site {self.site})" if self.site else "")

    def rows(self, label_values: Mapping[str, Sequence[str]] | None = None, check_files: bool = True) -> list[ManifestRow]:
        with open_store(self.db) as store, store.session() as session:
            rows = read_rows(session, self.site)
        problems = validation_problems(self.name, rows, label_values or {}, check_files)
        if problems:
            raise ManifestError.from_problems(problems)
        return rows


def validation_problems(name: str, rows: Sequence[ManifestRow], label_values: Mapping[str, Sequence[str]], check_files: bool) -> list[str]:
    """The problems `load_manifest` would report for these rows: label columns and values, file extensions and existence."""
    problems = []
    if not rows:
        problems.append(f"{name}: no seizures: import a manifest first (tools/store.py import)")
    for task, allowed in label_values.items():
        if not any(task in row.labels for row in rows):
            problems.append(f"{name}: missing label column '{task}' (allowed values: {_quoted(allowed)})")
    for row in rows:
        where = f"{name}: row {row.row_number} (seizure_id '{row.seizure_id}')"
        for modality, path in row.paths.items():
            problem = _path_problem(modality, path, check_files)
            if problem:
                problems.append(f"{where}: column '{modality}': {problem}")
        for task, allowed in label_values.items():
            value = row.labels.get(task)
            if value is not None and value not in allowed:
                problems.append(f"{where}: column '{task}': unknown label '{value}' (allowed: {_quoted(allowed)}){_hint(value, allowed, '; ')}")
    return problems


def _path_problem(modality: str, path: Path, check_files: bool) -> str | None:
    if path.is_dir():
        return None
    allowed = MODALITY_EXTENSIONS[modality]
    suffix = path.suffix.lower()
    if suffix and suffix not in allowed:
        return f"unknown file extension '{path.suffix}' (expected a folder or one of {', '.join(sorted(allowed))})"
    if check_files and not path.exists():
        return f"file not found: {path}"
    return None


def _hint(value: str, allowed: Sequence[str], separator: str = "; ") -> str:
    close = difflib.get_close_matches(value, list(allowed), n=1)
    return f"{separator}did you mean '{close[0]}'?" if close else ""


def _quoted(values: Iterable[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)
