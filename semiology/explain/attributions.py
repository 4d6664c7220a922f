"""Which joints, landmarks and moments drove a bundled model's decision on one seizure.

For AGCN streams: joint x time attributions by integrated gradients (captum) and by Grad-CAM
over the last graph block; per block the adjacency the model mixes joints with (the layout
graph plus the learned graph A + B, and the data-dependent graph C averaged over the seizure's
windows). For TCN streams: time attributions by integrated gradients over the appearance
features.

What integrated gradients explain. The output is the explained class's log-odds against the
others, z_t - logsumexp(z_others) (for two classes the logit difference), not the class's raw
logit: a softmax decision does not change when every logit moves by the same amount, so
attributing one raw logit also credits input changes that move all logits together and leave
the decision alone. This is the adjustment DeepLIFT (Shrikumar et al., 2017, "adjustments for
softmax layers") recommends -- explain logits relative to the other classes' -- and for two
classes it is exactly the log-odds. `objective="logit"` keeps the raw logit for comparison.

The baseline is the recording at rest: every coordinate channel 0, which in the windows'
normalised, pre-ictal-baseline-subtracted frame puts each joint at the recording's mean
pre-ictal position, with the confidence channel kept as observed. The attributions therefore
answer "which joints' displacement from rest, where and when, moved the decision" (an all-zero
baseline would also switch every detection off and spread mass over the confidence channel).
For TCN streams the baseline is all-zero features: the recording's mean pre-ictal features,
since windows are baseline-subtracted.

How they are read. Per window, frame and joint, IG is summed over the joint's channels: the
signed contribution of that joint's displacement to the log-odds (`joint_time_ig_signed`).
Positive values are evidence FOR the explained class, negative values evidence against it
(e.g. movement the model has learnt to associate with the other class). The importance shown
in every figure, the overlay video, the HTML page, the planted-joint share and the deletion
order is the positive part (`joint_time_ig`), the analogue of Grad-CAM's ReLU, which keeps
only features with a positive influence on the class. The previous reading, the magnitude
|IG| summed over channels, which adds evidence for and against, is kept as
`joint_time_ig_abs` (method `integrated_gradients_abs`). TCN time attributions are read the
same way (`time_ig` positive part, `time_ig_abs` magnitude).

Windows cover the whole recording (pre-ictal, ictal and post-ictal), so attributions can be
read against the clinical onset and offset; per-frame values are averaged where windows overlap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from captum.attr import IntegratedGradients, LayerAttribution, LayerGradCam

from semiology.bundle import Bundle, BundledModel, model_inputs, segment_frames, window_probabilities
from semiology.layouts import get_layout
from semiology.models.ensemble import SeedEnsemble
from semiology.records import SeizureRecord
from semiology.streams import get_stream

IG_STEPS = 32
OBJECTIVES = ("log_odds", "logit")
IMPORTANCE_METHODS = ("integrated_gradients", "integrated_gradients_abs", "grad_cam")


@dataclass
class SeizureAttribution:
    """Attributions of one model for one seizure, on the bundle's frame grid (`fps`).

    `joint_time_ig` (positive part: evidence for the class), `joint_time_ig_signed`,
    `joint_time_ig_abs` (magnitude, the earlier reading) and `joint_time_gradcam` are `[T, V]`
    (AGCN); `time_ig` (positive part) and `time_ig_abs` are `[T]` (TCN); `adjacency_learned` /
    `adjacency_data` are `[blocks, K, V, V]`. `objective` is what IG explained (`log_odds` or
    `logit`, see the module docstring). `probability` is the seizure-level probability of each
    class (mean over the windows of the trained segment).
    """

    seizure_id: str
    model: str
    task: str
    kind: str
    stream: str
    classes: tuple[str, ...]
    target: int
    fps: float
    onset_s: float
    offset_s: float
    generalisation_s: float | None
    joint_names: tuple[str, ...]
    probability: np.ndarray
    threshold: float
    window_start_s: np.ndarray
    window_prob: np.ndarray
    objective: str = "log_odds"
    joint_time_ig: np.ndarray | None = None
    joint_time_ig_signed: np.ndarray | None = None
    joint_time_ig_abs: np.ndarray | None = None
    joint_time_gradcam: np.ndarray | None = None
    time_ig: np.ndarray | None = None
    time_ig_abs: np.ndarray | None = None
    adjacency_learned: np.ndarray | None = None
    adjacency_data: np.ndarray | None = None
    extra: dict = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        for array in (self.joint_time_ig, self.time_ig):
            if array is not None:
                return int(array.shape[0])
        return 0

    @property
    def time_s(self) -> np.ndarray:
        return np.arange(self.num_frames) / self.fps

    def joint_importance(self, first_s: float | None = None, last_s: float | None = None, method: str = "integrated_gradients") -> np.ndarray:
        """Attribution mass per joint `[V]` between two times (default: the ictal period).

        `method`: `integrated_gradients` (positive part, evidence for the class),
        `integrated_gradients_abs` (|IG|, evidence for and against) or `grad_cam`.
        """
        if method not in IMPORTANCE_METHODS:
            raise ValueError(f"unknown attribution method {method!r}; expected one of {IMPORTANCE_METHODS}")
        first_s = self.onset_s if first_s is None else first_s
        last_s = self.offset_s if last_s is None else last_s
        frames = slice(int(round(first_s * self.fps)), int(round(last_s * self.fps)))
        values = {"integrated_gradients": self.joint_time_ig, "integrated_gradients_abs": self.joint_time_ig_abs, "grad_cam": self.joint_time_gradcam}[method]
        return values[frames].sum(axis=0)

    def save(self, path: Path) -> Path:
        """Write every array and the timing to an NPZ file (NaN where a time is unknown)."""
        arrays = {
            "time_s": self.time_s,
            "fps": np.float64(self.fps),
            "onset_s": np.float64(self.onset_s),
            "offset_s": np.float64(self.offset_s),
            "generalisation_s": np.float64(np.nan if self.generalisation_s is None else self.generalisation_s),
            "classes": np.array(self.classes),
            "target_class": np.array(self.classes[self.target]),
            "objective": np.array(self.objective),
            "joint_names": np.array(self.joint_names),
            "probability": self.probability,
            "threshold": np.float64(self.threshold),
            "window_start_s": self.window_start_s,
            "window_prob": self.window_prob,
        }
        for name in ("joint_time_ig", "joint_time_ig_signed", "joint_time_ig_abs", "joint_time_gradcam", "time_ig", "time_ig_abs", "adjacency_learned", "adjacency_data"):
            value = getattr(self, name)
            if value is not None:
                arrays[name] = value
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, **arrays)
        return path


def _overlap_average(per_window: np.ndarray, starts_frames: np.ndarray, num_frames: int) -> np.ndarray:
    """Place window values `[N, T_w, ...]` on the recording's frames, averaging overlaps (0 where no window)."""
    total = np.zeros((num_frames,) + per_window.shape[2:])
    counts = np.zeros(num_frames)
    for values, start in zip(per_window, starts_frames, strict=True):
        stop = min(start + len(values), num_frames)
        total[start:stop] += values[: stop - start]
        counts[start:stop] += 1
    shape = (num_frames,) + (1,) * (per_window.ndim - 2)
    return total / np.maximum(counts, 1).reshape(shape)


