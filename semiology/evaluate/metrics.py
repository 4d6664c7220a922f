"""Classification metrics at window, seizure and subject level: pooled, per fold, with subject-bootstrap CIs.

Conventions a reviewer needs (also written into every report):

- Pooled metrics use all held-out items of all folds together. Macro F1 then averages over the
  classes present in the ground truth or the predictions (scikit-learn's default), so a class
  predicted but never true counts as an F1 of 0.
- Per-fold metrics average macro F1 over the classes present in that fold's ground truth only
  (the `labels=` argument): a leave-one-subject-out fold often holds one subject of one class,
  and an F1 of 0 for a class that cannot occur would be an artefact, not an error of the model.
  Sensitivity is reported only when the fold has positives, specificity only when it has
  negatives, ROC-AUC and PR-AUC only when it has both; otherwise None, and fold summaries
  (mean ± population std) count only the folds where a metric is defined.
- Confidence intervals resample SUBJECTS with replacement (all of a subject's items come
  along), because items of one subject are not independent.
- Every float is rounded to 6 decimals so that JSON output is byte-stable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import PurePath

import numpy as np
from sklearn import config_context
from sklearn.metrics import accuracy_score, average_precision_score, confusion_matrix, f1_score, multilabel_confusion_matrix, roc_auc_score

from semiology.evaluate.aggregate import LEVELS, at_level
from semiology.evaluate.results import ModelResult, PredictionTable

DECIMALS = 6
SCALAR_METRICS = (
    "macro_f1",
    "accuracy",
    "sensitivity",
    "specificity",
    "macro_sensitivity",
    "macro_specificity",
    "roc_auc",
    "pr_auc",
)
COUNT_METRICS = ("macro_f1", "accuracy", "sensitivity", "specificity", "macro_sensitivity", "macro_specificity")
BOOTSTRAP_LEVELS = ("window", "seizure")


def to_jsonable(value: object, decimals: int | None = DECIMALS) -> object:
    """Plain JSON types: numpy to Python, tuples to lists, keys to str, NaN to None, floats rounded."""
    if isinstance(value, dict):
        return {str(key): to_jsonable(item, decimals) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item, decimals) for item in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist(), decimals)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if not math.isfinite(number):
            return None
        return round(number, decimals) if decimals is not None else number
    if isinstance(value, PurePath):
        return value.as_posix()
    return value


def _mean_defined(values: Sequence[float | None]) -> float | None:
    defined = [value for value in values if value is not None]
    return float(np.mean(defined)) if defined else None


def classification_metrics(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    prob: np.ndarray,
    class_names: Sequence[str],
    labels: Sequence[int] | None = None,
) -> dict:
    """Macro F1, accuracy, per-class sensitivity/specificity, ROC-AUC, PR-AUC, confusion matrix, n.

    `labels` are the class indices macro F1 averages over; None means scikit-learn's default
    (classes in `y_true` or `y_pred`). Per-fold scoring passes the classes of the fold's ground
    truth. Sensitivity of a class is None without items of it, specificity None without items of
    other classes. For two classes, "sensitivity" and "specificity" are those of class index 1
    (the positive class). ROC-AUC and PR-AUC (average precision) need at least two classes in
    `y_true` (else None); with more than two they are one-vs-rest macro averages over the classes
    present in `y_true`.
    """
    names = tuple(str(name) for name in class_names)
    n_classes = len(names)
    y_true = np.asarray(y_true, dtype=int).reshape(-1)
    y_pred = np.asarray(y_pred, dtype=int).reshape(-1)
    prob = np.asarray(prob, dtype=float).reshape(len(y_true), n_classes)
    if len(y_true) == 0:
        raise ValueError("no items to score")
    all_classes = list(range(n_classes))
    f1_classes = sorted(set(y_true.tolist()) | set(y_pred.tolist())) if labels is None else sorted(int(k) for k in labels)
    per_class_counts = multilabel_confusion_matrix(y_true, y_pred, labels=all_classes)
    per_class = {}
    for index, name in enumerate(names):
        (true_neg, false_pos), (false_neg, true_pos) = per_class_counts[index]
        positives, negatives = true_pos + false_neg, true_neg + false_pos
        per_class[name] = {
            "support": int(positives),
            "sensitivity": true_pos / positives if positives else None,
            "specificity": true_neg / negatives if negatives else None,
        }
    present = np.unique(y_true)
    roc_auc = pr_auc = None
    if len(present) >= 2:
        if n_classes == 2:
            roc_auc = roc_auc_score(y_true, prob[:, 1])
            pr_auc = average_precision_score(y_true, prob[:, 1])
        else:
            roc_auc = _mean_defined([roc_auc_score(y_true == k, prob[:, k]) for k in present])
            pr_auc = _mean_defined([average_precision_score(y_true == k, prob[:, k]) for k in present])
    result = {
        "n": len(y_true),
        "macro_f1": f1_score(y_true, y_pred, labels=f1_classes, average="macro", zero_division=0),
        "f1_classes": [names[k] for k in f1_classes],
        "accuracy": accuracy_score(y_true, y_pred),
        "macro_sensitivity": _mean_defined([entry["sensitivity"] for entry in per_class.values()]),
        "macro_specificity": _mean_defined([entry["specificity"] for entry in per_class.values()]),
        "per_class": per_class,
        "roc_auc": roc_auc,
        "pr_auc": pr_auc,
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=all_classes),
    }
    if n_classes == 2:
        result["sensitivity"] = per_class[names[1]]["sensitivity"]
        result["specificity"] = per_class[names[1]]["specificity"]
    return to_jsonable(result)


def table_metrics(table: PredictionTable, labels: Sequence[int] | None = None) -> dict:
    """`classification_metrics` of a prediction table at whatever level it is."""
    return classification_metrics(table.y_true, table.y_pred(), table.prob, table.class_names, labels=labels)


def fold_metrics(table: PredictionTable) -> list[dict]:
    """Metrics of each fold (sorted by fold), macro F1 over the classes in the fold's ground truth."""
    per_fold = []
    for fold in np.unique(table.fold):
        part = table.take(table.fold == fold)
        entry = table_metrics(part, labels=np.unique(part.y_true))
        entry["fold"] = int(fold)
        entry["subjects"] = sorted(set(part.subject_id.tolist()))
        per_fold.append(entry)
    return per_fold


