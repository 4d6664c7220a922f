"""Nested hyperparameter selection: one fit per grid point on the inner split, the best kept, its values recorded."""

import json

import numpy as np
import pytest

from semiology.config import config_from_dict
from semiology.errors import ConfigError
from semiology.experiment import ExperimentConfig, TrainConfig, check_experiment
from semiology.models.factory import ModelSpec
from semiology.train.classifier import InnerFold, WindowClassifier
from semiology.train.final import select_final_settings
from semiology.train.search import final_search_values, fit_searched, inner_score

SPEC = ModelSpec(type="tcn", num_class=2, in_features=4, channels=(8,), kernel_size=3)


def _folds(seed: int = 0) -> list[InnerFold]:
    """Windows whose class is the sign of feature 0 (learnable in a few epochs at a sane learning rate)."""
    rng = np.random.default_rng(seed)

    def part(n):
        y = rng.integers(0, 2, n)
        x = rng.normal(size=(n, 6, 4)).astype(np.float32)
        x[:, :, 0] += np.where(y == 1, 1.5, -1.5)[:, None]
        return x, y

    x_train, y_train = part(96)
    x_val, y_val = part(48)
    return [InnerFold(x_train, y_train, x_val, y_val)]


def test_every_grid_point_is_fitted_on_the_inner_split_and_the_best_score_is_kept():
    folds = _folds()
    seen = []

    def make(settings: TrainConfig) -> WindowClassifier:
        seen.append((settings.lr, settings.epochs))
        return WindowClassifier(SPEC, settings, seed=1)

    base = TrainConfig(epochs=4, patience=4, batch_size=32, select="auc")
    points = [{"lr": 1e-7}, {"lr": 0.01}]  # 1e-7 cannot move the weights in four epochs
    outcome = fit_searched(points, base, make, folds)
    assert seen == [(1e-7, 4), (0.01, 4)]
    assert len(outcome.scores) == 2 and outcome.chosen == points[int(np.argmax(outcome.scores))]
    assert outcome.chosen == {"lr": 0.01} and outcome.scores[1] > outcome.scores[0]
    assert outcome.selected() == {"search.lr": 0.01}
    assert inner_score(outcome.classifier, folds, "auc") == pytest.approx(outcome.scores[1])
    assert fit_searched([{}], base, make, folds).chosen == {}  # no grid: one fit, nothing chosen


def test_the_final_model_takes_the_value_most_folds_chose_in_its_own_type():
    selected = {0: {"epoch": 3.0, "threshold": 0.5, "search.lr": 0.01, "search.mirror": 1.0},
                1: {"epoch": 4.0, "threshold": 0.4, "search.lr": 0.003, "search.mirror": 1.0},
                2: {"epoch": 4.0, "threshold": 0.6, "search.lr": 0.01, "search.mirror": 0.0}}
    selection = select_final_settings(selected)
    assert selection.fold_values["search.lr"] == [0.01, 0.003, 0.01]
    chosen = final_search_values(selection.fold_values, TrainConfig())
    assert chosen == {"lr": 0.01, "mirror": True} and isinstance(chosen["mirror"], bool)
    assert final_search_values({"search.epochs": [8.0, 12.0]}, TrainConfig()) == {"epochs": 8}  # a tie goes to the smaller


def _study(search):
    from tests.evaluate.test_study import SMALL

    data = json.loads(json.dumps(SMALL))
    data["models"] = [dict(data["models"][1], search=search)]
    return data


def test_a_search_grid_is_validated_where_the_config_is_read():
    with pytest.raises(ConfigError, match="search.lr must be positive"):
        config_from_dict(_study({"lr": [0.01, -1.0]}), ExperimentConfig, source="test")
    with pytest.raises(ConfigError, match="unknown key 'models\\[0\\].search.select'"):
        config_from_dict(_study({"select": ["auc"]}), ExperimentConfig, source="test")
    both = _study({"lr": [0.01, 0.003]})
    both["models"][0]["train"] = {"lr": 0.01}
    with pytest.raises(ConfigError, match="lr set both in train and in search"):
        check_experiment(config_from_dict(both, ExperimentConfig, source="test"), "test")


def test_a_study_records_each_folds_choice_and_the_bundle_refits_with_the_majority(tmp_path):
    from semiology.bundle.build import run_and_bundle
    from semiology.bundle.store import META_FILE

    config = config_from_dict(_study({"lr": [0.001, 0.01]}), ExperimentConfig, source="test")
    check_experiment(config, "test")
    run = run_and_bundle(config, tmp_path / "report", source="test", bundle_dir=tmp_path / "bundle", progress=False)
    report = (tmp_path / "report" / "report.md").read_text()
    assert "Searched settings (inner split)" in report and ("lr=0.01" in report or "lr=0.001" in report)
    entry = next(m for m in json.loads((tmp_path / "bundle" / META_FILE).read_text())["models"] if m["name"] == "AGCN-pose")
    chosen = entry["selection"]["fold_values"]["search.lr"]
    assert len(chosen) == len(run.study.folds) and set(chosen) <= {0.001, 0.01}
