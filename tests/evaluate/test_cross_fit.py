"""Cross-fitting (`train.cross_fit`): one fit per inner fold, thresholds chosen on every training subject."""

import json

import numpy as np
import pytest

from semiology.config import config_from_dict
from semiology.errors import ConfigError
from semiology.evaluate.folds import make_folds
from semiology.evaluate.splits import inner_folds, inner_split
from semiology.evaluate.study import run_study
from semiology.experiment import ExperimentConfig, check_experiment
from semiology.preprocess.model_inputs import build_stream_windows, cap_per_record
from semiology.train import classifier as classifier_module
from tests.evaluate.test_study import SMALL


def test_inner_folds_put_every_training_subject_in_one_validation_part():
    subjects = np.repeat([f"S{i}" for i in range(9)], 2)
    labels = np.repeat([0, 1, 0, 1, 0, 1, 0, 1, 1], 2)
    folds = inner_folds(subjects, labels, val_fraction=0.25, seed=3)
    assert len(folds) == 4
    validation = np.concatenate([val for _, val in folds])
    assert sorted(validation.tolist()) == list(range(len(subjects)))
    for train, val in folds:
        assert not set(subjects[train]) & set(subjects[val])
        assert len(train) + len(val) == len(subjects)
    first_train, first_val = inner_split(subjects, labels, val_fraction=0.25, seed=3)
    assert np.array_equal(folds[0][0], first_train) and np.array_equal(folds[0][1], first_val)
    again = inner_folds(subjects, labels, val_fraction=0.25, seed=3)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again))


def _spec(**cross_fit):
    spec = json.loads(json.dumps(SMALL))
    spec["evaluation"].update(split="grouped_kfold", n_splits=2, workers=1)
    spec["train"].update(epochs=2, patience=2)
    spec["models"] = [
        {"name": "TCN-all", "task": "dystonia", "kind": "tcn", "stream": "body", "train": {"cross_fit": cross_fit.get("teacher", True)}},
        {"name": "TCN-one", "task": "dystonia", "kind": "tcn", "stream": "body"},
        {
            "name": "KD-all",
            "task": "dystonia",
            "kind": "agcn_kd",
            "stream": "body",
            "teacher": "TCN-all",
            "train": {"cross_fit": cross_fit.get("student", True), "epochs": 1},
        },
    ]
    return spec


def test_a_cross_fitted_model_fits_every_inner_fold_and_chooses_its_threshold_on_all_training_windows(small_records, monkeypatch):
    config = config_from_dict(_spec(), ExperimentConfig, source="test")
    check_experiment(config, "test")
    thresholds, fits, teachers = [], [], []
    real_threshold, real_fit, real_logits = classifier_module.choose_threshold, classifier_module.fit_ensemble, classifier_module.predict_logits

    def spy_threshold(prob_pos, y_true):
        thresholds.append(len(prob_pos))
        return real_threshold(prob_pos, y_true)

    def spy_fit(build, x_train, y_train, x_val, y_val, *rest, **options):
        fits.append((len(x_train), len(x_val)))
        return real_fit(build, x_train, y_train, x_val, y_val, *rest, **options)

    def spy_logits(model, inputs):
        teachers.append(id(model))
        return real_logits(model, inputs)

    monkeypatch.setattr(classifier_module, "choose_threshold", spy_threshold)
    monkeypatch.setattr(classifier_module, "fit_ensemble", spy_fit)
    monkeypatch.setattr(classifier_module, "predict_logits", spy_logits)
    study = run_study(config, small_records, synthetic=True, progress=False)

    task = config.tasks[0]
    windows = build_stream_windows(small_records, task, "body", config)
    subjects = np.array([r.subject_id for r in small_records])
    cap = config.windows.max_train_windows_per_seizure
    expected_thresholds, expected_fits, inner_counts = [], [], []
    for fold in make_folds(small_records, config):
        train = np.intersect1d(fold.train_idx, windows.record_index)
        labels = [task.classes.index(small_records[i].labels[task.name]) for i in train]
        inner = inner_folds(subjects[train], labels, config.train.val_fraction, seed=config.seed + 7919 * fold.index)
        training_windows = len(cap_per_record(windows.record_index, train, cap))
        assert len(inner) >= 2
        all_fits = [
            (len(cap_per_record(windows.record_index, train[a], cap)), len(cap_per_record(windows.record_index, train[b], cap))) for a, b in inner
        ]
        expected_fits += all_fits + all_fits[:1] + all_fits
        one_split = all_fits[0][1]
        expected_thresholds += [training_windows, one_split, training_windows]
        inner_counts.append(len(inner))
    assert fits == expected_fits
    assert thresholds == expected_thresholds
    assert len(teachers) == sum(inner_counts), "the student asks a teacher once per inner fold"
    chunks = np.split(np.array(teachers), np.cumsum(inner_counts)[:-1])
    assert all(len(set(chunk.tolist())) == len(chunk) for chunk in chunks), "each inner fold has its own teacher fit"
    for result in study.models:
        assert np.isfinite(result.predictions.prob).all()
        assert np.isfinite(result.predictions.threshold).all()


def test_cross_fit_must_agree_between_a_student_and_its_teacher_and_between_fused_models():
    spec = _spec(teacher=False, student=True)
    spec["models"].append({"name": "both", "task": "dystonia", "kind": "fusion", "stream": "body", "members": ["TCN-one", "KD-all"]})
    config = config_from_dict(spec, ExperimentConfig, source="bad.yaml")
    with pytest.raises(ConfigError) as caught:
        check_experiment(config, "bad.yaml")
    message = str(caught.value)
    assert "bad.yaml: models.KD-all.train.cross_fit: a cross-fitted student needs a cross-fitted teacher ('TCN-all' is not)" in message
    assert "models.both.members: all fused models must have the same train.cross_fit" in message
    check_experiment(config_from_dict(_spec(teacher=True, student=False), ExperimentConfig, source="ok"), "ok")
