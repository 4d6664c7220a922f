"""Attributions, deletion curves, figures, overlay video and the explanation page of one seizure."""

import dataclasses
import re
from html.parser import HTMLParser

import av
import numpy as np
import pytest
import torch
from PIL import Image

from semiology.bundle import load_bundle, model_inputs, prepare_record, segment_frames
from semiology.cli import explain
from semiology.explain.attributions import explain_record, integrated_gradients, rest_baseline
from semiology.explain.faithfulness import deletion_curves, mask_joints, planted_mass_share
from semiology.explain.video import BLANK_NOTE, write_overlay_video
from semiology.io.cache import save_record
from semiology.train.fit import predict_proba
from tests.bundle_fixtures import tiny_records


@pytest.fixture(scope="module")
def loaded(bundle):
    return load_bundle(bundle.path)


@pytest.fixture(scope="module")
def record(loaded):
    dystonic = [r for r in tiny_records(4) if r.labels["dystonia"] == "yes"]
    return prepare_record(loaded, dystonic[0])


def test_agcn_attributions_cover_the_recording_on_its_time_grid(loaded, record, tmp_path):
    attribution = explain_record(loaded, loaded.model("AGCN-pose"), record, steps=8)
    assert attribution.joint_time_ig.shape == (record.num_frames, 11)
    assert attribution.joint_time_gradcam.shape == (record.num_frames, 11)
    assert np.isfinite(attribution.joint_time_ig).all() and attribution.joint_time_ig.sum() > 0
    assert (attribution.joint_time_gradcam >= 0).all()
    blocks = len(loaded.config.agcn.channels)
    assert attribution.adjacency_learned.shape == attribution.adjacency_data.shape == (blocks, 3, 11, 11)
    np.testing.assert_allclose(attribution.adjacency_data.sum(axis=-2), 1.0, atol=1e-5)  # C is a column softmax
    assert attribution.onset_s == record.onset_s and attribution.fps == 10.0
    assert attribution.probability.sum() == pytest.approx(1.0)
    saved = np.load(attribution.save(tmp_path / "a.npz"))
    assert saved["time_s"][-1] == pytest.approx((record.num_frames - 1) / 10.0)
    assert float(saved["onset_s"]) == record.onset_s and float(saved["offset_s"]) == record.offset_s
    assert list(saved["joint_names"])[:2] == ["head", "neck"]


def test_integrated_gradients_are_complete_from_the_rest_baseline(loaded, record):
    """IG's completeness: attributions sum to logit(x) - logit(rest) per window; confidence (kept) gets none."""
    model = loaded.model("AGCN-pose")
    inputs, _ = model_inputs(loaded, model, record, *segment_frames(loaded, record))
    baseline = rest_baseline(inputs[:2])
    assert (baseline[:, :-1] == 0).all() and (baseline[:, -1] == inputs[:2, -1]).all()
    attributions = integrated_gradients(model.network, inputs[:2], target=1, steps=64, baseline=baseline)
    with torch.no_grad():
        gap = model.network(torch.from_numpy(inputs[:2]))[:, 1] - model.network(torch.from_numpy(baseline))[:, 1]
    np.testing.assert_allclose(attributions.reshape(2, -1).sum(1), gap.numpy(), rtol=0.05, atol=0.02)
    assert np.abs(attributions[:, -1]).max() == 0


def test_tcn_time_attribution(loaded, record):
    attribution = explain_record(loaded, loaded.model("TCN-pose"), record, steps=8)
    assert attribution.time_ig.shape == (record.num_frames,) and attribution.joint_time_ig is None
    assert attribution.time_ig.sum() > 0


