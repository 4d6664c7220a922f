"""The `body_3d` stream: the AGCN reads the 3D body (x, y, z, confidence), distils from the 2D crops' TCN, and bundles, explains and refuses like the 2D stream."""

import dataclasses
import json

import numpy as np
import pytest
import yaml
from scipy.spatial.transform import Rotation

from semiology.bundle import BundleError, load_bundle, model_inputs, prepare_record, segment_frames, window_probabilities
from semiology.cli import loso_eval
from semiology.config import config_from_dict
from semiology.errors import ConfigError
from semiology.experiment import ExperimentConfig, check_experiment
from semiology.explain.attributions import explain_record
from semiology.preprocess.model_inputs import build_stream_windows, record_stream_windows
from tests.bundle_fixtures import TINY_STUDY, tiny_records
from tests.evaluate.test_study import SMALL

STUDY_3D = {
    **json.loads(json.dumps(TINY_STUDY)),
    "name": "tiny-3d",
    "windows": {**TINY_STUDY["windows"], "view": "body"},
    "tasks": [{"name": "dystonia", "classes": ["no", "yes"]}],
    "models": [
        {"name": "TCN-pose", "task": "dystonia", "kind": "tcn", "stream": "body"},
        {"name": "AGCN-pose-3D", "task": "dystonia", "kind": "agcn", "stream": "body_3d"},
        {"name": "AGCN-pose-3D+KD", "task": "dystonia", "kind": "agcn_kd", "stream": "body_3d", "teacher": "TCN-pose"},
    ],
}


@pytest.fixture(scope="module")
def run_3d(tmp_path_factory):
    root = tmp_path_factory.mktemp("body3d")
    config_file = root / "study.yaml"
    config_file.write_text(yaml.safe_dump(STUDY_3D), encoding="utf-8")
    status = loso_eval(["--config", str(config_file), "--out", str(root / "report"), "--bundle", str(root / "bundle"), "--no-progress"])
    assert status == 0
    return root


def test_body_3d_windows_add_depth_and_keep_the_moments_of_the_2d_stream(small_records):
    config = config_from_dict(SMALL, ExperimentConfig, source="test")
    flat = build_stream_windows(small_records, config.tasks[0], "body", config)
    deep = build_stream_windows(small_records, config.tasks[0], "body_3d", config)
    assert flat.keypoints.shape[1] == 3 and deep.keypoints.shape[1] == 4
    assert flat.keypoints.shape[2:] == deep.keypoints.shape[2:]
    np.testing.assert_array_equal(flat.start_s, deep.start_s)
    np.testing.assert_array_equal(flat.record_index, deep.record_index)
    np.testing.assert_array_equal(flat.features, deep.features)
    assert np.abs(deep.keypoints[:, 2]).max() > 0.05, "the depth channel must carry movement"


def test_a_record_without_3d_keypoints_is_named(small_records):
    config = config_from_dict(SMALL, ExperimentConfig, source="test")
    flat_only = [dataclasses.replace(small_records[0], body_3d=None), *small_records[1:]]
    with pytest.raises(ConfigError, match=f"{small_records[0].seizure_id}: no body_3d keypoints"):
        build_stream_windows(flat_only, config.tasks[0], "body_3d", config)


def test_a_teacher_of_another_stream_is_refused():
    spec = json.loads(json.dumps(STUDY_3D))
    spec["tasks"] = [{"name": "dystonia", "classes": ["no", "yes"]}]
    spec["models"] = [
        {"name": "TCN-face", "task": "dystonia", "kind": "tcn", "stream": "face"},
        {"name": "AGCN-pose-3D+KD", "task": "dystonia", "kind": "agcn_kd", "stream": "body_3d", "teacher": "TCN-face"},
    ]
    with pytest.raises(ConfigError, match="distil within one stream"):
        check_experiment(config_from_dict(spec, ExperimentConfig, source="kd.yaml"), "kd.yaml")


def test_3d_models_are_evaluated_bundled_and_explained(run_3d):
    metrics = json.loads((run_3d / "report" / "metrics.json").read_text())
    assert set(metrics["models"]) == {"dystonia/TCN-pose", "dystonia/AGCN-pose-3D", "dystonia/AGCN-pose-3D+KD"}
    bundle = load_bundle(run_3d / "bundle")
    meta = json.loads((run_3d / "bundle" / "bundle.json").read_text())
    assert meta["extraction"]["body_3d"]["keypoints"] == "body_3d"
    assert meta["extraction"]["body_3d"]["coordinate_dims"] == 3
    assert set(bundle.encoders) == {"body"}
    record = prepare_record(bundle, tiny_records(n_seizures=4)[0])
    first, last = segment_frames(bundle, record)
    for name in ("AGCN-pose-3D", "AGCN-pose-3D+KD"):
        inputs, starts = model_inputs(bundle, bundle.model(name), record, first, last)
        assert inputs.shape[1] == 4 and len(starts) > 0
        prob, _ = window_probabilities(bundle, bundle.model(name), record, first, last)
        np.testing.assert_allclose(prob.sum(axis=1), 1.0, rtol=1e-5)
    turn = Rotation.from_euler("xy", [20.0, 25.0], degrees=True).as_matrix()
    turned = dataclasses.replace(record, body_3d=dataclasses.replace(record.body_3d, coords=record.body_3d.coords @ turn.T.astype(np.float32)))
    seen, _ = model_inputs(bundle, bundle.model("AGCN-pose-3D"), record, first, last)
    seen_turned, _ = model_inputs(bundle, bundle.model("AGCN-pose-3D"), turned, first, last)
    np.testing.assert_allclose(seen_turned, seen, atol=0.02, err_msg="the bundle keeps the study's body view")
    attribution = explain_record(bundle, bundle.model("AGCN-pose-3D"), record, steps=4)
    assert attribution.joint_names[:2] == ("head", "neck")
    assert attribution.joint_time_ig.shape[1] == 11
    with pytest.raises(BundleError, match="no body_3d keypoints"):
        model_inputs(bundle, bundle.model("AGCN-pose-3D"), dataclasses.replace(record, body_3d=None), first, last)


def test_body_view_windows_do_not_depend_on_where_the_depth_camera_stood(small_records):
    """The same recording seen by a camera turned 30 degrees gives the same body_3d windows with `view: body`, other ones without."""
    record = next(r for r in small_records if r.body_3d is not None and r.onset_s > 1.0)
    turn = Rotation.from_euler("xy", [20.0, 25.0], degrees=True).as_matrix()
    moved_3d = dataclasses.replace(record.body_3d, coords=(record.body_3d.coords.astype(np.float64) @ turn.T).astype(np.float32))
    moved = dataclasses.replace(record, body_3d=moved_3d)
    last = record.num_frames
    differences = {}
    for view in ("body", "camera"):
        config = config_from_dict({**SMALL, "windows": {**SMALL.get("windows", {}), "view": view}}, ExperimentConfig, source="test")
        original, _, _ = record_stream_windows(record, "body_3d", config, 0, last)
        turned, _, _ = record_stream_windows(moved, "body_3d", config, 0, last)
        differences[view] = np.abs(np.stack(original) - np.stack(turned)).max()
    # In shoulder widths; a coordinate-wise median trunk is nearly, not exactly, rotation-equivariant.
    assert differences["body"] < 0.02 and differences["camera"] > 0.2, differences
