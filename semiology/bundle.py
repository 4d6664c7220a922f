"""Model bundles: a study's final models, ready to explain or to screen new recordings.

A bundle is a folder with two files. `weights.pt` holds only tensors in plain dicts
(`{"models": {name: state_dict}, "encoders": {stream: state_dict}}`), so it loads with
`torch.load(weights_only=True)`. `bundle.json` holds everything else: the bundle format
version, the package version, the experiment config, each model's architecture, layout (with
its joint names), stream, label names and final settings (epochs, threshold, fusion weight and
the per-fold values they came from), the preprocessing (frame rate, windows, baseline,
normalisation) and extraction parameters (keypoint layout, source), the cross-validated
metrics and the data hash. A bundle of another format version, or whose layouts no longer
match this package's layouts, is refused with a message that says why.

A model configured with `ensemble: N` is stored as all N members (one `SeedEnsemble` state
dict, keys `members.<i>.…`; `architecture.ensemble` says N), each refitted on all subjects from
its own member seed, and applied as their mean probability. Integrated gradients of such a
model explain that mean; Grad-CAM and the AGCN attention maps read its first member.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from semiology import __version__
from semiology.config import config_from_dict, config_hash, config_to_dict
from semiology.errors import SemiologyError
from semiology.evaluate.results import StudyResult
from semiology.evaluate.study import STREAM_FEATURES, STREAM_KEYPOINTS, STREAM_SCALE_PAIR, build_stream_windows, cap_per_record, record_stream_windows, tcn_inputs
from semiology.experiment import ExperimentConfig, ModelConfig
from semiology.io.atomic import atomic_path
from semiology.layouts import get_layout
from semiology.models.agcn import AGCN
from semiology.models.appearance import APPEARANCE_STREAM, CROPS, build_encoder
from semiology.models.encoder import SmallCNNEncoder, encode_frames, freeze
from semiology.models.ensemble import SeedEnsemble
from semiology.models.fusion import fuse
from semiology.models.tcn import TCN
from semiology.preprocess.resample import resample_record
from semiology.records import SeizureRecord
from semiology.train.augment import keypoint_augment
from semiology.train.ensemble import member_seeds
from semiology.train.final import fit_fixed_epochs, select_final_settings
from semiology.train.fit import predict_logits, predict_proba

BUNDLE_VERSION = 1
META_FILE = "bundle.json"
WEIGHTS_FILE = "weights.pt"
BUNDLED_KINDS = ("agcn", "agcn_kd", "tcn", "fusion")


class BundleError(SemiologyError):
    """A bundle that cannot be used: missing files, another format version, changed layouts."""


@dataclass
class BundledModel:
    """One final model: its description from `bundle.json` and, for networks, the module.

    `keypoints`: a TCN that reads the keypoint windows beside its appearance features.
    """

    name: str
    task: str
    kind: str
    stream: str
    classes: tuple[str, ...]
    layout: str
    threshold: float
    network: nn.Module | None
    members: tuple[str, ...] = ()
    fusion_weight: float | None = None
    keypoints: bool = False

    @property
    def key(self) -> str:
        return f"{self.task}/{self.name}"

    @property
    def reads_keypoints(self) -> bool:
        """AGCN models read keypoint windows; TCN models read appearance features."""
        return self.kind in ("agcn", "agcn_kd")


@dataclass
class Bundle:
    """A loaded bundle: its metadata, the experiment config, the models and frame encoders."""

    path: Path
    meta: dict[str, Any]
    config: ExperimentConfig
    models: dict[str, BundledModel]
    encoders: dict[str, SmallCNNEncoder]

    def model(self, name: str) -> BundledModel:
        """The model called `name`; a BundleError lists the names the bundle has."""
        if name not in self.models:
            raise BundleError(f"{self.path}: no model {name!r} in this bundle (models: {', '.join(self.models)})")
        return self.models[name]


def build_network(architecture: dict[str, Any]) -> nn.Module:
    """An untrained AGCN or TCN from its `architecture` entry in `bundle.json` (a `SeedEnsemble` of them when `ensemble` > 1)."""
    members = int(architecture.get("ensemble", 1))
    if members > 1:
        return SeedEnsemble([build_network({**architecture, "ensemble": 1}) for _ in range(members)])
    if architecture["type"] == "agcn":
        return AGCN(
            architecture["num_class"],
            get_layout(architecture["layout"]).adjacency(),
            num_person=1,
            in_channels=architecture["in_channels"],
            channels=architecture["channels"],
            strides=architecture["strides"],
            temporal_kernel=architecture["temporal_kernel"],
            dropout=architecture["dropout"],
        )
    return TCN(
        architecture["in_features"],
        architecture["num_class"],
        channels=architecture["channels"],
        kernel_size=architecture["kernel_size"],
        dropout=architecture["dropout"],
    )


def _architecture(model: ModelConfig, config: ExperimentConfig, num_class: int, layout: str, in_channels: int, in_features: int | None) -> dict[str, Any]:
    ensemble = {"ensemble": model.ensemble} if model.ensemble > 1 else {}
    if model.kind == "tcn":
        keypoints = {"keypoints": True} if model.keypoints else {}
        return {"type": "tcn", "num_class": num_class, "in_features": in_features, "channels": list(config.tcn.channels),
                "kernel_size": config.tcn.kernel_size, "dropout": config.tcn.dropout, **ensemble, **keypoints}
    return {
        **ensemble,
        "type": "agcn",
        "num_class": num_class,
        "layout": layout,
        "in_channels": in_channels,
        "channels": list(config.agcn.channels),
        "strides": list(config.agcn.strides),
        "temporal_kernel": config.agcn.temporal_kernel,
        "dropout": config.agcn.dropout,
    }


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
    `encoders` the frozen frame encoders by stream, needed by TCN models.
    """
    by_key = {result.key: result for result in study.models}
    state_dicts: dict[str, dict[str, torch.Tensor]] = {}
    entries, skipped = [], []
    for task_index, task in enumerate(config.tasks):
        fitted: dict[str, nn.Module] = {}
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
            if model.kind == "fusion":
                entry.update(members=list(model.members), layout=None, architecture=None)
                entries.append(entry)
                continue
            if model.stream not in windows:
                windows[model.stream] = build_stream_windows(records, task, model.stream, config)
            stream = windows[model.stream]
            layout = getattr(records[int(stream.record_index[0])], STREAM_KEYPOINTS[model.stream]).layout
            rows = cap_per_record(stream.record_index, labelled, config.windows.max_train_windows_per_seizure)
            appearance = tcn_inputs(stream.features, stream.keypoints, model.keypoints)
            inputs = appearance if model.kind == "tcn" else stream.keypoints
            if inputs is None:
                raise BundleError(f"model {model.name!r}: stream {model.stream!r} has no appearance features to fit on")
            in_features = None if appearance is None else int(appearance.shape[-1])
            architecture = _architecture(model, config, len(task.classes), layout, int(stream.keypoints.shape[1]), in_features)
            teacher = None
            if model.kind == "agcn_kd":
                teacher_config = next(m for m in config.models if m.task == task.name and m.name == model.teacher)
                teacher = predict_logits(fitted[model.teacher], tcn_inputs(stream.features[rows], stream.keypoints[rows], teacher_config.keypoints))
            single = {**architecture, "ensemble": 1}
            train_settings = model.train.apply(config.train)
            members = [
                fit_fixed_epochs(
                    lambda: build_network(single),
                    inputs[rows], stream.labels[rows], len(task.classes), train_settings, selection.epochs,
                    seed=member_seed, teacher_logits=teacher, distillation=config.distillation,
                    augment=keypoint_augment(train_settings.mirror, model.kind, layout),
                )
                for member_seed in member_seeds(config.seed * 1_000_003 + 999_983 + task_index * 101 + model_index, model.ensemble)
            ]
            network = members[0] if len(members) == 1 else SeedEnsemble(members).eval()
            fitted[model.name] = network
            state_dicts[key] = network.state_dict()
            entry.update(layout=layout, joint_names=list(get_layout(layout).joint_names), architecture=architecture, n_train_windows=int(len(rows)))
            entries.append(entry)
    meta = _bundle_meta(config, records, study, entries, skipped, encoders)
    weights = {"models": state_dicts, "encoders": {stream: encoder.state_dict() for stream, encoder in encoders.items()}}
    return save_bundle(meta, weights, out_dir)


