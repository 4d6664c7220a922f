"""`--device` on the model benchmarks and the device suite: the CPU runs, a missing GPU is refused with a message."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from semiology.experiment import TrainConfig
from semiology.layouts import get_layout
from semiology.models.agcn import AGCN
from semiology.models.i3d import I3D, extract_features, fast_extractor
from semiology.train.fit import fit_classifier, predict_logits

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import agcn_throughput  # noqa: E402
import device_suite  # noqa: E402

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device in this torch build or machine")


def test_agcn_benchmark_runs_on_the_cpu_with_its_equality_checks(capsys: pytest.CaptureFixture[str]) -> None:
    status = agcn_throughput.main(["--quick", "--device", "cpu", "--threads", "1", "--shapes", "4,3,8,11,1"])
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert "device cpu" in printed and "fused+cl/loop" in printed
    assert "[4, 3, 8, 11, 1]" in printed and "training" in printed


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: the refusal cannot happen")
def test_missing_cuda_is_refused_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert device_suite.main(["--device", "cuda"]) == 2
    assert agcn_throughput.main(["--device", "cuda"]) == 2
    assert "CUDA is not available" in capsys.readouterr().err
    assert device_suite.found_device(None) == torch.device("cpu")


def test_fit_on_an_explicit_cpu_device_equals_the_default() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 3, 8, 11, 1)).astype(np.float32)
    y = np.array([0, 1] * 6)
    config = TrainConfig(epochs=2, batch_size=4, patience=2)

    def build() -> AGCN:
        return AGCN(2, get_layout("upper_body_11").adjacency(), channels=(8,), strides=(1,))

    default = fit_classifier(build, x, y, x, y, 2, config, seed=3)
    explicit = fit_classifier(build, x, y, x, y, 2, config, seed=3, device="cpu")
    np.testing.assert_array_equal(predict_logits(default.model, x), predict_logits(explicit.model, x))


@CUDA
def test_models_and_fitting_run_on_cuda() -> None:
    torch.manual_seed(0)
    model = AGCN(3, get_layout("upper_body_11").adjacency(), channels=(8, 16), strides=(1, 2))
    x = torch.randn(4, 3, 12, 11, 1)
    expected = model.eval()(x)
    torch.testing.assert_close(model.cuda()(x.cuda()).cpu(), expected, rtol=1e-4, atol=1e-4)
    rng = np.random.default_rng(0)
    xs, ys = rng.normal(size=(8, 3, 8, 11, 1)).astype(np.float32), np.array([0, 1] * 4)
    fitted = fit_classifier(lambda: AGCN(2, get_layout("upper_body_11").adjacency(), channels=(8,), strides=(1,)), xs, ys, xs, ys, 2,
                            TrainConfig(epochs=1, batch_size=4), seed=0, device="cuda")
    assert next(fitted.model.parameters()).is_cuda and predict_logits(fitted.model, xs).shape == (8, 2)
    i3d = I3D().eval()
    clip = torch.rand(1, 3, 16, 112, 112) * 2 - 1
    reference = extract_features(i3d, clip)
    torch.testing.assert_close(extract_features(fast_extractor(i3d.cuda()), clip.cuda()).cpu(), reference, rtol=1e-3, atol=1e-3)
