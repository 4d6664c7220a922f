"""Inflated Inception-v1 (I3D, Carreira & Zisserman 2017) with pytorch-i3d's state-dict names.

Module and parameter names follow pytorch-i3d's `InceptionI3d` (`Conv3d_1a_7x7.conv3d.weight`,
`Mixed_3b.b1b.bn.running_mean`, ..., `logits.conv3d.bias`), so its Kinetics-400 RGB checkpoint
(`rgb_imagenet.pt`) loads unchanged: 344 entries for 400 classes (287 without
`num_batches_tracked`). Padding is TensorFlow's "SAME" (computed from the input size), batch
norm uses eps 1e-3 as in the original.

`I3D.features` gives the 3D-video study's features: Mixed_5c, then an average pool over
(2, 7, 7) with stride 1, i.e. `[N, T', 1024]` with T' = ceil(T / 8) - 1. `fast_extractor` builds
an inference-only copy with every batch norm folded into its convolution and the three 1x1
branch convolutions of each Inception block merged into one, in channels_last_3d memory layout;
on CPU every convolution runs on oneDNN and the max pools as separable strided maxima (all
measured faster, docs/decisions.md#i3d-speed). It returns the same features to float rounding
(see benchmarks/i3d_throughput.py); it takes the model's device (`model.to("cuda")` first).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_weights

from semiology.errors import CheckpointError
from semiology.io.fingerprint import content_sha256

FEATURE_DIM = 1024
KINETICS_CLASSES = 400
TEMPORAL_STRIDE = 8
BN_EPS = 1e-3

INCEPTION_BLOCKS: tuple[tuple[str, int, tuple[int, int, int, int, int, int]], ...] = (
    ("Mixed_3b", 192, (64, 96, 128, 16, 32, 32)),
    ("Mixed_3c", 256, (128, 128, 192, 32, 96, 64)),
    ("Mixed_4b", 480, (192, 96, 208, 16, 48, 64)),
    ("Mixed_4c", 512, (160, 112, 224, 24, 64, 64)),
    ("Mixed_4d", 512, (128, 128, 256, 24, 64, 64)),
    ("Mixed_4e", 512, (112, 144, 288, 32, 64, 64)),
    ("Mixed_4f", 528, (256, 160, 320, 32, 128, 128)),
    ("Mixed_5b", 832, (256, 160, 320, 32, 128, 128)),
    ("Mixed_5c", 832, (384, 192, 384, 48, 128, 128)),
)
"""Each Inception block: name, input channels, (b0, b1a, b1b, b2a, b2b, b3b) output channels."""

MAX_POOLS: dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    "MaxPool3d_2a_3x3": ((1, 3, 3), (1, 2, 2)),
    "MaxPool3d_3a_3x3": ((1, 3, 3), (1, 2, 2)),
    "MaxPool3d_4a_3x3": ((3, 3, 3), (2, 2, 2)),
    "MaxPool3d_5a_2x2": ((2, 2, 2), (2, 2, 2)),
}
"""Max pools between stages: kernel and stride (no parameters, so no state-dict entries)."""

LAYER_ORDER: tuple[str, ...] = (
    "Conv3d_1a_7x7",
    "MaxPool3d_2a_3x3",
    "Conv3d_2b_1x1",
    "Conv3d_2c_3x3",
    "MaxPool3d_3a_3x3",
    "Mixed_3b",
    "Mixed_3c",
    "MaxPool3d_4a_3x3",
    "Mixed_4b",
    "Mixed_4c",
    "Mixed_4d",
    "Mixed_4e",
    "Mixed_4f",
    "MaxPool3d_5a_2x2",
    "Mixed_5b",
    "Mixed_5c",
)


def feature_steps(num_frames: int) -> int:
    """T' of `I3D.features` for a clip of `num_frames` frames: ceil(T / 8) - 1."""
    return math.ceil(num_frames / TEMPORAL_STRIDE) - 1


