"""Back-projection of 2D keypoints through depth frames."""

from __future__ import annotations

import numpy as np
import pytest

from semiology.camera import KINECT_V2_DEPTH, project
from semiology.lift.depth import back_project_keypoints, sample_depth
from semiology.synthetic.scene import SceneSpec, render_scene


def test_sample_depth_takes_the_median_of_valid_readings_and_rejects_zeros() -> None:
    depth = np.zeros((20, 20), dtype=np.uint16)
    depth[5:10, 5:10] = 1000
    depth[7, 7] = 0  # a dropout under the keypoint
    depth[6, 6] = 9000  # an outlier
    values = sample_depth(depth, np.array([[7.0, 7.0], [15.0, 15.0], [np.nan, 3.0], [-40.0, 3.0]]))
    assert values[0] == 1000.0
    assert np.isnan(values[1:]).all()


def test_back_projection_recovers_points_on_a_wall() -> None:
    points = np.array([[[-200.0, 100.0, 1500.0], [300.0, -50.0, 1500.0]]])
    pixels = project(points, KINECT_V2_DEPTH)
    depth = np.full((1, 424, 512), 1500, dtype=np.uint16)
    depth[0, 200:230, 300:330] = 0  # a hole: no reading there
    hole = np.array([[[315.0, 215.0]]])
    lifted, confidence = back_project_keypoints(np.concatenate([pixels, hole], axis=1), depth, KINECT_V2_DEPTH)
    np.testing.assert_allclose(lifted[0, :2], points[0], atol=1.5)
    assert confidence[0].tolist() == [1.0, 1.0, 0.0]
    assert np.isnan(lifted[0, 2]).all()


def test_median_3d_error_on_a_synthetic_scene_is_within_30_mm() -> None:
    scene = render_scene(SceneSpec(n_frames=10, seed=1))
    lifted, confidence = back_project_keypoints(
        scene.joints_2d_px, scene.depth_mm, scene.intrinsics, confidence=scene.visible.astype(np.float32), surface_offset_mm=60.0
    )
    error_mm = np.linalg.norm(lifted - scene.joints_3d_mm, axis=-1)[scene.visible]
    assert np.median(error_mm) <= 30.0
    surface, _ = back_project_keypoints(scene.joints_2d_px, scene.depth_mm, scene.intrinsics)
    surface_error_mm = np.linalg.norm(surface - scene.joints_3d_mm, axis=-1)[scene.visible]
    assert np.median(surface_error_mm) > np.median(error_mm), "the skin lies in front of the joint centre"
    assert (confidence[~scene.visible] == 0).all()
    with pytest.raises(ValueError, match="intrinsics"):
        back_project_keypoints(scene.joints_2d_px, scene.depth_mm[:, :100], scene.intrinsics)
