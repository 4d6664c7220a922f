"""Versioned changes to sign labels: an edit, review or delete goes through only if the label is still as the editor saw it.

Two annotators working on one seizure each send the version of the label they were shown; a
label another person changed or deleted meanwhile is refused with a `VersionConflict` that
carries the label as it is now, so nothing is overwritten silently and nothing typed is lost (the
review app shows both). The version column is SQLAlchemy's `version_id_col` (migration 0003):
the UPDATE or DELETE itself names the version, so two transactions racing past the check still
cannot both win.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from semiology.store.errors import StoreError
from semiology.store.labels import REVIEWERS, SignSpan, edit_sign_label, review_sign_label
from semiology.store.schema import SignLabel, User


class VersionConflict(StoreError):
    """A label changed (or was deleted) by someone else since the editor read it; `current` is the label now (None when deleted)."""

    def __init__(self, message: str, current: dict[str, Any] | None) -> None:
        super().__init__(message)
        self.current = current


def label_view(label: SignLabel) -> dict[str, Any]:
    """A label as the review app shows it: no patient data, the author by username or model name."""
    return {
        "id": label.id, "term": label.term, "region": label.region, "side": label.side, "start_s": label.start_s, "end_s": label.end_s,
        "annotator": None if label.annotator is None else label.annotator.username, "model": label.model, "confidence": label.confidence,
        "status": label.status, "version": label.version,
    }


def check_version(label: SignLabel | None, label_id: int, expected: int) -> SignLabel:
    """The label when it is still at version `expected`; a VersionConflict naming who changed it otherwise."""
    if label is None:
        raise VersionConflict(f"sign label {label_id} was deleted by another user; your change was not saved", None)
    if label.version != expected:
        raise VersionConflict(
            f"sign label {label_id} was changed by another user (you edited version {expected}, it is now version {label.version}); "
            "your change was not saved: compare, then apply it again", label_view(label))
    return label


@contextmanager
def _stale_is_conflict(label_id: int) -> Iterator[None]:
    """Turn SQLAlchemy's StaleDataError (another transaction changed the row between our read and our UPDATE) into a VersionConflict."""
    try:
        yield
    except StaleDataError:
        raise VersionConflict(f"sign label {label_id} was changed by another user at the same moment; your change was not saved", None) from None


def edit_versioned(session: Session, label_id: int, expected: int, editor: User, span: SignSpan) -> SignLabel:
    """`labels.edit_sign_label` on the label at version `expected` (its version then goes up by one)."""
    label = check_version(session.get(SignLabel, label_id), label_id, expected)
    with _stale_is_conflict(label_id):
        edit_sign_label(session, label, editor, span)
        session.flush()
    return label


def review_versioned(session: Session, label_id: int, expected: int, reviewer: User, accept: bool) -> SignLabel:
    """Accept or reject (reviewers and admins) the label at version `expected`; a model's proposal keeps its model as provenance."""
    label = check_version(session.get(SignLabel, label_id), label_id, expected)
    with _stale_is_conflict(label_id):
        review_sign_label(session, label, reviewer, accept)
        session.flush()
    return label


def delete_versioned(session: Session, label_id: int, expected: int, user: User) -> None:
    """Delete the label at version `expected`: annotators their own labels only, reviewers and admins any (the audit log keeps it)."""
    label = check_version(session.get(SignLabel, label_id), label_id, expected)
    if user.role not in REVIEWERS and label.annotator_id != user.id:
        raise StoreError(f"user {user.username!r} ({user.role}) may not delete sign label {label_id} of another annotator or a model: needs the role reviewer or admin")
    with _stale_is_conflict(label_id):
        session.delete(label)
        session.flush()
