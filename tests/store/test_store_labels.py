"""Sign labels, reviews, classification and keypoint corrections: checked values, roles, and an audit entry for every change."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from semiology.store.accounts import get_user
from semiology.store.database import Store
from semiology.store.errors import StoreError
from semiology.store.labels import SignSpan, add_keypoint_correction, add_sign_label, classify_seizure, edit_sign_label, get_seizure, get_sign_label, review_sign_label, sign_terms
from semiology.store.manifests import import_manifest
from semiology.store.schema import AuditEntry, KeypointCorrection, SignLabel
from tests.store.conftest import SECRET, People, cached_record, write_csv


@pytest.fixture
def seizure_store(store: Store, people: People, tmp_path: Path) -> Store:
    """The store with one seizure (40 s, a 30-frame cached record)."""
    cached_record(tmp_path / "sz-1.npz", "sz-1", "x", frames=30)
    manifest = write_csv(tmp_path / "m.csv", ["seizure_id", "subject_id", "keypoints", "fps", "onset_s", "offset_s"],
                         [["sz-1", "site-5", "sz-1.npz", 10, 2, 40]])
    import_manifest(store, manifest, people.site, people.admin, SECRET)
    return store


def _audit(store: Store, table: str) -> list[AuditEntry]:
    with store.session() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.table_name == table).order_by(AuditEntry.id)))


def test_the_vocabulary_is_seeded_with_hed_score_tags(store: Store) -> None:
    with store.session() as session:
        terms = sign_terms(session)
    assert len(terms) == 20
    assert terms["dystonic_posture"].hed == "sc:Semiology-dystonic"
    assert terms["versive_head_turn"].region == "head"
    assert terms["fearful_face"].hed == "sc:Semiology-affective-emotional"
    assert {"tonic", "clonic", "hyperkinetic", "oroalimentary_automatisms", "manual_automatisms"} <= set(terms)


def test_a_label_is_checked_then_stored_with_its_author_and_audited(seizure_store: Store, people: People) -> None:
    with seizure_store.session(actor=people.alice) as session:
        seizure, alice = get_seizure(session, "sz-1"), get_user(session, people.alice)
        label = add_sign_label(session, seizure, SignSpan("dystonic_posture", 3.1234567, 9.5, "left", "upper_limb", 0.8), annotator=alice)
        with pytest.raises(StoreError) as bad:
            add_sign_label(session, seizure, SignSpan("dystonia", 5.0, 4.0, "up", "elbow", 1.5), annotator=alice)
    assert (label.status, label.start_s, label.side) == ("human", 3.123457, "left"), "times are kept to the microsecond"
    assert [problem.split(": ", 2)[2].split(" (")[0] for problem in bad.value.problems] == [
        "unknown sign term 'dystonia'", "unknown side 'up'", "unknown region 'elbow'", "end 4 s is not after start 5 s", "confidence 1.5 is outside [0, 1]"]
    (entry,) = _audit(seizure_store, "sign_labels")
    assert (entry.actor, entry.action, entry.row_id, entry.old_values) == (people.alice, "insert", label.id, None)
    assert entry.new_values["term"] == "dystonic_posture" and entry.new_values["end_s"] == 9.5


def test_model_proposals_are_reviewed_by_reviewers_only(seizure_store: Store, people: People) -> None:
    with seizure_store.session(actor="screen:bundle@1") as session:
        proposal = add_sign_label(session, get_seizure(session, "sz-1"), SignSpan("clonic", 10, 14, "right"), model="tiny@abc/AGCN-pose")
    assert proposal.status == "model_proposal" and proposal.annotator_id is None
    with seizure_store.session(actor=people.alice) as session, pytest.raises(StoreError, match=r"user 'alice' \(annotator\) may not accept or reject labels"):
        review_sign_label(session, get_sign_label(session, proposal.id), get_user(session, people.alice), accept=True)
    with seizure_store.session(actor=people.rita) as session:
        review_sign_label(session, get_sign_label(session, proposal.id), get_user(session, people.rita), accept=False)
    entries = _audit(seizure_store, "sign_labels")
    assert [(e.actor, e.action) for e in entries] == [("screen:bundle@1", "insert"), (people.rita, "update")]
    assert (entries[1].old_values, entries[1].new_values) == ({"status": "model_proposal"}, {"status": "rejected"})


def test_editing_keeps_the_old_span_in_the_audit_log_and_respects_ownership(seizure_store: Store, people: People) -> None:
    with seizure_store.session(actor=people.alice) as session:
        label = add_sign_label(session, get_seizure(session, "sz-1"), SignSpan("tonic", 5, 8, "bilateral"), annotator=get_user(session, people.alice))
    with seizure_store.session(actor=people.bob) as session, pytest.raises(StoreError, match="may not edit sign label .* of another annotator"):
        edit_sign_label(session, get_sign_label(session, label.id), get_user(session, people.bob), SignSpan("tonic", 5, 9, "bilateral"))
    with seizure_store.session(actor=people.alice) as session:
        edit_sign_label(session, get_sign_label(session, label.id), get_user(session, people.alice), SignSpan("tonic", 5.5, 9, "axial"))
    update = _audit(seizure_store, "sign_labels")[-1]
    assert update.actor == people.alice
    assert update.old_values == {"side": "bilateral", "start_s": 5.0, "end_s": 8.0, "status": "human"}
    assert update.new_values == {"side": "axial", "start_s": 5.5, "end_s": 9.0, "status": "edited"}
    with seizure_store.session(actor=people.rita) as session, pytest.raises(StoreError, match="may not review their own"):
        own = add_sign_label(session, get_seizure(session, "sz-1"), SignSpan("tonic", 1, 2), annotator=get_user(session, people.rita))
        review_sign_label(session, own, get_user(session, people.rita), accept=True)


def test_classification_is_checked_against_ilae_2025_and_the_seizure(seizure_store: Store, people: People) -> None:
    with seizure_store.session(actor=people.rita) as session:
        seizure = get_seizure(session, "sz-1")
        classify_seizure(session, seizure, "focal_to_bilateral_tonic_clonic", "epileptic", 20.0)
        with pytest.raises(StoreError) as bad:
            classify_seizure(session, seizure, "complex_partial", "maybe", 50.0)
    assert [p.split(": ", 1)[1].split(" (")[0] for p in bad.value.problems] == [
        "unknown seizure type 'complex_partial'", "unknown event kind 'maybe'", "generalisation 50 s is outside the seizure [2 s, 40 s]"]
    update = _audit(seizure_store, "seizures")[-1]
    assert update.new_values == {"generalisation_s": 20.0, "seizure_type": "focal_to_bilateral_tonic_clonic", "event_kind": "epileptic"}


def test_keypoint_corrections_name_a_joint_of_the_layout_and_a_frame_of_the_recording(seizure_store: Store, people: People) -> None:
    with seizure_store.session(actor=people.alice) as session:
        seizure, alice = get_seizure(session, "sz-1"), get_user(session, people.alice)
        correction = add_keypoint_correction(session, seizure, 12, "upper_body_11", "left_wrist", (101.5, 77.25), alice)
        with pytest.raises(StoreError) as bad:
            add_keypoint_correction(session, seizure, 30, "upper_body_11", "left_pinky", (1.0, float("nan")), alice)
    assert (correction.frame, correction.joint, correction.x, correction.y, correction.z) == (12, "left_wrist", 101.5, 77.25, None)
    assert bad.value.problems == (
        ("seizure 'sz-1': keypoint correction: joint 'left_pinky' is not in layout 'upper_body_11' (joints: head, neck, right_shoulder, right_elbow, "
         "right_wrist, left_shoulder, left_elbow, left_wrist, right_hip, left_hip, spine_base)"),
        "seizure 'sz-1': keypoint correction: frame 30 is outside the recording (frames 0 to 29)",
        "seizure 'sz-1': keypoint correction: position (1.0, nan) must be 2 or 3 finite numbers",
    )
    with seizure_store.session() as session:
        assert len(session.scalars(select(KeypointCorrection)).all()) == 1
    assert _audit(seizure_store, "keypoint_corrections")[0].new_values["joint"] == "left_wrist"


def test_a_failed_change_leaves_neither_rows_nor_audit_entries(seizure_store: Store, people: People) -> None:
    before = len(_audit(seizure_store, "sign_labels"))
    with pytest.raises(StoreError):
        with seizure_store.session(actor=people.alice) as session:
            add_sign_label(session, get_seizure(session, "sz-1"), SignSpan("tonic", 1, 2), annotator=get_user(session, people.alice))
            add_sign_label(session, get_seizure(session, "sz-1"), SignSpan("tonic", 3, 2), annotator=get_user(session, people.alice))
    with seizure_store.session() as session:
        assert session.scalars(select(SignLabel)).all() == []
    assert len(_audit(seizure_store, "sign_labels")) == before
