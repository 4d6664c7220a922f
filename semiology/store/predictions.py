"""Model predictions per window in the store: what screening (`tools/screen.py --db`) writes.

A bundle is identified by `bundle_identity`: a content hash of its description (`bundle.json`,
which holds the config, the data hash and the training date) and the semiology version that
wrote it. Writing a seizure's predictions for a bundle's model replaces what that bundle's
model wrote before (a rerun of screening leaves one set), and adds one audit entry per seizure
and model, naming how many windows were written and removed.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from semiology.store.audit import log_entry
from semiology.store.database import Store, open_store
from semiology.store.errors import StoreError
from semiology.store.labels import get_seizure
from semiology.store.schema import Seizure, WindowPrediction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BundleIdentity:
    """Which bundle made a prediction: a content hash of its description, and its semiology and format versions."""

    bundle_id: str
    version: str


def bundle_identity(meta: Mapping[str, Any]) -> BundleIdentity:
    """The identity of a bundle from its description (`Bundle.meta`)."""
    canonical = json.dumps(meta, sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]
    study = str(meta.get("study", "bundle"))[:40]
    return BundleIdentity(f"{study}@{digest}", f"{meta.get('semiology_version', '?')}/format-{meta.get('bundle_version', '?')}")


def write_window_predictions(
    session: Session,
    seizure: Seizure,
    bundle: BundleIdentity,
    model: str,
    task: str,
    classes: Sequence[str],
    window_s: float,
    starts: Sequence[float],
    probabilities: Sequence[Sequence[float]],
) -> int:
    """Replace the seizure's windows of this bundle's model by these; returns the number written."""
    if len(starts) != len(probabilities):
        raise StoreError(f"seizure {seizure.seizure_key!r}, model {model!r}: {len(starts)} window starts but {len(probabilities)} probability rows")
    rows = []
    for start, row in zip(starts, probabilities, strict=True):
        if len(row) != len(classes):
            raise StoreError(f"seizure {seizure.seizure_key!r}, model {model!r}: {len(row)} probabilities for {len(classes)} classes {list(classes)}")
        rows.append({"seizure_id": seizure.id, "bundle_id": bundle.bundle_id, "bundle_version": bundle.version, "model": model, "task": task,
                     "start_s": float(start), "end_s": float(start) + float(window_s),
                     "probabilities": {name: float(p) for name, p in zip(classes, row, strict=True)}})
    removed = session.execute(delete(WindowPrediction).where(
        WindowPrediction.seizure_id == seizure.id, WindowPrediction.bundle_id == bundle.bundle_id, WindowPrediction.model == model)).rowcount
    if rows:
        session.execute(insert(WindowPrediction), rows)
    log_entry(session, WindowPrediction.__tablename__, "insert", seizure.id, {"windows": removed} if removed else None,
              {"seizure_key": seizure.seizure_key, "bundle_id": bundle.bundle_id, "bundle_version": bundle.version, "model": model, "task": task, "windows": len(rows)})
    return len(rows)


def write_screening(db: str, meta: Mapping[str, Any], classes: Mapping[str, Sequence[str]], rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Write screening result rows (`semiology.screen`) into the store at `db`: every window of every model of every screened seizure.

    `classes` maps each model to its class names. Rows with an error, and models that could not
    read a recording, write nothing. Every screened seizure must be in the store (import its
    manifest first); otherwise nothing is written. Returns windows written per seizure.
    """
    bundle = bundle_identity(meta)
    screened = [row for row in rows if row.get("status") == "ok"]
    with open_store(db) as store:
        return _write_rows(store, bundle, classes, screened)


def _write_rows(store: Store, bundle: BundleIdentity, classes: Mapping[str, Sequence[str]], rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    written: dict[str, int] = {}
    with store.session(actor=f"screen:{bundle.bundle_id}") as session:
        known = set(session.scalars(select(Seizure.seizure_key).where(Seizure.seizure_key.in_([row["seizure_id"] for row in rows]))))
        missing = [row["seizure_id"] for row in rows if row["seizure_id"] not in known]
        if missing:
            raise StoreError(f"{store.name}: screened seizures not in the store: {', '.join(missing[:10])}{' ...' if len(missing) > 10 else ''}; "
                             "import their manifest first (tools/store.py import)")
        for row in rows:
            seizure = get_seizure(session, row["seizure_id"])
            written[seizure.seizure_key] = 0
            for name, timeline in row.get("timeline", {}).items():
                model = row["models"][name]
                written[seizure.seizure_key] += write_window_predictions(
                    session, seizure, bundle, name, model["task"], classes[name], float(row["window_s"]), timeline["start_s"], timeline["prob"])
    log.info("wrote window predictions of %d seizures from bundle %s to %s", len(written), bundle.bundle_id, store.name)
    return written
