"""A live session's alarm episodes become model proposals in the label store as each one ends."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from semiology.bundle import load_bundle
from semiology.live.cli import live
from semiology.live.proposals import LiveProposals
from semiology.store.database import Store
from semiology.store.errors import StoreError
from semiology.store.manifests import import_manifest
from semiology.store.schema import Seizure, SignLabel
from tests.bundle_fixtures import TinyBundle, tiny_bundle
from tests.store.conftest import People
from tests.store.test_store_screening import screened_manifest  # noqa: F401  (the module-scoped fixture)


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> TinyBundle:
    return tiny_bundle(tmp_path_factory.getbasetemp() / "tiny_bundle")


def _proposals(store: Store) -> list[tuple[str, float, float, float, str]]:
    with store.session() as session:
        query = select(Seizure.seizure_key, SignLabel).join(Seizure, Seizure.id == SignLabel.seizure_id).where(SignLabel.status == "model_proposal")
        return sorted((key, label.start_s, label.end_s, label.confidence, label.term) for key, label in session.execute(query))


ALARM = {"type": "alarm", "model": "AGCN-pose", "task": "dystonia", "class": "yes", "onset_s": 2.0, "alarm_s": 6.0,
         "evidence": [{"start_s": 0.0, "probability": 0.3}, {"start_s": 2.0, "probability": 0.7}, {"start_s": 4.0, "probability": 0.8}]}
DECISION = {"type": "decision", "window_start_s": 6.0, "window_end_s": 8.0, "models": {"AGCN-pose": {"task": "dystonia", "prob": {"no": 0.1, "yes": 0.9}, "above": True}}}
END = {"type": "alarm_end", "model": "AGCN-pose", "task": "dystonia", "end_s": 8.0, "at_s": 12.0}


def test_each_alarm_episode_is_proposed_when_it_ends_and_an_open_one_when_the_session_stops(
    store: Store, people: People, db_url: str, bundle: TinyBundle, screened_manifest: Path  # noqa: F811
) -> None:
    import_manifest(store, screened_manifest, people.site, people.admin, pseudonymised=True)
    with store.session() as session:
        seizure = session.scalars(select(Seizure.seizure_key).order_by(Seizure.seizure_key)).first()
    proposals = LiveProposals(db_url, seizure, load_bundle(bundle.path))
    for event in (ALARM, DECISION):
        proposals.observe(event)
    assert _proposals(store) == [], "an episode is proposed when it ends, not while it runs"
    proposals.observe(END)
    assert _proposals(store) == [(seizure, 2.0, 8.0, 0.9, "dystonic_posture")]
    proposals.observe({**ALARM, "onset_s": 14.0, "alarm_s": 18.0, "evidence": [{"start_s": 14.0, "probability": 0.6}, {"start_s": 16.0, "probability": 0.65}]})
    assert proposals.close() == {"proposals": 2, "no_term": 0}
    assert _proposals(store) == [(seizure, 2.0, 8.0, 0.9, "dystonic_posture"), (seizure, 14.0, 18.0, 0.65, "dystonic_posture")]

    with pytest.raises(StoreError, match="no seizure 'not-registered' in the store"):
        LiveProposals(db_url, "not-registered", load_bundle(bundle.path))


def test_the_store_options_go_together(tmp_path: Path, capsys) -> None:
    assert live(["--bundle", str(tmp_path), "--source", "0", "--db", str(tmp_path / "store.sqlite")]) == 2
    assert "--db and --seizure-id go together" in capsys.readouterr().err
