"""Layouts: joint order, tree validity, the 2s-AGCN adjacency, bones, flips and groups."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch

from semiology.layouts import LAYOUT_NAMES, Layout, get_layout, spatial_adjacency
from semiology.layouts.base import mirror_pairs

EXPECTED_NUM_JOINTS = {"upper_body_11": 11, "coco_17": 17, "mediapipe_33": 33, "ntu_25": 25, "face_23": 23}

# 2s-AGCN's NTU graph, 1-based (child, parent), typed here independently of the layout module.
NTU_INWARD_1_BASED = [
    (1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7), (9, 21), (10, 9), (11, 10), (12, 11),
    (13, 1), (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18), (20, 19), (22, 23), (23, 8), (24, 25),
    (25, 12),
]  # fmt: skip


def reference_spatial_graph(num_joints: int, inward: list[tuple[int, int]]) -> np.ndarray:
    """2s-AGCN's `get_spatial_graph`, written out in plain numpy with loops."""

    def edges_to_matrix(edges: list[tuple[int, int]]) -> np.ndarray:
        matrix = np.zeros((num_joints, num_joints))
        for i, j in edges:
            matrix[j, i] = 1
        return matrix

    def normalise(matrix: np.ndarray) -> np.ndarray:
        column_sum = matrix.sum(axis=0)
        inverse = np.zeros((num_joints, num_joints))
        for k in range(num_joints):
            if column_sum[k] > 0:
                inverse[k, k] = 1.0 / column_sum[k]
        return matrix @ inverse

    identity = edges_to_matrix([(k, k) for k in range(num_joints)])
    inward_part = normalise(edges_to_matrix(inward))
    outward_part = normalise(edges_to_matrix([(j, i) for i, j in inward]))
    return np.stack([identity, inward_part, outward_part])


@pytest.fixture(params=LAYOUT_NAMES)
def layout(request: pytest.FixtureRequest) -> Layout:
    return get_layout(request.param)


def test_registry_names_and_counts() -> None:
    assert set(LAYOUT_NAMES) == set(EXPECTED_NUM_JOINTS)
    for name, count in EXPECTED_NUM_JOINTS.items():
        layout = get_layout(name)
        assert layout.name == name
        assert layout.num_joints == count == len(layout.joint_names) == len(layout.parents)


def test_unknown_layout_lists_known_names() -> None:
    with pytest.raises(KeyError, match="upper_body_11") as error:
        get_layout("openpose_25")
    assert "openpose_25" in str(error.value)


def test_unknown_joint_names_layout_and_joint() -> None:
    with pytest.raises(KeyError, match="upper_body_11.*left_knee"):
        get_layout("upper_body_11").index("left_knee")


def test_joint_order_contract() -> None:
    assert get_layout("upper_body_11").joint_names == (
        "head", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
        "left_wrist", "right_hip", "left_hip", "spine_base",
    )  # fmt: skip
    assert get_layout("upper_body_11").center == 1
    assert get_layout("upper_body_11").index("right_wrist") == 4
    assert get_layout("coco_17").joint_names[:5] == ("nose", "left_eye", "right_eye", "left_ear", "right_ear")
    assert get_layout("coco_17").index("right_ankle") == 16
    assert get_layout("mediapipe_33").index("left_shoulder") == 11
    assert get_layout("mediapipe_33").index("right_foot_index") == 32
    assert get_layout("ntu_25").center == 20
    assert get_layout("ntu_25").joint_names[20] == "spine_shoulder"
    assert get_layout("ntu_25").index("right_thumb") == 24
    face = get_layout("face_23")
    assert face.joint_names[face.center] == "nose_tip"
    assert face.index("nose_tip") == 16
    assert face.index("mouth_bottom") == 22


def test_parents_form_a_tree_rooted_at_centre(layout: Layout) -> None:
    assert [v for v, p in enumerate(layout.parents) if p < 0] == [layout.center]
    for start in range(layout.num_joints):
        joint, steps = start, 0
        while joint != layout.center:
            joint = layout.parents[joint]
            steps += 1
            assert steps <= layout.num_joints
    assert len(layout.inward_edges) == layout.num_joints - 1
    assert all(layout.parents[child] == parent for child, parent in layout.inward_edges)


