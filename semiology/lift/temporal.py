"""A temporal 2D→3D lifter for recordings without depth: dilated 1-D convolutions over time.

Each frame's 2D keypoints (normalised by the image width, plus each joint's confidence, missing
joints zeroed) form one vector; a stack of residual blocks of dilated temporal convolutions
(kernel 3, dilations 1, 3, 9, ... — a receptive field of 27 frames with three blocks) maps the
sequence to root-relative 3D joints in millimetres, the root being the layout's centre joint.
Sequences are padded at both ends by repeating their first and last frames, so every frame gets
a prediction. Trained on the synthetic cohort's paired `body_2d` / `body_3d`; saved and loaded as
a checkpoint (`torch.load(weights_only=True)`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from semiology.errors import CheckpointError
from semiology.io.atomic import atomic_path
from semiology.layouts import get_layout
from semiology.records import Keypoints, SeizureRecord


@dataclass(frozen=True)
class LifterConfig:
    """Architecture of a `TemporalLifter`: its layout, channel width, dilations and dropout."""

    layout: str
    num_joints: int
    channels: int = 128
    dilations: tuple[int, ...] = (1, 3, 9)
    dropout: float = 0.1

    @property
    def receptive_field(self) -> int:
        return 1 + 2 * sum(self.dilations)


class TemporalLifter(nn.Module):
    """2D sequences `[N, T, V, 3]` (u, v normalised; confidence) → root-relative 3D `[N, T, V, 3]` in metres.

    Works in metres internally (well-scaled targets); `lift_keypoints` returns millimetres.
    """

    def __init__(self, config: LifterConfig) -> None:
        super().__init__()
        self.config = config
        width = config.channels
        self.expand = nn.Sequential(
            nn.Conv1d(config.num_joints * 3, width, 1, bias=False), nn.BatchNorm1d(width), nn.ReLU()
        )
        self.blocks = nn.ModuleList(
            nn.Sequential(
                nn.Conv1d(width, width, 3, dilation=dilation, bias=False),
                nn.BatchNorm1d(width),
                nn.ReLU(),
                nn.Dropout(config.dropout),
                nn.Conv1d(width, width, 1, bias=False),
                nn.BatchNorm1d(width),
                nn.ReLU(),
                nn.Dropout(config.dropout),
            )
            for dilation in config.dilations
        )
        self.shrink = nn.Conv1d(width, config.num_joints * 3, 1)

    def start_from_mean_pose(self, mean_pose_m: np.ndarray) -> None:
        """Make the untrained output the training set's mean pose `[V, 3]` (m): training then
        learns departures from it, which converges in far fewer steps than from random output."""
        with torch.no_grad():
            self.shrink.bias.copy_(torch.as_tensor(np.nan_to_num(mean_pose_m), dtype=torch.float32).reshape(-1))
            self.shrink.weight.mul_(0.1)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Root-relative 3D (m) for every frame of `inputs [N, T, V, 3]` (edge frames replicated)."""
        batch, frames, joints, _ = inputs.shape
        sequence = inputs.reshape(batch, frames, joints * 3).transpose(1, 2)
        half = self.config.receptive_field // 2
        hidden = self.expand(F.pad(sequence, (half, half), mode="replicate"))
        for dilation, block in zip(self.config.dilations, self.blocks):
            hidden = hidden[..., dilation:-dilation] + block(hidden)
        return self.shrink(hidden).transpose(1, 2).reshape(batch, frames, joints, 3)


def normalise_2d(keypoints: Keypoints) -> np.ndarray:
    """Lifter input `[T, V, 3]`: 2D joints relative to the centre joint, divided by the sequence's
    median body size, and each joint's confidence.

    Taking out position and size leaves what the 3D shape shows in 2D, whatever the person's
    distance from the camera, place in the image or the camera's focal length. Missing joints
    are zeros with confidence 0, so the network sees that they are missing.
    """
    return _normalise(keypoints.coords[..., :2], keypoints.confidence, get_layout(keypoints.layout).center)


