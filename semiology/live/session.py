"""A live session: frames in one at a time, window decisions and alarms out, using no future frame.

Frames go through the batch extraction chain (`semiology.extract.chain.FrameChain`: patient
box, pose, face, crops), drained after every frame so that only the recent past is held. The
chain's output is cleaned with the per-frame part of the extraction config's cleaning (weak
joints become missing); bridging gaps and centred smoothing read future frames and are left
out, so batch extraction equals live extraction when its config sets `cleaning.max_gap_s: 0`
and `cleaning.smooth_s: 0`. Frames are taken onto the bundle's frame rate by the batch rule
(`semiology.preprocess.windows.resample_indices`: the nearest source frame), and each window is
scored as soon as its last frame is in, through the bundle's own `window_probabilities` on a
record holding just the window and the history its causal baseline reads
(`windows.baseline_history_s`). The bundle must have been trained with `windows.baseline:
causal` (or `none`): a pre-ictal or whole-recording baseline cannot be computed while the
recording is still running.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from semiology.bundle import Bundle, BundleError, prepare_record, window_probabilities
from semiology.detect.clean import CleaningConfig
from semiology.errors import SemiologyError
from semiology.extract.chain import ChainOutput, FrameChain, refuse_draining
from semiology.extract.config import ExtractionConfig
from semiology.extract.recording import IrScaler, build_record
from semiology.io.manifest import ManifestRow
from semiology.records import Keypoints, SeizureRecord
from semiology.screen.predict import AlarmPolicy, AlarmState

LIVE_BASELINES = ("causal", "none")
"""Baseline policies a live session can compute (see `semiology.experiment.WindowConfig`)."""
LIVE_ID = "live"
"""The seizure and subject id of a live record: no identifier of the patient is known or written."""


class LiveError(SemiologyError):
    """A bundle or setting a live session cannot run with."""


def check_live_bundle(bundle: Bundle) -> None:
    """Refuse a bundle whose normalisation needs frames a live session does not have yet."""
    baseline = bundle.config.windows.baseline
    if baseline not in LIVE_BASELINES:
        raise LiveError(
            f"{bundle.path}: the bundle normalises windows with baseline {baseline!r}, which needs the clinical onset or the whole "
            f"recording; live classification needs a bundle trained with windows.baseline: causal (or none)"
        )


def causal_cleaning(config: ExtractionConfig) -> ExtractionConfig:
    """`config` with only the per-frame part of its cleaning: no gap bridging, no centred smoothing (both read later frames)."""
    return dataclasses.replace(config, cleaning=CleaningConfig(min_confidence=config.cleaning.min_confidence, max_gap_s=0.0, smooth_s=0.0))


def concat_records(pieces: list[SeizureRecord], fps: float) -> SeizureRecord:
    """One record of consecutive one-frame records (keypoints and crops stacked in order), with no clinical times."""
    first = pieces[0]

    def keypoints(name: str) -> Keypoints | None:
        parts = [getattr(piece, name) for piece in pieces]
        if any(part is None for part in parts):
            return None
        return Keypoints(np.concatenate([p.coords for p in parts]), np.concatenate([p.confidence for p in parts]), parts[0].layout, fps, parts[0].source)

    def frames(name: str) -> np.ndarray | None:
        parts = [getattr(piece, name) for piece in pieces]
        return None if any(part is None for part in parts) else np.concatenate(parts)

    return dataclasses.replace(
        first, fps=fps, onset_s=math.nan, offset_s=math.nan, generalisation_s=None,
        body_2d=keypoints("body_2d"), body_3d=keypoints("body_3d"), face_2d=keypoints("face_2d"),
        body_crops=frames("body_crops"), face_crops=frames("face_crops"), body_features=frames("body_features"), face_features=frames("face_features"),
    )


def blank_like(piece: SeizureRecord) -> SeizureRecord:
    """A one-frame record shaped like `piece` in which nothing was seen: what a dropped frame becomes."""

    def keypoints(stream: Keypoints | None) -> Keypoints | None:
        if stream is None:
            return None
        return Keypoints(np.full_like(stream.coords, np.nan), np.zeros_like(stream.confidence), stream.layout, stream.fps, stream.source)

    def frames(array: np.ndarray | None) -> np.ndarray | None:
        return None if array is None else np.zeros_like(array)

    return dataclasses.replace(piece, body_2d=keypoints(piece.body_2d), body_3d=keypoints(piece.body_3d), face_2d=keypoints(piece.face_2d),
                               body_crops=frames(piece.body_crops), face_crops=frames(piece.face_crops),
                               body_features=frames(piece.body_features), face_features=frames(piece.face_features))


class LiveScorer:
    """One-frame records at the source rate in, window decisions and alarms out (the causal core of a live session).

    `push(source_index, piece, offered_at)` takes the cleaned keypoints (and crops) of one
    source frame, or None for a frame that was dropped; it returns the events the frame
    completed: a `decision` per window (every `hop_s`, default the bundle's stride) and an
    `alarm` / `alarm_end` per two-class model whose k-of-n state changed.
    """

    def __init__(self, bundle: Bundle, source_fps: float, policy: AlarmPolicy | None = None, hop_s: float | None = None) -> None:
        check_live_bundle(bundle)
        settings = bundle.config.windows
        self.bundle = bundle
        self.source_fps = float(source_fps)
        self.target_fps = float(settings.target_fps)
        self.window_s = float(settings.window_s)
        self.window_frames = int(round(settings.window_s * self.target_fps))
        self.hop_frames = max(1, int(round((settings.stride_s if hop_s is None else hop_s) * self.target_fps)))
        if hop_s is not None and hop_s <= 0:
            raise LiveError(f"--hop must be positive, got {hop_s}")
        self.history_frames = int(round(settings.baseline_history_s * self.target_fps)) if settings.baseline == "causal" else 0
        self.policy = policy or AlarmPolicy()
        self.states = {name: AlarmState(self.policy, self.policy.threshold_for(model.threshold))
                       for name, model in bundle.models.items() if len(model.classes) == 2}
        self._kept: deque[SeizureRecord | None] = deque(maxlen=self.history_frames + self.window_frames)
        self._blank: SeizureRecord | None = None
        self.next_target = 0
        self.next_window = 0
        self.dropped_targets = 0
        self.decisions = 0
        self.alarms = 0
        self.latencies_s: list[float] = []

    def source_index(self, target: int) -> int:
        """The source frame nearest to target frame `target` (the batch rule of `resample_indices`)."""
        return int(np.round(target * (1.0 / self.target_fps) * self.source_fps))

    def wants(self, source_index: int) -> bool:
        """Whether source frame `source_index` lands on the bundle's frame grid (only those need cleaning and keeping)."""
        return self.source_index(self.next_target) <= source_index

    def push(self, source_index: int, piece: SeizureRecord | None, offered_at: float | None = None) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        if piece is not None and self._blank is None:
            self._blank = blank_like(piece)
        while self.source_index(self.next_target) <= source_index:
            exact = self.source_index(self.next_target) == source_index and piece is not None
            self._kept.append(piece if exact else None)
            self.dropped_targets += not exact
            self.next_target += 1
            if self.next_target == self.next_window + self.window_frames:
                events += self._score(self.next_window, offered_at)
                self.next_window += self.hop_frames
        return events

    def _window_record(self, start: int) -> tuple[SeizureRecord | None, int]:
        first_kept = self.next_target - len(self._kept)
        lo = max(0, start - self.history_frames, first_kept)
        pieces = [self._kept[index - first_kept] for index in range(lo, start + self.window_frames)]
        if self._blank is None:
            return None, start - lo
        return concat_records([self._blank if piece is None else piece for piece in pieces], self.target_fps), start - lo

    def _score(self, start: int, offered_at: float | None) -> list[dict[str, Any]]:
        record, first = self._window_record(start)
        start_s, end_s = start / self.target_fps, start / self.target_fps + self.window_s
        window = {"type": "decision", "window_start_s": start_s, "window_end_s": end_s, "models": {}}
        missing = sum(piece is None for piece in list(self._kept)[-self.window_frames:])
        window["frames_missing"] = int(missing)
        events: list[dict[str, Any]] = [window]
        prepared = None if record is None else prepare_record(self.bundle, record)
        for name, model in self.bundle.models.items():
            if prepared is None:
                window["models"][name] = {"task": model.task, "error": "nobody seen yet (no frame kept)"}
                continue
            try:
                prob, _ = window_probabilities(self.bundle, model, prepared, first, first + self.window_frames)
            except BundleError as error:
                window["models"][name] = {"task": model.task, "error": str(error).replace(f"seizure {LIVE_ID}: ", "")}
                continue
            row = [float(p) for p in prob[0]]
            result: dict[str, Any] = {"task": model.task, "prob": dict(zip(model.classes, row, strict=True))}
            state = self.states.get(name)
            if state is not None:
                result["above"] = row[1] >= state.threshold
                change = state.update(start_s, end_s, row[1])
                if change == "onset":
                    self.alarms += 1
                    events.append({"type": "alarm", "model": name, "task": model.task, "class": model.classes[1], "onset_s": state.episode_start_s,
                                   "alarm_s": end_s, "threshold": state.threshold, "policy": f"{self.policy.k} of {self.policy.n}", "evidence": state.evidence})
                elif change == "offset":
                    events.append({"type": "alarm_end", "model": name, "task": model.task, "end_s": state.last_above_end_s, "at_s": end_s})
            window["models"][name] = result
        self.decisions += 1
        if offered_at is not None:
            latency = time.monotonic() - offered_at
            self.latencies_s.append(latency)
            window["latency_s"] = round(latency, 4)
        return events


class LiveSession:
    """The extraction chain and a `LiveScorer` for one source: `process` each frame, `skip` each dropped one.

    The detectors are loaded when the session is made, before the source starts delivering,
    so their start-up does not count as frames dropped; the chain starts on the first frame's size.

    `grid_only` runs the chain only on the source frames that land on the bundle's frame grid
    (every third frame of a 30 frames/s camera for a 10 frames/s bundle): the models read no
    other, so a third of the work gives the same kind of decisions, but the chain (its tracker
    told the grid's rate) then follows the patient at that rate, and the numbers are those of
    batch extraction of the resampled video, not of the full-rate file. Frames passed over this
    way are counted apart from dropped ones.
    """

    def __init__(self, bundle: Bundle, extraction: ExtractionConfig, source_fps: float, policy: AlarmPolicy | None = None, hop_s: float | None = None,
                 chain_factory: Callable[[ExtractionConfig], FrameChain] = FrameChain, grid_only: bool = False) -> None:
        refuse_draining(extraction)
        self.scorer = LiveScorer(bundle, source_fps, policy, hop_s)
        self.config = causal_cleaning(extraction)
        self.chain = chain_factory(self.config)
        self.grid_only = grid_only
        self.image_size: tuple[int, int] | None = None
        self.passed_over = 0
        self.scale = IrScaler(self.config.ir_low_pct, self.config.ir_high_pct)
        self.fps = float(source_fps)
        self.row = ManifestRow(seizure_id=LIVE_ID, subject_id=LIVE_ID, paths={}, fps=self.fps, onset_s=math.nan, offset_s=math.nan)
        self.processed = 0
        self.skipped = 0

    def piece(self, output: ChainOutput) -> SeizureRecord:
        """The cleaned, layout-mapped one-frame record of one drained chain frame (the batch `build_record`, per frame)."""
        return build_record(self.row, output, self.fps, self.config, self.chain.sources)

    def process(self, index: int, image: np.ndarray, offered_at: float | None = None) -> list[dict[str, Any]]:
        """Run the chain on source frame `index` and return the events it completes."""
        if self.grid_only and not self.scorer.wants(index):
            self.passed_over += 1
            return []
        if self.image_size is None:
            self.image_size = (int(image.shape[1]), int(image.shape[0]))
            self.chain.start(self.image_size, fps=self.scorer.target_fps if self.grid_only else self.fps)
        self.chain.process(self.scale(image))
        output = self.chain.drain()
        self.processed += 1
        piece = self.piece(output) if self.scorer.wants(index) else None
        return self.scorer.push(index, piece, offered_at) if piece is not None else []

    def skip(self, index: int, offered_at: float | None = None) -> list[dict[str, Any]]:
        """Source frame `index` was dropped: its grid frames are missing; returns the events that completes."""
        self.skipped += 1
        return self.scorer.push(index, None, offered_at) if self.scorer.wants(index) else []

    @property
    def frames_seen(self) -> int:
        """Source frames accounted for: processed, passed over (`grid_only`) or dropped."""
        return self.processed + self.passed_over + self.skipped

    def close(self) -> None:
        self.chain.close()
