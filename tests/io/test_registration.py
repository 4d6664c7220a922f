"""Colour↔depth registration on the real Azure Kinect recording (desk, mug, window; no person)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest

from semiology.camera import CameraPose, LensDistortion
from semiology.errors import VideoError
from semiology.io.kinect import KinectCalibration, read_calibration
from semiology.io.registration import DepthToColour, colour_pixels_to_depth, depth_pixels_to_colour
from semiology.io.video import open_video

JUMP_MM = 100.0


def _recording(shared_data: Path) -> tuple[KinectCalibration, np.ndarray, np.ndarray]:
    path = shared_data / "depth" / "azure_kinect_recording.mkv"
    calibration = read_calibration(path)
    with open_video(path, kind="depth") as depth, open_video(path, kind="rgb") as colour:
        return calibration, next(iter(depth)).image, next(iter(colour)).image


def _depth_edges(registered: np.ndarray) -> np.ndarray:
    """Near side of every depth step over JUMP_MM between neighbouring pixels with readings (the mug's rim, the desk's edge)."""
    depth = registered.astype(np.float32)
    near = np.zeros(depth.shape, dtype=bool)
    for axis in (0, 1):
        first = np.take(depth, range(depth.shape[axis] - 1), axis=axis)
        second = np.take(depth, range(1, depth.shape[axis]), axis=axis)
        jump = (np.abs(second - first) > JUMP_MM) & (first > 0) & (second > 0)
        head, tail = [slice(None)] * 2, [slice(None)] * 2
        head[axis], tail[axis] = slice(0, -1), slice(1, None)
        near[tuple(head)] |= jump & (first < second)
        near[tuple(tail)] |= jump & (second < first)
    return near


def _edge_distances_px(calibration: KinectCalibration, depth: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """Distance from each depth edge, registered into the colour image, to the nearest edge of the colour image."""
    grey = cv2.GaussianBlur(cv2.cvtColor(colour, cv2.COLOR_RGB2GRAY), (5, 5), 0)
    colour_edges = cv2.Canny(grey, 40, 120) > 0
    distance = cv2.distanceTransform((~colour_edges).astype(np.uint8), cv2.DIST_L2, 5)
    return distance[_depth_edges(DepthToColour(calibration)(depth))]


def test_calibration_of_both_cameras_and_their_extrinsics(shared_data: Path) -> None:
    calibration, depth, colour = _recording(shared_data)
    assert (calibration.depth.width, calibration.depth.height) == depth.shape[::-1] == (640, 576)
    assert (calibration.colour.width, calibration.colour.height) == colour.shape[1::-1] == (1280, 720)
    # the colour camera sits ~32 mm beside the depth camera, tilted ~5 degrees
    assert calibration.depth_to_colour.translation[0] == pytest.approx(-32.1, abs=0.1)
    tilt = np.degrees(np.arccos((np.trace(calibration.depth_to_colour.rotation_matrix) - 1) / 2))
    assert 4.0 < tilt < 6.0


def test_depth_colour_round_trip_within_a_pixel(shared_data: Path) -> None:
    calibration, depth, _ = _recording(shared_data)
    rows, cols = np.nonzero(depth)
    pixels = np.stack([cols, rows], axis=1)[::101].astype(np.float64)
    colour_px, colour_z = depth_pixels_to_colour(pixels, depth[rows, cols][::101], calibration)
    inside = (colour_px[:, 0] >= 0) & (colour_px[:, 0] < 1280) & (colour_px[:, 1] >= 0) & (colour_px[:, 1] < 720)
    assert inside.mean() > 0.5
    back = colour_pixels_to_depth(colour_px, colour_z, calibration)
    assert np.nanmax(np.linalg.norm(back - pixels, axis=1)) < 1.0


def test_registered_depth_edges_land_on_the_colour_edges(shared_data: Path) -> None:
    """The mug's rim, the window sill and the desk's edge in registered depth fall on the colour image's edges;
    the same without the lens distortions, or with the extrinsics inverted, does measurably worse."""
    calibration, depth, colour = _recording(shared_data)
    registered = DepthToColour(calibration)(depth)
    assert registered.shape == (720, 1280) and registered.dtype == np.uint16
    seen_by_colour, seen_by_depth = registered[registered > 0], depth[depth > 0]
    assert abs(float(np.median(seen_by_depth)) - float(np.median(seen_by_colour))) < 100, "the same scene, ~1.5 m away"
    distances = _edge_distances_px(calibration, depth, colour)
    assert distances.size > 500
    assert np.median(distances) <= 2.5 and np.mean(distances < 3) > 0.5
    undistorted = dataclasses.replace(calibration, depth_distortion=LensDistortion(), colour_distortion=LensDistortion())
    assert np.median(_edge_distances_px(undistorted, depth, colour)) >= np.median(distances) + 0.5
    pose = calibration.depth_to_colour
    inverted = dataclasses.replace(calibration, depth_to_colour=CameraPose.from_arrays(pose.rotation_matrix.T, -pose.rotation_matrix.T @ pose.translation))
    assert np.median(_edge_distances_px(inverted, depth, colour)) > 10


def test_a_recording_without_calibration_is_refused_by_name(shared_data: Path) -> None:
    path = shared_data / "video" / "face_single.mp4"
    with pytest.raises(VideoError, match="face_single.mp4.*calibration"):
        read_calibration(path)