def summarise_folds(per_fold: Sequence[dict]) -> dict:
    """Mean ± population std (ddof=0) of each scalar metric over the folds where it is defined."""
    summary: dict = {"n_folds": len(per_fold)}
    for metric in SCALAR_METRICS:
        if not any(metric in entry for entry in per_fold):
            continue
        values = [entry[metric] for entry in per_fold if entry.get(metric) is not None]
        summary[metric] = {
            "mean": float(np.mean(values)) if values else None,
            "std": float(np.std(values, ddof=0)) if values else None,
            "n": len(values),
        }
    return to_jsonable(summary)


def _counts_metric(counts: np.ndarray, metric: str) -> float | None:
    """A confusion-matrix metric from counts [K, K] (rows true, columns predicted).

    The same definitions as `classification_metrics` (a test checks they agree); used by the
    bootstrap, where summing per-subject counts is far faster than re-scoring every resample.
    """
    total = counts.sum()
    true_pos = np.diag(counts).astype(float)
    actual = counts.sum(axis=1)
    predicted = counts.sum(axis=0)
    if metric == "macro_f1":
        scored = (actual + predicted) > 0
        return float(np.mean(2 * true_pos[scored] / (actual[scored] + predicted[scored])))
    if metric == "accuracy":
        return float(true_pos.sum() / total)
    negatives = total - actual
    true_neg = total - actual - predicted + true_pos
    sensitivity = [true_pos[k] / actual[k] if actual[k] else None for k in range(len(counts))]
    specificity = [true_neg[k] / negatives[k] if negatives[k] else None for k in range(len(counts))]
    if metric == "sensitivity" and len(counts) == 2:
        return sensitivity[1]
    if metric == "specificity" and len(counts) == 2:
        return specificity[1]
    if metric == "macro_sensitivity":
        return _mean_defined(sensitivity)
    if metric == "macro_specificity":
        return _mean_defined(specificity)
    raise ValueError(f"{metric!r} is not a confusion-matrix metric of {len(counts)} classes")


