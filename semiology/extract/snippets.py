"""Per-seizure snippet features into the cache: I3D over recordings, kinematics over keypoints.

Both run as a batch over seizures with a progress bar; a seizure whose cache file was made with
the same settings (config hash) is skipped, so an interrupted run resumes; a recording that
cannot be read or encoded is reported and the batch goes on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from semiology.errors import ManifestError, SemiologyError
from semiology.io.cache import cache_path, stale_reason
from semiology.io.fingerprint import inputs_hash
from semiology.io.snippet_cache import save_sample_features
from semiology.io.sources import RowSource, as_source
from semiology.io.video import open_video
from semiology.models.i3d import extract_features
from semiology.preprocess.i3d_input import prepare_clip
from semiology.preprocess.kinematics import kinematic_sample_features
from semiology.preprocess.snippets import SAMPLE_FRAMES, STEPS_PER_SAMPLE, pre_pad, recording_samples
from semiology.records import SampleFeatures, SeizureRecord


def read_frames(path: Path, kind: str = "ir", fps: float | None = None) -> tuple[np.ndarray, float]:
    """All frames of a recording as one array (uint8 for IR/RGB) and its frame rate, via `open_video`."""
    reader = open_video(path, kind, fps)
    with reader:
        frames = [frame.image for frame in reader]
        rate = float(reader.fps)
    if not frames:
        raise SemiologyError(f"{path}: no frames")
    return np.stack(frames), rate


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
    """I3D features of every 60-frame sample of a recording, `[N, 7, 1024]`, leftovers -1 pre-padded."""
    windows, segments = recording_samples(len(frames), fps, onset_s, offset_s, overlap, SAMPLE_FRAMES)
    stacked = []
    for window in windows:
        clip = prepare_clip(frames[window.start : window.stop], size_px=size_px, fit=fit)[None]
        stacked.append(pre_pad(extract_features(extractor, clip)[0].numpy(), STEPS_PER_SAMPLE))
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


def video_inputs_hash(record: SeizureRecord, video: Path) -> str:
    """What video features are computed from: the record's times and the video's fingerprint."""
    fields = {"seizure_id": record.seizure_id, "fps": record.fps, "onset_s": record.onset_s, "offset_s": record.offset_s}
    return inputs_hash(fields, {"video": video})


def manifest_records(manifest: RowSource | str | Path, kind: str) -> list[tuple[SeizureRecord, Path]]:
    """Seizure skeletons (ids, times, labels) and their `kind` recording from a row source (or a manifest path)."""
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
            ),
            row.paths[kind],
        )
        for row in rows
    ]
