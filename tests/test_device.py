"""Where models run (`train.device`, `--device`): the name checked, a missing GPU refused, the device carried to every network.

This machine may have no GPU, so the wiring is followed with a recording resolver: each module
that turns a device name into a torch device (fits, final fits, frame encoders, bundle loading,
screening) is given one that notes the name it was asked for and hands back the CPU. A study
configured for `cuda:7` then runs here, and every name noted must be `cuda:7`. On a machine with
CUDA the last test trains a real study there and loads its bundle on the CPU.
"""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from torch import nn

import semiology.bundle.store as bundle_store
import semiology.engines.device as device_module
import semiology.models.appearance as appearance
import semiology.screen.batch as screen_batch
import semiology.train.final as final
import semiology.train.fit as fit
from semiology.bundle import load_bundle
from semiology.bundle.build import run_and_bundle
from semiology.bundle.predict import prepare_record, window_probabilities
from semiology.cli import extract_i3d, loso_eval, screen
from semiology.config import config_from_dict
from semiology.engines.device import DeviceError, torch_device
from semiology.errors import ConfigError
from semiology.evaluate.folds import fold_workers
from semiology.evaluate.run import load_experiment
from semiology.experiment import ExperimentConfig, TrainConfig
from semiology.io.cache import save_record
from semiology.io.manifest import ManifestRow, write_manifest
from semiology.live.cli import live
from semiology.train.final import fit_fixed_epochs
from semiology.train.fit import fit_classifier, predict_logits
from tests.bundle_fixtures import TINY_STUDY, tiny_bundle, tiny_records

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device in this torch build or machine")
NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: a missing GPU cannot be refused here")

STUDY = {
    **copy.deepcopy(TINY_STUDY),
    "name": "tiny-device",
    "action": {"segments": 4, "draws_per_seizure": 2, "max_train_samples_per_seizure": 2},
    "models": [
        *copy.deepcopy(TINY_STUDY["models"]),
        {"name": "AGCN-kd", "task": "dystonia", "kind": "agcn_kd", "stream": "body", "teacher": "TCN-pose"},
        {"name": "LSTM-FC", "task": "dystonia", "kind": "lstm_fc"},
        {"name": "GESTURES", "task": "dystonia", "kind": "gestures", "aggregation": "mean"},
    ],
}
"""The tiny bundle study with a distilled student (teacher logits) and two action models (their own fitting paths)."""

RESOLVERS = (fit, final, appearance, bundle_store, screen_batch, device_module)
"""Every module that resolves a device name (the tools import `torch_device` from `semiology.engines.device` when they run)."""


def _study_config(device: str, workers: int = 1) -> ExperimentConfig:
    return config_from_dict({**STUDY, "train": {**STUDY["train"], "device": device}, "evaluation": {**STUDY["evaluation"], "workers": workers}},
                            ExperimentConfig, source="tiny-device")


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(module, device name) for every device a module resolves from now on; each is handed the CPU."""
    calls: list[tuple[str, str]] = []

    def recorder(module_name: str):
        def resolve(name: str | torch.device) -> torch.device:
            calls.append((module_name, str(name)))
            return torch.device("cpu")
        return resolve

    for module in RESOLVERS:
        monkeypatch.setattr(module, "torch_device", recorder(module.__name__))
    return calls


def _manifest(folder: Path) -> Path:
    """A manifest of two unseen recordings' cached keypoints, to screen."""
    rows = []
    for record in tiny_records(2):
        path = save_record(record, folder / "cache" / f"{record.seizure_id}.npz", config_hash="device-test")
        rows.append(ManifestRow(record.seizure_id, record.subject_id, {"keypoints": path}, record.fps, record.onset_s, record.offset_s,
                                record.generalisation_s, {"dystonia": record.labels["dystonia"]}))
    return write_manifest(rows, folder / "manifest.csv")


def _by_module(calls: list[tuple[str, str]]) -> dict[str, set[str]]:
    names: dict[str, set[str]] = defaultdict(set)
    for module, name in calls:
        names[module].add(name)
    return names


@pytest.mark.parametrize("name", ["gpu", "CUDA", "cuda:x", "cpu:0", "cuda:"])
def test_a_misspelt_device_is_refused_naming_it(tmp_path: Path, name: str) -> None:
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump({**STUDY, "train": {"device": name}}), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_experiment(path)
    message = str(caught.value)
    assert "study.yaml" in message and "'train'" in message and repr(name) in message and "cpu, cuda or cuda:N" in message
    with pytest.raises(DeviceError, match=repr(name)):
        torch_device(name)


