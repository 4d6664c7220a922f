"""One recording through the chain: read, detect, clean, map, lift, encode, into a `SeizureRecord`."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from semiology.camera import KINECT_V2_DEPTH, CameraIntrinsics
from semiology.detect.clean import clean_keypoints
from semiology.errors import ManifestError, VideoError
from semiology.extract.chain import ChainOutput, FrameChain
from semiology.extract.config import ExtractionConfig
from semiology.io.manifest import ManifestRow
from semiology.io.registration import depth_registration
from semiology.io.video import VideoReader, open_video
from semiology.layouts.mapping import to_layout
from semiology.lift.temporal import TemporalLifter, lift_keypoints
from semiology.models.encoder import FrameEncoder, encode_frames
from semiology.preprocess.depth import DepthStep
from semiology.records import Keypoints, SeizureRecord


@dataclass(frozen=True)
class RecordingStats:
    """What the summary table shows for one extracted recording (`face_found` over the frames
    the face mesh ran on, see `FaceConfig.every_n_frames`; `tracks`: patient tracks started, more
    than one means the patient was lost and taken up again, an identity a reviewer should check;
    `excluded`: tracks of other people than the patient, with `roi.patient: longest`, also to check)."""

    frames: int
    fps: float
    person_found: float
    face_found: float | None
    mean_confidence: float
    time_s: float
    tracks: int = 0
    excluded: int = 0


class IrScaler:
    """16-bit IR → uint8 with one percentile window per recording, fitted on its first frame.

    The same percentile rule as `semiology.io.video.ir_to_uint8`, over pixels that are neither
    empty (0) nor saturated (65535: a sunlit window would otherwise be the 99th percentile and
    leave the patient black), but fixed for the recording
    (the patient's brightness does not flicker with a passing clinician) and applied through a
    65536-entry lookup table, far cheaper per frame than percentiles (`np.take`: 0.16 ms per 512 x 424
    frame against 0.27 ms for the same lookup by fancy indexing).
    """

    def __init__(self, low_pct: float, high_pct: float) -> None:
        self.low_pct, self.high_pct = low_pct, high_pct
        self._table: np.ndarray | None = None

    def __call__(self, image: np.ndarray) -> np.ndarray:
        if image.dtype == np.uint8:
            return image
        if self._table is None:
            valid = image[(image > 0) & (image < 65535)]
            low, high = np.percentile(valid, [self.low_pct, self.high_pct]) if valid.size else (0.0, 65535.0)
            levels = (np.arange(65536, dtype=np.float32) - low) / max(float(high - low), 1e-6)
            self._table = np.round(np.clip(levels, 0.0, 1.0) * 255.0).astype(np.uint8)
        return np.take(self._table, image)


def keypoint_video(row: ManifestRow, config: ExtractionConfig) -> tuple[str, str]:
    """(kind, path) of the video the keypoints come from: IR when present (or asked), else RGB."""
    order = {"auto": ("ir", "rgb"), "ir": ("ir",), "rgb": ("rgb",)}[config.video]
    for kind in order:
        if kind in row.paths:
            return kind, str(row.paths[kind])
    raise ManifestError(f"seizure '{row.seizure_id}' (row {row.row_number}): no {' or '.join(order)} video to extract keypoints from")


def _frames(video: VideoReader, depth: VideoReader | None) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    if depth is None:
        for frame in video:
            yield frame.image, None
        return
    depth_frames = iter(depth)
    for frame in video:
        paired = next(depth_frames, None)
        if paired is None:
            raise VideoError(f"{depth.path}: the depth video ends before the keypoint video {video.path} (frame {frame.index})")
        yield frame.image, paired.image


def _intrinsics(depth: VideoReader) -> CameraIntrinsics:
    if depth.intrinsics is not None:
        return depth.intrinsics
    if (depth.width, depth.height) == (KINECT_V2_DEPTH.width, KINECT_V2_DEPTH.height):
        return KINECT_V2_DEPTH
    raise VideoError(f"{depth.path}: no camera intrinsics in the recording and it is not a 512x424 Kinect v2 frame")


def run_chain(
    chain: FrameChain, row: ManifestRow, config: ExtractionConfig, progress: bool = True
) -> tuple[ChainOutput, float, str]:
    """Stream one recording's frames (and depth, when lifting by depth) through `chain`.

    Returns the chain output, the frame rate and the path of the keypoint video.
    """
    kind, path = keypoint_video(row, config)
    use_depth = "depth" in row.paths and config.lift.method in ("auto", "depth")
    with ExitStack() as stack:
        video = stack.enter_context(open_video(path, kind=kind, fps=row.fps))
        depth = stack.enter_context(open_video(row.paths["depth"], kind="depth", fps=row.fps)) if use_depth else None
        register = None
        if depth is not None and (depth.width, depth.height) != (video.width, video.height):
            register = depth_registration(depth.path, (depth.width, depth.height), (video.width, video.height), path)
        step = DepthStep(config.depth.denoise, config.depth.bed_crop, depth.intrinsics) if depth is not None else None
        intrinsics = register.target if register is not None else _intrinsics(depth) if depth is not None else None
        chain.start((video.width, video.height), intrinsics, fps=float(video.fps))
        scale = IrScaler(config.ir_low_pct, config.ir_high_pct)
        bar = tqdm(total=video.n_frames, desc=row.seizure_id, unit="frame", disable=not progress, leave=False)
        with bar:
            for image, depth_mm in _frames(video, depth):
                if step is not None and depth_mm is not None:
                    depth_mm = step(depth_mm) if register is None else register(step(depth_mm))
                chain.process(scale(image), depth_mm)
                bar.update()
        fps = float(video.fps)
    output = chain.finish()
    if len(output.body_px) == 0:
        raise VideoError(f"{path}: no frames could be decoded")
    return output, fps, path


def build_record(
    row: ManifestRow,
    output: ChainOutput,
    fps: float,
    config: ExtractionConfig,
    sources: Mapping[str, str],
    lifter: TemporalLifter | None = None,
    encoders: Mapping[str, FrameEncoder] | None = None,
) -> SeizureRecord:
    """The cleaned, layout-mapped, lifted and encoded record of one recording's chain output."""
    body_raw = Keypoints(output.body_px, output.body_confidence, output.body_layout, fps, sources["body"])
    body_2d = to_layout(clean_keypoints(body_raw, config.cleaning), config.body_layout)
    body_3d = None
    if output.body_mm is not None and output.body_mm_confidence is not None:
        body_mm = Keypoints(output.body_mm, output.body_mm_confidence, output.body_layout, fps, f"{sources['body']}+depth")
        body_3d = to_layout(clean_keypoints(body_mm, config.cleaning), config.body_layout)
    elif lifter is not None and config.lift.method in ("auto", "temporal"):
        body_3d = lift_keypoints(lifter, body_2d)
    face_2d = None
    if output.face_px is not None and output.face_confidence is not None and output.face_layout is not None:
        face_raw = Keypoints(output.face_px, output.face_confidence, output.face_layout, fps, sources["face"])
        face_2d = clean_keypoints(face_raw, config.cleaning)
    features = {}
    for stream, crops in (("body", output.body_crops), ("face", output.face_crops)):
        if encoders and stream in encoders and crops is not None:
            features[stream] = encode_frames(encoders[stream], crops)
    return SeizureRecord(
        seizure_id=row.seizure_id,
        subject_id=row.subject_id,
        fps=fps,
        onset_s=row.onset_s,
        offset_s=row.offset_s,
        generalisation_s=row.generalisation_s,
        labels=dict(row.labels),
        body_2d=body_2d,
        body_3d=body_3d,
        face_2d=face_2d,
        body_crops=output.body_crops,
        face_crops=output.face_crops,
        body_features=features.get("body"),
        face_features=features.get("face"),
        meta={
            "modalities": sorted(kind for kind in row.paths if kind != "keypoints"),
            "detectors": dict(sources),
            **row.view_meta,
            **tracking_meta(output),
        },
    )


def tracking_meta(output: ChainOutput) -> dict[str, object]:
    """What the chain decided about the patient, for the cache: per-frame boxes (`[T, 4]` pixel corners,
    NaN where none) and track ids (-1: no patient), and every identity decision.

    `search_box_px` is where the pose looked (NaN: the whole frame), `patient_box_px` the patient
    found there, `track` the identity (a new id after each re-acquisition: a reviewer checks
    those), `crop_boxes_px` the smoothed square each appearance crop was cut from, so overlays
    map keypoints onto the crops of the real frames.
    """
    crop_boxes = {stream: boxes for stream, boxes in (("body", output.body_crop_box_px), ("face", output.face_crop_box_px)) if boxes is not None}
    return {
        "search_box_px": output.search_box_px,
        "patient_box_px": output.patient_box_px,
        "track": output.track,
        "crop_boxes_px": crop_boxes,
        "identity_events": [event.as_dict() for event in output.identity_events],
    }


def recording_stats(output: ChainOutput, fps: float, time_s: float) -> RecordingStats:
    """Frames, fps, share of frames with the patient and of searched frames with a face, mean body confidence where found."""
    found = output.person_found
    face = None
    if output.face_confidence is not None and output.face_searched is not None and output.face_searched.any():
        face = float((output.face_confidence[output.face_searched].max(axis=1) > 0).mean())
    mean_confidence = float(output.body_confidence[found].mean()) if found.any() else 0.0
    tracks = len({int(track) for track in output.track if track >= 0})
    excluded = sum(event.event == "excluded" for event in output.identity_events)
    return RecordingStats(
        frames=len(found), fps=fps, person_found=float(found.mean()), face_found=face, mean_confidence=mean_confidence, time_s=time_s,
        tracks=tracks, excluded=excluded,
    )


def extract_recording(
    chain: FrameChain,
    row: ManifestRow,
    config: ExtractionConfig,
    lifter: TemporalLifter | None = None,
    encoders: Mapping[str, FrameEncoder] | None = None,
    progress: bool = True,
) -> tuple[SeizureRecord, RecordingStats]:
    """Extract one manifest row; a recording where nobody is found is a record with no keypoints, not an error."""
    started = time.perf_counter()
    output, fps, _ = run_chain(chain, row, config, progress)
    record = build_record(row, output, fps, config, chain.sources, lifter, encoders)
    return record, recording_stats(output, fps, time.perf_counter() - started)