def test_upper_body_tree_by_name() -> None:
    layout = get_layout("upper_body_11")
    parent_names = {layout.joint_names[c]: layout.joint_names[p] for c, p in layout.inward_edges}
    assert parent_names == {
        "head": "neck",
        "right_shoulder": "neck",
        "right_elbow": "right_shoulder",
        "right_wrist": "right_elbow",
        "left_shoulder": "neck",
        "left_elbow": "left_shoulder",
        "left_wrist": "left_elbow",
        "spine_base": "neck",
        "right_hip": "spine_base",
        "left_hip": "spine_base",
    }


def test_face_tree_by_name() -> None:
    layout = get_layout("face_23")
    parent_names = {layout.joint_names[c]: layout.joint_names[p] for c, p in layout.inward_edges}
    assert parent_names["nose_bridge"] == "nose_mid"
    assert parent_names["nose_mid"] == "nose_tip"
    assert parent_names["left_brow_outer"] == "left_brow_middle"
    assert parent_names["right_brow_inner"] == "nose_bridge"
    assert parent_names["right_eye_outer"] == "right_eye_top"
    assert parent_names["left_eye_bottom"] == "left_eye_inner"
    assert parent_names["mouth_bottom"] == "mouth_top"
    assert parent_names["mouth_top"] == "nose_tip"
    assert parent_names["left_nostril"] == "nose_tip"


def test_ntu_edges_are_2s_agcn_edges() -> None:
    expected = {(i - 1, j - 1) for i, j in NTU_INWARD_1_BASED}
    assert set(get_layout("ntu_25").inward_edges) == expected


def test_adjacency_matches_numpy_reference(layout: Layout) -> None:
    adjacency = layout.adjacency()
    assert adjacency.dtype == np.float32
    assert adjacency.shape == (3, layout.num_joints, layout.num_joints)
    reference = reference_spatial_graph(layout.num_joints, list(layout.inward_edges))
    np.testing.assert_allclose(adjacency, reference, rtol=0, atol=1e-7)
    np.testing.assert_array_equal(adjacency[0], np.eye(layout.num_joints))


def test_ntu_adjacency_equals_2s_agcn_graph() -> None:
    reference = reference_spatial_graph(25, [(i - 1, j - 1) for i, j in NTU_INWARD_1_BASED])
    np.testing.assert_allclose(get_layout("ntu_25").adjacency(), reference, rtol=0, atol=1e-7)


def test_ntu_adjacency_hand_values() -> None:
    identity, inward, outward = get_layout("ntu_25").adjacency()
    non_root = [v for v in range(25) if v != 20]
    # Every non-root joint has exactly one parent, so its inward column sums to 1 exactly.
    np.testing.assert_array_equal(inward.sum(axis=0)[non_root], 1.0)
    assert inward.sum(axis=0)[20] == 0.0
    assert inward[20, 1] == 1.0  # spine_mid -> spine_shoulder
    assert inward[0, 12] == 1.0  # left_hip -> spine_base
    assert inward[22, 21] == 1.0  # left_hand_tip -> left_thumb
    # spine_shoulder has four children (spine_mid, neck, both shoulders): each gets 1/4 outward.
    np.testing.assert_array_equal(np.flatnonzero(outward[:, 20]), [1, 2, 4, 8])
    np.testing.assert_array_equal(outward[[1, 2, 4, 8], 20], 0.25)
    # spine_base has two children (the hips): 1/2 each.
    np.testing.assert_array_equal(np.flatnonzero(outward[:, 0]), [12, 16])
    np.testing.assert_array_equal(outward[[12, 16], 0], 0.5)
    # Leaves (head, feet, hand tips) have no outward column.
    for leaf in (3, 15, 19, 21, 23):
        assert outward[:, leaf].sum() == 0.0
    assert identity.trace() == 25.0


def test_adjacency_is_a_fresh_copy() -> None:
    layout = get_layout("upper_body_11")
    first = layout.adjacency()
    first[:] = 7.0
    assert layout.adjacency()[1].max() == 1.0


