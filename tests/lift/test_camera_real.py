"""Camera maths on real data: Human3.6M 3D joints project onto their 2D annotations."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from semiology.camera import CameraIntrinsics, LensDistortion, project


def _h36m_camera(cameras: dict, image_name: str) -> tuple[CameraIntrinsics, LensDistortion]:
    stem = Path(image_name).name  # S1_Directions_1.54138969_000001.jpg
    subject, camera_id = stem.split("_")[0], stem.split(".")[1].split("_")[0]
    camera = cameras[(subject, camera_id)]
    intrinsics = CameraIntrinsics(
        fx=float(camera["f"][0, 0]), fy=float(camera["f"][1, 0]), cx=float(camera["c"][0, 0]), cy=float(camera["c"][1, 0]),
        width=int(camera["w"]), height=int(camera["h"]),
    )
    return intrinsics, LensDistortion(radial=tuple(camera["k"].ravel()), tangential=tuple(camera["p"].ravel()))


@pytest.mark.parametrize("annotation", ["test_h36m_body3d.npz", "test_h36m.npz"])
def test_h36m_joints_project_within_one_pixel_of_their_annotations(shared_data: Path, annotation: str) -> None:
    folder = shared_data / "mmpose_testdata" / "h36m"
    with open(folder / "cameras.pkl", "rb") as handle:
        cameras = pickle.load(handle)
    samples = np.load(folder / annotation)
    errors, undistorted_errors = [], []
    for index, image_name in enumerate(samples["imgname"]):
        intrinsics, distortion = _h36m_camera(cameras, str(image_name))
        joints_mm = samples["S"][index, :, :3] * 1000.0  # metres, camera frame
        visible = (samples["S"][index, :, 3] > 0) & (samples["part"][index, :, 2] > 0)
        annotated = samples["part"][index, visible, :2]
        errors.append(np.linalg.norm(project(joints_mm[visible], intrinsics, distortion) - annotated, axis=1))
        undistorted_errors.append(np.linalg.norm(project(joints_mm[visible], intrinsics) - annotated, axis=1))
    errors_px = np.concatenate(errors)
    assert errors_px.size >= 4 * 17
    assert errors_px.max() < 1.0
    assert np.concatenate(undistorted_errors).max() > 1.0, "the lens distortion matters on this data"
