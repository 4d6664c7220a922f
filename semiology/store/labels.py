"""Labels in the store: signs with their spans, seizure classification, reviews and keypoint corrections.

The functions check what the database's constraints cannot say clearly (a term outside the
vocabulary, a span outside the recording, a role that may not make the change) and raise a
StoreError naming the seizure, label and field. Times are seconds from the first frame, kept to
the microsecond (`TIME_DECIMALS`), so that a span written to BIDS events as onset and duration
reads back to the same start and end.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from semiology.layouts import get_layout
from semiology.store.accounts import require_role
from semiology.store.errors import StoreError
from semiology.store.schema import KeypointCorrection, Recording, Seizure, SignLabel, SignTerm, User
from semiology.store.vocabulary import EVENT_KIND_KEYS, REGIONS, SEIZURE_TYPE_KEYS, SIDES, STATUSES

TIME_DECIMALS = 6
_TERMS_KEY = "sign_terms"
REVIEWERS: tuple[str, ...] = ("reviewer", "admin")


def seconds(value: float) -> float:
    """A time in seconds at the store's precision (microseconds)."""
    return round(float(value), TIME_DECIMALS)


def get_seizure(session: Session, seizure_key: str) -> Seizure:
    """The seizure with the site's id `seizure_key`."""
    seizure = session.scalar(select(Seizure).where(Seizure.seizure_key == seizure_key))
    if seizure is None:
        raise StoreError(f"no seizure {seizure_key!r} in the store")
    return seizure


def sign_terms(session: Session) -> dict[str, SignTerm]:
    """The sign vocabulary by term."""
    return {term.term: term for term in session.scalars(select(SignTerm).order_by(SignTerm.term))}


@dataclass(frozen=True)
class SignSpan:
    """The fields of a sign label that a person chooses, checked before anything is written."""

    term: str
    start_s: float
    end_s: float
    side: str | None = None
    region: str | None = None
    confidence: float | None = None


def span_problems(span: SignSpan, terms: Mapping[str, SignTerm]) -> list[tuple[str, str]]:
    """What is wrong with a span, as (field, message) pairs (empty when it can be stored)."""
    problems = []
    if span.term not in terms:
        problems.append(("term", f"unknown sign term {span.term!r} (terms: {', '.join(terms)})"))
    if span.side is not None and span.side not in SIDES:
        problems.append(("side", f"unknown side {span.side!r} (sides: {', '.join(SIDES)})"))
    if span.region is not None and span.region not in REGIONS:
        problems.append(("region", f"unknown region {span.region!r} (regions: {', '.join(REGIONS)})"))
    if not (math.isfinite(span.start_s) and math.isfinite(span.end_s)) or span.start_s < 0:
        problems.append(("start_s", f"start {span.start_s} s and end {span.end_s} s must be finite times from the first frame, start >= 0"))
    elif seconds(span.end_s) <= seconds(span.start_s):
        problems.append(("end_s", f"end {span.end_s:g} s is not after start {span.start_s:g} s"))
    if span.confidence is not None and not 0.0 <= span.confidence <= 1.0:
        problems.append(("confidence", f"confidence {span.confidence} is outside [0, 1]"))
    return problems


def _terms(session: Session) -> dict[str, SignTerm]:
    """The vocabulary, read once per session (a term is added by a migration, never while a session runs)."""
    if _TERMS_KEY not in session.info:
        session.info[_TERMS_KEY] = sign_terms(session)
    return session.info[_TERMS_KEY]


def _checked(session: Session, span: SignSpan, seizure: Seizure) -> None:
    problems = span_problems(span, _terms(session))
    if problems:
        raise StoreError.from_problems([f"seizure {seizure.seizure_key!r}: sign label: {problem}" for _, problem in problems])


def add_sign_labels(
    session: Session,
    labels: Sequence[tuple[Seizure, SignSpan]],
    annotator: User | None = None,
    model: str | None = None,
    status: str | None = None,
) -> list[SignLabel]:
    """Store many signs by one author in one flush (an annotator's session, a model's proposals), each checked first.

    `annotator` gives status `human`, `model` status `model_proposal`; `status` may be given to
    restore labels as they were (an import). Nothing is written when one label is refused.
    """
    if (annotator is None) == (model is None):
        raise StoreError("a sign label needs either the annotator or the model that proposes it")
    status = status or ("human" if annotator is not None else "model_proposal")
    if status not in STATUSES:
        raise StoreError(f"unknown sign label status {status!r} (statuses: {', '.join(STATUSES)})")
    for seizure, span in labels:
        _checked(session, span, seizure)
    rows = [
        SignLabel(seizure_id=seizure.id, term=span.term, region=span.region, side=span.side, start_s=seconds(span.start_s), end_s=seconds(span.end_s),
                  annotator_id=None if annotator is None else annotator.id, model=model, confidence=span.confidence, status=status)
        for seizure, span in labels
    ]
    session.add_all(rows)
    session.flush()
    return rows


