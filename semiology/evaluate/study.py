"""Run an experiment: records → windows → per-fold streams → predictions → study result.

Leakage-free by construction: the outer split groups seizures by subject; inside each fold
an inner split of the *training* subjects chooses the epoch, the decision threshold, the
distillation teacher's data and the fusion weight. The held-out subject is only predicted.
"""

from __future__ import annotations

import hashlib
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch
from tqdm import tqdm

from semiology.config import config_hash, config_to_dict
from semiology.errors import ConfigError
from semiology.evaluate.results import ModelResult, PredictionTable, StudyResult
from semiology.evaluate.splits import Fold, check_no_subject_overlap, grouped_kfold, inner_folds, leaky_seizure_folds, loso_folds
from semiology.experiment import ExperimentConfig, ModelConfig, TaskConfig, TrainOverrides
from semiology.records import SeizureRecord
from semiology.layouts import get_layout
from semiology.models.agcn import AGCN
from semiology.models.appearance import APPEARANCE_STREAM
from semiology.models.ensemble import SeedEnsemble
from semiology.models.fusion import choose_fusion_weight, choose_threshold, fuse
from semiology.models.tcn import TCN
from semiology.preprocess.view import align_to_body_frame
from semiology.preprocess.windows import baseline_pose, feature_window_tensor, keypoint_window_tensor, pair_scale, slice_windows
from semiology.train.augment import keypoint_augment
from semiology.train.ensemble import fit_ensemble, member_epochs
from semiology.train.fit import FitResult, predict_logits, predict_proba

STREAM_KEYPOINTS = {"body": "body_2d", "body_3d": "body_3d", "face": "face_2d"}
"""The keypoints each stream reads. `body_3d` is the body in 3D (a depth camera's skeleton, or
2D keypoints lifted): movement towards the camera, invisible in the 2D projection, stays in it."""
STREAM_FEATURES = {"body": "body_features", "body_3d": "body_features", "face": "face_features"}
STREAM_SCALE_PAIR = {
    "upper_body_11": ("right_shoulder", "left_shoulder"),
    "face_23": ("right_eye_outer", "left_eye_outer"),
    "coco_17": ("right_shoulder", "left_shoulder"),
    "mediapipe_33": ("right_shoulder", "left_shoulder"),
    "ntu_25": ("right_shoulder", "left_shoulder"),
}


