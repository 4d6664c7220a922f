"""Metrics equal hand-computed values; fold rules, summaries and the subject bootstrap behave."""

import numpy as np
import pytest

from semiology.evaluate.metrics import COUNT_METRICS, _counts_metric, bootstrap_ci, classification_metrics, evaluate_model, summarise_folds
from semiology.evaluate.results import ModelResult, PredictionTable

BINARY = ("absent", "present")


def test_binary_metrics_match_hand_computation():
    y_true = [0, 0, 1, 1, 1]
    y_pred = [0, 1, 1, 1, 0]
    prob1 = np.array([0.1, 0.6, 0.8, 0.7, 0.3])
    metrics = classification_metrics(y_true, y_pred, np.stack([1 - prob1, prob1], axis=1), BINARY)
    # F1(absent) = 2*1/(2*1+1+1) = 0.5; F1(present) = 2*2/(2*2+1+1) = 2/3
    assert metrics["macro_f1"] == pytest.approx((0.5 + 2 / 3) / 2, abs=1e-6)
    assert metrics["accuracy"] == pytest.approx(0.6)
    assert metrics["sensitivity"] == pytest.approx(2 / 3, abs=1e-6)
    assert metrics["specificity"] == pytest.approx(0.5)
    # 5 of the 6 (positive, negative) pairs are ranked correctly
    assert metrics["roc_auc"] == pytest.approx(5 / 6, abs=1e-6)
    # ranked P P N P N: precision 1, 1, 3/4 at the positives
    assert metrics["pr_auc"] == pytest.approx((1 + 1 + 0.75) / 3, abs=1e-6)
    assert metrics["confusion_matrix"] == [[1, 1], [1, 2]]
    assert metrics["n"] == 5
    assert metrics["per_class"]["absent"] == {"support": 2, "sensitivity": 0.5, "specificity": pytest.approx(2 / 3, abs=1e-6)}


def test_one_class_fold_scores_only_the_classes_present():
    y_true, y_pred = [1, 1, 1], [1, 0, 1]
    prob = [[0.2, 0.8], [0.7, 0.3], [0.1, 0.9]]
    fold = classification_metrics(y_true, y_pred, prob, BINARY, labels=[1])
    assert fold["macro_f1"] == pytest.approx(0.8)  # 2*2 / (2*2 + 0 + 1)
    assert fold["f1_classes"] == ["present"]
    assert fold["sensitivity"] == pytest.approx(2 / 3, abs=1e-6)
    assert fold["specificity"] is None
    assert fold["roc_auc"] is None and fold["pr_auc"] is None
    pooled_rule = classification_metrics(y_true, y_pred, prob, BINARY)
    assert pooled_rule["macro_f1"] == pytest.approx(0.4)  # the predicted-but-absent class scores 0


def test_multiclass_per_class_sensitivity_and_specificity():
    names = ("focal", "tonic", "clonic")
    metrics = classification_metrics([0, 1, 2, 2], [0, 2, 2, 1], np.full((4, 3), 1 / 3), names)
    assert "sensitivity" not in metrics
    assert metrics["per_class"]["clonic"]["sensitivity"] == pytest.approx(0.5)
    assert metrics["per_class"]["clonic"]["specificity"] == pytest.approx(0.5)
    assert metrics["per_class"]["focal"]["specificity"] == pytest.approx(1.0)
    assert metrics["macro_sensitivity"] == pytest.approx((1 + 0 + 0.5) / 3, abs=1e-6)
    assert metrics["roc_auc"] == pytest.approx(0.5)


def test_summarise_folds_uses_only_defined_folds_and_population_std():
    summary = summarise_folds([{"macro_f1": 0.5, "sensitivity": None}, {"macro_f1": 1.0, "sensitivity": 0.2}, {"macro_f1": 0.75}])
    assert summary["n_folds"] == 3
    assert summary["macro_f1"] == {"mean": 0.75, "std": pytest.approx(np.std([0.5, 1.0, 0.75]), abs=1e-6), "n": 3}
    assert summary["sensitivity"] == {"mean": 0.2, "std": 0.0, "n": 1}
    assert "roc_auc" not in summary


