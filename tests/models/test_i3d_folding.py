"""Batch-norm folding (torch's fuse_conv_bn_weights): the folded inference network computes what the eval network does."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from semiology.models.i3d import I3D, Unit3D, _folded, extract_features, fast_extractor, same_padding


def _trained_statistics(module: torch.nn.Module) -> None:
    """Batch norms with non-trivial running statistics and affine parameters, so that folding has work to do."""
    for bn in module.modules():
        if isinstance(bn, torch.nn.BatchNorm3d):
            bn.running_mean.normal_(0, 0.1)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.data.uniform_(0.5, 1.5)
            bn.bias.data.normal_(0, 0.1)


@pytest.fixture(scope="module")
def model() -> I3D:
    torch.manual_seed(0)
    network = I3D().eval()
    _trained_statistics(network)
    return network


@pytest.mark.parametrize(("kernel", "stride"), [((1, 1, 1), (1, 1, 1)), ((3, 3, 3), (1, 1, 1)), ((7, 7, 7), (2, 2, 2))])
def test_folded_unit_equals_convolution_then_batch_norm(kernel: tuple[int, int, int], stride: tuple[int, int, int]) -> None:
    torch.manual_seed(1)
    unit = Unit3D(8, 16, kernel=kernel, stride=stride, activation=False).eval()
    _trained_statistics(unit)
    x = torch.randn(2, 8, 9, 12, 12)
    weight, bias = _folded(unit)
    assert not weight.requires_grad and not bias.requires_grad
    with torch.no_grad():
        expected = unit(x)
        found = F.conv3d(F.pad(x, same_padding(x.shape[2:], kernel, stride)), weight, bias, stride)
    torch.testing.assert_close(found, expected, rtol=0, atol=1e-5)


@pytest.mark.parametrize("channels_last", [True, False])
def test_folded_network_equals_the_eval_network(model: I3D, channels_last: bool) -> None:
    torch.manual_seed(2)
    clip = torch.rand(1, 3, 24, 64, 64) * 2 - 1
    reference = extract_features(model, clip)
    folded = extract_features(fast_extractor(model, channels_last=channels_last), clip)
    assert reference.abs().max() > 0.1, "features large enough for the tolerance to mean something"
    torch.testing.assert_close(folded, reference, rtol=0, atol=1e-5)
