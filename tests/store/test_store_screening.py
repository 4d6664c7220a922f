"""Screening with a database writes every window's probabilities into the store, once per bundle and model, audited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from semiology.cli import screen
from semiology.io.cache import cache_path, save_record
from semiology.io.manifest import ManifestRow, write_manifest
from semiology.store.database import Store
from semiology.store.errors import StoreError
from semiology.store.manifests import import_manifest
from semiology.store.predictions import bundle_identity, write_screening
from semiology.store.schema import AuditEntry, Seizure, WindowPrediction
from tests.bundle_fixtures import TinyBundle, tiny_bundle, tiny_records
from tests.store.conftest import People


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> TinyBundle:
    return tiny_bundle(tmp_path_factory.getbasetemp() / "tiny_bundle")


@pytest.fixture(scope="module")
def screened_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("screen_cohort")
    rows = []
    for record in tiny_records(n_seizures=3):
        path = save_record(record, cache_path(root / "cache", record.seizure_id), config_hash="test")
        rows.append(ManifestRow(record.seizure_id, record.subject_id, {"keypoints": path}, record.fps, record.onset_s, record.offset_s,
                                record.generalisation_s, dict(record.labels)))
    return write_manifest(rows, root / "manifest.csv")


def _windows(store: Store) -> dict[tuple[str, str], list[tuple[float, dict]]]:
    with store.session() as session:
        query = select(Seizure.seizure_key, WindowPrediction).join(Seizure, Seizure.id == WindowPrediction.seizure_id).order_by(WindowPrediction.start_s)
        found: dict[tuple[str, str], list[tuple[float, dict]]] = {}
        for key, prediction in session.execute(query):
            found.setdefault((key, prediction.model), []).append((prediction.start_s, prediction.probabilities))
    return found


def test_screening_the_stores_seizures_writes_their_windows_into_it(store: Store, people: People, db_url: str, bundle: TinyBundle,
                                                                    screened_manifest: Path, tmp_path: Path, capsys) -> None:
    import_manifest(store, screened_manifest, people.site, people.admin, pseudonymised=True)
    assert screen(["--bundle", str(bundle.path), "--db", db_url, "--out", str(tmp_path / "out"), "--no-progress"]) == 0
    assert f"window predictions: {db_url}" in capsys.readouterr().out
    rows = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 3 and all(row["status"] == "ok" for row in rows)
    stored = _windows(store)
    expected = {(row["seizure_id"], model): [(start, dict(zip(("no", "yes"), prob, strict=True))) for start, prob in zip(t["start_s"], t["prob"], strict=True)]
                for row in rows for model, t in row["timeline"].items()}
    assert stored.keys() == expected.keys() and len(stored) == 3 * 4
    for key, windows in expected.items():
        assert [start for start, _ in stored[key]] == pytest.approx([start for start, _ in windows])
        assert all(stored_p == pytest.approx(p) for (_, stored_p), (_, p) in zip(stored[key], windows, strict=True))

    assert screen(["--bundle", str(bundle.path), "--db", db_url, "--out", str(tmp_path / "out"), "--no-progress"]) == 0
    assert {key: len(v) for key, v in _windows(store).items()} == {key: len(v) for key, v in expected.items()}, "a rerun replaces, never duplicates"
    with store.session() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.table_name == "window_predictions")).all()
        metas = json.loads((bundle.path / "bundle.json").read_text())
        assert {entry.actor for entry in entries} == {f"screen:{bundle_identity(metas).bundle_id}"}
        assert len(entries) == 2 * 12 and sum(1 for e in entries if e.old_values) == 12
        assert session.scalar(select(func.count()).select_from(WindowPrediction)) == sum(len(v) for v in expected.values())


def test_predictions_for_seizures_the_store_does_not_know_are_refused(store: Store, db_url: str) -> None:
    rows = [{"seizure_id": "nowhere", "status": "ok", "window_s": 1.0, "models": {"m": {"task": "t"}}, "timeline": {"m": {"start_s": [0.0], "prob": [[0.5, 0.5]]}}}]
    with pytest.raises(StoreError, match="screened seizures not in the store: nowhere; import their manifest first"):
        write_screening(db_url, {"study": "x"}, {"m": ("a", "b")}, rows)
