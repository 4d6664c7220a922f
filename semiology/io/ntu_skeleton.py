"""NTU RGB+D / Kinect v2 `.skeleton` files: the 25 Kinect joints per tracked body, per frame, as text.

The format (the NTU RGB+D toolbox's `read_skeleton`): the number of frames; for each frame the
number of bodies; for each body one line of ten body values (tracking id first), the number of
joints (25) and one line per joint: `x y z depthX depthY colorX colorY orientationW X Y Z
trackingState`. `x y z` are metres in the Kinect's camera space, `depthX depthY` pixels of the
512x424 depth image, `colorX colorY` pixels of the 1920x1080 colour image.

Of several bodies the patient is the tracking id present in most frames (a clinician walks in and
out). A joint's confidence is its tracking state: tracked 1.0, inferred 0.5, not tracked 0 (and
NaN coordinates). The 3D points come out in millimetres in this project's camera convention (x
along the image's u, y along v, z forward): the Kinect's camera space points y up and x to the
sensor's left, and the file's own depth pixels tell which way each axis runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from semiology.errors import SemiologyError
from semiology.layouts.body import NTU_25

JOINTS = NTU_25.num_joints
TRACKING_CONFIDENCE = {0: 0.0, 1: 0.5, 2: 1.0}


class SkeletonFileError(SemiologyError):
    """A keypoint file from another tool that cannot be read; the message names the file and the problem."""


@dataclass(frozen=True)
class NtuSkeleton:
    """One body's sequence from a `.skeleton` file: 3D in mm `[T, 25, 3]`, colour and depth pixels `[T, 25, 2]`, confidence `[T, 25]`."""

    points_mm: np.ndarray
    colour_px: np.ndarray
    depth_px: np.ndarray
    confidence: np.ndarray
    body_id: str


def _numbers(line: str, line_number: int, count: int, path: Path) -> list[float]:
    values = line.split()
    if len(values) < count:
        raise SkeletonFileError(f"{path}: line {line_number}: expected {count} numbers, found {len(values)}")
    try:
        return [float(value) for value in values[:count]]
    except ValueError as error:
        raise SkeletonFileError(f"{path}: line {line_number}: not a number ({error})") from None


def read_ntu_skeleton(path: str | Path) -> NtuSkeleton:
    """The patient's body (the tracking id seen in most frames) from an NTU RGB+D / Kinect v2 `.skeleton` file."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise SkeletonFileError(f"{path}: cannot read the skeleton file ({error})") from None
    cursor = 0

    def next_line() -> tuple[str, int]:
        nonlocal cursor
        if cursor >= len(lines):
            raise SkeletonFileError(f"{path}: truncated at line {cursor + 1}: the file ends before its last frame")
        cursor += 1
        return lines[cursor - 1], cursor

    def count(what: str) -> int:
        line, number = next_line()
        try:
            return int(line.strip())
        except ValueError:
            raise SkeletonFileError(f"{path}: line {number}: expected the number of {what}, found {line.strip()[:40]!r}") from None

    n_frames = count("frames")
    if n_frames <= 0:
        raise SkeletonFileError(f"{path}: no frames")
    bodies: dict[str, np.ndarray] = {}
    for frame in range(n_frames):
        for _ in range(count("bodies")):
            line, number = next_line()
            body_id = line.split()[0] if line.split() else ""
            if not body_id:
                raise SkeletonFileError(f"{path}: line {number}: empty body line")
            n_joints = count("joints")
            if n_joints != JOINTS:
                raise SkeletonFileError(f"{path}: line {cursor}: {n_joints} joints; Kinect v2 skeletons have {JOINTS}")
            values = np.array([_numbers(*next_line(), 12, path) for _ in range(JOINTS)], dtype=np.float64)
            sequence = bodies.setdefault(body_id, np.full((n_frames, JOINTS, 12), np.nan))
            sequence[frame] = values
    if not bodies:
        raise SkeletonFileError(f"{path}: no body in any frame")
    body_id = max(bodies, key=lambda key: int(np.isfinite(bodies[key][:, 0, 0]).sum()))
    values = bodies[body_id]
    state = np.nan_to_num(values[..., 11], nan=0.0).round().astype(int)
    confidence = np.vectorize(lambda s: TRACKING_CONFIDENCE.get(int(s), 0.0))(state).astype(np.float32)
    missing = confidence == 0
    camera_m = values[..., 0:3].copy()
    depth_px, colour_px = values[..., 3:5].copy(), values[..., 5:7].copy()
    camera_m[..., :2] *= _axis_signs(camera_m, depth_px, missing)
    for array in (camera_m, depth_px, colour_px):
        array[missing] = np.nan
    return NtuSkeleton((camera_m * 1000.0).astype(np.float32), colour_px.astype(np.float32), depth_px.astype(np.float32), confidence, body_id)


def _axis_signs(camera_m: np.ndarray, depth_px: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """+1 or -1 per camera axis (x, y): the sign that makes x/z grow with depthX and y/z with depthY."""
    seen = ~missing & np.isfinite(camera_m).all(axis=-1) & (camera_m[..., 2] > 0)
    signs = np.ones(2)
    for axis in (0, 1):
        ratio, pixel = camera_m[..., axis][seen] / camera_m[..., 2][seen], depth_px[..., axis][seen]
        if ratio.size >= 2 and np.std(ratio) > 0 and np.std(pixel) > 0:
            signs[axis] = 1.0 if np.corrcoef(ratio, pixel)[0, 1] >= 0 else -1.0
        elif axis == 1:
            signs[axis] = -1.0  # the Kinect's y points up
    return signs