def check_experiment(config: ExperimentConfig, source: str) -> None:
    """Cross-field checks that a per-field type check cannot make; one ConfigError lists all."""
    problems = []
    task_names = [task.name for task in config.tasks]
    model_names = [model.name for model in config.models]
    if not config.tasks:
        problems.append("tasks: at least one task is needed")
    if not config.models:
        problems.append("models: at least one model is needed")
    for task in config.tasks:
        if len(task.classes) < 2:
            problems.append(f"tasks.{task.name}.classes: needs at least two classes")
    seen = set()
    by_name = {model.name: model for model in config.models}
    for model in config.models:
        where = f"models.{model.name}"
        if model.name in seen:
            problems.append(f"{where}: duplicate model name")
        seen.add(model.name)
        if model.task not in task_names:
            problems.append(f"{where}.task: unknown task {model.task!r} (tasks: {', '.join(task_names)})")
        if model.kind == "agcn_kd":
            teacher = by_name.get(model.teacher or "")
            if teacher is None or teacher.kind != "tcn" or teacher.task != model.task:
                problems.append(f"{where}.teacher: must name a tcn model of task {model.task!r} (got {model.teacher!r})")
            elif model_names.index(teacher.name) > model_names.index(model.name):
                problems.append(f"{where}.teacher: the teacher {teacher.name!r} must be listed before its student")
            elif APPEARANCE_STREAM[teacher.stream] != APPEARANCE_STREAM[model.stream]:
                problems.append(
                    f"{where}.teacher: the teacher {teacher.name!r} reads {teacher.stream} crops, the student the "
                    f"{APPEARANCE_STREAM[model.stream]} crops' windows; distil within one stream"
                )
            elif _cross_fits(model, config) and not _cross_fits(teacher, config):
                problems.append(
                    f"{where}.train.cross_fit: a cross-fitted student needs a cross-fitted teacher ({teacher.name!r} is not): "
                    "on each inner fold it learns from the teacher fitted on that fold"
                )
        if model.keypoints and model.kind != "tcn":
            problems.append(f"{where}.keypoints: only a tcn model reads keypoints beside its appearance features")
        if model.ensemble < 1 or (model.ensemble > 1 and model.kind not in ("agcn", "tcn", "agcn_kd")):
            problems.append(f"{where}.ensemble: at least 1, and above 1 only for an agcn, tcn or agcn_kd model (got {model.ensemble})")
        if model.kind == "fusion":
            if model.train != TrainOverrides():
                problems.append(f"{where}.train: a fusion trains nothing (its weight is chosen on the inner split)")
            if len(model.members) != 2 or any(m not in by_name for m in model.members):
                problems.append(f"{where}.members: must name two models listed before it (got {list(model.members)})")
            elif any(model_names.index(m) > model_names.index(model.name) for m in model.members):
                problems.append(f"{where}.members: fused models must be listed before the fusion")
            elif len({_cross_fits(by_name[m], config) for m in model.members}) > 1:
                problems.append(
                    f"{where}.members: both fused models must have the same train.cross_fit (the weight is chosen on "
                    "the validation windows they share)"
                )
    crop_streams = sorted(set(APPEARANCE_STREAM.values()))
    for stream in config.encoder.streams:
        if stream not in crop_streams:
            problems.append(f"encoder.streams.{stream}: unknown appearance stream (known: {', '.join(crop_streams)})")
    from semiology.evaluate.action import check_action  # the action runner imports this module

    problems += check_action(config)
    if config.windows.window_s * config.windows.target_fps < 4:
        problems.append("windows: window_s * target_fps must give at least 4 frames")
    if problems:
        raise ConfigError(f"{source}: " + f"\n{source}: ".join(problems))


def _cross_fits(model: ModelConfig, config: ExperimentConfig) -> bool:
    """Whether `model` fits once per inner fold (its own `train.cross_fit`, else the study's)."""
    return model.train.apply(config.train).cross_fit


def data_hash(records: Sequence[SeizureRecord]) -> str:
    """A fingerprint of the data a study saw: ids, labels, timing and the keypoint arrays."""
    digest = hashlib.sha256()
    for record in sorted(records, key=lambda r: r.seizure_id):
        digest.update(f"{record.seizure_id}|{record.subject_id}|{sorted(record.labels.items())}|{record.onset_s}|{record.offset_s}".encode())
        for stream in (record.body_2d, record.face_2d, record.body_3d):
            if stream is not None:
                digest.update(stream.coords.tobytes())
                digest.update(stream.confidence.tobytes())
    return digest.hexdigest()


@dataclass
class StreamWindows:
    """The windows of one task and stream across all seizures, as model inputs."""

    keypoints: np.ndarray  # [N, C, T, V, 1] for the AGCN
    features: np.ndarray | None  # [N, T, D] for the TCN, when appearance features exist
    labels: np.ndarray  # [N] class index
    record_index: np.ndarray  # [N] index into the record list
    start_s: np.ndarray  # [N]


