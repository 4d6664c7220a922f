"""Synthetic subjects: who has which planted sign, and the idiosyncrasies that make each one recognisable.

Every subject differs in body proportions, resting posture, camera placement, face shape and
a habitual movement. These traits are present in all of a subject's recordings, whatever the
labels, so a split that puts one subject's seizures on both sides can learn identity instead of
semiology. Randomness comes from a fixed seed tree (`seeded_rng`), so a spec always yields the
same subjects.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from semiology.synthetic.spec import FOCAL_SIGNS, FPS_CHOICES, CohortSpec

SIGN_PROBABILITY: dict[str, dict[str, float]] = {
    "TLE": {"hyperkinetic": 0.10, "automatisms": 0.80, "clonic": 0.15, "tonic": 0.10, "head_version": 0.30},
    "FLE": {"hyperkinetic": 0.75, "automatisms": 0.20, "clonic": 0.20, "tonic": 0.45, "head_version": 0.35},
}
"""How likely a subject's seizures show each focal sign, given the epilepsy type."""

CANARY_IDENTITY_GAIN = 2.5
"""How much larger subject-specific posture and habits are in a canary cohort."""


def seeded_rng(seed: int, *key: int) -> np.random.Generator:
    """The generator at one node of the cohort's seed tree.

    Keys: `(0,)` cohort-level draws, `(1, s)` traits of subject s, `(2, s, k)` seizure k of
    subject s, `(3,)` the balanced sides of dystonia. Each node is an independent child of
    `SeedSequence(seed)`, so adding seizures or subjects never changes the draws of the others.
    """
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=tuple(int(part) for part in key)))


def opposite_side(side: str) -> str:
    """'left' for 'right' and vice versa."""
    return {"left": "right", "right": "left"}[side]


