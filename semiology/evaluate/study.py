"""Run a keypoint/appearance study: records → windows → per-fold models → predictions → study result.

Leakage-free by construction: the outer split groups seizures by subject; inside each fold
an inner split of the *training* subjects chooses the epoch, the decision threshold, the
distillation teacher's data and the fusion weight (`semiology.train.classifier`). The
held-out subject is only predicted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial

import numpy as np

from semiology.errors import ConfigError
from semiology.evaluate.folds import FoldOutput, HeldOut, collect_results, fold_workers, inner_seed, make_folds, model_seed, study_result
from semiology.evaluate.results import StudyResult
from semiology.evaluate.runner import run_jobs
from semiology.evaluate.splits import Fold, inner_folds
from semiology.experiment import ExperimentConfig, ModelConfig, TaskConfig
from semiology.models.factory import ModelSpec, model_spec
from semiology.models.fusion import choose_fusion_weights, fuse
from semiology.preprocess.model_inputs import StreamWindows, build_stream_windows, cap_per_record, normalisation_notes, rows_of_records, sign_windows, tcn_inputs
from semiology.records import SeizureRecord
from semiology.streams import get_stream
from semiology.train.classifier import InnerFold, WindowClassifier, keypoint_classifier
from semiology.train.final import fusion_selection
from semiology.train.search import fit_searched


@dataclass
class StudyContext:
    """What every job of a keypoint study reads: the config, the records and each (task, stream)'s windows.

    `windows` are fitted on; `test_windows` are those every model is validated on (epoch,
    threshold, fusion weights: inner-validation subjects) and scored on (held-out subjects).
    They are the same except for a task cut during a sign (`TaskConfig.during`): its models fit
    on the windows inside the sign's spans and are validated and scored on every window of the
    segment, as screening reads a new recording; a held-out seizure's spans are never read.
    """

    config: ExperimentConfig
    records: list[SeizureRecord]
    windows: dict[tuple[str, str, bool], StreamWindows]
    test_windows: dict[tuple[str, str, bool], StreamWindows]


@dataclass(frozen=True)
class FoldJob:
    """One unit of parallel work: the models of one task inside one outer fold."""

    fold: Fold
    task_index: int


def window_key(model: ModelConfig, config: ExperimentConfig) -> tuple[str, str, bool]:
    """Which windows a model reads: its task, its stream, and whether its keypoints are bones.

    A fusion reads its first member's windows (all members predict the same windows).
    """
    if model.kind == "fusion":
        return window_key(next(m for m in config.models if m.task == model.task and m.name == model.members[0]), config)
    return model.task, model.stream, model.reads_bones(config)


def window_model_spec(model: ModelConfig, config: ExperimentConfig, stream: StreamWindows, records: Sequence[SeizureRecord], num_class: int) -> ModelSpec:
    """The network spec of a window model: an AGCN over the stream's layout, or a TCN over its appearance (and keypoint) features."""
    layout = get_stream(model.stream).keypoints_of(records[int(stream.record_index[0])]).layout
    in_features = None
    if model.kind == "tcn":
        appearance = tcn_inputs(None if stream.features is None else stream.features[:1], stream.keypoints[:1], model.keypoints)
        in_features = None if appearance is None else int(appearance.shape[-1])
    return model_spec(model, config, num_class, layout=layout, in_channels=int(stream.keypoints.shape[1]), in_features=in_features)


def run_window_job(context: StudyContext, job: FoldJob) -> FoldOutput:
    """Fit and predict the models of one task for one outer fold (a worker process runs many)."""
    config, records = context.config, context.records
    fold, task_index = job.fold, job.task_index
    task = config.tasks[task_index]
    output = FoldOutput(fold=fold.index)
    subject_ids = np.array([r.subject_id for r in records])
    train_records = np.intersect1d(fold.train_idx, _windowed_records(context.windows, context.config, task))
    test_records = np.intersect1d(fold.test_idx, _windowed_records(context.test_windows, context.config, task))
    if len(test_records) == 0:
        return output
    task_labels = np.array([task.classes.index(records[i].labels[task.name]) for i in train_records])
    inner = [
        (train_records[inner_train], train_records[inner_val])
        for inner_train, inner_val in inner_folds(subject_ids[train_records], task_labels, config.train.val_fraction, seed=inner_seed(config.seed, fold.index, task_index))
    ]
    _run_task(context, fold, task, task_index, inner, test_records, output)
    return output


