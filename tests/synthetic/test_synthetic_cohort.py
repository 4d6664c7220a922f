"""Synthetic recordings: determinism, contract, planted signs, difficulty, canary and the default cohort."""

import json
from collections import defaultdict
from dataclasses import replace

import numpy as np
import pytest

from semiology.camera import CameraIntrinsics, project
from semiology.records import SeizureRecord
from semiology.synthetic import CohortSpec, make_cohort, make_subjects, simulate_record
from semiology.synthetic.face import LANDMARK_INDEX, simulate_face
from semiology.synthetic.motion import JOINT_INDEX, OTHER_SIGN_LEVEL, elbow_angle_deg, plan_seizure, simulate_body
from semiology.synthetic.render import OCCLUDER_LEVEL
from semiology.synthetic.spec import FOCAL_SIGNS, FPS_CHOICES, PLANTED_SIGNS, SIGN_TERMS
from semiology.synthetic.subjects import opposite_side

SMALL = CohortSpec(
    n_subjects=4,
    n_seizures=6,
    n_dystonia_subjects=2,
    n_emotion_subjects=2,
    n_both_subjects=1,
    seizure_duration_s=(20.0, 30.0),
    difficulty=0.0,
    graded_signs=PLANTED_SIGNS,
    seed=7,
)
"""Every sign graded: full amplitude here, none at difficulty 1 (`small_without_signal`)."""
LABEL_VALUES = {
    "dystonia": {"yes", "no"},
    "emotion": {"yes", "no"},
    "seizure_type": {"FLE", "TLE"},
    "generalisation": {"FOS", "TCS"},
    **{sign: {"yes", "no"} for sign in FOCAL_SIGNS},
    "dystonia_side": {"left", "right", "none"},
    "head_version_side": {"left", "right", "none"},
}


@pytest.fixture(scope="module")
def small() -> list[SeizureRecord]:
    return make_cohort(SMALL)


@pytest.fixture(scope="module")
def small_without_signal() -> list[SeizureRecord]:
    return make_cohort(replace(SMALL, difficulty=1.0))


@pytest.fixture(scope="module")
def default_cohort() -> list[SeizureRecord]:
    return make_cohort(CohortSpec(), workers=2)


def _time_s(record: SeizureRecord) -> np.ndarray:
    return np.arange(record.num_frames) / record.fps


def _during(record: SeizureRecord, sign: str, skip_start_s: float, skip_end_s: float) -> np.ndarray:
    time_s = _time_s(record)
    mask = np.zeros(record.num_frames, dtype=bool)
    for start, end, _ in record.meta["signs"].get(sign, []):
        mask |= (time_s >= start + skip_start_s) & (time_s < end - skip_end_s)
    return mask


def _ictal(record: SeizureRecord) -> np.ndarray:
    time_s = _time_s(record)
    return (time_s >= record.onset_s) & (time_s < record.offset_s)


def _pre_ictal(record: SeizureRecord) -> np.ndarray:
    return _time_s(record) < record.onset_s


def _dystonic_elbow_shift_deg(record: SeizureRecord) -> float:
    """How much more the dystonic-side elbow flexes than the other one, held periods against pre-ictal."""
    side = opposite_side(record.meta["subject_traits"]["focus_side"])
    joints = record.body_3d.coords.astype(np.float64)
    gap = elbow_angle_deg(joints, opposite_side(side)) - elbow_angle_deg(joints, side)
    held = _during(record, "dystonia", 1.5, 0.5)
    window = held if held.any() else _ictal(record)
    return float(np.nanmedian(gap[window]) - np.nanmedian(gap[_pre_ictal(record)]))


def _brow_raise_px(record: SeizureRecord) -> float:
    """Mean inner-brow height above the eye corners, emotion episodes (or ictal) against pre-ictal."""
    face = record.face_2d.coords.astype(np.float64)
    brows = face[:, [LANDMARK_INDEX["right_brow_inner"], LANDMARK_INDEX["left_brow_inner"]], 1].mean(axis=1)
    corners = [LANDMARK_INDEX[f"{side}_eye_{end}"] for side in ("right", "left") for end in ("outer", "inner")]
    height = face[:, corners, 1].mean(axis=1) - brows
    episodes = _during(record, "emotion", 1.0, 0.5)
    window = episodes if episodes.any() else _ictal(record)
    return float(np.nanmean(height[window]) - np.nanmean(height[_pre_ictal(record)]))


