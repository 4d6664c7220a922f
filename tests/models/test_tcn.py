"""The TCN appearance stream: shapes, receptive field growth with dilation, and learning a toy task."""

import numpy as np
import pytest
import torch

from semiology.models.tcn import TCN


@pytest.mark.parametrize("num_frames", [1, 2, 7, 30])
def test_shapes_for_any_window_length(num_frames: int) -> None:
    torch.manual_seed(0)
    model = TCN(in_features=5, num_class=3, channels=(8, 12), kernel_size=3)
    x = torch.randn(4, num_frames, 5)
    assert model(x).shape == (4, 3)
    pooled, per_time = model.forward_features(x)
    assert pooled.shape == (4, 12)
    assert per_time.shape == (4, 12, num_frames)
    torch.testing.assert_close(pooled, per_time.mean(dim=2))
    model.eval()
    assert model(x[:1]).shape == (1, 3)


def test_rejects_wrong_feature_width() -> None:
    with pytest.raises(ValueError, match=r"\[N, T, 5\]"):
        TCN(in_features=5, num_class=2)(torch.zeros(2, 4, 6))


def _impulse_reach(num_blocks: int, kernel_size: int = 3) -> int:
    """Last frame whose per-time features change when frame 0 carries an impulse."""
    torch.manual_seed(0)
    model = TCN(in_features=3, num_class=2, channels=(16,) * num_blocks, kernel_size=kernel_size, dropout=0.0).eval()
    baseline = torch.zeros(1, 40, 3)
    impulse = baseline.clone()
    impulse[0, 0] = 5.0
    with torch.no_grad():
        change = (model.forward_features(impulse)[1] - model.forward_features(baseline)[1]).abs().amax(dim=1)[0]
    return int(torch.nonzero(change > 1e-6).max())


def test_dilation_grows_receptive_field() -> None:
    reaches = [_impulse_reach(blocks) for blocks in (1, 2, 3)]
    # two convolutions of dilation 2**i per block, each reaching (k - 1) / 2 * 2**i frames
    assert reaches == [2, 6, 14]
    assert TCN(3, 2, channels=(16,) * 3).receptive_field == 1 + 2 * 14


def test_learns_temporal_frequency() -> None:
    rng = np.random.default_rng(0)
    num_windows, num_frames = 64, 32
    labels = np.arange(num_windows) % 2
    frequency = np.where(labels == 1, 0.25, 0.0625)
    phase = rng.uniform(0, 2 * np.pi, num_windows)
    t = np.arange(num_frames)
    features = rng.normal(0, 0.3, size=(num_windows, num_frames, 4))
    features[:, :, 0] += np.sin(2 * np.pi * frequency[:, None] * t[None] + phase[:, None])
    x = torch.tensor(features, dtype=torch.float32)
    y = torch.tensor(labels)

    torch.manual_seed(0)
    model = TCN(in_features=4, num_class=2, channels=(16, 16), dropout=0.1)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(60):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(x).argmax(dim=1) == y).float().mean().item()
    assert accuracy > 0.9