def record_stream_windows(record: SeizureRecord, stream: str, config: ExperimentConfig, first: int, last: int) -> tuple[list[np.ndarray], list[np.ndarray], list[float]]:
    """The windows of one record between frames `first` and `last` for one stream (body or face).

    Returns the AGCN inputs `[C, T, V, 1]`, the appearance inputs `[T, D]` (empty when the record
    has no appearance features) and the window starts in seconds. The record must already be at
    `config.windows.target_fps`; training, screening and attributions all cut windows here.
    """
    settings = config.windows
    fps = settings.target_fps
    window_frames = int(round(settings.window_s * fps))
    stride_frames = max(1, int(round(settings.stride_s * fps)))
    min_leftover = max(1, int(round(settings.min_leftover_s * fps)))
    stream_keypoints = getattr(record, STREAM_KEYPOINTS[stream])
    if stream_keypoints is None:
        raise ConfigError(f"seizure {record.seizure_id}: no {stream} keypoints")
    stream_features = getattr(record, STREAM_FEATURES[stream])
    last = min(last, record.num_frames)
    pre_ictal = np.arange(0, min(int(round(record.onset_s * fps)), record.num_frames))
    if settings.view == "body":
        stream_keypoints = align_to_body_frame(stream_keypoints, pre_ictal)
    scale_pair = STREAM_SCALE_PAIR[stream_keypoints.layout]
    scale = pair_scale(stream_keypoints.coords, stream_keypoints.layout, scale_pair)
    pose_reference, feature_reference = None, None
    if settings.baseline == "pre_ictal":
        pose_reference = baseline_pose(stream_keypoints, pre_ictal, scale_pair, scale)
        if stream_features is not None and len(pre_ictal):
            feature_reference = stream_features[pre_ictal].mean(axis=0)
    keypoints, features, starts = [], [], []
    for window in slice_windows(first, last, window_frames, stride_frames, min_leftover):
        frames = np.arange(window.start, window.stop)
        keypoints.append(keypoint_window_tensor(stream_keypoints, frames, window_frames, scale_pair, config.agcn.bones, pose_reference, scale))
        if stream_features is not None:
            features.append(feature_window_tensor(stream_features, frames, window_frames, feature_reference))
        starts.append(window.start / fps)
    return keypoints, features, starts


def keypoints_per_frame(keypoints: np.ndarray) -> np.ndarray:
    """AGCN input windows `[N, C, T, V, 1]` as per-frame TCN features `[N, T, V * C]` (joint-major)."""
    windows, channels, frames, joints, _ = keypoints.shape
    return np.ascontiguousarray(keypoints[..., 0].transpose(0, 2, 3, 1).reshape(windows, frames, joints * channels))


def tcn_inputs(features: np.ndarray | None, keypoints: np.ndarray, with_keypoints: bool) -> np.ndarray | None:
    """What a TCN reads: appearance features `[N, T, D]`, followed per frame by the keypoint windows when `with_keypoints`."""
    if features is None or not with_keypoints:
        return features
    return np.concatenate([features, keypoints_per_frame(keypoints)], axis=2)


def build_stream_windows(records: Sequence[SeizureRecord], task: TaskConfig, stream: str, config: ExperimentConfig) -> StreamWindows:
    """Cut every labelled seizure of `task` into windows for one stream (body or face).

    Records must already be at `config.windows.target_fps` (see `resample_record`). Both the
    keypoint and the appearance inputs come from the same windows, so a teacher and a student
    see the same moments.
    """
    fps = config.windows.target_fps
    keypoints, features, labels, owners, starts = [], [], [], [], []
    for index, record in enumerate(records):
        label = record.labels.get(task.name)
        if label not in task.classes:
            continue
        if getattr(record, STREAM_KEYPOINTS[stream]) is None:
            raise ConfigError(f"seizure {record.seizure_id}: no {stream} keypoints for task {task.name!r}")
        if config.windows.segment == "ictal":
            first, last = int(round(record.onset_s * fps)), int(round(record.offset_s * fps))
        else:
            first, last = 0, record.num_frames
        own_keypoints, own_features, own_starts = record_stream_windows(record, stream, config, first, last)
        keypoints += own_keypoints
        features += own_features
        starts += own_starts
        labels += [task.classes.index(label)] * len(own_starts)
        owners += [index] * len(own_starts)
    if not labels:
        raise ConfigError(f"task {task.name!r}: no seizure carries one of the classes {list(task.classes)}")
    return StreamWindows(
        keypoints=np.stack(keypoints),
        features=np.stack(features) if len(features) == len(labels) else None,
        labels=np.asarray(labels, dtype=np.int64),
        record_index=np.asarray(owners, dtype=np.int64),
        start_s=np.asarray(starts, dtype=np.float64),
    )


