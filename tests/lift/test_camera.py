"""Pinhole projection, back-projection and rigid camera poses."""

import numpy as np
import pytest

from semiology.camera import KINECT_V2_DEPTH, CameraIntrinsics, CameraPose, back_project, camera_to_world, look_at, project, world_to_camera


def test_kinect_v2_depth_intrinsics_are_the_typical_values() -> None:
    assert (KINECT_V2_DEPTH.fx, KINECT_V2_DEPTH.fy) == (365.0, 365.0)
    assert (KINECT_V2_DEPTH.cx, KINECT_V2_DEPTH.cy) == (256.0, 212.0)
    assert (KINECT_V2_DEPTH.width, KINECT_V2_DEPTH.height) == (512, 424)


def test_optical_axis_projects_to_the_principal_point() -> None:
    pixels = project(np.array([[0.0, 0.0, 500.0], [0.0, 0.0, 4000.0]]), KINECT_V2_DEPTH)
    np.testing.assert_allclose(pixels, [[256.0, 212.0], [256.0, 212.0]])
    point = back_project(np.array([256.0, 212.0]), np.array(2500.0), KINECT_V2_DEPTH)
    np.testing.assert_allclose(point, [0.0, 0.0, 2500.0])


def test_projection_matches_hand_computed_values() -> None:
    # u = 365 * 100 / 2000 + 256 = 274.25 ; v = 365 * -50 / 2000 + 212 = 202.875
    np.testing.assert_allclose(project(np.array([100.0, -50.0, 2000.0]), KINECT_V2_DEPTH), [274.25, 202.875])
    intrinsics = CameraIntrinsics(fx=500.0, fy=400.0, cx=320.0, cy=240.0, width=640, height=480)
    # u = 500 * 300 / 1500 + 320 = 420 ; v = 400 * 150 / 1500 + 240 = 280
    np.testing.assert_allclose(project(np.array([300.0, 150.0, 1500.0]), intrinsics), [420.0, 280.0])
    point = back_project(np.array([420.0, 280.0]), np.array(1500.0), intrinsics)
    np.testing.assert_allclose(point, [300.0, 150.0, 1500.0])


def test_project_back_project_round_trip() -> None:
    rng = np.random.default_rng(0)
    points = np.stack(
        [rng.uniform(-800, 800, 200), rng.uniform(-600, 600, 200), rng.uniform(500, 4500, 200)], axis=1
    ).reshape(10, 20, 3)
    pixels = project(points, KINECT_V2_DEPTH)
    assert pixels.shape == (10, 20, 2)
    np.testing.assert_allclose(back_project(pixels, points[..., 2], KINECT_V2_DEPTH), points, rtol=1e-10, atol=1e-9)


def test_points_behind_the_camera_and_missing_points_give_nan() -> None:
    points = np.array([[10.0, 10.0, 0.0], [10.0, 10.0, -100.0], [np.nan, 0.0, 1000.0], [10.0, 10.0, np.nan]])
    assert np.isnan(project(points, KINECT_V2_DEPTH)).all()
    pixels = np.array([[100.0, 100.0], [100.0, 100.0]])
    assert np.isnan(back_project(pixels, np.array([0.0, np.nan]), KINECT_V2_DEPTH)).all()


def test_look_at_puts_the_target_on_the_optical_axis_with_up_upwards() -> None:
    pose = look_at(np.array([0.0, 0.0, -1000.0]), np.zeros(3), np.array([0.0, 1.0, 0.0]))
    origin = world_to_camera(np.zeros(3), pose.rotation_matrix, pose.translation)
    np.testing.assert_allclose(origin, [0, 0, 1000], atol=1e-9)
    above = world_to_camera(np.array([0.0, 100.0, 0.0]), pose.rotation_matrix, pose.translation)
    assert above[1] < 0  # image y points down
    np.testing.assert_allclose(pose.centre_mm, [0.0, 0.0, -1000.0], atol=1e-9)
    oblique = look_at(np.array([500.0, 800.0, 2000.0]), np.array([0.0, 300.0, 0.0]), np.array([0.0, 1.0, 0.0]))
    target = world_to_camera(np.array([0.0, 300.0, 0.0]), oblique.rotation_matrix, oblique.translation)
    np.testing.assert_allclose(target[:2], [0.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(project(target, KINECT_V2_DEPTH), [256.0, 212.0])


def test_world_camera_round_trip_and_pose_validation() -> None:
    rng = np.random.default_rng(1)
    pose = look_at(np.array([300.0, 900.0, 2200.0]), np.array([-50.0, 250.0, 0.0]), np.array([0.0, 1.0, 0.0]))
    points = rng.normal(0, 500, size=(7, 3))
    camera = world_to_camera(points, pose.rotation_matrix, pose.translation)
    np.testing.assert_allclose(camera_to_world(camera, pose.rotation_matrix, pose.translation), points, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(camera - camera[:1], axis=1), np.linalg.norm(points - points[:1], axis=1))
    assert CameraPose.from_arrays(pose.rotation_matrix, pose.translation).to_dict() == pose.to_dict()
    with pytest.raises(ValueError, match="rotation"):
        CameraPose(rotation=((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, -1.0)), translation_mm=(0.0, 0.0, 0.0))
    with pytest.raises(ValueError, match="focal"):
        CameraIntrinsics(fx=0.0, fy=1.0, cx=0.0, cy=0.0, width=10, height=10)
