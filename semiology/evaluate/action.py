"""The action stream's models inside the study's folds: 2-s sample classifiers and GESTURES.

A sibling of `semiology.evaluate.study` rather than a branch of it: those models read
snippet-feature samples `[N, 7, D]` and whole seizures (drawn snippets, a new draw per
training copy), not keypoint windows. Everything else is shared: the same outer folds
(`semiology.evaluate.folds`), the same inner split of the training subjects for early stopping and the
threshold, the same window classifier and fitting loop, and the same `ModelResult`/`PredictionTable` that the
report reads. A sample-level model's rows are 2-s samples, grouped under their seizure (or,
for the outside-ictal class, under `<seizure_id>/non-ictal`); a GESTURES row is a seizure,
its probability averaged over the seizure's camera views.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from semiology.errors import CacheError, ConfigError
from semiology.evaluate.folds import FoldOutput, HeldOut, collect_results, fold_workers, inner_seed, make_folds, model_seed, study_result
from semiology.evaluate.results import ModelResult, StudyResult
from semiology.evaluate.runner import run_jobs
from semiology.evaluate.splits import Fold, inner_split
from semiology.experiment import ACTION_KINDS, SAMPLE_KINDS, ExperimentConfig, ModelConfig, TaskConfig
from semiology.io.cache import cache_path
from semiology.io.snippet_cache import load_sample_features
from semiology.models.factory import model_spec
from semiology.models.gestures import GesturesObjective, average_views, view_seizure_id
from semiology.models.lstm import SequenceObjective
from semiology.preprocess.kinematics import kinematic_sample_features
from semiology.preprocess.model_inputs import cap_per_record, rows_of_records
from semiology.preprocess.snippets import draw_snippets, snippet_labels
from semiology.records import PAD_VALUE, SampleFeatures, SeizureRecord, padding_mask
from semiology.train.classifier import InnerFold, WindowClassifier

ICTAL = 1


def sample_features(records: Sequence[SeizureRecord], config: ExperimentConfig) -> list[SampleFeatures]:
    """Each record's snippet features: kinematic from its keypoints, or I3D from the cache."""
    settings = config.action
    if settings.features == "kinematic":
        features = []
        for record in records:
            keypoints = record.body_3d if record.body_3d is not None else record.body_2d
            if keypoints is None:
                raise ConfigError(f"seizure {record.seizure_id}: no body keypoints for kinematic features")
            features.append(kinematic_sample_features(keypoints, record.onset_s, record.offset_s, settings.overlap))
        return features
    features, problems = [], []
    for record in records:
        path = cache_path(settings.i3d_cache, record.seizure_id)
        try:
            features.append(load_sample_features(path)[1])
        except CacheError as error:
            problems.append(str(error))
    if problems:
        raise CacheError("I3D features missing or unreadable (run tools/extract_i3d.py):\n" + "\n".join(problems))
    return features


@dataclass
class SampleSet:
    """One task's 2-s samples over all records: inputs `[N, 7, D]`, labels and provenance."""

    inputs: np.ndarray
    labels: np.ndarray
    record_index: np.ndarray
    event_id: np.ndarray
    start_s: np.ndarray


def task_label(record: SeizureRecord, task: TaskConfig) -> str | None:
    """The record's class for `task` (its `label` column, default the task's name), if one of the classes."""
    value = record.labels.get(task.label or task.name)
    return value if value in task.classes else None


def build_sample_set(records: Sequence[SeizureRecord], features: Sequence[SampleFeatures], task: TaskConfig) -> SampleSet:
    """Ictal samples labelled with their seizure's class; with `outside_ictal`, every other
    sample of the same recordings labelled with that class (grouped as `<id>/non-ictal`)."""
    inputs, labels, owners, events, starts = [], [], [], [], []
    for index, (record, samples) in enumerate(zip(records, features)):
        label = task_label(record, task)
        for row in range(len(samples.features)):
            if samples.segment[row] == ICTAL and label is not None:
                cls, event = label, record.seizure_id
            elif samples.segment[row] != ICTAL and task.outside_ictal:
                cls, event = task.outside_ictal, f"{record.seizure_id}/non-ictal"
            else:
                continue
            inputs.append(samples.features[row])
            labels.append(task.classes.index(cls))
            owners.append(index)
            events.append(event)
            starts.append(samples.start_frame[row] / samples.fps)
    if not labels:
        raise ConfigError(f"task {task.name!r}: no sample carries one of the classes {list(task.classes)}")
    return SampleSet(np.stack(inputs), np.array(labels), np.array(owners), np.array(events), np.array(starts))


@dataclass
class SeizureSet:
    """One task's seizures for GESTURES: the ictal snippets `[S_i, D]` of each labelled record."""

    snippets: list[np.ndarray]
    snippet_targets: list[np.ndarray]
    labels: np.ndarray
    record_index: np.ndarray


