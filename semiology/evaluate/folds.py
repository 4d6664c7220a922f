"""What every study shares: the outer folds, the seeds, what a fold hands back, and the study result.

Keypoint studies (`semiology.evaluate.study`) and action studies (`semiology.evaluate.action`)
differ in their inputs and models, not in how folds are made, how seeds are derived or how the
held-out predictions become one table per model; that is all here, once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from semiology.config import config_hash, config_to_dict
from semiology.evaluate.results import ModelResult, PredictionTable, StudyResult
from semiology.evaluate.splits import Fold, check_no_subject_overlap, grouped_kfold, leaky_seizure_folds, loso_folds
from semiology.experiment import ExperimentConfig, ModelConfig, TaskConfig
from semiology.records import SeizureRecord, merged_spans

FINAL_FOLD_OFFSET = 999_983
"""Stands in for the fold term of a model's seed in the final refit on all subjects."""


def model_seed(seed: int, task_index: int, model_index: int, fold_index: int | None) -> int:
    """The training seed of one model of one task in one outer fold (`fold_index` None: the final refit)."""
    fold_term = FINAL_FOLD_OFFSET if fold_index is None else fold_index * 1009
    return seed * 1_000_003 + fold_term + task_index * 101 + model_index


def fold_workers(config: ExperimentConfig) -> int:
    """How many processes a study's folds run on: `evaluation.workers` on the CPU, one (this process) on a GPU.

    The folds' workers are forked, and a forked process cannot use CUDA once its parent has (the
    frame encoders' features are computed in the parent); one GPU serves the folds one after
    another. Decided from the device's name alone, so the CPU path never asks torch about CUDA.
    """
    return config.evaluation.workers if config.train.device == "cpu" else 1


def inner_seed(seed: int, fold_index: int, task_index: int) -> int:
    """The seed of the inner split of one task's training subjects in one outer fold."""
    return seed + 7919 * fold_index + task_index


def make_folds(records: Sequence[SeizureRecord], config: ExperimentConfig) -> list[Fold]:
    """Outer folds over seizures, grouped by subject (unless the leaky split is asked for)."""
    subject_ids = [r.subject_id for r in records]
    first_task = config.tasks[0]
    labels = [r.labels.get(first_task.name, "") for r in records]
    split = config.evaluation.split
    if split == "loso":
        folds = loso_folds(subject_ids)
    elif split == "grouped_kfold":
        folds = grouped_kfold(subject_ids, labels, config.evaluation.n_splits, config.seed)
    else:
        return leaky_seizure_folds(labels, config.evaluation.n_splits, config.seed)
    check_no_subject_overlap(folds, subject_ids)
    return folds


@dataclass
class HeldOut:
    """One model's predictions on the held-out rows of one fold.

    `record` indexes the study's records; `event` is what a row is grouped under (its seizure,
    or `<seizure_id>/non-ictal` for an action study's outside-ictal samples).
    """

    record: np.ndarray
    event: np.ndarray
    start_s: np.ndarray
    y_true: np.ndarray
    prob: np.ndarray
    threshold: float


@dataclass
class FoldOutput:
    """What one job hands back, by `task/model` key: held-out predictions, choices made on the inner split, curves, snippet draws."""

    fold: int
    predictions: dict[str, HeldOut] = field(default_factory=dict)
    selected: dict[str, dict[str, float]] = field(default_factory=dict)
    curves: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    draws: dict[str, dict[str, list[int]]] = field(default_factory=dict)


def collect_results(config: ExperimentConfig, records: Sequence[SeizureRecord], outputs: Sequence[FoldOutput], models: Sequence[ModelConfig]) -> list[ModelResult]:
    """Stitch the per-fold outputs into one prediction table per model of `models`, folds in order."""
    results = []
    ordered = sorted(outputs, key=lambda output: output.fold)
    for model in models:
        task = next(t for t in config.tasks if t.name == model.task)
        key = f"{task.name}/{model.name}"
        parts = [(out.fold, out.predictions[key]) for out in ordered if key in out.predictions]
        owners = np.concatenate([part.record for _, part in parts])
        table = PredictionTable(
            seizure_id=np.concatenate([part.event for _, part in parts]),
            subject_id=np.array([records[i].subject_id for i in owners]),
            fold=np.concatenate([np.full(len(part.event), fold) for fold, part in parts]),
            window_start_s=np.concatenate([part.start_s for _, part in parts]),
            y_true=np.concatenate([part.y_true for _, part in parts]),
            prob=np.concatenate([part.prob for _, part in parts]).astype(np.float64),
            threshold=np.concatenate([np.full(len(part.event), part.threshold) for _, part in parts]),
            class_names=tuple(task.classes),
        )
        results.append(model_result(task, model, key, table, ordered))
    return results


def model_result(task: TaskConfig, model: ModelConfig, key: str, table: PredictionTable, outputs: Sequence[FoldOutput]) -> ModelResult:
    """One model's pooled held-out predictions with the curves and choices of every fold that ran it."""
    return ModelResult(
        task=task.name,
        model=model.name,
        class_names=tuple(task.classes),
        predictions=table,
        learning_curves={out.fold: out.curves[key] for out in outputs if key in out.curves},
        selected={out.fold: out.selected[key] for out in outputs if key in out.selected},
    )


def data_hash(records: Sequence[SeizureRecord], sign_terms: Sequence[str] = ()) -> str:
    """A fingerprint of the data a study saw: ids, labels, timing, the keypoint arrays and the spans of `sign_terms`.

    `sign_terms` are the signs the study's tasks cut windows during: only their spans change
    what it saw (a label of another sign added in the store leaves the hash alone). Spans are
    hashed merged and as floats, so the same moments hash the same however they were written.
    """
    digest = hashlib.sha256()
    terms = sorted(set(sign_terms))
    for record in sorted(records, key=lambda r: r.seizure_id):
        digest.update(f"{record.seizure_id}|{record.subject_id}|{sorted(record.labels.items())}|{record.onset_s}|{record.offset_s}".encode())
        for term in terms:
            digest.update(f"|{term}:{merged_spans(record.sign_spans(term))}".encode())
        for stream in (record.body_2d, record.face_2d, record.body_3d):
            if stream is not None:
                digest.update(stream.coords.tobytes())
                digest.update(stream.confidence.tobytes())
    return digest.hexdigest()


def study_result(config: ExperimentConfig, records: Sequence[SeizureRecord], synthetic: bool, folds: list[Fold], models: list[ModelResult]) -> StudyResult:
    """The study's evaluated models with its provenance: config and data hashes, folds and their held-out subjects."""
    subject_ids = np.array([r.subject_id for r in records])
    return StudyResult(
        name=config.name,
        synthetic=synthetic,
        config=config_to_dict(config),
        config_hash=config_hash(config),
        data_hash=data_hash(records, [task.during for task in config.tasks if task.during]),
        folds=folds,
        fold_subjects={fold.index: tuple(sorted(set(subject_ids[fold.test_idx]))) for fold in folds},
        split=config.evaluation.split,
        models=models,
    )
