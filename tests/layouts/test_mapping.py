"""Layout mappings: index tables, mean/min/NaN semantics, Keypoints and face-mesh handling."""

from __future__ import annotations

import numpy as np
import pytest

from semiology.layouts import LayoutMapping, get_layout, get_mapping, index_map
from semiology.layouts.mapping import FACE_MESH, FACE_MESH_INDEX, MAPPING_PAIRS
from semiology.records import Keypoints

REQUIRED_PAIRS = {
    ("mediapipe_33", "upper_body_11"),
    ("ntu_25", "upper_body_11"),
    ("coco_17", "upper_body_11"),
    ("mediapipe_33", "coco_17"),
    ("mediapipe_face_mesh", "face_23"),
}


def test_required_mappings_exist() -> None:
    assert REQUIRED_PAIRS <= set(MAPPING_PAIRS)


@pytest.mark.parametrize("pair", sorted(REQUIRED_PAIRS))
def test_indices_in_range_and_target_sized(pair: tuple[str, str]) -> None:
    source, target = pair
    mapping = get_mapping(source, target)
    assert (mapping.source, mapping.target) == pair
    assert mapping.target_num_joints == get_layout(target).num_joints
    expected_sources = 468 if source == FACE_MESH else get_layout(source).num_joints
    assert mapping.source_num_joints == expected_sources
    for group in mapping.sources:
        assert len(group) >= 1
        assert all(0 <= i < expected_sources for i in group)


def _names(source: str, target: str) -> dict[str, tuple[str, ...]]:
    """The mapping as target joint name -> source joint names."""
    mapping = get_mapping(source, target)
    source_names = get_layout(source).joint_names
    return {
        joint: tuple(source_names[i] for i in group)
        for joint, group in zip(get_layout(target).joint_names, mapping.sources)
    }


def test_body_mappings_by_name() -> None:
    mediapipe = _names("mediapipe_33", "upper_body_11")
    assert mediapipe["head"] == ("nose",)
    assert set(mediapipe["neck"]) == {"left_shoulder", "right_shoulder"}
    assert set(mediapipe["spine_base"]) == {"left_hip", "right_hip"}
    assert mediapipe["right_wrist"] == ("right_wrist",)
    coco = _names("coco_17", "upper_body_11")
    assert coco["head"] == ("nose",)
    assert set(coco["neck"]) == {"left_shoulder", "right_shoulder"}
    assert coco["left_hip"] == ("left_hip",)
    ntu = _names("ntu_25", "upper_body_11")
    assert ntu["head"] == ("head",) and ntu["neck"] == ("neck",) and ntu["spine_base"] == ("spine_base",)
    assert all(names == (joint,) for joint, names in _names("mediapipe_33", "coco_17").items())


