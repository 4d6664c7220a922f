"""A bundle of seed ensembles (TCN reading appearance + keypoints) stores every member and applies their mean; attributions still run."""

import json

import numpy as np
import pytest
import torch

from semiology.bundle import load_bundle, model_inputs, prepare_record, segment_frames, window_probabilities
from semiology.bundle.build import run_and_bundle
from semiology.config import config_from_dict
from semiology.experiment import ExperimentConfig
from semiology.explain.attributions import explain_record
from semiology.models.ensemble import SeedEnsemble
from tests.bundle_fixtures import TINY_STUDY, tiny_records


@pytest.fixture(scope="module")
def ensemble_bundle(tmp_path_factory):
    spec = json.loads(json.dumps(TINY_STUDY))
    spec["tasks"] = [{"name": "dystonia", "classes": ["no", "yes"]}]
    spec["models"] = [
        {"name": "TCN-pose", "task": "dystonia", "kind": "tcn", "stream": "body", "ensemble": 3, "keypoints": True},
        {"name": "AGCN-pose+KD", "task": "dystonia", "kind": "agcn_kd", "stream": "body", "teacher": "TCN-pose", "ensemble": 2},
    ]
    config = config_from_dict(spec, ExperimentConfig, source="test")
    root = tmp_path_factory.mktemp("ensemble_bundle")
    run_and_bundle(config, root / "report", source="test", bundle_dir=root / "bundle", progress=False)
    return load_bundle(root / "bundle")


def test_every_member_is_stored_and_loaded(ensemble_bundle):
    weights = torch.load(ensemble_bundle.path / "weights.pt", weights_only=True)
    tcn_keys = weights["models"]["dystonia/TCN-pose"]
    assert any(key.startswith("members.2.") for key in tcn_keys) and not any(key.startswith("members.3.") for key in tcn_keys)
    meta = json.loads((ensemble_bundle.path / "bundle.json").read_text())
    assert {entry["name"]: entry["architecture"]["ensemble"] for entry in meta["models"]} == {"TCN-pose": 3, "AGCN-pose+KD": 2}
    tcn_entry = next(entry for entry in meta["models"] if entry["name"] == "TCN-pose")
    assert tcn_entry["architecture"]["in_features"] == meta["config"]["encoder"]["out_features"] + 11 * 3, "appearance + 11 joints x (x, y, confidence)"
    tcn = ensemble_bundle.model("TCN-pose").network
    assert isinstance(tcn, SeedEnsemble) and len(tcn.members) == 3
    first, second = (dict(member.named_parameters()) for member in tcn.members[:2])
    assert any(not torch.equal(first[name], second[name]) for name in first), "members were fitted from different seeds"


def test_bundle_applies_the_mean_of_its_members(ensemble_bundle):
    record = prepare_record(ensemble_bundle, tiny_records(2)[0])
    first, last = segment_frames(ensemble_bundle, record)
    for name in ("TCN-pose", "AGCN-pose+KD"):
        model = ensemble_bundle.model(name)
        prob, starts = window_probabilities(ensemble_bundle, model, record, first, last)
        inputs, _ = model_inputs(ensemble_bundle, model, record, first, last)
        with torch.no_grad():
            members = [torch.softmax(member(torch.from_numpy(inputs)), 1).numpy() for member in model.network.members]
        assert len(starts) > 0
        np.testing.assert_allclose(prob, np.mean(members, axis=0), atol=1e-6)


def test_attributions_of_an_agcn_ensemble(ensemble_bundle):
    model = ensemble_bundle.model("AGCN-pose+KD")
    record = prepare_record(ensemble_bundle, tiny_records(2)[0])
    attribution = explain_record(ensemble_bundle, model, record, steps=4)
    assert np.isfinite(attribution.joint_time_ig).all() and np.isfinite(attribution.joint_time_gradcam).all()
    assert attribution.adjacency_learned.shape[-1] == len(attribution.joint_names)
