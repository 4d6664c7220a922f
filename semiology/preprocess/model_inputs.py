"""A study's model inputs: each stream's windows over all seizures of a task, as arrays.

Training (the folds and the final refit), screening and attributions all cut a record into
windows here, so a model sees the same normalisation whichever path reaches it. What a stream
reads comes from the stream table (`semiology.streams`); how windows are cut and normalised
from the experiment's `windows:` section and `agcn.bones`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from semiology.errors import ConfigError, DataWarning
from semiology.experiment import ExperimentConfig, TaskConfig
from semiology.layouts import get_layout
from semiology.preprocess.view import align_to_body_frame
from semiology.preprocess.windows import Reference, baseline_pose, baseline_reference, causal_window, feature_window_tensor, keypoint_window_tensor, pair_scale, slice_windows
from semiology.records import SIGN_SPANS, SeizureRecord, merged_spans
from semiology.streams import get_stream


@dataclass
class StreamWindows:
    """The windows of one task and stream across all seizures, as model inputs."""

    keypoints: np.ndarray  # [N, C, T, V, 1] for the AGCN
    features: np.ndarray | None  # [N, T, D] for the TCN, when appearance features exist
    labels: np.ndarray  # [N] class index
    record_index: np.ndarray  # [N] index into the record list
    start_s: np.ndarray  # [N]


def record_stream_windows(
    record: SeizureRecord, stream: str, config: ExperimentConfig, first: int, last: int, bones: bool | None = None
) -> tuple[list[np.ndarray], list[np.ndarray], list[float]]:
    """The windows of one record between frames `first` and `last` for one stream (body or face).

    Returns the AGCN inputs `[C, T, V, 1]`, the appearance inputs `[T, D]` (empty when the record
    has no appearance features) and the window starts in seconds. The record must already be at
    `config.windows.target_fps`; training, screening and attributions all cut windows here.
    `bones` (default the study's `agcn.bones`) makes the keypoint windows bone vectors.
    """
    settings = config.windows
    fps = settings.target_fps
    window_frames = int(round(settings.window_s * fps))
    stride_frames = max(1, int(round(settings.stride_s * fps)))
    min_leftover = max(1, int(round(settings.min_leftover_s * fps)))
    spec = get_stream(stream)
    stream_keypoints = spec.keypoints_of(record)
    if stream_keypoints is None:
        raise ConfigError(f"seizure {record.seizure_id}: no {stream} keypoints")
    stream_features = spec.features_of(record)
    last = min(last, record.num_frames)
    bones = config.agcn.bones if bones is None else bones
    scale_pair = get_layout(stream_keypoints.layout).scale_pair
    if scale_pair is None:
        raise ConfigError(f"seizure {record.seizure_id}: layout {stream_keypoints.layout!r} of stream {stream!r} has no scale_pair to normalise by")
    keypoints, features, starts = [], [], []
    if settings.baseline == "causal":
        history_frames = int(round(settings.baseline_history_s * fps))
        for window in slice_windows(first, last, window_frames, stride_frames, min_leftover):
            made = causal_window(stream_keypoints, stream_features, window, window_frames, scale_pair, bones, history_frames, settings.view == "body")
            keypoints.append(made.keypoints)
            if made.features is not None:
                features.append(made.features)
            starts.append(window.start / fps)
        return keypoints, features, starts
    reference = record_reference(record, stream, config)
    if reference.note is not None:
        warnings.warn(f"seizure {record.seizure_id}, {stream} stream: {reference.note}", DataWarning, stacklevel=2)
    if settings.view == "body":
        stream_keypoints = align_to_body_frame(stream_keypoints, reference.frames)
    scale = pair_scale(stream_keypoints.coords, stream_keypoints.layout, scale_pair)
    pose_reference, feature_reference = None, None
    if settings.baseline != "none":
        pose_reference = baseline_pose(stream_keypoints, reference.frames, scale_pair, scale)
        if stream_features is not None and len(reference.frames):
            feature_reference = stream_features[reference.frames].mean(axis=0)
    for window in slice_windows(first, last, window_frames, stride_frames, min_leftover):
        frames = np.arange(window.start, window.stop)
        keypoints.append(keypoint_window_tensor(stream_keypoints, frames, window_frames, scale_pair, bones, pose_reference, scale))
        if stream_features is not None:
            features.append(feature_window_tensor(stream_features, frames, window_frames, feature_reference))
        starts.append(window.start / fps)
    return keypoints, features, starts


def record_reference(record: SeizureRecord, stream: str, config: ExperimentConfig) -> Reference:
    """The frames one record's baseline and body frame come from under the config's baseline policy, with its fallback note.

    The same rule for every record (`semiology.preprocess.windows.baseline_reference`); a
    `causal` policy has no whole-recording reference (each window has its own) and returns
    no frames and no note.
    """
    settings = config.windows
    keypoints = get_stream(stream).keypoints_of(record)
    scale_pair = None if keypoints is None else get_layout(keypoints.layout).scale_pair
    if settings.baseline == "causal" or keypoints is None or scale_pair is None or (settings.baseline == "none" and settings.view != "body"):
        return Reference(np.zeros(0, dtype=np.int64))
    onset_frame = int(round(record.onset_s * settings.target_fps)) if np.isfinite(record.onset_s) else 0
    block_frames = int(round(settings.window_s * settings.target_fps))
    return baseline_reference(keypoints, onset_frame, settings.baseline, settings.baseline_fallback, block_frames, scale_pair)


def normalisation_notes(records: Sequence[SeizureRecord], streams: Sequence[str], config: ExperimentConfig) -> list[dict[str, str]]:
    """Every record and stream whose reference frames fell back from the baseline policy, with the note why.

    The study report lists them so that a reader sees which recordings were normalised
    another way (the same notes a DataWarning gives while the windows are cut).
    """
    notes = []
    for record in records:
        for stream in sorted(set(streams)):
            note = record_reference(record, stream, config).note
            if note is not None:
                notes.append({"seizure": record.seizure_id, "stream": stream, "note": note})
    return notes


def keypoints_per_frame(keypoints: np.ndarray) -> np.ndarray:
    """AGCN input windows `[N, C, T, V, 1]` as per-frame TCN features `[N, T, V * C]` (joint-major)."""
    windows, channels, frames, joints, _ = keypoints.shape
    return np.ascontiguousarray(keypoints[..., 0].transpose(0, 2, 3, 1).reshape(windows, frames, joints * channels))


def tcn_inputs(features: np.ndarray | None, keypoints: np.ndarray, with_keypoints: bool) -> np.ndarray | None:
    """What a TCN reads: appearance features `[N, T, D]`, followed per frame by the keypoint windows when `with_keypoints`."""
    if features is None or not with_keypoints:
        return features
    return np.concatenate([features, keypoints_per_frame(keypoints)], axis=2)


def build_stream_windows(records: Sequence[SeizureRecord], task: TaskConfig, stream: str, config: ExperimentConfig, bones: bool | None = None) -> StreamWindows:
    """Cut every labelled seizure of `task` into windows for one stream (body or face).

    Records must already be at `config.windows.target_fps` (see `resample_record`). Both the
    keypoint and the appearance inputs come from the same windows, so a teacher and a student
    see the same moments. Records are checked at the door: keypoints of another layout than the
    others' stop the study (one ConfigError naming the seizures of each layout); a recording
    where nobody was found is left out with a `DataWarning` naming it. A task cut during a sign
    keeps the windows inside its spans (`sign_windows`).
    """
    if task.during:
        return sign_windows(build_stream_windows(records, replace(task, during=None), stream, config, bones), records, task, config)
    keypoints, features, labels, owners, starts = [], [], [], [], []
    labelled = [(index, record) for index, record in enumerate(records) if record.labels.get(task.name) in task.classes]
    layouts: dict[str, list[str]] = {}
    for _, record in labelled:
        stream_keypoints = get_stream(stream).keypoints_of(record)
        if stream_keypoints is None:
            raise ConfigError(f"seizure {record.seizure_id}: no {stream} keypoints for task {task.name!r}")
        layouts.setdefault(stream_keypoints.layout, []).append(record.seizure_id)
    if len(layouts) > 1:
        listed = "; ".join(f"{layout}: {', '.join(ids[:5])}{' ...' if len(ids) > 5 else ''} ({len(ids)})" for layout, ids in layouts.items())
        raise ConfigError(f"stream {stream!r} of task {task.name!r}: the records' keypoints come in {len(layouts)} layouts ({listed}); extract them all with one body_layout")
    for index, record in labelled:
        label = record.labels[task.name]
        stream_keypoints = get_stream(stream).keypoints_of(record)
        if not stream_keypoints.has_detections():
            warnings.warn(f"seizure {record.seizure_id}: nobody in the recording (every {stream} keypoint is missing): left out of task {task.name!r}", DataWarning, stacklevel=2)
            continue
        first, last = _segment(record, config)
        own_keypoints, own_features, own_starts = record_stream_windows(record, stream, config, first, last, bones)
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


def sign_windows(windows: StreamWindows, records: Sequence[SeizureRecord], task: TaskConfig, config: ExperimentConfig) -> StreamWindows:
    """Of a task's `windows` (cut over the whole segment), those lying at least half inside the spans of its `during` sign.

    A labelled seizure without a span of the sign stops the study (one ConfigError naming them);
    a seizure whose spans hold no such window is left out with a `DataWarning` naming it.
    """
    labelled = [record for record in records if record.labels.get(task.name) in task.classes]
    unmarked = [record.seizure_id for record in labelled if not record.sign_spans(task.during)]
    if unmarked:
        where = ("annotate the sign in the label store" if any(record.meta.get(SIGN_SPANS) for record in labelled)
                 else "no record carries sign spans: they come from the label store's sign labels (data.source: store) or a cached record's own")
        raise ConfigError(f"task {task.name!r} cuts its windows during sign {task.during!r}, but {len(unmarked)} of its seizures have no span of it: "
                          f"{', '.join(unmarked[:5])}{' ...' if len(unmarked) > 5 else ''} ({where}; or drop 'during' from the task)")
    fps = config.windows.target_fps
    window_s = int(round(config.windows.window_s * fps)) / fps  # the length record_stream_windows cuts, in whole frames
    keep = np.zeros(len(windows.labels), dtype=bool)
    for index in np.unique(windows.record_index):
        record, rows = records[index], np.flatnonzero(windows.record_index == index)
        stop_s = min(_segment(record, config)[1], record.num_frames) / fps
        inside = windows_inside_spans(windows.start_s[rows], window_s, stop_s, record.sign_spans(task.during))
        if not inside.any():
            warnings.warn(f"seizure {record.seizure_id}: no window lies at least half inside its spans of {task.during!r}: left out of task {task.name!r}", DataWarning, stacklevel=2)
        keep[rows[inside]] = True
    if not keep.any():
        raise ConfigError(f"task {task.name!r}: no window of any seizure lies at least half inside its spans of {task.during!r}")
    return StreamWindows(
        keypoints=windows.keypoints[keep],
        features=None if windows.features is None else windows.features[keep],
        labels=windows.labels[keep],
        record_index=windows.record_index[keep],
        start_s=windows.start_s[keep],
    )


def _segment(record: SeizureRecord, config: ExperimentConfig) -> tuple[int, int]:
    """The frames `[first, last)` a study cuts windows from (`windows.segment`: the ictal period or the whole recording)."""
    fps = config.windows.target_fps
    if config.windows.segment == "ictal":
        return int(round(record.onset_s * fps)), int(round(record.offset_s * fps))
    return 0, record.num_frames


def windows_inside_spans(starts_s: np.ndarray, window_s: float, stop_s: float, spans: Sequence[tuple[float, float]]) -> np.ndarray:
    """Which windows (by start; each ends `window_s` later or at `stop_s`) lie at least half inside the union of `spans`.

    Half, not all: a sign that begins mid-window shows in it, and a span shorter than a
    window still keeps the window centred on it. Exactly half counts (up to float rounding).
    """
    ends_s = np.minimum(starts_s + window_s, stop_s)
    covered = np.zeros(len(starts_s))
    for start, end in merged_spans(spans):
        covered += np.clip(np.minimum(ends_s, end) - np.maximum(starts_s, start), 0.0, None)
    return covered >= 0.5 * (ends_s - starts_s) - 1e-9


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


def rows_of_records(window_records: np.ndarray, selected_records: np.ndarray) -> np.ndarray:
    """Every window index whose record is one of `selected_records` (uncapped: the held-out subject's windows)."""
    return np.flatnonzero(np.isin(window_records, selected_records))