def test_loso_eval_refuses_a_misspelt_device_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(STUDY), encoding="utf-8")
    assert loso_eval(["--config", str(path), "--out", str(tmp_path / "out"), "--device", "gpu", "--no-progress"]) == 2
    assert "device must be cpu, cuda or cuda:N, got 'gpu'" in capsys.readouterr().err


def test_a_model_cannot_set_its_own_device() -> None:
    spec = copy.deepcopy(STUDY)
    spec["models"][0]["train"] = {"device": "cpu"}
    with pytest.raises(ConfigError, match=r"unknown key 'models\[0\].train.device'"):
        config_from_dict(spec, ExperimentConfig, source="tiny-device")


@NO_CUDA
def test_cuda_on_a_machine_without_it_is_refused_with_a_message(tmp_path: Path) -> None:
    for name in ("cuda", "cuda:0"):
        path = tmp_path / "study.yaml"
        path.write_text(yaml.safe_dump({**STUDY, "train": {"device": name}}), encoding="utf-8")
        with pytest.raises(ConfigError) as caught:
            load_experiment(path)
        message = str(caught.value)
        assert f"study.yaml: train.device: device {name!r} asks for CUDA" in message and "torch.cuda.is_available() is False" in message
        with pytest.raises(DeviceError, match="torch.cuda.is_available"):
            torch_device(name)
    config = _study_config("cuda")  # read without asking the machine: a bundle trained on a GPU loads anywhere
    assert config.train.device == "cuda"
    with pytest.raises(DeviceError, match="'cuda'"):
        fit_classifier(lambda: nn.Linear(4, 2), np.zeros((4, 4), np.float32), np.array([0, 1, 0, 1]), np.zeros((2, 4), np.float32), np.array([0, 1]), 2,
                       config.train, seed=0)


@NO_CUDA
def test_the_tools_refuse_cuda_where_there_is_none(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump(STUDY), encoding="utf-8")
    videos = tmp_path / "videos"
    videos.mkdir()
    runs = {
        "loso_eval": lambda: loso_eval(["--config", str(study), "--out", str(tmp_path / "report"), "--device", "cuda", "--no-progress"]),
        "screen": lambda: screen(["--bundle", str(tmp_path / "no-bundle"), "--videos", str(videos), "--out", str(tmp_path / "screen"), "--device", "cuda"]),
        "live": lambda: live(["--bundle", str(tmp_path / "no-bundle"), "--source", str(tmp_path / "none.mp4"), "--device", "cuda"]),
        "extract_i3d": lambda: extract_i3d(["--keypoints", str(tmp_path), "--out", str(tmp_path / "i3d"), "--device", "cuda:1"]),
    }
    for tool, run in runs.items():
        capsys.readouterr()
        assert run() == 2, tool
        assert "asks for CUDA, but torch.cuda.is_available() is False" in capsys.readouterr().err, tool
    assert not (tmp_path / "report").exists() and not (tmp_path / "screen").exists()


def test_folds_run_in_this_process_on_a_gpu() -> None:
    assert fold_workers(_study_config("cpu", workers=3)) == 3
    assert fold_workers(_study_config("cuda", workers=3)) == 1
    assert fold_workers(_study_config("cuda:1", workers=3)) == 1


def test_an_explicit_cpu_fit_is_the_default_fit() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 4)).astype(np.float32), np.array([0, 1] * 8)
    settings = TrainConfig(epochs=2, batch_size=4, patience=2)
    explicit = TrainConfig(epochs=2, batch_size=4, patience=2, device="cpu")
    default = fit_classifier(lambda: nn.Linear(4, 2), x, y, x, y, 2, settings, seed=3)
    chosen = fit_classifier(lambda: nn.Linear(4, 2), x, y, x, y, 2, explicit, seed=3)
    assert all(p.device.type == "cpu" for p in chosen.model.parameters())
    np.testing.assert_array_equal(predict_logits(default.model, x), predict_logits(chosen.model, x))
    refit = fit_fixed_epochs(lambda: nn.Linear(4, 2), x, y, 2, explicit, 2, seed=3)
    assert all(p.device.type == "cpu" for p in refit.parameters())
    np.testing.assert_array_equal(predict_logits(refit, x), predict_logits(fit_fixed_epochs(lambda: nn.Linear(4, 2), x, y, 2, settings, 2, seed=3), x))


