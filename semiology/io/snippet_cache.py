"""Per-seizure snippet features in the extraction cache (`semiology.io.cache` files).

A feature record is a `SeizureRecord` with no keypoints or crops: `body_features` holds the
samples' features `[N, steps, D]` and `meta["samples"]` their placement (start frame, length,
segment, frame rate, encoder). The cache's version and config-hash checks apply unchanged, so
an extraction run skips seizures whose file matches the current config and redoes stale ones.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from semiology.errors import CacheError
from semiology.io.cache import cache_path, load_record, save_record
from semiology.records import SampleFeatures, SeizureRecord


def save_sample_features(record: SeizureRecord, samples: SampleFeatures, cache_dir: str | Path, config_hash: str, input_hash: str | None = None) -> Path:
    """Write `samples` of `record` (ids, times, labels kept) to its file in `cache_dir`."""
    feature_record = dataclasses.replace(
        record,
        body_3d=None,
        body_2d=None,
        face_2d=None,
        body_crops=None,
        face_crops=None,
        face_features=None,
        body_features=samples.features.astype(np.float32),
        meta={
            **{key: value for key, value in record.meta.items() if key in ("view", "view_of")},
            "samples": {
                "start_frame": samples.start_frame.tolist(),
                "num_frames": samples.num_frames.tolist(),
                "segment": samples.segment.tolist(),
                "fps": samples.fps,
                "encoder": samples.encoder,
            },
        },
    )
    return save_record(feature_record, cache_path(cache_dir, record.seizure_id), config_hash, input_hash=input_hash)


def load_sample_features(path: str | Path, expected_config_hash: str | None = None) -> tuple[SeizureRecord, SampleFeatures]:
    """A feature record and its `SampleFeatures`; CacheError when the file holds no samples."""
    record = load_record(path, expected_config_hash)
    placement = record.meta.get("samples")
    if placement is None or record.body_features is None:
        raise CacheError(f"{path}: not a snippet-feature file (no samples in its meta)")
    samples = SampleFeatures(
        features=np.asarray(record.body_features, dtype=np.float32),
        start_frame=np.asarray(placement["start_frame"], dtype=np.int64),
        num_frames=np.asarray(placement["num_frames"], dtype=np.int64),
        segment=np.asarray(placement["segment"], dtype=np.int8),
        fps=float(placement["fps"]),
        encoder=str(placement["encoder"]),
    )
    if len(samples.start_frame) != len(samples.features):
        raise CacheError(f"{path}: {len(samples.features)} feature rows but {len(samples.start_frame)} sample placements")
    return record, samples
