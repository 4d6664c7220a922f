"""Two-stream adaptive graph convolutional network (2s-AGCN, Shi et al., CVPR 2019), one stream.

A skeleton clip `[N, C, T, V, M]` (coordinates, frames, joints, persons) passes a batch norm over
persons, joints and coordinates, then blocks of an adaptive graph convolution (`unit_gcn`) and a
temporal convolution (`unit_tcn`) with a residual path, is averaged over time, joints and
persons, and a linear layer gives the logits.

Each graph convolution mixes joints with three kinds of adjacency per subset `k`: the fixed
layout graph `A[k]`, a learned additive graph `PA[k]` ("B" in the paper) and a data-dependent
graph `C[k]`, a softmax over the embedded similarity of every joint pair. The state-dict keys
and shapes are those of the reference implementation (`data_bn`, `l1.gcn1.PA`,
`l1.gcn1.conv_a.0`, `l1.tcn1.conv`, `fc`, ...), so NTU-pretrained checkpoints load as they are;
the fixed graph is a non-persistent buffer because it comes from the layout, not the checkpoint.

Two formulations of the same maths are provided. `fused=False` is the per-subset loop as the
paper writes it: the readable reference. `fused=True` (default) concatenates the per-subset
1x1 convolutions into one, batches the attention over subsets, runs the graph product on the
narrower side of `conv_d` (`conv_d(x G) = (W x) G + b` for a 1x1 convolution), accumulates the
subsets in place and, in eval mode, folds every batch norm into the convolution before it; under `torch.inference_mode`/`no_grad` in eval mode
it also runs the batch in cache-sized tiles (samples are independent there). Both give the same
outputs and gradients up to float rounding; the fused one is faster on CPU because it allocates
and touches less memory, not because it does less arithmetic: the temporal convolutions, about
two thirds of the arithmetic, are the same in both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

DEFAULT_CHANNELS: tuple[int, ...] = (64, 64, 64, 64, 128, 128, 128, 256, 256, 256)
DEFAULT_STRIDES: tuple[int, ...] = (1, 1, 1, 1, 2, 1, 1, 2, 1, 1)
INFERENCE_TILE_BYTES = 16 * 2**20


def _init_conv_fan_out(conv: nn.Conv2d) -> None:
    """Kaiming-normal weights (fan-out mode) and zero bias, as the reference initialises convolutions."""
    nn.init.kaiming_normal_(conv.weight, mode="fan_out")
    assert conv.bias is not None
    nn.init.constant_(conv.bias, 0.0)


def _init_branch_conv(conv: nn.Conv2d, branches: int) -> None:
    """Normal weights scaled down by the number of summed branches, so the subset sum keeps its variance."""
    out_channels, in_channels, kernel_height = conv.weight.shape[:3]
    std = math.sqrt(2.0 / (out_channels * in_channels * kernel_height * branches))
    nn.init.normal_(conv.weight, 0.0, std)
    assert conv.bias is not None
    nn.init.constant_(conv.bias, 0.0)


def _init_bn(bn: nn.BatchNorm1d | nn.BatchNorm2d, scale: float) -> None:
    """Constant gamma `scale` and zero beta."""
    nn.init.constant_(bn.weight, scale)
    nn.init.constant_(bn.bias, 0.0)


def _bn_affine(bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel `(scale, shift)` that an eval-mode batch norm applies, for folding it into a convolution."""
    assert bn.running_mean is not None and bn.running_var is not None
    scale = bn.weight * torch.rsqrt(bn.running_var + bn.eps)
    return scale, bn.bias - bn.running_mean * scale


def _folds_bn(bn: nn.BatchNorm2d) -> bool:
    """Whether `bn` currently applies its running statistics, i.e. is a fixed affine map that can be folded."""
    return not bn.training and bn.running_mean is not None


