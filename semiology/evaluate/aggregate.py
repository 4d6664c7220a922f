"""From window predictions to seizure and subject predictions, the units clinicians decide on.

Window -> seizure: the mean class probability over the seizure's windows; the fold's decision
threshold then applies to that mean. Seizure -> subject: the mean of the subject's seizure
probabilities (each seizure weighs the same, however long); the subject's true label is the
positive class (index 1) if any of its seizures is positive (binary), otherwise its most
frequent seizure label (ties go to the lower class index).
"""

from __future__ import annotations

import numpy as np

from semiology.evaluate.results import PredictionTable

LEVELS = ("window", "seizure", "subject")


def _group_mean(values: np.ndarray, inverse: np.ndarray, n_groups: int) -> np.ndarray:
    sums = np.zeros((n_groups,) + values.shape[1:])
    np.add.at(sums, inverse, values)
    counts = np.bincount(inverse, minlength=n_groups).reshape((n_groups,) + (1,) * (values.ndim - 1))
    return sums / counts


def _constant_per_group(values: np.ndarray, groups: tuple[np.ndarray, np.ndarray, np.ndarray], what: str, unit: str) -> np.ndarray:
    """The one value each group holds; raise naming the first group that holds several.

    `groups` is `np.unique(keys, return_index=True, return_inverse=True)`.
    """
    ids, first_row, inverse = groups
    per_group = values[first_row]
    same = values == per_group[inverse]
    if values.dtype.kind == "f":
        same |= np.isnan(values) & np.isnan(per_group[inverse])
    if not same.all():
        bad = ids[inverse[~same][0]]
        found = sorted(set(values[inverse == inverse[~same][0]].tolist()))
        raise ValueError(f"{unit} {bad!r} spans several values of {what}: {found}")
    return per_group


def to_seizure_level(table: PredictionTable) -> PredictionTable:
    """One row per seizure (sorted by seizure id): mean window probability, earliest window start.

    All windows of a seizure must share one fold, subject, label and threshold (ValueError
    otherwise): a seizure split across folds would mean its windows leaked between train and test.
    """
    groups = np.unique(table.seizure_id, return_index=True, return_inverse=True)
    ids, _, inverse = groups
    start_s = np.full(len(ids), np.inf)
    np.minimum.at(start_s, inverse, table.window_start_s)
    return PredictionTable(
        seizure_id=ids,
        subject_id=_constant_per_group(table.subject_id, groups, "subject_id", "seizure"),
        fold=_constant_per_group(table.fold, groups, "fold", "seizure"),
        window_start_s=start_s,
        y_true=_constant_per_group(table.y_true, groups, "y_true", "seizure"),
        prob=_group_mean(table.prob, inverse, len(ids)),
        threshold=_constant_per_group(table.threshold, groups, "threshold", "seizure"),
        class_names=table.class_names,
    )


def to_subject_level(table: PredictionTable) -> PredictionTable:
    """One row per subject (sorted by subject id), from window- or seizure-level rows.

    Needs each subject held out in exactly one fold (true for LOSO and grouped k-fold, not for
    the leaky seizure split): ValueError otherwise. `window_start_s` is NaN at this level.
    """
    seizures = to_seizure_level(table)
    groups = np.unique(seizures.subject_id, return_index=True, return_inverse=True)
    ids, _, inverse = groups
    n_classes = len(seizures.class_names)
    counts = np.zeros((len(ids), n_classes), dtype=int)
    np.add.at(counts, (inverse, seizures.y_true), 1)
    if seizures.is_binary:
        y_true = (counts[:, 1] > 0).astype(int)
    else:
        y_true = counts.argmax(axis=1)
    return PredictionTable(
        seizure_id=ids,
        subject_id=ids,
        fold=_constant_per_group(seizures.fold, groups, "fold", "subject"),
        window_start_s=np.full(len(ids), np.nan),
        y_true=y_true,
        prob=_group_mean(seizures.prob, inverse, len(ids)),
        threshold=_constant_per_group(seizures.threshold, groups, "threshold", "subject"),
        class_names=seizures.class_names,
    )


def at_level(table: PredictionTable, level: str) -> PredictionTable:
    """The window-level table aggregated to `level` ("window", "seizure" or "subject")."""
    if level == "window":
        return table
    if level == "seizure":
        return to_seizure_level(table)
    if level == "subject":
        return to_subject_level(table)
    raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