def same_padding(size: Sequence[int], kernel: Sequence[int], stride: Sequence[int]) -> tuple[int, ...]:
    """TensorFlow "SAME" padding for `F.pad` on a `[..., T, H, W]` tensor (last dim first)."""
    pads: list[int] = []
    for dim in (2, 1, 0):
        if size[dim] % stride[dim] == 0:
            total = max(kernel[dim] - stride[dim], 0)
        else:
            total = max(kernel[dim] - size[dim] % stride[dim], 0)
        pads += [total // 2, total - total // 2]
    return tuple(pads)


class Unit3D(nn.Module):
    """Convolution (SAME padding) + batch norm + ReLU; the logits unit has a bias and neither."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: tuple[int, int, int] = (1, 1, 1),
        stride: tuple[int, int, int] = (1, 1, 1),
        batch_norm: bool = True,
        activation: bool = True,
        bias: bool = False,
    ) -> None:
        super().__init__()
        self.kernel, self.stride, self.activation = kernel, stride, activation
        self.conv3d = nn.Conv3d(in_channels, out_channels, kernel, stride=stride, padding=0, bias=bias)
        self.bn = nn.BatchNorm3d(out_channels, eps=BN_EPS, momentum=0.01) if batch_norm else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv3d(F.pad(x, same_padding(x.shape[2:], self.kernel, self.stride)))
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x) if self.activation else x


class MaxPool3dSame(nn.Module):
    """Max pool with SAME padding (zeros: its inputs follow a ReLU, so zero never wins wrongly)."""

    def __init__(self, kernel: tuple[int, int, int], stride: tuple[int, int, int]) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool3d(F.pad(x, same_padding(x.shape[2:], self.kernel, self.stride)), self.kernel, self.stride)


class InceptionBlock(nn.Module):
    """Four branches: 1x1; 1x1 -> 3x3x3; 1x1 -> 3x3x3; 3x3x3 max pool -> 1x1; concatenated."""

    def __init__(self, in_channels: int, widths: tuple[int, int, int, int, int, int]) -> None:
        super().__init__()
        self.b0 = Unit3D(in_channels, widths[0])
        self.b1a = Unit3D(in_channels, widths[1])
        self.b1b = Unit3D(widths[1], widths[2], kernel=(3, 3, 3))
        self.b2a = Unit3D(in_channels, widths[3])
        self.b2b = Unit3D(widths[3], widths[4], kernel=(3, 3, 3))
        self.b3a = MaxPool3dSame((3, 3, 3), (1, 1, 1))
        self.b3b = Unit3D(in_channels, widths[5])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x))], dim=1)


class I3D(nn.Module):
    """Inception-v1 I3D; input `[N, 3, T, H, W]` in [-1, 1], 224x224 for Kinetics weights.

    `forward` returns per-step class logits `[N, num_classes, T']` as pytorch-i3d does (with
    `spatial_squeeze`); `features` returns `[N, T', 1024]`.
    """

    def __init__(self, num_classes: int = KINETICS_CLASSES, in_channels: int = 3, dropout: float = 0.5) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.Conv3d_1a_7x7 = Unit3D(in_channels, 64, kernel=(7, 7, 7), stride=(2, 2, 2))
        self.MaxPool3d_2a_3x3 = MaxPool3dSame(*MAX_POOLS["MaxPool3d_2a_3x3"])
        self.Conv3d_2b_1x1 = Unit3D(64, 64)
        self.Conv3d_2c_3x3 = Unit3D(64, 192, kernel=(3, 3, 3))
        self.MaxPool3d_3a_3x3 = MaxPool3dSame(*MAX_POOLS["MaxPool3d_3a_3x3"])
        self.MaxPool3d_4a_3x3 = MaxPool3dSame(*MAX_POOLS["MaxPool3d_4a_3x3"])
        self.MaxPool3d_5a_2x2 = MaxPool3dSame(*MAX_POOLS["MaxPool3d_5a_2x2"])
        for name, in_width, widths in INCEPTION_BLOCKS:
            self.add_module(name, InceptionBlock(in_width, widths))
        self.dropout = nn.Dropout(dropout)
        self.logits = Unit3D(FEATURE_DIM, num_classes, batch_norm=False, activation=False, bias=True)

    def mixed_5c(self, clips: torch.Tensor) -> torch.Tensor:
        """The Mixed_5c activation `[N, 1024, T/8, H/32, W/32]`."""
        x = clips
        for name in LAYER_ORDER:
            x = getattr(self, name)(x)
        return x

    def features(self, clips: torch.Tensor) -> torch.Tensor:
        """`[N, T', 1024]`: Mixed_5c averaged over (2, 7, 7) windows, stride 1, no padding.

        Inputs smaller than 224 px give a Mixed_5c map under 7x7; it is then averaged whole.
        """
        return pool_features(self.mixed_5c(clips))

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        pooled = self.features(clips).transpose(1, 2)[..., None, None]
        return self.logits(self.dropout(pooled)).flatten(2)


def pool_features(mixed_5c: torch.Tensor) -> torch.Tensor:
    """Average pool (2, 7, 7), stride 1, over a Mixed_5c map, as `[N, T', 1024]`."""
    kernel = (2, min(7, mixed_5c.shape[3]), min(7, mixed_5c.shape[4]))
    pooled = F.avg_pool3d(mixed_5c, kernel, stride=1)
    return pooled.mean(dim=(3, 4)).transpose(1, 2).contiguous()


def _folded(unit: Unit3D) -> tuple[torch.Tensor, torch.Tensor]:
    """`(weight, bias)` of `unit`'s convolution with its eval-mode batch norm folded in (torch's `fuse_conv_bn_weights`)."""
    weight = unit.conv3d.weight.detach()
    if unit.conv3d.bias is not None:
        bias = unit.conv3d.bias.detach()
    else:
        bias = torch.zeros(weight.shape[0], dtype=weight.dtype, device=weight.device)
    if unit.bn is None:
        return weight.clone(), bias.clone()
    bn = unit.bn
    fused_weight, fused_bias = fuse_conv_bn_weights(weight, bias, bn.running_mean, bn.running_var, bn.eps, bn.weight.detach(), bn.bias.detach())
    return fused_weight.detach(), fused_bias.detach()


def _uses_onednn(x: torch.Tensor) -> bool:
    """Whether `x` can go to oneDNN (mkldnn) directly: a float32 CPU tensor and a torch built with it."""
    return x.device.type == "cpu" and x.dtype == torch.float32 and torch.backends.mkldnn.is_available()


def conv3d_relu(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, stride: tuple[int, int, int], padding: tuple[int, int, int]) -> torch.Tensor:
    """`relu(conv3d(x))`, on CPU always through oneDNN.

    torch sends a batch-of-one 3D convolution on a small map (under about 20k elements in its
    first four dims) or a 1x1 kernel to its im2col fallback, which measured half oneDNN's
    speed on I3D's 7x7 and 14x14 Inception maps (docs/decisions.md#i3d-speed); calling the
    oneDNN operator keeps every layer on one kernel family. Elsewhere (CUDA) `F.conv3d`.
    """
    if _uses_onednn(x):
        y = torch.ops.aten.mkldnn_convolution(x, weight, bias, list(padding), list(stride), [1, 1, 1], 1)
    else:
        y = F.conv3d(x, weight, bias, stride, padding)
    return y.relu_()


def _max_along(x: torch.Tensor, dim: int, kernel: int, stride: int, before: int, after: int) -> torch.Tensor:
    """Max pool of `x` along `dim` (window `kernel`, `stride`, zero padding `before`/`after`), for inputs >= 0.

    Every output takes the maximum of the strided views of the input its window covers; a
    window's padded positions are skipped, which equals zero padding because the inputs follow
    a ReLU and every SAME window holds at least one real element.
    """
    length = x.shape[dim]
    out_length = (length + before + after - kernel) // stride + 1
    shape = list(x.shape)
    shape[dim] = out_length
    layout = torch.channels_last_3d if x.dim() == 5 and x.is_contiguous(memory_format=torch.channels_last_3d) else torch.contiguous_format
    result = torch.empty(shape, dtype=x.dtype, device=x.device, memory_format=layout).zero_()
    for offset in range(-before, kernel - before):
        first = max(0, -(offset // stride))
        last = min(out_length - 1, (length - 1 - offset) // stride)
        if last < first:
            continue
        count = last - first + 1
        source = x.narrow(dim, first * stride + offset, (count - 1) * stride + 1)
        if stride > 1:
            source = source[(slice(None),) * dim + (slice(None, None, stride),)]
        target = result.narrow(dim, first, count)
        torch.maximum(target, source, out=target)
    return result


def same_max_pool3d(x: torch.Tensor, kernel: tuple[int, int, int], stride: tuple[int, int, int]) -> torch.Tensor:
    """`MaxPool3dSame` for non-negative inputs, as three one-dimensional passes of strided maxima.

    Written by hand because torch's CPU 3D max pool always computes argmax indices and measured
    several times slower than the separable passes on I3D's maps (docs/decisions.md#i3d-speed);
    max is exact, so the result equals the pooled reference bit for bit.
    """
    pads = same_padding(x.shape[2:], kernel, stride)
    for axis, dim in enumerate((4, 3, 2)):
        size = (kernel[dim - 2], stride[dim - 2])
        if size != (1, 1):
            x = _max_along(x, dim, size[0], size[1], pads[2 * axis], pads[2 * axis + 1])
    return x


class _FoldedConv(nn.Module):
    """A convolution with batch norm folded in and its ReLU, SAME padding done by the convolution when symmetric."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor, kernel: tuple[int, int, int], stride: tuple[int, int, int]) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride
        self.weight = nn.Parameter(weight, requires_grad=False)
        self.bias = nn.Parameter(bias, requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = same_padding(x.shape[2:], self.kernel, self.stride)
        if all(pads[i] == pads[i + 1] for i in range(0, 6, 2)):
            return conv3d_relu(x, self.weight, self.bias, self.stride, (pads[4], pads[2], pads[0]))
        return conv3d_relu(F.pad(x, pads), self.weight, self.bias, self.stride, (0, 0, 0))


class _FastMaxPool(nn.Module):
    """`MaxPool3dSame` through `same_max_pool3d` (inputs follow a ReLU)."""

    def __init__(self, pool: MaxPool3dSame) -> None:
        super().__init__()
        self.kernel, self.stride = pool.kernel, pool.stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return same_max_pool3d(x, self.kernel, self.stride)


class _FastInception(nn.Module):
    """An Inception block whose three 1x1 convolutions on the block input run as one.

    The max-pool branch skips padded positions instead of the reference's zeros: the same
    result, since every block input follows a ReLU (nothing below zero for a zero pad to beat).
    """

    def __init__(self, block: InceptionBlock) -> None:
        super().__init__()
        parts = [_folded(block.b0), _folded(block.b1a), _folded(block.b2a)]
        self.split = [part[0].shape[0] for part in parts]
        self.entry = _FoldedConv(torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts]), (1, 1, 1), (1, 1, 1))
        self.b1b = _FoldedConv(*_folded(block.b1b), (3, 3, 3), (1, 1, 1))
        self.b2b = _FoldedConv(*_folded(block.b2b), (3, 3, 3), (1, 1, 1))
        self.b3b = _FoldedConv(*_folded(block.b3b), (1, 1, 1), (1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b0, b1, b2 = torch.split(self.entry(x), self.split, dim=1)
        pooled = same_max_pool3d(x, (3, 3, 3), (1, 1, 1))
        return torch.cat([b0, self.b1b(b1), self.b2b(b2), self.b3b(pooled)], dim=1)


class FastI3DFeatures(nn.Module):
    """Inference-only I3D feature extractor: batch norm folded, 1x1 branch convolutions merged.

    Build it with `fast_extractor(model)`; it copies the weights (on `model`'s device), so later
    changes to `model` are not seen. Call it under `torch.inference_mode()` (as
    `extract_features` does). On CPU every convolution runs through oneDNN and the max pools
    as separable strided maxima (see `conv3d_relu`, `same_max_pool3d`).
    """

    def __init__(self, model: I3D, channels_last: bool = True) -> None:
        super().__init__()
        self.channels_last = channels_last
        layers: list[nn.Module] = []
        for name in LAYER_ORDER:
            layer = getattr(model, name)
            if isinstance(layer, InceptionBlock):
                layers.append(_FastInception(layer))
            elif isinstance(layer, Unit3D):
                layers.append(_FoldedConv(*_folded(layer), layer.kernel, layer.stride))
            else:
                layers.append(_FastMaxPool(layer))
        self.layers = nn.Sequential(*layers)
        if channels_last:
            self.to(memory_format=torch.channels_last_3d)
        self.eval()

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        if self.channels_last:
            clips = clips.contiguous(memory_format=torch.channels_last_3d)
        return pool_features(self.layers(clips))


def fast_extractor(model: I3D, channels_last: bool = True) -> FastI3DFeatures:
    """The folded, merged inference copy of `model` (whose batch norms must hold trained statistics)."""
    return FastI3DFeatures(model, channels_last=channels_last)


def extract_features(extractor: nn.Module, clips: torch.Tensor) -> torch.Tensor:
    """Features `[N, T', 1024]` of `clips` under `torch.inference_mode` (no autograd bookkeeping)."""
    with torch.inference_mode():
        if isinstance(extractor, I3D):
            extractor.eval()
            return extractor.features(clips)
        return extractor(clips)


def check_state_dict(state: Mapping[str, torch.Tensor], model: I3D, source: str) -> None:
    """Raise CheckpointError listing every missing key, unexpected key and wrong shape."""
    expected = model.state_dict()
    problems = [f"missing key {key} {list(value.shape)}" for key, value in expected.items() if key not in state]
    problems += [f"unexpected key {key}" for key in state if key not in expected]
    problems += [
        f"{key}: shape {list(state[key].shape)}, expected {list(value.shape)}"
        for key, value in expected.items()
        if key in state and tuple(state[key].shape) != tuple(value.shape)
    ]
    if problems:
        head = f"{source}: not a pytorch-i3d InceptionI3d state dict for {model.num_classes} classes ({len(problems)} problems)"
        raise CheckpointError.from_problems([head] + [f"{source}: {line}" for line in problems])


def load_i3d_checkpoint(path: str | Path, sha256: str | None = None, num_classes: int = KINETICS_CLASSES) -> I3D:
    """An `I3D` in eval mode with the weights of a pytorch-i3d checkpoint file.

    Checks, in order: the file exists; its sha256 matches `sha256` when given; it is a state
    dict of tensors (read with `weights_only=True`, a `module.` prefix is stripped) with exactly
    the model's keys and shapes. Each failure is a CheckpointError naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: I3D checkpoint not found (put pytorch-i3d's rgb_imagenet.pt there; see checkpoints/README.md)")
    if sha256 is not None:
        found = content_sha256(path)
        if found != sha256.lower():
            raise CheckpointError(f"{path}: sha256 {found} does not match the expected {sha256.lower()}")
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise CheckpointError(f"{path}: not a readable PyTorch checkpoint ({type(error).__name__}: {error})") from None
    if isinstance(content, Mapping) and isinstance(content.get("state_dict"), Mapping):
        content = content["state_dict"]
    if not isinstance(content, Mapping) or not all(isinstance(v, torch.Tensor) for v in content.values()):
        raise CheckpointError(f"{path}: expected a state dict of tensors, got {type(content).__name__}")
    state = OrderedDict((key.removeprefix("module."), value) for key, value in content.items())
    model = I3D(num_classes=num_classes)
    check_state_dict(state, model, str(path))
    model.load_state_dict(state)
    return model.eval()
