"""Subject-grouped splits: subjects never cross train/test; the leaky split does cross."""

import numpy as np
import pytest

from semiology.evaluate.splits import Fold, check_no_subject_overlap, grouped_kfold, inner_split, leaky_seizure_folds, loso_folds


def cohort(n_subjects: int = 8, seizures_per_subject: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Seizure-level subject ids and binary labels; subjects of both classes, mixed within some."""
    subjects = np.repeat([f"P{i:02d}" for i in range(n_subjects)], seizures_per_subject)
    labels = np.array([(i // seizures_per_subject + i) % 2 if i % 3 else i // seizures_per_subject % 2 for i in range(len(subjects))])
    return subjects, labels


def test_loso_holds_each_subject_out_exactly_once():
    subjects, _ = cohort()
    folds = loso_folds(subjects)
    assert len(folds) == len(set(subjects))
    held_out = [fold.test_subjects for fold in folds]
    assert all(len(test) == 1 for test in held_out)
    assert sorted(test[0] for test in held_out) == sorted(set(subjects))
    for index, fold in enumerate(folds):
        assert fold.index == index
        assert set(subjects[fold.test_idx]) == set(fold.test_subjects)
        assert fold.test_subjects[0] not in set(subjects[fold.train_idx])
        assert sorted(np.concatenate([fold.train_idx, fold.test_idx])) == list(range(len(subjects)))
    check_no_subject_overlap(folds, subjects)


def test_loso_needs_two_subjects():
    with pytest.raises(ValueError, match="at least 2 subjects"):
        loso_folds(["P1", "P1", "P1"])


def test_grouped_kfold_keeps_subjects_together_and_tests_every_seizure_once():
    subjects, labels = cohort()
    folds = grouped_kfold(subjects, labels, n_splits=4, seed=3)
    assert len(folds) == 4
    check_no_subject_overlap(folds, subjects)
    tested = np.sort(np.concatenate([fold.test_idx for fold in folds]))
    assert tested.tolist() == list(range(len(subjects)))
    subject_folds = {}
    for fold in folds:
        for subject in fold.test_subjects:
            subject_folds.setdefault(subject, []).append(fold.index)
    assert all(len(found) == 1 for found in subject_folds.values())
    again = grouped_kfold(subjects, labels, n_splits=4, seed=3)
    assert all(np.array_equal(a.test_idx, b.test_idx) for a, b in zip(folds, again))


def test_grouped_kfold_rejects_more_splits_than_subjects():
    subjects, labels = cohort(n_subjects=3)
    with pytest.raises(ValueError, match="n_splits"):
        grouped_kfold(subjects, labels, n_splits=4, seed=0)


def test_inner_split_is_grouped_stratified_deterministic_and_non_empty():
    subjects, labels = cohort()
    train_idx, val_idx = inner_split(subjects, labels, val_fraction=0.25, seed=11)
    assert len(train_idx) and len(val_idx)
    assert sorted(np.concatenate([train_idx, val_idx]).tolist()) == list(range(len(subjects)))
    assert not set(subjects[train_idx]) & set(subjects[val_idx])
    assert set(labels[val_idx]) == {0, 1}
    again = inner_split(subjects, labels, val_fraction=0.25, seed=11)
    assert np.array_equal(train_idx, again[0]) and np.array_equal(val_idx, again[1])


def test_inner_split_with_two_subjects_and_with_one():
    subjects = np.array(["A", "A", "B"])
    train_idx, val_idx = inner_split(subjects, [0, 1, 1], val_fraction=0.2, seed=0)
    assert len(train_idx) and len(val_idx)
    assert len(set(subjects[train_idx])) == len(set(subjects[val_idx])) == 1
    assert set(subjects[train_idx]) != set(subjects[val_idx])
    with pytest.raises(ValueError, match="at least 2"):
        inner_split(["A", "A"], [0, 1], val_fraction=0.5, seed=0)


@pytest.mark.parametrize("labels", [[0, 1, 2], [1, 1, 1]])
def test_inner_split_when_stratification_is_impossible(labels):
    subjects = np.array(["A", "B", "C"])
    train_idx, val_idx = inner_split(subjects, labels, val_fraction=0.3, seed=2)
    assert len(train_idx) and len(val_idx)
    assert not set(subjects[train_idx]) & set(subjects[val_idx])


def test_leaky_folds_mix_subjects_and_are_caught():
    subjects, labels = cohort()
    folds = leaky_seizure_folds(labels, n_splits=4, seed=0)
    assert all(fold.test_subjects == () for fold in folds)
    crossing = [set(subjects[f.train_idx]) & set(subjects[f.test_idx]) for f in folds]
    assert any(crossing)
    with pytest.raises(ValueError, match="in both train and test"):
        check_no_subject_overlap(folds, subjects)


def test_check_no_subject_overlap_names_the_crossing_subject():
    subjects = np.array(["A", "A", "B", "B", "C"])
    bad = Fold(index=2, train_idx=np.array([0, 2, 4]), test_idx=np.array([1]), test_subjects=("A",))
    with pytest.raises(ValueError, match=r"fold 2: subject 'A'"):
        check_no_subject_overlap([bad], subjects)
    mislabelled = Fold(index=0, train_idx=np.array([0, 1]), test_idx=np.array([2, 3]), test_subjects=("C",))
    with pytest.raises(ValueError, match="declares test subjects"):
        check_no_subject_overlap([mislabelled], subjects)