def rest_baseline(inputs: np.ndarray) -> np.ndarray:
    """The integrated-gradients baseline of AGCN inputs `[N, C, T, V, M]`: coordinates 0 (rest), confidence as observed."""
    baseline = np.zeros_like(inputs)
    baseline[:, -1] = inputs[:, -1]
    return baseline


def log_odds(logits: torch.Tensor) -> torch.Tensor:
    """`[N, K]` logits -> each class's log-odds against the others, z_k - logsumexp(z_others)."""
    classes = logits.shape[1]
    own = torch.eye(classes, dtype=torch.bool, device=logits.device)
    others = logits[:, None, :].expand(-1, classes, -1).masked_fill(own, float("-inf"))
    return logits - torch.logsumexp(others, dim=2)


class LogOdds(torch.nn.Module):
    """Wraps a classifier: output column k is class k's log-odds against the others, z_k - logsumexp(z_others).

    The quantity a softmax decision depends on: adding a constant to every logit leaves it
    unchanged (see the module docstring). For two classes, column 1 is z_1 - z_0.
    """

    def __init__(self, network: torch.nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return log_odds(self.network(x))


def explained_output(network: torch.nn.Module, objective: str) -> torch.nn.Module:
    """The network whose outputs integrated gradients explain: its log-odds (`log_odds`) or its raw logits (`logit`)."""
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown attribution objective {objective!r}; expected one of {OBJECTIVES}")
    return LogOdds(network) if objective == "log_odds" else network


def integrated_gradients(network: torch.nn.Module, inputs: np.ndarray, target: int, steps: int = IG_STEPS, baseline: np.ndarray | None = None) -> np.ndarray:
    """Integrated gradients of the `target` logit w.r.t. `inputs` from `baseline` (default all zeros), same shape as `inputs`."""
    explainer = IntegratedGradients(network)
    x = torch.from_numpy(np.ascontiguousarray(inputs))
    reference = torch.zeros_like(x) if baseline is None else torch.from_numpy(np.ascontiguousarray(baseline))
    attributions = explainer.attribute(x, baselines=reference, target=target, n_steps=steps, internal_batch_size=max(len(x) * 8, 64))
    return attributions.detach().numpy()


def joint_readings(attributions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-window `[N, T, V]` readings of AGCN attributions `[N, C, T, V, M]` (first person).

    Returns the evidence for the class (positive part of each joint's signed sum over its
    channels), that signed sum, and the magnitude (|attribution| summed over channels).
    """
    per_channel = attributions[..., 0]
    signed = per_channel.sum(axis=1)
    return np.clip(signed, 0.0, None), signed, np.abs(per_channel).sum(axis=1)


def grad_cam(network: torch.nn.Module, inputs: np.ndarray, target: int, objective: str = "log_odds") -> np.ndarray:
    """Grad-CAM over the AGCN's last block: `[N, T, V]`, ReLU of the gradient-weighted feature map.

    The gradient is that of the class's log-odds (default) or raw logit, as for integrated gradients:
    captum's `LayerGradCam` on the last block of `explained_output(network, objective)`. The map's
    time axis (shortened by temporal strides) is stretched back to the input's frames (nearest).
    A seed ensemble's members' feature maps do not average: its first member is read.
    """
    if isinstance(network, SeedEnsemble):
        network = network.first
    explainer = LayerGradCam(explained_output(network, objective), network.blocks[-1])
    x = torch.from_numpy(np.ascontiguousarray(inputs))
    cam = explainer.attribute(x, target=target, relu_attributions=True).detach()
    return LayerAttribution.interpolate(cam, (inputs.shape[2], inputs.shape[3]), interpolate_mode="nearest")[:, 0].numpy()


def explain_record(
    bundle: Bundle, model: BundledModel, record: SeizureRecord, target: int | None = None, steps: int = IG_STEPS, objective: str = "log_odds"
) -> SeizureAttribution:
    """Attributions of a network model (not a fusion) for a prepared record (see `prepare_record`).

    `objective`: integrated gradients of the class's log-odds (default) or of its raw logit.
    """
    if model.network is None:
        raise ValueError(f"model {model.name!r} is a {model.kind}: explain its member streams instead")
    target = len(model.classes) - 1 if target is None else target
    fps = bundle.config.windows.target_fps
    first, last = segment_frames(bundle, record)
    segment_prob, _ = window_probabilities(bundle, model, record, first, last)
    inputs, starts_s = model_inputs(bundle, model, record, 0, record.num_frames)
    window_prob, _ = window_probabilities(bundle, model, record, 0, record.num_frames)
    starts = np.round(starts_s * fps).astype(int)
    probability = segment_prob.mean(axis=0) if len(segment_prob) else np.full(len(model.classes), np.nan)
    keypoints = get_stream(model.stream).keypoints_of(record)
    result = SeizureAttribution(
        seizure_id=record.seizure_id, model=model.name, task=model.task, kind=model.kind, stream=model.stream,
        classes=model.classes, target=target, fps=fps, onset_s=record.onset_s, offset_s=record.offset_s,
        generalisation_s=record.generalisation_s, joint_names=tuple(get_layout(keypoints.layout).joint_names),
        probability=probability, threshold=model.threshold, window_start_s=starts_s, window_prob=window_prob, objective=objective,
    )
    baseline = rest_baseline(inputs) if model.reads_keypoints else None
    attributions = integrated_gradients(explained_output(model.network, objective), inputs, target, steps, baseline)
    if not model.reads_keypoints:
        result.time_ig = _overlap_average(np.clip(attributions.sum(axis=2), 0.0, None), starts, record.num_frames)
        result.time_ig_abs = _overlap_average(np.abs(attributions).sum(axis=2), starts, record.num_frames)
        return result
    evidence_for, signed, magnitude = joint_readings(attributions)
    result.joint_time_ig = _overlap_average(evidence_for, starts, record.num_frames)
    result.joint_time_ig_signed = _overlap_average(signed, starts, record.num_frames)
    result.joint_time_ig_abs = _overlap_average(magnitude, starts, record.num_frames)
    result.joint_time_gradcam = _overlap_average(grad_cam(model.network, inputs, target, objective), starts, record.num_frames)
    ictal = (starts_s + bundle.config.windows.window_s > record.onset_s) & (starts_s < record.offset_s)
    with torch.no_grad():
        maps = model.network.attention_maps(torch.from_numpy(inputs[ictal] if ictal.any() else inputs))
    result.adjacency_learned = np.stack([(block["A"] + block["B"]).detach().numpy() for block in maps])
    result.adjacency_data = np.stack([block["C"].mean(dim=0).numpy() for block in maps])
    return result
