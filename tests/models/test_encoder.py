"""Frozen frame encoders: pretraining, determinism, freezing, caching and the torchvision guard."""

import importlib.util
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from semiology.models.encoder import (
    TORCHVISION_MISSING,
    FrameEncoder,
    SmallCNNEncoder,
    TorchvisionEncoder,
    encode_frames,
    get_or_pretrain,
    load_encoder,
    pretrain_small_cnn,
    random_shift,
    save_encoder,
)

SIZE = 16
BlobData = tuple[np.ndarray, np.ndarray]


def blob_crops(num_crops: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Dark crops with one bright Gaussian blob; the target is the blob's normalised (x, y)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0.2, 0.8, size=(num_crops, 2)).astype(np.float32)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    blobs = np.exp(-((xx[None] - centres[:, 0, None, None]) ** 2 + (yy[None] - centres[:, 1, None, None]) ** 2) / 0.01)
    return (blobs * 255).astype(np.uint8), centres


@pytest.fixture(scope="module")
def blob_data() -> BlobData:
    return blob_crops(512, seed=0)


@pytest.fixture(scope="module")
def pretrained(blob_data: BlobData) -> SmallCNNEncoder:
    crops, targets = blob_data
    return pretrain_small_cnn(crops, targets, out_features=16, epochs=6, batch_size=32, seed=0)


def test_pretraining_reduces_regression_loss(pretrained: SmallCNNEncoder) -> None:
    history = pretrained.loss_history
    assert len(history) == 6
    assert history[-1] < 0.5 * history[0]


def test_pretrained_features_locate_the_blob(blob_data: BlobData, pretrained: SmallCNNEncoder) -> None:
    """A linear read-out of held-out crops' features finds the blob better after pretraining than before."""
    crops, targets = blob_data
    test_crops, test_targets = blob_crops(256, seed=1)
    untrained = pretrain_small_cnn(crops, targets, out_features=16, epochs=0, seed=0)

    def readout_error(encoder: SmallCNNEncoder) -> float:
        design = np.c_[encoder.encode(crops), np.ones(len(crops))]
        coef = np.linalg.lstsq(design, targets, rcond=None)[0]
        prediction = np.c_[encoder.encode(test_crops), np.ones(len(test_crops))] @ coef
        return float(np.mean((prediction - test_targets) ** 2))

    assert readout_error(pretrained) < 0.5 * readout_error(untrained)


def test_pretraining_is_deterministic_by_seed(blob_data: BlobData) -> None:
    crops, targets = blob_data[0][:128], blob_data[1][:128]
    global_state = torch.random.get_rng_state()
    first = pretrain_small_cnn(crops, targets, out_features=8, epochs=2, batch_size=32, seed=3)
    assert torch.equal(torch.random.get_rng_state(), global_state)
    second = pretrain_small_cnn(crops, targets, out_features=8, epochs=2, batch_size=32, seed=3)
    other = pretrain_small_cnn(crops, targets, out_features=8, epochs=2, batch_size=32, seed=4)
    np.testing.assert_array_equal(first.encode(crops), second.encode(crops))
    assert not np.array_equal(first.encode(crops), other.encode(crops))


def test_encoder_is_frozen_and_encodes_any_crop_form(pretrained: SmallCNNEncoder, blob_data: BlobData) -> None:
    assert isinstance(pretrained, FrameEncoder)
    assert not pretrained.training
    assert sum(p.numel() for p in pretrained.parameters() if p.requires_grad) == 0
    crops = blob_data[0][:10]
    features = encode_frames(pretrained, crops, batch_size=3)
    assert features.shape == (10, 16) and features.dtype == np.float32
    np.testing.assert_allclose(features, pretrained.encode(crops), rtol=1e-5, atol=1e-6)
    rgb = np.repeat(crops[..., None], 3, axis=-1)
    np.testing.assert_allclose(pretrained.encode(rgb), features, rtol=1e-4, atol=1e-4)
    larger = np.repeat(np.repeat(crops, 2, axis=1), 2, axis=2)
    assert pretrained.encode(larger).shape == (10, 16)
    assert pretrained.encode(crops[:0]).shape == (0, 16)
    with pytest.raises(ValueError, match="uint8"):
        pretrained.encode(crops.astype(np.float32))


def test_save_load_round_trip(tmp_path: Path, pretrained: SmallCNNEncoder, blob_data: BlobData) -> None:
    path = tmp_path / "encoder.pt"
    provenance = {"seed": 1000, "subjects": ("s1", "s2")}
    save_encoder(pretrained, path, provenance)
    loaded = load_encoder(path)
    assert loaded.config == pretrained.config
    assert loaded.provenance == {"seed": 1000, "subjects": ["s1", "s2"]}
    for name, value in pretrained.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[name], value)
    np.testing.assert_array_equal(loaded.encode(blob_data[0][:20]), pretrained.encode(blob_data[0][:20]))
    assert not any(p.requires_grad for p in loaded.parameters())
    assert [p.name for p in tmp_path.iterdir()] == ["encoder.pt"]


def test_load_names_missing_or_malformed_file(tmp_path: Path) -> None:
    missing = tmp_path / "absent.pt"
    with pytest.raises(FileNotFoundError, match="absent.pt"):
        load_encoder(missing)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="garbage.pt"):
        load_encoder(garbage)
    wrong = tmp_path / "wrong.pt"
    torch.save({"state_dict": {}}, wrong)
    with pytest.raises(ValueError, match="wrong.pt"):
        load_encoder(wrong)


