"""A new detector backend and a new stream, added from outside the package by registration only.

The backend finds a bright blob in each frame and reports a three-point layout of its own
(centre, left and right edge); the stream reads those keypoints. Extraction of real image
sequences, with its rows from a row source that is not a manifest file, goes through the
registered backend into cached records, and a study of the new stream reads them back
through a manifest: nothing in `semiology` names the backend, the layout or the stream.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from semiology.config import config_from_dict
from semiology.errors import ConfigError
from semiology.evaluate.run import load_records, run_experiment
from semiology.experiment import ExperimentConfig, check_experiment
from semiology.extract.batch import run_extraction
from semiology.extract.config import ExtractionConfig
from semiology.io.cache import cache_path, load_record
from semiology.io.manifest import load_manifest
from semiology.io.sources import RowSource
from tests.blob_backend import FPS, RowList, blob_video, register_blob


@pytest.fixture(scope="module")
def blob_study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, np.ndarray]]:
    register_blob()
    root = tmp_path_factory.mktemp("blob")
    cache = root / "cache"
    manifest = root / "manifest.csv"
    truth = {}
    with manifest.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, ["seizure_id", "subject_id", "ir", "keypoints", "fps", "onset_s", "offset_s", "motion"])
        writer.writeheader()
        for subject in range(8):
            moving = subject % 2 == 0
            seizure_id = f"blob{subject}"
            truth[seizure_id] = blob_video(root / seizure_id, moving, phase=subject)
            writer.writerow({"seizure_id": seizure_id, "subject_id": f"S{subject}", "ir": str(root / seizure_id), "keypoints": str(cache_path(cache, seizure_id)),
                             "fps": str(FPS), "onset_s": "1.0", "offset_s": "3.5", "motion": "sway" if moving else "still"})
    config = config_from_dict(
        {"body_layout": "blob_3", "pose": {"backend": "bright_blob"}, "roi": {"enabled": False}, "face": {"enabled": False},
         "crops": {"enabled": False}, "lift": {"method": "none"}},
        ExtractionConfig,
    )
    source = RowList(load_manifest(manifest, check_files=False))
    assert isinstance(source, RowSource)
    results = run_extraction(source, cache, config, progress=False)
    assert [result.status for result in results] == ["extracted"] * 8, [(r.seizure_id, r.status, r.reason) for r in results]
    return manifest, cache, truth


def test_a_registered_backend_extracts_into_its_own_layout(blob_study) -> None:
    _, cache, truth = blob_study
    for seizure_id, centres in truth.items():
        record = load_record(cache_path(cache, seizure_id))
        assert record.body_2d.layout == "blob_3"
        assert record.body_2d.source.startswith("bright_blob")
        assert np.abs(record.body_2d.coords[:, 0] - centres).max() < 1.0


def _study_config(manifest: Path) -> ExperimentConfig:
    return config_from_dict(
        {
            "name": "blob-study",
            "data": {"source": "manifest", "manifest": str(manifest)},
            "windows": {"target_fps": 10.0, "window_s": 1.0, "stride_s": 0.5},
            "agcn": {"channels": [8, 8], "strides": [1, 1], "temporal_kernel": 3},
            "train": {"epochs": 3, "patience": 3, "val_fraction": 0.5, "batch_size": 8},
            "tasks": [{"name": "motion", "classes": ["still", "sway"]}],
            "models": [{"name": "AGCN-blob", "task": "motion", "kind": "agcn", "stream": "blob"}],
            "evaluation": {"split": "grouped_kfold", "n_splits": 2, "workers": 1},
        },
        ExperimentConfig,
    )


def test_a_registered_stream_runs_a_study_on_the_extracted_records(blob_study, tmp_path: Path) -> None:
    manifest, _, _ = blob_study
    config = _study_config(manifest)
    check_experiment(config, "blob-study")
    run = run_experiment(config, tmp_path, source="blob-study", progress=False, loaded=load_records(config, "blob-study"))
    (result,) = run.study.models
    assert result.key == "motion/AGCN-blob"
    assert set(result.predictions.seizure_id) == {f"blob{subject}" for subject in range(8)}
    assert np.allclose(result.predictions.prob.sum(axis=1), 1.0)
    assert len(run.study.folds) == 2


def test_an_unregistered_stream_is_refused_by_name(blob_study) -> None:
    manifest, _, _ = blob_study
    config = _study_config(manifest)
    bad = config_from_dict({**_as_dict(config), "models": [{"name": "AGCN-x", "task": "motion", "kind": "agcn", "stream": "blobby"}]}, ExperimentConfig)
    with pytest.raises(ConfigError, match="unknown stream 'blobby'.*blob"):
        check_experiment(bad, "blob-study")


def test_an_unregistered_backend_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="unknown pose backend 'no_such'.*mediapipe"):
        config_from_dict({"pose": {"backend": "no_such"}}, ExtractionConfig)


def _as_dict(config: ExperimentConfig) -> dict:
    from semiology.config import config_to_dict

    return config_to_dict(config)
