"""The fast I3D path's own operators: separable SAME max pooling and the oneDNN convolution equal torch's."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from semiology.models.i3d import I3D, MAX_POOLS, MaxPool3dSame, conv3d_relu, extract_features, fast_extractor, same_max_pool3d

POOLS = [*MAX_POOLS.values(), ((3, 3, 3), (1, 1, 1))]


@pytest.mark.parametrize(("kernel", "stride"), POOLS)
@pytest.mark.parametrize("shape", [(1, 4, 30, 56, 56), (2, 3, 7, 15, 9), (1, 2, 8, 4, 4), (1, 2, 1, 1, 1)])
@pytest.mark.parametrize("channels_last", [False, True])
def test_separable_max_pool_equals_the_reference_bit_for_bit(
    kernel: tuple[int, int, int], stride: tuple[int, int, int], shape: tuple[int, ...], channels_last: bool
) -> None:
    x = torch.rand(shape, generator=torch.Generator().manual_seed(sum(shape)))
    expected = MaxPool3dSame(kernel, stride)(x)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last_3d)
    found = same_max_pool3d(x, kernel, stride)
    assert found.shape == expected.shape
    assert torch.equal(found, expected)
    assert found.is_contiguous(memory_format=torch.channels_last_3d if channels_last else torch.contiguous_format)


@pytest.mark.parametrize(("kernel", "padding"), [((1, 1, 1), (0, 0, 0)), ((3, 3, 3), (1, 1, 1))])
def test_onednn_convolution_equals_torch(kernel: tuple[int, int, int], padding: tuple[int, int, int]) -> None:
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(1, 16, 5, 7, 7, generator=generator)
    weight = torch.randn(24, 16, *kernel, generator=generator) * 0.1
    bias = torch.randn(24, generator=generator)
    expected = F.relu(F.conv3d(x, weight, bias, 1, padding))
    found = conv3d_relu(x, weight, bias, (1, 1, 1), padding)
    torch.testing.assert_close(found, expected, rtol=0, atol=1e-5)


def test_fast_extractor_equals_the_reference_at_112_px() -> None:
    """The demo's crop size, where the small maps used to fall back to torch's slower kernels."""
    torch.manual_seed(0)
    model = I3D().eval()
    for bn in model.modules():
        if isinstance(bn, torch.nn.BatchNorm3d):
            bn.running_mean.normal_(0, 0.1)
            bn.running_var.uniform_(0.5, 2.0)
    clip = torch.rand(1, 3, 16, 112, 112, generator=torch.Generator().manual_seed(1)) * 2 - 1
    reference = extract_features(model, clip)
    torch.testing.assert_close(extract_features(fast_extractor(model), clip), reference, rtol=0, atol=1e-5)
