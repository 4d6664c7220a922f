"""Splatting, blurring and the body/face crop renderers."""

import numpy as np

from semiology.synthetic.render import OCCLUDER_LEVEL, blur, render_body_crops, sample_segments, splat, square_box, steady_box


def test_splat_puts_weight_at_pixel_centres_and_ignores_missing_or_outside_points() -> None:
    points = np.array(
        [[[2.5, 1.5], [np.nan, 3.0], [-5.0, 2.0], [40.0, 2.0]], [[1.0, 1.5], [3.5, 3.5], [0.5, 0.5], [0.5, 0.5]]]
    )
    weights = np.array([[2.0, 5.0, 5.0, 5.0], [1.0, 1.0, 0.5, 0.5]])
    image = splat(points, weights, 4)
    assert image.shape == (2, 4, 4) and image.dtype == np.float32
    assert image[0, 1, 2] == 2.0 and image[0].sum() == 2.0
    # a point on the border between two pixels is shared equally; weights add up
    np.testing.assert_allclose(image[1, 1, :2], [0.5, 0.5])
    assert image[1, 3, 3] == 1.0 and image[1, 0, 0] == 1.0
    np.testing.assert_allclose(image[1].sum(), 3.0)


def test_blur_spreads_a_point_into_a_normalised_gaussian() -> None:
    image = np.zeros((1, 21, 21), dtype=np.float32)
    image[0, 10, 10] = 1.0
    blurred = blur(image, 1.5)
    np.testing.assert_allclose(blurred.sum(), 1.0, rtol=0.01)
    np.testing.assert_allclose(blurred[0, 10, 10], 1.0 / (2 * np.pi * 1.5**2), rtol=0.05)
    assert np.unravel_index(np.argmax(blurred[0]), (21, 21)) == (10, 10)
    np.testing.assert_allclose(blurred[0], blurred[0].T, atol=1e-7)


def test_segments_are_sampled_with_length_weights() -> None:
    starts = np.zeros((3, 2, 2))
    ends = np.array([[[4.0, 0.0], [0.0, 2.0]]] * 3)
    points, weights = sample_segments(starts, ends, 4)
    assert points.shape == (3, 8, 2)
    np.testing.assert_allclose(weights.sum(axis=1), 6.0)
    np.testing.assert_allclose(points[0, :4, 0], [0.5, 1.5, 2.5, 3.5])


def test_boxes_cover_the_points() -> None:
    rng = np.random.default_rng(0)
    points = rng.uniform(100, 200, size=(50, 11, 2))
    u0, v0, side = square_box(points, margin=0.1)
    assert u0 < 102 and v0 < 102 and u0 + side > 198 and v0 + side > 198
    u0, v0, side = steady_box(points, scale=2.0)
    assert abs(u0 + side / 2 - 150) < 5 and side > 150


def test_a_clinician_in_front_changes_the_body_crop_only_where_he_stands() -> None:
    n_frames = 6
    joints = np.tile(np.linspace([100.0, 100.0], [160.0, 220.0], 11), (n_frames, 1, 1))
    hands = joints[:, [4, 7]] + 5.0
    box = square_box(np.concatenate([joints, hands], axis=1), margin=0.1)
    nobody = np.full((n_frames, 2), np.nan)
    clinician = nobody.copy()
    clinician[2:4] = [box[0], box[0] + box[2] / 2]
    clear = render_body_crops(joints, hands, box, nobody, 32, 0.0, np.random.default_rng(5))
    occluded = render_body_crops(joints, hands, box, clinician, 32, 0.0, np.random.default_rng(5))
    assert clear.shape == (n_frames, 32, 32) and clear.dtype == np.uint8
    np.testing.assert_array_equal(clear[[0, 1, 4, 5]], occluded[[0, 1, 4, 5]])
    assert np.all(occluded[2:4, :, :15] == OCCLUDER_LEVEL)
    np.testing.assert_array_equal(clear[2:4, :, 17:], occluded[2:4, :, 17:])
    assert clear.max() > 120 and np.median(clear) < 60
