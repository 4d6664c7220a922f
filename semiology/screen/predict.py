"""Screen one recording with every model of a bundle: seizure-level probabilities and a timeline.

The seizure-level probability of each class is the mean over the windows of the segment the
models were trained on (the ictal period from the manifest's onset/offset, or the whole
recording), the same window -> seizure rule the evaluation uses; the timeline holds the
probability of every window over the whole recording.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from semiology.bundle import Bundle, BundleError, check_record, prepare_record, segment_frames, window_probabilities
from semiology.records import SeizureRecord


class ScreeningError(BundleError):
    """A recording the bundle cannot screen: no ictal window, or no model can read it (the models' reasons joined)."""


def _members(bundle: Bundle, name: str) -> list[str]:
    model = bundle.model(name)
    return [m for member in model.members for m in _members(bundle, member)] if model.kind == "fusion" else [name]


def _check_model(bundle: Bundle, name: str, record: SeizureRecord) -> None:
    for member in _members(bundle, name):
        check_record(bundle.model(member), record)


def screen_record(bundle: Bundle, record: SeizureRecord) -> dict[str, Any]:
    """The result row of one recording; raises ScreeningError when no model can read it."""
    prepared = prepare_record(bundle, record)
    first, last = segment_frames(bundle, prepared)
    if last <= first:
        raise ScreeningError(f"no frames between onset {record.onset_s:.2f} s and offset {record.offset_s:.2f} s in a {record.duration_s:.2f} s recording")
    models, timeline, problems = {}, {}, []
    for name, model in bundle.models.items():
        try:
            _check_model(bundle, name, prepared)
        except BundleError as error:
            problems.append(f"{name}: {error}")
            models[name] = {"task": model.task, "error": str(error)}
            continue
        segment_prob, _ = window_probabilities(bundle, model, prepared, first, last)
        if len(segment_prob) == 0:
            raise ScreeningError(f"the ictal segment ({record.onset_s:.2f}-{record.offset_s:.2f} s) is too short for one window")
        probability = segment_prob.mean(axis=0)
        threshold = model.threshold
        if len(model.classes) == 2 and np.isfinite(threshold):
            decision = model.classes[1] if probability[1] >= threshold else model.classes[0]
        else:
            decision = model.classes[int(np.argmax(probability))]
        window_prob, starts = window_probabilities(bundle, model, prepared, 0, prepared.num_frames)
        models[name] = {
            "task": model.task,
            "probability": {cls: float(p) for cls, p in zip(model.classes, probability, strict=True)},
            "threshold": None if not np.isfinite(threshold) else float(threshold),
            "decision": decision,
            "n_windows": int(len(segment_prob)),
        }
        timeline[name] = {"start_s": [float(s) for s in starts], "prob": [[float(p) for p in row] for row in window_prob]}
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
        "window_s": float(bundle.config.windows.window_s),
        "models": models,
        "timeline": timeline,
    }
