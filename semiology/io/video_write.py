"""Writers for recordings that `semiology.io.video.open_video` reads back exactly.

- `write_tracks_mkv`: one lossless track per kind (FFV1; gray16 for 16-bit IR and depth, gray or
  RGB for 8-bit) in one mkv, titled like an Azure Kinect recording (`DEPTH`, `IR`, `COLOR`) and
  tagged with the camera intrinsics, so a multi-track recording round-trips bit for bit.
- `write_image_folder`: one PNG per frame (8- or 16-bit), numbered from 000000.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from semiology.camera import CameraIntrinsics
from semiology.io.kinect import TRACK_TITLES
from semiology.io.video import INTRINSICS_TAG, KINDS


def _pixel_format(frames: np.ndarray) -> tuple[str, str]:
    """(encoder pixel format, ndarray format) for a stack `[T, H, W]` or `[T, H, W, 3]`."""
    if frames.dtype == np.uint16 and frames.ndim == 3:
        return "gray16le", "gray16le"
    if frames.dtype == np.uint8 and frames.ndim == 3:
        return "gray", "gray"
    if frames.dtype == np.uint8 and frames.ndim == 4 and frames.shape[3] == 3:
        return "bgr0", "rgb24"
    raise ValueError(f"frames must be uint16 [T, H, W], uint8 [T, H, W] or uint8 [T, H, W, 3], got {frames.dtype} {frames.shape}")


def write_tracks_mkv(
    path: str | Path,
    tracks: Mapping[str, np.ndarray],
    fps: float,
    intrinsics: CameraIntrinsics | None = None,
) -> Path:
    """Write stacks of frames, one per kind (`rgb`, `ir`, `depth`), as lossless FFV1 tracks of one mkv."""
    target = Path(path)
    if not tracks:
        raise ValueError("no tracks to write")
    unknown = set(tracks) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown track kinds {sorted(unknown)}; expected some of {KINDS}")
    lengths = {kind: len(frames) for kind, frames in tracks.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"tracks differ in length: {lengths}")
    target.parent.mkdir(parents=True, exist_ok=True)
    rate = Fraction(fps).limit_denominator(1001)
    with av.open(str(target), "w", format="matroska") as container:
        streams = []
        for kind, frames in tracks.items():
            stack = np.asarray(frames)
            pix_fmt, array_format = _pixel_format(stack)
            stream = container.add_stream("ffv1", rate=rate)
            stream.width, stream.height, stream.pix_fmt = int(stack.shape[2]), int(stack.shape[1]), pix_fmt
            stream.metadata["title"] = TRACK_TITLES[kind]
            if intrinsics is not None and kind in ("ir", "depth"):
                stream.metadata[INTRINSICS_TAG] = json.dumps(intrinsics.to_dict())
            streams.append((stream, stack, array_format))
        for index in range(next(iter(lengths.values()))):
            for stream, stack, array_format in streams:
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(stack[index]), format=array_format)
                frame.pts = index
                container.mux(stream.encode(frame))
        for stream, _, _ in streams:
            container.mux(stream.encode())
    return target


def write_image_folder(folder: str | Path, frames: np.ndarray) -> Path:
    """Write a stack `[T, H, W]` (uint8 or uint16) or `[T, H, W, 3]` (uint8 RGB) as numbered PNGs."""
    target = Path(folder)
    stack = np.asarray(frames)
    _pixel_format(stack)
    target.mkdir(parents=True, exist_ok=True)
    for index, image in enumerate(stack):
        if image.ndim == 3:
            image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        if not cv2.imwrite(str(target / f"{index:06d}.png"), image):
            raise OSError(f"{target}: could not write frame {index}")
    return target
