"""Bring every stream of a record to one frame rate, so that windows are fixed in seconds."""

from __future__ import annotations

import dataclasses

from semiology.preprocess.windows import resample_indices
from semiology.records import Keypoints, SeizureRecord


def resample_record(record: SeizureRecord, target_fps: float) -> SeizureRecord:
    """A copy of `record` whose keypoints, crops and features are sampled at `target_fps`.

    Recordings come at 25, 29.97 or 30 fps; the models read windows of fixed duration, so
    every stream is taken at the frames nearest to a common time grid (see
    `resample_indices`). Clinical times are in seconds and do not change.
    """
    if abs(record.fps - target_fps) < 1e-9:
        return record
    index = resample_indices(record.num_frames, record.fps, target_fps)

    def keypoints(stream: Keypoints | None) -> Keypoints | None:
        if stream is None:
            return None
        return Keypoints(stream.coords[index], stream.confidence[index], stream.layout, target_fps, stream.source)

    def frames(array):
        return None if array is None else array[index]

    return dataclasses.replace(
        record,
        fps=target_fps,
        body_3d=keypoints(record.body_3d),
        body_2d=keypoints(record.body_2d),
        face_2d=keypoints(record.face_2d),
        body_crops=frames(record.body_crops),
        face_crops=frames(record.face_crops),
        body_features=frames(record.body_features),
        face_features=frames(record.face_features),
        meta={**record.meta, "resampled_from_fps": record.fps},
    )
