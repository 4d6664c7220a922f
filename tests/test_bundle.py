"""Model bundles: final fit with the folds' settings, weights_only round trip, refusal of incompatible bundles."""

import json
import shutil

import numpy as np
import pytest
import torch

from semiology.bundle import BundleError, load_bundle, model_inputs, prepare_record, save_bundle, segment_frames, window_probabilities
from semiology.models.factory import ModelSpec, build_network
from semiology.train.final import select_final_settings
from tests.bundle_fixtures import tiny_bundle, tiny_records


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return tiny_bundle(tmp_path_factory.getbasetemp() / "tiny_bundle")


def test_weights_load_with_weights_only_and_meta_records_provenance(bundle):
    weights = torch.load(bundle.path / "weights.pt", weights_only=True)
    assert set(weights["models"]) == {"dystonia/TCN-pose", "dystonia/AGCN-pose", "emotion/AGCN-face"}
    meta = json.loads((bundle.path / "bundle.json").read_text())
    metrics = json.loads((bundle.report_dir / "metrics.json").read_text())
    assert meta["data_hash"] == metrics["data_hash"]
    by_name = {entry["name"]: entry for entry in meta["models"]}
    agcn = by_name["AGCN-pose"]
    folds = metrics["models"]["dystonia/AGCN-pose"]["selected"]
    fold_epochs = sorted(float(v["epoch"]) for v in folds.values())
    assert sorted(agcn["selection"]["fold_values"]["epoch"]) == fold_epochs
    assert agcn["selection"]["epochs"] == int(np.floor(np.median(fold_epochs) + 0.5))
    assert agcn["selection"]["threshold"] == pytest.approx(np.mean([v["threshold"] for v in folds.values()]))
    assert agcn["cv_metrics"] == metrics["models"]["dystonia/AGCN-pose"]
    assert agcn["layout"] == "upper_body_11" and by_name["AGCN-face"]["layout"] == "face_23"
    assert 0.0 <= by_name["fusion"]["selection"]["fusion_weight"] <= 1.0
    assert meta["preprocessing"]["target_fps"] == 10.0 and meta["labels"]["emotion"] == ["no", "yes"]
    assert meta["extraction"]["body"]["layout"] == "upper_body_11"


def test_final_settings_rules():
    chosen = select_final_settings({0: {"epoch": 3, "threshold": 0.4}, 1: {"epoch": 4, "threshold": 0.6}, 2: {"epoch": 8, "threshold": float("nan")}})
    assert chosen.epochs == 4 and chosen.threshold == pytest.approx(0.5)
    assert select_final_settings({0: {"epoch": 2}, 1: {"epoch": 3}}).epochs == 3


def test_round_trip_gives_identical_predictions(bundle, tmp_path):
    loaded = load_bundle(bundle.path)
    meta = json.loads((bundle.path / "bundle.json").read_text())
    entry = next(e for e in meta["models"] if e["name"] == "AGCN-pose")
    torch.manual_seed(3)
    fresh = build_network(ModelSpec.from_dict(entry["architecture"])).eval()
    weights = torch.load(bundle.path / "weights.pt", weights_only=True)
    weights["models"]["dystonia/AGCN-pose"] = fresh.state_dict()
    save_bundle(meta, weights, tmp_path / "copy")
    copy = load_bundle(tmp_path / "copy")
    record = prepare_record(copy, tiny_records(2)[0])
    first, last = segment_frames(copy, record)
    prob, starts = window_probabilities(copy, copy.model("AGCN-pose"), record, first, last)
    inputs, _ = model_inputs(copy, copy.model("AGCN-pose"), record, first, last)
    with torch.no_grad():
        expected = torch.softmax(fresh(torch.from_numpy(inputs)), 1).numpy()
    assert len(starts) > 0
    np.testing.assert_array_equal(prob, expected.astype(np.float64))
    again, _ = window_probabilities(loaded, loaded.model("fusion"), prepare_record(loaded, tiny_records(2)[0]), first, last)
    reloaded = load_bundle(bundle.path)
    same, _ = window_probabilities(reloaded, reloaded.model("fusion"), prepare_record(reloaded, tiny_records(2)[0]), first, last)
    np.testing.assert_array_equal(again, same)


def test_incompatible_bundles_are_refused(bundle, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(bundle.path, old)
    meta = json.loads((old / "bundle.json").read_text())
    meta["bundle_version"] = 0
    (old / "bundle.json").write_text(json.dumps(meta))
    with pytest.raises(BundleError, match="bundle format 0"):
        load_bundle(old)

    moved = tmp_path / "moved"
    shutil.copytree(bundle.path, moved)
    meta = json.loads((moved / "bundle.json").read_text())
    entry = next(e for e in meta["models"] if e["name"] == "AGCN-pose")
    entry["joint_names"] = entry["joint_names"][::-1]
    (moved / "bundle.json").write_text(json.dumps(meta))
    with pytest.raises(BundleError, match="layout 'upper_body_11' was"):
        load_bundle(moved)

    with pytest.raises(BundleError, match="not a model bundle"):
        load_bundle(tmp_path)


def test_record_with_another_layout_is_refused(bundle):
    loaded = load_bundle(bundle.path)
    record = prepare_record(loaded, tiny_records(2)[0])
    record.body_2d.layout = "coco_17"
    with pytest.raises(BundleError, match="expects 'upper_body_11'"):
        window_probabilities(loaded, loaded.model("AGCN-pose"), record, 0, record.num_frames)


def test_undefined_values_are_stored_as_null(bundle, tmp_path):
    meta = json.loads((bundle.path / "bundle.json").read_text())
    meta["models"][0]["selection"]["fold_values"]["threshold"] = [float("nan"), np.float32(0.5)]
    weights = torch.load(bundle.path / "weights.pt", weights_only=True)
    save_bundle(meta, weights, tmp_path / "nan")
    text = (tmp_path / "nan" / "bundle.json").read_text()
    assert "NaN" not in text
    assert json.loads(text)["models"][0]["selection"]["fold_values"]["threshold"] == [None, 0.5]
    load_bundle(tmp_path / "nan")


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda meta: meta.pop("models"), "missing entry 'models'"),
        (lambda meta: meta["models"][0].pop("architecture"), "missing entry 'architecture'"),
        (lambda meta: meta["models"][0]["selection"].update(threshold="high"), "ValueError"),
        (lambda meta: meta.update(models=7), "TypeError"),
    ],
)
def test_a_damaged_bundle_description_is_one_clear_error(bundle, tmp_path, damage, expected):
    copy = tmp_path / "damaged"
    shutil.copytree(bundle.path, copy)
    meta = json.loads((copy / "bundle.json").read_text())
    damage(meta)
    (copy / "bundle.json").write_text(json.dumps(meta))
    with pytest.raises(BundleError, match=rf"bundle.json: damaged bundle \(.*{expected}.*re-create it"):
        load_bundle(copy)