def build_seizure_set(records: Sequence[SeizureRecord], features: Sequence[SampleFeatures], task: TaskConfig) -> SeizureSet:
    """Each labelled seizure's ictal snippets (one per 2-s sample, pooled over its steps) and
    the snippets' own labels from the generalisation time."""
    snippets, targets, labels, owners = [], [], [], []
    for index, (record, samples) in enumerate(zip(records, features)):
        label = task_label(record, task)
        ictal = samples.segment == ICTAL
        if label is None or not ictal.any():
            continue
        snippets.append(samples.pooled()[ictal])
        positive = task.classes.index(label) == 1
        targets.append(snippet_labels(samples.midpoint_s[ictal], record.generalisation_s if positive else None))
        labels.append(task.classes.index(label))
        owners.append(index)
    if not labels:
        raise ConfigError(f"task {task.name!r}: no seizure carries one of the classes {list(task.classes)}")
    return SeizureSet(snippets, targets, np.array(labels), np.array(owners))


def draw_inputs(
    seizures: SeizureSet, rows: np.ndarray, n_segments: int, gamma: float | None, draws: int, rng: np.random.Generator | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """GESTURES inputs for seizures `rows`: `draws` draws each. Returns snippets `[R*draws, n, D]`,
    targets `[R*draws, 1 + n]` (seizure label, snippet labels) and the drawn indices `[R*draws, n]`."""
    inputs, targets, indices = [], [], []
    for row in rows:
        for _ in range(draws):
            draw = draw_snippets(len(seizures.snippets[row]), n_segments, gamma, rng)
            inputs.append(seizures.snippets[row][draw.indices])
            targets.append(np.concatenate([[seizures.labels[row]], seizures.snippet_targets[row][draw.indices]]))
            indices.append(draw.indices)
    return np.stack(inputs).astype(np.float32), np.stack(targets).astype(np.int64), np.stack(indices)


def standardise(inputs: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Inputs scaled by the mean and std of `reference`'s real steps; padding stays at -1."""
    real = padding_mask(reference)
    values = reference[real] if reference.ndim == 3 else reference.reshape(-1, reference.shape[-1])
    mean, std = values.mean(axis=0), values.std(axis=0) + 1e-6
    scaled = ((inputs - mean) / std).astype(np.float32)
    if inputs.ndim == 3:
        scaled[~padding_mask(inputs)] = PAD_VALUE
    return scaled


@dataclass
class ActionContext:
    """What every fold of an action study reads: the config, the records, and each task's samples and seizures."""

    config: ExperimentConfig
    records: list[SeizureRecord]
    samples: dict[str, SampleSet]
    seizures: dict[str, SeizureSet]


@dataclass(frozen=True)
class ActionSplit:
    """One task's records in one outer fold: inner training, inner validation and held-out."""

    inner_train: np.ndarray
    inner_val: np.ndarray
    test: np.ndarray


def run_action_fold(context: ActionContext, fold: Fold) -> FoldOutput:
    """Fit and predict every action model of the experiment for one outer fold."""
    config, records = context.config, context.records
    subject_ids = np.array([r.subject_id for r in records])
    output = FoldOutput(fold=fold.index)
    for task_index, task in enumerate(config.tasks):
        models = [m for m in config.models if m.task == task.name and m.kind in ACTION_KINDS]
        labelled = np.array([i for i, r in enumerate(records) if task_label(r, task) is not None], dtype=np.int64)
        train_records = np.intersect1d(fold.train_idx, labelled)
        test_records = np.intersect1d(fold.test_idx, labelled)
        if not models or len(test_records) == 0:
            continue
        task_labels = np.array([task.classes.index(task_label(records[i], task)) for i in train_records])
        inner_train, inner_val = inner_split(subject_ids[train_records], task_labels, config.train.val_fraction, seed=inner_seed(config.seed, fold.index, task_index))
        split = ActionSplit(train_records[inner_train], train_records[inner_val], test_records)
        for model_index, model in enumerate(models):
            seed = model_seed(config.seed, task_index, model_index, fold.index)
            if model.kind == "gestures":
                _fit_gestures(context, model, task, split, seed, output)
            else:
                _fit_sample_model(context, model, task, split, seed, output)
    return output


def _fit_sample_model(context: ActionContext, model: ModelConfig, task: TaskConfig, split: ActionSplit, seed: int, output: FoldOutput) -> None:
    config = context.config
    samples = context.samples[task.name]
    cap = config.action.max_train_samples_per_seizure
    train_rows = cap_per_record(samples.record_index, split.inner_train, cap)
    val_rows = cap_per_record(samples.record_index, split.inner_val, cap)
    test_rows = rows_of_records(samples.record_index, split.test)
    inputs = standardise(samples.inputs, samples.inputs[train_rows])
    train_settings = model.train.apply(config.train)
    if model.kind == "i3d_head" and model.train.lr is None:
        train_settings = replace(train_settings, lr=config.action.head_lr)
    classifier = WindowClassifier(
        model_spec(model, config, len(task.classes), in_features=int(inputs.shape[-1])), train_settings, seed,
        objective=SequenceObjective(l2=config.action.l2 if model.kind != "i3d_head" else 0.0),
        optimiser="sgd" if model.kind == "i3d_head" else "adam",
    ).fit([InnerFold(inputs[train_rows], samples.labels[train_rows], inputs[val_rows], samples.labels[val_rows])])
    key = f"{task.name}/{model.name}"
    output.selected[key] = {"epoch": float(classifier.epoch_), "threshold": classifier.threshold_}
    output.curves[key] = classifier.curves_
    output.predictions[key] = HeldOut(
        record=samples.record_index[test_rows],
        event=samples.event_id[test_rows],
        start_s=samples.start_s[test_rows],
        y_true=samples.labels[test_rows],
        prob=classifier.predict_proba(inputs[test_rows]),
        threshold=classifier.threshold_,
    )


def _fit_gestures(context: ActionContext, model: ModelConfig, task: TaskConfig, split: ActionSplit, seed: int, output: FoldOutput) -> None:
    config, records = context.config, context.records
    seizures = context.seizures[task.name]
    settings = config.action
    n_segments = model.segments or settings.segments
    rows = {name: np.flatnonzero(np.isin(seizures.record_index, part)) for name, part in (("train", split.inner_train), ("val", split.inner_val), ("test", split.test))}
    rng = np.random.default_rng(seed)
    x_train, y_train, _ = draw_inputs(seizures, rows["train"], n_segments, settings.train_gamma, settings.draws_per_seizure, rng)
    x_val, y_val, _ = draw_inputs(seizures, rows["val"], n_segments, None, 1, None)
    x_test, _, test_indices = draw_inputs(seizures, rows["test"], n_segments, None, 1, None)
    reference = np.concatenate([seizures.snippets[r] for r in rows["train"]])
    x_train, x_val, x_test = (standardise(x, reference) for x in (x_train, x_val, x_test))
    classifier = WindowClassifier(
        model_spec(model, config, 2, in_features=int(x_train.shape[-1])), model.train.apply(config.train), seed,
        objective=GesturesObjective(snippet_weight=settings.snippet_weight),
    ).fit([InnerFold(x_train, y_train, x_val, y_val)])
    test_owner = seizures.record_index[rows["test"]]
    views = np.array([view_seizure_id(records[i].seizure_id, records[i].meta) for i in test_owner])
    events, prob, first = average_views(views, classifier.predict_proba(x_test))
    key = f"{task.name}/{model.name}"
    output.selected[key] = {"epoch": float(classifier.epoch_), "threshold": classifier.threshold_}
    output.curves[key] = classifier.curves_
    output.draws[key] = {records[i].seizure_id: indices.tolist() for i, indices in zip(test_owner, test_indices)}
    output.predictions[key] = HeldOut(
        record=test_owner[first],
        event=events,
        start_s=np.array([records[i].onset_s for i in test_owner[first]]),
        y_true=seizures.labels[rows["test"]][first],
        prob=prob,
        threshold=classifier.threshold_,
    )


@dataclass
class ActionStudy:
    """The action models' results on the study's folds, and the test snippet draws per model."""

    models: list[ModelResult]
    folds: list[Fold]
    draws: dict[str, dict[str, list[int]]]


def run_action_study(config: ExperimentConfig, records: list[SeizureRecord], progress: bool = True) -> ActionStudy:
    """Evaluate the action models of `config` on `records` (at their recorded frame rate), on `train.device`."""
    features = sample_features(records, config)
    action_tasks = {m.task for m in config.models if m.kind in ACTION_KINDS}
    samples, seizures = {}, {}
    for task in config.tasks:
        kinds = {m.kind for m in config.models if m.task == task.name}
        if task.name in action_tasks and kinds & set(SAMPLE_KINDS):
            samples[task.name] = build_sample_set(records, features, task)
        if "gestures" in kinds:
            seizures[task.name] = build_seizure_set(records, features, task)
    folds = make_folds(records, config)
    context = ActionContext(config=config, records=records, samples=samples, seizures=seizures)
    outputs = run_jobs(run_action_fold, context, folds, fold_workers(config), desc=f"{config.name}: action folds", unit="fold", progress=progress)
    draws: dict[str, dict[str, list[int]]] = {}
    for output in outputs:
        for key, per_seizure in output.draws.items():
            draws.setdefault(key, {}).update(per_seizure)
    action_models = [m for m in config.models if m.kind in ACTION_KINDS]
    return ActionStudy(models=collect_results(config, records, outputs, action_models), folds=folds, draws=draws)


def write_draws(draws: dict[str, dict[str, list[int]]], path: Path) -> Path:
    """The evaluation snippet indices per model and seizure, as JSON, so a run can be replayed."""
    path.write_text(json.dumps(draws, indent=1, sort_keys=True))
    return path


def merge_study(
    config: ExperimentConfig, records: Sequence[SeizureRecord], synthetic: bool, spine: StudyResult | None, action: ActionStudy | None
) -> StudyResult:
    """One study result over the window models' and the action stream's models (same folds), in config order."""
    by_key = {result.key: result for part in (spine, action) if part is not None for result in part.models}
    folds = spine.folds if spine is not None else action.folds
    models = [by_key[f"{m.task}/{m.name}"] for m in config.models if f"{m.task}/{m.name}" in by_key]
    merged = study_result(config, records, synthetic, folds, models)
    merged.normalisation_notes = spine.normalisation_notes if spine is not None else []
    return merged