def test_get_or_pretrain_reuses_cache_and_retrains_on_new_provenance(tmp_path: Path) -> None:
    calls: list[int] = []

    def make_data() -> tuple[np.ndarray, np.ndarray]:
        calls.append(1)
        return blob_crops(64, seed=5)

    cache = tmp_path / "cache" / "small_cnn.pt"
    settings = {"out_features": 8, "epochs": 1, "batch_size": 32}
    first = get_or_pretrain(cache, make_data, {"seed": 1000}, **settings)
    assert len(calls) == 1 and cache.is_file()
    again = get_or_pretrain(cache, make_data, {"seed": 1000}, **settings)
    assert len(calls) == 1
    crops = blob_crops(8, seed=6)[0]
    np.testing.assert_array_equal(again.encode(crops), first.encode(crops))
    get_or_pretrain(cache, make_data, {"seed": 1001}, **settings)
    assert len(calls) == 2
    get_or_pretrain(cache, make_data, {"seed": 1001}, **{**settings, "epochs": 2})
    assert len(calls) == 3
    assert load_encoder(cache).provenance["pretrain_settings"]["epochs"] == 2


def test_random_shift_translates_each_image_within_the_limit() -> None:
    images = torch.zeros(200, 1, SIZE, SIZE)
    images[:, 0, 8, 8] = 1.0
    shifted = random_shift(images, 3, torch.Generator().manual_seed(0))
    assert shifted.shape == images.shape
    rows, columns = np.unravel_index(shifted[:, 0].flatten(1).argmax(dim=1).numpy(), (SIZE, SIZE))
    assert set(rows - 8) == set(range(-3, 4)) and set(columns - 8) == set(range(-3, 4))
    np.testing.assert_array_equal(shifted.sum(dim=(1, 2, 3)).numpy(), 1.0)
    again = random_shift(images, 3, torch.Generator().manual_seed(0))
    assert torch.equal(shifted, again)


def test_shift_augmented_pretraining_is_seeded_and_checks_the_limit(blob_data: BlobData) -> None:
    crops, targets = blob_data
    first = pretrain_small_cnn(crops[:128], targets[:128], out_features=8, epochs=1, batch_size=32, shift_px=2, seed=3)
    second = pretrain_small_cnn(crops[:128], targets[:128], out_features=8, epochs=1, batch_size=32, shift_px=2, seed=3)
    plain = pretrain_small_cnn(crops[:128], targets[:128], out_features=8, epochs=1, batch_size=32, seed=3)
    np.testing.assert_array_equal(first.encode(crops[:8]), second.encode(crops[:8]))
    assert not np.array_equal(first.encode(crops[:8]), plain.encode(crops[:8]))
    with pytest.raises(ValueError, match="shift_px"):
        pretrain_small_cnn(crops[:8], targets[:8], shift_px=SIZE)


def test_get_or_pretrain_replaces_a_corrupt_cache(tmp_path: Path) -> None:
    cache = tmp_path / "small_cnn.pt"
    cache.write_bytes(b"truncated")
    with pytest.warns(UserWarning, match="small_cnn.pt"):
        encoder = get_or_pretrain(cache, lambda: blob_crops(32, seed=7), {"seed": 1}, out_features=4, epochs=1)
    assert load_encoder(cache).config == encoder.config


@pytest.mark.skipif(importlib.util.find_spec("torchvision") is not None, reason="torchvision is installed")
def test_torchvision_encoder_explains_missing_torchvision(tmp_path: Path) -> None:
    with pytest.raises(ImportError) as raised:
        TorchvisionEncoder("resnet18", tmp_path / "resnet18.pth")
    assert str(raised.value) == TORCHVISION_MISSING


def test_torchvision_encoder_names_the_missing_checkpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "torchvision", types.ModuleType("torchvision"))
    with pytest.raises(FileNotFoundError, match=r"checkpoints/resnet50-0676ba61\.pth"):
        TorchvisionEncoder("resnet50", tmp_path / "nowhere.pth")


class _TinyResNet(torch.nn.Module):
    """Stands in for a torchvision ResNet: global average pool, then `fc`."""

    def __init__(self, weights: None = None) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(3, 10)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.fc(images.mean(dim=(2, 3)))


def test_torchvision_encoder_returns_penultimate_features(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = types.ModuleType("torchvision")
    fake.models = types.SimpleNamespace(resnet18=_TinyResNet)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torchvision", fake)
    checkpoint = tmp_path / "resnet18.pth"
    torch.save(_TinyResNet().state_dict(), checkpoint)

    encoder = TorchvisionEncoder("resnet18", checkpoint, batch_size=2)
    assert isinstance(encoder, FrameEncoder) and encoder.out_features == 3
    assert not any(p.requires_grad for p in encoder.model.parameters())
    grey = np.full((3, 20, 20), 255, dtype=np.uint8)
    features = encoder.encode(grey)
    expected = (1.0 - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    np.testing.assert_allclose(features, np.tile(expected, (3, 1)), rtol=1e-5)
    np.testing.assert_array_equal(encode_frames(encoder, grey), features)
    with pytest.raises(ValueError, match="resnet18.pth"):
        torch.save({"unexpected": torch.zeros(1)}, checkpoint)
        TorchvisionEncoder("resnet18", checkpoint)
