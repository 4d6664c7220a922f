"""What a model's outputs mean: its training loss and its class probabilities.

Part of the model, not of the fitting loop: a model with its own output (a sigmoid unit,
auxiliary per-snippet outputs) ships its objective beside it, and `semiology.train` reads it.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class Objective:
    """What a model's outputs mean: its training loss and its class probabilities.

    The default is class-weighted cross-entropy over logits `[N, K]` with softmax
    probabilities. Models with another output (a sigmoid unit, auxiliary per-snippet outputs)
    pass their own subclass to `fit_classifier`; `targets` then may carry extra columns after
    the class label (column 0), which only the objective reads.
    """

    def loss(self, model: nn.Module, outputs: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
        return nn.functional.cross_entropy(outputs, class_column(targets), weight=weights)

    def proba(self, outputs: torch.Tensor) -> torch.Tensor:
        return torch.softmax(outputs, dim=1)


def class_column(targets: torch.Tensor | np.ndarray):
    """The class labels of a 1-D target vector or of column 0 of a target matrix."""
    return targets[:, 0] if targets.ndim == 2 else targets
