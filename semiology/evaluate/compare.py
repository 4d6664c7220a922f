"""Paired comparisons between configurations, on the per-fold scores a study writes.

Two models are compared on the folds (held-out subjects, one per fold under LOSO) where both
have a defined score, e.g. window-level macro F1 per fold from `metrics.json`. Each comparison
reports:

- the mean paired difference A − B with a percentile bootstrap 95% CI, resampling the paired
  folds (subjects under LOSO) with replacement, seeded so that it is deterministic;
- the Wilcoxon signed-rank test (paired; zero differences dropped, exact for small samples
  without ties) and the Mann-Whitney U test (the same scores taken as unpaired), both two-sided,
  from `scipy.stats`;
- each test's p-value adjusted by Holm–Bonferroni over all comparisons made in one call (one
  family per test).

Too few pairs is a result, not a crash: fewer than two pairs gives p = None with a `note`; all
differences zero (or all scores equal) gives p = 1.0 with a `note`.

Within a study (`study_comparisons`) every pair of models of the same task is compared; a
distillation row (kind `agcn_kd`) is oriented as student − its no-distillation counterpart
(kind `agcn`, same task and stream). Across saved studies, `semiology.evaluate.compare_cli`
reads each study's `metrics.json` and `folds.csv` and pairs models by task/model name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations

import numpy as np
from scipy import stats

from semiology.evaluate.metrics import to_jsonable
from semiology.evaluate.text import fixed_width

N_BOOT = 1000
BOOT_SEED = 0
LEVELS = ("window", "seizure", "subject")
COMPARISON_HEADER = ("A", "B", "Metric", "n", "Mean A", "Mean B", "A − B [95% CI]", "Wilcoxon p (Holm)", "Mann-Whitney p (Holm)")


def fold_units(folds: Mapping[object, Sequence[str]]) -> dict[int, str]:
    """fold index -> the label that pairs it across models and studies: its held-out subjects.

    Under LOSO the label is the subject; folds holding several subjects list them. If two folds
    held out the same subjects (possible in a leaky seizure-level split) the fold index is added.
    """
    labels = {int(fold): ", ".join(sorted(str(s) for s in subjects)) for fold, subjects in folds.items()}
    if len(set(labels.values())) != len(labels):
        labels = {fold: f"fold {fold}: {label}" for fold, label in labels.items()}
    return labels


def fold_scores(evaluation: Mapping, units: Mapping[int, str], metric: str = "macro_f1", level: str = "window") -> dict[str, float]:
    """unit label -> the model's score in that fold, from an `evaluate_model` output (a metrics.json model entry).

    Folds where the metric is undefined (None) are left out. Raises ValueError when the level was
    skipped (e.g. the subject level of a leaky split) or the metric is never reported.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    entry = evaluation[level]
    if "skipped" in entry:
        raise ValueError(f"{level} level was skipped: {entry['skipped']}")
    per_fold = entry["per_fold"]
    if per_fold and not any(metric in fold for fold in per_fold):
        raise ValueError(f"no per-fold {metric!r} at {level} level (metrics: {sorted(k for k in per_fold[0] if k != 'fold')})")
    return {units[int(fold["fold"])]: float(fold[metric]) for fold in per_fold if fold.get(metric) is not None}


