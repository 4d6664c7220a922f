"""Mappings between layouts: each target joint is the mean of one or more source joints.

Body mappings are written by joint name (a target joint takes the source joint of the same name
unless a table says otherwise), so they are checked against both layouts when the module loads.
The face mapping reads the 23 face points off MediaPipe's face mesh by mesh index.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from semiology.layouts.base import Layout
from semiology.layouts.body import COCO_17, MEDIAPIPE_33, NTU_25, UPPER_BODY_11
from semiology.layouts.face import FACE_23
from semiology.records import Keypoints


@dataclass(frozen=True)
class LayoutMapping:
    """Target joint `k` is the mean of source joints `sources[k]`; confidence is their minimum.

    `also_accepts` lists other source joint counts whose first `source_num_joints` joints are the
    source layout (MediaPipe's 478-point mesh is the 468-point mesh plus 10 iris points).
    """

    source: str
    target: str
    source_num_joints: int
    sources: tuple[tuple[int, ...], ...]
    also_accepts: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "sources", tuple(tuple(int(i) for i in group) for group in self.sources))
        for k, group in enumerate(self.sources):
            if not group:
                raise ValueError(f"mapping {self.source} -> {self.target}: target joint {k} has no source joints")
            if not all(0 <= i < self.source_num_joints for i in group):
                raise ValueError(
                    f"mapping {self.source} -> {self.target}: target joint {k} reads {group}, outside "
                    f"the {self.source_num_joints} joints of {self.source}"
                )

    @property
    def target_num_joints(self) -> int:
        return len(self.sources)

    def apply(self, coords: np.ndarray, confidence: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map `coords [..., Vs, C]` and `confidence [..., Vs]` to the target layout (float32).

        A target joint is the mean of its sources with the least of their confidences; if any
        source is missing (NaN), the target joint is NaN with confidence 0.
        """
        coords = np.asarray(coords, dtype=np.float32)
        confidence = np.asarray(confidence, dtype=np.float32)
        num_joints = coords.shape[-2] if coords.ndim >= 2 else None
        if num_joints not in (self.source_num_joints, *self.also_accepts):
            raise ValueError(
                f"mapping {self.source} -> {self.target} expects {self.source_num_joints} source joints "
                f"on axis -2, got coords of shape {coords.shape}"
            )
        if confidence.shape != coords.shape[:-1]:
            raise ValueError(
                f"mapping {self.source} -> {self.target}: confidence {confidence.shape} does not match "
                f"coords {coords.shape[:-1]}"
            )
        mapped = np.stack([coords[..., list(group), :].mean(axis=-2) for group in self.sources], axis=-2)
        mapped_confidence = np.stack([confidence[..., list(group)].min(axis=-1) for group in self.sources], axis=-1)
        missing = np.isnan(mapped).any(axis=-1) | np.isnan(mapped_confidence)
        mapped[missing] = np.nan
        mapped_confidence[missing] = 0.0
        return mapped, mapped_confidence

    def apply_keypoints(self, keypoints: Keypoints) -> Keypoints:
        """Map a `Keypoints` sequence of the source layout; its `source` notes the mapping."""
        if keypoints.layout != self.source:
            raise ValueError(
                f"mapping {self.source} -> {self.target} cannot map keypoints of layout {keypoints.layout!r}"
            )
        coords, confidence = self.apply(keypoints.coords, keypoints.confidence)
        return Keypoints(
            coords=coords,
            confidence=confidence,
            layout=self.target,
            fps=keypoints.fps,
            source=f"{keypoints.source}+mapped:{self.source}->{self.target}",
        )


def _by_name(source: Layout, target: Layout, means_of: Mapping[str, tuple[str, ...]]) -> LayoutMapping:
    """Each target joint from the source joint of the same name, unless `means_of` names others."""
    unknown = set(means_of) - set(target.joint_names)
    if unknown:
        raise KeyError(f"mapping {source.name} -> {target.name}: {sorted(unknown)} are not joints of {target.name}")
    sources = tuple(
        tuple(source.index(name) for name in means_of.get(joint, (joint,))) for joint in target.joint_names
    )
    return LayoutMapping(source.name, target.name, source.num_joints, sources)


# MediaPipe face-mesh landmark index of each face_23 joint ("right" = the subject's right,
# which is the image's left in a frontal, unmirrored view).
FACE_MESH_INDEX: Mapping[str, int] = {
    "right_brow_outer": 70,
    "right_brow_middle": 105,
    "right_brow_inner": 107,
    "left_brow_inner": 336,
    "left_brow_middle": 334,
    "left_brow_outer": 300,
    "right_eye_outer": 33,
    "right_eye_top": 159,
    "right_eye_inner": 133,
    "right_eye_bottom": 145,
    "left_eye_inner": 362,
    "left_eye_top": 386,
    "left_eye_outer": 263,
    "left_eye_bottom": 374,
    "nose_bridge": 168,
    "nose_mid": 6,
    "nose_tip": 1,
    "right_nostril": 98,
    "left_nostril": 327,
    "mouth_right": 61,
    "mouth_top": 0,
    "mouth_left": 291,
    "mouth_bottom": 17,
}

FACE_MESH = "mediapipe_face_mesh"
FACE_MESH_NUM_POINTS = 468
FACE_MESH_WITH_IRIS_NUM_POINTS = 478

_SHOULDER_MIDPOINT = ("left_shoulder", "right_shoulder")
_HIP_MIDPOINT = ("left_hip", "right_hip")

_MAPPINGS: dict[tuple[str, str], LayoutMapping] = {
    (m.source, m.target): m
    for m in (
        _by_name(
            MEDIAPIPE_33,
            UPPER_BODY_11,
            {"head": ("nose",), "neck": _SHOULDER_MIDPOINT, "spine_base": _HIP_MIDPOINT},
        ),
        _by_name(COCO_17, UPPER_BODY_11, {"head": ("nose",), "neck": _SHOULDER_MIDPOINT, "spine_base": _HIP_MIDPOINT}),
        _by_name(NTU_25, UPPER_BODY_11, {}),
        _by_name(MEDIAPIPE_33, COCO_17, {}),
        LayoutMapping(
            FACE_MESH,
            FACE_23.name,
            FACE_MESH_NUM_POINTS,
            tuple((FACE_MESH_INDEX[joint],) for joint in FACE_23.joint_names),
            also_accepts=(FACE_MESH_WITH_IRIS_NUM_POINTS,),
        ),
    )
}

MAPPING_PAIRS: tuple[tuple[str, str], ...] = tuple(_MAPPINGS)


def get_mapping(source: str, target: str) -> LayoutMapping:
    """The mapping from layout `source` to layout `target`; a KeyError lists the known pairs."""
    try:
        return _MAPPINGS[(source, target)]
    except KeyError:
        known = ", ".join(f"{s} -> {t}" for s, t in _MAPPINGS)
        raise KeyError(f"no layout mapping {source} -> {target}; known mappings: {known}") from None


def index_map(source: str, target: str) -> tuple[int, ...]:
    """The single source index of every target joint, for mappings that only pick joints.

    Raises ValueError if some target joint is an average of several source joints.
    """
    mapping = get_mapping(source, target)
    averaged = [k for k, group in enumerate(mapping.sources) if len(group) != 1]
    if averaged:
        raise ValueError(
            f"mapping {source} -> {target} averages several source joints for target joints {averaged}; "
            "it is not a pure index selection"
        )
    return tuple(group[0] for group in mapping.sources)


def to_layout(keypoints: Keypoints, layout: str) -> Keypoints:
    """`keypoints` in `layout`: unchanged when already there, else through the registered mapping (a KeyError names the pair that has none)."""
    if layout == keypoints.layout:
        return keypoints
    return get_mapping(keypoints.layout, layout).apply_keypoints(keypoints)