@dataclass(frozen=True)
class SubjectTraits:
    """One synthetic subject: planted labels and the idiosyncrasies shared by all its seizures.

    Angles are in degrees, body lengths in millimetres, face measures in pixels of the face
    camera. `focus_side` is the hemisphere of the seizure focus: dystonia, head version and
    focal clonic jerks appear on the opposite side, automatisms on the same side.
    """

    subject_id: str
    index: int
    fps: float
    n_seizures: int
    has_dystonia: bool
    has_emotion: bool
    seizure_type: str
    focus_side: str
    sign_profile: dict[str, bool]
    segment_lengths_mm: dict[str, float]
    rest_posture_deg: dict[str, float]
    camera: dict[str, float]
    face_shape_px: dict[str, float]
    body_habit: dict[str, Any]
    face_habit: dict[str, Any]
    expressivity: float
    blink_period_s: float
    canary: bool

    @property
    def dystonia_side(self) -> str:
        """The arm that takes the dystonic posture: contralateral to the focus."""
        return opposite_side(self.focus_side)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able copy of every trait."""
        return asdict(self)


def _seizure_counts(rng: np.random.Generator, spec: CohortSpec) -> list[int]:
    """Seizures per subject within `spec.seizures_per_subject`, summing to `spec.n_seizures`."""
    low, high = spec.seizures_per_subject
    counts = [low] * spec.n_subjects
    for _ in range(spec.n_seizures - low * spec.n_subjects):
        open_subjects = [index for index, count in enumerate(counts) if count < high]
        counts[int(rng.choice(open_subjects))] += 1
    return counts


def _planted_assignment(rng: np.random.Generator, spec: CohortSpec) -> tuple[list[bool], list[bool]]:
    """Which subjects have dystonia and which have emotional signs.

    Normally exactly the counts of the spec, with `n_both_subjects` in both groups. In a
    canary cohort both labels are independent balanced coin tosses per subject (half yes).
    """
    n = spec.n_subjects
    if spec.canary:
        dystonia = np.zeros(n, dtype=bool)
        dystonia[rng.permutation(n)[: n // 2]] = True
        emotion = np.zeros(n, dtype=bool)
        emotion[rng.permutation(n)[: n // 2]] = True
        return dystonia.tolist(), emotion.tolist()
    order = rng.permutation(n)
    n_dystonia_only = spec.n_dystonia_subjects - spec.n_both_subjects
    n_emotion_only = spec.n_emotion_subjects - spec.n_both_subjects
    both, rest = order[: spec.n_both_subjects], order[spec.n_both_subjects :]
    dystonia_only, emotion_only = rest[:n_dystonia_only], rest[n_dystonia_only : n_dystonia_only + n_emotion_only]
    dystonia = np.zeros(n, dtype=bool)
    emotion = np.zeros(n, dtype=bool)
    dystonia[np.concatenate([both, dystonia_only])] = True
    emotion[np.concatenate([both, emotion_only])] = True
    return dystonia.tolist(), emotion.tolist()


def _balanced_dystonia_sides(rng: np.random.Generator, dystonia: list[bool]) -> dict[int, str]:
    """The dystonic arm of each dystonic subject, half of them on each side (an odd one at random).

    Drawn from a node of the seed tree of its own, so every other trait stays as it was. Left
    to independent coin tosses, a cohort of 9 dystonic subjects has them all on one side about
    once in 256 draws, and a keypoint model then never sees the other arm's dystonia.
    """
    subjects = [index for index, has in enumerate(dystonia) if has]
    n_left = len(subjects) // 2 + int(len(subjects) % 2 == 1 and rng.random() < 0.5)
    sides = ["left"] * n_left + ["right"] * (len(subjects) - n_left)
    return {subject: sides[int(position)] for subject, position in zip(subjects, rng.permutation(len(subjects)), strict=True)}


def _fps_choices(spec: CohortSpec) -> tuple[float, ...]:
    """The standard frame rates inside `spec.fps_range` (validated to be non-empty)."""
    low, high = spec.fps_range
    return tuple(fps for fps in FPS_CHOICES if low <= fps <= high)


def _draw_traits(rng: np.random.Generator, canary: bool) -> dict[str, Any]:
    """Body, camera, face and habit traits of one subject (labels are assigned elsewhere)."""
    gain = CANARY_IDENTITY_GAIN if canary else 1.0

    def spread(centre: float, half_width: float) -> float:
        return float(centre + gain * rng.uniform(-half_width, half_width))

    segment_lengths_mm = {
        name: float(length * rng.uniform(0.9, 1.1))
        for name, length in (
            ("trunk", 470.0),
            ("neck", 190.0),
            ("head_forward", 40.0),
            ("shoulder_half_width", 180.0),
            ("shoulder_drop", 35.0),
            ("upper_arm", 300.0),
            ("forearm", 265.0),
            ("hand", 185.0),
            ("hip_half_width", 105.0),
            ("hip_drop", 70.0),
        )
    }
    rest_posture_deg = {
        "trunk_flexion": spread(3.0, 5.0),
        "trunk_lateral": spread(0.0, 4.0),
        "trunk_twist": spread(0.0, 4.0),
        "head_yaw": spread(0.0, 9.0),
        "head_pitch": spread(5.0, 8.0),
        "head_roll": spread(0.0, 8.0),
    }
    for side in ("right", "left"):
        rest_posture_deg[f"{side}_shoulder_abduction"] = float(np.clip(spread(18.0, 10.0), 0.0, 80.0))
        rest_posture_deg[f"{side}_shoulder_flexion"] = float(np.clip(spread(12.0, 10.0), -10.0, 80.0))
        rest_posture_deg[f"{side}_shoulder_rotation"] = float(np.clip(spread(35.0, 15.0), 0.0, 90.0))
        rest_posture_deg[f"{side}_elbow_flexion"] = float(np.clip(spread(45.0, 22.0), 5.0, 120.0))
        rest_posture_deg[f"{side}_wrist_flexion"] = float(np.clip(spread(10.0, 10.0), -20.0, 60.0))
    camera = {
        "distance_mm": float(rng.uniform(1800.0, 2600.0)),
        "tilt_deg": float(rng.uniform(10.0, 35.0)),
        "azimuth_deg": float(rng.uniform(-15.0, 15.0)),
        "roll_deg": float(rng.uniform(-3.0, 3.0)),
        "lateral_offset_mm": float(rng.uniform(-250.0, 250.0)),
        "target_height_mm": float(rng.uniform(200.0, 350.0)),
    }
    face_shape_px = {
        "face_width": float(rng.uniform(112.0, 128.0)),
        "eye_half_spacing": spread(28.0, 3.0),
        "eye_half_width": spread(11.5, 1.5),
        "eye_upper": spread(5.0, 1.0),
        "eye_lower": spread(3.8, 0.7),
        "brow_height": spread(17.5, 3.5),
        "brow_arch": spread(2.5, 1.5),
        "nose_length": spread(30.0, 4.0),
        "mouth_drop": spread(53.0, 5.0),
        "mouth_half_width": spread(21.0, 4.0),
        "lip_upper": spread(3.2, 0.8),
        "lip_lower": spread(4.0, 1.0),
    }
    body_habit = {
        "side": str(rng.choice(["left", "right"])),
        "target": str(rng.choice(["face", "chest"])),
        "period_s": float(rng.uniform(6.0, 12.0) if canary else rng.uniform(15.0, 40.0)),
        "bout_s": float(rng.uniform(3.0, 5.0) if canary else rng.uniform(2.0, 4.5)),
        "rub_frequency_hz": float(rng.uniform(2.2, 3.5)),
        "rub_amplitude_deg": float(rng.uniform(15.0, 25.0) if canary else rng.uniform(6.0, 14.0)),
        "reach": float(rng.uniform(0.7, 1.0)),
    }
    face_habit = {
        "kind": str(rng.choice(["brow_raise", "lip_press"])),
        "period_s": float(rng.uniform(3.0, 6.0) if canary else rng.uniform(6.0, 20.0)),
        "bout_s": float(rng.uniform(0.6, 1.2)),
        "amplitude_px": float(rng.uniform(4.0, 7.0) if canary else rng.uniform(1.5, 3.5)),
    }
    return {
        "segment_lengths_mm": segment_lengths_mm,
        "rest_posture_deg": rest_posture_deg,
        "camera": camera,
        "face_shape_px": face_shape_px,
        "body_habit": body_habit,
        "face_habit": face_habit,
        "expressivity": float(rng.uniform(0.8, 1.2)),
        "blink_period_s": float(rng.uniform(2.5, 6.0)),
    }


def make_subjects(spec: CohortSpec) -> list[SubjectTraits]:
    """The subjects of a cohort: seizure counts, planted labels, epilepsy type and traits.

    Deterministic in `spec`. Outside a canary cohort, temporal-lobe epilepsy is more likely for
    subjects with dystonia or emotional signs; in a canary cohort the type is independent of
    the (random) dystonia and emotion labels, so no planted sign carries their information.
    """
    cohort_rng = seeded_rng(spec.seed, 0)
    counts = _seizure_counts(cohort_rng, spec)
    dystonia, emotion = _planted_assignment(cohort_rng, spec)
    balanced_sides = (
        _balanced_dystonia_sides(seeded_rng(spec.seed, 3), dystonia)
        if spec.balance_dystonia_side and not spec.canary
        else {}
    )
    fps_choices = _fps_choices(spec)
    width = max(2, len(str(spec.n_subjects)))
    subjects = []
    for index in range(spec.n_subjects):
        subject_id = f"P{index + 1:0{width}d}"
        fps = float(fps_choices[int(cohort_rng.integers(len(fps_choices)))])
        if spec.canary:
            p_tle = 0.5
        else:
            p_tle = 0.8 if (dystonia[index] or emotion[index]) else 0.35
        seizure_type = "TLE" if cohort_rng.random() < p_tle else "FLE"
        rng = seeded_rng(spec.seed, 1, index)
        drawn_focus_side = str(rng.choice(["left", "right"]))
        focus_side = opposite_side(balanced_sides[index]) if index in balanced_sides else drawn_focus_side
        sign_profile = {sign: bool(rng.random() < SIGN_PROBABILITY[seizure_type][sign]) for sign in FOCAL_SIGNS}
        subjects.append(
            SubjectTraits(
                subject_id=subject_id,
                index=index,
                fps=fps,
                n_seizures=counts[index],
                has_dystonia=bool(dystonia[index]),
                has_emotion=bool(emotion[index]),
                seizure_type=seizure_type,
                focus_side=focus_side,
                sign_profile=sign_profile,
                canary=spec.canary,
                **_draw_traits(rng, spec.canary),
            )
        )
    return subjects
