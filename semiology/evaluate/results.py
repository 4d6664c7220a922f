"""What training hands to evaluation and reporting: held-out predictions and their provenance.

A `PredictionTable` holds one row per scored item (a window, a seizure or a subject, see
`semiology.evaluate.aggregate`); a `ModelResult` adds what was chosen on each fold's inner
split; a `StudyResult` adds the folds, the config and the data fingerprint, so that a report
can be audited end to end.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from semiology.evaluate.splits import Fold

SPLITS = ("loso", "grouped_kfold", "leaky_seizure")


@dataclass(eq=False)
class PredictionTable:
    """Held-out predictions, one row per item, with the fold each came from.

    `prob` is `[N, K]` over `class_names`; `threshold` is the binary decision threshold chosen
    on the fold's inner split (NaN means argmax, always the case for more than two classes).
    At the subject level `seizure_id` holds the subject id (one row per subject).
    """

    seizure_id: np.ndarray
    subject_id: np.ndarray
    fold: np.ndarray
    window_start_s: np.ndarray
    y_true: np.ndarray
    prob: np.ndarray
    threshold: np.ndarray
    class_names: tuple[str, ...]

    def __post_init__(self) -> None:
        self.class_names = tuple(str(name) for name in self.class_names)
        self.seizure_id = np.asarray(self.seizure_id).astype(str).reshape(-1)
        self.subject_id = np.asarray(self.subject_id).astype(str).reshape(-1)
        n_items = len(self.seizure_id)
        self.fold = np.asarray(self.fold, dtype=int).reshape(-1)
        self.window_start_s = np.asarray(self.window_start_s, dtype=float).reshape(-1)
        self.y_true = np.asarray(self.y_true, dtype=int).reshape(-1)
        self.prob = np.asarray(self.prob, dtype=float)
        self.threshold = np.broadcast_to(np.asarray(self.threshold, dtype=float), (n_items,)).copy()
        n_classes = len(self.class_names)
        if n_classes < 2:
            raise ValueError(f"a prediction table needs at least 2 classes, got {self.class_names}")
        for name in ("subject_id", "fold", "window_start_s", "y_true"):
            if len(getattr(self, name)) != n_items:
                raise ValueError(f"{name} has {len(getattr(self, name))} rows, seizure_id has {n_items}")
        if self.prob.shape != (n_items, n_classes):
            raise ValueError(f"prob must be [{n_items}, {n_classes}], got {list(self.prob.shape)}")
        if n_items and (self.y_true.min() < 0 or self.y_true.max() >= n_classes):
            raise ValueError(f"y_true must be class indices in [0, {n_classes}), got {sorted(set(self.y_true.tolist()))}")

    def __len__(self) -> int:
        return len(self.seizure_id)

    @property
    def is_binary(self) -> bool:
        return len(self.class_names) == 2

    def y_pred(self) -> np.ndarray:
        """Predicted class per row: binary `prob[:, 1] >= threshold`, otherwise (or NaN threshold) argmax."""
        predicted = np.argmax(self.prob, axis=1)
        if self.is_binary:
            decided = np.isfinite(self.threshold)
            predicted[decided] = (self.prob[decided, 1] >= self.threshold[decided]).astype(int)
        return predicted

    def take(self, rows: np.ndarray) -> PredictionTable:
        """The table restricted to (or resampled by) the given row indices or boolean mask."""
        return PredictionTable(
            seizure_id=self.seizure_id[rows],
            subject_id=self.subject_id[rows],
            fold=self.fold[rows],
            window_start_s=self.window_start_s[rows],
            y_true=self.y_true[rows],
            prob=self.prob[rows],
            threshold=self.threshold[rows],
            class_names=self.class_names,
        )


@dataclass(eq=False)
class ModelResult:
    """One model of one task: its held-out predictions and what each fold's inner split chose.

    `learning_curves`: fold -> {"train_loss", "val_loss", "val_macro_f1"} per epoch.
    `selected`: fold -> {"epoch", "threshold", "fusion_weight", "fusion_weight_<k>"} (whichever apply; see `semiology.train.final.fusion_selection`).
    """

    task: str
    model: str
    class_names: tuple[str, ...]
    predictions: PredictionTable
    learning_curves: dict[int, dict[str, list[float]]] = field(default_factory=dict)
    selected: dict[int, dict[str, float]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """`task/model`, the name under which reports list this model."""
        return f"{self.task}/{self.model}"


@dataclass(eq=False)
class StudyResult:
    """A whole evaluation: provenance (config, hashes, folds) and every model's results."""

    name: str
    synthetic: bool
    config: dict
    config_hash: str
    data_hash: str
    folds: list[Fold]
    fold_subjects: dict[int, tuple[str, ...]]
    split: str
    models: list[ModelResult]
    normalisation_notes: list[dict[str, str]] = field(default_factory=list)
    """One entry per record and stream whose baseline or body frame fell back from the policy (`seizure`, `stream`, `note`)."""

    def __post_init__(self) -> None:
        if self.split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {self.split!r}")