def pair_scores(a: Mapping[str, float], b: Mapping[str, float]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The units both score, sorted, with A's and B's scores in that order."""
    units = sorted(set(a) & set(b))
    return units, np.array([a[u] for u in units], dtype=float), np.array([b[u] for u in units], dtype=float)


def wilcoxon_p(a: np.ndarray, b: np.ndarray) -> tuple[float | None, str | None]:
    """Two-sided Wilcoxon signed-rank p-value of paired A, B (zero differences dropped), with a note when degenerate."""
    diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if len(diff) < 2:
        return None, f"{len(diff)} paired fold(s): too few for a test"
    if np.all(diff == 0):
        return 1.0, "all paired differences are zero"
    return float(stats.wilcoxon(diff, zero_method="wilcox", alternative="two-sided").pvalue), None


def mann_whitney_p(a: np.ndarray, b: np.ndarray) -> tuple[float | None, str | None]:
    """Two-sided Mann-Whitney U p-value of A against B taken as independent samples, with a note when degenerate."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if min(len(a), len(b)) < 2:
        return None, f"{min(len(a), len(b))} score(s) in a group: too few for a test"
    if np.ptp(np.concatenate([a, b])) == 0:
        return 1.0, "all scores are equal"
    return float(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue), None


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm–Bonferroni adjusted p-values; None (no test) stays None and does not count towards m."""
    index = [i for i, p in enumerate(p_values) if p is not None and np.isfinite(p)]
    adjusted: list[float | None] = [None] * len(p_values)
    m = len(index)
    order = sorted(index, key=lambda i: p_values[i])
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * float(p_values[i])))
        adjusted[i] = running
    return adjusted


def bootstrap_mean_ci(diff: np.ndarray, n_boot: int = N_BOOT, seed: int = BOOT_SEED, alpha: float = 0.05) -> tuple[float | None, float | None]:
    """Percentile CI of the mean of `diff`, resampling its units with replacement (seeded); (None, None) below 2 units."""
    diff = np.asarray(diff, dtype=float)
    if len(diff) < 2:
        return None, None
    draws = np.random.default_rng(seed).integers(0, len(diff), size=(n_boot, len(diff)))
    low, high = np.quantile(diff[draws].mean(axis=1), [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def compare_pair(a: Mapping[str, float], b: Mapping[str, float], n_boot: int = N_BOOT, seed: int = BOOT_SEED) -> dict:
    """One comparison of A against B on their paired units (unadjusted p-values; see `compare_all`)."""
    units, score_a, score_b = pair_scores(a, b)
    diff = score_a - score_b
    low, high = bootstrap_mean_ci(diff, n_boot, seed)
    p_w, note_w = wilcoxon_p(score_a, score_b)
    p_u, note_u = mann_whitney_p(score_a, score_b)
    result = {
        "n": len(units),
        "units": units,
        "mean_a": float(score_a.mean()) if len(units) else None,
        "mean_b": float(score_b.mean()) if len(units) else None,
        "mean_difference": float(diff.mean()) if len(units) else None,
        "ci95": {"low": low, "high": high, "method": "percentile, paired folds resampled with replacement", "n_boot": n_boot, "seed": seed},
        "wilcoxon": {"p": p_w},
        "mann_whitney": {"p": p_u},
    }
    for test, note in (("wilcoxon", note_w), ("mann_whitney", note_u)):
        if note is not None:
            result[test]["note"] = note
    return result


def compare_all(pairs: Sequence[tuple[dict, Mapping[str, float], Mapping[str, float]]], n_boot: int = N_BOOT, seed: int = BOOT_SEED) -> list[dict]:
    """Compare every (description, scores A, scores B) and Holm-adjust each test over all of them."""
    results = [{**description, **compare_pair(a, b, n_boot, seed)} for description, a, b in pairs]
    for test in ("wilcoxon", "mann_whitney"):
        for result, adjusted in zip(results, holm([result[test]["p"] for result in results])):
            result[test]["p_holm"] = adjusted
    return results


def _model_rows(config: Mapping) -> dict[tuple[str, str], Mapping]:
    rows = config.get("models") if isinstance(config, Mapping) else None
    return {(row.get("task"), row.get("name")): row for row in rows or () if isinstance(row, Mapping)}


def _is_distillation_pair(student: Mapping | None, base: Mapping | None, default_bones: object = None) -> bool:
    """A distillation student and an AGCN reading the same task, stream and (a row's own, else the study's) bones."""
    if not student or not base or student.get("kind") != "agcn_kd" or base.get("kind") != "agcn":
        return False

    def bones(row: Mapping) -> object:
        return default_bones if row.get("bones") is None else row.get("bones")

    return student.get("task") == base.get("task") and student.get("stream") == base.get("stream") and bones(student) == bones(base)


def study_comparisons(
    config: Mapping,
    folds: Mapping[object, Sequence[str]],
    evaluations: Mapping[str, Mapping],
    models: Sequence[tuple[str, str]],
    metric: str = "macro_f1",
    level: str = "window",
) -> dict:
    """Every pair of models of the same task in one study, Holm-adjusted together (the `comparisons` of metrics.json).

    `models`: (task, model name) in study order; `evaluations`: "task/model" -> `evaluate_model` output.
    A distillation row and its no-distillation counterpart are oriented student − counterpart and
    marked `"relation": "distillation"`; other pairs are oriented in study order.
    """
    units = fold_units(folds)
    rows = _model_rows(config)
    agcn = config.get("agcn") if isinstance(config, Mapping) else None
    default_bones = agcn.get("bones") if isinstance(agcn, Mapping) else None
    pairs = []
    for (task_a, name_a), (task_b, name_b) in combinations(models, 2):
        if task_a != task_b:
            continue
        first, second = (task_a, name_a), (task_b, name_b)
        relation = "same task"
        if _is_distillation_pair(rows.get(second), rows.get(first), default_bones):
            first, second, relation = second, first, "distillation"
        elif _is_distillation_pair(rows.get(first), rows.get(second), default_bones):
            relation = "distillation"
        key_a, key_b = "/".join(first), "/".join(second)
        try:
            scores_a = fold_scores(evaluations[key_a], units, metric, level)
            scores_b = fold_scores(evaluations[key_b], units, metric, level)
        except ValueError:
            continue
        pairs.append(({"task": task_a, "a": first[1], "b": second[1], "relation": relation}, scores_a, scores_b))
    return to_jsonable(
        {
            "metric": metric,
            "level": level,
            "unit": "fold (its held-out subjects); only folds where both models have a defined score are paired",
            "difference": "A − B",
            "correction": "Holm–Bonferroni over all comparisons listed, separately for each test",
            "items": compare_all(pairs),
        }
    )


def _p_cell(test: Mapping) -> str:
    if test.get("p") is None:
        return f"n/a ({test.get('note', 'no test')})"
    cell = f"{test['p']:.3g} ({test['p_holm']:.3g})"
    return cell + (f" [{test['note']}]" if test.get("note") else "")


def comparison_rows(items: Sequence[Mapping], metric: str) -> list[list[str]]:
    """One row per comparison, in the order of `COMPARISON_HEADER`; A and B are taken from "a_label"/"b_label" or task/a, task/b."""

    def number(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    rows = []
    for item in items:
        a = item.get("a_label") or f"{item['task']}/{item['a']}"
        b = item.get("b_label") or f"{item['task']}/{item['b']}"
        difference = number(item["mean_difference"])
        if item["ci95"]["low"] is not None:
            difference = f"{item['mean_difference']:+.3f} [{item['ci95']['low']:+.3f}, {item['ci95']['high']:+.3f}]"
        if item.get("relation") == "distillation":
            a += " (KD)"
        rows.append(
            [a, b, metric, str(item["n"]), number(item["mean_a"]), number(item["mean_b"]), difference, _p_cell(item["wilcoxon"]), _p_cell(item["mann_whitney"])]
        )
    return rows


def comparison_caption(comparisons: Mapping) -> str:
    return (
        f"Paired comparisons of {comparisons['level']}-level {comparisons['metric']} per fold (held-out subject under LOSO), "
        f"on the folds where both models have a defined score. A − B: mean paired difference with a 95% percentile CI "
        f"from {N_BOOT} bootstrap resamples of the paired folds. Wilcoxon signed-rank (paired) and Mann-Whitney U "
        f"(unpaired) two-sided p-values, Holm–Bonferroni adjusted over the {len(comparisons['items'])} comparisons in "
        f"parentheses. (KD): a distillation student against its no-distillation counterpart."
    )


def format_comparisons(items: Sequence[Mapping], metric: str) -> str:
    """The comparison table as fixed-width plain text."""
    table, _ = fixed_width(COMPARISON_HEADER, comparison_rows(items, metric))
    return "\n".join(table) + "\n"
