"""Pinhole camera geometry: intrinsics, rigid poses, projection and back-projection.

Camera coordinates follow the depth-camera convention: x to the right of the image, y down,
z forward along the optical axis, in millimetres. Pixels are (u, v) with u along x and v
along y, origin at the top-left corner of the image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CameraIntrinsics:
    """Pinhole intrinsics: focal lengths and principal point in pixels, image size in pixels."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    def __post_init__(self) -> None:
        if self.fx <= 0 or self.fy <= 0:
            raise ValueError(f"focal lengths must be positive, got fx={self.fx}, fy={self.fy}")
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"image size must be positive, got {self.width}x{self.height}")

    def to_dict(self) -> dict[str, float | int]:
        """JSON-able form, for record metadata."""
        return {"fx": self.fx, "fy": self.fy, "cx": self.cx, "cy": self.cy, "width": self.width, "height": self.height}


KINECT_V2_DEPTH = CameraIntrinsics(fx=365.0, fy=365.0, cx=256.0, cy=212.0, width=512, height=424)
"""Typical Kinect v2 depth/IR camera intrinsics (512x424 image, ~70x60 degree field of view).

Individual devices differ by a few pixels; these are the commonly quoted factory values.
"""


@dataclass(frozen=True)
class LensDistortion:
    """Brown-Conrady lens distortion as OpenCV models it: radial k1..k6 (rational) and tangential p1, p2.

    k4..k6 divide the radial term (the rational model of Azure Kinect); leave them 0 for the
    plain polynomial model of most calibrations (Human3.6M, OpenCV's default five coefficients).
    """

    radial: tuple[float, ...] = (0.0, 0.0, 0.0)
    tangential: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        if len(self.radial) not in (3, 6):
            raise ValueError(f"radial needs 3 (k1..k3) or 6 (k1..k6) coefficients, got {len(self.radial)}")
        if len(self.tangential) != 2:
            raise ValueError(f"tangential needs 2 coefficients (p1, p2), got {len(self.tangential)}")

    def apply(self, normalised_xy: np.ndarray) -> np.ndarray:
        """Distort normalised image coordinates `[..., 2]` (x/z, y/z)."""
        x, y = normalised_xy[..., 0], normalised_xy[..., 1]
        k = tuple(self.radial) + (0.0,) * (6 - len(self.radial))
        p1, p2 = self.tangential
        r2 = x * x + y * y
        radial = (1 + r2 * (k[0] + r2 * (k[1] + r2 * k[2]))) / (1 + r2 * (k[3] + r2 * (k[4] + r2 * k[5])))
        x_d = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
        y_d = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
        return np.stack([x_d, y_d], axis=-1)


@dataclass(frozen=True)
class CameraPose:
    """A rigid world-to-camera transform: `p_camera = rotation @ p_world + translation_mm`."""

    rotation: tuple[tuple[float, float, float], tuple[float, float, float], tuple[float, float, float]]
    translation_mm: tuple[float, float, float]

    def __post_init__(self) -> None:
        rotation = np.asarray(self.rotation, dtype=np.float64)
        if rotation.shape != (3, 3):
            raise ValueError(f"rotation must be 3x3, got shape {rotation.shape}")
        if not np.allclose(rotation @ rotation.T, np.eye(3), atol=1e-6) or np.linalg.det(rotation) < 0:
            raise ValueError("rotation must be a proper rotation matrix (orthonormal, determinant +1)")
        if len(self.translation_mm) != 3:
            raise ValueError(f"translation_mm must have 3 entries, got {len(self.translation_mm)}")

    @property
    def rotation_matrix(self) -> np.ndarray:
        """The rotation as a float64 [3, 3] array."""
        return np.asarray(self.rotation, dtype=np.float64)

    @property
    def translation(self) -> np.ndarray:
        """The translation in millimetres as a float64 [3] array."""
        return np.asarray(self.translation_mm, dtype=np.float64)

    @property
    def centre_mm(self) -> np.ndarray:
        """The camera centre in world coordinates (millimetres)."""
        return -self.rotation_matrix.T @ self.translation

    def to_dict(self) -> dict[str, list]:
        """JSON-able form, for record metadata."""
        return {"rotation": [list(row) for row in self.rotation], "translation_mm": list(self.translation_mm)}

    @classmethod
    def from_arrays(cls, rotation: np.ndarray, translation_mm: np.ndarray) -> CameraPose:
        """A pose from a [3, 3] rotation and a [3] translation in millimetres."""
        rows = np.asarray(rotation, dtype=np.float64)
        vector = np.asarray(translation_mm, dtype=np.float64).reshape(3)
        return cls(
            rotation=tuple(tuple(float(value) for value in row) for row in rows),  # type: ignore[arg-type]
            translation_mm=(float(vector[0]), float(vector[1]), float(vector[2])),
        )


