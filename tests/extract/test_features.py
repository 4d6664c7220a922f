"""Appearance features: crops from the chain go through the configured frozen encoder into the record."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from semiology.config import config_from_dict
from semiology.extract.batch import run_extraction
from semiology.extract.config import ExtractionConfig
from semiology.extract.crops import SmoothedBox, grey_crop, square_around
from semiology.io.cache import cache_path, load_record
from semiology.io.video import open_video
from semiology.models.encoder import encode_frames, load_encoder
from semiology.records import Box


def test_grey_crop_resizes_pads_outside_the_image_and_handles_no_box() -> None:
    image = np.zeros((100, 200, 3), dtype=np.uint8)
    image[40:60, 90:110] = 255
    crop = grey_crop(image, square_around(Box(90, 40, 110, 60), 2.0), 16)
    assert crop.shape == (16, 16) and crop.dtype == np.uint8
    assert crop[4:12, 4:12].mean() > 200 and crop[0, 0] == 0
    edge = grey_crop(image, np.array([-50.0, -50.0, 50.0, 50.0]), 16)
    assert edge.shape == (16, 16) and (edge[:7, :7] == 0).all()
    assert not grey_crop(image, None, 8).any()
    track = SmoothedBox(0.5)
    assert track.update(None) is None
    np.testing.assert_allclose(track.update(np.array([0.0, 0, 10, 10])), [0, 0, 10, 10])
    np.testing.assert_allclose(track.update(np.array([10.0, 10, 20, 20])), [5, 5, 15, 15])
    np.testing.assert_allclose(track.update(None), [5, 5, 15, 15])


def test_extraction_stores_frozen_encoder_features_of_its_crops(shared_data: Path, tmp_path: Path) -> None:
    with open_video(shared_data / "video" / "face_single.mp4") as reader:
        frames = np.stack([frame.image for _, frame in zip(range(8), reader)])
    np.save(tmp_path / "clip.npy", frames)
    manifest = tmp_path / "m.csv"
    with manifest.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["seizure_id", "subject_id", "rgb", "fps", "onset_s", "offset_s"])
        writer.writerow(["s1", "A", "clip.npy", "30", "0", "0.2"])
    config = config_from_dict(
        {"encoder": {"out_features": 16, "pretrain_subjects": 2, "pretrain_seizures": 2, "pretrain_epochs": 1}, "face": {"every_n_frames": 1}},
        ExtractionConfig,
    )
    [result] = run_extraction(manifest, tmp_path / "out", config, progress=False)
    assert result.status == "extracted", result.reason
    assert result.stats.face_found == pytest.approx(1.0)
    record = load_record(cache_path(tmp_path / "out", "s1"))
    assert record.body_features.shape == (8, 16) and record.face_features.shape == (8, 16)
    assert record.face_crops.shape == (8, 32, 32) and record.face_crops.std() > 5
    encoder = load_encoder(tmp_path / "out" / "encoders" / "encoder_face_1000.pt")
    np.testing.assert_allclose(record.face_features, encode_frames(encoder, record.face_crops), atol=1e-5)


def test_the_shipped_extraction_config_is_the_default() -> None:
    from semiology.extract.config import load_extraction_config

    shipped = Path(__file__).resolve().parents[2] / "configs" / "extraction.yaml"
    assert load_extraction_config(shipped) == ExtractionConfig()