def add_sign_label(
    session: Session,
    seizure: Seizure,
    span: SignSpan,
    annotator: User | None = None,
    model: str | None = None,
    status: str | None = None,
) -> SignLabel:
    """Store a sign seen by `annotator` (status `human`) or proposed by `model` (status `model_proposal`); see `add_sign_labels`."""
    return add_sign_labels(session, [(seizure, span)], annotator, model, status)[0]


def get_sign_label(session: Session, label_id: int) -> SignLabel:
    """The sign label with id `label_id`."""
    label = session.get(SignLabel, label_id)
    if label is None:
        raise StoreError(f"no sign label {label_id} in the store")
    return label


def edit_sign_label(session: Session, label: SignLabel, editor: User, span: SignSpan) -> SignLabel:
    """Change a label's term, span, side, region or confidence; its status becomes `edited` (the audit log keeps the old values).

    An annotator edits their own labels and model proposals; reviewers and admins edit any label.
    """
    if editor.role not in REVIEWERS and label.annotator_id not in (None, editor.id):
        raise StoreError(f"user {editor.username!r} ({editor.role}) may not edit sign label {label.id} of another annotator: needs the role reviewer or admin")
    _checked(session, span, session.get(Seizure, label.seizure_id))
    label.term, label.side, label.region, label.confidence = span.term, span.side, span.region, span.confidence
    label.start_s, label.end_s = seconds(span.start_s), seconds(span.end_s)
    if label.annotator_id is None:
        label.annotator_id = editor.id
    label.status = "edited"
    session.flush()
    return label


def review_sign_label(session: Session, label: SignLabel, reviewer: User, accept: bool) -> SignLabel:
    """Accept or reject a label or model proposal (reviewers and admins, never on their own label)."""
    require_role(reviewer, REVIEWERS, "accept or reject labels")
    if label.annotator_id == reviewer.id:
        raise StoreError(f"user {reviewer.username!r} may not review their own sign label {label.id}")
    label.status = "accepted" if accept else "rejected"
    session.flush()
    return label


def classify_seizure(
    session: Session, seizure: Seizure, seizure_type: str | None, event_kind: str | None, generalisation_s: float | None = None
) -> Seizure:
    """Set a seizure's ILAE 2025 type, whether it was epileptic, and its generalisation time (None clears a field)."""
    problems = []
    if seizure_type is not None and seizure_type not in SEIZURE_TYPE_KEYS:
        problems.append(f"unknown seizure type {seizure_type!r} (ILAE 2025 types: {', '.join(SEIZURE_TYPE_KEYS)})")
    if event_kind is not None and event_kind not in EVENT_KIND_KEYS:
        problems.append(f"unknown event kind {event_kind!r} (kinds: {', '.join(EVENT_KIND_KEYS)})")
    if generalisation_s is not None and not seizure.onset_s <= generalisation_s <= seizure.offset_s:
        problems.append(f"generalisation {generalisation_s:g} s is outside the seizure [{seizure.onset_s:g} s, {seizure.offset_s:g} s]")
    if problems:
        raise StoreError.from_problems([f"seizure {seizure.seizure_key!r}: {problem}" for problem in problems])
    seizure.seizure_type, seizure.event_kind, seizure.generalisation_s = seizure_type, event_kind, generalisation_s
    session.flush()
    return seizure


def add_keypoint_correction(
    session: Session, seizure: Seizure, frame: int, layout: str, joint: str, position: Sequence[float], user: User, modality: str = "keypoints"
) -> KeypointCorrection:
    """Record a person's corrected position of one joint (a name of the layout) in one frame of a recording.

    `position` is (x, y) in pixels or (x, y, z) in millimetres; the frame must exist when the
    recording's frame count is known.
    """
    recording = session.scalar(select(Recording).where(Recording.seizure_id == seizure.id, Recording.modality == modality))
    where = f"seizure {seizure.seizure_key!r}: keypoint correction"
    if recording is None:
        raise StoreError(f"{where}: the seizure has no {modality!r} recording")
    try:
        joints = get_layout(layout).joint_names
    except KeyError:
        raise StoreError(f"{where}: unknown layout {layout!r}") from None
    problems = []
    if joint not in joints:
        problems.append(f"joint {joint!r} is not in layout {layout!r} (joints: {', '.join(joints)})")
    if frame < 0:
        problems.append(f"frame {frame} is negative")
    elif recording.frame_count is not None and frame >= recording.frame_count:
        problems.append(f"frame {frame} is outside the recording (frames 0 to {recording.frame_count - 1})")
    if len(position) not in (2, 3) or not all(math.isfinite(value) for value in position):
        problems.append(f"position {tuple(position)} must be 2 or 3 finite numbers")
    if problems:
        raise StoreError.from_problems([f"{where}: {problem}" for problem in problems])
    correction = KeypointCorrection(
        recording_id=recording.id, frame=int(frame), layout=layout, joint=joint, x=float(position[0]), y=float(position[1]),
        z=float(position[2]) if len(position) == 3 else None, user_id=user.id,
    )
    session.add(correction)
    session.flush()
    return correction
