"""Seizure timelines and upper-body motion with planted, known semiology.

A `SeizurePlan` fixes when each sign happens (seconds from the first frame); `simulate_body`
turns a subject's resting posture, habits and the plan's signs into joint angles and then, by
forward kinematics, into the 11 upper-body joints in a body frame (millimetres): origin at the
spine base, x towards the subject's left, y towards the head, z anterior (towards the camera
that looks at the patient). The amplitude of each planted sign is `plan.level(sign)`: the graded
signs (those a study asks about) scale with `plan.effect` = 1 - difficulty, the others play at
`OTHER_SIGN_LEVEL` at every difficulty.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter1d

from semiology.layouts import get_layout
from semiology.synthetic.spec import FOCAL_SIGNS, GRADED_SIGNS, PLANTED_SIGNS
from semiology.synthetic.subjects import SubjectTraits, opposite_side

BODY_LAYOUT = "upper_body_11"
BODY_JOINTS: tuple[str, ...] = tuple(get_layout(BODY_LAYOUT).joint_names)
JOINT_INDEX: dict[str, int] = {name: index for index, name in enumerate(BODY_JOINTS)}
SIDE_SIGN: dict[str, float] = {"right": -1.0, "left": 1.0}
"""Sign of the body-frame x axis on each side of the subject."""

TONIC_TARGET_DEG: dict[str, float] = {
    "shoulder_flexion": 65.0,
    "shoulder_abduction": 30.0,
    "shoulder_rotation": 10.0,
    "elbow_flexion": 8.0,
    "wrist_flexion": -10.0,
}
"""The stiffened posture that a tonic phase blends each arm towards (arms raised, extended)."""

OTHER_SIGN_LEVEL = 0.7
"""Amplitude of the signs that are not graded by difficulty: the level every sign had at the
default difficulty 0.3. They are the confounders a study must see past; were they to shrink
with difficulty too, a harder cohort could be an easier study (smaller hyperkinetic bouts hide
less of the face and the arms)."""

FIST_RAMP_S = 0.5
"""How fast a dystonic hand clenches and opens: faster than the arm posture's ramp, as
dystonia often shows first in the hand."""

Episode = list[Any]
"""A sign occurrence `[start_s, end_s, details]` with `details` a JSON-able dict."""


@dataclass(frozen=True)
class SeizurePlan:
    """When everything happens in one synthetic recording.

    `signs` maps a sign name to its occurrences `[start_s, end_s, details]`, in seconds from
    the first frame. `effect` scales the amplitude of the `graded_signs` (0 removes them); every
    other sign plays at `OTHER_SIGN_LEVEL`, see `level`.
    """

    seizure_id: str
    subject_id: str
    fps: float
    n_frames: int
    onset_s: float
    offset_s: float
    generalisation_s: float | None
    labels: dict[str, str]
    signs: dict[str, list[Episode]]
    effect: float
    difficulty: float
    canary: bool
    graded_signs: tuple[str, ...] = GRADED_SIGNS

    def level(self, sign: str) -> float:
        """The amplitude factor of one planted sign in this recording."""
        if sign not in PLANTED_SIGNS:
            raise ValueError(f"unknown planted sign {sign!r}; known: {', '.join(PLANTED_SIGNS)}")
        return self.effect if sign in self.graded_signs else OTHER_SIGN_LEVEL

    @property
    def time_s(self) -> np.ndarray:
        """Time of each frame in seconds."""
        return np.arange(self.n_frames, dtype=np.float64) / self.fps


@dataclass
class BodyMotion:
    """Clean body motion in the body frame (mm), before any camera or detector.

    `hand_tips_mm` ([T, 2, 3], right then left) are not joints of the layout; they are drawn
    in the appearance crops so that wrist flexion shows. `head_rotation` [T, 3, 3] orients the
    face; `face_touch` [T] in [0, 1] is how far the habitual hand is raised to the face.
    `fist` [T, 2] (right, left) in [0, 1] is how tightly each hand is clenched by dystonia: no
    joint of the layout moves with it, so only the crops can show it.
    """

    joints_mm: np.ndarray
    hand_tips_mm: np.ndarray
    head_rotation: np.ndarray
    face_touch: np.ndarray
    face_touch_side: str
    fist: np.ndarray


def _episodes(
    rng: np.random.Generator,
    start_s: float,
    end_s: float,
    episode_s: tuple[float, float],
    gap_s: tuple[float, float],
) -> list[tuple[float, float]]:
    """Consecutive episodes filling [start_s, end_s] with brief gaps between them.

    The number of episodes is at most the window over `episode_s[0]`, so gaps take at most
    `gap_s[1] / episode_s[0]` of the window.
    """
    window = end_s - start_s
    count = max(1, int(window // rng.uniform(*episode_s)))
    gaps = rng.uniform(*gap_s, size=count - 1)
    lengths = (window - gaps.sum()) * rng.dirichlet(np.full(count, 6.0))
    episodes = []
    cursor = start_s
    for number in range(count):
        episodes.append((cursor, cursor + float(lengths[number])))
        cursor += float(lengths[number]) + (float(gaps[number]) if number < count - 1 else 0.0)
    return episodes


def draw_focal_labels(traits: SubjectTraits, rng: np.random.Generator) -> dict[str, str]:
    """Per-seizure yes/no for the focal signs: a subject's seizures are stereotyped.

    A sign of the subject's profile appears with probability 0.85, any other with 0.08.
    """
    return {
        sign: "yes" if rng.random() < (0.85 if traits.sign_profile[sign] else 0.08) else "no"
        for sign in FOCAL_SIGNS
    }


def plan_seizure(
    traits: SubjectTraits,
    seizure_id: str,
    duration_s: float,
    generalised: bool,
    focal_labels: dict[str, str],
    pre_ictal_s: float,
    post_ictal_s: float,
    difficulty: float,
    rng: np.random.Generator,
    graded_signs: tuple[str, ...] = GRADED_SIGNS,
    distal_share: float = 0.0,
    distal_rng: np.random.Generator | None = None,
) -> SeizurePlan:
    """The timeline of one seizure: onset, generalisation and every sign's occurrences.

    Dystonia and emotion (when the subject has them and the cohort is not a canary) fill most
    of the ictal period in episodes; the other focal signs take consecutive, non-overlapping
    parts of the focal phase (head version last, tonic before clonic); a generalised seizure
    ends with a tonic then a clonic phase from `generalisation_s` to the offset. `difficulty`
    sets the amplitude of the `graded_signs` (see `SeizurePlan.level`). Each dystonia episode
    stays in the hand (`proximal: false`: fist and wrist, no arm posture) with probability
    `distal_share`, drawn from `distal_rng` so that the rest of the plan is the same whatever
    the share (required when the share is above 0).
    """
    onset_s = pre_ictal_s
    offset_s = onset_s + duration_s
    n_frames = int(round((pre_ictal_s + duration_s + post_ictal_s) * traits.fps))
    generalisation_s = onset_s + duration_s * float(rng.uniform(0.5, 0.8)) if generalised else None
    labels = {
        "dystonia": "yes" if traits.has_dystonia else "no",
        "emotion": "yes" if traits.has_emotion else "no",
        "seizure_type": traits.seizure_type,
        "generalisation": "TCS" if generalised else "FOS",
        **focal_labels,
    }
    if generalised:
        labels["tonic"] = "yes"
        labels["clonic"] = "yes"
    signs: dict[str, list[Episode]] = {}
    if not traits.canary:
        if traits.has_dystonia:
            episodes = _episodes(
                rng, onset_s + rng.uniform(0.2, 0.8), offset_s - rng.uniform(0.1, 0.5), (8.0, 12.0), (0.5, 1.0)
            )
            signs["dystonia"] = [
                [start, end, {"side": traits.dystonia_side, "ramp_s": float(rng.uniform(0.8, 1.2))}]
                for start, end in episodes
            ]
            for episode in signs["dystonia"]:
                episode[2]["proximal"] = _proximal(distal_share, distal_rng)
        if traits.has_emotion:
            episodes = _episodes(
                rng, onset_s + rng.uniform(0.2, 0.8), offset_s - rng.uniform(0.1, 0.5), (6.0, 10.0), (0.4, 0.7)
            )
            signs["emotion"] = [[start, end, {"ramp_s": float(rng.uniform(0.4, 0.7))}] for start, end in episodes]

    focal_end_s = generalisation_s if generalisation_s is not None else offset_s
    focal = [
        sign
        for sign in FOCAL_SIGNS
        if focal_labels[sign] == "yes" and not (generalised and sign in ("tonic", "clonic"))
    ]
    order = [focal[index] for index in rng.permutation(len(focal))]
    if "head_version" in order:
        order.remove("head_version")
        order.append("head_version")
    if "tonic" in order and "clonic" in order and order.index("tonic") > order.index("clonic"):
        first, second = order.index("clonic"), order.index("tonic")
        order[first], order[second] = "tonic", "clonic"
    if order:
        window_start_s = onset_s + 0.5
        bounds = window_start_s + np.concatenate([[0.0], np.cumsum(rng.dirichlet(np.full(len(order), 4.0)))]) * (
            focal_end_s - window_start_s
        )
        for sign, segment_start, segment_end in zip(order, bounds[:-1], bounds[1:]):
            length = segment_end - segment_start
            start = float(segment_start + rng.uniform(0.0, 0.1) * length)
            end = float(segment_end - rng.uniform(0.0, 0.05) * length)
            signs[sign] = [[start, end, _focal_details(sign, traits, rng, bilateral=False)]]
    if generalisation_s is not None:
        tonic_end_s = generalisation_s + (offset_s - generalisation_s) * float(rng.uniform(0.3, 0.45))
        signs["tonic"] = [[generalisation_s, tonic_end_s, _focal_details("tonic", traits, rng, bilateral=True)]]
        signs["clonic"] = [[tonic_end_s, offset_s, _focal_details("clonic", traits, rng, bilateral=True)]]
    labels.update(side_labels(signs))
    return SeizurePlan(
        seizure_id=seizure_id,
        subject_id=traits.subject_id,
        fps=traits.fps,
        n_frames=n_frames,
        onset_s=float(onset_s),
        offset_s=float(offset_s),
        generalisation_s=None if generalisation_s is None else float(generalisation_s),
        labels=labels,
        signs={
            sign: [[float(start), float(end), details] for start, end, details in episodes]
            for sign, episodes in signs.items()
        },
        effect=float(1.0 - difficulty),
        difficulty=float(difficulty),
        canary=traits.canary,
        graded_signs=tuple(graded_signs),
    )


def _proximal(distal_share: float, distal_rng: np.random.Generator | None) -> bool:
    """Whether a dystonia episode postures the arm (True) or stays in the hand; no draw when
    every episode postures the arm, so a cohort without distal episodes is unchanged."""
    if distal_share <= 0.0:
        return True
    if distal_rng is None:
        raise ValueError("plan_seizure: a distal_share above 0 needs a distal_rng")
    return bool(distal_rng.random() >= distal_share)


SIDE_LABELS: dict[str, str] = {"dystonia_side": "dystonia", "head_version_side": "head_version"}
"""The lateralised labels of a seizure and the planted sign each reads its side from."""


def side_labels(signs: dict[str, list[Episode]]) -> dict[str, str]:
    """The side of each lateralised sign that the seizure plays: `left` / `right` of the
    patient's body (dystonic arm, direction the head turns to), `none` when the sign is not
    planted (or, for head version, plays bilaterally). Read from the planted episodes, so a
    label is never set on a seizure whose motion does not carry it.
    """
    sides = {}
    for label, sign in SIDE_LABELS.items():
        episode_sides = {details.get("side") for _, _, details in signs.get(sign, [])}
        sides[label] = episode_sides.pop() if len(episode_sides) == 1 and episode_sides <= {"left", "right"} else "none"
    return sides


def _focal_details(sign: str, traits: SubjectTraits, rng: np.random.Generator, bilateral: bool) -> dict[str, Any]:
    """Frequencies, sides and angles of one sign occurrence (lateralised by the focus side)."""
    contralateral = opposite_side(traits.focus_side)
    if sign == "hyperkinetic":
        return {"frequency_hz": float(rng.uniform(1.5, 3.0))}
    if sign == "automatisms":
        return {
            "side": traits.focus_side,
            "frequency_hz": float(rng.uniform(0.5, 1.6)),
            "oral_frequency_hz": float(rng.uniform(0.6, 1.6)),
        }
    if sign == "clonic":
        return {
            "side": "bilateral" if bilateral else contralateral,
            "frequency_start_hz": float(rng.uniform(2.9, 3.8)),
            "frequency_end_hz": float(rng.uniform(2.1, 2.6)),
        }
    if sign == "tonic":
        return {"side": "bilateral", "tremor_hz": float(rng.uniform(6.0, 9.0))}
    if sign == "head_version":
        return {"side": contralateral, "angle_deg": float(rng.uniform(40.0, 70.0))}
    raise ValueError(f"unknown focal sign {sign!r}")


def episode_envelope(
    time_s: np.ndarray, episodes: list[Episode] | list[tuple[float, float]], ramp_up_s: float, ramp_down_s: float
) -> np.ndarray:
    """1 inside the episodes, 0 outside, with smooth ramps that start at each start and end at each end."""
    envelope = np.zeros_like(time_s)
    for episode in episodes:
        start, end = float(episode[0]), float(episode[1])
        first, last = np.searchsorted(time_s, [start, end])
        if last <= first:
            continue
        local = time_s[first:last]
        rise = np.clip((local - start) / max(ramp_up_s, 1e-6), 0.0, 1.0)
        fall = np.clip((end - local) / max(ramp_down_s, 1e-6), 0.0, 1.0)
        level = np.minimum(rise * rise * (3 - 2 * rise), fall * fall * (3 - 2 * fall))
        envelope[first:last] = np.maximum(envelope[first:last], level)
    return envelope


def smooth_noise(rng: np.random.Generator, n_frames: int, fps: float, timescale_s: float) -> np.ndarray:
    """Zero-mean, unit-variance noise that varies over about `timescale_s`."""
    noise = gaussian_filter1d(rng.standard_normal(n_frames), sigma=max(timescale_s * fps, 0.5), mode="reflect")
    return noise / max(float(noise.std()), 1e-9)


def habit_bouts(
    rng: np.random.Generator, total_s: float, period_s: float, bout_s: float, quiet_from_s: float
) -> list[tuple[float, float]]:
    """Jittered periodic bouts of a habit; after `quiet_from_s` (post-ictal) most are dropped."""
    bouts = []
    cursor = float(rng.uniform(0.0, period_s))
    while cursor < total_s:
        length = bout_s * float(rng.uniform(0.8, 1.2))
        if cursor < quiet_from_s or rng.random() < 0.3:
            bouts.append((cursor, cursor + length))
        cursor += length + period_s * float(rng.uniform(0.7, 1.3))
    return bouts


def _phase(
    rng: np.random.Generator, time_s: np.ndarray, fps: float, frequency_hz: np.ndarray | float, jitter: float
) -> np.ndarray:
    """Phase (radians) of an oscillation whose frequency wanders by about `jitter` (relative)."""
    frequency = np.broadcast_to(np.asarray(frequency_hz, dtype=np.float64), time_s.shape)
    wander = 1.0 + jitter * smooth_noise(rng, time_s.size, fps, 2.0) if jitter > 0 else 1.0
    return 2 * np.pi * np.cumsum(frequency * wander) / fps + rng.uniform(0, 2 * np.pi)


def _rotation_x(angle_rad: np.ndarray) -> np.ndarray:
    cos, sin = np.cos(angle_rad), np.sin(angle_rad)
    rotation = np.zeros(angle_rad.shape + (3, 3))
    rotation[..., 0, 0] = 1.0
    rotation[..., 1, 1], rotation[..., 1, 2] = cos, -sin
    rotation[..., 2, 1], rotation[..., 2, 2] = sin, cos
    return rotation


def _rotation_y(angle_rad: np.ndarray) -> np.ndarray:
    cos, sin = np.cos(angle_rad), np.sin(angle_rad)
    rotation = np.zeros(angle_rad.shape + (3, 3))
    rotation[..., 1, 1] = 1.0
    rotation[..., 0, 0], rotation[..., 0, 2] = cos, sin
    rotation[..., 2, 0], rotation[..., 2, 2] = -sin, cos
    return rotation


def _rotation_z(angle_rad: np.ndarray) -> np.ndarray:
    cos, sin = np.cos(angle_rad), np.sin(angle_rad)
    rotation = np.zeros(angle_rad.shape + (3, 3))
    rotation[..., 2, 2] = 1.0
    rotation[..., 0, 0], rotation[..., 0, 1] = cos, -sin
    rotation[..., 1, 0], rotation[..., 1, 1] = sin, cos
    return rotation


def _apply(rotation: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """Rotate a fixed [3] vector (or per-frame [T, 3] vectors) by per-frame rotations [T, 3, 3]."""
    return np.einsum("tij,j->ti", rotation, vector) if vector.ndim == 1 else np.einsum("tij,tj->ti", rotation, vector)


def _rest_angles(traits: SubjectTraits, n_frames: int) -> dict[str, np.ndarray]:
    """Every joint angle (degrees) and shoulder elevation (mm) at the subject's resting posture."""
    angles = {name: np.full(n_frames, value, dtype=np.float64) for name, value in traits.rest_posture_deg.items()}
    for side in ("right", "left"):
        angles[f"{side}_shoulder_elevation_mm"] = np.zeros(n_frames)
    return angles