class TemporalUnit(nn.Module):
    """`unit_tcn`: a `kernel_size x 1` convolution over time (with stride) followed by batch norm."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 9, stride: int = 1) -> None:
        super().__init__()
        padding = (kernel_size - 1) // 2
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size=(kernel_size, 1), padding=(padding, 0), stride=(stride, 1)
        )
        self.bn = nn.BatchNorm2d(out_channels)
        self.fused = True
        self.channels_last = False
        _init_conv_fan_out(self.conv)
        _init_bn(self.bn, 1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map `[N, C_in, T, V]` to `[N, C_out, T', V]`, `T' = ceil(T / stride)`.

        With `channels_last` (fused only) the convolution and its batch norm run on a
        `[N, T, V, C]`-ordered copy and the result comes back in the usual order: oneDNN's
        channels-last kernels are faster for this `k x 1` convolution on wide inputs
        (see docs/decisions.md#agcn-training-speed), the two copies cost little beside it.
        """
        if not self.fused:
            return self.bn(self.conv(x))
        weight, bias = self.conv.weight, self.conv.bias
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
            weight = weight.contiguous(memory_format=torch.channels_last)
        if _folds_bn(self.bn):
            scale, shift = _bn_affine(self.bn)
            assert bias is not None
            y = F.conv2d(x, weight * scale[:, None, None, None], bias * scale + shift, self.conv.stride, self.conv.padding)
        else:
            y = self.bn(F.conv2d(x, weight, bias, self.conv.stride, self.conv.padding))
        return y.contiguous() if self.channels_last else y


