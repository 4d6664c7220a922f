"""Azure Kinect recordings: which track holds which stream, and the camera intrinsics of a mode.

An Azure Kinect mkv names its tracks by title (`COLOR`, `DEPTH`, `IR`) and tags them with the
sensor mode (`K4A_DEPTH_MODE`, `K4A_IR_MODE`, `K4A_COLOR_MODE`). Its `calibration.json`
attachment stores Brown-Conrady intrinsics of each camera normalised by the sensor size; a mode
bins and crops the sensor, so the pixel intrinsics of a recorded image depend on the mode (the
same arithmetic as the Sensor SDK's mode-specific calibration). Each camera's `Rt` is its pose
relative to the depth camera (identity for the depth camera, rotation and translation in metres
for the colour camera): `read_calibration` returns both cameras of the recorded modes and the
depth-to-colour transform, which `semiology.io.registration` uses to register the two images.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np

from semiology.camera import CameraIntrinsics, CameraPose, LensDistortion
from semiology.errors import VideoError

TRACK_TITLES: dict[str, str] = {"rgb": "COLOR", "depth": "DEPTH", "ir": "IR"}
"""The Azure Kinect track title that holds each kind of stream."""

CALIBRATION_ATTACHMENT = "calibration.json"

_DEPTH_MODES: dict[str, tuple[tuple[int, int], tuple[int, int], tuple[int, int]]] = {
    # mode: (binned sensor resolution, crop offset, output resolution), all (width, height) in pixels
    "NFOV_2X2BINNED": ((512, 512), (96, 90), (320, 288)),
    "NFOV_UNBINNED": ((1024, 1024), (192, 180), (640, 576)),
    "WFOV_2X2BINNED": ((512, 512), (0, 0), (512, 512)),
    "WFOV_UNBINNED": ((1024, 1024), (0, 0), (1024, 1024)),
    "PASSIVE_IR": ((1024, 1024), (0, 0), (1024, 1024)),
}


def _camera(calibration: dict[str, Any], purpose: str, path: Path) -> dict[str, Any]:
    cameras = calibration.get("CalibrationInformation", {}).get("Cameras", [])
    for camera in cameras:
        if camera.get("Purpose") == purpose:
            return camera
    raise VideoError(f"{path}: calibration.json has no camera with purpose {purpose}")


COLOUR_PURPOSE = "CALIBRATION_CameraPurposePhotoVideo"
DEPTH_PURPOSE = "CALIBRATION_CameraPurposeDepth"


@dataclass(frozen=True)
class KinectCalibration:
    """Both cameras of an Azure Kinect recording in its recorded modes, and the rigid transform
    from depth-camera to colour-camera coordinates (`p_colour = R p_depth + t`, millimetres)."""

    depth: CameraIntrinsics
    depth_distortion: LensDistortion
    colour: CameraIntrinsics
    colour_distortion: LensDistortion
    depth_to_colour: CameraPose


def _json(data: bytes, path: Path) -> dict[str, Any]:
    try:
        return json.loads(bytes(data).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise VideoError(f"{path}: calibration.json attachment is not valid JSON ({error})") from error


def _pose(camera: dict[str, Any], path: Path) -> CameraPose:
    """A camera's `Rt` (relative to the depth camera; translation in metres) as a pose in millimetres."""
    try:
        rotation = np.asarray([float(value) for value in camera["Rt"]["Rotation"]], dtype=np.float64).reshape(3, 3)
        translation = np.asarray([float(value) for value in camera["Rt"]["Translation"]], dtype=np.float64).reshape(3) * 1000.0
        return CameraPose.from_arrays(rotation, translation)
    except (KeyError, TypeError, ValueError) as error:
        raise VideoError(f"{path}: calibration.json camera {camera.get('Purpose')} has no valid Rt ({error})") from error


def parse_extrinsics(data: bytes, path: Path) -> CameraPose:
    """The depth-to-colour transform of a calibration.json: colour Rt composed with the inverse of the depth Rt."""
    calibration = _json(data, path)
    depth, colour = _pose(_camera(calibration, DEPTH_PURPOSE, path), path), _pose(_camera(calibration, COLOUR_PURPOSE, path), path)
    rotation = colour.rotation_matrix @ depth.rotation_matrix.T
    return CameraPose.from_arrays(rotation, colour.translation - rotation @ depth.translation)


