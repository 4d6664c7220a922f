"""Episodes of screened recordings into the label store as model proposals (SQLite and the real PostgreSQL)."""

from __future__ import annotations

import dataclasses
import math

from sqlalchemy import select

from semiology.bundle import load_bundle
from semiology.io.cache import cache_path, save_record
from semiology.io.manifest import ManifestRow, write_manifest
from semiology.screen.predict import AlarmPolicy, screen_record
from semiology.screen.proposals import write_episode_proposals
from semiology.store.manifests import import_manifest
from semiology.store.predictions import bundle_identity
from semiology.store.schema import Seizure, SignLabel
from tests.store.conftest import db_url, people, store  # noqa: F401  (fixtures)


def test_episodes_become_model_proposals_replaced_on_rerun_unless_reviewed(store, people, db_url, live_bundle, unseen_recordings, tmp_path):  # noqa: F811
    rows = []
    for record in unseen_recordings:
        path = save_record(record, cache_path(tmp_path / "cache", record.seizure_id), config_hash="test")
        rows.append(ManifestRow(record.seizure_id, record.subject_id, {"keypoints": path}, record.fps, record.onset_s, record.offset_s, None, {}))
    import_manifest(store, write_manifest(rows, tmp_path / "manifest.csv"), people.site, people.admin, pseudonymised=True)
    bundle = load_bundle(live_bundle.path)
    policy = AlarmPolicy(threshold=0.5)
    screened = [{**screen_record(bundle, dataclasses.replace(r, onset_s=math.nan, offset_s=math.nan), policy), "status": "ok"} for r in unseen_recordings]
    expected = sum(len(row["episodes"]["AGCN-onset"]) for row in screened)
    assert expected >= 2
    assert write_episode_proposals(db_url, bundle.meta, {"AGCN-onset": "ictal"}, screened) == {"proposals": 0, "no_term": expected}
    assert write_episode_proposals(db_url, bundle.meta, {"AGCN-onset": "clonic"}, screened) == {"proposals": expected, "no_term": 0}
    author = f"{bundle_identity(bundle.meta).bundle_id}:AGCN-onset"
    with store.session(actor=people.rita) as session:
        labels = session.execute(select(Seizure.seizure_key, SignLabel).join(Seizure, Seizure.id == SignLabel.seizure_id)).all()
        assert len(labels) == expected
        assert all(label.term == "clonic" and label.status == "model_proposal" and label.model == author and label.annotator_id is None for _, label in labels)
        first_key, first = labels[0]
        episode = next(row for row in screened if row["seizure_id"] == first_key)["episodes"]["AGCN-onset"][0]
        assert abs(first.start_s - episode["start_s"]) < 1e-3 and first.confidence == round(episode["peak"], 4)
        first.status = "accepted"
    write_episode_proposals(db_url, bundle.meta, {"AGCN-onset": "clonic"}, screened)
    with store.session() as session:
        statuses = sorted(label.status for label in session.scalars(select(SignLabel)))
    assert statuses == ["accepted"] + ["model_proposal"] * expected, "a rerun replaces unreviewed proposals and keeps reviewed ones"
