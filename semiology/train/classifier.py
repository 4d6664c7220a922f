"""One window classifier, with scikit-learn's shape: `fit` chooses, `predict_proba` applies, `refit` finalises.

Every choice a model makes about itself is made here, on inner-validation data only: the
epoch (early stopping, per member), the decision threshold (on the mean inner-validation
probability of all fits), and with `cross_fit` the fits on every inner fold whose mean is the
model. The outer folds call `fit`; the bundle's final model calls `refit` with the epochs the
folds chose (`semiology.train.final.select_final_settings`), like `GridSearchCV(refit=True)`
refits its winner on all data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from torch import nn

from semiology.experiment import DistillationConfig, TrainConfig
from semiology.models.ensemble import SeedEnsemble
from semiology.models.factory import ModelSpec, member_builder
from semiology.models.fusion import choose_threshold
from semiology.models.objective import Objective, class_column
from semiology.train.augment import BatchAugment, keypoint_augment
from semiology.train.ensemble import fit_ensemble, member_epochs, member_seeds
from semiology.train.final import fit_fixed_epochs
from semiology.train.fit import FitResult, predict_logits, predict_proba

INNER_FOLD_SEED_STEP = 15_485_863
"""Added to a model's seed for each inner fold after the first, so cross-fitted members differ."""

Augment = BatchAugment


@dataclass
class InnerFold:
    """One inner split's data: training windows (and a teacher's logits on them) and validation windows."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    teacher_logits: np.ndarray | None = None


@dataclass
class WindowClassifier:
    """A model of `spec` trained with `settings` from `seed`, its epoch and threshold chosen on inner folds.

    After `fit`: `network_` (the fit, or the mean of the cross-fits), `fits_` (one `FitResult`
    per inner fold used), `val_prob_` (inner-validation probabilities, inner folds in order),
    `epoch_` (the median selected epoch), `threshold_` (binary tasks; NaN otherwise) and
    `curves_` (the first fit's learning curves).
    """

    spec: ModelSpec
    settings: TrainConfig
    seed: int
    distillation: DistillationConfig | None = None
    augment: Augment | None = None
    objective: Objective | None = None
    optimiser: str = "adam"
    fits_: list[FitResult] = field(default_factory=list, init=False)
    network_: nn.Module | None = field(default=None, init=False)
    val_prob_: np.ndarray | None = field(default=None, init=False)
    epoch_: int | None = field(default=None, init=False)
    threshold_: float = field(default=float("nan"), init=False)
    curves_: dict[str, list[float]] = field(default_factory=dict, init=False)

    def fit(self, inner: Sequence[InnerFold]) -> WindowClassifier:
        """Fit once per inner fold given (one, or each with `cross_fit`), each fold from its own seed."""
        if not inner:
            raise ValueError("a window classifier needs at least one inner fold")
        self.fits_ = [
            fit_ensemble(
                member_builder(self.spec), fold.x_train, fold.y_train, fold.x_val, fold.y_val, self.spec.num_class, self.settings,
                seed=self.seed + INNER_FOLD_SEED_STEP * index, members=self.spec.ensemble, teacher_logits=fold.teacher_logits,
                distillation=self.distillation, augment=self.augment, objective=self.objective, optimiser=self.optimiser,
            )
            for index, fold in enumerate(inner)
        ]
        self.network_ = self.fits_[0].model if len(self.fits_) == 1 else SeedEnsemble([fit.model for fit in self.fits_]).eval()
        self.val_prob_ = np.concatenate([fit.val_prob for fit in self.fits_])
        self.epoch_ = member_epochs([fit.best_epoch for fit in self.fits_])
        self.curves_ = self.fits_[0].curves
        self.threshold_ = float("nan")
        if self.spec.num_class == 2:
            labels = np.concatenate([class_column(fold.y_val) for fold in inner])
            self.threshold_ = float(choose_threshold(self.val_prob_[:, 1], labels)[0])
        return self

    def refit(self, x: np.ndarray, y: np.ndarray, epochs: int, teacher_logits: np.ndarray | None = None) -> WindowClassifier:
        """The final model: every member trained on all of `x` for exactly `epochs` epochs from its member seed."""
        members = [
            fit_fixed_epochs(
                member_builder(self.spec), x, y, self.spec.num_class, self.settings, epochs, seed=member_seed,
                teacher_logits=teacher_logits, distillation=self.distillation, augment=self.augment,
            )
            for member_seed in member_seeds(self.seed, self.spec.ensemble)
        ]
        self.network_ = members[0] if len(members) == 1 else SeedEnsemble(members).eval()
        self.epoch_ = epochs
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities `[N, K]` of the fitted model."""
        return predict_proba(self._network(), x, objective=self.objective)

    def predict_logits(self, x: np.ndarray) -> np.ndarray:
        """Raw outputs `[N, K]` (what a distillation student learns from)."""
        return predict_logits(self._network(), x)

    def inner_logits(self, index: int, x: np.ndarray) -> np.ndarray:
        """Outputs of the fit on inner fold `index` (a student on that fold learns from these, never from a fit that saw its validation subjects)."""
        return predict_logits(self.fits_[index].model, x)

    def _network(self) -> nn.Module:
        if self.network_ is None:
            raise RuntimeError("the classifier is not fitted (call fit or refit first)")
        return self.network_


def keypoint_classifier(
    spec: ModelSpec, settings: TrainConfig, seed: int, distillation: DistillationConfig | None, kind: str, classes: Sequence[str]
) -> WindowClassifier:
    """A window classifier with the batch augmentation its settings ask for (mirroring of keypoint
    models, side labels mirrored with them): one constructor for the folds, the search and the final refit."""
    return WindowClassifier(
        spec, settings, seed=seed, distillation=distillation, augment=keypoint_augment(settings.mirror, kind, spec.layout, tuple(classes))
    )