def simulate_body(traits: SubjectTraits, plan: SeizurePlan, rng: np.random.Generator) -> BodyMotion:
    """Clean 3D body motion for one recording: rest, breathing, habits and the plan's signs."""
    time_s = plan.time_s
    n_frames, fps = plan.n_frames, plan.fps
    angles = _rest_angles(traits, n_frames)
    offset_mm = np.zeros((n_frames, 3))

    restlessness = np.where(time_s >= plan.offset_s, 0.5, 1.0)
    for name in ("trunk_flexion", "trunk_lateral", "trunk_twist", "head_yaw", "head_pitch", "head_roll"):
        angles[name] += 1.5 * restlessness * smooth_noise(rng, n_frames, fps, 3.0)
    for side in ("right", "left"):
        for joint in ("shoulder_abduction", "shoulder_flexion", "elbow_flexion"):
            angles[f"{side}_{joint}"] += 2.5 * restlessness * smooth_noise(rng, n_frames, fps, 3.0)
    breathing = np.sin(2 * np.pi * rng.uniform(0.2, 0.33) * time_s + rng.uniform(0, 2 * np.pi))
    angles["trunk_flexion"] += 0.7 * breathing
    for side in ("right", "left"):
        angles[f"{side}_shoulder_elevation_mm"] += 3.0 * breathing

    habit = traits.body_habit
    bouts = habit_bouts(rng, time_s[-1], habit["period_s"], habit["bout_s"], plan.offset_s)
    bout = episode_envelope(time_s, bouts, 0.6, 0.6) * habit["reach"]
    side = habit["side"]
    reach = {"face": (45.0, 85.0, 25.0), "chest": (20.0, 55.0, 40.0)}[habit["target"]]
    rub = np.sin(2 * np.pi * habit["rub_frequency_hz"] * time_s)
    angles[f"{side}_shoulder_flexion"] += bout * reach[0]
    angles[f"{side}_elbow_flexion"] += bout * (reach[1] + 0.5 * habit["rub_amplitude_deg"] * np.roll(rub, 3))
    angles[f"{side}_shoulder_rotation"] += bout * (reach[2] + habit["rub_amplitude_deg"] * rub)
    face_touch = bout if habit["target"] == "face" else np.zeros(n_frames)

    for start, end, details in plan.signs.get("tonic", []):
        weight = plan.level("tonic") * episode_envelope(time_s, [[start, end]], 1.0, 0.5)
        tremor = np.sin(2 * np.pi * details["tremor_hz"] * time_s) * (1 + 0.3 * smooth_noise(rng, n_frames, fps, 0.5))
        for arm in ("right", "left"):
            for joint, target in TONIC_TARGET_DEG.items():
                name = f"{arm}_{joint}"
                angles[name] += weight * (target * rng.uniform(0.9, 1.1) - angles[name])
            angles[f"{arm}_elbow_flexion"] += weight * 1.5 * tremor
            angles[f"{arm}_shoulder_abduction"] += weight * 1.0 * np.roll(tremor, 2)
            angles[f"{arm}_shoulder_elevation_mm"] += weight * 20.0
        angles["head_pitch"] += weight * (-20.0 - angles["head_pitch"])
        angles["trunk_flexion"] += weight * (-6.0 - angles["trunk_flexion"])

    dystonic_jitter = 2.0 * smooth_noise(rng, n_frames, fps, 0.3)
    fist = np.zeros((n_frames, 2))
    for start, end, details in plan.signs.get("dystonia", []):
        hold = plan.level("dystonia") * episode_envelope(time_s, [[start, end]], details["ramp_s"], 0.4)
        arm = details["side"]
        angles[f"{arm}_wrist_flexion"] += hold * 60.0
        clench = plan.level("dystonia") * episode_envelope(time_s, [[start, end]], FIST_RAMP_S, FIST_RAMP_S)
        column = ("right", "left").index(arm)
        fist[:, column] = np.maximum(fist[:, column], clench)
        if not details.get("proximal", True):
            continue
        angles[f"{arm}_elbow_flexion"] += hold * (75.0 + dystonic_jitter)
        angles[f"{arm}_shoulder_elevation_mm"] += hold * 35.0
        angles[f"{arm}_shoulder_abduction"] -= hold * 10.0
        angles[f"{arm}_shoulder_rotation"] += hold * 25.0

    for start, end, details in plan.signs.get("hyperkinetic", []):
        level = plan.level("hyperkinetic") * episode_envelope(time_s, [[start, end]], 0.5, 0.5) * rng.uniform(0.8, 1.2)
        phase = _phase(rng, time_s, fps, details["frequency_hz"], 0.1)
        angles["trunk_twist"] += level * 18.0 * np.sin(phase)
        angles["trunk_lateral"] += level * 10.0 * np.sin(phase + 1.3)
        angles["trunk_flexion"] += level * (8.0 + 10.0 * np.sin(phase + 0.4))
        angles["head_pitch"] += level * 12.0 * np.sin(phase + 0.9)
        angles["head_yaw"] += level * 15.0 * np.sin(phase + 2.5)
        for arm, shift in (("right", 0.0), ("left", np.pi * 0.7)):
            angles[f"{arm}_shoulder_abduction"] += level * (15.0 + 25.0 * np.sin(phase + shift))
            angles[f"{arm}_shoulder_flexion"] += level * (20.0 + 30.0 * np.sin(phase + 2.0 + shift))
        offset_mm += level[:, None] * np.stack(
            [40.0 * np.sin(phase + 0.3), 25.0 * np.sin(2 * phase), 50.0 * np.sin(phase + 1.7)], axis=1
        )

    for start, end, details in plan.signs.get("automatisms", []):
        level = plan.level("automatisms") * episode_envelope(time_s, [[start, end]], 0.7, 0.7)
        phase = _phase(rng, time_s, fps, details["frequency_hz"], 0.06)
        arm = details["side"]
        angles[f"{arm}_elbow_flexion"] += level * (5.0 + 20.0 * np.sin(phase))
        angles[f"{arm}_shoulder_rotation"] += level * 22.0 * np.sin(phase + np.pi / 2)
        angles[f"{arm}_wrist_flexion"] += level * 25.0 * np.sin(phase + 1.0)

    for start, end, details in plan.signs.get("clonic", []):
        level = plan.level("clonic") * episode_envelope(time_s, [[start, end]], 0.3, 0.3)
        progress = np.clip((time_s - start) / max(end - start, 1e-6), 0.0, 1.0)
        first_hz, last_hz = details["frequency_start_hz"], details["frequency_end_hz"]
        frequency = first_hz + (last_hz - first_hz) * progress
        cycles = _phase(rng, time_s, fps, frequency, 0.0) / (2 * np.pi)
        jerk = np.exp(-6.0 * (cycles % 1.0)) - 1.0 / 6.0
        arms = ("right", "left") if details["side"] == "bilateral" else (details["side"],)
        for arm in arms:
            angles[f"{arm}_elbow_flexion"] += level * 22.0 * jerk
            angles[f"{arm}_shoulder_abduction"] += level * 10.0 * jerk
        if details["side"] == "bilateral":
            angles["head_pitch"] += level * 8.0 * jerk
            angles["trunk_flexion"] += level * 4.0 * jerk
        else:
            angles["head_roll"] += level * 6.0 * SIDE_SIGN[details["side"]] * jerk

    for start, end, details in plan.signs.get("head_version", []):
        level = plan.level("head_version") * episode_envelope(time_s, [[start, end]], 1.5, 0.8)
        towards = SIDE_SIGN[details["side"]]
        angles["head_yaw"] += level * towards * details["angle_deg"]
        angles["head_roll"] += level * towards * 15.0
        angles["trunk_twist"] += level * towards * 10.0

    for arm in ("right", "left"):
        angles[f"{arm}_elbow_flexion"] = np.clip(angles[f"{arm}_elbow_flexion"], 0.0, 150.0)
        angles[f"{arm}_wrist_flexion"] = np.clip(angles[f"{arm}_wrist_flexion"], -40.0, 80.0)
    return _forward_kinematics(traits, angles, offset_mm, face_touch, side, fist)