def bootstrap_ci(
    table: PredictionTable,
    metric: str = "macro_f1",
    level: str = "seizure",
    n_boot: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
) -> dict:
    """Percentile confidence interval of a pooled metric, resampling subjects with replacement.

    `table` is window-level (or already at `level`); it is aggregated to `level`, then each
    resample draws as many subjects as there are, with replacement, and scores all their items
    together. Resamples where the metric is undefined (e.g. no positives) are skipped and counted.
    """
    if metric not in SCALAR_METRICS:
        raise ValueError(f"metric must be one of {SCALAR_METRICS}, got {metric!r}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    scored = at_level(table, level)
    subjects, subject_of_row = np.unique(scored.subject_id, return_inverse=True)
    n_subjects = len(subjects)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_subjects, size=(n_boot, n_subjects))
    y_pred = scored.y_pred()
    if metric in COUNT_METRICS:
        n_classes = len(scored.class_names)
        subject_counts = np.zeros((n_subjects, n_classes, n_classes), dtype=np.int64)
        np.add.at(subject_counts, (subject_of_row, scored.y_true, y_pred), 1)
        multiplicity = np.stack([np.bincount(draw, minlength=n_subjects) for draw in draws])
        resampled = np.tensordot(multiplicity, subject_counts, axes=1)
        values = [_counts_metric(counts, metric) for counts in resampled]
    else:
        rows_of = [np.flatnonzero(subject_of_row == s) for s in range(n_subjects)]
        values = []
        for draw in draws:
            rows = np.concatenate([rows_of[s] for s in draw])
            values.append(classification_metrics(scored.y_true[rows], y_pred[rows], scored.prob[rows], scored.class_names).get(metric))
    defined = np.asarray([value for value in values if value is not None], dtype=float)
    low, high = np.quantile(defined, [alpha / 2, 1 - alpha / 2]) if len(defined) else (None, None)
    return to_jsonable(
        {
            "metric": metric,
            "level": level,
            "estimate": table_metrics(scored).get(metric),
            "low": low,
            "high": high,
            "confidence": 1 - alpha,
            "method": "percentile, subjects resampled with replacement",
            "n_boot": n_boot,
            "n_defined": len(defined),
            "n_subjects": n_subjects,
            "seed": seed,
        }
    )


@config_context(skip_parameter_validation=True)
def evaluate_model(model_result: ModelResult, n_boot: int = 1000, seed: int = 0) -> dict:
    """Pooled, per-fold and fold-summary metrics at window, seizure and subject level.

    Hundreds of sklearn metric calls per model (per fold, per level, per bootstrap draw): sklearn's parameter checks skipped: see docs/decisions.md#sklearn-parameter-checks.

    Window and seizure levels also get "ci95": a subject-bootstrap CI of pooled macro F1. The
    subject level is replaced by {"skipped": reason} when subjects span several folds (the
    leaky seizure split), because then no single held-out prediction per subject exists.
    """
    evaluation: dict = {"task": model_result.task, "model": model_result.model, "class_names": list(model_result.class_names)}
    for level in LEVELS:
        try:
            table = at_level(model_result.predictions, level)
        except ValueError as error:
            if level != "subject":
                raise
            evaluation[level] = {"skipped": f"not defined for this split: {error}"}
            continue
        per_fold = fold_metrics(table)
        entry = {"pooled": table_metrics(table), "per_fold": per_fold, "fold_summary": summarise_folds(per_fold)}
        if level in BOOTSTRAP_LEVELS:
            entry["ci95"] = bootstrap_ci(table, "macro_f1", level=level, n_boot=n_boot, seed=seed, alpha=0.05)
        evaluation[level] = entry
    return to_jsonable(evaluation)
