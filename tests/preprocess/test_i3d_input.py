"""I3D input: grey to three channels, pad or crop to 224, values in [-1, 1]."""

import numpy as np
import pytest

from semiology.preprocess.i3d_input import prepare_clip


def test_pad_keeps_aspect_and_pads_black() -> None:
    frames = np.full((4, 60, 120), 255, dtype=np.uint8)
    clip = prepare_clip(frames, fit="pad")
    assert clip.shape == (3, 4, 224, 224)
    assert float(clip.min()) == -1.0 and float(clip.max()) == 1.0
    assert float(clip[:, :, 112, 112].min()) == pytest.approx(1.0)
    assert float(clip[:, :, 0, 112].max()) == -1.0  # the padded band above the image
    assert int((clip[0, 0, :, 112] > 0).sum()) == 112  # 60 * 224 / 120 rows of image


def test_crop_fills_the_square_and_channels_repeat() -> None:
    ramp = np.tile(np.linspace(0, 255, 300).astype(np.uint8), (2, 100, 1))
    clip = prepare_clip(ramp, fit="crop")
    assert clip.shape == (3, 2, 224, 224)
    assert np.allclose(clip[0].numpy(), clip[2].numpy())
    assert float(clip[0, 0, 100, 0]) > -0.9  # the left edge was cut away, not padded


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="fit"):
        prepare_clip(np.zeros((1, 8, 8), np.uint8), fit="stretch")
    with pytest.raises(ValueError, match="frames must be"):
        prepare_clip(np.zeros((8, 8), np.uint8))
