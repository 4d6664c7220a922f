"""A study reads the label store's sign spans: a person's labels (and reviewed proposals) become a record's spans, pending or rejected proposals never do."""

from __future__ import annotations

import numpy as np
import pytest

from semiology.io.cache import save_record
from semiology.io.manifest import ManifestRow
from semiology.io.skeletons import row_record
from semiology.records import SIGN_SPANS, Keypoints, SeizureRecord
from semiology.store.accounts import get_user
from semiology.store.database import Store
from semiology.store.labels import SignSpan, add_sign_label, get_seizure, review_sign_label, sign_terms
from semiology.store.manifests import StoreSource
from semiology.synthetic.spec import SIGN_TERMS
from tests.store.conftest import People
from tests.store.test_store_labels import seizure_store  # noqa: F401 (the fixture: one seizure in the store)


@pytest.fixture
def labelled_store(seizure_store: Store, people: People) -> Store:  # noqa: F811
    """sz-1 with two head turns by alice, a dystonic posture by bob that rita rejected, and two model proposals: one accepted, one pending."""
    with seizure_store.session(actor=people.alice) as session:
        seizure, alice = get_seizure(session, "sz-1"), get_user(session, people.alice)
        add_sign_label(session, seizure, SignSpan("versive_head_turn", 20.0, 24.5, "left"), annotator=alice)
        add_sign_label(session, seizure, SignSpan("versive_head_turn", 6.0, 9.0, "left"), annotator=alice)
    with seizure_store.session(actor=people.bob) as session:
        rejected = add_sign_label(session, get_seizure(session, "sz-1"), SignSpan("dystonic_posture", 3.0, 5.0, "right"), annotator=get_user(session, people.bob))
    with seizure_store.session(actor="screen:bundle@1") as session:
        accepted = add_sign_label(session, get_seizure(session, "sz-1"), SignSpan("clonic", 10.0, 14.0, "right"), model="tiny@abc/AGCN-pose")
        add_sign_label(session, get_seizure(session, "sz-1"), SignSpan("tonic", 15.0, 18.0, "bilateral"), model="tiny@abc/AGCN-pose")
    with seizure_store.session(actor=people.rita) as session:
        rita = get_user(session, people.rita)
        review_sign_label(session, session.merge(accepted), rita, accept=True)
        review_sign_label(session, session.merge(rejected), rita, accept=False)
    return seizure_store


def test_store_rows_carry_the_trusted_sign_spans_into_the_record(labelled_store: Store, db_url: str) -> None:
    (row,) = StoreSource(db_url).rows()
    assert row.sign_spans == {"versive_head_turn": [(6.0, 9.0), (20.0, 24.5)], "clonic": [(10.0, 14.0)]}
    record = row_record(row)
    assert record.sign_spans("versive_head_turn") == [(6.0, 9.0), (20.0, 24.5)]
    assert record.sign_spans("tonic") == [] and record.sign_spans("dystonic_posture") == []


def test_the_synthetic_cohort_annotates_its_signs_with_terms_of_the_store(store: Store) -> None:
    with store.session() as session:
        terms = set(sign_terms(session))
    used = set(SIGN_TERMS.values())
    assert used <= terms, f"terms unknown to the store: {sorted(used - terms)}"


def test_the_store_row_replaces_the_spans_a_cached_record_carries(tmp_path) -> None:
    frames = 20
    record = SeizureRecord("sz-9", "x", 10.0, 0.5, 1.5, {}, meta={SIGN_SPANS: {"versive_head_turn": [[0.5, 1.0]]}},
                           body_2d=Keypoints(np.ones((frames, 11, 2), np.float32), np.ones((frames, 11), np.float32), "upper_body_11", 10.0, "test"))
    path = save_record(record, tmp_path / "sz-9.npz", config_hash="test")

    def row(spans):
        return ManifestRow("sz-9", "x", {"keypoints": path}, 10.0, 0.5, 1.5, sign_spans=spans)

    assert row_record(row(None)).sign_spans("versive_head_turn") == [(0.5, 1.0)], "a CSV manifest leaves the cached spans"
    assert SIGN_SPANS not in row_record(row({})).meta, "the store holding no trusted label of any sign drops the cached spans"
    replaced = row_record(row({"clonic": [(0.6, 0.9)]}))
    assert replaced.sign_spans("clonic") == [(0.6, 0.9)] and replaced.sign_spans("versive_head_turn") == []
