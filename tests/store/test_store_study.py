"""A study read from the store gives the same folds, predictions and metrics as one read from the store's exported manifest.

A small synthetic cohort is cached to `.npz` records (as extraction writes them) and listed in
a manifest; the manifest is imported into the store, and the same study (one small AGCN, two
subject-grouped folds, same seed) runs once through `tools/loso_eval.py --db` (its config names
a manifest that does not exist, so only the store can give the rows) and once from the exported
manifest.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from semiology.cli import loso_eval
from semiology.config import config_from_dict
from semiology.evaluate.run import run_experiment
from semiology.experiment import ExperimentConfig, check_experiment
from semiology.io.cache import cache_path, save_record
from semiology.io.manifest import ManifestRow, write_manifest
from semiology.store.database import Store
from semiology.store.manifests import export_manifest, import_manifest
from semiology.synthetic import CohortSpec, make_cohort
from tests.store.conftest import People

COHORT = CohortSpec(n_subjects=6, n_seizures=8, seizures_per_subject=(1, 2), n_dystonia_subjects=3, n_emotion_subjects=2, n_both_subjects=1,
                    seizure_duration_s=(8.0, 10.0), pre_ictal_s=3.0, post_ictal_s=2.0, seed=3)


def study(data: dict) -> dict:
    return {
        "name": "store-study",
        "data": data,
        "windows": {"target_fps": 10.0, "window_s": 1.0, "stride_s": 1.0, "max_train_windows_per_seizure": 4},
        "agcn": {"channels": [8, 8], "strides": [1, 2], "temporal_kernel": 3},
        "train": {"epochs": 2, "patience": 2, "val_fraction": 0.5, "batch_size": 16},
        "tasks": [{"name": "dystonia", "classes": ["no", "yes"]}],
        "models": [{"name": "AGCN-pose", "task": "dystonia", "kind": "agcn", "stream": "body"}],
        "evaluation": {"split": "grouped_kfold", "n_splits": 2, "workers": 1},
    }


@pytest.fixture(scope="module")
def cached_cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cohort's records in a cache folder and a manifest naming them (labels: seizure type and dystonia)."""
    root = tmp_path_factory.mktemp("cohort")
    rows = []
    for record in make_cohort(COHORT):
        path = save_record(record, cache_path(root / "cache", record.seizure_id), config_hash="test")
        rows.append(ManifestRow(record.seizure_id, record.subject_id, {"keypoints": path}, record.fps, record.onset_s, record.offset_s,
                                record.generalisation_s, {"dystonia": record.labels["dystonia"], "seizure_type": record.labels["seizure_type"]}))
    return write_manifest(rows, root / "manifest.csv")


def test_a_study_from_the_store_equals_the_study_from_its_exported_manifest(store: Store, people: People, db_url: str, cached_cohort: Path,
                                                                            tmp_path: Path, capsys) -> None:
    import_manifest(store, cached_cohort, people.site, people.admin, pseudonymised=True)
    exported = export_manifest(store, tmp_path / "exported.csv")
    config_file = tmp_path / "study.yaml"
    config_file.write_text(yaml.safe_dump(study({"source": "manifest", "manifest": str(tmp_path / "no-such-manifest.csv")})))
    assert loso_eval(["--config", str(config_file), "--db", db_url, "--out", str(tmp_path / "from_store"), "--no-progress"]) == 0
    capsys.readouterr()
    config = config_from_dict(study({"source": "manifest", "manifest": str(exported), "subject_ids_are_pseudonyms": True}), ExperimentConfig, source="test")
    check_experiment(config, "test")
    run_experiment(config, tmp_path / "from_manifest", source="test", progress=False)

    from_store, from_manifest = (json.loads((tmp_path / name / "metrics.json").read_text()) for name in ("from_store", "from_manifest"))
    assert from_store["models"] == from_manifest["models"]
    assert len(from_store["models"]) == 1
    for name in ("predictions.csv", "folds.csv"):
        assert (tmp_path / "from_store" / name).read_bytes() == (tmp_path / "from_manifest" / name).read_bytes(), name
    predictions = (tmp_path / "from_store" / "predictions.csv").read_text().splitlines()
    assert predictions[0].split(",")[5] == "seizure_id"
    assert len({line.split(",")[5] for line in predictions[1:]}) == 8, "every seizure of the cohort is predicted"
