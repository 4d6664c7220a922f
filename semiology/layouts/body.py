"""Body layouts: the dystonia study's upper body, COCO-17, MediaPipe Pose-33 and NTU/Kinect-25.

Joint order is a contract (checkpoints, caches and mappings index by it). "right" is always the
subject's anatomical right. Left/right partners follow from the names (`mirror_pairs`).
"""

from __future__ import annotations

from semiology.layouts.base import Layout, both_sides, mirror_pairs


def _limb(*chain: str) -> dict[str, str]:
    """Parent links along a chain written from the root outwards: `_limb(a, b, c)` -> b->a, c->b."""
    return {child: parent for parent, child in zip(chain, chain[1:])}


_UPPER_BODY_11_JOINTS = (
    "head",
    "neck",
    "right_shoulder",
    "right_elbow",
    "right_wrist",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
    "right_hip",
    "left_hip",
    "spine_base",
)

UPPER_BODY_11 = Layout(
    name="upper_body_11",
    joint_names=_UPPER_BODY_11_JOINTS,
    parent_of={
        "head": "neck",
        "spine_base": "neck",
        **both_sides(_limb("neck", "{side}_shoulder", "{side}_elbow", "{side}_wrist")),
        **both_sides({"{side}_hip": "spine_base"}),
    },
    center_name="neck",
    flip_partners=mirror_pairs(_UPPER_BODY_11_JOINTS),
    group_members={
        "head": ("head",),
        "right_arm": ("right_shoulder", "right_elbow", "right_wrist"),
        "left_arm": ("left_shoulder", "left_elbow", "left_wrist"),
        "trunk": ("neck", "spine_base", "right_hip", "left_hip"),
    },
    scale_pair=("right_shoulder", "left_shoulder"),
)

_COCO_17_JOINTS = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)

COCO_17 = Layout(
    name="coco_17",
    joint_names=_COCO_17_JOINTS,
    parent_of={
        **both_sides(_limb("nose", "{side}_eye", "{side}_ear")),
        **both_sides(_limb("nose", "{side}_shoulder", "{side}_elbow", "{side}_wrist")),
        **both_sides(_limb("{side}_shoulder", "{side}_hip", "{side}_knee", "{side}_ankle")),
    },
    center_name="nose",
    flip_partners=mirror_pairs(_COCO_17_JOINTS),
    group_members={
        "head": ("nose", "left_eye", "right_eye", "left_ear", "right_ear"),
        "right_arm": ("right_shoulder", "right_elbow", "right_wrist"),
        "left_arm": ("left_shoulder", "left_elbow", "left_wrist"),
        "trunk": ("left_hip", "right_hip"),
        "right_leg": ("right_knee", "right_ankle"),
        "left_leg": ("left_knee", "left_ankle"),
    },
    scale_pair=("right_shoulder", "left_shoulder"),
)

_MEDIAPIPE_33_JOINTS = (
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
)

# MediaPipe Pose as a tree rooted at the nose. The face follows MediaPipe's own drawn connections
# (nose -> eye inner -> eye -> eye outer -> ear), the mouth corners hang from the nose, and the
# body follows COCO's tree (shoulders from the nose, hips from the shoulders). MediaPipe's
# closed loops are opened: each hand point (pinky, index, thumb) hangs from its wrist and each
# foot point (heel, foot index) from its ankle.
MEDIAPIPE_33 = Layout(
    name="mediapipe_33",
    joint_names=_MEDIAPIPE_33_JOINTS,
    parent_of={
        **both_sides(_limb("nose", "{side}_eye_inner", "{side}_eye", "{side}_eye_outer", "{side}_ear")),
        **both_sides({"mouth_{side}": "nose"}),
        **both_sides(_limb("nose", "{side}_shoulder", "{side}_elbow", "{side}_wrist")),
        **both_sides({"{side}_pinky": "{side}_wrist", "{side}_index": "{side}_wrist", "{side}_thumb": "{side}_wrist"}),
        **both_sides(_limb("{side}_shoulder", "{side}_hip", "{side}_knee", "{side}_ankle")),
        **both_sides({"{side}_heel": "{side}_ankle", "{side}_foot_index": "{side}_ankle"}),
    },
    center_name="nose",
    flip_partners=mirror_pairs(_MEDIAPIPE_33_JOINTS),
    group_members={
        "head": _MEDIAPIPE_33_JOINTS[:11],
        "right_arm": ("right_shoulder", "right_elbow", "right_wrist"),
        "left_arm": ("left_shoulder", "left_elbow", "left_wrist"),
        "right_hand": ("right_pinky", "right_index", "right_thumb"),
        "left_hand": ("left_pinky", "left_index", "left_thumb"),
        "trunk": ("left_hip", "right_hip"),
        "right_leg": ("right_knee", "right_ankle", "right_heel", "right_foot_index"),
        "left_leg": ("left_knee", "left_ankle", "left_heel", "left_foot_index"),
    },
    scale_pair=("right_shoulder", "left_shoulder"),
)

_NTU_25_JOINTS = (
    "spine_base",
    "spine_mid",
    "neck",
    "head",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
    "left_hand",
    "right_shoulder",
    "right_elbow",
    "right_wrist",
    "right_hand",
    "left_hip",
    "left_knee",
    "left_ankle",
    "left_foot",
    "right_hip",
    "right_knee",
    "right_ankle",
    "right_foot",
    "spine_shoulder",
    "left_hand_tip",
    "left_thumb",
    "right_hand_tip",
    "right_thumb",
)

# Kinect v2 / NTU RGB+D, with exactly the inward edges of 2s-AGCN's NTU graph so that
# NTU-pretrained checkpoints see the same adjacency; note that there the hand tip hangs from
# the thumb, and the thumb from the hand.
NTU_25 = Layout(
    name="ntu_25",
    joint_names=_NTU_25_JOINTS,
    parent_of={
        **_limb("spine_shoulder", "spine_mid", "spine_base"),
        **_limb("spine_shoulder", "neck", "head"),
        **both_sides(_limb("spine_shoulder", "{side}_shoulder", "{side}_elbow", "{side}_wrist", "{side}_hand")),
        **both_sides(_limb("{side}_hand", "{side}_thumb", "{side}_hand_tip")),
        **both_sides(_limb("spine_base", "{side}_hip", "{side}_knee", "{side}_ankle", "{side}_foot")),
    },
    center_name="spine_shoulder",
    flip_partners=mirror_pairs(_NTU_25_JOINTS),
    group_members={
        "head": ("neck", "head"),
        "right_arm": ("right_shoulder", "right_elbow", "right_wrist"),
        "left_arm": ("left_shoulder", "left_elbow", "left_wrist"),
        "right_hand": ("right_hand", "right_hand_tip", "right_thumb"),
        "left_hand": ("left_hand", "left_hand_tip", "left_thumb"),
        "trunk": ("spine_base", "spine_mid", "spine_shoulder", "left_hip", "right_hip"),
        "right_leg": ("right_knee", "right_ankle", "right_foot"),
        "left_leg": ("left_knee", "left_ankle", "left_foot"),
    },
    scale_pair=("right_shoulder", "left_shoulder"),
)

BODY_LAYOUTS: tuple[Layout, ...] = (UPPER_BODY_11, COCO_17, MEDIAPIPE_33, NTU_25)
