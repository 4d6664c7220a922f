"""Frozen per-frame encoders whose features the TCN appearance stream reads.

Two kinds share one interface (`FrameEncoder`): a small CNN pretrained once on a disjoint
synthetic set by regressing the keypoint coordinates each crop shows (the pretext head is
discarded), and a torchvision ImageNet backbone loaded from a user's checkpoint for real
video. Both are frozen: the TCN trains on their features, never through them, so the
features of a recording do not depend on the fold being trained.
"""

from __future__ import annotations

import inspect
import json
import logging
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from semiology.io.atomic import atomic_path

logger = logging.getLogger(__name__)

CHECKPOINT_DIR = Path(__file__).resolve().parents[2] / "checkpoints"
"""Where user-supplied pretrained weights live (the project's `checkpoints/` folder)."""

TORCHVISION_CHECKPOINTS: dict[str, str] = {
    "resnet18": "resnet18-f37072fd.pth",
    "resnet50": "resnet50-0676ba61.pth",
    "vgg16": "vgg16-397923af.pth",
}
"""File names of torchvision's ImageNet weights, expected under `CHECKPOINT_DIR` by default."""

TORCHVISION_MISSING = (
    "TorchvisionEncoder needs torchvision (install the 'vision' extra: torch==2.14.1 torchvision==0.29.1)"
)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
PRETRAIN_SETTINGS_KEY = "pretrain_settings"
_LUMINANCE = (0.299, 0.587, 0.114)


@runtime_checkable
class FrameEncoder(Protocol):
    """Anything that turns a stack of frame crops into one feature vector per frame."""

    out_features: int

    def encode(self, crops: np.ndarray) -> np.ndarray:
        """Map uint8 crops `[T, H, W]` or `[T, H, W, 3]` to float32 features `[T, out_features]`."""
        ...


class SmallCNNEncoder(nn.Module):
    """Three or four stride-2 conv-BN-ReLU layers, a 4x4 average-pooled grid and a linear+ReLU embedding.

    Stride-2 convolutions downsample (about four times cheaper on CPU than conv + max-pool at
    the same widths); the 4x4 grid keeps coarse position, which the keypoint-regression
    pretext task needs.
    Input is `[N, in_channels, S, S]` in `[0, 1]`; output is `[N, out_features]`.
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_features: int = 64,
        input_size: int = 32,
        widths: Sequence[int] = (8, 16, 32),
    ) -> None:
        super().__init__()
        if in_channels not in (1, 3):
            raise ValueError(f"in_channels must be 1 (grey) or 3 (RGB), got {in_channels}")
        if out_features < 1:
            raise ValueError(f"out_features must be positive, got {out_features}")
        if not 3 <= len(widths) <= 4 or any(w < 1 for w in widths):
            raise ValueError(f"widths must hold 3 or 4 positive conv widths, got {tuple(widths)}")
        if input_size < 2 ** len(widths):
            raise ValueError(f"input_size {input_size} is too small for {len(widths)} stride-2 layers")
        self.in_channels = in_channels
        self.out_features = out_features
        self.input_size = input_size
        self.widths = tuple(int(w) for w in widths)
        self.provenance: dict[str, Any] = {}
        self.loss_history: tuple[float, ...] = ()
        layers: list[nn.Module] = []
        previous = in_channels
        for width in self.widths:
            layers += [nn.Conv2d(previous, width, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
            previous = width
        self.features = nn.Sequential(*layers)
        self.grid = nn.AdaptiveAvgPool2d(4)
        self.embedding = nn.Sequential(nn.Linear(previous * 16, out_features), nn.ReLU())

    @property
    def config(self) -> dict[str, Any]:
        """Constructor arguments, enough to rebuild the module before loading its weights."""
        return {
            "in_channels": self.in_channels,
            "out_features": self.out_features,
            "input_size": self.input_size,
            "widths": list(self.widths),
        }

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Features `[N, out_features]` of images `[N, in_channels, S, S]` scaled to `[0, 1]`."""
        return self.embedding(self.grid(self.features(images)).flatten(1))

    def encode(self, crops: np.ndarray) -> np.ndarray:
        """Frozen features `[T, out_features]` of uint8 crops (see `encode_frames`)."""
        return encode_frames(self, crops)


def freeze(module: nn.Module) -> nn.Module:
    """Put `module` in eval mode with no trainable parameters, and return it."""
    module.eval()
    module.requires_grad_(False)
    return module


