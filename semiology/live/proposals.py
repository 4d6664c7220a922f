"""A live session's alarm episodes into the label store as model proposals, each as soon as it ends.

A bedside session is tied to one recording the store already knows (`--seizure-id`): the
camera's recording registered like any other, so that its proposals reach the review app
beside the batch screening's. An episode runs from the first above-threshold window of an
alarm to the end of its last one (the batch rule, `semiology.screen.predict.detect_episodes`)
with the highest probability seen as its confidence; it is written when its `alarm_end`
arrives, and an episode still open when the session stops is written then. Writing goes
through the batch path (`semiology.screen.proposals.write_episode_proposals`), which replaces
the model's unreviewed proposals of the recording with the session's episodes so far, so a
crash between two writes loses at most the open episode.
"""

from __future__ import annotations

from typing import Any

from semiology.bundle import Bundle
from semiology.screen.proposals import write_episode_proposals
from semiology.store.database import open_store
from semiology.store.labels import get_seizure


class LiveProposals:
    """Collect alarm episodes from a live session's events and write them to the store at `db` for `seizure_id`.

    The recording must be in the store when the session starts (a StoreError otherwise), so a
    wrong id fails before the camera runs, not at the first alarm.
    """

    def __init__(self, db: str, seizure_id: str, bundle: Bundle) -> None:
        with open_store(db) as store, store.session(actor="live") as session:
            get_seizure(session, seizure_id)
        self.db = db
        self.seizure_id = seizure_id
        self.meta = bundle.meta
        self.tasks = {name: model.task for name, model in bundle.models.items()}
        self.episodes: dict[str, list[dict[str, float]]] = {}
        self.open: dict[str, dict[str, Any]] = {}
        self.written: dict[str, dict[str, int]] = {}

    def observe(self, event: dict[str, Any]) -> None:
        """Follow one event of the session (`alarm`, `decision`, `alarm_end`; others are ignored)."""
        kind = event.get("type")
        if kind == "alarm":
            evidence = [item["probability"] for item in event.get("evidence", []) if item["start_s"] >= event["onset_s"]]
            self.open[event["model"]] = {"start_s": float(event["onset_s"]), "end_s": float(event["alarm_s"]), "alarm_s": float(event["alarm_s"]),
                                         "peak": max(evidence, default=0.0), "class": event["class"]}
        elif kind == "decision":
            for name, result in event.get("models", {}).items():
                episode = self.open.get(name)
                if episode is None or "prob" not in result:
                    continue
                episode["peak"] = max(episode["peak"], float(result["prob"][episode["class"]]))
                if result.get("above"):
                    episode["end_s"] = float(event["window_end_s"])
        elif kind == "alarm_end" and event["model"] in self.open:
            episode = self.open.pop(event["model"])
            episode["end_s"] = float(event["end_s"])
            self._close(event["model"], episode)

    def close(self) -> dict[str, int]:
        """Write the episodes still open (the session stopped during them); returns the totals (see `counts`)."""
        for name in list(self.open):
            self._close(name, self.open.pop(name))
        return self.counts()

    def counts(self) -> dict[str, int]:
        """Episodes in the store as proposals, and episodes of models whose task has no sign term (not written)."""
        return {key: sum(written[key] for written in self.written.values()) for key in ("proposals", "no_term")}

    def _close(self, name: str, episode: dict[str, Any]) -> None:
        self.episodes.setdefault(name, []).append({key: episode[key] for key in ("start_s", "end_s", "alarm_s", "peak")})
        row = {"status": "ok", "seizure_id": self.seizure_id, "episodes": {name: self.episodes[name]}}
        self.written[name] = write_episode_proposals(self.db, self.meta, {name: self.tasks[name]}, [row])
