"""Manifests in and out of the store: lossless round trips, idempotent re-imports, audited updates, clear refusals."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from semiology.errors import ManifestError
from semiology.io.manifest import ManifestRow, load_manifest
from semiology.io.sources import RowSource
from semiology.pseudonyms import pseudonym
from semiology.store.accounts import add_site, get_user
from semiology.store.database import Store
from semiology.store.errors import IdentifierError, StoreError
from semiology.store.manifests import StoreSource, export_manifest, import_manifest
from semiology.store.schema import AuditEntry, Patient, Recording, Seizure, TaskLabel
from tests.store.conftest import SECRET, People, cached_record, write_csv

HEADER = ["seizure_id", "subject_id", "ir", "rgb", "keypoints", "fps", "onset_s", "offset_s", "generalisation_s", "dystonia", "emotion",
          "ilae_seizure_type", "event_kind"]


@pytest.fixture
def manifest(tmp_path: Path, videos: Path) -> Path:
    """Four seizures of three patients: videos, an image folder, a cached record, empty cells, every classification column."""
    cached_record(tmp_path / "cache" / "sz-004.npz", "sz-004", "whatever the cache says", frames=25)
    return write_csv(tmp_path / "manifest.csv", HEADER, [
        ["sz-001", "site-17", "videos/a.mp4", "", "", 25, 1.5, 40.125, "", "yes", "no", "focal_impaired_consciousness", "epileptic"],
        ["sz-002", "site-17", "videos/b.mp4", "videos/frames", "", 25, 0, 62.25, 30.5, "no", "", "focal_to_bilateral_tonic_clonic", "epileptic"],
        ["sz-003", "site-22", "", "videos/c.mp4", "", "", 3, 9.1, "", "", "yes", "", "psychogenic_non_epileptic"],
        ["sz-004", "site-31", "", "", "cache/sz-004.npz", 10, 0.5, 2.5, "", "no", "no", "", ""],
    ])


def _without_row_numbers(rows: list[ManifestRow], **changes) -> list[ManifestRow]:
    return [dataclasses.replace(row, row_number=0, **changes) for row in rows]


def _pseudonymised(rows: list[ManifestRow]) -> list[ManifestRow]:
    return [dataclasses.replace(row, subject_id=pseudonym(row.subject_id, SECRET), row_number=0) for row in rows]


def _count(store: Store, model) -> int:
    with store.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)))


@pytest.mark.parametrize("suffix", [".csv", ".yaml"])
def test_manifest_to_store_to_manifest_gives_the_same_rows(store: Store, people: People, manifest: Path, tmp_path: Path, suffix: str) -> None:
    summary = import_manifest(store, manifest, people.site, people.admin, SECRET)
    assert (summary.rows, summary.created, summary.updated, summary.unchanged) == (4, 4, 0, 0)
    exported = export_manifest(store, tmp_path / "out" / f"exported{suffix}")
    original = load_manifest(manifest)
    assert _without_row_numbers(load_manifest(exported)) == _pseudonymised(original)
    assert {row.subject_id for row in load_manifest(exported)} == {pseudonym(s, SECRET) for s in ("site-17", "site-22", "site-31")}


def test_reimporting_changes_nothing_and_logs_nothing(store: Store, people: People, manifest: Path, tmp_path: Path) -> None:
    import_manifest(store, manifest, people.site, people.admin, SECRET)
    entries = _count(store, AuditEntry)
    again = import_manifest(store, manifest, people.site, people.admin, SECRET)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    exported = export_manifest(store, tmp_path / "exported.csv")
    from_export = import_manifest(store, exported, people.site, people.admin, pseudonymised=True)
    assert (from_export.created, from_export.updated, from_export.unchanged) == (0, 0, 4), "pseudonymised ids are the same patients"
    assert _count(store, AuditEntry) == entries
    assert _count(store, Patient) == 3


def test_a_changed_manifest_updates_the_store_and_the_audit_log_keeps_the_old_values(store: Store, people: People, manifest: Path, tmp_path: Path) -> None:
    import_manifest(store, manifest, people.site, people.admin, SECRET)
    text = manifest.read_text().replace("sz-001,site-17,videos/a.mp4,,,25,1.5,40.125,,yes,no", "sz-001,site-17,videos/a.mp4,,,25,1.5,41.0,,no,no")
    text = "\n".join(line for line in text.splitlines() if not line.startswith("sz-003")) + "\n"
    changed = tmp_path / "changed.csv"
    changed.write_text(text)
    summary = import_manifest(store, changed, people.site, people.alice, SECRET)
    assert (summary.rows, summary.created, summary.updated, summary.unchanged) == (3, 0, 1, 2)
    with store.session() as session:
        seizure = session.scalars(select(Seizure).where(Seizure.seizure_key == "sz-001")).one()
        assert seizure.offset_s == 41.0
        label = session.scalars(select(TaskLabel).where(TaskLabel.seizure_id == seizure.id, TaskLabel.task == "dystonia")).one()
        assert (label.value, label.status) == ("no", "edited")
        updates = session.scalars(select(AuditEntry).where(AuditEntry.action == "update").order_by(AuditEntry.id)).all()
        assert {(e.table_name, e.actor) for e in updates} == {("seizures", people.alice), ("task_labels", people.alice)}
        seizure_update = next(e for e in updates if e.table_name == "seizures")
        assert (seizure_update.row_id, seizure_update.old_values, seizure_update.new_values) == (seizure.id, {"offset_s": 40.125}, {"offset_s": 41.0})
        label_update = next(e for e in updates if e.table_name == "task_labels")
        admin, alice = (get_user(session, name).id for name in (people.admin, people.alice))
        assert label_update.old_values == {"value": "yes", "annotator_id": admin, "status": "human"}
        assert label_update.new_values == {"value": "no", "annotator_id": alice, "status": "edited"}
    exported = load_manifest(export_manifest(store, tmp_path / "after.csv"))
    assert [row.seizure_id for row in exported] == ["sz-001", "sz-002", "sz-003", "sz-004"], "a seizure left out of a manifest stays in the store"


def test_files_are_probed_for_checksums_and_frame_counts(store: Store, people: People, manifest: Path, videos: Path) -> None:
    import_manifest(store, manifest, people.site, people.admin, SECRET)
    with store.session() as session:
        recordings = {(r.seizure.seizure_key, r.modality): r for r in session.scalars(select(Recording))}
    video = recordings[("sz-001", "ir")]
    assert video.checksum == "sha256:" + hashlib.sha256((videos / "a.mp4").read_bytes()).hexdigest()
    assert video.frame_count is None and video.fps == 25.0
    assert recordings[("sz-002", "rgb")].checksum.startswith("sha256:"), "an image folder gets a checksum of its files"
    keypoints = recordings[("sz-004", "keypoints")]
    assert keypoints.frame_count == 25 and keypoints.fps == 10.0
    assert recordings[("sz-003", "rgb")].fps is None


def test_identifying_columns_are_refused_by_name_and_never_stored(store: Store, people: People, videos: Path, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "named.csv", ["seizure_id", "subject_id", "ir", "onset_s", "offset_s", "Patient Name", "DOB", "dystonia", "MRN"],
                     [["sz-9", "site-40", "videos/a.mp4", 0, 10, "Ada Lovelace", "1815-12-10", "yes", "H1234567"]])
    with pytest.raises(IdentifierError) as refused:
        import_manifest(store, path, people.site, people.admin, SECRET)
    message = str(refused.value)
    assert "identifying columns refused: 'Patient Name', 'DOB', 'MRN'" in message and "--drop-identifying" in message
    assert not any(value in message for value in ("Ada", "1815", "H1234567"))
    assert _count(store, Seizure) == 0
    summary = import_manifest(store, path, people.site, people.admin, SECRET, drop_identifying=True)
    assert summary.dropped_columns == ("Patient Name", "DOB", "MRN")
    with store.session() as session:
        assert {label.task: label.value for label in session.scalars(select(TaskLabel))} == {"dystonia": "yes"}


def test_a_subject_identifier_inside_a_path_or_seizure_id_is_refused_without_echoing_it(store: Store, people: People, videos: Path, tmp_path: Path) -> None:
    (videos / "HN-55512" ).mkdir()
    path = write_csv(tmp_path / "leaky.csv", ["seizure_id", "subject_id", "ir", "onset_s", "offset_s", "note"], [
        ["sz-1", "HN-55512", "videos/HN-55512", 0, 10, "fine"],
        ["HN-55512-sz2", "HN-55512", "videos/a.mp4", 0, 10, "fine"],
        ["sz-3", "HN-55512", "videos/a.mp4", 0, 10, "seen at hn-55512 clinic"],
        ["sz-4", "zq", "videos/a.mp4", 0, 10, "zqx recording"],
    ])
    with pytest.raises(IdentifierError) as refused:
        import_manifest(store, path, people.site, people.admin, SECRET)
    problems = refused.value.problems
    assert [re.sub(r"^.*?: ", "", p.split(": contains")[0]) for p in problems] == ["row 2: column 'ir'", "row 3: column 'seizure_id'", "row 4: column 'note'"]
    assert not any("55512" in problem for problem in problems), "messages name rows and columns, never the identifier"
    summary = import_manifest(store, path, people.site, people.admin, pseudonymised=True)
    assert summary.created == 4, "ids that are already pseudonyms are not looked for"


def test_classification_columns_are_checked_against_the_vocabulary(store: Store, people: People, videos: Path, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "typed.csv", ["seizure_id", "subject_id", "ir", "onset_s", "offset_s", "ilae_seizure_type", "event_kind"],
                     [["sz-1", "s1", "videos/a.mp4", 0, 10, "focal_impaired_conciousness", "epileptic"], ["sz-2", "s2", "videos/b.mp4", 0, 10, "generalised", "pnes"]])
    with pytest.raises(ManifestError) as refused:
        import_manifest(store, path, people.site, people.admin, SECRET)
    assert refused.value.problems == (
        (f"{path}: row 2 (seizure_id 'sz-1'): column 'ilae_seizure_type': unknown value 'focal_impaired_conciousness' (allowed: "
         "'focal_preserved_consciousness', 'focal_impaired_consciousness', 'focal_unknown_consciousness', 'focal_to_bilateral_tonic_clonic', "
         "'generalised', 'unknown', 'unclassified'); did you mean 'focal_impaired_consciousness'?"),
        (f"{path}: row 3 (seizure_id 'sz-2'): column 'event_kind': unknown value 'pnes' (allowed: 'epileptic', 'psychogenic_non_epileptic', "
         "'other_non_epileptic')"),
    )


def test_two_sites_give_the_same_identifier_different_pseudonyms(store: Store, people: People, manifest: Path) -> None:
    other_secret = b"the other unit's own secret key"
    with store.session(actor=people.admin) as session:
        add_site(session, "emu-b", other_secret)
    import_manifest(store, manifest, people.site, people.admin, SECRET)
    with pytest.raises(StoreError, match="belongs to another site"):
        import_manifest(store, manifest, "emu-b", people.admin, other_secret)
    with pytest.raises(StoreError, match="not the site's secret"):
        import_manifest(store, manifest, people.site, people.admin, other_secret)
    with store.session() as session:
        assert sorted(p.pseudonym for p in session.scalars(select(Patient))) == sorted(pseudonym(s, SECRET) for s in ("site-17", "site-22", "site-31"))
    assert pseudonym("site-17", SECRET) != pseudonym("site-17", other_secret)


def _normalised(problems: tuple[str, ...], name: str) -> list[str]:
    return [re.sub(r"row \d+", "row N", problem.replace(name, "SOURCE")) for problem in problems]


def test_the_store_as_a_row_source_validates_like_a_manifest(db_url: str, store: Store, people: People, manifest: Path, videos: Path, tmp_path: Path) -> None:
    import_manifest(store, manifest, people.site, people.admin, SECRET)
    source = StoreSource(db_url)
    assert isinstance(source, RowSource)
    exported = export_manifest(store, tmp_path / "exported.csv")
    assert all(row.sign_spans == {} for row in source.rows()), "the store states its (absent) sign spans; a CSV manifest states none"
    assert _without_row_numbers(source.rows(), sign_spans=None) == _without_row_numbers(load_manifest(exported))
    assert [row.row_number for row in source.rows()] == [1, 2, 3, 4], "rows are named by their seizure's id in the store"
    (videos / "b.mp4").unlink()
    labels = {"dystonia": ("no", "yes"), "emotion": ("neutral", "fear"), "handedness": ("left", "right")}
    with pytest.raises(ManifestError) as from_file:
        load_manifest(exported, label_values=labels)
    with pytest.raises(ManifestError) as from_store:
        source.rows(label_values=labels)
    expected = _normalised(from_file.value.problems, str(exported))
    assert _normalised(from_store.value.problems, source.name) == expected
    assert any("column 'ir': file not found" in p for p in expected) and any("unknown label 'yes'" in p for p in expected)
    assert any("missing label column 'handedness'" in p for p in expected)
    assert source.name.startswith("store ") and "password" not in source.name
