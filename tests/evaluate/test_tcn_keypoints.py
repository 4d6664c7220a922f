"""A TCN with `keypoints: true` reads appearance features followed by the window's normalised keypoints."""

import json

import numpy as np
import pytest

from semiology.config import config_from_dict
from semiology.errors import ConfigError
from semiology.evaluate.study import run_study
from semiology.experiment import ExperimentConfig, check_experiment
from semiology.preprocess.model_inputs import build_stream_windows, keypoints_per_frame, tcn_inputs
from tests.evaluate.test_study import SMALL


def test_keypoints_per_frame_is_joint_major():
    windows = np.arange(2 * 3 * 4 * 2, dtype=np.float32).reshape(2, 3, 4, 2, 1)
    flat = keypoints_per_frame(windows)
    assert flat.shape == (2, 4, 6)
    np.testing.assert_array_equal(flat[1, 2], [windows[1, c, 2, v, 0] for v in range(2) for c in range(3)])


def test_tcn_inputs_append_the_keypoint_windows(small_records):
    config = config_from_dict(SMALL, ExperimentConfig, source="test")
    windows = build_stream_windows(small_records, config.tasks[0], "body", config)
    assert tcn_inputs(windows.features, windows.keypoints, False) is windows.features
    both = tcn_inputs(windows.features, windows.keypoints, True)
    channels, frames, joints, _ = windows.keypoints.shape[1:]
    dims = windows.features.shape[-1]
    assert both.shape == windows.features.shape[:2] + (dims + joints * channels,)
    np.testing.assert_array_equal(both[..., :dims], windows.features)
    np.testing.assert_array_equal(both[..., dims:], keypoints_per_frame(windows.keypoints))


def _spec(teacher_keypoints: bool) -> dict:
    spec = json.loads(json.dumps(SMALL))
    spec["evaluation"].update(split="grouped_kfold", n_splits=2)
    spec["models"] = [
        {"name": "TCN-pose", "task": "dystonia", "kind": "tcn", "stream": "body", "keypoints": teacher_keypoints},
        {"name": "AGCN-pose+KD", "task": "dystonia", "kind": "agcn_kd", "stream": "body", "teacher": "TCN-pose"},
    ]
    return spec


def test_a_keypoint_teacher_trains_and_changes_its_student(small_records):
    plain = run_study(config_from_dict(_spec(False), ExperimentConfig, source="test"), small_records, synthetic=True, progress=False)
    both = run_study(config_from_dict(_spec(True), ExperimentConfig, source="test"), small_records, synthetic=True, progress=False)
    for before, after in zip(plain.models, both.models):
        assert np.isfinite(after.predictions.prob).all()
        assert not np.allclose(before.predictions.prob, after.predictions.prob)


def test_keypoints_only_for_tcn():
    spec = _spec(True)
    spec["models"][1]["keypoints"] = True
    with pytest.raises(ConfigError, match="models.AGCN-pose\\+KD.keypoints"):
        check_experiment(config_from_dict(spec, ExperimentConfig, source="bad.yaml"), "bad.yaml")
