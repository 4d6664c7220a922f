"""BIDS events: store -> events.tsv -> store gives the same labels, on either engine and across engines; bad files are named row by row."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from semiology.store.accounts import add_site, add_user, get_user
from semiology.store.bids import INDEX_FILE, export_events, import_events
from semiology.store.database import Store, init_store
from semiology.store.errors import EventsFileError
from semiology.store.labels import SignSpan, add_sign_label, classify_seizure, get_seizure
from semiology.store.manifests import export_manifest, import_manifest
from semiology.store.schema import AuditEntry, Seizure, SignLabel, User
from tests.store.conftest import PASSWORD, SECRET, People, write_csv


@pytest.fixture
def labelled(store: Store, people: People, tmp_path: Path, videos: Path) -> Store:
    """Three seizures of two patients with labels by two annotators, a model's proposals, reviews and classifications."""
    manifest = write_csv(tmp_path / "m.csv", ["seizure_id", "subject_id", "ir", "fps", "onset_s", "offset_s"], [
        ["sz-1", "site-8", "videos/a.mp4", 25, 1.1, 30.7], ["sz-2", "site-8", "videos/b.mp4", 25, 0.3, 44.45], ["sz-3", "site-9", "videos/c.mp4", 25, 2, 12]])
    import_manifest(store, manifest, people.site, people.admin, SECRET)
    with store.session(actor=people.alice) as session:
        alice, bob = get_user(session, people.alice), get_user(session, people.bob)
        one, two = get_seizure(session, "sz-1"), get_seizure(session, "sz-2")
        add_sign_label(session, one, SignSpan("dystonic_posture", 3.25, 11.000001, "left", "upper_limb", 0.9), annotator=alice)
        add_sign_label(session, one, SignSpan("dystonic_posture", 4.0, 10.5, "left", "upper_limb", None), annotator=bob)
        add_sign_label(session, one, SignSpan("versive_head_turn", 12.1, 15.3, "right", None, 0.6), annotator=alice)
        add_sign_label(session, one, SignSpan("fearful_face", 0.1, 0.2), annotator=alice)
        add_sign_label(session, two, SignSpan("hyperkinetic", 0.3, 20.123456, "bilateral", "whole_body"), annotator=bob, status="accepted")
        add_sign_label(session, two, SignSpan("clonic", 22.0, 40.0, "axial"), model="tiny@0123/AGCN-pose", status="model_proposal")
        add_sign_label(session, two, SignSpan("clonic", 22.0, 40.0, "axial"), model="tiny@0123/AGCN-pose", status="model_proposal")
        classify_seizure(session, one, "focal_impaired_consciousness", "epileptic")
        classify_seizure(session, two, "focal_to_bilateral_tonic_clonic", "epileptic", 21.5)
    return store


def snapshot(store: Store) -> dict[str, tuple]:
    """Every seizure's times, classification and sign labels (with annotators by name), in a comparable form."""
    with store.session() as session:
        names = {user.id: user.username for user in session.scalars(select(User))}
        result = {}
        for seizure in session.scalars(select(Seizure).options(selectinload(Seizure.sign_labels))):
            labels = sorted((l.term, l.region or "", l.side or "", l.start_s, l.end_s, names.get(l.annotator_id, ""), l.model or "",
                             -1.0 if l.confidence is None else l.confidence, l.status) for l in seizure.sign_labels)
            result[seizure.seizure_key] = (seizure.onset_s, seizure.offset_s, seizure.generalisation_s, seizure.seizure_type, seizure.event_kind, labels)
    return result


def _wipe(store: Store, actor: str) -> None:
    with store.session(actor=actor) as session:
        for seizure in session.scalars(select(Seizure)):
            seizure.sign_labels.clear()
            classify_seizure(session, seizure, None, None, None)


def test_store_to_events_to_store_gives_the_same_labels(labelled: Store, people: People, tmp_path: Path) -> None:
    before = snapshot(labelled)
    files = export_events(labelled, tmp_path / "bids")
    assert len(files) == 3
    _wipe(labelled, people.admin)
    assert all(not entry[5] and entry[3] is None for entry in snapshot(labelled).values())
    result = import_events(labelled, tmp_path / "bids", people.rita)
    assert (result.seizures, result.added, result.removed, result.kept) == (3, 7, 0, 0)
    assert snapshot(labelled) == before
    again = import_events(labelled, tmp_path / "bids", people.rita)
    assert (again.added, again.removed, again.kept, again.reclassified) == (0, 0, 7, 0)