def _record_with(focal_yes: tuple[str, ...], duration_s: float = 50.0, subject: int = 0) -> SeizureRecord:
    """One recording of a SMALL subject with exactly the focal signs `focal_yes`, all at full amplitude."""
    traits = make_subjects(SMALL)[subject]
    rng = np.random.default_rng(123)
    focal = {sign: "yes" if sign in focal_yes else "no" for sign in FOCAL_SIGNS}
    plan = plan_seizure(traits, "T-S1", duration_s, False, focal, 10.0, 10.0, 0.0, rng, graded_signs=SMALL.graded_signs)
    return simulate_record(traits, plan, SMALL, rng)


def _occluder_columns(crop: np.ndarray) -> int:
    """Columns of a crop painted over, top to bottom, by the occluder block."""
    return int(np.sum((np.abs(crop.astype(np.float64) - OCCLUDER_LEVEL) < 20).all(axis=0)))


def _dominant_frequency_hz(signal: np.ndarray, fps: float, above_hz: float = 0.3) -> float:
    centred = np.nan_to_num(signal - np.nanmean(signal, axis=0))
    power = np.abs(np.fft.rfft(centred * np.hanning(len(centred))[:, None], axis=0)) ** 2
    frequencies = np.fft.rfftfreq(len(centred), 1.0 / fps)
    usable = frequencies > above_hz
    return float(frequencies[usable][np.argmax(power.sum(axis=1)[usable])])


@pytest.mark.parametrize("workers", [1, 2])
def test_same_spec_gives_identical_arrays_and_another_seed_differs(small: list[SeizureRecord], workers: int) -> None:
    again = make_cohort(SMALL, workers=workers)
    assert [record.seizure_id for record in again] == [record.seizure_id for record in small]
    for first, second in zip(small, again):
        for stream in ("body_3d", "body_2d", "face_2d"):
            np.testing.assert_array_equal(getattr(first, stream).coords, getattr(second, stream).coords)
            np.testing.assert_array_equal(getattr(first, stream).confidence, getattr(second, stream).confidence)
        np.testing.assert_array_equal(first.body_crops, second.body_crops)
        np.testing.assert_array_equal(first.face_crops, second.face_crops)
        assert json.dumps(first.meta, sort_keys=True) == json.dumps(second.meta, sort_keys=True)
        assert first.labels == second.labels
    other = make_cohort(replace(SMALL, seed=8))
    assert not np.array_equal(other[0].body_2d.coords[:100], small[0].body_2d.coords[:100])


def test_records_honour_the_contract(small: list[SeizureRecord]) -> None:
    for record in small:
        assert record.synthetic and record.seizure_id.startswith(record.subject_id + "-S")
        assert record.onset_s == SMALL.pre_ictal_s
        assert 20.0 <= record.offset_s - record.onset_s <= 30.0
        assert record.duration_s == pytest.approx(record.offset_s + SMALL.post_ictal_s, abs=0.05)
        assert record.body_3d.layout == "upper_body_11" and record.body_3d.coords.shape == (record.num_frames, 11, 3)
        assert record.body_2d.layout == "upper_body_11" and record.body_2d.coords.shape == (record.num_frames, 11, 2)
        assert record.face_2d.layout == "face_23" and record.face_2d.coords.shape == (record.num_frames, 23, 2)
        for stream in (record.body_3d, record.body_2d, record.face_2d):
            assert stream.fps == record.fps and stream.source == "synthetic"
            missing = np.isnan(stream.coords).any(axis=-1)
            assert np.array_equal(missing, np.isnan(stream.coords).all(axis=-1))
            assert np.array_equal(missing, stream.confidence == 0)
            assert stream.confidence.min() >= 0 and stream.confidence.max() <= 1
        for crops in (record.body_crops, record.face_crops):
            assert crops.shape == (record.num_frames, 32, 32) and crops.dtype == np.uint8
        assert set(record.labels) == set(LABEL_VALUES)
        assert all(isinstance(value, str) and value in LABEL_VALUES[key] for key, value in record.labels.items())
        assert (record.generalisation_s is not None) == (record.labels["generalisation"] == "TCS")
        dystonic_arm = {joint.split("_")[0] for joint in record.meta["planted_joints"]["dystonia"]}
        assert record.labels["dystonia_side"] == (dystonic_arm.pop() if dystonic_arm else "none")
        head = [details["side"] for _, _, details in record.meta["signs"].get("head_version", [])]
        assert record.labels["head_version_side"] == (head[0] if head else "none")
        decoded = json.loads(json.dumps(record.meta))
        assert decoded["canary"] is False and decoded["difficulty"] == 0.0
        assert set(decoded) >= {"subject_traits", "signs", "planted_joints", "camera", "sign_spans"}
        for sign, term in SIGN_TERMS.items():
            planted = [(start, end) for start, end, _ in record.meta["signs"].get(sign, [])]
            assert record.sign_spans(term) == planted, f"{record.seizure_id}: the spans of {sign} are its planted episodes"
        assert (record.labels["head_version_side"] != "none") <= bool(record.sign_spans("versive_head_turn"))
        assert (record.labels["dystonia_side"] != "none") <= bool(record.sign_spans("dystonic_posture"))


