"""One model factory: a `ModelSpec` in, an untrained network out.

Cross-validation, the bundle's final refit and inference from a saved bundle all build their
networks here, from the same spec, so a bundled model is the architecture that was evaluated.
The spec's dict form (`to_dict`) is what `bundle.json` stores as a model's `architecture`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from torch import nn

from semiology.experiment import ExperimentConfig, ModelConfig
from semiology.layouts import get_layout
from semiology.models.agcn import AGCN
from semiology.models.agcn_transfer import transfer_pretrained
from semiology.models.ensemble import SeedEnsemble
from semiology.models.gestures import GesturesModel
from semiology.models.lstm import LSTMFC, I3DHead, extended_lstm_fc
from semiology.models.tcn import TCN

SEQUENCE_TYPES = ("lstm_fc", "lstm_fc_extended", "i3d_head")


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to build one network (and, with `ensemble` > 1, a seed ensemble of them).

    `type` is `agcn` (reads `[N, in_channels, T, V, 1]` windows of `layout`), `tcn` (reads
    `[N, T, in_features]`; `keypoints` says the keypoint windows follow the appearance features),
    one of `SEQUENCE_TYPES` (2-s samples `[N, 7, in_features]`) or `gestures` (drawn snippets).
    """

    type: str
    num_class: int
    in_features: int | None = None
    in_channels: int | None = None
    layout: str | None = None
    channels: tuple[int, ...] = ()
    strides: tuple[int, ...] = ()
    temporal_kernel: int | None = None
    kernel_size: int | None = None
    dropout: float = 0.0
    aggregation: str | None = None
    ensemble: int = 1
    keypoints: bool = False
    pretrained: str | None = None
    pretrained_layout: str = "ntu_25"
    pretrained_persons: int = 2

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored in bundles (format 1: the keys each type has always had)."""
        extra: dict[str, Any] = {"ensemble": self.ensemble} if self.ensemble > 1 else {}
        if self.type == "agcn":
            return {**extra, "type": "agcn", "num_class": self.num_class, "layout": self.layout, "in_channels": self.in_channels,
                    "channels": list(self.channels), "strides": list(self.strides), "temporal_kernel": self.temporal_kernel,
                    "dropout": self.dropout}
        if self.type == "tcn":
            flags = {"keypoints": True} if self.keypoints else {}
            return {"type": "tcn", "num_class": self.num_class, "in_features": self.in_features, "channels": list(self.channels),
                    "kernel_size": self.kernel_size, "dropout": self.dropout, **extra, **flags}
        body = {"type": self.type, "num_class": self.num_class, "in_features": self.in_features}
        return {**body, "aggregation": self.aggregation} if self.type == "gestures" else body

    @classmethod
    def from_dict(cls, architecture: dict[str, Any]) -> ModelSpec:
        """The spec of a bundle's `architecture` entry."""
        values = dict(architecture)
        for key in ("channels", "strides"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)

    def single(self) -> ModelSpec:
        """The spec of one member of this (possibly ensembled) model."""
        return replace(self, ensemble=1)


def model_spec(
    model: ModelConfig,
    config: ExperimentConfig,
    num_class: int,
    layout: str | None = None,
    in_channels: int | None = None,
    in_features: int | None = None,
) -> ModelSpec:
    """The spec of an experiment's model row, given what its inputs look like."""
    if model.kind in ("agcn", "agcn_kd"):
        settings = config.agcn
        return ModelSpec("agcn", num_class, in_channels=in_channels, layout=layout, channels=tuple(settings.channels),
                         strides=tuple(settings.strides), temporal_kernel=settings.temporal_kernel, dropout=settings.dropout,
                         ensemble=model.ensemble, pretrained=model.pretrained, pretrained_layout=model.pretrained_layout,
                         pretrained_persons=model.pretrained_persons)
    if model.kind == "tcn":
        settings = config.tcn
        return ModelSpec("tcn", num_class, in_features=in_features, channels=tuple(settings.channels), kernel_size=settings.kernel_size,
                         dropout=settings.dropout, ensemble=model.ensemble, keypoints=model.keypoints)
    if model.kind == "gestures":
        return ModelSpec("gestures", num_class, in_features=in_features, aggregation=model.aggregation)
    if model.kind in SEQUENCE_TYPES:
        return ModelSpec(model.kind, num_class, in_features=in_features)
    raise ValueError(f"model {model.name!r}: kind {model.kind!r} has no network (a fusion averages its members)")


def build_network(spec: ModelSpec) -> nn.Module:
    """An untrained network of `spec`; a `SeedEnsemble` of `spec.ensemble` members when above 1."""
    if spec.ensemble > 1:
        return SeedEnsemble([build_network(spec.single()) for _ in range(spec.ensemble)])
    if spec.type == "agcn":
        agcn = AGCN(spec.num_class, get_layout(spec.layout).adjacency(), num_person=1, in_channels=spec.in_channels,
                    channels=spec.channels, strides=spec.strides, temporal_kernel=spec.temporal_kernel, dropout=spec.dropout)
        if spec.pretrained is not None:  # NTU RGB+D transfer (semiology.models.agcn_transfer)
            transfer_pretrained(agcn, spec.pretrained, spec.pretrained_layout, spec.pretrained_persons, str(spec.layout))
        return agcn
    if spec.type == "tcn":
        return TCN(spec.in_features, spec.num_class, channels=spec.channels, kernel_size=spec.kernel_size, dropout=spec.dropout)
    if spec.type == "lstm_fc":
        return LSTMFC(spec.in_features, spec.num_class)
    if spec.type == "lstm_fc_extended":
        return extended_lstm_fc(spec.in_features, spec.num_class)
    if spec.type == "i3d_head":
        return I3DHead(spec.in_features, spec.num_class)
    if spec.type == "gestures":
        return GesturesModel(spec.in_features, aggregation=spec.aggregation)
    raise ValueError(f"unknown model type {spec.type!r}")


def member_builder(spec: ModelSpec) -> Callable[[], nn.Module]:
    """A builder of one untrained member (what a fitting loop calls after seeding torch)."""
    single = spec.single()
    return lambda: build_network(single)
