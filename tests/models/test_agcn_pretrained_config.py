"""NTU RGB+D transfer reached from a study's config: a model row's `pretrained` initialises every fold's AGCN."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from semiology.config import config_from_dict
from semiology.errors import CheckpointError, ConfigError
from semiology.experiment import ExperimentConfig, check_experiment
from semiology.layouts import get_layout
from semiology.layouts.mapping import index_map
from semiology.models.agcn import AGCN
from semiology.models.factory import build_network, model_spec

CHANNELS, STRIDES = [8, 16], [1, 2]


def _study(checkpoint: Path, kind: str = "agcn") -> ExperimentConfig:
    config = config_from_dict({
        "agcn": {"channels": CHANNELS, "strides": STRIDES},
        "tasks": [{"name": "dystonia", "classes": ["no", "yes"]}],
        "models": [{"name": "AGCN-ntu", "task": "dystonia", "kind": kind, "stream": "body", "pretrained": str(checkpoint)}],
    }, ExperimentConfig, source="study.yaml")
    check_experiment(config, "study.yaml")
    return config


def _ntu_checkpoint(path: Path, channels: list[int] = CHANNELS) -> dict[str, torch.Tensor]:
    torch.manual_seed(1)
    ntu = AGCN(60, get_layout("ntu_25").adjacency(), num_person=2, in_channels=3, channels=tuple(channels), strides=tuple(STRIDES))
    state = ntu.state_dict()
    torch.save({"state_dict": {f"module.{key}": value for key, value in state.items()}}, path)  # as 2s-AGCN's DataParallel saves it
    return state


def test_the_study_agcn_starts_from_the_ntu_checkpoint(tmp_path: Path) -> None:
    state = _ntu_checkpoint(tmp_path / "ntu_joint.pt")
    config = _study(tmp_path / "ntu_joint.pt")
    spec = model_spec(config.models[0], config, 2, layout="upper_body_11", in_channels=3)
    network = build_network(spec)
    joints = torch.as_tensor(index_map("ntu_25", "upper_body_11"))
    own = network.state_dict()
    torch.testing.assert_close(own["l1.gcn1.PA"], state["l1.gcn1.PA"][:, joints][:, :, joints])
    torch.testing.assert_close(own["l2.tcn1.conv.weight"], state["l2.tcn1.conv.weight"])
    assert own["fc.weight"].shape == (2, CHANNELS[-1]), "a fresh classifier for the study's classes"


def test_a_missing_or_mismatched_checkpoint_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"models\.AGCN-ntu\.pretrained: checkpoint not found"):
        _study(tmp_path / "absent.pt")
    _ntu_checkpoint(tmp_path / "ntu.pt")
    with pytest.raises(ConfigError, match="only an agcn or agcn_kd"):
        _study(tmp_path / "ntu.pt", kind="tcn")
    _ntu_checkpoint(tmp_path / "wide.pt", channels=[16, 16])
    config = _study(tmp_path / "wide.pt")
    with pytest.raises(CheckpointError, match=r"wide\.pt: cannot initialise the upper_body_11 AGCN"):
        build_network(model_spec(config.models[0], config, 2, layout="upper_body_11", in_channels=3))
