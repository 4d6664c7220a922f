"""Building a bundle: a study's models refitted on all subjects with the settings the folds chose.

Nothing is chosen on the full data (see `semiology.train.final`): each model is the window
classifier of the folds (`semiology.train.classifier.WindowClassifier`), refitted for the
median selected epoch, with the mean selected threshold.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from semiology import __version__
from semiology.bundle.store import BUNDLE_VERSION, BundleError, save_bundle
from semiology.config import config_hash, config_to_dict
from semiology.evaluate.folds import model_seed
from semiology.evaluate.results import StudyResult
from semiology.evaluate.run import ExperimentRun, run_experiment
from semiology.evaluate.study import window_model_spec
from semiology.experiment import ExperimentConfig
from semiology.layouts import get_layout, layout_names
from semiology.models.appearance import build_encoder
from semiology.models.encoder import SmallCNNEncoder
from semiology.preprocess.model_inputs import build_stream_windows, cap_per_record, tcn_inputs
from semiology.records import SeizureRecord
from semiology.streams import get_appearance, get_stream
from semiology.train.classifier import WindowClassifier, keypoint_classifier
from semiology.train.final import select_final_settings
from semiology.train.search import final_search_values

BUNDLED_KINDS = ("agcn", "agcn_kd", "tcn", "fusion")

def build_bundle(
    config: ExperimentConfig,
    records: Sequence[SeizureRecord],
    study: StudyResult,
    evaluations: dict[str, dict],
    encoders: dict[str, SmallCNNEncoder],
    out_dir: Path,
) -> Path:
    """Fit every bundlable model of `config` on all `records` with the folds' settings and save a bundle.

    `records` are the study's records (already at the target frame rate, with appearance
    features); `evaluations` the cross-validated metrics by `task/model` (metrics.json);
    `encoders` the frozen frame encoders by stream, needed by TCN models. A model of a task cut
    during a sign says so (`during` in its entry): it was fitted on the windows inside that
    sign's annotated spans (its `cv_metrics` scored on all windows, as screening reads them).
    """
    by_key = {result.key: result for result in study.models}
    state_dicts: dict[str, dict[str, torch.Tensor]] = {}
    entries, skipped = [], []
    for task_index, task in enumerate(config.tasks):
        fitted: dict[str, WindowClassifier] = {}
        labelled = np.array([i for i, r in enumerate(records) if r.labels.get(task.name) in task.classes])
        windows = {}
        for model_index, model in enumerate(m for m in config.models if m.task == task.name):
            key = f"{task.name}/{model.name}"
            if model.kind not in BUNDLED_KINDS:
                skipped.append({"model": key, "reason": f"kind {model.kind!r} cannot be bundled yet"})
                continue
            selection = select_final_settings(by_key[key].selected)
            entry = {"name": model.name, "task": task.name, "kind": model.kind, "stream": model.stream, "classes": list(task.classes),
                     "selection": selection.to_dict(), "cv_metrics": evaluations.get(key, {})}
            if task.during:
                entry["during"] = task.during
            if model.kind == "fusion":
                entry.update(members=list(model.members), layout=None, architecture=None)
                entries.append(entry)
                continue
            bones = model.reads_bones(config)
            if (model.stream, bones) not in windows:
                windows[(model.stream, bones)] = build_stream_windows(records, task, model.stream, config, bones)
            stream = windows[(model.stream, bones)]
            rows = cap_per_record(stream.record_index, labelled, config.windows.max_train_windows_per_seizure)
            inputs = tcn_inputs(stream.features, stream.keypoints, model.keypoints) if model.kind == "tcn" else stream.keypoints
            if inputs is None:
                raise BundleError(f"model {model.name!r}: stream {model.stream!r} has no appearance features to fit on")
            spec = window_model_spec(model, config, stream, records, len(task.classes))
            layout = get_stream(model.stream).keypoints_of(records[int(stream.record_index[0])]).layout
            teacher_logits = None
            if model.kind == "agcn_kd":
                teacher_config = next(m for m in config.models if m.task == task.name and m.name == model.teacher)
                teacher_inputs = tcn_inputs(stream.features[rows], stream.keypoints[rows], teacher_config.keypoints)
                teacher_logits = fitted[model.teacher].predict_logits(teacher_inputs)
            settings = model.train.apply(config.train)
            settings = dataclasses.replace(settings, **final_search_values(selection.fold_values, settings))
            classifier = keypoint_classifier(
                spec, settings, seed=model_seed(config.seed, task_index, model_index, None), distillation=config.distillation,
                kind=model.kind, classes=task.classes,
            ).refit(inputs[rows], stream.labels[rows], selection.epochs, teacher_logits=teacher_logits)
            fitted[model.name] = classifier
            state_dicts[key] = classifier.network_.state_dict()
            entry.update(layout=layout, joint_names=list(get_layout(layout).joint_names), architecture=spec.to_dict(), n_train_windows=int(len(rows)), bones=bones)
            entries.append(entry)
    meta = _bundle_meta(config, records, study, entries, skipped, encoders)
    weights = {"models": state_dicts, "encoders": {stream: encoder.state_dict() for stream, encoder in encoders.items()}}
    return save_bundle(meta, weights, out_dir)


def bundle_encoders(config: ExperimentConfig, records: Sequence[SeizureRecord], cache_dir: Path) -> dict[str, SmallCNNEncoder]:
    """The frozen frame encoders the study's TCN models read (from the study's encoder cache)."""
    streams = sorted({get_stream(m.stream).appearance for m in config.models if m.kind in ("tcn", "agcn_kd")} - {None})
    if streams and config.encoder.kind != "small_cnn":
        raise BundleError("encoder.kind: only the small_cnn frame encoder can be bundled; a torchvision encoder stays a user checkpoint")
    encoders = {}
    for stream in streams:
        appearance = get_appearance(stream)
        crops = next((appearance.crops_of(r) for r in records if appearance.crops_of(r) is not None), None)
        if crops is not None:
            encoders[stream] = build_encoder(stream, config.encoder, int(crops.shape[1]), cache_dir)
    return encoders


def _bundle_meta(
    config: ExperimentConfig, records: Sequence[SeizureRecord], study: StudyResult, entries: list[dict[str, Any]], skipped: list[dict[str, str]],
    encoders: dict[str, SmallCNNEncoder],
) -> dict[str, Any]:
    streams_used = {entry["stream"] for entry in entries}
    extraction = {}
    for stream in sorted(streams_used):
        spec = get_stream(stream)
        keypoints = spec.keypoints_of(records[0])
        extraction[stream] = {
            "keypoints": spec.keypoints,
            "layout": keypoints.layout,
            "source": keypoints.source,
            "coordinate_dims": int(keypoints.coords.shape[-1]),
            "crops": None if spec.appearance_spec is None else spec.appearance_spec.crops,
        }
    windows = config.windows
    return {
        "bundle_version": BUNDLE_VERSION,
        "semiology_version": __version__,
        "created_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "study": study.name,
        "synthetic": study.synthetic,
        "config": config_to_dict(config),
        "config_hash": config_hash(config),
        "data_hash": study.data_hash,
        "split": study.split,
        "folds": {str(fold): list(subjects) for fold, subjects in sorted(study.fold_subjects.items())},
        "trained_on": {"n_records": len(records), "subjects": sorted({r.subject_id for r in records})},
        "preprocessing": {
            **dataclasses.asdict(windows),
            "scale_pairs": {name: list(get_layout(name).scale_pair) for name in layout_names() if get_layout(name).scale_pair is not None},
            "normalisation": "centre joint mean over the window, recording-level scale from the scale pair, "
            "minus the pre-ictal mean pose when baseline is pre_ictal; missing joints 0 with confidence 0",
            "bones": config.agcn.bones,
        },
        "extraction": extraction,
        "encoders": {stream: {"config": encoder.config, "provenance": encoder.provenance} for stream, encoder in encoders.items()},
        "labels": {task.name: list(task.classes) for task in config.tasks},
        "models": entries,
        "not_bundled": skipped,
    }




def run_and_bundle(config: ExperimentConfig, out_dir: Path, source: str, bundle_dir: Path, progress: bool = True) -> ExperimentRun:
    """`run_experiment`, then the bundle of its window models in `bundle_dir` (added to the run's files as `bundle`)."""
    run = run_experiment(config, out_dir, source=source, progress=progress)
    window_config = dataclasses.replace(config, models=tuple(m for m in config.models if m.kind in BUNDLED_KINDS))
    if window_config.models:
        evaluations = json.loads(run.files["metrics.json"].read_text())["models"]
        encoders = bundle_encoders(window_config, run.records, out_dir / "encoders")
        run.files["bundle"] = build_bundle(window_config, run.records, run.study, evaluations, encoders, Path(bundle_dir))
    return run
