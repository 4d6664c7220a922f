"""GESTURES: a whole seizure classified from snippets sampled across it (FOS vs TCS).

The seizure's snippet-feature sequence is split into n segments and one snippet drawn per
segment (`semiology.preprocess.snippets.draw_snippets`); the n snippets `[n, D]` are embedded
(64 units) and aggregated by a mean, an LSTM (last state) or a bidirectional LSTM (last forward
and first backward states, 64 units each). Besides the seizure logit the model emits one logit
per snippet, supervised by the snippet's own label (tonic-clonic when its midpoint lies after
the generalisation time): both terms are class-weighted binary cross-entropy. Predictions of
several camera views of one seizure are averaged (`average_views`).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from torch import nn

from semiology.models.objective import Objective

Aggregation = Literal["mean", "lstm", "blstm"]


class GesturesModel(nn.Module):
    """`[N, n, D]` snippets -> `[N, 1 + n]`: the seizure logit, then one logit per snippet."""

    def __init__(self, in_features: int, aggregation: Aggregation = "blstm", hidden: int = 64, dropout: float = 0.2) -> None:
        super().__init__()
        if aggregation not in ("mean", "lstm", "blstm"):
            raise ValueError(f"aggregation must be mean, lstm or blstm, got {aggregation!r}")
        self.aggregation = aggregation
        self.embed = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(), nn.Dropout(dropout))
        self.lstm = None
        width = hidden
        if aggregation != "mean":
            self.lstm = nn.LSTM(hidden, hidden, batch_first=True, bidirectional=aggregation == "blstm")
            width = hidden * (2 if aggregation == "blstm" else 1)
        self.snippet_head = nn.Linear(width, 1)
        self.seizure_head = nn.Linear(width, 1)

    def forward(self, snippets: torch.Tensor) -> torch.Tensor:
        embedded = self.embed(snippets)
        if self.lstm is None:
            states, summary = embedded, embedded.mean(dim=1)
        else:
            states, (last, _) = self.lstm(embedded)
            summary = torch.cat([last[0], last[1]], dim=1) if self.aggregation == "blstm" else last[-1]
        return torch.cat([self.seizure_head(summary), self.snippet_head(states)[..., 0]], dim=1)


class GesturesObjective(Objective):
    """Weighted BCE on the seizure label (target column 0) plus `snippet_weight` times the
    weighted BCE on the snippet labels (columns 1..n); probabilities from the seizure logit."""

    def __init__(self, snippet_weight: float = 0.5) -> None:
        self.snippet_weight = snippet_weight

    def loss(self, model: nn.Module, outputs: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
        targets = targets.long()
        total = _weighted_bce(outputs[:, 0], targets[:, 0], weights)
        if self.snippet_weight > 0 and targets.shape[1] > 1:
            total = total + self.snippet_weight * _weighted_bce(outputs[:, 1:].reshape(-1), targets[:, 1:].reshape(-1), weights)
        return total

    def proba(self, outputs: torch.Tensor) -> torch.Tensor:
        positive = torch.sigmoid(outputs[:, 0])
        return torch.stack([1 - positive, positive], dim=1)


def _weighted_bce(logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    per_item = nn.functional.binary_cross_entropy_with_logits(logits, labels.float(), reduction="none")
    if weights is None:
        return per_item.mean()
    item_weights = weights[labels]
    return (per_item * item_weights).sum() / item_weights.sum()


def view_seizure_id(seizure_id: str, meta: dict) -> str:
    """The seizure a recording shows: `meta["view_of"]` for one camera view of a seizure
    recorded by several cameras (each view its own record, `meta["view"]` naming the camera),
    else the record's own seizure id."""
    return str(meta.get("view_of", seizure_id))


def average_views(seizure_ids: np.ndarray, prob: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean probability `[S, K]` per seizure over its views; returns (ids, mean prob, first row of each)."""
    ids, first, inverse = np.unique(np.asarray(seizure_ids), return_index=True, return_inverse=True)
    sums = np.zeros((len(ids), prob.shape[1]))
    np.add.at(sums, inverse, prob)
    return ids, sums / np.bincount(inverse)[:, None], first
