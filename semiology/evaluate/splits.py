"""Subject-grouped cross-validation splits, built on scikit-learn splitters.

All seizures of a subject (and both camera views of them) fall on one side of every split:
a subject's body proportions, bed, camera placement and habits would otherwise leak from
training into testing and inflate every number. Indices are over whatever items the caller
passes (usually seizures), and every split is deterministic given its seed.
`leaky_seizure_folds` exists only to measure how large that inflation is.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut, StratifiedGroupKFold, StratifiedKFold


@dataclass(frozen=True)
class Fold:
    """One outer fold: item indices to train and to test on, and the subjects held out."""

    index: int
    train_idx: np.ndarray
    test_idx: np.ndarray
    test_subjects: tuple[str, ...]


def _subjects(subject_ids: Sequence[str]) -> np.ndarray:
    subjects = np.asarray(subject_ids).astype(str)
    if subjects.ndim != 1:
        raise ValueError(f"subject_ids must be one-dimensional, got shape {subjects.shape}")
    return subjects


def _placeholder(n_items: int) -> np.ndarray:
    """The feature matrix scikit-learn splitters ask for and never read."""
    return np.zeros((n_items, 1))


def _grouped_folds(splits: Iterable[tuple[np.ndarray, np.ndarray]], subjects: np.ndarray) -> list[Fold]:
    folds = []
    for index, (train_idx, test_idx) in enumerate(splits):
        if len(test_idx) == 0 or len(train_idx) == 0:
            raise ValueError(f"fold {index} would have an empty train or test part; use fewer splits")
        test_subjects = tuple(sorted(set(subjects[test_idx].tolist())))
        folds.append(Fold(index, np.asarray(train_idx), np.asarray(test_idx), test_subjects))
    return folds


def _check_n_splits(n_splits: int, n_available: int, what: str) -> None:
    if not 2 <= n_splits <= n_available:
        raise ValueError(f"n_splits must be between 2 and the number of {what} ({n_available}), got {n_splits}")


def loso_folds(subject_ids: Sequence[str]) -> list[Fold]:
    """Leave-one-subject-out folds (`LeaveOneGroupOut`), one per subject in sorted subject order."""
    subjects = _subjects(subject_ids)
    n_subjects = len(set(subjects.tolist()))
    if n_subjects < 2:
        raise ValueError(f"leave-one-subject-out needs at least 2 subjects, got {n_subjects}")
    splits = LeaveOneGroupOut().split(_placeholder(len(subjects)), groups=subjects)
    return _grouped_folds(splits, subjects)


def grouped_kfold(subject_ids: Sequence[str], labels: Sequence, n_splits: int, seed: int) -> list[Fold]:
    """Subject-grouped, label-stratified k folds (`StratifiedGroupKFold`, shuffled by `seed`)."""
    subjects = _subjects(subject_ids)
    labels = np.asarray(labels)
    if len(labels) != len(subjects):
        raise ValueError(f"{len(labels)} labels for {len(subjects)} subject ids")
    _check_n_splits(n_splits, len(set(subjects.tolist())), "subjects")
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return _grouped_folds(splitter.split(_placeholder(len(subjects)), labels, groups=subjects), subjects)


def inner_split(subject_ids: Sequence[str], labels: Sequence, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split training items into (train, validation) indices by subject, for nested selection.

    Epochs, thresholds and fusion weights are chosen on the validation part, so it must hold
    whole subjects the model never trained on. This is the first of `inner_folds`: the fold
    whose validation part holds the most classes (then whose training part does, then whose
    size is nearest `val_fraction`), so stratification is as good as the subjects allow.
    """
    return inner_folds(subject_ids, labels, val_fraction, seed)[0]


def inner_folds(subject_ids: Sequence[str], labels: Sequence, val_fraction: float, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every (train, validation) split of the training items into subject-grouped inner folds, the preferred first.

    Built on `StratifiedGroupKFold` with about `1 / val_fraction` splits (`GroupKFold` with two
    when no class has two items), so every training subject is in exactly one validation part.
    Folds are ordered by preference: most classes in the validation part, then in the training
    part, then validation size nearest `val_fraction` (ties keep the splitter's order). Both
    parts of every fold are non-empty. Deterministic given `seed`.
    """
    subjects = _subjects(subject_ids)
    labels = np.asarray(labels)
    if len(labels) != len(subjects):
        raise ValueError(f"{len(labels)} labels for {len(subjects)} subject ids")
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must lie in (0, 1), got {val_fraction}")
    n_subjects = len(set(subjects.tolist()))
    if n_subjects < 2:
        raise ValueError(f"an inner split needs at least 2 training subjects, got {n_subjects}")
    largest_class = int(np.unique(labels, return_counts=True)[1].max())
    n_splits = max(2, min(n_subjects, round(1.0 / val_fraction), largest_class))
    if largest_class >= 2:
        splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    else:
        splitter = GroupKFold(n_splits=2, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        # Few subjects per class is the normal case here; stratification is best effort.
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        candidates = [
            (np.asarray(train_idx), np.asarray(val_idx))
            for train_idx, val_idx in splitter.split(_placeholder(len(subjects)), labels, groups=subjects)
            if len(train_idx) and len(val_idx)
        ]

    def preference(candidate: tuple[np.ndarray, np.ndarray]) -> tuple[int, int, float]:
        train_idx, val_idx = candidate
        return (
            -len(np.unique(labels[val_idx])),
            -len(np.unique(labels[train_idx])),
            abs(len(val_idx) / len(subjects) - val_fraction),
        )

    return sorted(candidates, key=preference)


def leaky_seizure_folds(labels: Sequence, n_splits: int, seed: int) -> list[Fold]:
    """WRONG ON PURPOSE: stratified k folds over seizures that IGNORE subjects.

    Seizures of one subject land in both train and test, so a model can recognise the patient
    (body, bed, camera, habits) instead of the semiology. Use only to demonstrate how much such
    leakage inflates results, never to report them. `test_subjects` is empty on these folds.
    """
    labels = np.asarray(labels)
    _check_n_splits(n_splits, len(labels), "items")
    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return [
        Fold(index, np.asarray(train_idx), np.asarray(test_idx), ())
        for index, (train_idx, test_idx) in enumerate(splitter.split(_placeholder(len(labels)), labels))
    ]


def check_no_subject_overlap(folds: Sequence[Fold], subject_ids: Sequence[str]) -> None:
    """Raise ValueError naming the subject that is in both train and test of a fold.

    Also raises when a fold's declared `test_subjects` differ from the subjects of its test items.
    """
    subjects = _subjects(subject_ids)
    for fold in folds:
        train_subjects = set(subjects[fold.train_idx].tolist())
        test_subjects = set(subjects[fold.test_idx].tolist())
        crossing = sorted(train_subjects & test_subjects)
        if crossing:
            raise ValueError(
                f"fold {fold.index}: subject {crossing[0]!r} is in both train and test "
                f"({len(crossing)} subject(s) cross: {', '.join(crossing)})"
            )
        if fold.test_subjects and set(fold.test_subjects) != test_subjects:
            raise ValueError(
                f"fold {fold.index}: declares test subjects {sorted(fold.test_subjects)} "
                f"but its test items belong to {sorted(test_subjects)}"
            )
