"""Screen one recording with every model of a bundle: seizure-level probabilities, a timeline and its episodes.

The seizure-level probability of each class is the mean over the windows of the segment the
models were trained on (the ictal period from the manifest's onset/offset, or the whole
recording), the same window -> seizure rule the evaluation uses; the timeline holds the
probability of every window over the whole recording. A recording without clinical times
(onset and offset NaN: an unannotated recording, or a live one) gets the timeline and no
seizure-level decision. Episodes are read off each two-class model's timeline with the alarm
policy the live path uses (`AlarmPolicy`: the positive class above the model's threshold in
k of the last n windows), so a batch run and a live run of one recording report the same ones.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from semiology.bundle import Bundle, BundleError, check_record, prepare_record, segment_frames, window_probabilities
from semiology.errors import SemiologyError
from semiology.preprocess.model_inputs import record_reference
from semiology.records import SeizureRecord


class ScreeningError(BundleError):
    """A recording the bundle cannot screen: no ictal window, or no model can read it (the models' reasons joined)."""


def _members(bundle: Bundle, name: str) -> list[str]:
    model = bundle.model(name)
    return [m for member in model.members for m in _members(bundle, member)] if model.kind == "fusion" else [name]


def _check_model(bundle: Bundle, name: str, record: SeizureRecord) -> None:
    for member in _members(bundle, name):
        check_record(bundle.model(member), record)


class AlarmPolicyError(SemiologyError):
    """An alarm policy that cannot work: k not in [1, n], or a threshold outside [0, 1]."""


@dataclass(frozen=True)
class AlarmPolicy:
    """Raise an alarm when the positive class reaches `threshold` in at least `k` of the last `n` windows.

    One window above threshold is often noise (a clinician's arm, a cough); asking for k of n
    trades a delay of up to k - 1 hops for fewer false alarms. `threshold` None: each model's
    own bundled threshold (0.5 when it has none).
    """

    k: int = 2
    n: int = 3
    threshold: float | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.k <= self.n:
            raise AlarmPolicyError(f"alarm policy: k must lie in [1, n], got k={self.k}, n={self.n}")
        if self.threshold is not None and not 0.0 <= self.threshold <= 1.0:
            raise AlarmPolicyError(f"alarm policy: threshold must lie in [0, 1], got {self.threshold}")

    def threshold_for(self, model_threshold: float) -> float:
        """The threshold used for a model whose bundled threshold is `model_threshold` (NaN: none)."""
        if self.threshold is not None:
            return self.threshold
        return float(model_threshold) if np.isfinite(model_threshold) else 0.5


@dataclass
class AlarmState:
    """The running k-of-n count of one model: `update` with each window in time order returns `onset`, `offset` or None."""

    policy: AlarmPolicy
    threshold: float
    recent: deque = field(default_factory=deque)
    active: bool = False
    episode_start_s: float | None = None
    last_above_end_s: float | None = None

    def update(self, start_s: float, end_s: float, probability: float) -> str | None:
        above = probability >= self.threshold
        self.recent.append((start_s, end_s, float(probability), bool(above)))
        while len(self.recent) > self.policy.n:
            self.recent.popleft()
        if above:
            self.last_above_end_s = end_s
        count = sum(item[3] for item in self.recent)
        if not self.active and count >= self.policy.k:
            self.active = True
            self.episode_start_s = next(item[0] for item in self.recent if item[3])
            return "onset"
        if self.active and count < self.policy.k:
            self.active = False
            return "offset"
        return None

    @property
    def evidence(self) -> list[dict[str, float]]:
        """The last n windows (start, end, probability) behind the current state."""
        return [{"start_s": a, "end_s": b, "probability": p} for a, b, p, _ in self.recent]


def detect_episodes(starts_s: Sequence[float], probabilities: Sequence[float], window_s: float, policy: AlarmPolicy, threshold: float) -> list[dict[str, Any]]:
    """Episodes of a timeline: from the first above-threshold window of each alarm to the end of its last above-threshold window.

    `alarm_s` is when the alarm would have fired live (the end of the window that completed
    the k of n); `peak` the highest probability from the episode's start to its end.
    """
    state = AlarmState(policy, threshold)
    episodes: list[dict[str, Any]] = []
    for start, probability in zip(starts_s, probabilities, strict=True):
        event = state.update(float(start), float(start) + window_s, float(probability))
        if event == "onset":
            evidence = [item["probability"] for item in state.evidence if item["start_s"] >= (state.episode_start_s or 0.0)]
            episodes.append({"start_s": state.episode_start_s, "end_s": state.last_above_end_s, "alarm_s": float(start) + window_s, "peak": max(evidence)})
        elif state.active:
            episodes[-1].update(end_s=state.last_above_end_s, peak=max(episodes[-1]["peak"], float(probability)))
    return episodes


def screen_record(bundle: Bundle, record: SeizureRecord, policy: AlarmPolicy | None = None) -> dict[str, Any]:
    """The result row of one recording; raises ScreeningError when no model can read it.

    Without clinical times (NaN onset or offset) a bundle trained on the ictal segment gives
    the timeline and episodes only; each row notes which normalisation reference a recording
    fell back to (see `semiology.preprocess.model_inputs.record_reference`).
    """
    policy = policy or AlarmPolicy()
    prepared = prepare_record(bundle, record)
    annotated = bool(np.isfinite(record.onset_s) and np.isfinite(record.offset_s))
    first, last = segment_frames(bundle, prepared) if annotated or bundle.config.windows.segment != "ictal" else (0, 0)
    if annotated and last <= first:
        raise ScreeningError(f"no frames between onset {record.onset_s:.2f} s and offset {record.offset_s:.2f} s in a {record.duration_s:.2f} s recording")
    window_s = float(bundle.config.windows.window_s)
    models, timeline, episodes, notes, problems = {}, {}, {}, {}, []
    for name, model in bundle.models.items():
        try:
            _check_model(bundle, name, prepared)
        except BundleError as error:
            problems.append(f"{name}: {error}")
            models[name] = {"task": model.task, "error": str(error)}
            continue
        threshold = model.threshold
        models[name] = {"task": model.task, "threshold": None if not np.isfinite(threshold) else float(threshold)}
        if last > first:
            segment_prob, _ = window_probabilities(bundle, model, prepared, first, last)
            if len(segment_prob) == 0:
                raise ScreeningError(f"the ictal segment ({record.onset_s:.2f}-{record.offset_s:.2f} s) is too short for one window")
            probability = segment_prob.mean(axis=0)
            if len(model.classes) == 2 and np.isfinite(threshold):
                decision = model.classes[1] if probability[1] >= threshold else model.classes[0]
            else:
                decision = model.classes[int(np.argmax(probability))]
            models[name].update(probability={cls: float(p) for cls, p in zip(model.classes, probability, strict=True)}, decision=decision,
                                n_windows=int(len(segment_prob)))
        window_prob, starts = window_probabilities(bundle, model, prepared, 0, prepared.num_frames)
        timeline[name] = {"start_s": [float(s) for s in starts], "prob": [[float(p) for p in row] for row in window_prob]}
        if len(model.classes) == 2:
            episodes[name] = detect_episodes(starts, window_prob[:, 1], window_s, policy, policy.threshold_for(threshold))
        note = record_reference(prepared, model.stream, bundle.config).note if model.kind != "fusion" else None
        if note is not None:
            notes[model.stream] = note
    if len(problems) == len(bundle.models):
        raise ScreeningError("; ".join(dict.fromkeys(p.split(": ", 1)[1] for p in problems)))
    return {
        "seizure_id": record.seizure_id,
        "subject_id": record.subject_id,
        "status": "ok",
        "error": None,
        "onset_s": float(record.onset_s),
        "offset_s": float(record.offset_s),
        "duration_s": float(record.duration_s),
        "window_s": window_s,
        "models": models,
        "timeline": timeline,
        "episodes": episodes,
        "alarm_policy": {"k": policy.k, "n": policy.n, "threshold": policy.threshold},
        "normalisation": {"baseline": bundle.config.windows.baseline, "notes": notes},
    }
