"""Colour↔depth registration of an Azure Kinect recording, from its calibration, with OpenCV's lens model.

An Azure Kinect's colour and depth cameras differ in size, field of view, lens and position, so
a keypoint found on the colour image has no depth reading at the same pixel. `DepthToColour`
renders each depth frame into the colour camera: every depth pixel is undistorted and
back-projected with the depth camera's calibration, moved into the colour camera's frame by the
calibrated extrinsics and projected through the colour lens (`semiology.camera.project`, i.e.
`cv2.projectPoints`); where several readings land on one colour pixel the nearest wins. A depth
pixel covers about 1.3 colour pixels at 1280x720, so each reading is written to the four colour
pixels around where it lands (no holes between readings; edges grow by at most one pixel).

pyk4a's `transformation_depth_image_to_color_camera` does the same with the Sensor SDK when it is
installed; the SDK is not a pip wheel here, so this module is what runs.

The map is computed per frame from the depth frame's pixel rays, which are undistorted once
per recording (`cv2.undistortPointsIter` over every pixel is the slow step).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from semiology.camera import CameraIntrinsics, back_project, project, world_to_camera
from semiology.errors import VideoError
from semiology.io.kinect import KinectCalibration, read_calibration


class DepthToColour:
    """Depth frames (uint16 mm, depth-camera geometry) → depth in the colour camera's pixels and frame."""

    def __init__(self, calibration: KinectCalibration) -> None:
        self.calibration = calibration
        depth = calibration.depth
        rows, cols = np.mgrid[0 : depth.height, 0 : depth.width]
        pixels = np.stack([cols, rows], axis=-1).astype(np.float64)
        # rays at unit depth: a frame's points are these scaled by its readings
        self._rays = back_project(pixels, np.ones(pixels.shape[:2]), depth, calibration.depth_distortion)

    @property
    def target(self) -> CameraIntrinsics:
        """The colour camera with its lens: the intrinsics of the registered frames (back-projection undistorts through them)."""
        return replace(self.calibration.colour, distortion=self.calibration.colour_distortion)

    def points_mm(self, depth_mm: np.ndarray) -> np.ndarray:
        """The frame's readings as points `[H, W, 3]` in the colour camera's frame (NaN where no reading)."""
        depth = np.asarray(depth_mm)
        if depth.shape != self._rays.shape[:2]:
            raise ValueError(f"depth frame is {depth.shape[1]}x{depth.shape[0]}, the calibration's depth camera {self.calibration.depth.width}x{self.calibration.depth.height}")
        z = np.where(depth > 0, depth, np.nan).astype(np.float64)
        pose = self.calibration.depth_to_colour
        return world_to_camera(self._rays * z[..., None], pose.rotation_matrix, pose.translation)

    def __call__(self, depth_mm: np.ndarray) -> np.ndarray:
        """The depth frame as seen by the colour camera: uint16 mm along its axis, 0 where nothing lands."""
        points = self.points_mm(depth_mm).reshape(-1, 3)
        points = points[np.isfinite(points).all(axis=1) & (points[:, 2] > 0)]
        colour = self.calibration.colour
        pixels = project(points, colour, self.calibration.colour_distortion)
        z = points[:, 2]
        registered = np.full(colour.height * colour.width, np.inf)
        corner = np.floor(pixels - 0.5).astype(np.int64)
        for du in (0, 1):
            for dv in (0, 1):
                u, v = corner[:, 0] + du, corner[:, 1] + dv
                inside = (u >= 0) & (u < colour.width) & (v >= 0) & (v < colour.height)
                np.minimum.at(registered, v[inside] * colour.width + u[inside], z[inside])
        registered[~np.isfinite(registered)] = 0.0
        return np.round(registered).clip(0, 65535).astype(np.uint16).reshape(colour.height, colour.width)


def depth_pixels_to_colour(pixels_px: np.ndarray, depth_mm: np.ndarray, calibration: KinectCalibration) -> tuple[np.ndarray, np.ndarray]:
    """Depth-image pixels `[N, 2]` with their readings `[N]` (mm) → colour-image pixels `[N, 2]` and depth along the colour axis `[N]`."""
    points = back_project(np.asarray(pixels_px, dtype=np.float64), np.asarray(depth_mm, dtype=np.float64), calibration.depth, calibration.depth_distortion)
    pose = calibration.depth_to_colour
    moved = world_to_camera(points, pose.rotation_matrix, pose.translation)
    return project(moved, calibration.colour, calibration.colour_distortion), moved[..., 2]


def colour_pixels_to_depth(pixels_px: np.ndarray, depth_mm: np.ndarray, calibration: KinectCalibration) -> np.ndarray:
    """Colour-image pixels `[N, 2]` with their depth along the colour axis `[N]` (mm) → depth-image pixels `[N, 2]`."""
    points = back_project(np.asarray(pixels_px, dtype=np.float64), np.asarray(depth_mm, dtype=np.float64), calibration.colour, calibration.colour_distortion)
    pose = calibration.depth_to_colour
    in_depth = (points - pose.translation) @ pose.rotation_matrix
    return project(in_depth, calibration.depth, calibration.depth_distortion)


def depth_registration(depth_path: str | Path, depth_size: tuple[int, int], video_size: tuple[int, int], video_path: str | Path) -> DepthToColour:
    """The registration of a depth track to a colour video of another size, from the depth recording's Azure Kinect calibration.

    A recording without one is refused with both sizes named: back-projection needs registered frames.
    """
    try:
        calibration = read_calibration(depth_path, colour_size=video_size, depth_size=depth_size)
    except VideoError as error:
        raise VideoError(
            f"{depth_path}: depth frames are {depth_size[0]}x{depth_size[1]} but the video {video_path} is {video_size[0]}x{video_size[1]}; "
            f"back-projection needs registered frames, and no Azure Kinect calibration registers them ({error})"
        ) from None
    return DepthToColour(calibration)
