"""The extraction config: which detectors, how to clean, lift and crop; its hash tags every cache file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from semiology.config import config_hash, config_to_dict, load_config
from semiology.detect.clean import CleaningConfig
from semiology.detect.registry import backend_names, get_backend
from semiology.experiment import EncoderConfig
from semiology.io.fingerprint import content_sha256
from semiology.layouts import layout_names


@dataclass(frozen=True)
class PoseConfig:
    """The body keypoint detector: a registered pose `backend` (see `semiology.detect.registry`) and its thresholds.

    The thresholds are MediaPipe Pose's (see `semiology.detect.mediapipe_pose.MediaPipePose`);
    another backend reads what it needs of this section.
    """

    backend: str = "mediapipe"
    min_detection_confidence: float = 0.3
    min_tracking_confidence: float = 0.3
    checkpoint: str | None = None
    model_config: str | None = None


PATIENT_CHOICES = ("any", "longest")


@dataclass(frozen=True)
class RoiConfig:
    """Following the patient (`semiology.preprocess.roi.PatientTracker`).

    The pose runs on the patient's own box widened by `margin` on each side, moved when the
    patient leaves it; a box over `max_area_fraction` of the frame is not worth cropping. A
    sighting whose centre moved more than `max_jump` patient sizes since the last frame, or whose
    size changed more than `max_scale` times, is another person and is refused. After
    `reacquire_s` seconds without the patient, or when the camera view changes (thumbnail
    correlation below `view_change`), the whole frame is searched and the next person found
    starts a new track. With `seed_px` ([u0, v0, u1, v1] in pixels: the bed, say) a track only
    starts from a person whose centre lies in it, and the seed, not the whole frame, is searched
    while there is no track. Every `presence_every_s` seconds (0: never) a
    fresh detection checks that the tracked person is really there. `patient` says who the
    patient is among the tracks: `any` keeps every track (identity checks and the seed keep it
    on the patient); `longest` decides when the recording is finished: in each camera view, the
    tracks at one place (median boxes overlapping by `same_place_iou` or more: the patient lost
    behind a clinician and taken up again) are one person, the person with the most frames is
    the patient, and the frames of the others are reported without a person, their crops blank
    (`semiology.preprocess.roi.other_people`; not in a live session, which cannot wait for the
    end). `enabled: false` runs the pose on the whole frame with no identity checks."""

    enabled: bool = True
    margin: float = 0.3
    max_area_fraction: float = 0.6
    max_jump: float = 0.5
    max_scale: float = 1.6
    reacquire_s: float = 0.5
    view_change: float = 0.6
    seed_px: tuple[float, float, float, float] | None = None
    presence_every_s: float = 1.0
    patient: str = "any"
    same_place_iou: float = 0.3

    def __post_init__(self) -> None:
        if self.patient not in PATIENT_CHOICES:
            raise ValueError(f"roi.patient must be one of {', '.join(PATIENT_CHOICES)}, got {self.patient!r}")
        if self.patient == "longest" and not self.enabled:
            raise ValueError("roi.patient: longest chooses among the tracks of the patient tracker, which roi.enabled: false turns off")
        if not 0.0 < self.same_place_iou <= 1.0:
            raise ValueError(f"roi.same_place_iou must lie in (0, 1], got {self.same_place_iou}")
        if self.max_jump <= 0 or self.max_scale <= 1 or self.reacquire_s <= 0 or self.presence_every_s < 0:
            raise ValueError("roi: max_jump and reacquire_s must be > 0, max_scale > 1, presence_every_s >= 0")
        if self.seed_px is not None and not (self.seed_px[0] < self.seed_px[2] and self.seed_px[1] < self.seed_px[3]):
            raise ValueError(f"roi.seed_px must be [u0, v0, u1, v1] with u0 < u1 and v0 < v1, got {list(self.seed_px)}")


@dataclass(frozen=True)
class FaceConfig:
    """Face landmarks (a registered face `backend`, MediaPipe face mesh → face_23 by default) on a head crop from the pose, or the whole ROI.

    The mesh runs on every `every_n_frames`-th frame; cleaning bridges the frames between (the
    models resample to 10 frames/s, so 15 face frames/s from a 30 frames/s video lose nothing)."""

    enabled: bool = True
    backend: str = "mediapipe_face_mesh"
    min_detection_confidence: float = 0.5
    head_scale: float = 2.0
    every_n_frames: int = 2

    def __post_init__(self) -> None:
        if self.every_n_frames < 1:
            raise ValueError(f"every_n_frames must be at least 1, got {self.every_n_frames}")


@dataclass(frozen=True)
class CropConfig:
    """Appearance crops: square grey crops of `size_px` around the body and the face, encoded by `encoder`."""

    enabled: bool = True
    size_px: int = 32
    body_margin: float = 0.1
    box_smoothing: float = 0.3
    features: bool = True


@dataclass(frozen=True)
class LiftConfig:
    """2D→3D: `depth` back-projects through the recording's depth video, `temporal` runs the lifter
    checkpoint, `auto` uses depth where a recording has it and the lifter (if given) otherwise."""

    method: Literal["none", "auto", "depth", "temporal"] = "auto"
    lifter_checkpoint: str | None = None
    depth_window_px: int = 5


@dataclass(frozen=True)
class DepthConfig:
    """The depth step, run where a recording has a depth video (`semiology.preprocess.depth.DepthStep`):
    `denoise` fills missing readings by grey dilation; `bed_crop` keeps only the bed volume fitted
    on the first frame (which must show the bed without a clinician in front of it)."""

    denoise: bool = False
    bed_crop: bool = False


@dataclass(frozen=True)
class ExtractionConfig:
    """Everything that changes what extraction writes; its hash is stored in every cache file."""

    video: Literal["auto", "ir", "rgb"] = "auto"
    body_layout: str = "upper_body_11"
    ir_low_pct: float = 1.0
    ir_high_pct: float = 99.0
    pose: PoseConfig = field(default_factory=PoseConfig)
    roi: RoiConfig = field(default_factory=RoiConfig)
    face: FaceConfig = field(default_factory=FaceConfig)
    cleaning: CleaningConfig = field(default_factory=CleaningConfig)
    crops: CropConfig = field(default_factory=CropConfig)
    lift: LiftConfig = field(default_factory=LiftConfig)
    depth: DepthConfig = field(default_factory=DepthConfig)
    encoder: EncoderConfig = field(default_factory=EncoderConfig)

    def __post_init__(self) -> None:
        if self.body_layout not in layout_names():
            raise ValueError(f"body_layout: unknown layout {self.body_layout!r} (known: {', '.join(layout_names())})")
        for kind, section in (("pose", self.pose), ("face", self.face)):
            if section.backend not in backend_names(kind):
                raise ValueError(f"{kind}.backend: unknown {kind} backend {section.backend!r} (known: {', '.join(backend_names(kind))})")
            for key in get_backend(kind, section.backend).requires:
                if getattr(section, key, None) is None:
                    raise ValueError(f"{kind}.{key}: the {section.backend} backend needs it (a local file: weights are never downloaded)")


def load_extraction_config(path: str | Path | None) -> ExtractionConfig:
    """The config in a YAML file (unknown keys and wrong types name the file), or the defaults."""
    return ExtractionConfig() if path is None else load_config(path, ExtractionConfig)


def extraction_hash(config: ExtractionConfig) -> str:
    """Hash of the config and the versions of the detectors it selects: a change of either makes caches stale."""
    versions = {"pose": get_backend("pose", config.pose.backend).version()}
    for key in ("checkpoint", "model_config"):
        path = getattr(config.pose, key)
        if path is not None:
            versions[f"pose.{key}"] = content_sha256(path) or "missing"
    if config.face.enabled:
        versions["face"] = get_backend("face", config.face.backend).version()
    tagged: dict[str, Any] = {"config": config_to_dict(config), "detectors": versions}
    return config_hash(tagged)
