"""Seed ensembles inside a study: the threshold is chosen on the members' averaged inner-validation probabilities."""

import json

import numpy as np
import pytest

from semiology.config import config_from_dict
from semiology.errors import ConfigError
from semiology.evaluate.study import run_study
from semiology.experiment import ExperimentConfig, check_experiment
from semiology.models.ensemble import SeedEnsemble
from semiology.train import classifier as classifier_module
from semiology.train import ensemble as ensemble_module
from tests.evaluate.test_study import SMALL


def _config(ensemble: int) -> ExperimentConfig:
    spec = json.loads(json.dumps(SMALL))
    spec["models"] = [
        {"name": "TCN-pose", "task": "dystonia", "kind": "tcn", "stream": "body", "ensemble": ensemble},
        {"name": "AGCN-pose+KD", "task": "dystonia", "kind": "agcn_kd", "stream": "body", "teacher": "TCN-pose"},
    ]
    spec["evaluation"]["split"] = "grouped_kfold"
    spec["evaluation"]["n_splits"] = 2
    return config_from_dict(spec, ExperimentConfig, source="test")


def test_threshold_is_chosen_on_averaged_member_probabilities(small_records, monkeypatch):
    member_val, threshold_inputs, teachers = [], [], []
    original_fit, original_threshold = ensemble_module.fit_classifier, classifier_module.choose_threshold
    original_logits = classifier_module.predict_logits

    def spy_fit(*args, **kwargs):
        result = original_fit(*args, **kwargs)
        member_val.append(result.val_prob)
        return result

    def spy_threshold(prob, labels):
        threshold_inputs.append(prob)
        return original_threshold(prob, labels)

    def spy_logits(model, inputs, *args):
        teachers.append(model)
        return original_logits(model, inputs, *args)

    monkeypatch.setattr(ensemble_module, "fit_classifier", spy_fit)
    monkeypatch.setattr(classifier_module, "choose_threshold", spy_threshold)
    monkeypatch.setattr(classifier_module, "predict_logits", spy_logits)
    study = run_study(_config(3), small_records, synthetic=True, progress=False)
    folds = len(study.folds)
    assert len(member_val) == folds * (3 + 1), "three TCN members and one student per fold"
    assert len(threshold_inputs) == folds * 2
    for fold in range(folds):
        tcn_members = member_val[fold * 4 : fold * 4 + 3]
        np.testing.assert_allclose(threshold_inputs[fold * 2], np.mean(tcn_members, axis=0)[:, 1], atol=1e-6)
    assert all(isinstance(teacher, SeedEnsemble) for teacher in teachers), "the student distils from the whole teacher ensemble"


def test_ensemble_changes_predictions_deterministically(small_records):
    single = run_study(_config(1), small_records, synthetic=True, progress=False)
    double = run_study(_config(2), small_records, synthetic=True, progress=False)
    again = run_study(_config(2), small_records, synthetic=True, progress=False)
    prob = {m.model: m.predictions.prob for m in double.models}
    assert not np.allclose(prob["TCN-pose"], single.models[0].predictions.prob)
    for model, repeat in zip(double.models, again.models):
        np.testing.assert_array_equal(model.predictions.prob, repeat.predictions.prob)


def test_ensemble_is_checked():
    spec = json.loads(json.dumps(SMALL))
    spec["models"][0]["ensemble"] = 0
    spec["models"][3]["ensemble"] = 2
    with pytest.raises(ConfigError) as error:
        check_experiment(config_from_dict(spec, ExperimentConfig, source="bad.yaml"), "bad.yaml")
    assert "models.TCN-pose.ensemble" in str(error.value) and "models.fusion.ensemble" in str(error.value)