def test_deletion_curves_and_planted_share(loaded, record):
    model = loaded.model("AGCN-pose")
    attribution = explain_record(loaded, model, record, steps=8)
    curves = deletion_curves(loaded, model, record, attribution, random_orders=4)
    assert curves.top_k.shape == curves.random.shape == (12,)
    assert curves.top_k[0] == pytest.approx(curves.random[0]) == pytest.approx(attribution.probability[1])
    assert curves.top_k[-1] == pytest.approx(curves.random[-1])  # everything masked either way
    inputs, _ = model_inputs(loaded, model, record, *segment_frames(loaded, record))
    at_rest = predict_proba(model.network, rest_baseline(inputs))[:, 1].mean()
    assert curves.perturbation == "rest" and curves.top_k[-1] == pytest.approx(at_rest, abs=1e-6)  # all joints at rest = the IG baseline
    undetected = deletion_curves(loaded, model, record, attribution, random_orders=2, perturbation="undetected")
    assert undetected.top_k[-1] == pytest.approx(predict_proba(model.network, np.zeros_like(inputs))[:, 1].mean(), abs=1e-6)
    assert curves.area_between == pytest.approx(np.mean(curves.random - curves.top_k))
    importance = attribution.joint_importance()
    assert list(curves.order[:1]) == [int(np.argmax(importance))]
    planted = record.meta["planted_joints"]["dystonia"]
    share = planted_mass_share(attribution, planted)
    index = [attribution.joint_names.index(n) for n in planted]
    assert share == pytest.approx(importance[index].sum() / importance.sum())
    cam = attribution.joint_importance(method="grad_cam")
    assert planted_mass_share(attribution, planted, method="grad_cam") == pytest.approx(cam[index].sum() / cam.sum())
    inputs = np.ones((2, 3, 4, 11, 1), dtype=np.float32)
    masked = mask_joints(inputs, [0, 3], perturbation="undetected")
    assert masked[:, :, :, [0, 3]].sum() == 0 and masked[:, :, :, 1].min() == 1 and inputs.min() == 1
    at_rest = mask_joints(inputs, [0, 3])
    assert at_rest[:, :-1][:, :, :, [0, 3]].sum() == 0 and at_rest[:, -1].min() == 1 and at_rest[:, :, :, 1].min() == 1


class _References(HTMLParser):
    def __init__(self):
        super().__init__()
        self.references = []

    def handle_starttag(self, tag, attrs):
        self.references += [value for name, value in attrs if name in ("src", "href")]


def test_explanation_page_references_only_existing_files(bundle, tmp_path):
    record = [r for r in tiny_records(4) if r.labels["dystonia"] == "yes"][0]
    cache = save_record(record, tmp_path / "record.npz", config_hash="test")
    assert explain(["--bundle", str(bundle.path), "--cache", str(cache), "--out", str(tmp_path / "page")]) == 0
    page = tmp_path / "page" / "index.html"
    parser = _References()
    parser.feed(page.read_text())
    assert parser.references, "the page references nothing"
    for reference in parser.references:
        assert (page.parent / reference).is_file(), reference
    pngs = [r for r in parser.references if r.endswith(".png")]
    assert len(pngs) >= 9  # joints, joint x time, adjacency, deletion for two AGCNs + TCN time
    for name in pngs:
        with Image.open(page.parent / name) as image:
            image.load()
            assert image.size[0] > 100
    videos = [r for r in parser.references if r.endswith(".mp4")]
    assert len(videos) == 2
    with av.open(str(page.parent / videos[0])) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames == prepare_record(load_bundle(bundle.path), record).num_frames
    text = page.read_text()
    assert "SYNTHETIC" in text and re.search(r"ground truth", text)
    assert "late fusion of AGCN-pose and TCN-pose" in text


def test_explain_tool_reports_an_unknown_seizure(bundle, tmp_path, capsys):
    assert explain(["--bundle", str(bundle.path), "--seizure", "nope", "--out", str(tmp_path)]) == 2
    assert "no seizure 'nope'" in capsys.readouterr().err


def test_overlay_without_frames_draws_on_a_blank_canvas_and_says_so(record, tmp_path):
    bare = dataclasses.replace(record, body_crops=None)
    joint_time = np.random.default_rng(0).random((bare.num_frames, 11))
    path, note = write_overlay_video(bare, "body", joint_time, tmp_path / "blank.mp4", size=64)
    assert note == BLANK_NOTE
    with av.open(str(path)) as container:
        first = next(container.decode(video=0)).to_ndarray(format="rgb24")
    assert first.shape == (64, 64, 3) and first.max() > 100  # keypoints drawn on the dark canvas