def test_spatial_adjacency_rejects_edges_outside_graph() -> None:
    with pytest.raises(ValueError, match="outside"):
        spatial_adjacency(3, [(0, 1), (2, 5)])


def test_bone_pairs_pair_centre_with_itself(layout: Layout) -> None:
    pairs = layout.bone_pairs
    assert len(pairs) == layout.num_joints
    assert pairs[layout.center] == (layout.center, layout.center)
    assert all(pairs[v] == (v, layout.parents[v]) for v in range(layout.num_joints) if v != layout.center)


def _toy_upper_body_pose() -> np.ndarray:
    """Upper-body joints [11, 3] in millimetres at distinct, easy positions."""
    positions = {
        "head": (0, 250, 0),
        "neck": (0, 0, 0),
        "right_shoulder": (-200, 0, 0),
        "right_elbow": (-200, -300, 0),
        "right_wrist": (-200, -300, 250),
        "left_shoulder": (200, 0, 0),
        "left_elbow": (200, -300, 0),
        "left_wrist": (200, -550, 0),
        "right_hip": (-100, -500, 0),
        "left_hip": (100, -500, 0),
        "spine_base": (0, -500, 0),
    }
    layout = get_layout("upper_body_11")
    return np.array([positions[name] for name in layout.joint_names], dtype=np.float32)


def test_bones_on_toy_pose_numpy() -> None:
    layout = get_layout("upper_body_11")
    pose = _toy_upper_body_pose()
    bones = layout.bones(pose)
    assert bones.shape == pose.shape
    np.testing.assert_array_equal(bones[layout.center], 0.0)
    np.testing.assert_array_equal(bones[layout.index("head")], [0, 250, 0])
    np.testing.assert_array_equal(bones[layout.index("right_wrist")], [0, 0, 250])
    np.testing.assert_array_equal(bones[layout.index("left_wrist")], [0, -250, 0])
    np.testing.assert_array_equal(bones[layout.index("right_hip")], [-100, 0, 0])
    np.testing.assert_array_equal(bones[layout.index("spine_base")], [0, -500, 0])


def test_bones_on_toy_pose_torch_matches_numpy_and_axis() -> None:
    layout = get_layout("upper_body_11")
    pose = _toy_upper_body_pose()
    sequence = np.stack([pose, pose + 10.0])  # [T=2, V, C]
    expected = layout.bones(sequence)
    as_tensor = torch.from_numpy(sequence).requires_grad_(True)
    bones = layout.bones(as_tensor)
    assert isinstance(bones, torch.Tensor)
    np.testing.assert_array_equal(bones.detach().numpy(), expected)
    bones.sum().backward()
    assert as_tensor.grad is not None
    channels_first = torch.from_numpy(sequence).permute(2, 0, 1)  # [C, T, V], AGCN order
    np.testing.assert_array_equal(
        layout.bones(channels_first, axis=-1).permute(1, 2, 0).numpy(), expected
    )
    np.testing.assert_array_equal(layout.bones(sequence, axis=1), expected)


def test_bones_propagate_nan() -> None:
    layout = get_layout("upper_body_11")
    pose = _toy_upper_body_pose()
    pose[layout.index("right_elbow")] = np.nan
    bones = layout.bones(pose)
    nan_joints = {layout.joint_names[v] for v in np.flatnonzero(np.isnan(bones).any(axis=-1))}
    assert nan_joints == {"right_elbow", "right_wrist"}
    pose_t = torch.from_numpy(pose)
    assert torch.isnan(layout.bones(pose_t)[layout.index("right_wrist")]).all()
    assert (layout.bones(pose_t)[layout.center] == 0).all()


def test_bones_reject_wrong_joint_count() -> None:
    with pytest.raises(ValueError, match="upper_body_11.*11 joints"):
        get_layout("upper_body_11").bones(np.zeros((5, 17, 2)))