def _crops_to_tensor(crops: np.ndarray, channels: int) -> torch.Tensor:
    """uint8 crops `[T, H, W]` or `[T, H, W, 3]` as float `[T, channels, H, W]` in `[0, 1]`."""
    if crops.dtype != np.uint8:
        raise ValueError(f"crops must be uint8 images, got dtype {crops.dtype}")
    if crops.ndim == 3:
        images = torch.from_numpy(np.ascontiguousarray(crops)).unsqueeze(1)
    elif crops.ndim == 4 and crops.shape[-1] == 3:
        images = torch.from_numpy(np.ascontiguousarray(crops)).permute(0, 3, 1, 2)
    else:
        raise ValueError(f"crops must be [T, H, W] or [T, H, W, 3], got shape {crops.shape}")
    images = images.float().div_(255.0)
    if images.shape[1] == channels:
        return images
    if channels == 3:
        return images.expand(-1, 3, -1, -1)
    weights = torch.tensor(_LUMINANCE).view(1, 3, 1, 1)
    return (images * weights).sum(dim=1, keepdim=True)


def _encode_batched(
    module: nn.Module,
    crops: np.ndarray,
    channels: int,
    size: int,
    out_features: int,
    batch_size: int,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
) -> np.ndarray:
    """Run a frozen image module over crops in batches; resizes and normalises per batch."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    if crops.ndim not in (3, 4):
        raise ValueError(f"crops must be [T, H, W] or [T, H, W, 3], got shape {crops.shape}")
    if len(crops) == 0:
        return np.zeros((0, out_features), dtype=np.float32)
    device = next(iter([*module.parameters(), *module.buffers()]), torch.zeros(0)).device
    was_training = module.training
    module.eval()
    outputs: list[np.ndarray] = []
    try:
        with torch.inference_mode():
            for start in range(0, len(crops), batch_size):
                images = _crops_to_tensor(crops[start : start + batch_size], channels).to(device)
                if images.shape[-2:] != (size, size):
                    images = F.interpolate(images, size=(size, size), mode="bilinear", antialias=True)
                if mean is not None and std is not None:
                    mean_t = torch.tensor(mean, device=device).view(1, -1, 1, 1)
                    std_t = torch.tensor(std, device=device).view(1, -1, 1, 1)
                    images = (images - mean_t) / std_t
                outputs.append(module(images).float().cpu().numpy())
    finally:
        module.train(was_training)
    return np.concatenate(outputs).astype(np.float32, copy=False)


def encode_frames(encoder: FrameEncoder, crops: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """Features `[T, D]` of uint8 crops from any frame encoder, computed without gradients.

    For a `SmallCNNEncoder` the crops are scaled to `[0, 1]`, converted to its channel count
    (grey is repeated, RGB is reduced to luminance), resized to its `input_size` when they
    differ and run in eval mode under `torch.inference_mode` in batches of `batch_size`. Other
    encoders (a `TorchvisionEncoder` at 224x224 needs smaller batches) batch themselves.
    """
    if isinstance(encoder, SmallCNNEncoder):
        features = _encode_batched(
            encoder, crops, encoder.in_channels, encoder.input_size, encoder.out_features, batch_size
        )
    else:
        features = np.asarray(encoder.encode(crops), dtype=np.float32)
    if features.shape != (len(crops), encoder.out_features):
        raise ValueError(f"encoder returned features {features.shape}, expected ({len(crops)}, {encoder.out_features})")
    return features


def pretrain_small_cnn(
    crops: np.ndarray,
    targets: np.ndarray,
    *,
    out_features: int = 64,
    epochs: int = 4,
    batch_size: int = 128,
    lr: float = 3e-3,
    shift_px: int = 0,
    seed: int = 0,
) -> SmallCNNEncoder:
    """Pretrain a `SmallCNNEncoder` by regressing `targets` from `crops`, then freeze it.

    `crops` are uint8 `[N, S, S]` (or `[N, S, S, 3]`) and `targets` float `[N, P]`, the
    normalised 2-D keypoint coordinates each crop shows. A linear MSE head on the embedding is
    trained with Adam on z-scored targets and discarded. With `shift_px` > 0 every batch is
    moved by random offsets (`random_shift`); use it with targets a shift leaves unchanged,
    such as keypoint shapes. The run is deterministic given `seed` (own RNG fork, seeded
    shuffling and shifts) and leaves the caller's global RNG untouched. The per-epoch mean
    training loss is kept in `encoder.loss_history`. Returns the encoder in `eval()` with
    `requires_grad` False.
    """
    if len(crops) != len(targets):
        raise ValueError(f"{len(crops)} crops but {len(targets)} targets")
    if len(crops) < 2:
        raise ValueError("pretraining needs at least two crops")
    if crops.ndim not in (3, 4) or crops.shape[1] != crops.shape[2]:
        raise ValueError(f"crops must be square [N, S, S] or [N, S, S, 3], got shape {crops.shape}")
    if targets.ndim != 2:
        raise ValueError(f"targets must be [N, P], got shape {targets.shape}")
    if shift_px < 0 or shift_px >= crops.shape[1]:
        raise ValueError(f"shift_px must be in [0, crop size), got {shift_px}")
    if epochs < 0 or batch_size < 2:
        raise ValueError(f"need epochs >= 0 and batch_size >= 2, got {epochs} and {batch_size}")
    in_channels = 1 if crops.ndim == 3 else 3
    images = _crops_to_tensor(crops, in_channels)
    target_t = torch.as_tensor(np.asarray(targets, dtype=np.float32))
    target_t = (target_t - target_t.mean(dim=0)) / target_t.std(dim=0).clamp_min(1e-6)
    loss_history: list[float] = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        encoder = SmallCNNEncoder(in_channels, out_features, input_size=int(crops.shape[1]))
        head = nn.Linear(out_features, target_t.shape[1])
        optimiser = torch.optim.Adam([*encoder.parameters(), *head.parameters()], lr=lr)
        generator = torch.Generator().manual_seed(seed)
        encoder.train()
        for epoch in range(epochs):
            order = torch.randperm(len(images), generator=generator)
            total, count = 0.0, 0
            for start in range(0, len(order), batch_size):
                batch = order[start : start + batch_size]
                if len(batch) < 2:
                    continue
                inputs = images[batch] if shift_px == 0 else random_shift(images[batch], shift_px, generator)
                loss = F.mse_loss(head(encoder(inputs)), target_t[batch])
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                total += loss.item() * len(batch)
                count += len(batch)
            loss_history.append(total / count)
            logger.info("small-CNN pretraining epoch %d/%d: mse %.4f", epoch + 1, epochs, loss_history[-1])
    encoder.loss_history = tuple(loss_history)
    return freeze(encoder)


def random_shift(images: torch.Tensor, max_px: int, generator: torch.Generator) -> torch.Tensor:
    """Translate each image `[N, C, H, W]` by its own integer offset in `[-max_px, max_px]` on both axes.

    Vacated pixels repeat the border (edge padding), which for these crops is background. A
    shift changes where the keypoints are but not the shape they form, so with shape-only
    pretext targets it teaches the encoder to ignore where in the crop a face or body sits.
    """
    count, _, height, width = images.shape
    padded = F.pad(images, (max_px, max_px, max_px, max_px), mode="replicate")
    offsets = torch.randint(0, 2 * max_px + 1, (count, 2), generator=generator)
    return torch.stack(
        [padded[i, :, dy : dy + height, dx : dx + width] for i, (dy, dx) in enumerate(offsets.tolist())]
    )


def _plain(provenance: dict[str, Any]) -> dict[str, Any]:
    """`provenance` as plain JSON types (tuples become lists), so stored and new ones compare equal."""
    try:
        return json.loads(json.dumps(provenance, sort_keys=True))
    except TypeError as error:
        raise ValueError(f"provenance must hold only JSON types (str, numbers, lists, dicts): {error}") from error


def save_encoder(encoder: SmallCNNEncoder, path: Path | str, provenance: dict[str, Any]) -> None:
    """Write `{"state_dict", "config", "provenance"}` to `path` atomically (`atomic_path`)."""
    path = Path(path)
    plain = _plain(provenance)
    payload = {"state_dict": encoder.state_dict(), "config": encoder.config, "provenance": plain}
    with atomic_path(path) as temporary:
        torch.save(payload, temporary)
    encoder.provenance = plain


def load_encoder(path: Path | str) -> SmallCNNEncoder:
    """Load a frozen `SmallCNNEncoder` saved by `save_encoder` (`torch.load(weights_only=True)`).

    Raises `FileNotFoundError` when `path` is missing and `ValueError` when it is not a valid
    encoder checkpoint; both name the path. The stored provenance is in `encoder.provenance`.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no encoder checkpoint at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ValueError(f"{path} is not a readable encoder checkpoint: {error}") from error
    if not isinstance(payload, dict) or not {"state_dict", "config", "provenance"} <= payload.keys():
        raise ValueError(f"{path} is not an encoder checkpoint: expected keys state_dict, config, provenance")
    config, provenance = payload["config"], payload["provenance"]
    if not isinstance(config, dict) or not isinstance(provenance, dict):
        raise ValueError(f"{path}: config and provenance must be dicts")
    try:
        encoder = SmallCNNEncoder(**config)
        encoder.load_state_dict(payload["state_dict"])
    except (TypeError, ValueError, RuntimeError) as error:
        raise ValueError(f"{path}: the stored weights do not fit a SmallCNNEncoder: {error}") from error
    encoder.provenance = provenance
    return freeze(encoder)


