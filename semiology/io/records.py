"""The in-memory contract between extraction and modelling: keypoints and seizure records.

Everything above the cache (readers, detectors, lifting, the synthetic cohort) produces
`SeizureRecord`s; everything below it (windows, streams, evaluation) consumes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Keypoints:
    """A keypoint sequence in one named layout.

    `coords` is float32 `[T, V, C]` (C = 2 for pixels, 3 for millimetres); `confidence` is
    float32 `[T, V]` in [0, 1]. A missing joint is NaN in `coords` with confidence 0, never a
    silent 0.0 coordinate.
    """

    coords: np.ndarray
    confidence: np.ndarray
    layout: str
    fps: float
    source: str

    def __post_init__(self) -> None:
        self.coords = np.asarray(self.coords, dtype=np.float32)
        self.confidence = np.asarray(self.confidence, dtype=np.float32)
        if self.coords.ndim != 3 or self.coords.shape[-1] not in (2, 3):
            raise ValueError(f"keypoints of layout {self.layout!r}: coords must be [T, V, 2|3], got {self.coords.shape}")
        if self.confidence.shape != self.coords.shape[:2]:
            raise ValueError(
                f"keypoints of layout {self.layout!r}: confidence {self.confidence.shape} "
                f"does not match coords {self.coords.shape[:2]}"
            )
        if self.fps <= 0:
            raise ValueError(f"keypoints of layout {self.layout!r}: fps must be positive, got {self.fps}")

    @property
    def num_frames(self) -> int:
        return int(self.coords.shape[0])

    @property
    def num_joints(self) -> int:
        return int(self.coords.shape[1])


@dataclass
class SeizureRecord:
    """One seizure recording: identity, clinical timing, labels and whatever streams exist.

    Times are seconds from the first frame of the recording. `labels` maps a task name
    (`seizure_type`, `dystonia`, `emotion`, ...) to its class name for this seizure.
    `body_features` / `face_features` are per-frame appearance features `[T, D]` from a frozen
    frame encoder; `body_crops` / `face_crops` are the uint8 `[T, H, W]` crops they come from.
    """

    seizure_id: str
    subject_id: str
    fps: float
    onset_s: float
    offset_s: float
    labels: dict[str, str]
    generalisation_s: float | None = None
    body_3d: Keypoints | None = None
    body_2d: Keypoints | None = None
    face_2d: Keypoints | None = None
    body_crops: np.ndarray | None = None
    face_crops: np.ndarray | None = None
    body_features: np.ndarray | None = None
    face_features: np.ndarray | None = None
    synthetic: bool = False
    meta: dict = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        """Frames in the recording, taken from the first stream present."""
        for stream in (self.body_2d, self.body_3d, self.face_2d):
            if stream is not None:
                return stream.num_frames
        for array in (self.body_crops, self.face_crops, self.body_features, self.face_features):
            if array is not None:
                return int(array.shape[0])
        return 0

    @property
    def duration_s(self) -> float:
        return self.num_frames / self.fps
