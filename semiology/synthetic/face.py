"""Synthetic face landmarks (23 points) in the image of a face camera, with planted expressions.

A subject's face is a rigid 3D template (pixels at the face camera's scale, face about 120 px
wide) deformed by blinks, a habitual brow raise or lip press, the fear-like expression of
emotional seizures and oral automatisms, then turned with the head of the body motion and
projected orthographically into the image of a face camera that follows the head with a lag
(as a face-tracking crop does). Template axes: x towards the subject's left, y up, z out of the
face; image axes: u right, v down (the subject faces the camera, so its right is image left).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from semiology.layouts import get_layout
from semiology.synthetic.motion import JOINT_INDEX, BodyMotion, SeizurePlan, episode_envelope, habit_bouts
from semiology.synthetic.subjects import SubjectTraits

FACE_LAYOUT = "face_23"
FACE_LANDMARKS: tuple[str, ...] = tuple(get_layout(FACE_LAYOUT).joint_names)
LANDMARK_INDEX: dict[str, int] = {name: index for index, name in enumerate(FACE_LANDMARKS)}

FACE_IMAGE_SIZE_PX: tuple[int, int] = (256, 256)
"""Width and height of the face camera image."""
FACE_CENTRE_PX: tuple[float, float] = (128.0, 110.0)
"""Where the point between the eyes sits in the face image at rest."""
FACE_WIDTH_MM = 150.0
"""Physical face width, to convert head displacement (mm) into face-image pixels."""
FOLLOW_LAG_S = 0.2
"""The face camera follows the face like a per-frame face box smoothed over a few frames (the
extraction front-end's tracked face ROI): fast jerks show, drift and turns are re-centred after
about this long ..."""
FOLLOW_RESIDUAL = 0.1
"""... except for this fraction of the displacement."""

EMOTION_LANDMARKS: tuple[str, ...] = tuple(
    name
    for name in FACE_LANDMARKS
    if "brow" in name or name.endswith(("eye_top", "eye_bottom")) or name.startswith("mouth")
)
"""The landmarks that carry the planted fear-like expression."""

_SIDE_SIGN = {"right": -1.0, "left": 1.0}


def _fear_displacement_px() -> np.ndarray:
    """Full fear-like expression [23, 2] (x to subject's left, y up): brows up (inner most and
    drawn together), eyes widened, mouth stretched laterally and down, slightly open."""
    shift = np.zeros((len(FACE_LANDMARKS), 2))
    for side, sign in _SIDE_SIGN.items():
        shift[LANDMARK_INDEX[f"{side}_brow_inner"]] = (-sign * 2.5, 11.0)
        shift[LANDMARK_INDEX[f"{side}_brow_middle"]] = (0.0, 8.5)
        shift[LANDMARK_INDEX[f"{side}_brow_outer"]] = (0.0, 5.5)
        shift[LANDMARK_INDEX[f"{side}_eye_top"]] = (0.0, 5.0)
        shift[LANDMARK_INDEX[f"{side}_eye_bottom"]] = (0.0, -2.5)
        shift[LANDMARK_INDEX[f"mouth_{side}"]] = (sign * 6.5, -4.0)
    shift[LANDMARK_INDEX["mouth_top"]] = (0.0, 1.0)
    shift[LANDMARK_INDEX["mouth_bottom"]] = (0.0, -5.5)
    return shift


FEAR_DISPLACEMENT_PX = _fear_displacement_px()


def canonical_face(shape_px: dict[str, float]) -> np.ndarray:
    """The subject's neutral face template [23, 3] in pixels (x to its left, y up, z out)."""
    e, w = shape_px["eye_half_spacing"], shape_px["eye_half_width"]
    brow, arch = shape_px["brow_height"], shape_px["brow_arch"]
    nose, mouth, mouth_w = shape_px["nose_length"], shape_px["mouth_drop"], shape_px["mouth_half_width"]
    points = np.zeros((len(FACE_LANDMARKS), 3))
    for side, sign in _SIDE_SIGN.items():
        points[LANDMARK_INDEX[f"{side}_brow_outer"]] = (sign * (e + w), brow - arch, 2.0)
        points[LANDMARK_INDEX[f"{side}_brow_middle"]] = (sign * e, brow, 5.0)
        points[LANDMARK_INDEX[f"{side}_brow_inner"]] = (sign * (e - w - 4.0), brow - 0.5 * arch, 6.0)
        points[LANDMARK_INDEX[f"{side}_eye_outer"]] = (sign * (e + w), 0.0, -2.0)
        points[LANDMARK_INDEX[f"{side}_eye_top"]] = (sign * e, shape_px["eye_upper"], 3.0)
        points[LANDMARK_INDEX[f"{side}_eye_inner"]] = (sign * (e - w), 0.0, 0.0)
        points[LANDMARK_INDEX[f"{side}_eye_bottom"]] = (sign * e, -shape_px["eye_lower"], 2.0)
        points[LANDMARK_INDEX[f"{side}_nostril"]] = (sign * 8.0, -nose - 3.0, 16.0)
        points[LANDMARK_INDEX[f"mouth_{side}"]] = (sign * mouth_w, -mouth, 4.0)
    points[LANDMARK_INDEX["nose_bridge"]] = (0.0, 2.0, 10.0)
    points[LANDMARK_INDEX["nose_mid"]] = (0.0, -0.5 * nose, 18.0)
    points[LANDMARK_INDEX["nose_tip"]] = (0.0, -nose, 26.0)
    points[LANDMARK_INDEX["mouth_top"]] = (0.0, -mouth + shape_px["lip_upper"], 10.0)
    points[LANDMARK_INDEX["mouth_bottom"]] = (0.0, -mouth - shape_px["lip_lower"], 9.0)
    return points * (shape_px["face_width"] / 120.0)


def _surface_normals(template: np.ndarray) -> np.ndarray:
    """Rough outward normals [23, 3]: lateral landmarks face partly sideways, central ones forward."""
    lateral = np.clip(template[:, 0] / 40.0, -1.0, 1.0) * 0.6
    normals = np.stack([lateral, np.zeros_like(lateral), np.sqrt(1.0 - lateral**2)], axis=1)
    return normals


@dataclass
class FaceMotion:
    """Clean face landmarks [T, 23, 2] in face-image pixels and their visibility [T, 23] in [0, 1].

    Visibility falls for landmarks turned away from the camera (head version) and where the
    habitual hand covers the face (`touch` [T] in [0, 1] on `touch_side`). `fear` [T] is the
    strength of the fear-like expression, which the crops also show as forehead furrows that no
    landmark carries.
    """

    coords_px: np.ndarray
    visibility: np.ndarray
    touch: np.ndarray
    touch_side: str
    fear: np.ndarray


def simulate_face(
    traits: SubjectTraits, plan: SeizurePlan, body: BodyMotion, rng: np.random.Generator
) -> FaceMotion:
    """Face landmarks for one recording: template, blinks, habit, planted signs, head pose."""
    time_s = plan.time_s
    n_frames = plan.n_frames
    shape = traits.face_shape_px
    scale = shape["face_width"] / 120.0
    template = canonical_face(shape)
    shift = np.zeros((n_frames, len(FACE_LANDMARKS), 2))

    blinks = habit_bouts(rng, time_s[-1], traits.blink_period_s, 0.2, time_s[-1] + 1.0)
    closing = episode_envelope(time_s, blinks, 0.08, 0.08)
    for side in ("right", "left"):
        lid = shape["eye_upper"] + 0.5 * shape["eye_lower"]
        shift[:, LANDMARK_INDEX[f"{side}_eye_top"], 1] -= closing * lid * scale

    habit = traits.face_habit
    habit_level = episode_envelope(
        time_s, habit_bouts(rng, time_s[-1], habit["period_s"], habit["bout_s"], plan.offset_s), 0.2, 0.3
    ) * habit["amplitude_px"]
    if habit["kind"] == "brow_raise":
        for side in ("right", "left"):
            for part in ("brow_outer", "brow_middle", "brow_inner"):
                shift[:, LANDMARK_INDEX[f"{side}_{part}"], 1] += habit_level
            shift[:, LANDMARK_INDEX[f"{side}_eye_top"], 1] += 0.3 * habit_level
    else:
        shift[:, LANDMARK_INDEX["mouth_top"], 1] -= 0.5 * habit_level
        shift[:, LANDMARK_INDEX["mouth_bottom"], 1] += 0.6 * habit_level
        for side, sign in _SIDE_SIGN.items():
            shift[:, LANDMARK_INDEX[f"mouth_{side}"], 0] -= sign * 0.6 * habit_level

    fear = np.zeros(n_frames)
    for start, end, details in plan.signs.get("emotion", []):
        level = plan.level("emotion") * traits.expressivity * episode_envelope(time_s, [[start, end]], details["ramp_s"], 0.5)
        shift += level[:, None, None] * FEAR_DISPLACEMENT_PX[None] * scale
        fear = np.maximum(fear, level)

    for start, end, details in plan.signs.get("automatisms", []):
        level = plan.level("automatisms") * episode_envelope(time_s, [[start, end]], 0.7, 0.7)
        phase = 2 * np.pi * details["oral_frequency_hz"] * time_s + rng.uniform(0, 2 * np.pi)
        chew = level * 0.5 * (1.0 - np.cos(phase))
        shift[:, LANDMARK_INDEX["mouth_bottom"], 1] -= 4.0 * scale * chew
        shift[:, LANDMARK_INDEX["mouth_top"], 1] += 0.8 * scale * chew
        for side, sign in _SIDE_SIGN.items():
            shift[:, LANDMARK_INDEX[f"mouth_{side}"]] += np.stack([-sign * 1.0 * chew, -0.5 * chew], axis=1) * scale

    points = np.broadcast_to(template, (n_frames,) + template.shape).copy()
    points[..., :2] += shift
    pivot = np.array([0.0, -20.0, -90.0]) * scale
    rotated = np.einsum("tij,tvj->tvi", body.head_rotation, points - pivot) + pivot
    normals = np.einsum("tij,vj->tvi", body.head_rotation, _surface_normals(template))
    visibility = np.clip(normals[..., 2] / np.maximum(_surface_normals(template)[:, 2], 1e-6), 0.0, 1.0)

    head_mm = body.joints_mm[:, JOINT_INDEX["head"]]
    quiet = time_s < plan.onset_s
    reference_mm = head_mm[quiet].mean(axis=0) if quiet.any() else head_mm[0]
    displacement = (head_mm - reference_mm) * (shape["face_width"] / FACE_WIDTH_MM)
    raw = np.stack([rotated[..., 0] + displacement[:, None, 0], -rotated[..., 1] - displacement[:, None, 1]], axis=-1)
    centroid = raw.mean(axis=1)
    reference_px = centroid[quiet].mean(axis=0) if quiet.any() else centroid[0]
    followed = gaussian_filter1d(centroid, sigma=FOLLOW_LAG_S * plan.fps, axis=0, mode="nearest")
    tracking = followed - reference_px - FOLLOW_RESIDUAL * (followed - reference_px)
    coords = raw - tracking[:, None, :] + np.array(FACE_CENTRE_PX)

    touch_side = body.face_touch_side
    covered = [
        LANDMARK_INDEX[f"mouth_{touch_side}"],
        LANDMARK_INDEX[f"{touch_side}_nostril"],
        LANDMARK_INDEX["mouth_top"],
        LANDMARK_INDEX["mouth_bottom"],
    ]
    visibility[:, covered] *= 1.0 - 0.8 * np.clip(body.face_touch, 0.0, 1.0)[:, None]
    return FaceMotion(coords_px=coords, visibility=visibility, touch=body.face_touch, touch_side=touch_side, fear=fear)