def cap_per_record(window_records: np.ndarray, selected_records: np.ndarray, max_per_record: int) -> np.ndarray:
    """Window indices of `selected_records`, at most `max_per_record` evenly spaced per record.

    Capping keeps long seizures from dominating training and keeps the demo fast; the
    held-out subject is never capped.
    """
    chosen = []
    for record in selected_records:
        own = np.flatnonzero(window_records == record)
        if len(own) > max_per_record:
            own = own[np.unique(np.linspace(0, len(own) - 1, max_per_record).round().astype(int))]
        chosen.append(own)
    return np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)


def _records_of(window_records: np.ndarray, selected_records: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.isin(window_records, selected_records))


def _build_model(model: ModelConfig, config: ExperimentConfig, windows: StreamWindows, num_class: int, layout_name: str):
    if model.kind == "tcn":
        in_features = tcn_inputs(windows.features[:1], windows.keypoints[:1], model.keypoints).shape[-1]
        return lambda: TCN(in_features, num_class, channels=config.tcn.channels, kernel_size=config.tcn.kernel_size, dropout=config.tcn.dropout)
    adjacency = get_layout(layout_name).adjacency()
    in_channels = windows.keypoints.shape[1]
    return lambda: AGCN(
        num_class,
        adjacency,
        num_person=1,
        in_channels=in_channels,
        channels=config.agcn.channels,
        strides=config.agcn.strides,
        temporal_kernel=config.agcn.temporal_kernel,
        dropout=config.agcn.dropout,
    )


@dataclass
class FoldOutput:
    """What one (fold, task) job hands back: test predictions, choices made on the inner split, curves."""

    fold: int
    predictions: dict[str, dict[str, np.ndarray]]
    selected: dict[str, dict[str, float]]
    curves: dict[str, dict[str, list[float]]]


_STATE: dict = {}


@dataclass(frozen=True)
class FoldJob:
    """One unit of parallel work: the models of one task inside one outer fold."""

    fold: Fold
    task_index: int


def run_job(job: FoldJob) -> FoldOutput:
    """Fit and predict the models of one task for one outer fold (a worker process runs many)."""
    torch.set_num_threads(1)
    config: ExperimentConfig = _STATE["config"]
    records: list[SeizureRecord] = _STATE["records"]
    windows: dict[tuple[str, str], StreamWindows] = _STATE["windows"]
    fold, task_index = job.fold, job.task_index
    task = config.tasks[task_index]
    output = FoldOutput(fold=fold.index, predictions={}, selected={}, curves={})
    subject_ids = np.array([r.subject_id for r in records])
    labelled = np.array([i for i, r in enumerate(records) if r.labels.get(task.name) in task.classes])
    train_records = np.intersect1d(fold.train_idx, labelled)
    test_records = np.intersect1d(fold.test_idx, labelled)
    if len(test_records) == 0:
        return output
    task_labels = np.array([task.classes.index(records[i].labels[task.name]) for i in train_records])
    inner = [
        (train_records[inner_train], train_records[inner_val])
        for inner_train, inner_val in inner_folds(
            subject_ids[train_records], task_labels, config.train.val_fraction, seed=config.seed + 7919 * fold.index + task_index
        )
    ]
    _run_task(fold, task, task_index, inner, test_records, config, records, windows, output)
    return output


def plan_jobs(config: ExperimentConfig, windows: dict[tuple[str, str], StreamWindows], folds: Sequence[Fold]) -> list[FoldJob]:
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
            windows[(task.name, model.stream)].keypoints.shape[3] if model.kind in ("agcn", "agcn_kd") else 1.0
            for model in config.models
            if model.task == task.name
        )

    order = sorted(range(len(config.tasks)), key=lambda index: -cost(index))
    return [FoldJob(fold, task_index) for task_index in order for fold in folds]


