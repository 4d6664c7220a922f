"""The action stream through the study runner: a tiny LOSO run into the spine's report, and config checks."""

import json
from pathlib import Path

import pytest

from semiology.config import config_from_dict
from semiology.errors import ConfigError
from semiology.evaluate.run import load_experiment, run_experiment
from semiology.experiment import ExperimentConfig, check_experiment

TINY = {
    "name": "tiny-action",
    "data": {
        "source": "synthetic",
        "synthetic": {
            "n_subjects": 4, "n_seizures": 6, "seizures_per_subject": [1, 2], "n_dystonia_subjects": 1,
            "n_emotion_subjects": 1, "n_both_subjects": 0, "seizure_duration_s": [20.0, 30.0], "crop_size_px": 8, "seed": 3,
        },
    },
    "train": {"epochs": 1, "patience": 1, "batch_size": 32},
    "action": {"segments": 4, "draws_per_seizure": 2, "max_train_samples_per_seizure": 2},
    "evaluation": {"split": "loso", "workers": 1},
    "tasks": [
        {"name": "type3", "label": "seizure_type", "classes": ["FLE", "TLE", "non_epileptic"], "outside_ictal": "non_epileptic"},
        {"name": "generalisation", "classes": ["FOS", "TCS"]},
    ],
    "models": [
        {"name": "LSTM-FC", "task": "type3", "kind": "lstm_fc"},
        {"name": "GESTURES-BLSTM", "task": "generalisation", "kind": "gestures", "aggregation": "blstm"},
    ],
}


def test_tiny_loso_action_study_writes_the_spine_report(tmp_path: Path) -> None:
    config = config_from_dict(TINY, ExperimentConfig, "tiny")
    check_experiment(config, "tiny")
    run = run_experiment(config, tmp_path, source="tiny", progress=False)
    models = {result.key: result for result in run.study.models}
    gestures = models["generalisation/GESTURES-BLSTM"].predictions
    assert len(gestures) == 6 and len(set(gestures.seizure_id)) == 6  # one row per seizure
    samples = models["type3/LSTM-FC"].predictions
    assert any(sid.endswith("/non-ictal") for sid in samples.seizure_id)
    assert set(samples.fold) == set(range(4))
    for fold in run.study.folds:  # every held-out subject is one LOSO fold
        assert len(run.study.fold_subjects[fold.index]) == 1
    metrics = json.loads(run.files["metrics.json"].read_text())
    assert "generalisation/GESTURES-BLSTM" in metrics["models"]
    draws = json.loads(run.files["snippet_draws.json"].read_text())
    assert all(len(indices) == 4 for indices in draws["generalisation/GESTURES-BLSTM"].values())
    assert "GESTURES-BLSTM" in run.table


def test_action_config_errors_name_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "tasks:\n  - {name: t, label: seizure_type, classes: [FLE, TLE, NE], outside_ictal: NE}\n"
        "models:\n  - {name: G, task: t, kind: gestures}\n  - {name: A, task: t, kind: agcn}\n"
        "action: {features: i3d}\n"
    )
    with pytest.raises(ConfigError) as error:
        load_experiment(bad)
    message = str(error.value)
    assert "bad.yaml" in message and "models.G" in message and "models.A" in message and "action.i3d_cache" in message
    typo = tmp_path / "typo.yaml"
    typo.write_text("action: {segmnts: 4}\n")
    with pytest.raises(ConfigError, match="action.segmnts"):
        load_experiment(typo)
