"""The in-memory contracts every stage shares: keypoints, seizure records, detections and snippet features.

Everything above the cache (readers, detectors, lifting, the synthetic cohort) produces
`SeizureRecord`s; everything below it (windows, streams, evaluation) consumes them.
"""

from __future__ import annotations

from collections.abc import Iterable
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

    def has_detections(self) -> bool:
        """Whether any frame holds a detected joint (finite coordinates, confidence above 0): False when nobody was found."""
        seen = np.isfinite(self.coords).all(axis=-1) & (self.confidence > 0)
        return bool(seen.any())


@dataclass
class SeizureRecord:
    """One seizure recording: identity, clinical timing, labels and whatever streams exist.

    Times are seconds from the first frame of the recording. `labels` maps a task name
    (`seizure_type`, `dystonia`, `emotion`, ...) to its class name for this seizure.
    `body_features` / `face_features` are per-frame appearance features `[T, D]` from a frozen
    frame encoder; `body_crops` / `face_crops` are the uint8 `[T, H, W]` crops they come from.
    `meta["sign_spans"]` (optional) maps a sign term of the label store's vocabulary
    (`versive_head_turn`, `dystonic_posture`, ...) to the `[start_s, end_s]` spans where an
    annotator saw it: a task with `during:` cuts its windows there (`sign_spans`).
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

    def sign_spans(self, term: str) -> list[tuple[float, float]]:
        """The `[start_s, end_s]` spans of sign `term` in this recording (empty when none was annotated)."""
        return [(float(start), float(end)) for start, end in self.meta.get(SIGN_SPANS, {}).get(term, [])]


SIGN_SPANS = "sign_spans"
"""The `meta` key of a record's annotated sign spans: `{term: [[start_s, end_s], ...]}`."""


def merged_spans(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Overlapping or touching `(start, end)` spans joined, in time order (two annotators' overlapping labels count once)."""
    result: list[list[float]] = []
    for start, end in sorted(spans):
        if result and start <= result[-1][1]:
            result[-1][1] = max(result[-1][1], end)
        else:
            result.append([start, end])
    return [(start, end) for start, end in result]


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixels: `u0 <= u1`, `v0 <= v1`."""

    u0: float
    v0: float
    u1: float
    v1: float

    def __post_init__(self) -> None:
        if not (self.u0 <= self.u1 and self.v0 <= self.v1):
            raise ValueError(f"box corners out of order: ({self.u0}, {self.v0}, {self.u1}, {self.v1})")

    @property
    def width(self) -> float:
        return self.u1 - self.u0

    @property
    def height(self) -> float:
        return self.v1 - self.v0

    @property
    def area(self) -> float:
        return self.width * self.height

    @property
    def centre(self) -> tuple[float, float]:
        return (self.u0 + self.u1) / 2.0, (self.v0 + self.v1) / 2.0

    def as_array(self) -> np.ndarray:
        """`[u0, v0, u1, v1]` as float64."""
        return np.array([self.u0, self.v0, self.u1, self.v1], dtype=np.float64)

    @classmethod
    def from_array(cls, values: np.ndarray | tuple[float, float, float, float]) -> Box:
        u0, v0, u1, v1 = (float(value) for value in np.asarray(values, dtype=np.float64).reshape(4))
        return cls(u0, v0, u1, v1)

    def intersection(self, other: Box) -> float:
        """Area shared with `other` (0 when they do not overlap)."""
        width = min(self.u1, other.u1) - max(self.u0, other.u0)
        height = min(self.v1, other.v1) - max(self.v0, other.v0)
        return max(width, 0.0) * max(height, 0.0)

    def iou(self, other: Box) -> float:
        """Intersection over union with `other`."""
        shared = self.intersection(other)
        union = self.area + other.area - shared
        return shared / union if union > 0 else 0.0

    def contains(self, points_px: np.ndarray) -> np.ndarray:
        """Which of the points `[..., 2]` (u, v) lie inside the box; NaN points do not."""
        points = np.asarray(points_px, dtype=np.float64)
        u, v = points[..., 0], points[..., 1]
        return (u >= self.u0) & (u < self.u1) & (v >= self.v0) & (v < self.v1)


@dataclass(frozen=True)
class Detection:
    """One detected object: its box, the detector's confidence in [0, 1] and a class label."""

    box: Box
    score: float
    label: str = "person"


PAD_VALUE = -1.0
"""What pads a short 2-s sample's feature sequence to the steps of a full one."""


def padding_mask(samples: np.ndarray, value: float = PAD_VALUE) -> np.ndarray:
    """`[..., T, D]` -> `[..., T]` True where a step is real (not an all-`value` padding row)."""
    return ~np.all(np.asarray(samples) == value, axis=-1)


@dataclass
class SampleFeatures:
    """Per-sample feature sequences of one recording, from one snippet encoder.

    `features` is float32 `[N, steps, D]`, shorter samples pre-padded with -1 rows;
    `start_frame`/`num_frames` locate each sample in the recording at `fps`; `segment` indexes
    `semiology.preprocess.snippets.SEGMENTS` (samples never straddle onset or offset).
    """

    features: np.ndarray
    start_frame: np.ndarray
    num_frames: np.ndarray
    segment: np.ndarray
    fps: float
    encoder: str

    @property
    def midpoint_s(self) -> np.ndarray:
        return (self.start_frame + self.num_frames / 2.0) / self.fps

    def pooled(self) -> np.ndarray:
        """`[N, D]`: each sample's mean over its real (unpadded) steps: one GESTURES snippet per sample."""
        mask = padding_mask(self.features)[..., None]
        return ((self.features * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1)).astype(np.float32)
