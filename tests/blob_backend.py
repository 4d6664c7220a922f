"""A toy pose backend registered from outside the package: the brightest blob of a frame, in a layout of its own.

Shared by the extension tests and the extraction bookkeeping tests: it needs no model, so
extraction runs in milliseconds on image sequences written by `blob_video`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from semiology.detect.keypoints import KeypointEstimate
from semiology.detect.registry import register_backend
from semiology.io.manifest import ManifestRow
from semiology.io.video_write import write_image_folder
from semiology.layouts import Layout, register_layout
from semiology.records import Box
from semiology.streams import StreamSpec, register_stream

BLOB = Layout(
    name="blob_3",
    joint_names=("centre", "left_edge", "right_edge"),
    parent_of={"left_edge": "centre", "right_edge": "centre"},
    center_name="centre",
    flip_partners=(("left_edge", "right_edge"),),
    scale_pair=("right_edge", "left_edge"),
)
SIZE_PX, FPS, SECONDS = 48, 10.0, 4.0


class BrightBlob:
    """Keypoints of the brightest blob: the mean of the pixels above half the frame's maximum, and its leftmost and rightmost columns."""

    layout = "blob_3"

    def __init__(self, settings: object) -> None:
        self.name = "bright_blob-1"

    def estimate(self, image: np.ndarray, roi: Box | None = None) -> KeypointEstimate | None:
        grey = image if image.ndim == 2 else image.mean(axis=2)
        rows, columns = np.nonzero(grey > grey.max() / 2) if grey.max() > 0 else (np.array([]), np.array([]))
        if len(rows) == 0:
            return None
        centre = (columns.mean(), rows.mean())
        points = np.array([centre, (columns.min(), centre[1]), (columns.max(), centre[1])], dtype=np.float32)
        return KeypointEstimate(points_px=points, confidence=np.ones(3, dtype=np.float32), layout=self.layout)

    def reset(self) -> None:
        pass

    def close(self) -> None:
        pass


class RowList:
    """A row source that is not a file: what a label store will be to extraction and screening."""

    name = "rows in memory"

    def __init__(self, rows: list[ManifestRow]) -> None:
        self._rows = rows

    def rows(self, label_values=None, check_files: bool = True) -> list[ManifestRow]:
        return list(self._rows)


def register_blob() -> None:
    register_layout(BLOB)
    register_backend("pose", "bright_blob", BrightBlob, lambda: "1")
    register_stream(StreamSpec("blob", keypoints="body_2d", description="the bright blob's three points"))


def blob_video(folder: Path, moving: bool, phase: float) -> np.ndarray:
    """A blob 8 px wide that sways left and right during the 'seizure' (1-3.5 s) when `moving`; returns its true centre per frame."""
    frames, centres = [], []
    for index in range(int(SECONDS * FPS)):
        t = index / FPS
        sway = 10.0 * np.sin(2 * np.pi * 1.5 * t + phase) if moving and 1.0 <= t < 3.5 else 0.0
        u0 = int(round(20 + sway))
        image = np.zeros((SIZE_PX, SIZE_PX), dtype=np.uint8)
        image[16:32, u0 : u0 + 8] = 220
        frames.append(image)
        centres.append((u0 + 3.5, 23.5))
    write_image_folder(folder, np.stack(frames))
    return np.array(centres)
