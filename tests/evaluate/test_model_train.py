"""A model's own `train:` overrides: validated like the rest of a config, and used by the study and the bundle."""

import dataclasses
import json

import pytest
import yaml

from semiology.cli import loso_eval
from semiology.config import config_from_dict, load_config
from semiology.errors import ConfigError
from semiology.evaluate.study import run_study
from semiology.experiment import ExperimentConfig, TrainConfig, TrainOverrides, check_experiment
from semiology.train import classifier as classifier_module
from tests.bundle_fixtures import TINY_STUDY
from tests.evaluate.test_study import SMALL


def test_overrides_replace_only_what_they_name():
    study = TrainConfig(epochs=15, batch_size=64, lr=0.003, patience=4)
    assert TrainOverrides().apply(study) == study
    own = TrainOverrides(batch_size=32, lr=0.01, select="auc").apply(study)
    assert (own.batch_size, own.lr, own.select) == (32, 0.01, "auc")
    assert (own.epochs, own.patience, own.weight_decay, own.val_fraction) == (15, 4, study.weight_decay, study.val_fraction)


def test_every_fold_level_setting_but_the_inner_split_can_be_overridden():
    overridable = {f.name for f in dataclasses.fields(TrainOverrides)}
    assert overridable == {f.name for f in dataclasses.fields(TrainConfig)} - {"val_fraction", "device"}  # the device is the run's, not a model's


def test_bad_overrides_name_the_file_and_key(tmp_path):
    spec = json.loads(json.dumps(SMALL))
    spec["models"][1]["train"] = {"lr": "fast", "val_fraction": 0.5}
    spec["models"][2]["train"] = {"batch_size": 0}
    path = tmp_path / "bad.yaml"
    path.write_text(json.dumps(spec))
    with pytest.raises(ConfigError) as caught:
        load_config(path, ExperimentConfig)
    message = str(caught.value)
    assert "bad.yaml" in message
    assert "'models[1].train.lr'" in message and "'fast'" in message
    assert "unknown key 'models[1].train.val_fraction'" in message
    assert "'models[2].train'" in message and "batch_size must be positive" in message


def test_the_study_trains_each_model_with_its_own_settings(small_records):
    spec = json.loads(json.dumps(SMALL))
    spec["evaluation"].update(split="grouped_kfold", n_splits=2)
    spec["train"].update(epochs=3, patience=3)
    spec["models"] = [
        {"name": "TCN-pose", "task": "dystonia", "kind": "tcn", "stream": "body"},
        {"name": "AGCN-pose", "task": "dystonia", "kind": "agcn", "stream": "body", "train": {"epochs": 1}},
    ]
    study = run_study(config_from_dict(spec, ExperimentConfig, source="test"), small_records, synthetic=True, progress=False)
    epochs = {result.model: {len(curves["train_loss"]) for curves in result.learning_curves.values()} for result in study.models}
    assert epochs == {"TCN-pose": {3}, "AGCN-pose": {1}}


def test_the_final_fit_of_a_bundle_uses_the_model_settings(tmp_path, monkeypatch):
    spec = json.loads(json.dumps(TINY_STUDY))
    spec["tasks"] = spec["tasks"][:1]
    spec["models"] = [dict(spec["models"][0]), {**spec["models"][1], "train": {"batch_size": 5, "lr": 0.02}}]
    config_file = tmp_path / "own.yaml"
    config_file.write_text(yaml.safe_dump(spec), encoding="utf-8")
    seen: dict[int, TrainConfig] = {}
    original = classifier_module.fit_fixed_epochs

    def spy(build_model, inputs, labels, num_class, train, *args, **kwargs):
        seen[inputs.ndim] = train
        return original(build_model, inputs, labels, num_class, train, *args, **kwargs)

    monkeypatch.setattr(classifier_module, "fit_fixed_epochs", spy)
    status = loso_eval(["--config", str(config_file), "--out", str(tmp_path / "report"), "--bundle", str(tmp_path / "bundle"), "--no-progress"])
    assert status == 0
    assert (seen[5].batch_size, seen[5].lr) == (5, 0.02)
    assert (seen[3].batch_size, seen[3].lr) == (spec["train"]["batch_size"], TrainConfig().lr)


def test_a_fusion_row_refuses_training_settings():
    spec = json.loads(json.dumps(SMALL))
    spec["models"][3]["train"] = {"lr": 0.01}
    with pytest.raises(ConfigError, match=r"models.fusion.train: a fusion trains nothing"):
        check_experiment(config_from_dict(spec, ExperimentConfig, source="bad.yaml"), "bad.yaml")
