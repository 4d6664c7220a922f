"""Applying a bundle to a record: its inputs, window by window, and the class probabilities."""

from __future__ import annotations

import dataclasses

import numpy as np

from semiology.bundle.store import Bundle, BundledModel, BundleError
from semiology.models.encoder import encode_frames
from semiology.models.fusion import fuse
from semiology.preprocess.model_inputs import record_stream_windows, tcn_inputs
from semiology.preprocess.resample import resample_record
from semiology.records import SeizureRecord
from semiology.streams import get_appearance, get_stream
from semiology.train.fit import predict_proba


def prepare_record(bundle: Bundle, record: SeizureRecord) -> SeizureRecord:
    """`record` at the bundle's frame rate, with appearance features from the bundle's encoders when TCN models need them."""
    record = resample_record(record, bundle.config.windows.target_fps)
    for stream in sorted({get_stream(m.stream).appearance for m in bundle.models.values() if m.kind == "tcn"} - {None}):
        appearance = get_appearance(stream)
        crops = appearance.crops_of(record)
        if appearance.features_of(record) is None and crops is not None and stream in bundle.encoders:
            record = dataclasses.replace(record, **{appearance.features: encode_frames(bundle.encoders[stream], crops)})
    return record


def check_record(model: BundledModel, record: SeizureRecord) -> None:
    """Raise a BundleError when `record` lacks what `model` reads, shows nobody, or has another layout."""
    stream = get_stream(model.stream)
    keypoints = stream.keypoints_of(record)
    if keypoints is None:
        raise BundleError(f"seizure {record.seizure_id}: no {stream.keypoints} keypoints, which model {model.name!r} needs")
    if not keypoints.has_detections():
        raise BundleError(f"seizure {record.seizure_id}: nobody in the recording: every {model.stream} keypoint is missing (NaN or confidence 0) in all {keypoints.num_frames} frames")
    if (model.reads_keypoints or model.keypoints) and keypoints.layout != model.layout:
        raise BundleError(f"seizure {record.seizure_id}: {model.stream} keypoints in layout {keypoints.layout!r}, model {model.name!r} expects {model.layout!r}")
    if model.kind == "tcn" and stream.features_of(record) is None:
        raise BundleError(f"seizure {record.seizure_id}: no {model.stream} crops or features, which model {model.name!r} needs")


def model_inputs(bundle: Bundle, model: BundledModel, record: SeizureRecord, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    """The model's input windows of a prepared record between frames `first` and `last`, and their starts (s)."""
    check_record(model, record)
    keypoints, features, starts = record_stream_windows(record, model.stream, bundle.config, first, last, model.bones)
    if not starts:
        empty = (0,) + ((3, 1, 1, 1) if model.reads_keypoints else (1, 1))
        return np.zeros(empty, dtype=np.float32), np.zeros(0)
    if model.reads_keypoints:
        inputs = np.stack(keypoints)
    else:
        inputs = tcn_inputs(np.stack(features), np.stack(keypoints), model.keypoints)
    return inputs, np.asarray(starts, dtype=np.float64)


def segment_frames(bundle: Bundle, record: SeizureRecord) -> tuple[int, int]:
    """Frames of the segment the models were trained on: the ictal period, or the whole recording."""
    fps = bundle.config.windows.target_fps
    if bundle.config.windows.segment == "ictal":
        return int(round(record.onset_s * fps)), min(int(round(record.offset_s * fps)), record.num_frames)
    return 0, record.num_frames


def window_probabilities(bundle: Bundle, model: BundledModel, record: SeizureRecord, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities `[N, K]` per window of a prepared record, and the window starts (s).

    A fusion model averages its members' probabilities with its bundled weights.
    """
    if model.kind == "fusion":
        parts = [window_probabilities(bundle, bundle.model(name), record, first, last) for name in model.members]
        starts = parts[0][1]
        if len(parts[0][0]) == 0:
            return parts[0][0], starts
        return fuse([prob for prob, _ in parts], list(model.fusion_weights)), starts
    inputs, starts = model_inputs(bundle, model, record, first, last)
    if len(inputs) == 0:
        return np.zeros((0, len(model.classes))), starts
    return predict_proba(model.network, inputs).astype(np.float64), starts