def _normalise(coords: np.ndarray, confidence: np.ndarray, centre: int) -> np.ndarray:
    coords = np.asarray(coords, dtype=np.float32)
    relative = coords - coords[:, centre : centre + 1]
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        scale = float(np.nanmedian(np.nanmean(np.linalg.norm(relative, axis=-1), axis=-1)))
    if not np.isfinite(scale) or scale <= 1e-6:
        scale = 1.0
    normalised = np.empty(coords.shape[:2] + (3,), dtype=np.float32)
    normalised[..., :2] = relative / scale
    normalised[..., 2] = confidence
    missing = ~np.isfinite(normalised).all(axis=-1) | (confidence <= 0)
    normalised[missing] = 0.0
    return normalised


def _random_rotation(rng: np.random.Generator, max_angle_deg: float) -> np.ndarray:
    """A rotation by up to `max_angle_deg` about a random axis (Rodrigues' formula)."""
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    angle = np.deg2rad(rng.uniform(-max_angle_deg, max_angle_deg))
    cross = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * cross + (1 - np.cos(angle)) * cross @ cross


def _rotated_view(
    camera_mm: np.ndarray, confidence: np.ndarray, centre: int, training: LifterTraining, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """A window as seen by a camera turned about its centre: (lifter input, root-relative target in m).

    The 3D joints are rotated, projected through a pinhole (the focal length cancels in the
    normalisation) and jittered; this shows the lifter camera placements the cohort lacks.
    """
    rotated = camera_mm @ _random_rotation(rng, training.max_rotation_deg).T
    with np.errstate(invalid="ignore", divide="ignore"):
        projected = rotated[..., :2] / rotated[..., 2:]
    inputs = _normalise(projected, np.where(np.isfinite(projected).all(-1), confidence, 0.0), centre)
    inputs[..., :2] += rng.normal(0.0, training.jitter, size=inputs[..., :2].shape) * (inputs[..., 2:] > 0)
    target = rotated / 1000.0
    return inputs, (target - target[:, centre : centre + 1]).astype(np.float32)


def root_relative_m(keypoints_3d: Keypoints) -> np.ndarray:
    """3D joints relative to the layout's centre joint, in metres (NaN where either is missing)."""
    centre = get_layout(keypoints_3d.layout).center
    coords = keypoints_3d.coords.astype(np.float32) / 1000.0
    return coords - coords[:, centre : centre + 1]


@dataclass
class LifterTraining:
    """How to train: optimiser steps, batch of windows, window length, learning rate, seed.

    `rotated_fraction` of the windows are seen from a camera turned by up to `max_rotation_deg`
    (2D re-projected from the 3D truth, jittered by `jitter` body sizes); the rest are the
    recordings' own detected 2D.
    """

    steps: int = 600
    batch_size: int = 32
    window_frames: int = 27
    lr: float = 3e-3
    rotated_fraction: float = 0.5
    max_rotation_deg: float = 30.0
    jitter: float = 0.02
    seed: int = 0
    loss_history: list[float] = field(default_factory=list)


def fit_temporal_lifter(
    records: Sequence[SeizureRecord],
    config: LifterConfig | None = None,
    training: LifterTraining | None = None,
) -> TemporalLifter:
    """Train a lifter on records with both `body_2d` (pixels) and `body_3d` (camera frame, mm).

    Random windows of `window_frames` are drawn from the records; the loss is the mean per-joint
    3D distance (MPJPE) over joints present in both streams. Deterministic given the seed, and
    the caller's global RNG is left untouched. Returns the lifter in eval mode.
    """
    training = training or LifterTraining()
    pairs = [(r.body_2d, r.body_3d) for r in records if r.body_2d is not None and r.body_3d is not None]
    if not pairs:
        raise ValueError("fit_temporal_lifter needs records with both body_2d and body_3d")
    layout = pairs[0][0].layout
    if any(b2.layout != layout or b3.layout != layout for b2, b3 in pairs):
        raise ValueError(f"all records must share one layout ({layout}) in body_2d and body_3d")
    config = config or LifterConfig(layout=layout, num_joints=pairs[0][0].num_joints)
    inputs = [normalise_2d(b2) for b2, _ in pairs]
    targets = [root_relative_m(b3) for _, b3 in pairs]
    centre = get_layout(layout).center
    usable = [k for k, t in enumerate(targets) if len(t) >= training.window_frames]
    if not usable:
        raise ValueError(f"no record is at least {training.window_frames} frames long")
    rng = np.random.default_rng(training.seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(training.seed)
        lifter = TemporalLifter(config)
        lifter.start_from_mean_pose(np.nanmean(np.concatenate([targets[k] for k in usable]), axis=0))
        optimiser = torch.optim.Adam(lifter.parameters(), lr=training.lr)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=max(training.steps, 1))
        lifter.train()
        for _ in range(training.steps):
            batch_in, batch_out = [], []
            for k in rng.choice(usable, size=training.batch_size):
                window = slice(start := int(rng.integers(0, len(targets[k]) - training.window_frames + 1)), start + training.window_frames)
                if rng.random() < training.rotated_fraction:
                    body_2d, body_3d = pairs[k]
                    window_in, window_out = _rotated_view(body_3d.coords[window], body_2d.confidence[window], centre, training, rng)
                else:
                    window_in, window_out = inputs[k][window], targets[k][window]
                batch_in.append(window_in)
                batch_out.append(window_out)
            predicted = lifter(torch.from_numpy(np.stack(batch_in)))
            loss = masked_mpjpe(predicted, torch.from_numpy(np.stack(batch_out)))
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            training.loss_history.append(loss.item())
    return lifter.eval()


def masked_mpjpe(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean Euclidean distance over joints whose target is present (NaN targets are ignored)."""
    present = torch.isfinite(target).all(dim=-1)
    if not present.any():
        return predicted.sum() * 0.0
    return torch.linalg.vector_norm(predicted[present] - target[present], dim=-1).mean()


def lift_keypoints(lifter: TemporalLifter, keypoints: Keypoints) -> Keypoints:
    """Root-relative 3D keypoints (mm) of a 2D sequence; joints missing in 2D stay missing in 3D."""
    if keypoints.layout != lifter.config.layout or keypoints.num_joints != lifter.config.num_joints:
        raise ValueError(
            f"this lifter was trained on layout {lifter.config.layout} ({lifter.config.num_joints} joints), "
            f"got {keypoints.layout} ({keypoints.num_joints} joints)"
        )
    lifter.eval()
    with torch.inference_mode():
        lifted = lifter(torch.from_numpy(normalise_2d(keypoints))[None])[0].numpy() * 1000.0
    missing = keypoints.confidence <= 0
    lifted[missing] = np.nan
    return Keypoints(
        coords=lifted,
        confidence=np.where(missing, 0.0, keypoints.confidence),
        layout=keypoints.layout,
        fps=keypoints.fps,
        source=f"{keypoints.source}+temporal_lifter",
    )


def save_lifter(lifter: TemporalLifter, path: str | Path, provenance: dict[str, Any] | None = None) -> Path:
    """Write `{"state_dict", "config", "provenance"}` atomically; loadable with `weights_only=True`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    config = asdict(lifter.config)
    config["dilations"] = list(config["dilations"])
    payload = {"kind": "temporal_lifter", "state_dict": lifter.state_dict(), "config": config, "provenance": provenance or {}}
    with atomic_path(path) as temporary:
        torch.save(payload, temporary)
    return path


def load_lifter(path: str | Path) -> TemporalLifter:
    """A lifter saved by `save_lifter`, in eval mode; `CheckpointError` naming the file otherwise."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: temporal lifter checkpoint not found")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch.load fails with many types on a bad file
        raise CheckpointError(f"{path}: not a readable torch checkpoint ({type(error).__name__}: {error})") from None
    if not isinstance(payload, dict) or payload.get("kind") != "temporal_lifter":
        raise CheckpointError(f"{path}: not a temporal lifter checkpoint (no kind 'temporal_lifter')")
    try:
        raw = dict(payload["config"])
        config = LifterConfig(**{**raw, "dilations": tuple(raw["dilations"])})
        lifter = TemporalLifter(config)
        lifter.load_state_dict(payload["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise CheckpointError(f"{path}: the stored weights do not fit a temporal lifter ({error})") from None
    return lifter.eval()