def _windowed_records(windows: dict[tuple[str, str, bool], StreamWindows], config: ExperimentConfig, task: TaskConfig) -> np.ndarray:
    """The task's records that have `windows` in at least one stream its models read (none for a task without window models).

    A labelled record left out of every stream's windows (nobody in it, or no window inside the
    spans of the task's `during` sign) must not take a place in the inner splits either: a
    validation part made of such records would hold no window to choose an epoch on. A record
    missing from one stream only stays, as before: each model fits and scores the windows it has.
    """
    keys = {window_key(model, config) for model in config.models if model.task == task.name}
    windowed = set().union(*(set(windows[key].record_index.tolist()) for key in keys))
    return np.array(sorted(windowed), dtype=int)


def plan_jobs(config: ExperimentConfig, windows: dict[tuple[str, str, bool], StreamWindows], folds: Sequence[Fold]) -> list[FoldJob]:
    """Every (fold, task) job, the costliest tasks first so that two workers finish together.

    Longest-first ordering of many small jobs keeps both cores busy to the end; one job per
    fold would leave a worker idle for most of the last fold when the fold count is odd. The
    cost of a task is estimated from its models: an AGCN costs in proportion to its joints,
    a TCN little. Results do not depend on the order: every seed is derived from the fold,
    task and model indices.
    """

    def cost(task_index: int) -> float:
        task = config.tasks[task_index]
        return sum(
            windows[window_key(model, config)].keypoints.shape[3] if model.kind in ("agcn", "agcn_kd") else 1.0
            for model in config.models
            if model.task == task.name
        )

    order = sorted(range(len(config.tasks)), key=lambda index: -cost(index))
    return [FoldJob(fold, task_index) for task_index in order for fold in folds]


@dataclass
class _Fitted:
    """A model fitted in this fold: its classifier, inner-validation probabilities, labels and rows, and its test rows and probabilities."""

    classifier: WindowClassifier | None
    val_prob: np.ndarray
    val_labels: np.ndarray
    val_rows: np.ndarray
    test_prob: np.ndarray
    test_rows: np.ndarray


def _run_task(context: StudyContext, fold: Fold, task: TaskConfig, task_index: int, inner: list[tuple[np.ndarray, np.ndarray]], test_records: np.ndarray, output: FoldOutput) -> None:
    """Fit the models of one task inside one fold, in config order (teachers before students).

    `inner` holds the inner folds of the training records, the preferred first: a model fits on
    the first only, or with `train.cross_fit` on each.
    """
    config, records = context.config, context.records
    fitted: dict[str, _Fitted] = {}
    task_models = [m for m in config.models if m.task == task.name]
    for model_index, model in enumerate(task_models):
        key = f"{task.name}/{model.name}"
        if model.kind == "fusion":
            members = [fitted[name] for name in model.members]
            first = members[0]
            for name, other in zip(model.members[1:], members[1:]):
                if not np.array_equal(first.test_rows, other.test_rows) or not np.array_equal(first.val_rows, other.val_rows):
                    raise ConfigError(f"models.{model.name}.members: {model.members[0]} and {name} do not predict the same windows")
            weights, chosen, _ = choose_fusion_weights([member.val_prob for member in members], first.val_labels)
            threshold = float("nan") if chosen is None else float(chosen)
            output.selected[key] = {**fusion_selection(weights), "threshold": threshold}
            test_prob = fuse([member.test_prob for member in members], weights)
            val_prob = fuse([member.val_prob for member in members], weights)
            fitted[model.name] = _Fitted(None, val_prob, first.val_labels, first.val_rows, test_prob, first.test_rows)
            output.predictions[key] = _held_out(context, task, model, first.test_rows, test_prob, threshold)
            continue
        stream, scored = context.windows[window_key(model, config)], context.test_windows[window_key(model, config)]
        inputs = _model_inputs(model, stream)
        scored_inputs = inputs if scored is stream else _model_inputs(model, scored)
        if inputs is None:
            raise ConfigError(f"model {model.name!r}: stream {model.stream!r} has no appearance features")
        teacher = next((m for m in task_models if m.name == model.teacher), None) if model.kind == "agcn_kd" else None
        teacher_fit = fitted[teacher.name].classifier if teacher is not None else None
        settings = model.train.apply(config.train)
        spec = window_model_spec(model, config, stream, records, len(task.classes))
        make_classifier = partial(
            keypoint_classifier, spec, seed=model_seed(config.seed, task_index, model_index, fold.index), distillation=config.distillation,
            kind=model.kind, classes=task.classes,
        )
        used = inner if settings.cross_fit else inner[:1]
        cap = config.windows.max_train_windows_per_seizure
        folds, val_rows = [], []
        for index, (inner_train, inner_val) in enumerate(used):
            train_rows = cap_per_record(stream.record_index, inner_train, cap)
            rows = cap_per_record(scored.record_index, inner_val, cap)
            teacher_logits = None
            if teacher_fit is not None:
                teacher_logits = teacher_fit.inner_logits(index, tcn_inputs(stream.features[train_rows], stream.keypoints[train_rows], teacher.keypoints))
            folds.append(InnerFold(inputs[train_rows], stream.labels[train_rows], scored_inputs[rows], scored.labels[rows], teacher_logits))
            val_rows.append(rows)
        search = fit_searched(model.search.points(), settings, make_classifier, folds)
        classifier = search.classifier
        all_val_rows = np.concatenate(val_rows)
        test_rows = rows_of_records(scored.record_index, test_records)
        test_prob = classifier.predict_proba(scored_inputs[test_rows])
        fitted[model.name] = _Fitted(classifier, classifier.val_prob_, scored.labels[all_val_rows], all_val_rows, test_prob, test_rows)
        output.selected[key] = {"epoch": float(classifier.epoch_), "threshold": classifier.threshold_, **search.selected()}
        output.curves[key] = classifier.curves_
        output.predictions[key] = _held_out(context, task, model, test_rows, test_prob, classifier.threshold_)