def look_at(centre_mm: np.ndarray, target_mm: np.ndarray, up: np.ndarray) -> CameraPose:
    """The pose of a camera at `centre_mm` whose optical axis passes through `target_mm`.

    `up` is the world direction that should appear upwards in the image (camera -y); it must
    not be parallel to the viewing direction.
    """
    centre = np.asarray(centre_mm, dtype=np.float64)
    forward = np.asarray(target_mm, dtype=np.float64) - centre
    norm = np.linalg.norm(forward)
    if norm == 0:
        raise ValueError("camera centre and target coincide")
    z_axis = forward / norm
    x_axis = np.cross(z_axis, np.asarray(up, dtype=np.float64))
    if np.linalg.norm(x_axis) < 1e-9:
        raise ValueError("up direction is parallel to the viewing direction")
    x_axis /= np.linalg.norm(x_axis)
    y_axis = np.cross(z_axis, x_axis)
    rotation = np.stack([x_axis, y_axis, z_axis])
    return CameraPose.from_arrays(rotation, -rotation @ centre)


def world_to_camera(points_mm: np.ndarray, rotation: np.ndarray, translation_mm: np.ndarray) -> np.ndarray:
    """Points `[..., 3]` from world to camera coordinates: `rotation @ p + translation_mm`."""
    points = np.asarray(points_mm)
    return points @ np.asarray(rotation, dtype=points.dtype).T + np.asarray(translation_mm, dtype=points.dtype)


def camera_to_world(points_mm: np.ndarray, rotation: np.ndarray, translation_mm: np.ndarray) -> np.ndarray:
    """The inverse of `world_to_camera`: `rotation.T @ (p - translation_mm)`."""
    points = np.asarray(points_mm)
    return (points - np.asarray(translation_mm, dtype=points.dtype)) @ np.asarray(rotation, dtype=points.dtype)


def project(points_mm: np.ndarray, intrinsics: CameraIntrinsics, distortion: LensDistortion | None = None) -> np.ndarray:
    """Camera-frame points `[..., 3]` (mm) to pixels `[..., 2]`, through the lens `distortion` when given.

    Points on or behind the camera plane (z <= 0) and points with any NaN coordinate give NaN
    in both pixel coordinates, so a missing joint never turns into a plausible pixel.
    """
    points = np.asarray(points_mm)
    if points.shape[-1] != 3:
        raise ValueError(f"points must have a last axis of 3, got shape {points.shape}")
    x, y, z = points[..., 0], points[..., 1], points[..., 2]
    valid = np.isfinite(points).all(axis=-1) & (z > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        safe_z = np.where(valid, z, np.nan)
        normalised = np.stack([x / safe_z, y / safe_z], axis=-1)
    if distortion is not None:
        normalised = distortion.apply(normalised)
    u = intrinsics.fx * normalised[..., 0] + intrinsics.cx
    v = intrinsics.fy * normalised[..., 1] + intrinsics.cy
    return np.stack([u, v], axis=-1)


def back_project(pixels: np.ndarray, depth_mm: np.ndarray, intrinsics: CameraIntrinsics) -> np.ndarray:
    """Pixels `[..., 2]` with depth along the optical axis `[...]` (mm) to camera-frame points `[..., 3]`.

    Non-positive or missing depth and missing pixels give NaN (a depth camera reports 0 where it
    has no reading).
    """
    uv = np.asarray(pixels)
    if uv.shape[-1] != 2:
        raise ValueError(f"pixels must have a last axis of 2, got shape {uv.shape}")
    depth = np.asarray(depth_mm, dtype=np.result_type(uv.dtype, np.float32))
    z = np.where((depth > 0) & np.isfinite(uv).all(axis=-1), depth, np.nan)
    x = (uv[..., 0] - intrinsics.cx) * z / intrinsics.fx
    y = (uv[..., 1] - intrinsics.cy) * z / intrinsics.fy
    return np.stack([x, y, z], axis=-1)