def read_calibration(path: str | Path, colour_size: tuple[int, int] | None = None, depth_size: tuple[int, int] | None = None) -> KinectCalibration:
    """The calibration of an Azure Kinect mkv for the sizes (width, height) of its recorded COLOR and DEPTH tracks.

    Sizes default to the tracks' own; a recording without one of the tracks needs its size given.
    """
    path = Path(path)
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as error:
        raise VideoError(f"{path}: cannot open the container ({error})") from error
    with container:
        attachment = next((a for a in getattr(container.streams, "attachments", ()) if getattr(a, "name", "") == CALIBRATION_ATTACHMENT), None)
        if attachment is None:
            raise VideoError(f"{path}: no {CALIBRATION_ATTACHMENT} attachment: not an Azure Kinect recording")
        data = bytes(attachment.data)
        tracks = {str(stream.metadata.get("title", "")): stream for stream in container.streams.video}
        sizes: dict[str, tuple[int, int] | None] = {"rgb": colour_size, "depth": depth_size}
        for kind in sizes:
            stream = tracks.get(TRACK_TITLES[kind])
            if sizes[kind] is None and stream is not None:
                sizes[kind] = (int(stream.codec_context.width), int(stream.codec_context.height))
            if sizes[kind] is None:
                raise VideoError(f"{path}: no {TRACK_TITLES[kind]} track; give its size to read its calibration")
        mode = next((str(s.metadata["K4A_DEPTH_MODE"]) for s in container.streams.video if "K4A_DEPTH_MODE" in s.metadata), None)
    colour_width, colour_height = sizes["rgb"]  # type: ignore[misc]
    depth_width, depth_height = sizes["depth"]  # type: ignore[misc]
    colour, colour_distortion = parse_calibration(data, "rgb", None, colour_width, colour_height, path)
    depth, depth_distortion = parse_calibration(data, "depth", mode, depth_width, depth_height, path)
    return KinectCalibration(depth, depth_distortion, colour, colour_distortion, parse_extrinsics(data, path))


def parse_calibration(
    data: bytes, kind: str, mode: str | None, width: int, height: int, path: Path
) -> tuple[CameraIntrinsics, LensDistortion]:
    """Pixel intrinsics and distortion of the camera that recorded a `kind` track of `width`x`height`.

    Depth and IR come from the depth camera, RGB from the colour camera. `mode` is the track's
    K4A mode tag; when it is unknown the mode is the one whose output size matches the image.
    """
    calibration = _json(data, path)
    purpose = COLOUR_PURPOSE if kind == "rgb" else DEPTH_PURPOSE
    camera = _camera(calibration, purpose, path)
    try:
        params = [float(value) for value in camera["Intrinsics"]["ModelParameters"]]
        sensor_width, sensor_height = int(camera["SensorWidth"]), int(camera["SensorHeight"])
    except (KeyError, TypeError, ValueError) as error:
        raise VideoError(f"{path}: calibration.json camera {purpose} lacks intrinsics ({error})") from error
    if len(params) < 14:
        raise VideoError(f"{path}: calibration.json camera {purpose} has {len(params)} model parameters, expected 14")
    cx, cy, fx, fy = params[:4]
    if kind == "rgb":
        scale = width / sensor_width
        binned = (width, sensor_height * scale)
        offset = (0.0, (binned[1] - height) / 2.0)
    else:
        table = _DEPTH_MODES.get(mode or "")
        if table is None or table[2] != (width, height):
            matches = [entry for entry in _DEPTH_MODES.values() if entry[2] == (width, height)]
            if not matches:
                raise VideoError(f"{path}: no Azure Kinect depth mode gives {width}x{height} images (mode tag {mode!r})")
            table = matches[0]
        binned, offset = (float(table[0][0]), float(table[0][1])), (float(table[1][0]), float(table[1][1]))
    intrinsics = CameraIntrinsics(
        fx=fx * binned[0],
        fy=fy * binned[1],
        cx=cx * binned[0] - offset[0] - 0.5,
        cy=cy * binned[1] - offset[1] - 0.5,
        width=width,
        height=height,
    )
    distortion = LensDistortion(radial=tuple(params[4:10]), tangential=(params[13], params[12]))
    return intrinsics, distortion