def get_or_pretrain(
    cache_path: Path | str,
    make_data: Callable[[], tuple[np.ndarray, np.ndarray]],
    provenance: dict[str, Any],
    **pretrain_kwargs: Any,
) -> SmallCNNEncoder:
    """Load the cached encoder when its provenance matches, otherwise pretrain, save and return it.

    The stored provenance is `provenance` plus the resolved `pretrain_small_cnn` settings under
    `"pretrain_settings"`, so a change of either retrains. `make_data` is called only when
    training is needed; an unreadable cache is replaced with a warning.
    """
    cache_path = Path(cache_path)
    if PRETRAIN_SETTINGS_KEY in provenance:
        raise ValueError(f"provenance key {PRETRAIN_SETTINGS_KEY!r} is reserved for the pretraining settings")
    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(pretrain_small_cnn).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    }
    unknown = set(pretrain_kwargs) - defaults.keys()
    if unknown:
        raise TypeError(f"unknown pretraining settings: {sorted(unknown)}")
    settings = {**defaults, **pretrain_kwargs}
    expected = _plain({**provenance, PRETRAIN_SETTINGS_KEY: settings})
    if cache_path.exists():
        try:
            cached = load_encoder(cache_path)
        except ValueError as error:
            warnings.warn(f"retraining the frame encoder: {error}", stacklevel=2)
        else:
            if cached.provenance == expected:
                logger.info("reusing the cached frame encoder %s", cache_path)
                return cached
            logger.info("cached frame encoder %s has other provenance; retraining", cache_path)
    crops, targets = make_data()
    encoder = pretrain_small_cnn(crops, targets, **settings)
    save_encoder(encoder, cache_path, expected)
    return encoder


