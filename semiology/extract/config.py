"""The extraction config: which detectors, how to clean, lift and crop; its hash tags every cache file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from semiology.config import config_hash, config_to_dict, load_config
from semiology.detect.clean import CleaningConfig
from semiology.detect.registry import backend_names, get_backend
from semiology.experiment import EncoderConfig
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


@dataclass(frozen=True)
class RoiConfig:
    """The fixed patient crop: built from the patient's boxes in the first `frames` frames where a
    person is found (the pose runs on the whole frame until then), widened by `margin` each side.
    It is used only when it covers at most `max_area_fraction` of the frame: a crop that trims
    only the edges saves little and mostly cuts people there in half."""

    enabled: bool = True
    frames: int = 15
    margin: float = 0.3
    max_area_fraction: float = 0.6


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
    encoder: EncoderConfig = field(default_factory=EncoderConfig)

    def __post_init__(self) -> None:
        if self.body_layout not in layout_names():
            raise ValueError(f"body_layout: unknown layout {self.body_layout!r} (known: {', '.join(layout_names())})")
        for kind, section in (("pose", self.pose), ("face", self.face)):
            if section.backend not in backend_names(kind):
                raise ValueError(f"{kind}.backend: unknown {kind} backend {section.backend!r} (known: {', '.join(backend_names(kind))})")


def load_extraction_config(path: str | Path | None) -> ExtractionConfig:
    """The config in a YAML file (unknown keys and wrong types name the file), or the defaults."""
    return ExtractionConfig() if path is None else load_config(path, ExtractionConfig)


def extraction_hash(config: ExtractionConfig) -> str:
    """Hash of the config and the versions of the detectors it selects: a change of either makes caches stale."""
    versions = {"pose": get_backend("pose", config.pose.backend).version()}
    if config.face.enabled:
        versions["face"] = get_backend("face", config.face.backend).version()
    tagged: dict[str, Any] = {"config": config_to_dict(config), "detectors": versions}
    return config_hash(tagged)
