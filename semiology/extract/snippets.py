"""Per-seizure snippet features into the cache: I3D over recordings, kinematics over keypoints.

Both run as a batch over seizures with a progress bar; a seizure whose cache file was made with
the same settings (config hash) is skipped, so an interrupted run resumes; a recording that
cannot be read or encoded is reported and the batch goes on.

I3D sees what the keypoint detectors see: 16-bit IR scaled to 8 bits with the keypoint path's
percentile window (`semiology.extract.recording.IrScaler`, fitted on the first frame), cut to
the patient+bed box found in the first depth frame when the recording has depth
(`semiology.preprocess.depth.bed_crop_box`, as the 3D-video study cropped before I3D), then
pytorch-i3d's normalisation to [-1, 1] (`semiology.preprocess.i3d_input.prepare_clip`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from tqdm import tqdm

from semiology.errors import ManifestError, SemiologyError, VideoError
from semiology.extract.recording import IrScaler
from semiology.io.cache import cache_path, stale_reason
from semiology.io.fingerprint import inputs_hash
from semiology.io.snippet_cache import save_sample_features
from semiology.io.sources import RowSource, as_source
from semiology.io.video import open_video
from semiology.models.i3d import extract_features
from semiology.preprocess.depth import bed_crop_box
from semiology.preprocess.i3d_input import crop_to_box, prepare_clip
from semiology.preprocess.kinematics import kinematic_sample_features
from semiology.preprocess.snippets import SAMPLE_FRAMES, STEPS_PER_SAMPLE, pre_pad, recording_samples
from semiology.records import SampleFeatures, SeizureRecord


@dataclass(frozen=True)
class I3DInput:
    """How a recording becomes I3D clips: which video, the IR percentile window, the bed crop, the fit and size."""

    kind: Literal["ir", "rgb"] = "ir"
    ir_low_pct: float = 1.0
    ir_high_pct: float = 99.0
    bed_crop: bool = True
    bed_margin: float = 0.1
    fit: Literal["pad", "crop"] = "pad"
    size_px: int = 224

    def as_dict(self) -> dict[str, Any]:
        """The settings for the feature cache's config hash."""
        return asdict(self)


def read_frames(path: Path, kind: str = "ir", fps: float | None = None, ir_low_pct: float = 1.0, ir_high_pct: float = 99.0) -> tuple[np.ndarray, float]:
    """All frames of a recording as one uint8 array and its frame rate, via `open_video`.

    16-bit IR is scaled to 8 bits between the `ir_low_pct` and `ir_high_pct` percentiles of its
    first frame, as the keypoint path does (`IrScaler`).
    """
    scale = IrScaler(ir_low_pct, ir_high_pct)
    reader = open_video(path, kind, fps)
    with reader:
        frames = [scale(frame.image) for frame in reader]
        rate = float(reader.fps)
    if not frames:
        raise SemiologyError(f"{path}: no frames")
    return np.stack(frames), rate


def recording_bed_box(depth_path: Path, frame_size: tuple[int, int], margin: float = 0.1, fps: float | None = None) -> tuple[int, int, int, int]:
    """The patient+bed box of a recording, from the first frame of its depth video, for frames of `frame_size` (width, height)."""
    with open_video(depth_path, "depth", fps) as depth:
        if (depth.width, depth.height) != tuple(frame_size):
            raise VideoError(f"{depth_path}: depth frames are {depth.width}x{depth.height} but the video frames {frame_size[0]}x{frame_size[1]}; the bed crop needs depth registered to the video")
        first = next(iter(depth)).image
        intrinsics = depth.intrinsics
    try:
        return bed_crop_box(first, intrinsics, margin)
    except ValueError as error:
        raise VideoError(f"{depth_path}: no bed crop from the first depth frame ({error})") from error


def clip_frames(path: Path, settings: I3DInput, fps: float | None = None, depth_path: Path | None = None) -> tuple[np.ndarray, float, tuple[int, int, int, int] | None]:
    """A recording's frames as I3D reads them (8-bit, cut to the bed box when `depth_path` is given and `bed_crop`), its rate and the box."""
    frames, rate = read_frames(path, settings.kind, fps, settings.ir_low_pct, settings.ir_high_pct)
    box = None
    if settings.bed_crop and depth_path is not None:
        box = recording_bed_box(depth_path, (frames.shape[2], frames.shape[1]), settings.bed_margin, fps)
    return crop_to_box(frames, box), rate, box


def i3d_sample_features(
    extractor: torch.nn.Module,
    frames: np.ndarray,
    fps: float,
    onset_s: float,
    offset_s: float,
    overlap: bool = False,
    fit: str = "pad",
    size_px: int = 224,
) -> SampleFeatures:
    """I3D features of every 60-frame sample of a recording, `[N, 7, 1024]`, leftovers -1 pre-padded.

    Clips are prepared on the CPU and run on the extractor's device (`tools/extract_i3d.py --device`).
    """
    windows, segments = recording_samples(len(frames), fps, onset_s, offset_s, overlap, SAMPLE_FRAMES)
    device = next(extractor.parameters()).device
    stacked = []
    for window in windows:
        clip = prepare_clip(frames[window.start : window.stop], size_px=size_px, fit=fit)[None].to(device)
        stacked.append(pre_pad(extract_features(extractor, clip)[0].cpu().numpy(), STEPS_PER_SAMPLE))
    return SampleFeatures(
        features=np.stack(stacked) if stacked else np.zeros((0, STEPS_PER_SAMPLE, 1024), np.float32),
        start_frame=np.array([w.start for w in windows], dtype=np.int64),
        num_frames=np.array([w.length for w in windows], dtype=np.int64),
        segment=segments,
        fps=float(fps),
        encoder="i3d",
    )