def _run_task(fold, task, task_index, inner, test_records, config, records, windows, output) -> None:
    """Fit the models of one task inside one fold, in config order (teachers before students).

    `inner` holds the inner folds of the training records, the preferred first: a model fits on
    the first only, or with `train.cross_fit` on each (see `_fit_inner`).
    """
    fitted: dict[str, list[FitResult]] = {}
    val: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    test: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    task_models = [m for m in config.models if m.task == task.name]
    for model_index, model in enumerate(task_models):
        key = f"{task.name}/{model.name}"
        if model.kind == "fusion":
            first, second = model.members
            if not np.array_equal(test[first][1], test[second][1]) or not np.array_equal(val[first][2], val[second][2]):
                raise ConfigError(f"models.{model.name}.members: {first} and {second} do not predict the same windows")
            weight, threshold, _ = choose_fusion_weight(val[first][0], val[second][0], val[first][1])
            test_prob = fuse([test[first][0], test[second][0]], [weight, 1 - weight])
            output.selected[key] = {"fusion_weight": float(weight), "threshold": float(threshold)}
            output.predictions[key] = {"rows": test[first][1], "prob": test_prob, "threshold": float(threshold)}
            continue
        stream = windows[(task.name, model.stream)]
        test_rows = _records_of(stream.record_index, test_records)
        inputs = tcn_inputs(stream.features, stream.keypoints, model.keypoints) if model.kind == "tcn" else stream.keypoints
        if inputs is None:
            raise ConfigError(f"model {model.name!r}: stream {model.stream!r} has no appearance features")
        teacher = next((m for m in task_models if m.name == model.teacher), None) if model.kind == "agcn_kd" else None
        seed = config.seed * 1_000_003 + fold.index * 1009 + task_index * 101 + model_index
        fits, val_rows = _fit_inner(model, config, records, stream, inputs, inner, seed, teacher, fitted.get(model.teacher or ""), len(task.classes))
        fitted[model.name] = fits
        network = fits[0].model if len(fits) == 1 else SeedEnsemble([fit.model for fit in fits]).eval()
        val_prob = np.concatenate([fit.val_prob for fit in fits])
        val[model.name] = (val_prob, stream.labels[val_rows], val_rows)
        test[model.name] = (predict_proba(network, inputs[test_rows]), test_rows)
        threshold = float("nan")
        if len(task.classes) == 2:
            threshold, _ = choose_threshold(val_prob[:, 1], stream.labels[val_rows])
        output.selected[key] = {"epoch": float(member_epochs([fit.best_epoch for fit in fits])), "threshold": float(threshold)}
        output.curves[key] = fits[0].curves
        output.predictions[key] = {"rows": test_rows, "prob": test[model.name][0], "threshold": float(threshold)}


INNER_FOLD_SEED_STEP = 15_485_863
"""Added to a model's seed for each inner fold after the first, so cross-fitted members differ."""


def _fit_inner(model, config, records, stream, inputs, inner, seed, teacher, teacher_fits, num_class) -> tuple[list[FitResult], np.ndarray]:
    """Fit one model on the first inner fold, or with `cross_fit` on every inner fold.

    Returns the fits, one per inner fold used, and the window rows their validation
    probabilities stand for (concatenated in inner-fold order). A distillation student on inner
    fold j learns from its teacher's fit on the same fold, so the teacher never saw the
    student's validation subjects.
    """
    settings = model.train.apply(config.train)
    used = inner if settings.cross_fit else inner[:1]
    cap = config.windows.max_train_windows_per_seizure
    layout_name = getattr(records[int(stream.record_index[0])], STREAM_KEYPOINTS[model.stream]).layout
    fits, val_rows = [], []
    for index, (inner_train, inner_val) in enumerate(used):
        train_rows = cap_per_record(stream.record_index, inner_train, cap)
        rows = cap_per_record(stream.record_index, inner_val, cap)
        teacher_logits = None
        if teacher is not None:
            teacher_inputs = tcn_inputs(stream.features[train_rows], stream.keypoints[train_rows], teacher.keypoints)
            teacher_logits = predict_logits(teacher_fits[index].model, teacher_inputs)
        fits.append(
            fit_ensemble(
                _build_model(model, config, stream, num_class, layout_name),
                inputs[train_rows],
                stream.labels[train_rows],
                inputs[rows],
                stream.labels[rows],
                num_class,
                settings,
                seed=seed + INNER_FOLD_SEED_STEP * index,
                members=model.ensemble,
                teacher_logits=teacher_logits,
                distillation=config.distillation,
                augment=keypoint_augment(settings.mirror, model.kind, layout_name),
            )
        )
        val_rows.append(rows)
    return fits, np.concatenate(val_rows)


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


