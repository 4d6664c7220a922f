"""The small CNN's pretext targets: per-recording positions, and the per-frame shape of the keypoints."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from semiology.experiment import EncoderConfig, PretextOverrides
from semiology.models.appearance import build_encoder, pretraining_set, shape_targets
from semiology.models.encoder import load_encoder

TINY = EncoderConfig(out_features=8, pretrain_subjects=2, pretrain_seizures=2, pretrain_epochs=1)


def test_shape_targets_ignore_place_and_size_but_keep_configuration() -> None:
    rng = np.random.default_rng(0)
    keypoints = rng.normal(size=(5, 23, 2))
    moved = keypoints * rng.uniform(0.5, 3.0, size=(5, 1, 1)) + rng.normal(scale=40.0, size=(5, 1, 2))
    np.testing.assert_allclose(shape_targets(moved), shape_targets(keypoints), atol=1e-9)
    shape = shape_targets(keypoints).reshape(5, 23, 2)
    np.testing.assert_allclose(shape.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.sqrt((shape**2).sum(axis=2).mean(axis=1)), 1.0)
    opened = keypoints.copy()
    opened[:, 0, 1] += 2.0
    assert not np.allclose(shape_targets(opened), shape_targets(keypoints))


def test_shape_targets_of_a_collapsed_frame_are_zero() -> None:
    keypoints = np.ones((2, 4, 2))
    keypoints[1] = np.arange(8.0).reshape(4, 2)
    shape = shape_targets(keypoints)
    assert np.all(shape[0] == 0.0) and np.all(np.isfinite(shape))
    assert np.abs(shape[1]).sum() > 0


@pytest.mark.parametrize("stream", ["body", "face"])
def test_pretraining_set_appends_shape_targets_to_positions(stream: str) -> None:
    crops, with_shape = pretraining_set(stream, TINY, crop_size_px=32, frame_step=8)
    _, positions = pretraining_set(stream, dataclasses.replace(TINY, pretext="position"), crop_size_px=32, frame_step=8)
    assert len(crops) == len(with_shape) == len(positions)
    assert with_shape.shape[1] == 2 * positions.shape[1]
    np.testing.assert_array_equal(with_shape[:, : positions.shape[1]], positions)
    points = with_shape[:, positions.shape[1] :].reshape(len(crops), -1, 2)
    np.testing.assert_allclose(points.mean(axis=1), 0.0, atol=1e-5)


def test_shape_pretext_keeps_only_the_shape_targets() -> None:
    crops, with_shape = pretraining_set("face", TINY, crop_size_px=32, frame_step=8)
    _, shape_only = pretraining_set("face", dataclasses.replace(TINY, pretext="shape"), crop_size_px=32, frame_step=8)
    assert len(shape_only) == len(crops)
    assert shape_only.shape[1] == with_shape.shape[1] // 2
    np.testing.assert_array_equal(shape_only, with_shape[:, shape_only.shape[1] :])


def test_the_cached_encoder_is_retrained_when_the_pretext_changes(tmp_path: Path) -> None:
    build_encoder("face", TINY, 32, tmp_path)
    cached = next(tmp_path.glob("encoder_face_*.pt"))
    assert load_encoder(cached).provenance["pretext"] == "position_shape"
    build_encoder("face", dataclasses.replace(TINY, pretext="position"), 32, tmp_path)
    assert load_encoder(cached).provenance["pretext"] == "position"
    build_encoder("face", dataclasses.replace(TINY, pretext="position", pretrain_shift_px=2), 32, tmp_path)
    assert load_encoder(cached).provenance["shift_px"] == 2
    assert load_encoder(cached).provenance["pretrain_settings"]["shift_px"] == 2


def test_stream_overrides_set_one_encoder_and_leave_the_other(tmp_path: Path) -> None:
    config = dataclasses.replace(TINY, streams={"face": PretextOverrides(pretext="shape", pretrain_shift_px=2)})
    assert config.for_stream("face") == dataclasses.replace(TINY, pretext="shape", pretrain_shift_px=2)
    assert config.for_stream("body") == TINY
    build_encoder("face", config, 32, tmp_path)
    build_encoder("body", config, 32, tmp_path)
    face = load_encoder(tmp_path / "encoder_face_1000.pt").provenance
    body = load_encoder(tmp_path / "encoder_body_1000.pt").provenance
    assert (face["pretext"], face["shift_px"]) == ("shape", 2)
    assert (body["pretext"], body["shift_px"]) == ("position_shape", 0)


def test_a_negative_shift_is_refused() -> None:
    with pytest.raises(ValueError, match="pretrain_shift_px must not be negative"):
        PretextOverrides(pretrain_shift_px=-1)
    with pytest.raises(ValueError, match="pretrain_shift_px must not be negative"):
        EncoderConfig(pretrain_shift_px=-1)
