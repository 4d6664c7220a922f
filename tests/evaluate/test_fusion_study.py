"""Late fusion of any number of members on a task of any number of classes, in the folds and in a bundle."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from semiology.bundle import load_bundle, model_inputs, prepare_record, segment_frames, window_probabilities
from semiology.bundle.build import build_bundle
from semiology.config import config_from_dict
from semiology.errors import ConfigError
from semiology.evaluate.study import run_study
from semiology.experiment import ExperimentConfig, check_experiment
from semiology.models.fusion import fuse
from semiology.preprocess.model_inputs import build_stream_windows
from semiology.train.final import select_final_settings
from tests.evaluate.test_study import SMALL

CLASSES = ["low", "mid", "high"]


def _spec() -> dict:
    spec = json.loads(json.dumps(SMALL))
    spec["evaluation"].update(split="grouped_kfold", n_splits=2)
    spec["tasks"] = [{"name": "grade", "classes": CLASSES}]
    spec["models"] = [
        {"name": "AGCN-a", "task": "grade", "kind": "agcn", "stream": "body"},
        {"name": "AGCN-b", "task": "grade", "kind": "agcn", "stream": "body", "train": {"lr": 0.01}},
        {"name": "AGCN-c", "task": "grade", "kind": "agcn", "stream": "body", "train": {"batch_size": 8}},
        {"name": "all three", "task": "grade", "kind": "fusion", "stream": "body", "members": ["AGCN-a", "AGCN-b", "AGCN-c"]},
    ]
    return spec


@pytest.fixture(scope="module")
def graded(small_records):
    """The small cohort with a three-class label, one class per pair of subjects."""
    subjects = sorted({record.subject_id for record in small_records})
    return [dataclasses.replace(record, labels={**record.labels, "grade": CLASSES[subjects.index(record.subject_id) % 3]}) for record in small_records]


def test_a_three_member_fusion_of_a_three_class_task_runs_in_the_folds_and_in_a_bundle(graded, tmp_path) -> None:
    config = config_from_dict(_spec(), ExperimentConfig, source="test")
    check_experiment(config, "test")
    study = run_study(config, graded, synthetic=True, progress=False)
    by_name = {result.model: result for result in study.models}
    fusion = by_name["all three"]
    assert np.allclose(fusion.predictions.prob.sum(axis=1), 1.0) and fusion.predictions.prob.shape[1] == 3
    for fold, choice in fusion.selected.items():
        weights = (choice["fusion_weight"], choice["fusion_weight_2"], 1.0 - choice["fusion_weight"] - choice["fusion_weight_2"])
        assert min(weights) >= -1e-9 and np.isnan(choice["threshold"]), "three classes: the argmax decides, no threshold"
        rows = fusion.predictions.fold == fold
        members = [by_name[name].predictions.prob[by_name[name].predictions.fold == fold] for name in ("AGCN-a", "AGCN-b", "AGCN-c")]
        np.testing.assert_allclose(fusion.predictions.prob[rows], fuse(members, weights), atol=1e-12)

    final = select_final_settings(fusion.selected)
    assert len(final.fusion_weights) == 3 and sum(final.fusion_weights) == pytest.approx(1.0)
    build_bundle(config, graded, study, {f"grade/{m.name}": {} for m in config.models}, {}, tmp_path / "bundle")
    bundle = load_bundle(tmp_path / "bundle")
    record = prepare_record(bundle, graded[0])
    first, last = segment_frames(bundle, record)
    fused, _ = window_probabilities(bundle, bundle.model("all three"), record, first, last)
    parts = [window_probabilities(bundle, bundle.model(name), record, first, last)[0] for name in ("AGCN-a", "AGCN-b", "AGCN-c")]
    assert bundle.model("all three").fusion_weights == pytest.approx(final.fusion_weights)
    np.testing.assert_allclose(fused, fuse(parts, list(bundle.model("all three").fusion_weights)), atol=1e-12)


def test_a_fusion_needs_two_or_more_different_members() -> None:
    spec = _spec()
    spec["models"][3]["members"] = ["AGCN-a", "AGCN-a"]
    with pytest.raises(ConfigError, match="must name two or more different models"):
        check_experiment(config_from_dict(spec, ExperimentConfig, source="bad.yaml"), "bad.yaml")


def test_joint_and_bone_streams_are_two_rows_of_one_study_and_fuse(small_records, tmp_path) -> None:
    spec = json.loads(json.dumps(SMALL))
    spec["evaluation"].update(split="grouped_kfold", n_splits=2)
    spec["models"] = [
        {"name": "AGCN-joint", "task": "dystonia", "kind": "agcn", "stream": "body"},
        {"name": "AGCN-bone", "task": "dystonia", "kind": "agcn", "stream": "body", "bones": True},
        {"name": "2s-AGCN", "task": "dystonia", "kind": "fusion", "stream": "body", "members": ["AGCN-joint", "AGCN-bone"]},
    ]
    config = config_from_dict(spec, ExperimentConfig, source="test")
    check_experiment(config, "test")
    task = config.tasks[0]
    joints = build_stream_windows(small_records, task, "body", config, bones=config.models[0].reads_bones(config))
    bones = build_stream_windows(small_records, task, "body", config, bones=config.models[1].reads_bones(config))
    assert joints.keypoints.shape == bones.keypoints.shape and not np.allclose(joints.keypoints, bones.keypoints)
    assert np.array_equal(joints.record_index, bones.record_index), "the same windows, read as joints or as bones"
    study = run_study(config, small_records, synthetic=True, progress=False)
    by_name = {result.model: result for result in study.models}
    assert set(by_name) == {"AGCN-joint", "AGCN-bone", "2s-AGCN"}
    assert not np.allclose(by_name["AGCN-joint"].predictions.prob, by_name["AGCN-bone"].predictions.prob)
    build_bundle(config, small_records, study, {f"dystonia/{m.name}": {} for m in config.models}, {}, tmp_path / "bundle")
    bundle = load_bundle(tmp_path / "bundle")
    assert (bundle.model("AGCN-joint").bones, bundle.model("AGCN-bone").bones) == (False, True)
    record = prepare_record(bundle, small_records[0])
    first, last = segment_frames(bundle, record)
    inputs, _ = model_inputs(bundle, bundle.model("AGCN-bone"), record, first, last)
    expected = [window for window, owner in zip(bones.keypoints, bones.record_index) if owner == 0]
    np.testing.assert_allclose(inputs[: len(expected)], np.stack(expected)[: len(inputs)], atol=1e-6)
