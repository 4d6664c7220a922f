"""Pinhole camera geometry: intrinsics, lens distortion, rigid poses, projection and back-projection.

Camera coordinates follow the depth-camera convention: x to the right of the image, y down,
z forward along the optical axis, in millimetres. Pixels are (u, v) with u along x and v
along y, origin at the top-left corner of the image.

Lens distortion is OpenCV's model and OpenCV computes it (`cv2.projectPoints` distorts,
`cv2.undistortPointsIter` inverts): the rational model of the Azure Kinect has no closed-form
inverse, and OpenCV's iteration is the one calibration tools already trust.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

UNDISTORT_ITERATIONS = 40
"""Iterations of `cv2.undistortPointsIter` (it stops earlier once a step moves less than 1e-9)."""


@dataclass(frozen=True)
class CameraIntrinsics:
    """Pinhole intrinsics: focal lengths and principal point in pixels, image size in pixels.

    `distortion`, when set, is the lens of this camera: `project` and `back_project` then use it
    unless given another, so code that only passes intrinsics along (the extraction chain's
    back-projection) works on a distorted image such as an Azure Kinect's registered colour frame.
    """

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int
    distortion: LensDistortion | None = None

    def __post_init__(self) -> None:
        if self.fx <= 0 or self.fy <= 0:
            raise ValueError(f"focal lengths must be positive, got fx={self.fx}, fy={self.fy}")
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"image size must be positive, got {self.width}x{self.height}")

    def to_dict(self) -> dict[str, float | int]:
        """JSON-able form, for record metadata."""
        return {"fx": self.fx, "fy": self.fy, "cx": self.cx, "cy": self.cy, "width": self.width, "height": self.height}

    @property
    def matrix(self) -> np.ndarray:
        """The 3 x 3 camera matrix OpenCV reads."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]], dtype=np.float64)


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

    @property
    def coefficients(self) -> np.ndarray:
        """OpenCV's distortion vector (k1, k2, p1, p2, k3[, k4, k5, k6])."""
        k = tuple(self.radial)
        return np.array([k[0], k[1], *self.tangential, *k[2:]], dtype=np.float64)

    def apply(self, normalised_xy: np.ndarray) -> np.ndarray:
        """Distort normalised image coordinates `[..., 2]` (x/z, y/z) with `cv2.projectPoints`."""
        xy = np.asarray(normalised_xy, dtype=np.float64)
        rays = np.concatenate([xy.reshape(-1, 2), np.ones((xy.size // 2, 1))], axis=1)
        distorted = _opencv_project(rays, np.eye(3), self.coefficients)
        return distorted.reshape(xy.shape)

    def remove(self, normalised_xy: np.ndarray) -> np.ndarray:
        """The inverse of `apply`: undistorted normalised coordinates of distorted ones (`cv2.undistortPointsIter`)."""
        xy = np.asarray(normalised_xy, dtype=np.float64)
        flat = np.ascontiguousarray(xy.reshape(-1, 1, 2))
        criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, UNDISTORT_ITERATIONS, 1e-9)
        undistorted = cv2.undistortPointsIter(flat, np.eye(3), self.coefficients, None, None, criteria) if len(flat) else flat
        return undistorted.reshape(xy.shape)


def _opencv_project(points: np.ndarray, matrix: np.ndarray, coefficients: np.ndarray | None) -> np.ndarray:
    """`[N, 3]` camera-frame points to `[N, 2]` pixels through `cv2.projectPoints` (no rotation or translation)."""
    if len(points) == 0:
        return np.zeros((0, 2), dtype=np.float64)
    pixels, _ = cv2.projectPoints(np.ascontiguousarray(points, dtype=np.float64).reshape(-1, 1, 3), np.zeros(3), np.zeros(3), matrix, coefficients)
    return pixels.reshape(-1, 2)


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
    """Camera-frame points `[..., 3]` (mm) to pixels `[..., 2]`, through the lens `distortion` (default: the intrinsics' own).

    Points on or behind the camera plane (z <= 0) and points with any NaN coordinate give NaN
    in both pixel coordinates, so a missing joint never turns into a plausible pixel.
    """
    points = np.asarray(points_mm)
    if points.shape[-1] != 3:
        raise ValueError(f"points must have a last axis of 3, got shape {points.shape}")
    distortion = distortion if distortion is not None else intrinsics.distortion
    x, y, z = points[..., 0], points[..., 1], points[..., 2]
    valid = np.isfinite(points).all(axis=-1) & (z > 0)
    if distortion is not None:
        pixels = np.full(points.shape[:-1] + (2,), np.nan, dtype=np.result_type(points.dtype, np.float32))
        pixels[valid] = _opencv_project(points[valid], intrinsics.matrix, distortion.coefficients)
        return pixels
    with np.errstate(divide="ignore", invalid="ignore"):
        safe_z = np.where(valid, z, np.nan)
        u = intrinsics.fx * (x / safe_z) + intrinsics.cx
        v = intrinsics.fy * (y / safe_z) + intrinsics.cy
    return np.stack([u, v], axis=-1)


def back_project(
    pixels: np.ndarray, depth_mm: np.ndarray, intrinsics: CameraIntrinsics, distortion: LensDistortion | None = None
) -> np.ndarray:
    """Pixels `[..., 2]` with depth along the optical axis `[...]` (mm) to camera-frame points `[..., 3]`.

    With `distortion` the pixels are first undistorted (`LensDistortion.remove`), so that a
    point projected with the same distortion lands back on its pixel. Non-positive or missing
    depth and missing pixels give NaN (a depth camera reports 0 where it has no reading).
    """
    uv = np.asarray(pixels)
    if uv.shape[-1] != 2:
        raise ValueError(f"pixels must have a last axis of 2, got shape {uv.shape}")
    distortion = distortion if distortion is not None else intrinsics.distortion
    depth = np.asarray(depth_mm, dtype=np.result_type(uv.dtype, np.float32))
    z = np.where((depth > 0) & np.isfinite(uv).all(axis=-1), depth, np.nan)
    if distortion is None:
        x = (uv[..., 0] - intrinsics.cx) * z / intrinsics.fx
        y = (uv[..., 1] - intrinsics.cy) * z / intrinsics.fy
        return np.stack([x, y, z], axis=-1)
    normalised = np.stack([(uv[..., 0] - intrinsics.cx) / intrinsics.fx, (uv[..., 1] - intrinsics.cy) / intrinsics.fy], axis=-1)
    finite = np.isfinite(normalised).all(axis=-1)
    normalised[finite] = distortion.remove(normalised[finite])
    return np.concatenate([normalised * z[..., None], z[..., None]], axis=-1)