class GraphUnit(nn.Module):
    """`unit_gcn`: adaptive graph convolution over joints with fixed `A`, learned `PA` and data-dependent `C`."""

    def __init__(self, in_channels: int, out_channels: int, adjacency: np.ndarray, coff_embedding: int = 4) -> None:
        super().__init__()
        num_subset, num_joints = adjacency.shape[0], adjacency.shape[1]
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_subset = num_subset
        self.inter_channels = out_channels // coff_embedding
        if self.inter_channels < 1:
            raise ValueError(
                f"out_channels {out_channels} // coff_embedding {coff_embedding} leaves no embedding channels"
            )
        self.register_buffer("A", torch.from_numpy(np.array(adjacency, dtype=np.float32)), persistent=False)
        self.PA = nn.Parameter(torch.full((num_subset, num_joints, num_joints), 1e-6))
        self.conv_a = nn.ModuleList(nn.Conv2d(in_channels, self.inter_channels, 1) for _ in range(num_subset))
        self.conv_b = nn.ModuleList(nn.Conv2d(in_channels, self.inter_channels, 1) for _ in range(num_subset))
        self.conv_d = nn.ModuleList(nn.Conv2d(in_channels, out_channels, 1) for _ in range(num_subset))
        self.down: nn.Sequential | None = None
        if in_channels != out_channels:
            self.down = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1), nn.BatchNorm2d(out_channels))
        self.bn = nn.BatchNorm2d(out_channels)
        self.fused = True
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                _init_conv_fan_out(module)
            elif isinstance(module, nn.BatchNorm2d):
                _init_bn(module, 1.0)
        _init_bn(self.bn, 1e-6)
        for conv in self.conv_d:
            _init_branch_conv(conv, num_subset)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map `[N, C_in, T, V]` to `[N, C_out, T, V]`."""
        return self._forward_fused(x) if self.fused else self._forward_loop(x)

    def _forward_loop(self, x: torch.Tensor) -> torch.Tensor:
        """The per-subset formulation of the paper, written for reading, not speed."""
        n, c, t, v = x.shape
        graph = self.A + self.PA
        y: torch.Tensor | None = None
        for k in range(self.num_subset):
            embed_a = self.conv_a[k](x).permute(0, 3, 1, 2).contiguous().view(n, v, self.inter_channels * t)
            embed_b = self.conv_b[k](x).view(n, self.inter_channels * t, v)
            attention = torch.softmax(torch.matmul(embed_a, embed_b) / embed_a.size(-1), dim=-2)
            attention = attention + graph[k]
            mixed = torch.matmul(x.view(n, c * t, v), attention).view(n, c, t, v)
            z = self.conv_d[k](mixed)
            y = z if y is None else y + z
        assert y is not None
        y = self.bn(y)
        y = y + (self.down(x) if self.down is not None else x)
        return torch.relu(y)

    def data_attention(self, x: torch.Tensor) -> torch.Tensor:
        """The data-dependent graphs `C`, `[N, K, V, V]`: column softmax of the embedded joint similarity."""
        n, _, t, v = x.shape
        subsets, inter = self.num_subset, self.inter_channels
        weight = torch.stack(
            [torch.cat([a.weight, b.weight]) for a, b in zip(self.conv_a, self.conv_b, strict=True)]
        ).view(2 * subsets * inter, -1, 1, 1)
        bias = torch.stack([torch.cat([a.bias, b.bias]) for a, b in zip(self.conv_a, self.conv_b, strict=True)])
        embed_a, embed_b = F.conv2d(x, weight, bias.view(-1)).view(n * subsets, 2, inter * t, v).unbind(1)
        similarity = torch.bmm(embed_a.transpose(1, 2), embed_b).view(n, subsets, v, v)
        return torch.softmax(similarity / (inter * t), dim=-2)

    def _subset_weights(self) -> tuple[list[torch.Tensor], torch.Tensor]:
        """`conv_d` weights and their summed bias, with `bn` folded in when it applies running statistics."""
        weights = [conv.weight for conv in self.conv_d]
        bias = torch.stack([conv.bias for conv in self.conv_d]).sum(0)
        if _folds_bn(self.bn):
            scale, shift = _bn_affine(self.bn)
            weights = [w * scale[:, None, None, None] for w in weights]
            bias = bias * scale + shift
        return weights, bias

    def _shortcut(self, x: torch.Tensor) -> torch.Tensor:
        """The unit's own residual: `x`, or `down(x)` with its batch norm folded when it applies running statistics."""
        if self.down is None:
            return x
        conv, bn = self.down[0], self.down[1]
        if not _folds_bn(bn):
            return self.down(x)
        scale, shift = _bn_affine(bn)
        assert conv.bias is not None
        return F.conv2d(x, conv.weight * scale[:, None, None, None], conv.bias * scale + shift)

    def _forward_fused(self, x: torch.Tensor) -> torch.Tensor:
        """Same maths as `_forward_loop` with one convolution for all subsets and no per-subset temporaries.

        The graph product runs on the narrower side: on the input, all subsets in one batched
        product, before one convolution over the stacked subsets when the unit widens
        (`C_in < C_out`); otherwise on the stacked `conv_d` projections, the subsets summed
        inside one product whose contraction runs over (subset, joint) (`conv_d(x G) = (W x) G + b`
        for a 1x1 convolution), computed transposed (joints as rows): MKL's batched product with
        a joint-wide output is slower than the transposed one, forward and backward, and one
        product over stacked subsets costs less than one per subset (see
        docs/decisions.md#agcn-training-speed).
        """
        n, c, t, v = x.shape
        subsets, out = self.num_subset, self.out_channels
        graph = self.data_attention(x) + (self.A + self.PA)
        weights, bias = self._subset_weights()
        if c < out:
            # [n, c*t, K*v]: every subset's graph side by side, one product for all of them
            mixed = torch.bmm(x.view(n, c * t, v), graph.transpose(1, 2).reshape(n, v, subsets * v))
            mixed = mixed.view(n, c * t, subsets, v).transpose(1, 2).reshape(n, subsets * c, t, v)
            y = F.conv2d(mixed, torch.cat(weights, dim=1), bias)
        else:
            projected = F.conv2d(x, torch.cat(weights)).view(n, subsets, out * t, v)
            # [n, v, out*t]: the subsets summed inside one product over the stacked (subset, joint) axis
            y = torch.bmm(graph.reshape(n, subsets * v, v).transpose(1, 2), projected.transpose(2, 3).reshape(n, subsets * v, out * t))
            y = y.transpose(1, 2).reshape(n, out, t, v).add_(bias[:, None, None])
        if not _folds_bn(self.bn):
            y = self.bn(y)
        return y.add_(self._shortcut(x)).relu_()


class Block(nn.Module):
    """`TCN_GCN_unit`: graph unit, temporal unit and a residual path (none, identity or strided 1x1 unit)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        adjacency: np.ndarray,
        stride: int = 1,
        residual: bool = True,
        temporal_kernel: int = 9,
        coff_embedding: int = 4,
    ) -> None:
        super().__init__()
        self.gcn1 = GraphUnit(in_channels, out_channels, adjacency, coff_embedding)
        self.tcn1 = TemporalUnit(out_channels, out_channels, kernel_size=temporal_kernel, stride=stride)
        self.has_residual = residual
        self.residual: TemporalUnit | None = None
        if residual and (in_channels != out_channels or stride != 1):
            self.residual = TemporalUnit(in_channels, out_channels, kernel_size=1, stride=stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map `[N, C_in, T, V]` to `[N, C_out, T', V]`."""
        y = self.tcn1(self.gcn1(x))
        if self.has_residual:
            shortcut = x if self.residual is None else self.residual(x)
            y = y.add_(shortcut) if self.gcn1.fused else y + shortcut
        return y.relu_() if self.gcn1.fused else torch.relu(y)


