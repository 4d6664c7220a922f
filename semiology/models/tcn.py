"""Temporal convolutional network over per-frame appearance features (the TCN stream).

The stream reads the features of a frozen frame encoder (see `semiology.models.encoder`),
one vector per frame, and classifies a window. Residual blocks of dilated 1-D convolutions
with doubling dilation widen the temporal receptive field exponentially with depth while
"same" padding keeps one output per frame, so per-time activations stay aligned with the
input frames for later time attributions.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class TemporalBlock(nn.Module):
    """Two dilated "same"-padded temporal convolutions with batch norm, ReLU, dropout and a residual path."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, dilation: int, dropout: float) -> None:
        super().__init__()
        self.dilation = dilation
        self.conv1 = nn.Conv1d(in_channels, out_channels, kernel_size, dilation=dilation, padding="same")
        self.bn1 = nn.BatchNorm1d(out_channels)
        self.conv2 = nn.Conv1d(out_channels, out_channels, kernel_size, dilation=dilation, padding="same")
        self.bn2 = nn.BatchNorm1d(out_channels)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(dropout)
        if in_channels == out_channels:
            self.residual: nn.Module = nn.Identity()
        else:
            self.residual = nn.Sequential(nn.Conv1d(in_channels, out_channels, 1), nn.BatchNorm1d(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map `[N, C_in, T]` to `[N, C_out, T]`."""
        out = self.dropout(self.relu(self.bn1(self.conv1(x))))
        out = self.bn2(self.conv2(out))
        return self.dropout(self.relu(out + self.residual(x)))


class TCN(nn.Module):
    """Dilated residual TCN: `[N, T, D]` per-frame features to `[N, num_class]` logits.

    Block `i` uses dilation `2**i`; the input features are normalised by a `BatchNorm1d` over
    `D` (`data_bn`), the last block's activations are averaged over time and a linear layer
    (`fc`) gives the logits. Any `T >= 1` is accepted.
    """

    def __init__(
        self,
        in_features: int,
        num_class: int,
        channels: Sequence[int] = (64, 64, 64),
        kernel_size: int = 3,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        if in_features < 1 or num_class < 1:
            raise ValueError(f"in_features and num_class must be positive, got {in_features} and {num_class}")
        if not channels or any(c < 1 for c in channels):
            raise ValueError(f"channels must be a non-empty sequence of positive widths, got {tuple(channels)}")
        if kernel_size < 1:
            raise ValueError(f"kernel_size must be positive, got {kernel_size}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {dropout}")
        self.in_features = in_features
        self.num_class = num_class
        self.channels = tuple(int(c) for c in channels)
        self.kernel_size = kernel_size
        self.data_bn = nn.BatchNorm1d(in_features)
        widths = (in_features, *self.channels)
        self.blocks = nn.ModuleList(
            TemporalBlock(widths[i], widths[i + 1], kernel_size, dilation=2**i, dropout=dropout)
            for i in range(len(self.channels))
        )
        self.fc = nn.Linear(self.channels[-1], num_class)

    @property
    def out_channels(self) -> int:
        """Width `C` of the pooled and per-time features."""
        return self.channels[-1]

    @property
    def receptive_field(self) -> int:
        """Width in frames of the window one output depends on: `1 + sum_i 2 (k - 1) 2**i`."""
        return 1 + sum(2 * (self.kernel_size - 1) * block.dilation for block in self.blocks)

    def forward_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return `(pooled [N, C], per_time [N, C, T])` for `x` of shape `[N, T, D]`."""
        if x.dim() != 3 or x.shape[-1] != self.in_features:
            raise ValueError(f"expected input [N, T, {self.in_features}], got {tuple(x.shape)}")
        if x.shape[1] < 1:
            raise ValueError("the window must hold at least one frame (T >= 1)")
        per_time = self.data_bn(x.transpose(1, 2))
        for block in self.blocks:
            per_time = block(per_time)
        return per_time.mean(dim=2), per_time

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits `[N, num_class]` for per-frame features `x` of shape `[N, T, D]`."""
        pooled, _ = self.forward_features(x)
        return self.fc(pooled)