def good_model_table(n_subjects: int = 10, seed: int = 0) -> PredictionTable:
    """A model that is right most of the time: 3 seizures of 4 windows per subject."""
    rng = np.random.default_rng(seed)
    seizure_id, subject_id, fold, y_true = [], [], [], []
    for subject in range(n_subjects):
        for seizure in range(3):
            label = (subject + seizure) % 2
            for _ in range(4):
                seizure_id.append(f"S{subject}-{seizure}")
                subject_id.append(f"S{subject}")
                fold.append(subject)
                y_true.append(label)
    y_true = np.array(y_true)
    prob1 = np.clip(np.where(y_true == 1, 0.8, 0.2) + rng.normal(0, 0.2, len(y_true)), 0, 1)
    return PredictionTable(seizure_id, subject_id, fold, np.zeros(len(y_true)), y_true, np.stack([1 - prob1, prob1], 1), 0.5, BINARY)


def test_bootstrap_is_deterministic_by_seed_and_covers_the_estimate():
    table = good_model_table()
    first = bootstrap_ci(table, "macro_f1", level="seizure", n_boot=300, seed=4)
    assert first == bootstrap_ci(table, "macro_f1", level="seizure", n_boot=300, seed=4)
    assert first != bootstrap_ci(table, "macro_f1", level="seizure", n_boot=300, seed=5)
    assert first["low"] <= first["estimate"] <= first["high"]
    assert first["estimate"] > 0.7
    assert first["n_subjects"] == 10 and first["n_defined"] == 300
    auc = bootstrap_ci(table, "roc_auc", level="window", n_boot=50, seed=0)
    assert auc["low"] <= auc["estimate"] <= auc["high"]


def test_bootstrap_counts_path_agrees_with_classification_metrics():
    rng = np.random.default_rng(1)
    for names in (BINARY, ("a", "b", "c")):
        for _ in range(20):
            y_true = rng.integers(0, len(names), 15)
            y_pred = rng.integers(0, len(names), 15)
            counts = np.zeros((len(names), len(names)), dtype=int)
            np.add.at(counts, (y_true, y_pred), 1)
            reference = classification_metrics(y_true, y_pred, np.full((15, len(names)), 1 / len(names)), names)
            for metric in COUNT_METRICS:
                if metric in reference:
                    expected = reference[metric]
                    found = _counts_metric(counts, metric)
                    assert (found is None) == (expected is None)
                    if expected is not None:
                        assert found == pytest.approx(expected, abs=1e-6)


def all_floats(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from all_floats(item)
    elif isinstance(value, list):
        for item in value:
            yield from all_floats(item)
    elif isinstance(value, float):
        yield value


def test_evaluate_model_levels_and_rounding():
    table = good_model_table(n_subjects=6)
    result = evaluate_model(ModelResult("dystonia", "AGCN-pose", BINARY, table), n_boot=100, seed=0)
    for level in ("window", "seizure", "subject"):
        assert set(result[level]) >= {"pooled", "per_fold", "fold_summary"}
        assert len(result[level]["per_fold"]) == 6
    assert "ci95" in result["window"] and "ci95" in result["seizure"] and "ci95" not in result["subject"]
    assert result["seizure"]["pooled"]["n"] == 18 and result["subject"]["pooled"]["n"] == 6
    assert all(round(value, 6) == value for value in all_floats(result))


def test_evaluate_model_skips_subject_level_when_subjects_span_folds():
    table = good_model_table(n_subjects=4)
    table.fold[:] = np.arange(len(table)) // 4 % 3  # seizures of one subject in several folds
    result = evaluate_model(ModelResult("dystonia", "leaky", BINARY, table), n_boot=20, seed=0)
    assert "skipped" in result["subject"]
    assert result["seizure"]["pooled"]["n"] == 12
