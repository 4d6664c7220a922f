"""The audit log: every insert, update and delete of a store row, with who made it and the values before and after.

Mapper events collect one entry per row the flush inserts, updates or deletes (cascaded and
orphan deletes included); after the flush they are written to `audit_log` through the same
connection (`install_audit` on a store's session factory), so they commit or roll back with the
change. A flush that changes rows without an actor (`Session.info["actor"]`, set by
`Store.session`) is refused: every change has an author. Password hashes are not copied into
the log (`"<changed>"` marks that one changed). Window predictions are written in bulk by
screening and logged as one entry per seizure and model (`semiology.store.predictions`), not one per window.
"""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session, object_session, sessionmaker

from semiology.store.errors import StoreError
from semiology.store.schema import AuditEntry, Base, WindowPrediction, utc_now

NOT_LOGGED: frozenset[str] = frozenset({AuditEntry.__tablename__, WindowPrediction.__tablename__})
HIDDEN_COLUMNS: frozenset[str] = frozenset({"password_hash"})
ACTOR_KEY = "actor"
PENDING_KEY = "audit_pending"


def install_audit(factory: sessionmaker[Session]) -> None:
    """Write the audit entries of every change flushed by sessions of `factory` (and forget those of a rolled-back flush)."""
    event.listen(factory, "after_flush", _after_flush)
    event.listen(factory, "after_rollback", _forget_pending)


def _forget_pending(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)


def _pending(target: Base) -> list[dict[str, Any]] | None:
    session = object_session(target)
    return None if session is None else session.info.setdefault(PENDING_KEY, [])


@event.listens_for(Base, "after_insert", propagate=True)
def _inserted(_mapper: Any, _connection: Any, target: Base) -> None:
    if target.__tablename__ not in NOT_LOGGED and (pending := _pending(target)) is not None:
        pending.append(_entry(target, "insert", None, row_values(target)))


@event.listens_for(Base, "after_update", propagate=True)
def _updated(_mapper: Any, _connection: Any, target: Base) -> None:
    if target.__tablename__ not in NOT_LOGGED and (pending := _pending(target)) is not None:
        old, new = _changes(target)
        if new:
            pending.append(_entry(target, "update", old, new))


@event.listens_for(Base, "after_delete", propagate=True)
def _deleted(_mapper: Any, _connection: Any, target: Base) -> None:
    if target.__tablename__ not in NOT_LOGGED and (pending := _pending(target)) is not None:
        pending.append(_entry(target, "delete", row_values(target), None))


def _entry(target: Base, action: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    return {"table_name": target.__tablename__, "row_id": _primary_key(target), "action": action, "old_values": old, "new_values": new}


def plain(value: Any) -> Any:
    """A column value as JSON: datetimes as ISO 8601 text, everything else as it is."""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return value


def row_values(obj: Base) -> dict[str, Any]:
    """Every loaded column of a mapped object, as JSON-able values (hidden columns shown as `"<set>"`)."""
    state = inspect(obj)
    values = {}
    for attribute in state.mapper.column_attrs:
        value = state.dict.get(attribute.key)
        values[attribute.key] = "<set>" if attribute.key in HIDDEN_COLUMNS else plain(value)
    return values


def _primary_key(obj: Base) -> int | None:
    state = inspect(obj)
    keys = [state.dict.get(state.mapper.get_property_by_column(column).key) for column in state.mapper.primary_key]
    return keys[0] if len(keys) == 1 and isinstance(keys[0], int) else None


def _changes(obj: Base) -> tuple[dict[str, Any], dict[str, Any]]:
    """The columns of `obj` changed in this flush: values before and after."""
    state = inspect(obj)
    old, new = {}, {}
    for attribute in state.mapper.column_attrs:
        history = state.attrs[attribute.key].history
        if not history.has_changes():
            continue
        before = history.deleted[0] if history.deleted else None
        after = history.added[0] if history.added else None
        if attribute.key in HIDDEN_COLUMNS:
            before, after = "<changed>", "<changed>"
        old[attribute.key], new[attribute.key] = plain(before), plain(after)
    return old, new


def _after_flush(session: Session, _context: Any) -> None:
    entries = session.info.pop(PENDING_KEY, [])
    if not entries:
        return
    actor = session.info.get(ACTOR_KEY)
    if not actor:
        tables = sorted({entry["table_name"] for entry in entries})
        raise StoreError(f"a change to {', '.join(tables)} without an actor: open the session with Store.session(actor=...) so the audit log says who made it")
    now = utc_now()
    for entry in entries:
        entry.update(at=now, actor=actor)
    session.connection().execute(insert(AuditEntry), entries)


def log_entry(session: Session, table_name: str, action: str, row_id: int | None, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
    """Write one audit entry by hand (for bulk writes the ORM does not see row by row)."""
    actor = session.info.get(ACTOR_KEY)
    if not actor:
        raise StoreError(f"a change to {table_name} without an actor: open the session with Store.session(actor=...)")
    session.connection().execute(
        insert(AuditEntry), [{"at": utc_now(), "actor": actor, "table_name": table_name, "row_id": row_id, "action": action, "old_values": old, "new_values": new}]
    )
