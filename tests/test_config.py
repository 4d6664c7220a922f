"""Typed YAML configs: inheritance, validation messages, overrides and hashing."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from semiology.config import config_from_dict, config_hash, config_to_dict, load_config, override, parse_overrides
from semiology.errors import ConfigError, SemiologyError


@dataclass
class TrainSection:
    epochs: int = 30
    lr: float = 0.003
    class_weighted: bool = True


@dataclass
class AGCNSection:
    channels: tuple[int, ...] = (64, 64)
    kind: Literal["agcn", "tcn"] = "agcn"
    pretrained: str | None = None
    window: tuple[int, float] = (60, 2.0)


@dataclass
class TaskSection:
    name: str
    classes: tuple[str, ...]


@dataclass
class ModelSection:
    agcn: AGCNSection = field(default_factory=AGCNSection)
    class_weights: dict[str, float] = field(default_factory=dict)


@dataclass
class Experiment:
    name: str = "experiment"
    train: TrainSection = field(default_factory=TrainSection)
    model: ModelSection = field(default_factory=ModelSection)
    tasks: list[TaskSection] = field(default_factory=list)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def error_of(call, *args) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        call(*args)
    return caught.value


def test_base_files_are_deep_merged_and_lists_replaced(tmp_path: Path) -> None:
    write(
        tmp_path / "base.yaml",
        "name: base\ntrain: {epochs: 30, lr: 0.01}\nmodel: {agcn: {channels: [64, 64, 128], kind: tcn}}\n",
    )
    write(tmp_path / "short.yaml", "_base_: base.yaml\ntrain: {epochs: 5}\n")
    write(tmp_path / "faces.yaml", "model: {agcn: {kind: agcn}}\n")
    config = load_config(
        write(
            tmp_path / "exp" / "x.yaml",
            "_base_: [../short.yaml, ../faces.yaml]\ntrain: {lr: 1e-3}\nmodel: {agcn: {channels: [8]}}\n",
        ),
        Experiment,
    )
    assert config.name == "base"
    assert config.train.epochs == 5
    assert config.train.lr == pytest.approx(0.001) and isinstance(config.train.lr, float)
    assert config.train.class_weighted is True
    assert config.model.agcn.channels == (8,)
    assert config.model.agcn.kind == "agcn"


def test_unknown_key_names_file_and_suggests(tmp_path: Path) -> None:
    path = write(tmp_path / "x.yaml", "model:\n  agcn:\n    chanels: [8]\n")
    error = error_of(load_config, path, Experiment)
    assert str(error) == f"{path}: unknown key 'model.agcn.chanels' (did you mean 'channels'?)"
    assert isinstance(error, SemiologyError)


def test_problem_in_a_base_names_the_base_file(tmp_path: Path) -> None:
    base = write(tmp_path / "base.yaml", "train: {epoch: 3}\n")
    child = write(tmp_path / "child.yaml", "_base_: base.yaml\nname: 5\n")
    lines = error_of(load_config, child, Experiment).problems
    assert f"{base}: unknown key 'train.epoch' (did you mean 'epochs'?)" in lines
    assert f"{child}: key 'name': expected str, got 5 (int)" in lines


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"train": {"class_weighted": 1}}, "key 'train.class_weighted': expected bool, got 1 (int)"),
        ({"train": {"class_weighted": "yes"}}, "key 'train.class_weighted': expected bool, got 'yes' (str)"),
        ({"train": {"epochs": True}}, "key 'train.epochs': expected int, got true (bool)"),
        ({"train": {"epochs": 2.5}}, "key 'train.epochs': expected int, got 2.5 (float)"),
        ({"train": {"lr": "fast"}}, "key 'train.lr': expected float, got 'fast' (str)"),
        ({"model": {"agcn": {"kind": "agn"}}}, "expected one of 'agcn', 'tcn', got 'agn' (str); did you mean 'agcn'?"),
        ({"model": {"agcn": {"channels": [8, "x"]}}}, "key 'model.agcn.channels[1]': expected int, got 'x' (str)"),
        ({"model": {"agcn": {"window": [60]}}}, "key 'model.agcn.window': expected tuple[int, float] with 2 items"),
        ({"model": {"class_weights": {"yes": "heavy"}}}, "key 'model.class_weights.yes': expected float"),
        ({"train": 3}, "key 'train': expected a section (mapping of keys), got 3 (int)"),
        ({"model": {"agcn": {"pretrained": 5}}}, "key 'model.agcn.pretrained': expected str, got 5 (int)"),
    ],
)
def test_wrong_types_are_named(data: dict, expected: str) -> None:
    error = error_of(config_from_dict, data, Experiment, "configs/x.yaml")
    assert len(error.problems) == 1
    assert error.problems[0].startswith("configs/x.yaml: ")
    assert expected in error.problems[0]


def test_types_that_convert_or_are_optional() -> None:
    config = config_from_dict(
        {"train": {"lr": 1}, "model": {"agcn": {"pretrained": None, "window": [30, 1]}, "class_weights": {"yes": 2}}},
        Experiment,
    )
    assert config.train.lr == 1.0 and isinstance(config.train.lr, float)
    assert config.model.agcn.pretrained is None
    assert config.model.agcn.window == (30, 1.0) and isinstance(config.model.agcn.window[1], float)
    assert config.model.class_weights == {"yes": 2.0}


def test_missing_required_field() -> None:
    error = error_of(config_from_dict, {"tasks": [{"name": "dystonia"}]}, Experiment, "configs/x.yaml")
    assert error.problems == ("configs/x.yaml: missing required key 'tasks[0].classes' (tuple[str, ...])",)


def test_every_problem_of_a_file_is_listed_together(tmp_path: Path) -> None:
    path = write(
        tmp_path / "bad.yaml",
        "nmae: x\ntrain:\n  epochs: ten\n  class_weighted: 0\n"
        "model:\n  agcn:\n    kind: gcn\ntasks:\n  - name: emotion\n",
    )
    error = error_of(load_config, path, Experiment)
    assert len(error.problems) == 5
    assert str(error).splitlines() == list(error.problems)
    assert all(line.startswith(f"{path}: ") for line in error.problems)
    text = str(error)
    fragments = ("'nmae' (did you mean 'name'?)", "'train.epochs'", "'train.class_weighted'", "'model.agcn.kind'")
    for fragment in (*fragments, "'tasks[0].classes'"):
        assert fragment in text


def test_file_level_errors_name_the_file(tmp_path: Path) -> None:
    missing_base = write(tmp_path / "a.yaml", "_base_: nowhere.yaml\n")
    assert "nowhere.yaml" in str(error_of(load_config, missing_base, Experiment))
    write(tmp_path / "loop1.yaml", "_base_: loop2.yaml\n")
    loop = write(tmp_path / "loop2.yaml", "_base_: loop1.yaml\n")
    assert "cycle" in str(error_of(load_config, loop, Experiment))
    broken = write(tmp_path / "broken.yaml", "train: {epochs: 3\n")
    message = str(error_of(load_config, broken, Experiment))
    assert message.startswith(f"{broken}: invalid YAML") and "line" in message
    duplicate = write(tmp_path / "dup.yaml", "train:\n  epochs: 3\n  epochs: 4\n")
    assert "duplicate key 'epochs'" in str(error_of(load_config, duplicate, Experiment))
    assert "not found" in str(error_of(load_config, tmp_path / "absent.yaml", Experiment))


def test_override_applies_dotted_keys_with_validation() -> None:
    config = config_from_dict({"tasks": [{"name": "dystonia", "classes": ["no", "yes"]}]}, Experiment)
    changed = override(config, {"train.epochs": 3, "model.agcn.channels": [4, 8], "name": "quick"})
    assert (changed.train.epochs, changed.model.agcn.channels, changed.name) == (3, (4, 8), "quick")
    assert changed.tasks == config.tasks and config.train.epochs == 30
    error = error_of(override, config, {"train.epoch": 3, "train.lr": "high", "train.epochs.max": 1})
    assert len(error.problems) == 1 and "'train.epochs' is a value, not a section" in str(error)
    error = error_of(override, config, {"train.epoch": 3, "train.lr": "high"})
    assert "unknown key 'train.epoch' (did you mean 'epochs'?)" in str(error)
    assert "key 'train.lr': expected float, got 'high' (str)" in str(error)


def test_parse_overrides_reads_values_as_yaml() -> None:
    assert parse_overrides(["train.epochs=3", "train.lr=1e-4", "name=demo", "model.agcn.channels=[4, 8]"]) == {
        "train.epochs": 3,
        "train.lr": 1e-4,
        "name": "demo",
        "model.agcn.channels": [4, 8],
    }
    with pytest.raises(ConfigError, match="key=value"):
        parse_overrides(["train.epochs"])


def test_config_to_dict_is_plain_and_round_trips() -> None:
    config = config_from_dict({"tasks": [{"name": "emotion", "classes": ["neutral", "fear"]}]}, Experiment)
    plain = config_to_dict(config)
    assert plain["model"]["agcn"]["channels"] == [64, 64]
    assert plain["tasks"] == [{"name": "emotion", "classes": ["neutral", "fear"]}]
    json.dumps(plain)
    assert config_from_dict(plain, Experiment) == config


def test_hash_is_stable_and_content_sensitive() -> None:
    config = Experiment()
    assert config_hash(config) == config_hash(Experiment())
    assert config_hash(config) == config_hash(config_to_dict(config))
    assert config_hash(override(config, {"train.epochs": 31})) != config_hash(config)
    assert config_hash({"a": 1, "b": {"c": [1, 2], "d": "x"}}) == config_hash({"b": {"d": "x", "c": [1, 2]}, "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})
    assert len(config_hash(config)) == 64 and int(config_hash(config), 16) >= 0
