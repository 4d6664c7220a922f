"""Nested hyperparameter selection: one fit per grid point on a fold's inner split, the best kept.

The outer fold's held-out subjects never enter: every candidate trains on the inner training
part and is scored on the inner validation part, the same windows that already choose its
epoch and threshold. The score is the study's own selection rule (`train.select`): the
validation AUC, or the log loss of the validation probabilities. Ties keep the earlier grid
point, so a grid listed from the simplest setting up prefers the simplest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from sklearn import config_context
from sklearn.metrics import log_loss

from semiology.experiment import TrainConfig
from semiology.models.objective import class_column
from semiology.train.classifier import InnerFold, WindowClassifier
from semiology.train.fit import validation_auc

SEARCH_KEY_PREFIX = "search."
"""How a fold's chosen grid values are named among its `selected` entries (`search.lr`, ...)."""


@dataclass
class SearchOutcome:
    """The kept classifier, the grid point it was trained with, and every point's inner-validation score."""

    classifier: WindowClassifier
    chosen: dict[str, Any]
    scores: list[float]

    def selected(self) -> dict[str, float]:
        """The chosen values as a fold's `selected` entries (numbers; switches as 0/1)."""
        return {f"{SEARCH_KEY_PREFIX}{name}": float(value) for name, value in self.chosen.items()}


@config_context(skip_parameter_validation=True)
def inner_score(classifier: WindowClassifier, folds: Sequence[InnerFold], select: str) -> float:
    """How well a fitted classifier did on its inner validation windows (higher is better)."""
    labels = np.concatenate([class_column(fold.y_val) for fold in folds])
    prob = classifier.val_prob_
    if select == "auc":
        auc = validation_auc(labels, prob)
        if np.isfinite(auc):
            return auc
    return -float(log_loss(labels, np.clip(prob, 1e-7, 1.0), labels=np.arange(prob.shape[1])))


def fit_searched(
    points: Sequence[dict[str, Any]],
    settings: TrainConfig,
    make_classifier: Callable[[TrainConfig], WindowClassifier],
    folds: Sequence[InnerFold],
) -> SearchOutcome:
    """Fit `make_classifier(settings with the point's values)` on `folds` for every grid point; keep the best.

    `points` is `TrainSearch.points()` (`[{}]` without a grid: one fit, nothing chosen).
    """
    if not points:
        raise ValueError("a search needs at least one grid point (a model without a grid has the one point {})")
    scores: list[float] = []
    best, best_score = None, -np.inf
    for point in points:
        classifier = make_classifier(replace(settings, **point)).fit(folds)
        score = inner_score(classifier, folds, settings.select) if len(points) > 1 else 0.0
        scores.append(score)
        if best is None or score > best_score:
            best, best_score = SearchOutcome(classifier, dict(point), scores), score
    return best


def final_search_values(fold_values: dict[str, list[float]], settings: TrainConfig) -> dict[str, Any]:
    """The settings a final model takes from its folds' choices: per setting, the value most folds chose (ties to the smaller).

    Values come back in the setting's own type (an int epoch count, a bool switch).
    """
    chosen = {}
    for key, values in fold_values.items():
        if not key.startswith(SEARCH_KEY_PREFIX) or not values:
            continue
        name = key[len(SEARCH_KEY_PREFIX):]
        candidates, counts = np.unique(np.asarray(values, dtype=float), return_counts=True)
        value = float(candidates[int(np.argmax(counts))])
        kind = type(getattr(settings, name))
        chosen[name] = bool(value) if kind is bool else kind(value)
    return chosen
