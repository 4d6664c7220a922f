"""Frames to I3D input: 3 channels, 224x224 (aspect kept), values in [-1, 1].

The 3D-video study resized the longest side to 224 and padded to a square (`fit: pad`), so the
whole bed stays in view; Kinetics training used the shorter side and a centre crop (`fit:
crop`). Grey IR frames are repeated over the three RGB channels the Kinetics weights expect.

Values follow pytorch-i3d's input normalisation: uint8 `x / 255 * 2 - 1`. 16-bit IR is refused
here: raw counts over 65535 make an almost black clip (a Kinect's IR lies in the lowest few
percent of the range), so frames come scaled to 8 bits first, with the keypoint path's
percentile window (`semiology.extract.snippets.read_frames`). `crop_to_box` cuts the
patient+bed box (`semiology.preprocess.depth.bed_crop_box`) out of every frame first.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

I3D_SIZE_PX = 224


def to_three_channels(frames: np.ndarray) -> np.ndarray:
    """`[T, H, W]` grey or `[T, H, W, 1|3]` frames as `[T, H, W, 3]` (grey repeated)."""
    frames = np.asarray(frames)
    if frames.ndim == 3:
        frames = frames[..., None]
    if frames.ndim != 4 or frames.shape[-1] not in (1, 3):
        raise ValueError(f"frames must be [T, H, W] or [T, H, W, 1|3], got shape {frames.shape}")
    return np.repeat(frames, 3, axis=-1) if frames.shape[-1] == 1 else frames


def _scaled(frames: np.ndarray) -> torch.Tensor:
    """`[T, H, W, 3]` as float `[3, T, H, W]` in [-1, 1] (uint8 by its range, floats as [0, 1])."""
    if frames.dtype == np.uint8:
        top = 255.0
    elif np.issubdtype(frames.dtype, np.integer):
        raise ValueError(f"I3D input must be uint8 (or floats in [0, 1]), got {frames.dtype}: scale 16-bit IR to 8 bits first (semiology.extract.snippets.read_frames)")
    else:
        top = 1.0
    tensor = torch.from_numpy(np.ascontiguousarray(frames)).float().div_(top / 2).sub_(1.0)
    return tensor.permute(3, 0, 1, 2).clamp_(-1.0, 1.0)


def prepare_clip(frames: np.ndarray, size_px: int = I3D_SIZE_PX, fit: Literal["pad", "crop"] = "pad") -> torch.Tensor:
    """One clip as I3D input `[3, T, size, size]` in [-1, 1].

    `pad`: the longest side becomes `size_px` (aspect kept) and the rest is padded with black
    (-1), centred. `crop`: the shorter side becomes `size_px` and the centre is cut out.
    Resizing is bilinear with antialiasing.
    """
    if fit not in ("pad", "crop"):
        raise ValueError(f"fit must be 'pad' or 'crop', got {fit!r}")
    clip = _scaled(to_three_channels(frames))
    height, width = clip.shape[2:]
    side = max(height, width) if fit == "pad" else min(height, width)
    new_h, new_w = max(1, round(height * size_px / side)), max(1, round(width * size_px / side))
    if (new_h, new_w) != (height, width):
        clip = F.interpolate(clip, size=(new_h, new_w), mode="bilinear", align_corners=False, antialias=True)
    if fit == "pad":
        top, left = (size_px - new_h) // 2, (size_px - new_w) // 2
        clip = F.pad(clip, (left, size_px - new_w - left, top, size_px - new_h - top), value=-1.0)
    else:
        top, left = (new_h - size_px) // 2, (new_w - size_px) // 2
        clip = clip[:, :, top : top + size_px, left : left + size_px]
    return clip.clamp_(-1.0, 1.0).contiguous()


def crop_to_box(frames: np.ndarray, box: tuple[int, int, int, int] | None) -> np.ndarray:
    """Frames `[T, H, W(, C)]` cut to `box` = `(u0, v0, u1, v1)` pixels (end exclusive); None keeps them whole."""
    if box is None:
        return frames
    u0, v0, u1, v1 = box
    height, width = np.shape(frames)[1:3]
    if not (0 <= u0 < u1 <= width and 0 <= v0 < v1 <= height):
        raise ValueError(f"crop box {box} does not lie inside {width}x{height} frames")
    return frames[:, v0:v1, u0:u1]
