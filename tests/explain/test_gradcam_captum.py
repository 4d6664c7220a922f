"""Grad-CAM through captum's LayerGradCam gives the numbers of the hand-written computation it replaced."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from semiology.explain.attributions import grad_cam, log_odds
from semiology.layouts import get_layout
from semiology.models.agcn import AGCN


def reference_grad_cam(network: AGCN, inputs: np.ndarray, target: int, objective: str) -> np.ndarray:
    """The earlier hand-written Grad-CAM: the last block's map from `forward_features`, its gradient kept by `retain_grad`."""
    x = torch.from_numpy(np.ascontiguousarray(inputs))
    pooled, feature_map = network.forward_features(x)
    feature_map.retain_grad()
    logits = network.fc(pooled)
    explained = log_odds(logits) if objective == "log_odds" else logits
    explained[:, target].sum().backward()
    weights = feature_map.grad.mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((weights * feature_map).sum(dim=1)).detach()
    stretched = torch.nn.functional.interpolate(cam[:, None], size=(inputs.shape[2], inputs.shape[3]), mode="nearest")
    return stretched[:, 0].numpy()


def small_agcn(seed: int, num_class: int, strides: tuple[int, int]) -> AGCN:
    torch.manual_seed(seed)
    network = AGCN(num_class=num_class, adjacency=get_layout("upper_body_11").adjacency(), channels=(8, 16), strides=strides)
    for module in network.modules():
        if isinstance(module, torch.nn.BatchNorm1d | torch.nn.BatchNorm2d):
            module.running_mean.normal_(0.0, 0.1)
            module.running_var.uniform_(0.5, 2.0)
    return network.eval()


@pytest.mark.parametrize("objective", ["log_odds", "logit"])
@pytest.mark.parametrize(("seed", "num_class", "strides"), [(0, 2, (1, 2)), (1, 3, (2, 1)), (2, 2, (1, 1))])
def test_captum_grad_cam_equals_the_hand_written_one(objective: str, seed: int, num_class: int, strides: tuple[int, int]) -> None:
    network = small_agcn(seed, num_class, strides)
    inputs = np.random.default_rng(seed).normal(size=(4, 3, 20, 11, 1)).astype(np.float32)
    for target in range(num_class):
        expected = reference_grad_cam(network, inputs, target, objective)
        found = grad_cam(network, inputs, target, objective)
        assert found.shape == (4, 20, 11)
        assert expected.max() > 0, "a map that is not all zeros"
        np.testing.assert_allclose(found, expected, rtol=0, atol=1e-6)


def test_grad_cam_refuses_an_unknown_objective() -> None:
    network = small_agcn(0, 2, (1, 2))
    with pytest.raises(ValueError, match="objective"):
        grad_cam(network, np.zeros((1, 3, 8, 11, 1), np.float32), 1, objective="probability")
