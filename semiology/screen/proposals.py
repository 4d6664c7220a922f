"""Detected episodes into the label store as model proposals, for clinicians to accept or reject in the review app.

Each episode of a two-class model (`semiology.screen.predict.detect_episodes`) becomes a sign
label with status `model_proposal` (the store's existing `add_sign_labels`), named by the
bundle's identity and the model, with the episode's peak probability as confidence. The sign
term is the model's task when the store's vocabulary has it, or `TASK_TERMS`' term for this
project's task names; a task with no sign term (e.g. an onset detector's `ictal`) proposes
nothing and is counted. A rerun replaces the model's earlier *unreviewed* proposals of the
seizure; accepted, rejected or edited ones stay.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete

from semiology.store.database import open_store
from semiology.store.labels import SignSpan, add_sign_labels, get_seizure, sign_terms
from semiology.store.predictions import bundle_identity
from semiology.store.schema import SignLabel

TASK_TERMS: dict[str, str] = {"dystonia": "dystonic_posture", "emotion": "fearful_face"}
"""Sign terms of this project's task names that are not themselves terms of the vocabulary."""


def write_episode_proposals(db: str, meta: Mapping[str, Any], tasks: Mapping[str, str], rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Write the episodes of screened `rows` into the store at `db`; `tasks` maps each model to its task.

    Returns `{"proposals": written, "no_term": episodes of models whose task has no sign term}`.
    """
    bundle = bundle_identity(meta)
    counts = {"proposals": 0, "no_term": 0}
    with open_store(db) as store, store.session(actor=f"screen:{bundle.bundle_id}") as session:
        terms = sign_terms(session)
        for row in rows:
            if row.get("status") != "ok" or not row.get("episodes"):
                continue
            seizure = get_seizure(session, row["seizure_id"])
            duration = float(row.get("duration_s") or math.inf)
            for name, episodes in row["episodes"].items():
                term = tasks[name] if tasks[name] in terms else TASK_TERMS.get(tasks[name])
                if term not in terms:
                    counts["no_term"] += len(episodes)
                    continue
                author = f"{bundle.bundle_id}:{name}"
                session.execute(delete(SignLabel).where(SignLabel.seizure_id == seizure.id, SignLabel.model == author, SignLabel.status == "model_proposal"))
                spans = [(seizure, SignSpan(term, episode["start_s"], min(episode["end_s"], duration), confidence=round(float(episode["peak"]), 4)))
                         for episode in episodes if min(episode["end_s"], duration) > episode["start_s"]]
                if spans:
                    add_sign_labels(session, spans, model=author)
                    counts["proposals"] += len(spans)
    return counts
