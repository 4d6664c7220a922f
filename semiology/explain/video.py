"""An overlay video (H.264 mp4, written with PyAV) of keypoints coloured by their attribution.

The frames are the record's own crops (`body_crops` / `face_crops`), enlarged for viewing, with
the crop box of `meta["crop_boxes_px"]` mapping keypoints into them: one `[u0, v0, side]` box
for the whole recording (the synthetic cohort), or one `[u0, v0, u1, v1]` box per frame as
extraction records them for real recordings (the crop follows the patient). Frames without a
crop box (before the patient was first seen) are drawn on a blank canvas. When a record
carries no frames at all the keypoints are drawn on a blank canvas and the caller is told so.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from matplotlib import colormaps
from PIL import Image, ImageDraw

from semiology.layouts import get_layout
from semiology.records import SeizureRecord

CROP_FIELDS = {"body": ("body_crops", "body_2d"), "body_3d": ("body_crops", "body_2d"), "face": ("face_crops", "face_2d")}
"""The crops and the 2D keypoints drawn on them for each stream (a 3D body is drawn as its 2D projection)."""
BLANK_NOTE = "no frames are stored with this recording: keypoints drawn on a blank canvas"


def _canvas_mapping(coords: np.ndarray, size: int) -> tuple[np.ndarray, float]:
    """Offset and scale that fit every finite keypoint of `[T, V, 2]` into a `size` square with a margin."""
    finite = coords[np.isfinite(coords).all(axis=-1)]
    if len(finite) == 0:
        return np.zeros(2), 1.0
    low, high = finite.min(axis=0), finite.max(axis=0)
    scale = 0.8 * size / max(float((high - low).max()), 1e-6)
    return low - (size / scale - (high - low)) / 2, scale


def _crop_mappings(box: object, frames: int, size: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Per-frame origin `[T, 2]` and scale `[T]` from image pixels to the enlarged crop; NaN scale where a frame has no box.

    `box` is one `[u0, v0, side]` for every frame, or `[T, 4]` corners per frame; None when absent or unusable.
    """
    if box is None:
        return None, None
    boxes = np.asarray(box, dtype=float)
    if boxes.shape == (3,):
        return np.tile(boxes[:2], (frames, 1)), np.full(frames, size / boxes[2])
    if boxes.shape == (frames, 4):
        sides = boxes[:, 2] - boxes[:, 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            scales = np.where(np.isfinite(sides) & (sides > 0), size / sides, np.nan)
        return boxes[:, :2], scales
    return None, None


def write_overlay_video(record: SeizureRecord, stream: str, joint_time: np.ndarray, path: Path, size: int = 256) -> tuple[Path, str]:
    """Write the overlay mp4 for a prepared record and a `[T, V]` attribution; returns the path and a note on the frames used."""
    crop_field, keypoint_field = CROP_FIELDS[stream]
    keypoints = getattr(record, keypoint_field)
    coords = keypoints.coords[..., :2]
    crops = getattr(record, crop_field)
    box = record.meta.get("crop_boxes_px", {}).get(crop_field.removesuffix("_crops")) if isinstance(record.meta, dict) else None
    origins, scales = _crop_mappings(box, len(coords), size)
    if crops is not None and origins is not None and scales is not None and len(crops) == len(coords):
        note = f"frames: the recording's {crop_field.replace('_', ' ')} ({crops.shape[1]} px, enlarged to {size} px)"
        blank_origin, blank_scale = _canvas_mapping(coords, size)
    else:
        crops = None
        blank_origin, blank_scale = _canvas_mapping(coords, size)
        note = BLANK_NOTE
    peak = float(np.nanmax(joint_time)) if np.isfinite(joint_time).any() and np.nanmax(joint_time) > 0 else 1.0
    colours = (colormaps["magma"](np.clip(joint_time / peak, 0, 1))[..., :3] * 255).astype(np.uint8)
    edges = get_layout(keypoints.layout).inward_edges
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        video = container.add_stream("h264", rate=Fraction(record.fps).limit_denominator(1001))
        video.width, video.height, video.pix_fmt = size, size, "yuv420p"
        for t in range(len(coords)):
            on_crop = crops is not None and origins is not None and scales is not None and np.isfinite(scales[t])
            if on_crop:
                assert crops is not None and origins is not None and scales is not None
                image = Image.fromarray(np.asarray(crops[t])).convert("RGB").resize((size, size), Image.NEAREST)
                points = (coords[t] - origins[t]) * scales[t]
            else:
                image = Image.new("RGB", (size, size), (24, 24, 24))
                points = (coords[t] - blank_origin) * blank_scale
            draw = ImageDraw.Draw(image)
            for child, parent in edges:
                if np.isfinite(points[[child, parent]]).all():
                    draw.line([tuple(points[child]), tuple(points[parent])], fill=(120, 120, 120), width=1)
            for joint, (u, v) in enumerate(points):
                if np.isfinite(u) and np.isfinite(v):
                    radius = 2 + 6 * float(np.clip(joint_time[t, joint] / peak, 0, 1))
                    draw.ellipse([u - radius, v - radius, u + radius, v + radius], fill=tuple(int(c) for c in colours[t, joint]), outline=(255, 255, 255))
            for packet in video.encode(av.VideoFrame.from_ndarray(np.asarray(image), format="rgb24")):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
    return path, note