def bundle_encoders(config: ExperimentConfig, records: Sequence[SeizureRecord], cache_dir: Path) -> dict[str, SmallCNNEncoder]:
    """The frozen frame encoders the study's TCN models read (from the study's encoder cache)."""
    streams = sorted({APPEARANCE_STREAM[m.stream] for m in config.models if m.kind in ("tcn", "agcn_kd")})
    if streams and config.encoder.kind != "small_cnn":
        raise BundleError("encoder.kind: only the small_cnn frame encoder can be bundled; a torchvision encoder stays a user checkpoint")
    encoders = {}
    for stream in streams:
        crops = next((getattr(r, CROPS[stream][0]) for r in records if getattr(r, CROPS[stream][0]) is not None), None)
        if crops is not None:
            encoders[stream] = build_encoder(stream, config.encoder, int(crops.shape[1]), cache_dir)
    return encoders


def _bundle_meta(config, records, study, entries, skipped, encoders) -> dict[str, Any]:
    streams_used = {entry["stream"] for entry in entries}
    extraction = {}
    for stream in sorted(streams_used):
        keypoints = getattr(records[0], STREAM_KEYPOINTS[stream])
        extraction[stream] = {
            "keypoints": STREAM_KEYPOINTS[stream],
            "layout": keypoints.layout,
            "source": keypoints.source,
            "coordinate_dims": int(keypoints.coords.shape[-1]),
            "crops": CROPS[APPEARANCE_STREAM[stream]][0],
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
            "scale_pairs": {layout: list(pair) for layout, pair in STREAM_SCALE_PAIR.items()},
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


def save_bundle(meta: dict[str, Any], weights: dict[str, dict[str, dict[str, torch.Tensor]]], out_dir: Path) -> Path:
    """Write `weights.pt` then `bundle.json` into `out_dir` (each atomically) and return `out_dir`."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(out_dir / WEIGHTS_FILE) as temporary:
        torch.save(weights, temporary)
    with atomic_path(out_dir / META_FILE) as temporary:
        temporary.write_text(json.dumps(_finite(meta), indent=2, sort_keys=True, allow_nan=False) + "\n", encoding="utf-8")
    return out_dir


def _finite(value: Any) -> Any:
    """`value` as standard JSON: numpy scalars become numbers, NaN and infinities (undefined metrics) None."""
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def load_bundle(path: str | Path) -> Bundle:
    """Load a bundle folder; refuse (BundleError) another format version or a changed layout."""
    path = Path(path)
    meta_path, weights_path = path / META_FILE, path / WEIGHTS_FILE
    if not meta_path.is_file() or not weights_path.is_file():
        raise BundleError(f"{path}: not a model bundle (needs {META_FILE} and {WEIGHTS_FILE}; make one with tools/loso_eval.py --bundle DIR)")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BundleError(f"{meta_path}: unreadable bundle description ({exc})") from None
    version = meta.get("bundle_version")
    if version != BUNDLE_VERSION:
        raise BundleError(
            f"{path}: incompatible bundle: written in bundle format {version!r} by semiology {meta.get('semiology_version')}; "
            f"this semiology ({__version__}) reads format {BUNDLE_VERSION}. Re-create it with tools/loso_eval.py --bundle"
        )
    _check_layouts(path, meta)
    try:
        weights = torch.load(weights_path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise BundleError(f"{weights_path}: unreadable bundle weights ({type(exc).__name__}: {exc})") from None
    config = config_from_dict(meta["config"], ExperimentConfig, source=str(meta_path))
    models = {}
    for entry in meta["models"]:
        network = None
        if entry["architecture"] is not None:
            network = build_network(entry["architecture"])
            try:
                network.load_state_dict(weights["models"][f"{entry['task']}/{entry['name']}"])
            except (KeyError, RuntimeError) as exc:
                raise BundleError(f"{weights_path}: weights of model {entry['name']!r} missing or of another shape ({exc})") from None
            network.eval()
        threshold = entry["selection"]["threshold"]
        models[entry["name"]] = BundledModel(
            name=entry["name"], task=entry["task"], kind=entry["kind"], stream=entry["stream"], classes=tuple(entry["classes"]),
            layout=entry["layout"], threshold=float("nan") if threshold is None else float(threshold), network=network,
            members=tuple(entry.get("members", ())), fusion_weight=entry["selection"].get("fusion_weight"),
            keypoints=bool((entry["architecture"] or {}).get("keypoints", False)),
        )
    encoders = {}
    for stream, info in meta.get("encoders", {}).items():
        encoder = SmallCNNEncoder(**info["config"])
        encoder.load_state_dict(weights["encoders"][stream])
        encoders[stream] = freeze(encoder)
    return Bundle(path=path, meta=meta, config=config, models=models, encoders=encoders)


def _check_layouts(path: Path, meta: dict[str, Any]) -> None:
    problems = []
    for entry in meta.get("models", []):
        if entry.get("layout") is None:
            continue
        try:
            current = get_layout(entry["layout"]).joint_names
        except (KeyError, ValueError):
            problems.append(f"model {entry['name']!r}: layout {entry['layout']!r} is unknown to this semiology")
            continue
        if tuple(entry["joint_names"]) != tuple(current):
            problems.append(f"model {entry['name']!r}: layout {entry['layout']!r} was {entry['joint_names']} when trained, is now {list(current)}")
    if problems:
        raise BundleError(f"{path}: incompatible bundle:\n" + "\n".join(problems))


def prepare_record(bundle: Bundle, record: SeizureRecord) -> SeizureRecord:
    """`record` at the bundle's frame rate, with appearance features from the bundle's encoders when TCN models need them."""
    record = resample_record(record, bundle.config.windows.target_fps)
    for stream in {APPEARANCE_STREAM[m.stream] for m in bundle.models.values() if m.kind == "tcn"}:
        crops, _, feature_name = CROPS[stream]
        if getattr(record, feature_name) is None and getattr(record, crops) is not None and stream in bundle.encoders:
            record = dataclasses.replace(record, **{feature_name: encode_frames(bundle.encoders[stream], getattr(record, crops))})
    return record


def check_record(model: BundledModel, record: SeizureRecord) -> None:
    """Raise a BundleError when `record` lacks what `model` reads or has another layout."""
    keypoints = getattr(record, STREAM_KEYPOINTS[model.stream])
    if keypoints is None:
        raise BundleError(f"seizure {record.seizure_id}: no {STREAM_KEYPOINTS[model.stream]} keypoints, which model {model.name!r} needs")
    if (model.reads_keypoints or model.keypoints) and keypoints.layout != model.layout:
        raise BundleError(f"seizure {record.seizure_id}: {model.stream} keypoints in layout {keypoints.layout!r}, model {model.name!r} expects {model.layout!r}")
    if model.kind == "tcn" and getattr(record, STREAM_FEATURES[model.stream]) is None:
        raise BundleError(f"seizure {record.seizure_id}: no {model.stream} crops or features, which model {model.name!r} needs")


def model_inputs(bundle: Bundle, model: BundledModel, record: SeizureRecord, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    """The model's input windows of a prepared record between frames `first` and `last`, and their starts (s)."""
    check_record(model, record)
    keypoints, features, starts = record_stream_windows(record, model.stream, bundle.config, first, last)
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

    A fusion model averages its members' probabilities with its bundled weight.
    """
    if model.kind == "fusion":
        first_member, second_member = (bundle.model(name) for name in model.members)
        prob_a, starts = window_probabilities(bundle, first_member, record, first, last)
        prob_b, _ = window_probabilities(bundle, second_member, record, first, last)
        if len(prob_a) == 0:
            return prob_a, starts
        weight = float(model.fusion_weight)
        return fuse([prob_a, prob_b], [weight, 1.0 - weight]), starts
    inputs, starts = model_inputs(bundle, model, record, first, last)
    if len(inputs) == 0:
        return np.zeros((0, len(model.classes))), starts
    return predict_proba(model.network, inputs).astype(np.float64), starts