def _model_inputs(model: ModelConfig, windows: StreamWindows) -> np.ndarray | None:
    """What `model` reads of `windows`: appearance (and keypoint) features for a TCN, keypoints otherwise."""
    return tcn_inputs(windows.features, windows.keypoints, model.keypoints) if model.kind == "tcn" else windows.keypoints


def _held_out(context: StudyContext, task: TaskConfig, model: ModelConfig, rows: np.ndarray, prob: np.ndarray, threshold: float) -> HeldOut:
    stream = context.test_windows[window_key(model, context.config)]
    owners = stream.record_index[rows]
    return HeldOut(
        record=owners,
        event=np.array([context.records[i].seizure_id for i in owners]),
        start_s=stream.start_s[rows],
        y_true=stream.labels[rows],
        prob=prob,
        threshold=threshold,
    )


def study_windows(records: Sequence[SeizureRecord], config: ExperimentConfig) -> tuple[dict[tuple[str, str, bool], StreamWindows], dict[tuple[str, str, bool], StreamWindows]]:
    """The windows every (task, stream, bones) is fitted on, and those its held-out seizures are scored on (see `StudyContext`)."""
    windows, test_windows = {}, {}
    tasks = {task.name: task for task in config.tasks}
    for key in sorted({window_key(model, config) for model in config.models}):
        task_name, stream, bones = key
        task = tasks[task_name]
        test_windows[key] = build_stream_windows(records, replace(task, during=None), stream, config, bones)
        windows[key] = sign_windows(test_windows[key], records, task, config) if task.during else test_windows[key]
    return windows, test_windows


def run_study(config: ExperimentConfig, records: list[SeizureRecord], synthetic: bool, progress: bool = True) -> StudyResult:
    """Evaluate every model of `config` on `records` (already at the target frame rate), on `train.device`."""
    windows, test_windows = study_windows(records, config)
    folds = make_folds(records, config)
    jobs = plan_jobs(config, windows, folds)
    context = StudyContext(config=config, records=records, windows=windows, test_windows=test_windows)
    outputs = run_jobs(run_window_job, context, jobs, fold_workers(config), desc=f"{config.name}: {len(folds)} folds x {len(config.tasks)} tasks", progress=progress)
    result = study_result(config, records, synthetic, folds, collect_results(config, records, outputs, config.models))
    result.normalisation_notes = normalisation_notes(records, [stream for _, stream, _ in windows], config)
    return result
