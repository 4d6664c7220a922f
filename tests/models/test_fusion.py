"""Late fusion and the inner-split choice of its weight and threshold."""

import numpy as np
import pytest

from semiology.models.fusion import choose_fusion_weights, choose_threshold, fuse, weight_grid


def test_fuse_is_normalised_weighted_mean() -> None:
    a = np.array([[1.0, 0.0], [0.5, 0.5]])
    b = np.array([[0.0, 1.0], [0.1, 0.9]])
    np.testing.assert_allclose(fuse([a, b], [3, 1]), 0.75 * a + 0.25 * b)
    np.testing.assert_allclose(fuse([a], [2.0]), a)


def test_fuse_checks_shapes_and_weights() -> None:
    a = np.full((3, 2), 0.5)
    with pytest.raises(ValueError, match="shape"):
        fuse([a, np.full((3, 3), 1 / 3)], [1, 1])
    with pytest.raises(ValueError, match="weights"):
        fuse([a, a], [1])
    with pytest.raises(ValueError, match="non-negative"):
        fuse([a, a], [1, -1])


def test_threshold_found_and_ties_go_to_half() -> None:
    prob = np.array([0.1, 0.2, 0.3, 0.35, 0.4, 0.8])
    y = np.array([0, 0, 0, 1, 1, 1])
    threshold, score = choose_threshold(prob, y)
    # every threshold in (0.30, 0.35] separates the classes; 0.35 is the grid point nearest 0.5
    assert threshold == pytest.approx(0.35)
    assert score == pytest.approx(1.0)

    separable = np.array([0.0, 0.0, 1.0, 1.0])
    threshold, score = choose_threshold(separable, np.array([0, 0, 1, 1]))
    assert threshold == pytest.approx(0.5) and score == pytest.approx(1.0)
    tied = choose_threshold(separable, np.array([0, 0, 1, 1]), grid=[0.4, 0.6])
    assert tied == (pytest.approx(0.4), pytest.approx(1.0))


def test_fusion_weight_known_answer_binary() -> None:
    # stream a is right on the first four windows, stream b on the last four;
    # only an even blend gets all eight right at a threshold of 0.5
    y = np.array([0, 0, 1, 1, 0, 0, 1, 1])
    pos_a = np.array([0.0, 0.0, 1.0, 1.0, 0.6, 0.6, 0.4, 0.4])
    pos_b = np.array([0.6, 0.6, 0.4, 0.4, 0.0, 0.0, 1.0, 1.0])
    prob_a = np.stack([1 - pos_a, pos_a], axis=1)
    prob_b = np.stack([1 - pos_b, pos_b], axis=1)
    weights, threshold, score = choose_fusion_weights([prob_a, prob_b], y)
    assert weights.tolist() == pytest.approx([0.5, 0.5])
    assert score == pytest.approx(1.0)
    # fused positives are 0.3 (class 0) and 0.7 (class 1): thresholds 0.35 .. 0.70 tie; the lowest wins
    assert threshold == pytest.approx(0.35)


def test_fusion_weight_prefers_the_informative_stream() -> None:
    y = np.array([0, 1, 2, 0, 1, 2])
    prob_a = np.eye(3)[y] * 0.6 + 0.4 / 3
    prob_b = np.eye(3)[(y + 1) % 3]
    weights, threshold, score = choose_fusion_weights([prob_a, prob_b], y)
    assert threshold is None
    assert score == pytest.approx(1.0)
    # with b at full confidence, a must carry weight w with 0.6w + 0.4w/3 > 1 - w + 0.4w/3, so w > 0.625
    assert weights.tolist() == pytest.approx([0.7, 0.3])


def test_fusion_ties_are_deterministic() -> None:
    y = np.array([0, 1, 0, 1])
    perfect = np.array([[0.9, 0.1], [0.1, 0.9], [0.9, 0.1], [0.1, 0.9]])
    grid = [[w, 1 - w] for w in (0.0, 0.3, 0.7, 1.0)]
    weights, threshold, score = choose_fusion_weights([perfect, perfect], y, grid=grid, threshold_grid=[0.2, 0.5])
    # every weight and both thresholds score 1: nearest to 0.5 (0.3 and 0.7 tie, the lower wins), then 0.2
    assert (weights.tolist(), threshold, score) == ([pytest.approx(0.3), pytest.approx(0.7)], pytest.approx(0.2), pytest.approx(1.0))
    again = choose_fusion_weights([perfect, perfect], y, grid=grid[::-1], threshold_grid=[0.5, 0.2])
    assert again[0].tolist() == weights.tolist() and again[1:] == (threshold, score)


def test_three_members_and_three_classes_find_the_blend_that_needs_all_three() -> None:
    # each stream knows one class for sure and is uniform on the others: only a blend of all three is right everywhere
    y = np.array([0, 1, 2, 0, 1, 2])
    probs = [np.where(np.eye(3)[y][:, [k]] == 1, np.eye(3)[k], np.full(3, 1 / 3)) for k in range(3)]
    weights, threshold, score = choose_fusion_weights(probs, y)
    assert threshold is None and score == pytest.approx(1.0)
    # every blend with no zero weight scores 1; the nearest to equal weights, lowest first weights, is (0.3, 0.3, 0.4)
    assert weights.tolist() == pytest.approx([0.3, 0.3, 0.4])
    without_one, _, partial = choose_fusion_weights(probs, y, grid=[[0.5, 0.5, 0.0]])
    assert partial < 1.0
    assert len(weight_grid(3)) == 66 and np.allclose(weight_grid(3).sum(axis=1), 1.0)
