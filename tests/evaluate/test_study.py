"""End-to-end study on a small synthetic cohort: leakage-free folds, complete predictions, determinism."""

import json

import numpy as np
import pytest

from semiology.config import config_from_dict, override
from semiology.errors import ConfigError
from semiology.evaluate import study as study_module
from semiology.evaluate.run import run_experiment
from semiology.evaluate.splits import loso_folds
from semiology.experiment import ExperimentConfig, check_experiment
from semiology.preprocess.model_inputs import StreamWindows

SMALL = {
    "name": "small",
    "data": {
        "synthetic": {
            "n_subjects": 6,
            "n_seizures": 8,
            "seizures_per_subject": [1, 2],
            "n_dystonia_subjects": 3,
            "n_emotion_subjects": 3,
            "n_both_subjects": 1,
            "seizure_duration_s": [20.0, 24.0],
        }
    },
    "windows": {"target_fps": 10.0, "max_train_windows_per_seizure": 4},
    "agcn": {"channels": [8, 8], "strides": [1, 2]},
    "tcn": {"channels": [8]},
    "encoder": {"pretrain_subjects": 2, "pretrain_seizures": 2, "pretrain_epochs": 1},
    "train": {"epochs": 2, "patience": 2, "batch_size": 32},
    "evaluation": {"workers": 1},
    "tasks": [{"name": "dystonia", "classes": ["no", "yes"]}],
    "models": [
        {"name": "TCN-pose", "task": "dystonia", "kind": "tcn", "stream": "body"},
        {"name": "AGCN-pose", "task": "dystonia", "kind": "agcn", "stream": "body"},
        {"name": "AGCN-pose+KD", "task": "dystonia", "kind": "agcn_kd", "stream": "body", "teacher": "TCN-pose"},
        {"name": "fusion", "task": "dystonia", "kind": "fusion", "stream": "body", "members": ["AGCN-pose", "TCN-pose"]},
    ],
}


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    config = config_from_dict(SMALL, ExperimentConfig, source="test")
    check_experiment(config, "test")
    calls = []
    original = study_module.inner_folds

    def spying_inner_folds(subject_ids, labels, val_fraction, seed):
        calls.append(set(subject_ids))
        return original(subject_ids, labels, val_fraction, seed)

    study_module.inner_folds = spying_inner_folds
    try:
        out = tmp_path_factory.mktemp("study")
        run = run_experiment(config, out, source="test", progress=False)
        again = run_experiment(config, tmp_path_factory.mktemp("again"), source="test", progress=False)
    finally:
        study_module.inner_folds = original
    parallel = run_experiment(override(config, {"evaluation.workers": 2}), tmp_path_factory.mktemp("parallel"), source="test", progress=False)
    return run, again, calls, parallel


def test_every_seizure_is_predicted_once_by_its_own_fold(small_run):
    run, _, calls, _ = small_run
    study = run.study
    assert len(study.folds) == 6
    for model in study.models:
        table = model.predictions
        for fold in study.folds:
            rows = table.fold == fold.index
            assert set(table.subject_id[rows]) == set(study.fold_subjects[fold.index])
        windows_per_seizure = {sid: int((table.seizure_id == sid).sum()) for sid in set(table.seizure_id)}
        assert len(windows_per_seizure) == 8
        assert all(count >= 1 for count in windows_per_seizure.values())
        assert np.isfinite(table.prob).all()


def test_model_selection_never_sees_the_held_out_subject(small_run):
    run, _, calls, _ = small_run
    assert len(calls) == 2 * len(run.study.folds), "one inner split per fold, in each of the two runs"
    for fold, seen in zip(run.study.folds * 2, calls):
        assert not seen & set(run.study.fold_subjects[fold.index])


def test_choices_are_recorded_per_fold(small_run):
    run, _, _, _ = small_run
    by_name = {model.model: model for model in run.study.models}
    assert all(0 < choice["epoch"] <= 2 for choice in by_name["AGCN-pose"].selected.values())
    assert all(0.0 <= choice["fusion_weight"] <= 1.0 for choice in by_name["fusion"].selected.values())
    assert len(by_name["AGCN-pose+KD"].learning_curves) == 6


def test_reports_are_written_and_deterministic(small_run):
    run, again, _, _ = small_run
    for name in ("report.md", "report.html", "metrics.json", "predictions.csv", "folds.csv"):
        assert run.files[name].is_file()
    assert run.files["metrics.json"].read_bytes() == again.files["metrics.json"].read_bytes()
    metrics = json.loads(run.files["metrics.json"].read_text())
    assert metrics["synthetic"] is True
    assert "SYNTHETIC" in run.table and "AGCN-pose+KD" in run.table


def test_two_workers_give_the_same_predictions_as_one(small_run):
    run, _, _, parallel = small_run
    assert run.files["predictions.csv"].read_bytes() == parallel.files["predictions.csv"].read_bytes()
    assert run.files["folds.csv"].read_bytes() == parallel.files["folds.csv"].read_bytes()


def test_jobs_put_the_costliest_task_first_and_cover_every_fold():
    config = config_from_dict(
        {**SMALL, "tasks": [{"name": "dystonia", "classes": ["no", "yes"]}, {"name": "emotion", "classes": ["no", "yes"]}],
         "models": [{"name": "TCN-pose", "task": "dystonia", "kind": "tcn", "stream": "body"},
                    {"name": "AGCN-face", "task": "emotion", "kind": "agcn", "stream": "face"}]},
        ExperimentConfig, source="test",
    )
    windows = {("dystonia", "body", False): StreamWindows(np.zeros((1, 3, 4, 11, 1)), None, np.zeros(1), np.zeros(1), np.zeros(1)),
               ("emotion", "face", False): StreamWindows(np.zeros((1, 3, 4, 23, 1)), None, np.zeros(1), np.zeros(1), np.zeros(1))}
    folds = loso_folds(["a", "b", "c"])
    jobs = study_module.plan_jobs(config, windows, folds)
    assert [job.task_index for job in jobs] == [1, 1, 1, 0, 0, 0]
    assert sorted((job.fold.index, job.task_index) for job in jobs) == [(f, t) for f in range(3) for t in range(2)]


def test_cross_field_config_errors_are_listed_together():
    bad = json.loads(json.dumps(SMALL))
    bad["models"][2]["teacher"] = "AGCN-pose"
    bad["models"][3]["members"] = ["AGCN-pose", "nope"]
    bad["models"][0]["task"] = "emotion"
    bad["encoder"] = {**bad.get("encoder", {}), "streams": {"fase": {"pretext": "shape"}}}
    config = config_from_dict(bad, ExperimentConfig, source="bad.yaml")
    with pytest.raises(ConfigError) as error:
        check_experiment(config, "bad.yaml")
    message = str(error.value)
    assert "models.AGCN-pose+KD.teacher" in message
    assert "models.fusion.members" in message
    assert "unknown task 'emotion'" in message
    assert "encoder.streams.fase: unknown appearance stream (known: body, face)" in message
    assert message.count("bad.yaml") == 4
