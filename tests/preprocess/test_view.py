"""View alignment: a 3D skeleton seen from any camera placement lands in the same body frame."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from semiology.layouts import get_layout
from semiology.preprocess.view import align_to_body_frame, body_frame_rotation
from semiology.records import Keypoints

LAYOUT = get_layout("upper_body_11")


def _body_frame_skeleton(frames: int = 20, seed: int = 0) -> np.ndarray:
    """An upright upper body in its own frame (mm): x to the left shoulder, y up, z out of the chest."""
    rest = {
        "head": (0, 650, 30), "neck": (0, 500, 0), "right_shoulder": (-180, 480, 0), "left_shoulder": (180, 480, 0),
        "right_elbow": (-220, 220, 40), "left_elbow": (220, 220, 40), "right_wrist": (-200, 0, 150), "left_wrist": (200, 0, 150),
        "right_hip": (-120, 0, 0), "left_hip": (120, 0, 0), "spine_base": (0, 0, 0),
    }
    skeleton = np.array([rest[name] for name in LAYOUT.joint_names], dtype=np.float64)
    wobble = np.random.default_rng(seed).normal(0.0, 2.0, size=(frames, len(skeleton), 3))
    return skeleton[None] + wobble


def _camera_view(body: np.ndarray, rotation: np.ndarray, translation: np.ndarray) -> Keypoints:
    coords = body @ rotation.T + translation
    return Keypoints(coords=coords, confidence=np.ones(coords.shape[:2]), layout="upper_body_11", fps=10.0, source="test")


def test_the_rotation_of_a_tilted_and_turned_camera_is_recovered():
    body = _body_frame_skeleton()
    camera = Rotation.from_euler("xyz", [28.0, -13.0, 2.0], degrees=True).as_matrix()
    seen = _camera_view(body, camera, np.array([150.0, -300.0, 2200.0]))
    rotation = body_frame_rotation(seen.coords, "upper_body_11")
    np.testing.assert_allclose(rotation @ camera, np.eye(3), atol=0.02)
    assert np.linalg.det(rotation) == pytest.approx(1.0)


def test_two_camera_placements_give_the_same_aligned_skeleton_up_to_translation():
    body = _body_frame_skeleton()
    aligned = []
    for angles, shift in (([10.0, 5.0, 0.0], [0.0, 0.0, 1800.0]), ([35.0, -15.0, -3.0], [-250.0, 400.0, 2600.0])):
        camera = Rotation.from_euler("xyz", angles, degrees=True).as_matrix()
        seen = _camera_view(body, camera, np.array(shift))
        out = align_to_body_frame(seen, np.arange(10)).coords
        aligned.append(out - out[:, LAYOUT.index("spine_base")][:, None])
    np.testing.assert_allclose(aligned[0], aligned[1], atol=2.5)  # a coordinate-wise median is not exactly rotation-equivariant


def test_missing_frames_are_ignored_and_an_unseen_trunk_leaves_the_camera_frame():
    body = _body_frame_skeleton()
    camera = Rotation.from_euler("x", 25.0, degrees=True).as_matrix()
    seen = _camera_view(body, camera, np.zeros(3))
    seen.coords[:5, LAYOUT.index("left_hip")] = np.nan
    np.testing.assert_allclose(body_frame_rotation(seen.coords, "upper_body_11") @ camera, np.eye(3), atol=0.02)
    seen.coords[:, LAYOUT.index("left_hip")] = np.nan
    assert body_frame_rotation(seen.coords, "upper_body_11") is None
    assert align_to_body_frame(seen, np.arange(10)) is seen


def test_the_reference_period_falls_back_to_every_frame_when_the_trunk_is_hidden_in_it():
    body = _body_frame_skeleton()
    camera = Rotation.from_euler("y", 20.0, degrees=True).as_matrix()
    seen = _camera_view(body, camera, np.zeros(3))
    seen.coords[:10, LAYOUT.index("right_shoulder")] = np.nan
    aligned = align_to_body_frame(seen, np.arange(10))
    np.testing.assert_allclose(aligned.coords[10:], body[10:], atol=1.0)


def test_2d_keypoints_are_left_alone_and_a_layout_without_a_trunk_is_named():
    flat = Keypoints(coords=np.zeros((4, 11, 2)), confidence=np.ones((4, 11)), layout="upper_body_11", fps=10.0, source="test")
    assert align_to_body_frame(flat, np.arange(4)) is flat
    with pytest.raises(ValueError, match="face_23.*shoulders and hips"):
        body_frame_rotation(np.zeros((4, 23, 3)), "face_23")


def test_coincident_shoulders_give_no_rotation():
    body = _body_frame_skeleton()
    body[:, LAYOUT.index("left_shoulder")] = body[:, LAYOUT.index("right_shoulder")]
    assert body_frame_rotation(body, "upper_body_11") is None