def test_the_study_device_reaches_every_network_and_the_bundle(tmp_path: Path, asked: list[tuple[str, str]]) -> None:
    config = _study_config("cuda:7")
    run = run_and_bundle(config, tmp_path / "report", source="tiny-device", bundle_dir=tmp_path / "bundle", progress=False)
    names = _by_module(asked)
    assert names[fit.__name__] == {"cuda:7"}  # every fold's fit: AGCN, TCN, the student, LSTM-FC, GESTURES
    assert names[final.__name__] == {"cuda:7"}  # every final model of the bundle
    assert (appearance.__name__, "cuda:7") in asked  # the frame encoders' features of the study
    fits = sum(module == fit.__name__ for module, _ in asked)
    folds = len(run.study.folds)
    assert fits == folds * 6  # six trained models per fold (the fusion trains nothing)
    assert sum(module == final.__name__ for module, _ in asked) == 4  # the bundle's four trained window models
    weights = torch.load(tmp_path / "bundle" / bundle_store.WEIGHTS_FILE, weights_only=True)  # no map_location: the tensors themselves are CPU ones
    tensors = [t for part in weights.values() for state in part.values() for t in state.values()]
    assert tensors and all(t.device.type == "cpu" for t in tensors)
    asked.clear()
    bundle = load_bundle(tmp_path / "bundle", device="cuda:7")
    assert asked == [(bundle_store.__name__, "cuda:7")]
    assert all(p.device.type == "cpu" for m in bundle.models.values() if m.network is not None for p in m.network.parameters())
    assert bundle.config.train.device == "cuda:7"  # a config naming a GPU is read without asking the machine


def test_screen_and_live_load_the_bundle_on_the_asked_device(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, asked: list[tuple[str, str]],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    bundle = tiny_bundle(tmp_path_factory.getbasetemp() / "tiny_bundle").path
    manifest = _manifest(tmp_path)
    assert screen(["--bundle", str(bundle), "--manifest", str(manifest), "--out", str(tmp_path / "screen"), "--device", "cuda:7", "--no-progress"]) == 0
    assert (bundle_store.__name__, "cuda:7") in asked
    asked.clear()
    assert live(["--bundle", str(bundle), "--source", str(tmp_path / "none.mp4"), "--device", "cuda:7", "--no-progress"]) == 2
    assert asked == [(bundle_store.__name__, "cuda:7")]  # loaded there, then refused: the tiny bundle is not causal
    assert "windows.baseline: causal" in capsys.readouterr().err


def test_a_gpu_screens_in_this_process_only(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, asked: list[tuple[str, str]],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    bundle = tiny_bundle(tmp_path_factory.getbasetemp() / "tiny_bundle").path
    manifest = _manifest(tmp_path)
    for extra, named in ((["--workers", "2"], "--workers 2"), (["--engine", "ray"], "--engine ray")):
        capsys.readouterr()
        assert screen(["--bundle", str(bundle), "--manifest", str(manifest), "--out", str(tmp_path / "screen"), "--device", "cuda:7", *extra]) == 2
        assert f"device 'cuda:7' screens in this process only, so it cannot go with {named}" in capsys.readouterr().err
    assert not (tmp_path / "screen").exists()
    assert screen(["--bundle", str(bundle), "--manifest", str(manifest), "--out", str(tmp_path / "screen"), "--device", "cpu", "--workers", "2",
                   "--no-progress"]) == 0


@CUDA
def test_a_study_on_cuda_gives_a_bundle_that_loads_on_the_cpu(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump({**STUDY, "evaluation": {**STUDY["evaluation"], "workers": 2}}), encoding="utf-8")
    status = loso_eval(["--config", str(path), "--out", str(tmp_path / "report"), "--bundle", str(tmp_path / "bundle"), "--device", "cuda",
                        "--no-progress"])
    assert status == 0, capsys.readouterr().err
    metrics = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert {"dystonia/AGCN-kd", "dystonia/LSTM-FC", "dystonia/GESTURES"} <= set(metrics["models"])
    weights = torch.load(tmp_path / "bundle" / bundle_store.WEIGHTS_FILE, weights_only=True)
    tensors = [t for part in weights.values() for state in part.values() for t in state.values()]
    assert tensors and all(t.device.type == "cpu" for t in tensors)
    on_cpu, on_gpu = load_bundle(tmp_path / "bundle"), load_bundle(tmp_path / "bundle", device="cuda")
    record = tiny_records(2)[0]
    on_cpu_record, on_gpu_record = prepare_record(on_cpu, record), prepare_record(on_gpu, record)
    for name, model in on_cpu.models.items():
        if model.network is not None:
            assert all(p.device.type == "cpu" for p in model.network.parameters())
            assert all(p.is_cuda for p in on_gpu.models[name].network.parameters())
        cpu_prob, _ = window_probabilities(on_cpu, model, on_cpu_record, 0, on_cpu_record.num_frames)
        gpu_prob, _ = window_probabilities(on_gpu, on_gpu.models[name], on_gpu_record, 0, on_gpu_record.num_frames)
        np.testing.assert_allclose(gpu_prob, cpu_prob, atol=1e-2)  # the same model to rounding (cuDNN convolutions may use TF32)
