"""Window -> seizure -> subject aggregation on a hand-made table, and the decision rule."""

import numpy as np
import pytest

from semiology.evaluate.aggregate import at_level, to_seizure_level, to_subject_level
from semiology.evaluate.results import PredictionTable


def hand_table() -> PredictionTable:
    """Subject A (fold 0, threshold 0.55): seizure A1 positive (2 windows), A2 negative; subject B (fold 1): B1 negative."""
    return PredictionTable(
        seizure_id=["A1", "A1", "A2", "B1", "B1"],
        subject_id=["A", "A", "A", "B", "B"],
        fold=[0, 0, 0, 1, 1],
        window_start_s=[4.0, 2.0, 0.0, 0.0, 2.0],
        y_true=[1, 1, 0, 0, 0],
        prob=[[0.2, 0.8], [0.6, 0.4], [0.9, 0.1], [0.7, 0.3], [0.5, 0.5]],
        threshold=[0.55, 0.55, 0.55, 0.5, 0.5],
        class_names=("absent", "present"),
    )


def test_seizure_level_means_windows_and_applies_the_fold_threshold():
    seizures = to_seizure_level(hand_table())
    assert seizures.seizure_id.tolist() == ["A1", "A2", "B1"]
    assert seizures.subject_id.tolist() == ["A", "A", "B"]
    np.testing.assert_allclose(seizures.prob, [[0.4, 0.6], [0.9, 0.1], [0.6, 0.4]])
    assert seizures.y_true.tolist() == [1, 0, 0]
    assert seizures.y_pred().tolist() == [1, 0, 0]
    np.testing.assert_allclose(seizures.window_start_s, [2.0, 0.0, 0.0])
    np.testing.assert_allclose(seizures.threshold, [0.55, 0.55, 0.5])


def test_subject_level_means_seizures_and_is_positive_if_any_seizure_is():
    subjects = to_subject_level(hand_table())
    assert subjects.subject_id.tolist() == ["A", "B"]
    np.testing.assert_allclose(subjects.prob, [[0.65, 0.35], [0.6, 0.4]])
    assert subjects.y_true.tolist() == [1, 0]
    assert subjects.y_pred().tolist() == [0, 0]
    assert subjects.fold.tolist() == [0, 1]
    assert np.isnan(subjects.window_start_s).all()
    assert len(at_level(hand_table(), "subject")) == 2


def test_multiclass_subject_label_is_the_most_frequent_seizure_label():
    table = PredictionTable(
        seizure_id=["s1", "s2", "s3", "t1", "t2"],
        subject_id=["S", "S", "S", "T", "T"],
        fold=[0, 0, 0, 1, 1],
        window_start_s=np.zeros(5),
        y_true=[2, 1, 2, 2, 1],
        prob=np.full((5, 3), 1 / 3),
        threshold=np.nan,
        class_names=("focal", "tonic", "clonic"),
    )
    subjects = to_subject_level(table)
    assert subjects.y_true.tolist() == [2, 1]


def test_a_seizure_split_across_folds_is_refused():
    table = hand_table()
    table.fold[1] = 1
    with pytest.raises(ValueError, match="seizure 'A1' spans several values of fold"):
        to_seizure_level(table)


def test_subject_level_needs_one_fold_per_subject():
    table = hand_table()
    table.fold[2] = 3
    with pytest.raises(ValueError, match="subject 'A' spans several values of fold"):
        to_subject_level(table)


def test_decision_rule_binary_threshold_nan_and_multiclass():
    binary = hand_table()
    assert binary.y_pred().tolist() == [1, 0, 0, 0, 1]
    binary.threshold[:] = np.nan
    assert binary.y_pred().tolist() == [1, 0, 0, 0, 0]
    table = PredictionTable(["a"], ["S"], [0], [0.0], [1], [[0.2, 0.5, 0.3]], [0.9], ("x", "y", "z"))
    assert table.y_pred().tolist() == [1]


def test_prediction_table_rejects_bad_shapes_and_labels():
    with pytest.raises(ValueError, match="prob must be"):
        PredictionTable(["a"], ["S"], [0], [0.0], [1], [[0.2, 0.5, 0.3]], [0.5], ("x", "y"))
    with pytest.raises(ValueError, match="class indices"):
        PredictionTable(["a"], ["S"], [0], [0.0], [2], [[0.2, 0.8]], [0.5], ("x", "y"))
