"""Azure Kinect recordings: which track holds which stream, and the camera intrinsics of a mode.

An Azure Kinect mkv names its tracks by title (`COLOR`, `DEPTH`, `IR`) and tags them with the
sensor mode (`K4A_DEPTH_MODE`, `K4A_IR_MODE`, `K4A_COLOR_MODE`). Its `calibration.json`
attachment stores Brown-Conrady intrinsics of each camera normalised by the sensor size; a mode
bins and crops the sensor, so the pixel intrinsics of a recorded image depend on the mode (the
same arithmetic as the Sensor SDK's mode-specific calibration).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from semiology.camera import CameraIntrinsics, LensDistortion
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


def parse_calibration(
    data: bytes, kind: str, mode: str | None, width: int, height: int, path: Path
) -> tuple[CameraIntrinsics, LensDistortion]:
    """Pixel intrinsics and distortion of the camera that recorded a `kind` track of `width`x`height`.

    Depth and IR come from the depth camera, RGB from the colour camera. `mode` is the track's
    K4A mode tag; when it is unknown the mode is the one whose output size matches the image.
    """
    try:
        calibration = json.loads(bytes(data).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise VideoError(f"{path}: calibration.json attachment is not valid JSON ({error})") from error
    purpose = "CALIBRATION_CameraPurposePhotoVideo" if kind == "rgb" else "CALIBRATION_CameraPurposeDepth"
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