def kinematic_record_features(record: SeizureRecord, overlap: bool = False) -> SampleFeatures:
    """Kinematic sample features of a cached record (3D body keypoints when present, else 2D)."""
    keypoints = record.body_3d if record.body_3d is not None else record.body_2d
    if keypoints is None:
        raise SemiologyError(f"seizure {record.seizure_id}: no body keypoints")
    if not keypoints.has_detections():
        raise SemiologyError(f"seizure {record.seizure_id}: nobody in the recording: every body keypoint is missing (NaN or confidence 0)")
    return kinematic_sample_features(keypoints, record.onset_s, record.offset_s, overlap)


@dataclass
class ExtractionSummary:
    """What a batch did: seizures written, skipped (already cached), and failed with their reason."""

    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def extract_batch(
    records: Iterable[SeizureRecord],
    encode: Callable[[SeizureRecord], SampleFeatures],
    cache_dir: Path,
    config_hash: str,
    progress: bool = True,
    total: int | None = None,
    inputs: Callable[[SeizureRecord], str] | None = None,
) -> ExtractionSummary:
    """Encode each record and write its features to `cache_dir`, resumably; failures are collected.

    A cached feature file is reused only when made with `config_hash` from the same inputs:
    `inputs(record)` hashes what the features are computed from (default `record_inputs_hash`:
    the record's times, labels and keypoint arrays; for video features, the video's fingerprint).
    """
    summary = ExtractionSummary()
    inputs = inputs or record_inputs_hash
    for record in tqdm(records, total=total, desc="snippet features", unit="seizure", disable=not progress):
        made_from = inputs(record)
        if stale_reason(cache_path(cache_dir, record.seizure_id), config_hash, made_from) is None:
            summary.skipped.append(record.seizure_id)
            continue
        try:
            samples = encode(record)
            save_sample_features(record, samples, cache_dir, config_hash, input_hash=made_from)
        except (SemiologyError, OSError, ValueError, RuntimeError) as error:
            summary.failed.append((record.seizure_id, f"{type(error).__name__}: {error}"))
            continue
        summary.written.append(record.seizure_id)
    return summary


def record_inputs_hash(record: SeizureRecord) -> str:
    """SHA-256 of what kinematic features are computed from: the record's times, labels and keypoint arrays."""
    digest = hashlib.sha256(json.dumps([record.seizure_id, record.subject_id, record.onset_s, record.offset_s, record.generalisation_s,
                                        sorted(record.labels.items())]).encode())
    for keypoints in (record.body_2d, record.body_3d):
        if keypoints is not None:
            digest.update(keypoints.layout.encode())
            digest.update(np.ascontiguousarray(keypoints.coords).tobytes())
            digest.update(np.ascontiguousarray(keypoints.confidence).tobytes())
    return digest.hexdigest()


def video_inputs_hash(record: SeizureRecord, video: Path, depth: Path | None = None) -> str:
    """What video features are computed from: the record's times and the fingerprints of the video and (for the bed crop) its depth."""
    fields = {"seizure_id": record.seizure_id, "fps": record.fps, "onset_s": record.onset_s, "offset_s": record.offset_s}
    return inputs_hash(fields, {"video": video} if depth is None else {"video": video, "depth": depth})


def manifest_records(manifest: RowSource | str | Path, kind: str) -> list[tuple[SeizureRecord, Path]]:
    """Seizure skeletons (ids, times, labels, camera view) and their `kind` recording from a row source (or a manifest path)."""
    return [(record, path) for record, path, _ in manifest_recordings(manifest, kind)]


def manifest_recordings(manifest: RowSource | str | Path, kind: str) -> list[tuple[SeizureRecord, Path, Path | None]]:
    """As `manifest_records`, with each row's depth video (None without one) for the bed crop."""
    source = as_source(manifest)
    rows = source.rows()
    missing = [f"{source.name}: row {row.row_number} (seizure_id {row.seizure_id!r}): no {kind!r} path" for row in rows if kind not in row.paths]
    if missing:
        raise ManifestError.from_problems(missing)
    return [
        (
            SeizureRecord(
                seizure_id=row.seizure_id,
                subject_id=row.subject_id,
                fps=row.fps or 30.0,
                onset_s=row.onset_s,
                offset_s=row.offset_s,
                labels=dict(row.labels),
                generalisation_s=row.generalisation_s,
                meta=row.view_meta,
            ),
            row.paths[kind],
            row.paths.get("depth"),
        )
        for row in rows
    ]