def test_body_2d_is_the_projection_of_body_3d_where_visible(small: list[SeizureRecord]) -> None:
    for record in small:
        intrinsics = CameraIntrinsics(**record.meta["camera"]["intrinsics"])
        projected = project(record.body_3d.coords.astype(np.float64), intrinsics)
        confident = record.body_2d.confidence > 0.5
        error = np.linalg.norm(projected - record.body_2d.coords, axis=-1)[confident]
        assert confident.mean() > 0.6
        assert np.nanmedian(error) < 2.5 and np.nanpercentile(error, 95) < 6.0
        inside = projected[confident]
        assert np.all((inside >= 0) & (inside < [intrinsics.width, intrinsics.height]))


def test_occlusions_hide_joints_and_the_blanket_lowers_hip_confidence(small: list[SeizureRecord]) -> None:
    passes = 0
    for record in small:
        confidence = record.body_2d.confidence
        hips = [JOINT_INDEX["right_hip"], JOINT_INDEX["left_hip"]]
        others = [JOINT_INDEX["neck"], JOINT_INDEX["right_shoulder"], JOINT_INDEX["left_shoulder"]]
        assert np.median(confidence[:, hips]) < np.median(confidence[:, others]) - 0.3
        time_s = _time_s(record)
        for start, end, _ in record.meta["occlusions"]["clinician"]:
            during = (time_s >= start) & (time_s < end)
            if during.sum() < 10:
                continue
            passes += 1
            assert np.isnan(record.body_2d.coords[during]).any()
            middle = np.flatnonzero(during)[during.sum() // 2]
            assert _occluder_columns(record.body_crops[middle]) >= 2
        clear = np.ones(record.num_frames, dtype=bool)
        for start, end, _ in record.meta["occlusions"]["clinician"]:
            clear &= (time_s < start) | (time_s >= end)
        blocked = [_occluder_columns(crop) >= 2 for crop in record.body_crops[clear][::10]]
        assert np.mean(blocked) < 0.05
    assert passes > 0


def test_planted_dystonia_flexes_one_arm_and_nothing_else_does(small: list[SeizureRecord]) -> None:
    shifts = defaultdict(list)
    for record in small:
        shifts[record.labels["dystonia"]].append(_dystonic_elbow_shift_deg(record))
        planted = record.meta["planted_joints"]["dystonia"]
        if record.labels["dystonia"] == "yes":
            side = planted[0].split("_")[0]
            assert planted == [f"{side}_shoulder", f"{side}_elbow", f"{side}_wrist"]
        else:
            assert planted == []
    assert shifts["yes"] and shifts["no"]
    assert min(shifts["yes"]) > 45.0
    assert max(abs(shift) for shift in shifts["no"]) < 25.0


def test_planted_emotion_raises_the_brows(small: list[SeizureRecord]) -> None:
    raises = defaultdict(list)
    for record in small:
        raises[record.labels["emotion"]].append(_brow_raise_px(record))
        assert bool(record.meta["planted_joints"]["emotion"]) == (record.labels["emotion"] == "yes")
    assert min(raises["yes"]) > 3.0
    assert max(raises["no"]) < 1.5


def test_difficulty_one_removes_the_planted_effects(small_without_signal: list[SeizureRecord]) -> None:
    for record in small_without_signal:
        assert abs(_dystonic_elbow_shift_deg(record)) < 20.0
        assert abs(_brow_raise_px(record)) < 1.5
        assert record.meta["effect"] == 0.0


def _body_motion(difficulty: float, graded_signs: tuple[str, ...], focal_yes: tuple[str, ...]) -> np.ndarray:
    """Clean 3D joints of one seizure of the first dystonic SMALL subject, same draws at any difficulty."""
    traits = next(subject for subject in make_subjects(SMALL) if subject.has_dystonia)
    rng = np.random.default_rng(5)
    focal = {sign: "yes" if sign in focal_yes else "no" for sign in FOCAL_SIGNS}
    plan = plan_seizure(traits, "T-S1", 40.0, False, focal, 10.0, 10.0, difficulty, rng, graded_signs=graded_signs)
    return simulate_body(traits, plan, rng).joints_mm


def test_difficulty_grades_only_the_graded_signs() -> None:
    """Hyperkinetic bouts (a confounder of dystonia) keep their amplitude at every difficulty;
    dystonia, graded by default, fades."""
    signs = ("hyperkinetic", "automatisms")
    assert not np.allclose(_body_motion(0.0, ("dystonia", "emotion"), signs), _body_motion(0.8, ("dystonia", "emotion"), signs))
    np.testing.assert_array_equal(_body_motion(0.0, ("emotion",), signs), _body_motion(0.8, ("emotion",), signs))
    traits = make_subjects(SMALL)[0]
    focal = {sign: "no" for sign in FOCAL_SIGNS}
    plan = plan_seizure(traits, "T-S1", 30.0, False, focal, 10.0, 10.0, 0.9, np.random.default_rng(0))
    assert plan.level("dystonia") == pytest.approx(0.1) and plan.level("emotion") == pytest.approx(0.1)
    assert plan.level("hyperkinetic") == plan.level("clonic") == OTHER_SIGN_LEVEL
    with pytest.raises(ValueError, match="tremor"):
        plan.level("tremor")


def test_automatisms_move_the_wrist_at_their_planted_frequency() -> None:
    record = _record_with(("automatisms",), duration_s=60.0)
    ((start, end, details),) = record.meta["signs"]["automatisms"]
    wrist = record.body_3d.coords[:, JOINT_INDEX[f"{details['side']}_wrist"]].astype(np.float64)
    time_s = _time_s(record)
    window = (time_s >= start + 1.0) & (time_s < end - 1.0)
    dominant = _dominant_frequency_hz(wrist[window], record.fps)
    assert 0.4 <= dominant <= 1.8
    assert dominant == pytest.approx(details["frequency_hz"], abs=0.2)
    mouth = record.face_2d.coords[:, LANDMARK_INDEX["mouth_bottom"], 1:].astype(np.float64)
    assert _dominant_frequency_hz(mouth[window], record.fps) == pytest.approx(details["oral_frequency_hz"], abs=0.2)


def test_hyperkinetic_and_head_version_move_proximal_joints() -> None:
    record = _record_with(("hyperkinetic", "head_version"), duration_s=60.0)
    time_s = _time_s(record)
    ((start, end, details),) = record.meta["signs"]["hyperkinetic"]
    window = (time_s >= start + 1.0) & (time_s < end - 1.0)
    shoulders = record.body_3d.coords[:, [JOINT_INDEX["right_shoulder"], JOINT_INDEX["left_shoulder"]]].reshape(-1, 6)
    dominant = _dominant_frequency_hz(shoulders[window].astype(np.float64), record.fps)
    assert 1.3 <= dominant <= 3.3 and dominant == pytest.approx(details["frequency_hz"], abs=0.5)
    assert np.nanstd(shoulders[window], axis=0).mean() > 3 * np.nanstd(shoulders[_pre_ictal(record)], axis=0).mean()
    ((start, end, _),) = record.meta["signs"]["head_version"]
    turned = (time_s >= start + 2.0) & (time_s < end - 1.0)
    head = record.body_3d.coords[:, JOINT_INDEX["head"]].astype(np.float64)
    shift_mm = np.linalg.norm(np.nanmedian(head[turned], axis=0) - np.nanmedian(head[_pre_ictal(record)], axis=0))
    assert shift_mm > 30.0


def test_emotion_and_dystonia_change_the_crops(
    small: list[SeizureRecord], small_without_signal: list[SeizureRecord]
) -> None:
    """The typical crop changes more between rest and the planted sign than between the same
    periods of the same seizure generated without planted signs (where only habits, drift and
    occlusions change it)."""
    checked = 0
    for record, unplanted in zip(small, small_without_signal):
        for sign, crops in (("emotion", "face_crops"), ("dystonia", "body_crops")):
            if record.labels[sign] != "yes":
                continue
            checked += 1
            shown, rest = _during(record, sign, 1.5, 0.5), _pre_ictal(record)
            changes = []
            for version in (record, unplanted):
                frames = getattr(version, crops)
                typical_shown = np.median(frames[shown], axis=0)
                changes.append(np.abs(typical_shown - np.median(frames[rest], axis=0)).mean())
            assert changes[0] > 1.25 * changes[1]
    assert checked >= 4


def test_canary_labels_are_per_subject_balanced_and_unplanted() -> None:
    spec = CohortSpec(n_subjects=6, n_seizures=8, seizure_duration_s=(20.0, 25.0), canary=True, seed=3)
    records = make_cohort(spec)
    by_subject = defaultdict(set)
    for record in records:
        by_subject[record.subject_id].add((record.labels["dystonia"], record.labels["emotion"]))
        assert "dystonia" not in record.meta["signs"] and "emotion" not in record.meta["signs"]
        assert record.meta["planted_joints"] == {"dystonia": [], "emotion": []}
        assert record.meta["canary"] is True
    assert all(len(labels) == 1 for labels in by_subject.values())
    subject_labels = [next(iter(labels)) for labels in by_subject.values()]
    assert sum(dystonia == "yes" for dystonia, _ in subject_labels) == 3
    assert sum(emotion == "yes" for _, emotion in subject_labels) == 3
    for record in records:
        assert abs(_dystonic_elbow_shift_deg(record)) < 25.0


def test_default_cohort_counts(default_cohort: list[SeizureRecord]) -> None:
    assert len(default_cohort) == 38
    assert len({record.seizure_id for record in default_cohort}) == 38
    by_subject = defaultdict(list)
    for record in default_cohort:
        by_subject[record.subject_id].append(record)
    assert sorted(by_subject) == [f"P{number:02d}" for number in range(1, 20)]
    assert all(1 <= len(records) <= 6 for records in by_subject.values())
    subject_labels = {}
    for subject_id, records in by_subject.items():
        labels = {(record.labels["dystonia"], record.labels["emotion"], record.fps) for record in records}
        assert len(labels) == 1
        subject_labels[subject_id] = next(iter(labels))
    assert sum(dystonia == "yes" for dystonia, _, _ in subject_labels.values()) == 9
    assert sum(emotion == "yes" for _, emotion, _ in subject_labels.values()) == 9
    assert sum(labels[:2] == ("yes", "yes") for labels in subject_labels.values()) == 2
    assert {fps for _, _, fps in subject_labels.values()} <= set(FPS_CHOICES)
    for record in default_cohort:
        assert 25.0 <= record.fps <= 30.0
        assert 20.0 <= record.offset_s - record.onset_s <= 120.0
        assert record.meta["difficulty"] == 0.3
        assert record.meta["sign_levels"]["dystonia"] == pytest.approx(0.7)
        json.dumps(record.meta)
    dystonic_arms = {
        record.subject_id: {details["side"] for _, _, details in record.meta["signs"]["dystonia"]}
        for record in default_cohort
        if record.labels["dystonia"] == "yes"
    }
    arms = [next(iter(sides)) for sides in dystonic_arms.values()]
    assert all(len(sides) == 1 for sides in dystonic_arms.values())
    assert sorted((arms.count("left"), arms.count("right"))) == [4, 5]
    generalised = sum(record.labels["generalisation"] == "TCS" for record in default_cohort)
    assert generalised == 13
    for sign in FOCAL_SIGNS:
        assert any(record.labels[sign] == "yes" for record in default_cohort)


@pytest.fixture(scope="module")
def small_without_cues() -> list[SeizureRecord]:
    return make_cohort(replace(SMALL, appearance_cues=False))


def _cue_change(record: SeizureRecord, without: SeizureRecord, sign: str, crops: str) -> tuple[float, float]:
    """Mean absolute crop difference made by the appearance cues, during the sign and outside it."""
    shown = _during(record, sign, 0.5, 0.5)
    difference = np.abs(getattr(record, crops).astype(np.float64) - getattr(without, crops))
    return float(difference[shown].mean()), float(difference[~_during(record, sign, -0.5, -0.5)].mean())


def test_appearance_cues_change_only_the_crops_and_only_during_their_sign(
    small: list[SeizureRecord], small_without_cues: list[SeizureRecord]
) -> None:
    """The dystonic fist and the fear furrows are evidence no keypoint carries: every keypoint
    stream is the same array with and without them, the crops differ during the sign and are
    identical away from it."""
    checked = 0
    for record, without in zip(small, small_without_cues, strict=True):
        for stream in ("body_3d", "body_2d", "face_2d"):
            np.testing.assert_array_equal(getattr(record, stream).coords, getattr(without, stream).coords)
        assert record.meta["appearance_cues"] and not without.meta["appearance_cues"]
        for sign, crops in (("dystonia", "body_crops"), ("emotion", "face_crops")):
            if record.labels[sign] != "yes":
                np.testing.assert_array_equal(getattr(record, crops), getattr(without, crops))
                continue
            checked += 1
            during, away = _cue_change(record, without, sign, crops)
            assert during > 0.3 and away == 0.0, (record.seizure_id, sign, during, away)
    assert checked >= 4


def test_appearance_cues_are_graded_with_their_sign() -> None:
    """The fist clenches and the furrows deepen with their sign's amplitude (1 - difficulty for a
    graded sign); at difficulty 1 the crops are those of a cohort without cues."""
    traits = next(subject for subject in make_subjects(SMALL) if subject.has_dystonia and subject.has_emotion)
    focal = {sign: "no" for sign in FOCAL_SIGNS}
    for difficulty in (0.0, 0.6, 1.0):
        rng = np.random.default_rng(5)
        plan = plan_seizure(traits, "T-S1", 40.0, False, focal, 10.0, 10.0, difficulty, rng)
        body = simulate_body(traits, plan, rng)
        face = simulate_face(traits, plan, body, rng)
        side = ("right", "left").index(traits.dystonia_side)
        assert body.fist[:, side].max() == pytest.approx(1.0 - difficulty)
        assert body.fist[:, 1 - side].max() == 0.0
        assert face.fear.max() == pytest.approx((1.0 - difficulty) * traits.expressivity)
    spec = replace(SMALL, difficulty=1.0, n_subjects=2, n_seizures=2, n_dystonia_subjects=1, n_emotion_subjects=1, n_both_subjects=1)
    for record, without in zip(make_cohort(spec), make_cohort(replace(spec, appearance_cues=False)), strict=True):
        np.testing.assert_array_equal(record.body_crops, without.body_crops)
        np.testing.assert_array_equal(record.face_crops, without.face_crops)


def test_distal_dystonia_keeps_the_arm_still_and_the_plan_otherwise_unchanged(small: list[SeizureRecord]) -> None:
    """With every dystonia episode distal the arm does not posture (no elbow shift in the
    keypoints) while the fist still changes the crops; the timeline is the same as without."""
    distal = make_cohort(replace(SMALL, distal_dystonia_share=1.0))
    checked = 0
    for record, hand_only in zip(small, distal, strict=True):
        episodes = [episode[:2] for episode in record.meta["signs"].get("dystonia", [])]
        assert episodes == [episode[:2] for episode in hand_only.meta["signs"].get("dystonia", [])]
        if record.labels["dystonia"] != "yes":
            continue
        checked += 1
        assert all(episode[2]["proximal"] for episode in record.meta["signs"]["dystonia"])
        assert not any(episode[2]["proximal"] for episode in hand_only.meta["signs"]["dystonia"])
        assert _dystonic_elbow_shift_deg(record) > 45.0
        assert abs(_dystonic_elbow_shift_deg(hand_only)) < 20.0
        unclenched = make_cohort(replace(SMALL, distal_dystonia_share=1.0, appearance_cues=False))
        other = next(item for item in unclenched if item.seizure_id == record.seizure_id)
        assert _cue_change(hand_only, other, "dystonia", "body_crops")[0] > 0.3
        break
    assert checked == 1
    with pytest.raises(ValueError, match="distal_dystonia_share"):
        replace(SMALL, distal_dystonia_share=1.5)
