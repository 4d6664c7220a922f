"""Appearance features for the TCN streams: a frozen frame encoder applied to body and face crops."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from semiology.engines.device import torch_device
from semiology.errors import ConfigError
from semiology.experiment import EncoderConfig
from semiology.models.encoder import TorchvisionEncoder, encode_frames, get_or_pretrain
from semiology.records import SeizureRecord
from semiology.streams import get_appearance, get_stream
from semiology.synthetic import GENERATOR_VERSION, CohortSpec, make_cohort


def pretraining_set(stream: str, config: EncoderConfig, crop_size_px: int, frame_step: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Crops and regression targets from a synthetic cohort disjoint from any evaluation cohort.

    The pretext task is to regress where the body joints (or face landmarks) are in the crop
    (coordinates normalised per recording, pretexts `position` and `position_shape`) and the
    shape they form (see `shape_targets`; pretexts `position_shape` and `shape`): generic
    visual skills that say nothing about the labels being evaluated. The cohort is drawn from
    its own seed and subjects, so the encoder never sees an evaluated subject.
    """
    spec = CohortSpec(
        n_subjects=config.pretrain_subjects,
        n_seizures=config.pretrain_seizures,
        seizures_per_subject=(1, max(1, -(-config.pretrain_seizures // config.pretrain_subjects) + 1)),
        n_dystonia_subjects=config.pretrain_subjects // 2,
        n_emotion_subjects=config.pretrain_subjects // 2,
        n_both_subjects=min(1, config.pretrain_subjects // 2),
        seizure_duration_s=(20.0, 40.0),
        crop_size_px=crop_size_px,
        seed=config.pretrain_seed,
    )
    appearance = get_appearance(stream)
    crop_name, keypoint_name = appearance.crops, appearance.keypoints
    crops, targets = [], []
    for record in make_cohort(spec):
        keypoints = getattr(record, keypoint_name).coords[::frame_step]
        frames = getattr(record, crop_name)[::frame_step]
        complete = np.isfinite(keypoints).all(axis=(1, 2))
        centre = np.nanmean(keypoints, axis=(0, 1))
        spread = np.nanstd(keypoints) or 1.0
        crops.append(frames[complete])
        kept = keypoints[complete]
        parts = []
        if config.pretext in ("position", "position_shape"):
            parts.append(((kept - centre) / spread).reshape(len(kept), -1))
        if config.pretext in ("shape", "position_shape"):
            parts.append(shape_targets(kept))
        targets.append(np.concatenate(parts, axis=1))
    return np.concatenate(crops), np.concatenate(targets).astype(np.float32)


def shape_targets(keypoints: np.ndarray) -> np.ndarray:
    """Each frame's keypoints `[T, V, 2]` centred on their mean and scaled to unit RMS spread, flattened to `[T, 2V]`.

    Invariant to where the face or body is in the crop and how large it is, so regressing them
    asks the encoder for the configuration (an opened mouth, a flexed wrist), not the place.
    Frames with all keypoints at one point give zeros.
    """
    centred = keypoints - keypoints.mean(axis=1, keepdims=True)
    spread = np.sqrt((centred**2).sum(axis=2).mean(axis=1))[:, None, None]
    shape = np.divide(centred, spread, out=np.zeros_like(centred), where=spread > 1e-9)
    return shape.reshape(len(keypoints), -1)


def build_encoder(stream: str, config: EncoderConfig, crop_size_px: int, cache_dir: Path, device: str | torch.device = "cpu"):
    """The configured frozen encoder for one stream, on `device`: the cached small CNN, or a user's torchvision model.

    The small CNN is pretrained (or read from the cache) on the CPU whatever `device` is, so the
    weights cached for it do not depend on the machine that first needed them; it is then moved.
    """
    config = config.for_stream(stream)
    device = torch_device(device)
    if config.kind == "torchvision":
        if not config.checkpoint:
            raise ConfigError("encoder.checkpoint: a torchvision encoder needs a checkpoint file (see checkpoints/README.md)")
        return TorchvisionEncoder(config.arch, Path(config.checkpoint), device=device)
    provenance = {
        "stream": stream,
        "pretext": config.pretext,
        "synthetic_generator": GENERATOR_VERSION,
        "pretrain_subjects": config.pretrain_subjects,
        "pretrain_seizures": config.pretrain_seizures,
        "pretrain_seed": config.pretrain_seed,
        "epochs": config.pretrain_epochs,
        "shift_px": config.pretrain_shift_px,
        "out_features": config.out_features,
        "crop_size_px": crop_size_px,
    }
    return get_or_pretrain(
        cache_dir / f"encoder_{stream}_{config.pretrain_seed}.pt",
        lambda: pretraining_set(stream, config, crop_size_px),
        provenance,
        out_features=config.out_features,
        epochs=config.pretrain_epochs,
        shift_px=config.pretrain_shift_px,
        seed=config.pretrain_seed,
    ).to(device)


def attach_appearance_features(records: list[SeizureRecord], streams: set[str], config: EncoderConfig, cache_dir: Path,
                               device: str | torch.device = "cpu") -> None:
    """Fill the appearance features of records that have crops but no features yet (`streams`: model streams; see `semiology.streams`).

    The frame encoders run on `device` (a study's `train.device`); the features come back as CPU arrays.
    """
    for stream in sorted({get_stream(name).appearance for name in streams} - {None}):
        crop_name, feature_name = get_appearance(stream).crops, get_appearance(stream).features
        pending = [r for r in records if getattr(r, feature_name) is None and getattr(r, crop_name) is not None]
        if not pending:
            continue
        crop_size = int(getattr(pending[0], crop_name).shape[1])
        encoder = build_encoder(stream, config, crop_size, cache_dir, device)
        for record in pending:
            setattr(record, feature_name, encode_frames(encoder, getattr(record, crop_name)))