def _forward_kinematics(
    traits: SubjectTraits,
    angles: dict[str, np.ndarray],
    offset_mm: np.ndarray,
    face_touch: np.ndarray,
    face_touch_side: str,
    fist: np.ndarray,
) -> BodyMotion:
    """Joint positions from joint angles: trunk about the spine base, head and arms on the trunk."""
    lengths = traits.segment_lengths_mm
    n_frames = offset_mm.shape[0]
    radians = {name: np.deg2rad(value) for name, value in angles.items() if not name.endswith("_mm")}
    trunk = (
        _rotation_y(radians["trunk_twist"])
        @ _rotation_z(-radians["trunk_lateral"])
        @ _rotation_x(radians["trunk_flexion"])
    )
    joints = np.zeros((n_frames, len(BODY_JOINTS), 3))
    hand_tips = np.zeros((n_frames, 2, 3))
    neck = _apply(trunk, np.array([0.0, lengths["trunk"], 0.0]))
    joints[:, JOINT_INDEX["neck"]] = neck
    head_rotation = (
        trunk
        @ _rotation_y(radians["head_yaw"])
        @ _rotation_x(radians["head_pitch"])
        @ _rotation_z(-radians["head_roll"])
    )
    head_offset = np.array([0.0, lengths["neck"], lengths["head_forward"]])
    joints[:, JOINT_INDEX["head"]] = neck + _apply(head_rotation, head_offset)
    down = np.array([0.0, -1.0, 0.0])
    for number, side in enumerate(("right", "left")):
        sign = SIDE_SIGN[side]
        elevation = angles[f"{side}_shoulder_elevation_mm"]
        shoulder_local = np.stack(
            [
                np.full(n_frames, sign * lengths["shoulder_half_width"]) - sign * 0.25 * elevation,
                -lengths["shoulder_drop"] + elevation,
                np.zeros(n_frames),
            ],
            axis=1,
        )
        shoulder = neck + _apply(trunk, shoulder_local)
        arm = (
            trunk
            @ _rotation_z(sign * radians[f"{side}_shoulder_abduction"])
            @ _rotation_x(-radians[f"{side}_shoulder_flexion"])
            @ _rotation_y(-sign * radians[f"{side}_shoulder_rotation"])
        )
        elbow = shoulder + _apply(arm, down * lengths["upper_arm"])
        forearm = arm @ _rotation_x(-radians[f"{side}_elbow_flexion"])
        wrist = elbow + _apply(forearm, down * lengths["forearm"])
        hand = forearm @ _rotation_x(-radians[f"{side}_wrist_flexion"])
        hand_tips[:, number] = wrist + _apply(hand, down * lengths["hand"])
        joints[:, JOINT_INDEX[f"{side}_shoulder"]] = shoulder
        joints[:, JOINT_INDEX[f"{side}_elbow"]] = elbow
        joints[:, JOINT_INDEX[f"{side}_wrist"]] = wrist
        joints[:, JOINT_INDEX[f"{side}_hip"]] = [sign * lengths["hip_half_width"], -lengths["hip_drop"], 0.0]
    joints += offset_mm[:, None, :]
    hand_tips += offset_mm[:, None, :]
    return BodyMotion(
        joints_mm=joints,
        hand_tips_mm=hand_tips,
        head_rotation=head_rotation,
        face_touch=face_touch,
        face_touch_side=face_touch_side,
        fist=fist,
    )


def elbow_angle_deg(joints: np.ndarray, side: str) -> np.ndarray:
    """Interior elbow angle (degrees, 180 = straight arm) of one side from [T, 11, 3|2] joints."""
    shoulder = joints[:, JOINT_INDEX[f"{side}_shoulder"]]
    elbow = joints[:, JOINT_INDEX[f"{side}_elbow"]]
    wrist = joints[:, JOINT_INDEX[f"{side}_wrist"]]
    upper, lower = shoulder - elbow, wrist - elbow
    cosine = np.sum(upper * lower, axis=-1) / (np.linalg.norm(upper, axis=-1) * np.linalg.norm(lower, axis=-1))
    return np.rad2deg(np.arccos(np.clip(cosine, -1.0, 1.0)))
