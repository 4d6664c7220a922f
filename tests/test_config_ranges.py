"""Numbers out of range are refused when the config is loaded: exit 2 with the key named, before any work."""

from __future__ import annotations

import pytest

from semiology.cli import loso_eval
from semiology.config import config_from_dict
from semiology.errors import ConfigError
from semiology.experiment import ExperimentConfig, TrainOverrides

BAD_VALUES = [
    ("train.epochs=-3", "section 'train': epochs must be positive, got -3"),
    ("train.batch_size=0", "section 'train': batch_size must be positive, got 0"),
    ("train.val_fraction=1.5", "section 'train': val_fraction must lie strictly between 0 and 1, got 1.5"),
    ("train.lr=0", "section 'train': lr must be positive"),
    ("evaluation.n_splits=1", "section 'evaluation': n_splits must be at least 2, got 1"),
    ("evaluation.workers=0", "section 'evaluation': workers must be positive"),
    ("windows.window_s=0", "section 'windows': window_s must be positive"),
    ("distillation.alpha=1.5", "section 'distillation': alpha must lie in [0, 1]"),
    ("agcn.dropout=1.0", "section 'agcn': dropout must lie in [0, 1)"),
]


@pytest.mark.parametrize(("setting", "message"), BAD_VALUES)
def test_a_value_out_of_range_exits_2_naming_the_key(setting: str, message: str, capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    status = loso_eval(["--set", setting, "--out", str(tmp_path / "out"), "--no-progress"])
    assert status == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists(), "nothing was started"


def test_a_model_override_is_range_checked_like_the_study_setting() -> None:
    with pytest.raises(ConfigError, match=r"models\[0\]\.train': epochs must be positive, got 0|epochs must be positive, got 0"):
        config_from_dict({"models": [{"name": "a", "task": "t", "kind": "agcn", "train": {"epochs": 0}}]}, ExperimentConfig, source="bad.yaml")
    assert TrainOverrides(epochs=2).apply(ExperimentConfig().train).epochs == 2


def test_agcn_channels_and_strides_must_pair_up() -> None:
    with pytest.raises(ConfigError, match="channels and strides must be non-empty and of one length"):
        config_from_dict({"agcn": {"channels": [8, 8], "strides": [1]}}, ExperimentConfig, source="bad.yaml")