class AGCN(nn.Module):
    """One 2s-AGCN stream (joints or bones): `[N, C, T, V, M]` skeleton clips to `[N, num_class]` logits.

    `adjacency` is the `[K, V, V]` spatial graph of a layout (self, inward, outward), e.g.
    `get_layout(name).adjacency()`. `channels` and `strides` give one block each; block 1 has no
    residual path, as in the reference. `fused` picks the fast formulation (see the module
    docstring); it can be switched later through the `fused` attribute without touching weights.
    `channels_last` (fused only) runs the temporal convolutions on channels-last copies, faster
    for wide inputs such as NTU's `[N, 3, 300, 25, 2]`; it too is an attribute.
    In eval mode without autograd the fused model also runs the batch in tiles of at most
    `inference_tile_bytes` of activations (0 turns tiling off); see `inference_tile`.
    """

    def __init__(
        self,
        num_class: int,
        adjacency: np.ndarray,
        num_person: int = 1,
        in_channels: int = 3,
        channels: Sequence[int] = DEFAULT_CHANNELS,
        strides: Sequence[int] = DEFAULT_STRIDES,
        temporal_kernel: int = 9,
        coff_embedding: int = 4,
        dropout: float = 0.0,
        fused: bool = True,
        inference_tile_bytes: int = INFERENCE_TILE_BYTES,
        channels_last: bool = False,
    ) -> None:
        super().__init__()
        adjacency = np.asarray(adjacency, dtype=np.float32)
        if adjacency.ndim != 3 or adjacency.shape[1] != adjacency.shape[2]:
            raise ValueError(f"adjacency must have shape [K, V, V], got {adjacency.shape}")
        if len(channels) == 0 or len(channels) != len(strides):
            raise ValueError(f"channels and strides need one entry per block, got {len(channels)} and {len(strides)}")
        if any(w < 1 for w in channels) or any(s < 1 for s in strides):
            raise ValueError(f"channels and strides must be positive, got {tuple(channels)} and {tuple(strides)}")
        if num_class < 1 or num_person < 1 or in_channels < 1:
            raise ValueError(
                f"num_class, num_person and in_channels must be positive, got {num_class}, {num_person}, {in_channels}"
            )
        if temporal_kernel < 1 or temporal_kernel % 2 == 0:
            raise ValueError(f"temporal_kernel must be a positive odd number, got {temporal_kernel}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {dropout}")
        self.num_class = num_class
        self.num_joints = int(adjacency.shape[1])
        self.num_person = num_person
        self.in_channels = in_channels
        self.channels = tuple(int(w) for w in channels)
        self.strides = tuple(int(s) for s in strides)
        self.data_bn = nn.BatchNorm1d(num_person * in_channels * self.num_joints)
        widths = (in_channels, *self.channels)
        self.block_names = tuple(f"l{i + 1}" for i in range(len(self.channels)))
        for i, name in enumerate(self.block_names):
            block = Block(
                widths[i],
                widths[i + 1],
                adjacency,
                stride=self.strides[i],
                residual=i > 0,
                temporal_kernel=temporal_kernel,
                coff_embedding=coff_embedding,
            )
            self.add_module(name, block)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(self.channels[-1], num_class)
        nn.init.normal_(self.fc.weight, 0.0, math.sqrt(2.0 / num_class))
        _init_bn(self.data_bn, 1.0)
        self.fused = fused
        self.channels_last = channels_last
        self.inference_tile_bytes = inference_tile_bytes

    @property
    def fused(self) -> bool:
        """Whether the blocks use the fast formulation; setting it switches every block."""
        return self._fused

    @fused.setter
    def fused(self, value: bool) -> None:
        self._fused = bool(value)
        for module in self.modules():
            if isinstance(module, GraphUnit | TemporalUnit):
                module.fused = self._fused

    @property
    def channels_last(self) -> bool:
        """Whether the fused temporal convolutions run channels-last; setting it switches every block.

        Off by default: the results equal the default layout's to float rounding, not bit for
        bit, and it pays only on wide inputs (see docs/decisions.md#agcn-training-speed).
        """
        return self._channels_last

    @channels_last.setter
    def channels_last(self, value: bool) -> None:
        self._channels_last = bool(value)
        for module in self.modules():
            if isinstance(module, TemporalUnit):
                module.channels_last = self._channels_last

    @property
    def blocks(self) -> list[Block]:
        """The blocks `l1, l2, ...` in order."""
        return [getattr(self, name) for name in self.block_names]

    @property
    def out_channels(self) -> int:
        """Width of the pooled features (the last block's channels)."""
        return self.channels[-1]

    def _normalise_input(self, x: torch.Tensor) -> torch.Tensor:
        """Apply `data_bn` over (person, joint, coordinate) and fold persons into the batch: `[N*M, C, T, V]`."""
        if x.dim() != 5:
            raise ValueError(f"expected input [N, C, T, V, M], got shape {tuple(x.shape)}")
        n, c, t, v, m = x.shape
        if (c, v, m) != (self.in_channels, self.num_joints, self.num_person):
            raise ValueError(
                f"expected C={self.in_channels}, V={self.num_joints}, M={self.num_person}, got input {tuple(x.shape)}"
            )
        x = self.data_bn(x.permute(0, 4, 3, 1, 2).reshape(n, m * v * c, t))
        return x.view(n, m, v, c, t).permute(0, 1, 3, 4, 2).reshape(n * m, c, t, v)

    def inference_tile(self, x: torch.Tensor) -> int:
        """Samples per tile for batch-tiled inference of `x`, or 0 when the whole batch runs at once.

        With every batch norm on running statistics and no autograd graph, samples are
        independent, so the fused model runs the batch in tiles whose activations stay within
        `inference_tile_bytes`: small tensors are reused by the allocator and stay in cache,
        where whole-batch activations would be fresh page-faulting allocations on every call.
        """
        if not self.fused or self.training or torch.is_grad_enabled() or self.inference_tile_bytes <= 0:
            return 0
        _, _, frames, v, m = x.shape
        subsets = self.blocks[0].gcn1.num_subset
        widest = 0
        for width, stride in zip(self.channels, self.strides, strict=True):
            widest = max(widest, (subsets + 1) * width * frames)
            frames = (frames - 1) // stride + 1
        tile = max(1, self.inference_tile_bytes // (m * v * widest * x.element_size()))
        return 0 if tile >= x.shape[0] else tile

    def forward_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Pooled features `[N, C_last]` and the last block's map `[N*M, C_last, T', V]`.

        The pooled features feed distillation, the map Grad-CAM-style attributions over time and joints.
        """
        tile = self.inference_tile(x)
        if tile:
            parts = [self._features(chunk) for chunk in x.split(tile)]
            return torch.cat([pooled for pooled, _ in parts]), torch.cat([last for _, last in parts])
        return self._features(x)

    def _features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """`forward_features` on one batch, without tiling."""
        n, m = x.shape[0], x.shape[4]
        feature_map = self._normalise_input(x)
        for block in self.blocks:
            feature_map = block(feature_map)
        pooled = feature_map.view(n, m, feature_map.shape[1], -1).mean(3).mean(1)
        return pooled, feature_map

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits `[N, num_class]` for skeleton clips `[N, C, T, V, M]`."""
        tile = self.inference_tile(x)
        if tile:
            pooled = torch.cat([self._features(chunk)[0] for chunk in x.split(tile)])
        else:
            pooled, _ = self._features(x)
        return self.fc(self.dropout(pooled))

    def attention_maps(self, x: torch.Tensor) -> list[dict[str, torch.Tensor]]:
        """Per block, the fixed graph `A` `[K, V, V]`, learned `B` (= `PA`) and data-dependent `C` `[N*M, K, V, V]`.

        The three are what a block adds to mix joints (`A + B + C`), so they are the natural
        views of which joint relations the model relies on. Runs a forward pass on `x`.
        """
        feature_map = self._normalise_input(x)
        maps: list[dict[str, torch.Tensor]] = []
        for block in self.blocks:
            unit = block.gcn1
            maps.append({"A": unit.A, "B": unit.PA, "C": unit.data_attention(feature_map)})
            feature_map = block(feature_map)
        return maps
