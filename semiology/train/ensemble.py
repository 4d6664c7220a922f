"""Seed ensembles: the same fit repeated from different seeds, probabilities averaged.

A network trained on a few hundred windows lands in a different place for every seed (on the
synthetic demo cohort the window F1 of one model moves by about ±0.04 between seeds).
Averaging the probabilities of a few members trained from different seeds removes much of
that variance without choosing anything on the held-out subject: every member picks its own
epoch on the inner validation split, and the decision threshold is then chosen on the
averaged inner-validation probabilities (by the caller, as for one model).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from torch import nn

from semiology.experiment import TrainConfig
from semiology.models.ensemble import SeedEnsemble
from semiology.train.fit import FitResult, fit_classifier

MEMBER_SEED_STEP = 7_919_011


def member_seeds(seed: int, members: int) -> list[int]:
    """Training seeds of an ensemble's members; the first is `seed` itself, so one member is the plain model."""
    if members < 1:
        raise ValueError(f"an ensemble needs at least one member, got {members}")
    return [seed + MEMBER_SEED_STEP * member for member in range(members)]


def member_epochs(epochs: list[int]) -> int:
    """The one epoch that stands for several selected ones (an ensemble's members, a cross-fit's folds, a study's outer folds): their median, rounded half up."""
    return int(np.floor(np.median(epochs) + 0.5))


def fit_ensemble(
    build_model: Callable[[], nn.Module],
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    num_class: int,
    config: TrainConfig,
    seed: int,
    members: int = 1,
    **fit_options: Any,
) -> FitResult:
    """`fit_classifier` once per member seed (see `member_seeds`); one member is exactly `fit_classifier`.

    `fit_options` are `fit_classifier`'s keyword options (teacher logits, distillation,
    objective, optimiser, augment), the same for every member.

    With several members the result's model is a `SeedEnsemble`, its `val_prob` the mean of
    the members' inner-validation probabilities (each at its own selected epoch), its
    `best_epoch` the median member epoch and its learning curves those of the first member.
    """
    fits = [
        fit_classifier(build_model, x_train, y_train, x_val, y_val, num_class, config, seed=member_seed, **fit_options)
        for member_seed in member_seeds(seed, members)
    ]
    if members == 1:
        return fits[0]
    return FitResult(
        model=SeedEnsemble([fit.model for fit in fits]).eval(),
        best_epoch=member_epochs([fit.best_epoch for fit in fits]),
        val_prob=np.mean([fit.val_prob for fit in fits], axis=0),
        curves=fits[0].curves,
    )
