"""What synthetic cohort to generate: `CohortSpec`, its validation, and the signs it can plant.

A leaf of the synthetic package (it imports none of its modules), so that the experiment
schema can hold a cohort description without loading the generator, and the generator's
modules can all read it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

FPS_CHOICES: tuple[float, ...] = (25.0, 29.97, 30.0)
"""Frame rates of the recordings: PAL video, NTSC video and a Kinect-like sensor."""

FOCAL_SIGNS: tuple[str, ...] = ("hyperkinetic", "automatisms", "clonic", "tonic", "head_version")
"""The per-seizure signs besides dystonia and emotion, in the order of their labels."""

PLANTED_SIGNS: tuple[str, ...] = ("dystonia", "emotion", *FOCAL_SIGNS)
"""Every sign the generator can plant."""

SIGN_TERMS: dict[str, str] = {
    "dystonia": "dystonic_posture",
    "emotion": "fearful_face",
    "hyperkinetic": "hyperkinetic",
    "automatisms": "manual_automatisms",
    "clonic": "clonic",
    "tonic": "tonic",
    "head_version": "versive_head_turn",
}
"""The label store's sign term (migration 0002) of each sign the generator plants: the term its
spans carry in a record's `meta["sign_spans"]`, and the review demo's annotators use."""

GRADED_SIGNS: tuple[str, ...] = ("dystonia", "emotion")
"""The signs whose amplitude difficulty grades by default: those of the dystonia/emotion study."""


@dataclass(frozen=True)
class CohortSpec:
    """What cohort to generate; validated on construction (a ValueError names the field at fault).

    `difficulty` in [0, 1] scales the amplitude of the `graded_signs` by (1 - difficulty) and
    raises keypoint and landmark noise and occlusion frequency; at 1 no graded sign remains. The
    other signs play at a fixed amplitude (`motion.OTHER_SIGN_LEVEL`) whatever the difficulty:
    they confound the graded ones and must not fade as the cohort gets harder. A study of, say,
    clonic jerks grades them with `graded_signs: [clonic]`.
    `balance_dystonia_side` puts half of the dystonic subjects' dystonia on each arm (the odd
    one at random); without it each side is a coin toss per subject.
    `appearance_cues` draws, in the crops only, evidence that no keypoint carries: the dystonic
    hand clenched into a fist (body crops) and forehead furrows of the fear-like expression (face
    crops), each at the amplitude of its sign (so graded by difficulty like the sign). Without
    them the crops show nothing the keypoints lack, and an appearance teacher cannot know more
    than a keypoint student. `distal_dystonia_share` is the share of dystonia episodes that stay
    in the hand (fist and wrist only, no arm posture): those windows are visible in the crops and
    invisible in every keypoint, the regime in which distillation could only help by transferring
    appearance knowledge (0 by default: every episode postures the arm). `canary` builds the
    leakage canary described in the module docstring (then the dystonia/emotion counts are
    neither used nor checked: half the subjects, at random, get each label).
    """

    n_subjects: int = 19
    n_seizures: int = 38
    seizures_per_subject: tuple[int, int] = (1, 6)
    n_dystonia_subjects: int = 9
    n_emotion_subjects: int = 9
    n_both_subjects: int = 2
    fps_range: tuple[float, float] = (25.0, 30.0)
    seizure_duration_s: tuple[float, float] = (20.0, 120.0)
    pre_ictal_s: float = 10.0
    post_ictal_s: float = 10.0
    difficulty: float = 0.3
    graded_signs: tuple[str, ...] = GRADED_SIGNS
    balance_dystonia_side: bool = True
    appearance_cues: bool = True
    distal_dystonia_share: float = 0.0
    canary: bool = False
    crop_size_px: int = 32
    seed: int = 0

    def __post_init__(self) -> None:
        problems = _spec_problems(self)
        if problems:
            raise ValueError("invalid CohortSpec: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (tuples become lists)."""
        return {item.name: _jsonable(getattr(self, item.name)) for item in fields(self)}


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _planted_count_problems(spec: CohortSpec) -> list[str]:
    """Inconsistent dystonia/emotion counts (unused, hence unchecked, in a canary cohort)."""
    problems = []
    for name in ("n_dystonia_subjects", "n_emotion_subjects", "n_both_subjects"):
        value = getattr(spec, name)
        if not 0 <= value <= spec.n_subjects:
            problems.append(f"{name} must lie in [0, n_subjects={spec.n_subjects}], got {value}")
    if spec.n_both_subjects > min(spec.n_dystonia_subjects, spec.n_emotion_subjects):
        problems.append(
            f"n_both_subjects ({spec.n_both_subjects}) must not exceed n_dystonia_subjects "
            f"({spec.n_dystonia_subjects}) or n_emotion_subjects ({spec.n_emotion_subjects})"
        )
    if spec.n_dystonia_subjects + spec.n_emotion_subjects - spec.n_both_subjects > spec.n_subjects:
        problems.append(
            "n_dystonia_subjects + n_emotion_subjects - n_both_subjects must not exceed n_subjects "
            f"({spec.n_dystonia_subjects} + {spec.n_emotion_subjects} - {spec.n_both_subjects} > {spec.n_subjects})"
        )
    return problems


def _spec_problems(spec: CohortSpec) -> list[str]:
    """Every inconsistency of a spec, each naming its field."""
    problems = []
    if spec.n_subjects < 1:
        problems.append(f"n_subjects must be at least 1, got {spec.n_subjects}")
    low, high = spec.seizures_per_subject
    if not 1 <= low <= high:
        problems.append(f"seizures_per_subject must satisfy 1 <= min <= max, got {spec.seizures_per_subject}")
    elif not spec.n_subjects * low <= spec.n_seizures <= spec.n_subjects * high:
        problems.append(
            f"n_seizures must lie in [n_subjects*{low}, n_subjects*{high}] = "
            f"[{spec.n_subjects * low}, {spec.n_subjects * high}], got {spec.n_seizures}"
        )
    if not spec.canary:
        problems += _planted_count_problems(spec)
    fps_low, fps_high = spec.fps_range
    if not 0 < fps_low <= fps_high:
        problems.append(f"fps_range must satisfy 0 < min <= max, got {spec.fps_range}")
    elif not any(fps_low <= fps <= fps_high for fps in FPS_CHOICES):
        problems.append(f"fps_range {spec.fps_range} contains none of the recording frame rates {FPS_CHOICES}")
    duration_low, duration_high = spec.seizure_duration_s
    if not 5.0 <= duration_low <= duration_high:
        problems.append(f"seizure_duration_s must satisfy 5 <= min <= max, got {spec.seizure_duration_s}")
    for name in ("pre_ictal_s", "post_ictal_s"):
        if getattr(spec, name) < 2.0:
            problems.append(f"{name} must be at least 2 s, got {getattr(spec, name)}")
    if not 0.0 <= spec.difficulty <= 1.0:
        problems.append(f"difficulty must lie in [0, 1], got {spec.difficulty}")
    unknown = [sign for sign in spec.graded_signs if sign not in PLANTED_SIGNS]
    if unknown:
        problems.append(f"graded_signs has unknown signs {unknown}; known: {', '.join(PLANTED_SIGNS)}")
    if not 0.0 <= spec.distal_dystonia_share <= 1.0:
        problems.append(f"distal_dystonia_share must lie in [0, 1], got {spec.distal_dystonia_share}")
    if spec.crop_size_px < 8:
        problems.append(f"crop_size_px must be at least 8, got {spec.crop_size_px}")
    if spec.seed < 0:
        problems.append(f"seed must be non-negative, got {spec.seed}")
    return problems
