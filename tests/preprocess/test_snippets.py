"""Temporal slicing, -1 pre-padding, GESTURES draws and snippet labels."""

import numpy as np
import pytest

from semiology.preprocess.snippets import draw_snippets, pre_pad, recording_samples, sample_steps, sample_windows, snippet_labels
from semiology.records import padding_mask


def test_sample_windows_leftover_and_overlap() -> None:
    windows = sample_windows(0, 130)
    assert [(w.start, w.stop) for w in windows] == [(0, 60), (60, 120), (120, 130)]
    assert [(w.start, w.stop) for w in sample_windows(0, 129)] == [(0, 60), (60, 120)]
    overlapping = sample_windows(0, 150, overlap=True)
    assert [w.start for w in overlapping] == [0, 30, 60, 90]
    assert sample_steps(60) == 7 and sample_steps(10) == 1


def test_pre_pad_and_mask() -> None:
    features = np.arange(6, dtype=np.float32).reshape(2, 3)
    padded = pre_pad(features)
    assert padded.shape == (7, 3)
    assert np.all(padded[:5] == -1) and np.array_equal(padded[5:], features)
    assert padding_mask(padded).tolist() == [False] * 5 + [True] * 2
    with pytest.raises(ValueError):
        pre_pad(np.zeros((8, 3)))


def test_recording_samples_do_not_straddle_onset() -> None:
    windows, segments = recording_samples(300, 30.0, onset_s=2.5, offset_s=7.0)
    ictal = [w for w, s in zip(windows, segments) if s == 1]
    assert ictal[0].start == 75 and ictal[-1].stop == 210
    assert all(w.stop <= 75 for w, s in zip(windows, segments) if s == 0)


def test_draws_replay_and_centres() -> None:
    first = draw_snippets(100, 16, 1.0, np.random.default_rng(3))
    again = draw_snippets(100, 16, 1.0, np.random.default_rng(3))
    other = draw_snippets(100, 16, 1.0, np.random.default_rng(4))
    assert np.array_equal(first.indices, again.indices)
    assert not np.array_equal(first.indices, other.indices)
    segment = np.arange(16)
    assert np.all((first.indices >= np.floor(segment * 6.25)) & (first.indices < np.ceil((segment + 1) * 6.25)))
    centres = draw_snippets(100, 4, None)
    assert centres.indices.tolist() == [12, 37, 62, 87]
    assert np.array_equal(draw_snippets(100, 4, float("inf")).indices, centres.indices)
    near_centre = draw_snippets(100, 4, 1e6, np.random.default_rng(0))
    assert np.abs(near_centre.indices - centres.indices).max() <= 1
    assert draw_snippets(3, 8, None).indices.max() == 2


def test_snippet_labels_from_generalisation_time() -> None:
    assert snippet_labels(np.array([1.0, 5.0, 9.0]), 5.0).tolist() == [0, 0, 1]
    assert snippet_labels(np.array([1.0, 9.0]), None).tolist() == [0, 0]