def test_flip_index_is_involution_swapping_sides(layout: Layout) -> None:
    flip = layout.flip_index
    np.testing.assert_array_equal(flip[flip], np.arange(layout.num_joints))
    assert sorted(flip.tolist()) == list(range(layout.num_joints))
    for joint, partner in enumerate(flip):
        words = layout.joint_names[joint].split("_")
        swapped = ["left" if w == "right" else "right" if w == "left" else w for w in words]
        if "left" in words or "right" in words:
            assert layout.joint_names[partner] == "_".join(swapped)
        else:
            assert partner == joint
    assert {frozenset(pair) for pair in layout.flip_pairs} == {
        frozenset((j, int(p))) for j, p in enumerate(flip) if p != j
    }


def test_flip_index_hand_values() -> None:
    flip = get_layout("upper_body_11").flip_index
    np.testing.assert_array_equal(flip, [0, 1, 5, 6, 7, 2, 3, 4, 9, 8, 10])
    face = get_layout("face_23")
    assert face.joint_names[face.flip_index[face.index("mouth_right")]] == "mouth_left"


def test_groups_partition_joints(layout: Layout) -> None:
    members = [v for group in layout.groups.values() for v in group]
    assert sorted(members) == list(range(layout.num_joints))


def test_group_names() -> None:
    body = get_layout("upper_body_11").groups
    assert body == {"head": (0,), "right_arm": (2, 3, 4), "left_arm": (5, 6, 7), "trunk": (1, 10, 8, 9)}
    for name in ("coco_17", "mediapipe_33", "ntu_25"):
        assert {"head", "right_arm", "left_arm", "trunk"} <= set(get_layout(name).groups)
    assert set(get_layout("face_23").groups) == {"brows", "eyes", "nose", "mouth"}


def _tiny(**changes: object) -> Layout:
    definition: dict[str, object] = {
        "name": "tiny",
        "joint_names": ("root", "left_arm", "right_arm"),
        "parent_of": {"left_arm": "root", "right_arm": "root"},
        "center_name": "root",
        "flip_partners": (("right_arm", "left_arm"),),
        "group_members": {"arms": ("left_arm", "right_arm")},
    }
    definition.update(changes)
    return Layout(**definition)  # type: ignore[arg-type]


def test_construction_validates() -> None:
    assert _tiny().parents == (-1, 0, 0)
    with pytest.raises(ValueError, match="repeat"):
        _tiny(joint_names=("root", "left_arm", "left_arm"))
    with pytest.raises(ValueError, match="extra roots"):
        _tiny(parent_of={"left_arm": "root"})
    with pytest.raises(ValueError, match="only root"):
        _tiny(parent_of={"left_arm": "root", "right_arm": "root", "root": "left_arm"})
    with pytest.raises(ValueError, match="cycle"):
        _tiny(parent_of={"left_arm": "right_arm", "right_arm": "left_arm"})
    with pytest.raises(KeyError, match="tiny.*thumb"):
        _tiny(flip_partners=(("right_arm", "thumb"),))
    with pytest.raises(KeyError, match="tiny.*elbow"):
        _tiny(parent_of={"left_arm": "root", "right_arm": "root", "elbow": "root"})
    with pytest.raises(KeyError, match="tiny.*spine"):
        _tiny(center_name="spine")
    with pytest.raises(KeyError, match="tiny.*hand"):
        _tiny(group_members={"hands": ("hand",)})
    with pytest.raises(ValueError, match="flip partners"):
        _tiny(flip_partners=(("right_arm", "right_arm"),))


def test_layout_is_frozen_and_hashable() -> None:
    layout = get_layout("ntu_25")
    with pytest.raises(AttributeError):
        layout.center = 0  # type: ignore[misc]
    assert {layout: 1}[get_layout("ntu_25")] == 1
    assert _tiny() == _tiny()


def test_mirror_pairs_from_names() -> None:
    assert mirror_pairs(("nose", "left_eye", "right_eye", "mouth_left", "mouth_right", "left_hand_tip")) == (
        ("right_eye", "left_eye"),
        ("mouth_right", "mouth_left"),
    )


def test_layout_pickles_and_copies(layout: Layout) -> None:
    restored = pickle.loads(pickle.dumps(layout))
    assert restored == layout
    assert restored.parents == layout.parents and restored.groups == layout.groups
    assert copy.deepcopy(layout).flip_pairs == layout.flip_pairs
