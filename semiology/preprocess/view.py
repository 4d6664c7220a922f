"""View alignment of 3D skeletons: express a recording in the patient's own body frame.

A depth camera sits wherever the room allows: above the bed at one tilt, off to one side at
another. In camera coordinates the same sign (an elbow flexing towards the patient's front)
is a different 3D vector in every room, and with a handful of subjects a model learns the
rooms. Rotating each recording into a frame fixed to the trunk -- x along the shoulder line
towards the patient's left, y from the hips to the shoulders, z out of the chest -- makes the
sign one vector again. This is the view normalisation that skeleton action recognition applies
to NTU RGB+D (2s-AGCN rotates each sequence so that the shoulders lie along x and the spine
along z); it is written here because the recording-level, NaN-aware form (one rotation from a
reference period, so that trunk movements during the seizure stay visible) is not in a library.
"""

from __future__ import annotations

import numpy as np

from semiology.layouts import get_layout
from semiology.records import Keypoints

TRUNK_JOINTS = ("left_shoulder", "right_shoulder", "left_hip", "right_hip")
"""The joints that define the body frame; every body layout names them."""


def body_frame_rotation(coords: np.ndarray, layout_name: str) -> np.ndarray | None:
    """The rotation `[3, 3]` taking camera coordinates of `coords` `[T, V, 3]` into the body frame.

    Rows are the body axes in camera coordinates: x from the right to the left shoulder, y
    from the mid-hip to the mid-shoulder made orthogonal to x, z = x × y (a proper rotation).
    The trunk is taken at its per-joint median over the frames, ignoring missing (NaN)
    frames. Returns None when a trunk joint is never seen or the trunk is degenerate (the
    shoulders coincide, or the spine lies along the shoulder line), so the caller can keep
    the camera frame rather than rotate by noise.
    """
    if coords.ndim != 3 or coords.shape[-1] != 3:
        raise ValueError(f"layout {layout_name!r}: view alignment needs 3D coords [T, V, 3], got {coords.shape}")
    layout = get_layout(layout_name)
    missing = [name for name in TRUNK_JOINTS if name not in layout.joint_names]
    if missing:
        raise ValueError(f"layout {layout_name!r} has no {', '.join(missing)}: view alignment needs shoulders and hips")
    trunk = {}
    for name in TRUNK_JOINTS:
        track = coords[:, layout.index(name), :]
        track = track[np.isfinite(track).all(axis=-1)]
        if len(track) == 0:
            return None
        trunk[name] = np.median(track, axis=0)
    across = trunk["left_shoulder"] - trunk["right_shoulder"]
    up = (trunk["left_shoulder"] + trunk["right_shoulder"]) / 2 - (trunk["left_hip"] + trunk["right_hip"]) / 2
    width = np.linalg.norm(across)
    if width < 1e-6:
        return None
    x_axis = across / width
    up = up - (up @ x_axis) * x_axis
    height = np.linalg.norm(up)
    if height < 1e-6:
        return None
    y_axis = up / height
    z_axis = np.cross(x_axis, y_axis)
    return np.stack([x_axis, y_axis, z_axis]).astype(np.float64)


def align_to_body_frame(keypoints: Keypoints, reference_frames: np.ndarray) -> Keypoints:
    """`keypoints` rotated into the body frame estimated over `reference_frames` (e.g. the pre-ictal period).

    One rotation for the whole recording: the trunk's own movements during the seizure
    (tonic extension, a turn of the body) stay in the data. With no reference frames, or none
    in which the trunk is seen, the rotation comes from every frame; when even that fails the
    keypoints are returned unchanged. 2D keypoints are returned unchanged: a 2D projection
    cannot be turned back towards another viewpoint.
    """
    if keypoints.coords.shape[-1] != 3:
        return keypoints
    rotation = None
    if len(reference_frames):
        rotation = body_frame_rotation(keypoints.coords[reference_frames], keypoints.layout)
    if rotation is None:
        rotation = body_frame_rotation(keypoints.coords, keypoints.layout)
    if rotation is None:
        return keypoints
    rotated = (keypoints.coords.astype(np.float64) @ rotation.T).astype(np.float32)
    return Keypoints(coords=rotated, confidence=keypoints.confidence, layout=keypoints.layout, fps=keypoints.fps, source=keypoints.source)
