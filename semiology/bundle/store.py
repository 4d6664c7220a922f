"""Model bundles on disk: the format, writing one, and loading one back.

A bundle is a folder with two files. `weights.pt` holds only CPU tensors in plain dicts
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

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from semiology import __version__
from semiology.config import config_from_dict
from semiology.engines.device import torch_device
from semiology.errors import SemiologyError
from semiology.experiment import ExperimentConfig
from semiology.io.atomic import atomic_path
from semiology.layouts import get_layout
from semiology.models.encoder import SmallCNNEncoder, freeze
from semiology.models.factory import ModelSpec, build_network

BUNDLE_VERSION = 1
META_FILE = "bundle.json"
WEIGHTS_FILE = "weights.pt"
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
    fusion_weights: tuple[float, ...] | None = None
    bones: bool = False
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


def save_bundle(meta: dict[str, Any], weights: dict[str, dict[str, dict[str, torch.Tensor]]], out_dir: Path) -> Path:
    """Write `weights.pt` then `bundle.json` into `out_dir` (each atomically) and return `out_dir`.

    The weights are written as CPU tensors whatever device the models were trained on, so a
    bundle trained on a GPU loads on a machine without one.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(out_dir / WEIGHTS_FILE) as temporary:
        torch.save(_on_cpu(weights), temporary)
    with atomic_path(out_dir / META_FILE) as temporary:
        temporary.write_text(json.dumps(_finite(meta), indent=2, sort_keys=True, allow_nan=False) + "\n", encoding="utf-8")
    return out_dir


def _on_cpu(weights: dict[str, Any]) -> dict[str, Any]:
    """The nested dicts of `weights` with every tensor on the CPU (a CPU tensor is kept as it is)."""
    return {key: _on_cpu(value) if isinstance(value, dict) else value.cpu() for key, value in weights.items()}


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


def load_bundle(path: str | Path, device: str | torch.device = "cpu") -> Bundle:
    """Load a bundle folder with its networks and frame encoders on `device`; refuse (BundleError) another format version or a changed layout.

    Predictions follow the networks (`semiology.train.fit.predict_logits`, `encode_frames`), so
    `device` is where a screening or live session runs its models; a device this machine lacks is
    a DeviceError naming it, raised before anything is read.
    """
    device = torch_device(device)
    path = Path(path)
    meta_path, weights_path = path / META_FILE, path / WEIGHTS_FILE
    if not meta_path.is_file() or not weights_path.is_file():
        raise BundleError(f"{path}: not a model bundle (needs {META_FILE} and {WEIGHTS_FILE}; make one with tools/loso_eval.py --bundle DIR)")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BundleError(f"{meta_path}: unreadable bundle description ({exc})") from None
    if not isinstance(meta, dict):
        raise BundleError(f"{meta_path}: damaged bundle (the description is not a JSON object); re-create it with tools/loso_eval.py --bundle")
    version = meta.get("bundle_version")
    if version != BUNDLE_VERSION:
        raise BundleError(
            f"{path}: incompatible bundle: written in bundle format {version!r} by semiology {meta.get('semiology_version')}; "
            f"this semiology ({__version__}) reads format {BUNDLE_VERSION}. Re-create it with tools/loso_eval.py --bundle"
        )
    try:
        weights = torch.load(weights_path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise BundleError(f"{weights_path}: unreadable bundle weights ({type(exc).__name__}: {exc})") from None
    try:
        _check_layouts(path, meta)
        return _assemble(path, meta, weights, device)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        missing = f"missing entry {exc}" if isinstance(exc, KeyError) else f"{type(exc).__name__}: {exc}"
        raise BundleError(f"{meta_path}: damaged bundle ({missing}); re-create it with tools/loso_eval.py --bundle") from None


def _assemble(path: Path, meta: dict[str, Any], weights: dict[str, Any], device: torch.device) -> Bundle:
    """The bundle's models and encoders on `device` from its description and weights (a KeyError or TypeError means a damaged bundle)."""
    meta_path, weights_path = path / META_FILE, path / WEIGHTS_FILE
    config = config_from_dict(meta["config"], ExperimentConfig, source=str(meta_path))
    models = {}
    for entry in meta["models"]:
        network = None
        if entry["architecture"] is not None:
            network = build_network(ModelSpec.from_dict(entry["architecture"]))
            try:
                network.load_state_dict(weights["models"][f"{entry['task']}/{entry['name']}"])
            except (KeyError, RuntimeError) as exc:
                raise BundleError(f"{weights_path}: weights of model {entry['name']!r} missing or of another shape ({exc})") from None
            network.to(device).eval()
        threshold = entry["selection"]["threshold"]
        models[entry["name"]] = BundledModel(
            name=entry["name"], task=entry["task"], kind=entry["kind"], stream=entry["stream"], classes=tuple(entry["classes"]),
            layout=entry["layout"], threshold=float("nan") if threshold is None else float(threshold), network=network,
            members=tuple(entry.get("members", ())), fusion_weights=_fusion_weights(entry["selection"]), bones=bool(entry.get("bones", config.agcn.bones)),
            keypoints=bool((entry["architecture"] or {}).get("keypoints", False)),
        )
    encoders = {}
    for stream, info in meta.get("encoders", {}).items():
        encoder = SmallCNNEncoder(**info["config"])
        encoder.load_state_dict(weights["encoders"][stream])
        encoders[stream] = freeze(encoder.to(device))
    return Bundle(path=path, meta=meta, config=config, models=models, encoders=encoders)


def _fusion_weights(selection: dict[str, Any]) -> tuple[float, ...] | None:
    """A fusion's member weights: `fusion_weights` (any number of members), or a two-member bundle's `fusion_weight` and the rest."""
    if selection.get("fusion_weights") is not None:
        return tuple(float(weight) for weight in selection["fusion_weights"])
    weight = selection.get("fusion_weight")
    return None if weight is None else (float(weight), 1.0 - float(weight))


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


