"""Cohort spec validation and the subjects of a synthetic cohort."""

import json

import numpy as np
import pytest

from semiology.layouts import get_layout
from semiology.synthetic import CohortSpec, make_subjects
from semiology.synthetic.face import FACE_LANDMARKS
from semiology.synthetic.motion import BODY_JOINTS
from semiology.synthetic.spec import FPS_CHOICES


def test_joint_orders_are_those_of_the_layouts() -> None:
    assert BODY_JOINTS == tuple(get_layout("upper_body_11").joint_names)
    assert FACE_LANDMARKS == tuple(get_layout("face_23").joint_names)
    assert (len(BODY_JOINTS), len(FACE_LANDMARKS)) == (11, 23)
    assert BODY_JOINTS.index("right_wrist") == 4 and BODY_JOINTS.index("spine_base") == 10
    assert FACE_LANDMARKS.index("right_brow_inner") == 2 and FACE_LANDMARKS.index("mouth_bottom") == 22


def test_default_subjects_have_the_planted_counts() -> None:
    subjects = make_subjects(CohortSpec())
    assert [subject.subject_id for subject in subjects] == [f"P{number:02d}" for number in range(1, 20)]
    counts = [subject.n_seizures for subject in subjects]
    assert sum(counts) == 38 and min(counts) >= 1 and max(counts) <= 6
    assert sum(subject.has_dystonia for subject in subjects) == 9
    assert sum(subject.has_emotion for subject in subjects) == 9
    assert sum(subject.has_dystonia and subject.has_emotion for subject in subjects) == 2
    assert {subject.fps for subject in subjects} <= set(FPS_CHOICES)
    assert all(subject.seizure_type in ("TLE", "FLE") for subject in subjects)


@pytest.mark.parametrize("seed", [0, 1, 2, 11])
def test_dystonic_arms_are_balanced_and_only_the_sides_change(seed: int) -> None:
    balanced = make_subjects(CohortSpec(seed=seed))
    sides = [subject.dystonia_side for subject in balanced if subject.has_dystonia]
    assert len(sides) == 9 and abs(sides.count("left") - sides.count("right")) == 1
    coin_tosses = make_subjects(CohortSpec(seed=seed, balance_dystonia_side=False))
    for subject, unbalanced in zip(balanced, coin_tosses, strict=True):
        same = {**subject.to_json(), "focus_side": None} == {**unbalanced.to_json(), "focus_side": None}
        assert same, "balancing the sides must leave every other trait as it was"
        if not subject.has_dystonia:
            assert subject.focus_side == unbalanced.focus_side


def test_the_seed_zero_coin_tosses_put_every_dystonic_arm_on_one_side() -> None:
    """Why the sides are balanced by default: left to coin tosses, the demo's own seed draws
    nine left arms, and no right-arm dystonia to learn from."""
    coin_tosses = make_subjects(CohortSpec(seed=0, balance_dystonia_side=False))
    assert {subject.dystonia_side for subject in coin_tosses if subject.has_dystonia} == {"left"}


def test_subjects_are_deterministic_and_differ_from_each_other() -> None:
    first, second = make_subjects(CohortSpec(seed=5)), make_subjects(CohortSpec(seed=5))
    assert [subject.to_json() for subject in first] == [subject.to_json() for subject in second]
    other = make_subjects(CohortSpec(seed=6))
    assert [subject.to_json() for subject in first] != [subject.to_json() for subject in other]
    distances = [subject.camera["distance_mm"] for subject in first]
    assert 1800 <= min(distances) and max(distances) <= 2600 and np.std(distances) > 50
    upper_arms = np.array([subject.segment_lengths_mm["upper_arm"] for subject in first])
    assert np.all((upper_arms >= 270) & (upper_arms <= 330)) and np.std(upper_arms) > 3
    json.dumps([subject.to_json() for subject in first])


def test_canary_subjects_have_balanced_labels_and_stronger_identity() -> None:
    spec = CohortSpec(n_subjects=10, n_seizures=20, canary=True)
    subjects = make_subjects(spec)
    assert sum(subject.has_dystonia for subject in subjects) == 5
    assert sum(subject.has_emotion for subject in subjects) == 5
    normal = make_subjects(
        CohortSpec(n_subjects=10, n_seizures=20, n_dystonia_subjects=4, n_emotion_subjects=4, n_both_subjects=1)
    )
    for posture in ("head_roll", "head_yaw", "right_elbow_flexion"):
        canary_spread = np.std([subject.rest_posture_deg[posture] for subject in subjects])
        normal_spread = np.std([subject.rest_posture_deg[posture] for subject in normal])
        assert canary_spread > normal_spread
    assert min(subject.body_habit["rub_amplitude_deg"] for subject in subjects) > max(
        subject.body_habit["rub_amplitude_deg"] for subject in normal
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"n_seizures": 200}, "n_seizures"),
        ({"n_seizures": 5}, "n_seizures"),
        ({"seizures_per_subject": (3, 2)}, "seizures_per_subject"),
        ({"n_both_subjects": 10}, "n_both_subjects"),
        ({"n_dystonia_subjects": 15, "n_emotion_subjects": 15, "n_both_subjects": 2}, "n_dystonia_subjects"),
        ({"n_emotion_subjects": -1}, "n_emotion_subjects"),
        ({"fps_range": (10.0, 20.0)}, "fps_range"),
        ({"seizure_duration_s": (60.0, 20.0)}, "seizure_duration_s"),
        ({"difficulty": 1.5}, "difficulty"),
        ({"pre_ictal_s": 0.0}, "pre_ictal_s"),
        ({"crop_size_px": 2}, "crop_size_px"),
        ({"graded_signs": ("dystonia", "tremor")}, "graded_signs"),
        (
            {"n_subjects": 0, "n_seizures": 0, "n_dystonia_subjects": 0, "n_emotion_subjects": 0, "n_both_subjects": 0},
            "n_subjects",
        ),
    ],
)
def test_inconsistent_specs_name_the_wrong_field(overrides: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        CohortSpec(**overrides)