def test_events_files_follow_bids_with_hed_score_tags_and_side_in_its_own_column(labelled: Store, tmp_path: Path) -> None:
    export_events(labelled, tmp_path / "bids")
    with (tmp_path / "bids" / INDEX_FILE).open() as handle:
        index = {row["seizure_id"]: row["events_file"] for row in csv.DictReader(handle, delimiter="\t")}
    path = tmp_path / "bids" / index["sz-1"]
    assert path.name.startswith("sub-") and path.name.endswith("_task-seizure_run-1_events.tsv") and path.parent.name == "beh"
    with path.open() as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert list(rows[0]) == ["onset", "duration", "trial_type", "HED", "side", "region", "annotator", "model", "confidence", "status",
                             "seizure_type", "event_kind"]
    seizure, first = rows[0], rows[1]
    assert (seizure["onset"], seizure["duration"], seizure["trial_type"]) == ("1.1", repr(30.7 - 1.1), "seizure")
    assert seizure["HED"] == "sc:Epileptic-seizure, sc:Impaired-awareness-focal-onset-epileptic-seizure"
    assert (first["onset"], first["duration"], first["trial_type"], first["HED"]) == ("0.1", "0.1", "fearful_face", "sc:Semiology-affective-emotional")
    assert (first["side"], first["region"], first["confidence"]) == ("n/a", "n/a", "n/a")
    dystonia = [row for row in rows if row["trial_type"] == "dystonic_posture"]
    assert [(r["onset"], r["duration"], r["side"], r["annotator"]) for r in dystonia] == [("3.25", "7.750001", "left", "alice"), ("4", "6.5", "left", "bob")]
    sidecar = json.loads((tmp_path / "bids" / "task-seizure_events.json").read_text())
    assert sidecar["trial_type"]["Levels"]["dystonic_posture"] == "Dystonic posture"
    assert json.loads((tmp_path / "bids" / "dataset_description.json").read_text())["BIDSVersion"] == "1.10.0"


def test_events_move_between_engines(labelled: Store, people: People, tmp_path: Path) -> None:
    export_events(labelled, tmp_path / "bids")
    manifest = export_manifest(labelled, tmp_path / "m.csv")
    with init_store(tmp_path / "other.sqlite") as other:
        with other.session(actor=people.admin) as session:
            add_site(session, people.site, SECRET)
            for name in (people.admin, people.alice, people.bob, people.rita):
                add_user(session, name, "annotator", PASSWORD)
        import_manifest(other, manifest, people.site, people.admin, pseudonymised=True)
        import_events(other, tmp_path / "bids", people.admin)
        assert snapshot(other) == snapshot(labelled)


def test_an_edited_events_file_syncs_the_labels_and_the_audit_log_says_what_changed(labelled: Store, people: People, tmp_path: Path) -> None:
    export_events(labelled, tmp_path / "bids")
    with (tmp_path / "bids" / INDEX_FILE).open() as handle:
        path = tmp_path / "bids" / {row["seizure_id"]: row["events_file"] for row in csv.DictReader(handle, delimiter="\t")}["sz-1"]
    lines = path.read_text().splitlines()
    lines = [line for line in lines if "versive_head_turn" not in line]
    lines = [line.replace("\tleft\tupper_limb\tbob\t", "\tright\tupper_limb\tbob\t") for line in lines]
    path.write_text("\n".join(lines) + "\n")
    result = import_events(labelled, tmp_path / "bids", people.rita)
    assert (result.added, result.removed, result.kept) == (1, 2, 5)
    with labelled.session() as session:
        deletes = session.scalars(select(AuditEntry).where(AuditEntry.table_name == "sign_labels", AuditEntry.action == "delete")).all()
        terms = {(entry.old_values["term"], entry.old_values["side"], entry.actor) for entry in deletes}
        sides = {label.side for label in session.scalars(select(SignLabel).where(SignLabel.term == "dystonic_posture"))}
    assert terms == {("versive_head_turn", "right", people.rita), ("dystonic_posture", "left", people.rita)}
    assert sides == {"left", "right"}


def test_a_bad_events_file_lists_every_problem_with_file_row_and_column(labelled: Store, people: People, tmp_path: Path) -> None:
    export_events(labelled, tmp_path / "bids")
    with (tmp_path / "bids" / INDEX_FILE).open() as handle:
        path = tmp_path / "bids" / {row["seizure_id"]: row["events_file"] for row in csv.DictReader(handle, delimiter="\t")}["sz-3"]
    path.write_text(
        "onset\tduration\ttrial_type\tside\tannotator\tstatus\n"
        "2\t10\tseizure\tn/a\tn/a\tn/a\n"
        "3\t-1\ttonic\tleft\talice\thuman\n"
        "3\t1\tdystonia\tupwards\tmallory\thuman\n"
        "4\t1\ttonic\tleft\tn/a\tmaybe\n"
        "x\t1\ttonic\tleft\talice\thuman\n"
    )
    before = snapshot(labelled)
    with pytest.raises(EventsFileError) as bad:
        import_events(labelled, tmp_path / "bids", people.rita)
    assert bad.value.problems == (
        f"{path}: row 3: column 'duration': not a finite, non-negative number: '-1'",
        f"{path}: row 4: column 'trial_type': unknown sign term 'dystonia' (terms: " + ", ".join(sorted(_terms(labelled))) + ")",
        f"{path}: row 4: column 'side': unknown side 'upwards' (sides: left, right, bilateral, axial)",
        f"{path}: row 4: column 'annotator': no user 'mallory' in the store (add the user first: tools/store.py add-user)",
        f"{path}: row 5: column 'annotator': a sign needs either an annotator or a model",
        f"{path}: row 5: column 'status': unknown status 'maybe' (statuses: human, model_proposal, accepted, rejected, edited)",
        f"{path}: row 6: column 'onset': not a number: 'x'",
    )
    assert snapshot(labelled) == before, "nothing is imported from a dataset with a bad file"


def _terms(store: Store) -> list[str]:
    from semiology.store.labels import sign_terms

    with store.session() as session:
        return list(sign_terms(session))