def test_index_map_hand_values() -> None:
    assert index_map("ntu_25", "upper_body_11") == (3, 2, 8, 9, 10, 4, 5, 6, 16, 12, 0)
    assert index_map("mediapipe_33", "coco_17") == (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
    assert index_map(FACE_MESH, "face_23")[:3] == (70, 105, 107)


def test_index_map_refuses_averages() -> None:
    with pytest.raises(ValueError, match="averages"):
        index_map("mediapipe_33", "upper_body_11")


def test_unknown_mapping_lists_known() -> None:
    with pytest.raises(KeyError, match="ntu_25 -> upper_body_11"):
        get_mapping("openpose_25", "upper_body_11")


def test_face_mesh_table_covers_face_23() -> None:
    face = get_layout("face_23")
    assert set(FACE_MESH_INDEX) == set(face.joint_names)
    assert len(set(FACE_MESH_INDEX.values())) == face.num_joints
    sources = get_mapping(FACE_MESH, "face_23").sources
    assert sources[face.index("nose_tip")] == (1,)
    assert sources[face.index("right_eye_outer")] == (33,)
    assert sources[face.index("left_eye_outer")] == (263,)
    assert sources[face.index("mouth_left")] == (291,)


TOY = LayoutMapping(source="toy_4", target="toy_3", source_num_joints=4, sources=((0,), (1, 2), (3, 0)))


def test_apply_mean_and_min_on_hand_made_arrays() -> None:
    coords = np.array([[[0.0, 0.0], [2.0, 4.0], [4.0, 8.0], [10.0, -10.0]]])  # [T=1, 4, 2]
    confidence = np.array([[0.9, 0.5, 0.7, 0.2]])
    mapped, mapped_confidence = TOY.apply(coords, confidence)
    assert mapped.shape == (1, 3, 2) and mapped_confidence.shape == (1, 3)
    assert mapped.dtype == np.float32 and mapped_confidence.dtype == np.float32
    np.testing.assert_allclose(mapped[0], [[0.0, 0.0], [3.0, 6.0], [5.0, -5.0]])
    np.testing.assert_allclose(mapped_confidence[0], [0.9, 0.5, 0.2])


def test_apply_nan_source_gives_nan_target_with_zero_confidence() -> None:
    coords = np.arange(2 * 4 * 3, dtype=np.float32).reshape(2, 4, 3)
    confidence = np.full((2, 4), 0.8, dtype=np.float32)
    coords[1, 2, 0] = np.nan  # one channel of source 2 missing in frame 1
    mapped, mapped_confidence = TOY.apply(coords, confidence)
    assert np.isnan(mapped[1, 1]).all()
    assert mapped_confidence[1, 1] == 0.0
    assert not np.isnan(mapped[0]).any() and not np.isnan(mapped[1, [0, 2]]).any()
    np.testing.assert_allclose(mapped_confidence, [[0.8, 0.8, 0.8], [0.8, 0.0, 0.8]])


def test_apply_does_not_modify_inputs() -> None:
    coords = np.ones((3, 4, 2), dtype=np.float32)
    coords[0, 1] = np.nan
    confidence = np.ones((3, 4), dtype=np.float32)
    TOY.apply(coords, confidence)
    assert confidence[0, 1] == 1.0


def test_apply_rejects_shape_mismatch_naming_layouts() -> None:
    mapping = get_mapping("mediapipe_33", "upper_body_11")
    with pytest.raises(ValueError, match="mediapipe_33 -> upper_body_11"):
        mapping.apply(np.zeros((2, 17, 2)), np.zeros((2, 17)))
    with pytest.raises(ValueError, match="confidence"):
        mapping.apply(np.zeros((2, 33, 2)), np.zeros((2, 32)))


def test_construction_rejects_out_of_range_and_empty() -> None:
    with pytest.raises(ValueError, match="outside"):
        LayoutMapping("toy_4", "toy_1", 4, ((4,),))
    with pytest.raises(ValueError, match="no source"):
        LayoutMapping("toy_4", "toy_1", 4, ((),))


def test_mediapipe_neck_is_shoulder_midpoint() -> None:
    rng = np.random.default_rng(0)
    coords = rng.normal(size=(5, 33, 3)).astype(np.float32)
    confidence = rng.uniform(size=(5, 33)).astype(np.float32)
    mediapipe, body = get_layout("mediapipe_33"), get_layout("upper_body_11")
    mapped, mapped_confidence = get_mapping("mediapipe_33", "upper_body_11").apply(coords, confidence)
    shoulders = [mediapipe.index("left_shoulder"), mediapipe.index("right_shoulder")]
    np.testing.assert_allclose(mapped[:, body.index("neck")], coords[:, shoulders].mean(axis=1), rtol=1e-6)
    np.testing.assert_allclose(mapped_confidence[:, body.index("neck")], confidence[:, shoulders].min(axis=1))
    hips = [mediapipe.index("left_hip"), mediapipe.index("right_hip")]
    np.testing.assert_allclose(mapped[:, body.index("spine_base")], coords[:, hips].mean(axis=1), rtol=1e-6)
    np.testing.assert_array_equal(mapped[:, body.index("head")], coords[:, mediapipe.index("nose")])
    np.testing.assert_array_equal(
        mapped[:, body.index("left_wrist")], coords[:, mediapipe.index("left_wrist")]
    )


def test_face_mesh_accepts_478_points_and_rejects_others() -> None:
    mapping = get_mapping(FACE_MESH, "face_23")
    mesh = np.random.default_rng(1).normal(size=(2, 478, 2)).astype(np.float32)
    confidence = np.ones((2, 478), dtype=np.float32)
    with_iris, _ = mapping.apply(mesh, confidence)
    without_iris, _ = mapping.apply(mesh[:, :468], confidence[:, :468])
    np.testing.assert_array_equal(with_iris, without_iris)
    np.testing.assert_array_equal(with_iris[:, get_layout("face_23").index("nose_tip")], mesh[:, 1])
    with pytest.raises(ValueError, match="mediapipe_face_mesh -> face_23"):
        mapping.apply(mesh[:, :467], confidence[:, :467])


def test_apply_keypoints() -> None:
    coords = np.zeros((4, 25, 3), dtype=np.float32)
    coords[:, 3] = [1.0, 2.0, 3.0]  # NTU head
    confidence = np.ones((4, 25), dtype=np.float32)
    keypoints = Keypoints(coords=coords, confidence=confidence, layout="ntu_25", fps=30.0, source="kinect")
    mapped = get_mapping("ntu_25", "upper_body_11").apply_keypoints(keypoints)
    assert mapped.layout == "upper_body_11"
    assert mapped.num_joints == 11 and mapped.num_frames == 4 and mapped.fps == 30.0
    assert mapped.source.startswith("kinect") and "ntu_25->upper_body_11" in mapped.source
    np.testing.assert_array_equal(mapped.coords[:, 0], np.tile([1.0, 2.0, 3.0], (4, 1)))
    with pytest.raises(ValueError, match="coco_17"):
        get_mapping("coco_17", "upper_body_11").apply_keypoints(keypoints)
