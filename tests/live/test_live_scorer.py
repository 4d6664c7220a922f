"""The causal core of a live session against batch screening, and the alarm on a planted onset."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from semiology.bundle import load_bundle
from semiology.live.session import LiveError, LiveScorer
from semiology.preprocess.resample import resample_record
from semiology.records import Keypoints, SeizureRecord
from semiology.screen.predict import AlarmPolicy, AlarmPolicyError, screen_record

TOLERANCE = 1e-5
"""Live and batch probabilities of one window: the same input tensor, scored in a batch of one vs. all windows at once."""
ALARM_WITHIN_S = 8.0
"""The stated bound: with 2-s windows every 1 s and 2 of 3 above 0.5, the alarm comes at most this long after the clinical onset."""


def frame_of(record: SeizureRecord, index: int) -> SeizureRecord:
    """Frame `index` of `record` as a one-frame record (what a live session gets from the chain per frame)."""

    def keypoints(stream: Keypoints | None) -> Keypoints | None:
        return None if stream is None else Keypoints(stream.coords[index : index + 1], stream.confidence[index : index + 1], stream.layout, stream.fps, stream.source)

    return dataclasses.replace(record, body_2d=keypoints(record.body_2d), body_3d=keypoints(record.body_3d), face_2d=keypoints(record.face_2d),
                               body_crops=None, face_crops=None, body_features=None, face_features=None)


def play(scorer: LiveScorer, record: SeizureRecord, drop: set[int] = frozenset()) -> list[dict]:
    events = []
    for index in range(record.num_frames):
        events += scorer.push(index, None if index in drop else frame_of(record, index))
    return events


def test_live_decisions_equal_batch_screening_on_the_same_windows(live_bundle, unseen_recordings):
    bundle = load_bundle(live_bundle.path)
    at_25_fps = resample_record(unseen_recordings[0], 25.0)  # 2.5 source frames per grid frame: the nearest-frame rule decides
    for record in [*unseen_recordings, at_25_fps]:
        unannotated = dataclasses.replace(record, onset_s=math.nan, offset_s=math.nan)
        batch = screen_record(bundle, unannotated)["timeline"]["AGCN-onset"]
        decisions = [event for event in play(LiveScorer(bundle, record.fps), record) if event["type"] == "decision"]
        by_start = dict(zip(batch["start_s"], batch["prob"], strict=True))
        assert len(decisions) >= len(by_start) - 1 >= 15
        for decision in decisions:
            live = decision["models"]["AGCN-onset"]["prob"]
            expected = by_start[decision["window_start_s"]]
            assert [live["rest"], live["seizure"]] == pytest.approx(expected, abs=TOLERANCE)


def test_alarm_fires_soon_after_the_planted_onset_and_never_before(live_bundle, unseen_recordings):
    bundle = load_bundle(live_bundle.path)
    policy = AlarmPolicy(k=2, n=3, threshold=0.5)
    for record in unseen_recordings:
        events = play(LiveScorer(bundle, record.fps, policy), record)
        alarms = [event for event in events if event["type"] == "alarm"]
        assert alarms, f"{record.seizure_id}: no alarm (onset at {record.onset_s:.1f} s)"
        first = alarms[0]
        assert record.onset_s < first["alarm_s"] <= record.onset_s + ALARM_WITHIN_S
        assert first["onset_s"] >= record.onset_s - bundle.config.windows.window_s, "an episode began in the pre-ictal part"
        assert len(first["evidence"]) == policy.n and sum(item["probability"] >= 0.5 for item in first["evidence"]) >= policy.k
        pre_ictal = [e for e in events if e["type"] == "decision" and e["window_end_s"] <= record.onset_s]
        assert pre_ictal and all(not e["models"]["AGCN-onset"]["above"] for e in pre_ictal)
        episodes = screen_record(bundle, dataclasses.replace(record, onset_s=math.nan, offset_s=math.nan), policy)["episodes"]["AGCN-onset"]
        assert episodes[0]["alarm_s"] == first["alarm_s"] and episodes[0]["start_s"] == first["onset_s"]


def test_dropped_frames_become_missing_frames_and_are_counted(live_bundle, unseen_recordings):
    bundle = load_bundle(live_bundle.path)
    record = unseen_recordings[0]
    scorer = LiveScorer(bundle, record.fps)
    decisions = [e for e in play(scorer, record, drop=set(range(0, record.num_frames, 2))) if e["type"] == "decision"]
    assert scorer.dropped_targets > 0 and any(d["frames_missing"] > 0 for d in decisions)
    assert all(np.isfinite(list(d["models"]["AGCN-onset"]["prob"].values())).all() for d in decisions)


def test_a_bundle_with_a_pre_ictal_baseline_is_refused_for_live(live_bundle):
    bundle = load_bundle(live_bundle.path)
    pre_ictal = dataclasses.replace(bundle, config=dataclasses.replace(bundle.config, windows=dataclasses.replace(bundle.config.windows, baseline="pre_ictal")))
    with pytest.raises(LiveError, match="baseline 'pre_ictal'.*windows.baseline: causal"):
        LiveScorer(pre_ictal, 30.0)


def test_alarm_policy_is_checked():
    with pytest.raises(AlarmPolicyError, match="k must lie in"):
        AlarmPolicy(k=4, n=3)
    with pytest.raises(AlarmPolicyError, match="threshold"):
        AlarmPolicy(threshold=1.5)