class TorchvisionEncoder:
    """Penultimate-layer features of a torchvision ImageNet backbone, loaded from a local checkpoint.

    For real video: `arch` is one of `resnet18` (512 features), `resnet50` (2048) or `vgg16`
    (4096). The checkpoint is a state dict of the torchvision model (by default torchvision's
    file name under `checkpoints/`). Crops are resized to 224x224 and ImageNet-normalised.
    torchvision is imported only here, so the rest of the package works without it.
    """

    def __init__(
        self,
        arch: str,
        checkpoint: Path | str | None = None,
        *,
        batch_size: int = 64,
        device: str | torch.device = "cpu",
    ) -> None:
        if arch not in TORCHVISION_CHECKPOINTS:
            raise ValueError(f"arch must be one of {sorted(TORCHVISION_CHECKPOINTS)}, got {arch!r}")
        try:
            import torchvision
        except ImportError as error:
            raise ImportError(TORCHVISION_MISSING) from error
        path = Path(checkpoint) if checkpoint is not None else CHECKPOINT_DIR / TORCHVISION_CHECKPOINTS[arch]
        if not path.is_file():
            raise FileNotFoundError(
                f"no {arch} ImageNet checkpoint at {path}; place torchvision's weights there "
                f"(expected checkpoints/{TORCHVISION_CHECKPOINTS[arch]})"
            )
        model = getattr(torchvision.models, arch)(weights=None)
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            if isinstance(state, dict) and "state_dict" in state:
                state = state["state_dict"]
            model.load_state_dict(state)
        except Exception as error:
            raise ValueError(f"{path} is not a {arch} state dict: {error}") from error
        if arch.startswith("resnet"):
            self.out_features = int(model.fc.in_features)
            model.fc = nn.Identity()
        else:
            self.out_features = int(model.classifier[-1].in_features)
            model.classifier[-1] = nn.Identity()
        self.arch = arch
        self.checkpoint = path
        self.batch_size = batch_size
        self.model = freeze(model.to(device))

    def encode(self, crops: np.ndarray) -> np.ndarray:
        """Frozen features `[T, out_features]` of uint8 crops `[T, H, W]` or `[T, H, W, 3]`."""
        return _encode_batched(
            self.model, crops, 3, 224, self.out_features, self.batch_size, IMAGENET_MEAN, IMAGENET_STD
        )