def collect_results(config: ExperimentConfig, records: Sequence[SeizureRecord], windows, folds: list[Fold], outputs: list[FoldOutput]) -> list[ModelResult]:
    """Stitch the per-fold outputs into one window-level prediction table per model."""
    results = []
    for model in config.models:
        key = f"{model.task}/{model.name}"
        task = next(t for t in config.tasks if t.name == model.task)
        stream = windows[(task.name, model.stream)]
        parts = [(out.fold, out.predictions[key]) for out in sorted(outputs, key=lambda o: o.fold) if key in out.predictions]
        rows = np.concatenate([part["rows"] for _, part in parts])
        owners = stream.record_index[rows]
        table = PredictionTable(
            seizure_id=np.array([records[i].seizure_id for i in owners]),
            subject_id=np.array([records[i].subject_id for i in owners]),
            fold=np.concatenate([np.full(len(part["rows"]), fold) for fold, part in parts]),
            window_start_s=stream.start_s[rows],
            y_true=stream.labels[rows],
            prob=np.concatenate([part["prob"] for _, part in parts]).astype(np.float64),
            threshold=np.concatenate([np.full(len(part["rows"]), part["threshold"]) for _, part in parts]),
            class_names=tuple(task.classes),
        )
        results.append(model_result(task, model, key, table, outputs))
    return results


def model_result(task: TaskConfig, model: ModelConfig, key: str, table: PredictionTable, outputs: Sequence) -> ModelResult:
    """One model's pooled held-out predictions with the curves and choices of every fold that ran it."""
    return ModelResult(
        task=task.name,
        model=model.name,
        class_names=tuple(task.classes),
        predictions=table,
        learning_curves={out.fold: out.curves[key] for out in outputs if key in out.curves},
        selected={out.fold: out.selected[key] for out in outputs if key in out.selected},
    )


def run_study(config: ExperimentConfig, records: list[SeizureRecord], synthetic: bool, progress: bool = True) -> StudyResult:
    """Evaluate every model of `config` on `records` (already at the target frame rate)."""
    windows = {}
    for task in config.tasks:
        for stream in sorted({m.stream for m in config.models if m.task == task.name}):
            windows[(task.name, stream)] = build_stream_windows(records, task, stream, config)
    folds = make_folds(records, config)
    _STATE.update(config=config, records=records, windows=windows)
    jobs = plan_jobs(config, windows, folds)
    workers = max(1, min(config.evaluation.workers, len(jobs)))
    bar = tqdm(total=len(jobs), desc=f"{config.name}: {len(folds)} folds x {len(config.tasks)} tasks", unit="job", disable=not progress)
    outputs = []
    if workers == 1:
        for job in jobs:
            outputs.append(run_job(job))
            bar.update()
    else:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            for output in pool.map(run_job, jobs):
                outputs.append(output)
                bar.update()
    bar.close()
    _STATE.clear()
    return study_result(config, records, synthetic, folds, collect_results(config, records, windows, folds, outputs))


def study_result(config: ExperimentConfig, records: Sequence[SeizureRecord], synthetic: bool, folds: list[Fold], models: list[ModelResult]) -> StudyResult:
    """The study's evaluated models with its provenance: config and data hashes, folds and their held-out subjects."""
    subject_ids = np.array([r.subject_id for r in records])
    return StudyResult(
        name=config.name,
        synthetic=synthetic,
        config=config_to_dict(config),
        config_hash=config_hash(config),
        data_hash=data_hash(records),
        folds=folds,
        fold_subjects={fold.index: tuple(sorted(set(subject_ids[fold.test_idx]))) for fold in folds},
        split=config.evaluation.split,
        models=models,
    )
