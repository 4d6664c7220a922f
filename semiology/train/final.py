"""The final model of a study: refit on every subject with the settings its folds chose.

Cross-validation estimates how well a *procedure* generalises; the model a user then applies
is the same procedure fitted once on all subjects. Nothing is chosen on the full data: the
number of epochs is the median of the epochs the outer folds' inner splits selected, the
decision threshold (and a fusion weight) the mean of the folds' choices.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from semiology.engines.device import torch_device
from semiology.experiment import DistillationConfig, TrainConfig
from semiology.models.distill import DistillationLoss
from semiology.train.augment import BatchAugment
from semiology.train.ensemble import member_epochs
from semiology.train.fit import _batches, class_weights, make_optimiser

EPOCH_RULE = "median over outer folds of the epoch each fold's inner split selected (rounded half up)"
THRESHOLD_RULE = "mean over outer folds of the threshold each fold's inner split selected"
FUSION_RULE = "mean over outer folds of the fusion weight each fold's inner split selected"
FUSION_KEY = "fusion_weight"
"""A fold's choice of a fusion's first member weight; `fusion_weight_<k>` holds member k's (k = 2 .. members - 1), the last is the rest."""


def fusion_selection(weights: np.ndarray) -> dict[str, float]:
    """A fold's fusion weights as `selected` entries: the first as `fusion_weight` (two members need nothing else), members 2 .. M-1 numbered."""
    entries = {FUSION_KEY: float(weights[0])}
    entries.update({f"{FUSION_KEY}_{k}": float(weights[k - 1]) for k in range(2, len(weights))})
    return entries


@dataclass
class FinalSelection:
    """What the final fit uses, how it was derived and the per-fold values it came from."""

    epochs: int | None
    threshold: float
    fusion_weights: tuple[float, ...] | None = None
    fold_values: dict[str, list[float]] = field(default_factory=dict)

    @property
    def fusion_weight(self) -> float | None:
        """The first member's weight (all a two-member fusion needs)."""
        return None if self.fusion_weights is None else self.fusion_weights[0]

    def to_dict(self) -> dict:
        """JSON-able form, with the rules spelled out for the bundle's provenance."""
        rules = {"threshold": THRESHOLD_RULE}
        if self.epochs is not None:
            rules["epochs"] = EPOCH_RULE
        if self.fusion_weight is not None:
            rules["fusion_weight"] = FUSION_RULE
        threshold = None if not np.isfinite(self.threshold) else float(self.threshold)
        weights = {} if self.fusion_weights is None else {"fusion_weights": list(self.fusion_weights)}
        return {"epochs": self.epochs, "threshold": threshold, "fusion_weight": self.fusion_weight, **weights, "rules": rules, "fold_values": self.fold_values}


def select_final_settings(selected: Mapping[int, Mapping[str, float]]) -> FinalSelection:
    """Aggregate the per-fold choices of one model (`ModelResult.selected`) into final settings."""
    folds = sorted(selected)
    keys = ["epoch", "threshold", FUSION_KEY, *sorted({key for choice in selected.values() for key in choice if key.startswith(f"{FUSION_KEY}_")},
                                                   key=lambda key: int(key.rsplit("_", 1)[1]))]
    searched = sorted({key for choice in selected.values() for key in choice if key.startswith("search.")})
    values = {key: [float(selected[f][key]) for f in folds if key in selected[f]] for key in keys}
    values |= {key: [float(selected[f][key]) for f in folds if key in selected[f]] for key in searched}
    values = {key: vals for key, vals in values.items() if vals}
    epochs = member_epochs(values["epoch"]) if "epoch" in values else None
    thresholds = [t for t in values.get("threshold", []) if np.isfinite(t)]
    threshold = float(np.mean(thresholds)) if thresholds else float("nan")
    weights = None
    if FUSION_KEY in values:
        leading = [float(np.mean(values[key])) for key in keys[2:] if key in values]
        weights = (*leading, 1.0 - sum(leading))
    return FinalSelection(epochs=epochs, threshold=threshold, fusion_weights=weights, fold_values=values)


def fit_fixed_epochs(
    build_model: Callable[[], nn.Module],
    inputs: np.ndarray,
    labels: np.ndarray,
    num_class: int,
    config: TrainConfig,
    epochs: int,
    seed: int,
    teacher_logits: np.ndarray | None = None,
    distillation: DistillationConfig | None = None,
    augment: BatchAugment | None = None,
    device: str | torch.device | None = None,
) -> nn.Module:
    """Train for exactly `epochs` epochs on all of `inputs` (no validation data, no early stopping).

    The same optimiser, batches, class weights and distillation loss as `fit_classifier`, so
    the final model is the cross-validated procedure with its epoch fixed in advance (and the
    same batch `augment`), on the same device (`device`, None: `config.device`): batches are
    drawn on the CPU and moved there, and the model is returned there (a bundle saves CPU copies).
    Deterministic given `seed`; returns the model in eval mode.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    device = torch_device(config.device if device is None else device)
    torch.manual_seed(seed)
    model = build_model().to(device)
    generator = torch.Generator().manual_seed(seed)
    weights = class_weights(labels, num_class) if config.class_weighted else None
    criterion: nn.Module = nn.CrossEntropyLoss(weight=weights).to(device)
    if teacher_logits is not None:
        settings = distillation or DistillationConfig()
        criterion = DistillationLoss(temperature=settings.temperature, alpha=settings.alpha, class_weight=weights).to(device)
        teacher = torch.from_numpy(np.ascontiguousarray(teacher_logits, dtype=np.float32))
    optimiser = make_optimiser(model, config)
    x = torch.from_numpy(np.ascontiguousarray(inputs))
    y = torch.from_numpy(labels.astype(np.int64))
    for _ in range(epochs):
        model.train()
        for batch in _batches(len(x), config.batch_size, generator):
            batch_x, batch_y = x[batch], y[batch]
            batch_teacher = teacher[batch] if teacher_logits is not None else None
            if augment is not None:
                batch_x, batch_y, batch_teacher = augment(batch_x, batch_y, generator, batch_teacher)
            batch_x, batch_y = batch_x.to(device), batch_y.to(device)
            if batch_teacher is not None:
                batch_teacher = batch_teacher.to(device)
            logits = model(batch_x)
            loss = criterion(logits, batch_teacher, batch_y)[0] if teacher_logits is not None else criterion(logits, batch_y)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return model.eval()
