"""The baseline policy (windows.baseline): pre_ictal unchanged, a stated fallback, the stillest block, a causal baseline."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from semiology.bundle import load_bundle
from semiology.config import config_from_dict
from semiology.errors import ConfigError, DataWarning
from semiology.experiment import ExperimentConfig, check_experiment
from semiology.layouts import get_layout
from semiology.preprocess.model_inputs import record_stream_windows
from semiology.preprocess.resample import resample_record
from semiology.preprocess.windows import Window, baseline_pose, causal_window, keypoint_window_tensor, pair_scale, quietest_block
from semiology.records import Keypoints
from semiology.screen.predict import screen_record
from semiology.screen.report import summary_rows

TASKS = {"tasks": [{"name": "ictal", "classes": ["rest", "seizure"]}], "models": [{"name": "m", "task": "ictal", "kind": "agcn"}]}


def config_with(**windows) -> ExperimentConfig:
    config = config_from_dict({**TASKS, "windows": windows}, ExperimentConfig, source="test.yaml")
    check_experiment(config, "test.yaml")
    return config


@pytest.fixture(scope="module")
def record(unseen_recordings):
    return resample_record(unseen_recordings[0], 10.0)


def test_pre_ictal_windows_are_computed_as_before(record):
    config = config_with()
    keypoints = record.body_2d
    scale_pair = get_layout(keypoints.layout).scale_pair
    scale = pair_scale(keypoints.coords, keypoints.layout, scale_pair)
    pre_ictal = np.arange(0, int(round(record.onset_s * 10.0)))
    baseline = baseline_pose(keypoints, pre_ictal, scale_pair, scale)
    windows, _, starts = record_stream_windows(record, "body", config, 0, record.num_frames)
    for window, start in zip(windows, starts, strict=True):
        frames = np.arange(int(round(start * 10)), min(int(round(start * 10)) + 20, record.num_frames))
        assert np.array_equal(window, keypoint_window_tensor(keypoints, frames, 20, scale_pair, False, baseline, scale))


def test_a_recording_without_pre_ictal_frames_takes_the_stated_fallback_with_a_warning(record):
    no_onset = dataclasses.replace(record, onset_s=0.0)
    keypoints = record.body_2d
    scale_pair = get_layout(keypoints.layout).scale_pair
    scale = pair_scale(keypoints.coords, keypoints.layout, scale_pair)
    stillest = quietest_block(keypoints, 0, record.num_frames, 20, scale)
    with pytest.warns(DataWarning, match=rf"seizure {record.seizure_id}, body stream: no pre-ictal frames: baseline and body frame from the stillest block, "):
        fallback, _, _ = record_stream_windows(no_onset, "body", config_with(), 0, 20)
    assert np.array_equal(fallback[0], keypoint_window_tensor(keypoints, np.arange(20), 20, scale_pair, False, baseline_pose(keypoints, stillest, scale_pair, scale), scale))
    with pytest.warns(DataWarning, match="no baseline subtracted"):
        bare, _, _ = record_stream_windows(no_onset, "body", config_with(baseline_fallback="none"), 0, 20)
    assert np.array_equal(bare[0], keypoint_window_tensor(keypoints, np.arange(20), 20, scale_pair, False, None, scale))


def test_the_stillest_block_is_found():
    rng = np.random.default_rng(0)
    coords = rng.normal(0.0, 5.0, (60, 11, 2)).astype(np.float32) + 100.0
    coords[20:40] = 100.0 + rng.normal(0.0, 0.01, (20, 11, 2))
    keypoints = Keypoints(coords, np.ones((60, 11), dtype=np.float32), "upper_body_11", 10.0, "test")
    assert np.array_equal(quietest_block(keypoints, 0, 60, 20, 1.0), np.arange(20, 40))
    assert quietest_block(keypoints, 0, 19, 20, 1.0) is None


def test_a_causal_window_reads_nothing_after_its_end(record):
    keypoints = record.body_2d
    scale_pair = get_layout(keypoints.layout).scale_pair
    window = Window(80, 100)
    made = causal_window(keypoints, None, window, 20, scale_pair, False, 200, False)
    spoilt = keypoints.coords.copy()
    spoilt[100:] = np.random.default_rng(1).normal(0.0, 1000.0, spoilt[100:].shape)
    again = causal_window(Keypoints(spoilt, keypoints.confidence, keypoints.layout, keypoints.fps, keypoints.source), None, window, 20, scale_pair, False, 200, False)
    assert np.array_equal(made.keypoints, again.keypoints) and made.rest_frames is not None and made.rest_frames.max() < window.start
    config = config_with(baseline="causal", baseline_history_s=20.0, stride_s=1.0)
    batch, _, starts = record_stream_windows(record, "body", config, 0, record.num_frames)
    assert np.array_equal(batch[starts.index(8.0)], made.keypoints)


def test_the_policy_is_validated():
    with pytest.raises(ConfigError, match="windows.baseline_history_s: a causal baseline"):
        config_with(baseline="causal", baseline_history_s=1.0)
    with pytest.raises(ConfigError, match="baseline"):
        config_with(baseline="last_week")
    with pytest.raises(ConfigError, match="baseline_history_s must be positive"):
        config_with(baseline_history_s=-1.0)


def test_the_screening_row_and_summary_carry_the_fallback_note(live_bundle, unseen_recordings):
    bundle = load_bundle(live_bundle.path)
    pre_ictal = dataclasses.replace(bundle, config=dataclasses.replace(bundle.config, windows=dataclasses.replace(bundle.config.windows, baseline="pre_ictal")))
    annotated = dataclasses.replace(unseen_recordings[0], onset_s=0.0)
    with pytest.warns(DataWarning):
        row = screen_record(pre_ictal, annotated)
    assert "no pre-ictal frames" in row["normalisation"]["notes"]["body"]
    (flat,) = summary_rows(pre_ictal, [row])
    assert flat["normalisation"].startswith("body: no pre-ictal frames")
    unannotated = screen_record(bundle, dataclasses.replace(unseen_recordings[0], onset_s=math.nan, offset_s=math.nan))
    assert "probability" not in unannotated["models"]["AGCN-onset"] and unannotated["timeline"]["AGCN-onset"]["start_s"]
    assert unannotated["normalisation"] == {"baseline": "causal", "notes": {}}
