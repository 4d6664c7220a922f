"""Seizure timelines (cheap: no motion is simulated) and envelopes."""

import numpy as np
import pytest

from semiology.synthetic import CohortSpec, make_plans
from semiology.synthetic.motion import episode_envelope


@pytest.fixture(scope="module")
def plans() -> list:
    return make_plans(CohortSpec(n_subjects=19, n_seizures=80, seizures_per_subject=(2, 6), seed=11))


def _covered_s(episodes: list) -> float:
    return sum(end - start for start, end, _ in episodes)


def test_dystonia_and_emotion_cover_most_of_every_ictal_period(plans: list) -> None:
    checked = 0
    for traits, plan in plans:
        ictal_s = plan.offset_s - plan.onset_s
        for sign, present in (("dystonia", traits.has_dystonia), ("emotion", traits.has_emotion)):
            assert (sign in plan.signs) == present
            if present:
                checked += 1
                assert _covered_s(plan.signs[sign]) >= 0.8 * ictal_s
                if sign == "dystonia":
                    assert all(details["side"] == traits.dystonia_side for _, _, details in plan.signs[sign])
    assert checked > 20


def test_signs_stay_inside_the_ictal_period_and_follow_their_labels(plans: list) -> None:
    for traits, plan in plans:
        for sign, episodes in plan.signs.items():
            for start, end, _ in episodes:
                assert plan.onset_s <= start < end <= plan.offset_s + 1e-9
        for sign in ("hyperkinetic", "automatisms", "clonic", "tonic", "head_version"):
            assert (sign in plan.signs) == (plan.labels[sign] == "yes")
        assert plan.labels["dystonia"] == ("yes" if traits.has_dystonia else "no")
        assert plan.labels["seizure_type"] == traits.seizure_type


def test_generalised_seizures_end_tonic_then_clonic(plans: list) -> None:
    generalised = [plan for _, plan in plans if plan.labels["generalisation"] == "TCS"]
    assert len(generalised) == round(len(plans) / 3)
    for plan in generalised:
        middle = (plan.onset_s + plan.offset_s) / 2
        assert middle <= plan.generalisation_s < plan.offset_s
        tonic, clonic = plan.signs["tonic"][-1], plan.signs["clonic"][-1]
        assert tonic[0] == plan.generalisation_s and tonic[1] == clonic[0] and clonic[1] == plan.offset_s
        assert clonic[2]["side"] == "bilateral"
    for _, plan in plans:
        if plan.labels["generalisation"] == "FOS":
            assert plan.generalisation_s is None


def test_sign_frequencies_lie_in_their_clinical_ranges(plans: list) -> None:
    seen = set()
    for _, plan in plans:
        for start, end, details in plan.signs.get("automatisms", []):
            assert 0.4 <= details["frequency_hz"] <= 1.8 and 0.4 <= details["oral_frequency_hz"] <= 1.8
            seen.add("automatisms")
        for start, end, details in plan.signs.get("hyperkinetic", []):
            assert 1.5 <= details["frequency_hz"] <= 3.0
            seen.add("hyperkinetic")
        for start, end, details in plan.signs.get("clonic", []):
            assert 2.0 <= details["frequency_end_hz"] <= details["frequency_start_hz"] <= 4.0
            seen.add("clonic")
    assert seen == {"automatisms", "hyperkinetic", "clonic"}


def test_seizure_type_follows_the_planted_signs(plans: list) -> None:
    with_signs = [plan.labels["seizure_type"] for traits, plan in plans if traits.has_dystonia or traits.has_emotion]
    without = [plan.labels["seizure_type"] for traits, plan in plans if not (traits.has_dystonia or traits.has_emotion)]
    assert with_signs.count("TLE") / len(with_signs) > without.count("TLE") / len(without)


def test_episode_envelope_ramps_and_holds() -> None:
    time_s = np.arange(0, 10, 0.01)
    envelope = episode_envelope(time_s, [[2.0, 6.0, {}]], ramp_up_s=1.0, ramp_down_s=0.5)
    assert envelope[time_s < 2.0].max() == 0.0 and envelope[time_s >= 6.0].max() == 0.0
    assert np.all(envelope[(time_s >= 3.0) & (time_s <= 5.5)] == 1.0)
    rising = envelope[(time_s >= 2.0) & (time_s < 3.0)]
    assert np.all(np.diff(rising) >= 0) and 0.4 < envelope[np.searchsorted(time_s, 2.5)] < 0.6
