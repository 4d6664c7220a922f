"""The 23-point face layout: brows, eyes, nose and mouth, as a tree rooted at the nose tip.

"right" is the subject's anatomical right (the image's left in a frontal view).
"""

from __future__ import annotations

from semiology.layouts.base import Layout, both_sides, mirror_pairs

_FACE_23_JOINTS = (
    "right_brow_outer",
    "right_brow_middle",
    "right_brow_inner",
    "left_brow_inner",
    "left_brow_middle",
    "left_brow_outer",
    "right_eye_outer",
    "right_eye_top",
    "right_eye_inner",
    "right_eye_bottom",
    "left_eye_inner",
    "left_eye_top",
    "left_eye_outer",
    "left_eye_bottom",
    "nose_bridge",
    "nose_mid",
    "nose_tip",
    "right_nostril",
    "left_nostril",
    "mouth_right",
    "mouth_top",
    "mouth_left",
    "mouth_bottom",
)


# The bridge carries brows and eyes down the nose to its tip; the nostrils and the upper lip
# hang from the tip, and the other mouth points from the upper lip.
FACE_23 = Layout(
    name="face_23",
    joint_names=_FACE_23_JOINTS,
    parent_of={
        "nose_bridge": "nose_mid",
        "nose_mid": "nose_tip",
        **both_sides(
            {
                "{side}_brow_inner": "nose_bridge",
                "{side}_brow_middle": "{side}_brow_inner",
                "{side}_brow_outer": "{side}_brow_middle",
                "{side}_eye_inner": "nose_bridge",
                "{side}_eye_top": "{side}_eye_inner",
                "{side}_eye_outer": "{side}_eye_top",
                "{side}_eye_bottom": "{side}_eye_inner",
                "{side}_nostril": "nose_tip",
            }
        ),
        "mouth_top": "nose_tip",
        "mouth_right": "mouth_top",
        "mouth_left": "mouth_top",
        "mouth_bottom": "mouth_top",
    },
    center_name="nose_tip",
    flip_partners=mirror_pairs(_FACE_23_JOINTS),
    group_members={
        "brows": _FACE_23_JOINTS[0:6],
        "eyes": _FACE_23_JOINTS[6:14],
        "nose": _FACE_23_JOINTS[14:19],
        "mouth": _FACE_23_JOINTS[19:23],
    },
    scale_pair=("right_eye_outer", "left_eye_outer"),
)
