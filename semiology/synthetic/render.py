"""Small IR-like renderings of the synthetic body and face for the appearance streams.

Shapes are drawn by splatting weighted sample points (bilinear, with `np.bincount`) into all
frames at once, then blurring each frame with one Gaussian filter over the spatial axes. Crops
use a box fixed for the whole recording, so movement shows as movement inside the crop.
Coordinates are (u, v) pixels; a box is `(u0_px, v0_px, side_px)` in the source image.
"""

from __future__ import annotations

import numpy as np

from semiology.synthetic.face import LANDMARK_INDEX
from semiology.synthetic.motion import JOINT_INDEX

BODY_SEGMENTS: tuple[tuple[str, str], ...] = (
    ("head", "neck"),
    ("neck", "right_shoulder"),
    ("right_shoulder", "right_elbow"),
    ("right_elbow", "right_wrist"),
    ("neck", "left_shoulder"),
    ("left_shoulder", "left_elbow"),
    ("left_elbow", "left_wrist"),
    ("neck", "spine_base"),
    ("right_shoulder", "right_hip"),
    ("left_shoulder", "left_hip"),
    ("spine_base", "right_hip"),
    ("spine_base", "left_hip"),
)
"""Limbs and trunk outline drawn in the body crops (hands are added from the hand tips)."""

BACKGROUND_LEVEL = 30.0
FEATURE_LEVEL = 170.0
OCCLUDER_LEVEL = 140.0
BLANKET_LEVEL = 35.0

FIST_SHORTENING = 0.6
"""Share of the hand stroke a fully clenched fist loses (the fingers curl in)."""
FIST_GAIN = 2.0
"""Brightness of a fully clenched fist's knuckle blob, relative to a limb stroke of the same area."""
FURROW_HEIGHTS: tuple[float, ...] = (0.35, 0.55, 0.75)
"""Heights of the forehead furrows above the brows, as shares of the brow span."""
FURROW_GAIN = 0.9
"""Brightness of a furrow at full fear, relative to a brow stroke of the same length."""


def square_box(points_px: np.ndarray, margin: float) -> tuple[float, float, float]:
    """A square `(u0, v0, side)` around the 1st-99th percentile extent of `points_px` [..., 2], widened by `margin`."""
    flat = points_px.reshape(-1, 2)
    flat = flat[np.isfinite(flat).all(axis=1)]
    if flat.size == 0:
        raise ValueError("cannot place a crop box: no finite points")
    low = np.percentile(flat, 1.0, axis=0)
    high = np.percentile(flat, 99.0, axis=0)
    centre = (low + high) / 2
    side = float(max(high - low) * (1.0 + 2.0 * margin)) + 1.0
    return float(centre[0] - side / 2), float(centre[1] - side / 2), side


def steady_box(points_px: np.ndarray, scale: float) -> tuple[float, float, float]:
    """A square `(u0, v0, side)` centred on the median centroid of `points_px` [T, P, 2], of side
    `scale` times the median per-frame extent: the object fills a fixed share of the crop at
    rest and moves inside (or out of) it."""
    centroid = np.nanmedian(np.nanmean(points_px, axis=1), axis=0)
    extent = np.nanmedian(np.nanmax(points_px, axis=1) - np.nanmin(points_px, axis=1), axis=0)
    if not (np.isfinite(centroid).all() and np.isfinite(extent).all()):
        raise ValueError("cannot place a crop box: no finite points")
    side = float(scale * max(extent)) + 1.0
    return float(centroid[0] - side / 2), float(centroid[1] - side / 2), side


def sample_count(length_px: np.ndarray | float, sigma_px: float, low: int, high: int) -> int:
    """Samples needed along a typical length so that blurred samples merge into a smooth stroke."""
    typical = float(np.nanmedian(length_px))
    if not np.isfinite(typical):
        return low
    return int(np.clip(np.ceil(typical / (2.0 * sigma_px)), low, high))


def to_crop(points_px: np.ndarray, box: tuple[float, float, float], size_px: int) -> np.ndarray:
    """Image pixels [..., 2] to crop pixels for a crop of `size_px` over `box`."""
    u0, v0, side = box
    return (points_px - np.array([u0, v0])) * (size_px / side)


def splat(points: np.ndarray, weights: np.ndarray, size_px: int, chunk_frames: int = 128) -> np.ndarray:
    """Accumulate weighted points [T, P, 2] (crop pixels) bilinearly into float32 images [T, S, S].

    Non-finite points and points outside the crop contribute nothing. Works on a canvas with a
    one-pixel border, so that the four bilinear neighbours of a point are the flat index of its
    top-left neighbour shifted by 0, 1, S+2 and S+3; each neighbour is one `np.bincount` on the
    same indices, added with that shift. Frames go in chunks that keep the canvas in cache.
    """
    n_frames = weights.shape[0]
    padded = size_px + 2
    images = np.empty((n_frames, size_px, size_px), dtype=np.float32)
    for first in range(0, n_frames, chunk_frames):
        position = points[first : first + chunk_frames].astype(np.float32) + np.float32(0.5)
        count = position.shape[0]
        u, v = position[..., 0], position[..., 1]
        usable = (u >= 0) & (u < size_px + 1) & (v >= 0) & (v < size_px + 1)
        weight = np.where(usable, weights[first : first + chunk_frames], 0.0).astype(np.float32)
        u, v = np.where(usable, u, 0.0), np.where(usable, v, 0.0)
        column, row = np.floor(u), np.floor(v)
        right, below = u - column, v - row
        left, above = 1 - right, 1 - below
        frame = np.arange(count, dtype=np.int64)[:, None] * padded
        corner = ((frame + row.astype(np.int64)) * padded + column.astype(np.int64)).ravel()
        length = count * padded * padded
        canvas = np.bincount(corner, (left * above * weight).ravel(), length)
        canvas[1:] += np.bincount(corner, (right * above * weight).ravel(), length)[:-1]
        canvas[padded:] += np.bincount(corner, (left * below * weight).ravel(), length)[:-padded]
        canvas[padded + 1 :] += np.bincount(corner, (right * below * weight).ravel(), length)[: -padded - 1]
        images[first : first + count] = canvas.reshape(count, padded, padded)[:, 1:-1, 1:-1]
    return images


def blur(images: np.ndarray, sigma_px: float) -> np.ndarray:
    """Gaussian blur of float32 images [T, S, S] over the two spatial axes (zero outside the frame).

    Done as two matrix products with a [S, S] Gaussian matrix: much faster than a filter for
    many small frames.
    """
    n_frames, size_px = images.shape[0], images.shape[1]
    centres = np.arange(size_px, dtype=np.float32)
    kernel = np.exp(-0.5 * ((centres[:, None] - centres[None, :]) / np.float32(sigma_px)) ** 2)
    kernel /= np.float32(np.sqrt(2 * np.pi) * sigma_px)
    kernel = kernel.astype(np.float32)
    along_rows = (images.reshape(-1, size_px) @ kernel).reshape(images.shape)
    transposed = np.ascontiguousarray(along_rows.transpose(0, 2, 1)).reshape(-1, size_px) @ kernel
    return np.ascontiguousarray(transposed.reshape(n_frames, size_px, size_px).transpose(0, 2, 1))


def sample_segments(starts: np.ndarray, ends: np.ndarray, samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Points along segments [T, E, 2] -> [T, E * samples, 2], each weighted by its share of the length."""
    steps = (np.arange(samples) + 0.5) / samples
    points = starts[:, :, None, :] + (ends - starts)[:, :, None, :] * steps[None, None, :, None]
    length = np.linalg.norm(ends - starts, axis=-1)
    weights = np.repeat(length[:, :, None] / samples, samples, axis=2)
    return points.reshape(starts.shape[0], -1, 2), weights.reshape(starts.shape[0], -1)


def _unit_disc(samples_per_axis: int) -> np.ndarray:
    """Grid points [N, 2] inside the unit disc (for filled shapes)."""
    axis = (np.arange(samples_per_axis) + 0.5) / samples_per_axis * 2 - 1
    grid = np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)
    return grid[np.sum(grid**2, axis=1) <= 1.0]


def sample_ellipse(
    centre: np.ndarray,
    axis_u: np.ndarray,
    radius_u: np.ndarray,
    radius_up: np.ndarray,
    radius_down: np.ndarray,
    samples: int,
    filled: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Points of a two-halved ellipse per frame: its outline, or its area when `filled`.

    `axis_u` [T, 2] is the unit long axis; the upper half (towards -v) has half-height
    `radius_up`, the lower half `radius_down`. Outline weights are arc length, fill weights area.
    """
    axis_v = np.stack([-axis_u[:, 1], axis_u[:, 0]], axis=1)
    if filled:
        unit = _unit_disc(samples)
        along, across = unit[:, 0], unit[:, 1]
    else:
        angle = 2 * np.pi * (np.arange(samples) + 0.5) / samples
        along, across = np.cos(angle), np.sin(angle)
    half_height = np.where(across[None, :] > 0, radius_down[:, None], -radius_up[:, None])
    points = (
        centre[:, None, :]
        + axis_u[:, None, :] * (radius_u[:, None] * along[None, :])[..., None]
        + axis_v[:, None, :] * (half_height * np.abs(across)[None, :])[..., None]
    )
    mean_height = (radius_up + radius_down) / 2
    if filled:
        measure = np.pi * radius_u * mean_height
    else:
        measure = np.pi * (radius_u + mean_height)
    weights = np.repeat((measure / along.size)[:, None], along.size, axis=1)
    return points, weights


def _rasterise(
    points: np.ndarray,
    weights: np.ndarray,
    size_px: int,
    sigma_px: float,
    background: np.ndarray | float,
    occluded: np.ndarray,
    rng: np.random.Generator,
    noise_level: float,
    chunk_frames: int = 128,
) -> np.ndarray:
    """Splat, blur, scale (a stroke of unit weight per pixel peaks at FEATURE_LEVEL), add the
    background, paint occluders [T, S, S], add sensor noise (uniform, standard deviation
    `noise_level`) and quantise to uint8, a chunk of frames at a time."""
    n_frames = weights.shape[0]
    crops = np.empty((n_frames, size_px, size_px), dtype=np.uint8)
    gain = np.float32(FEATURE_LEVEL * np.sqrt(2 * np.pi) * sigma_px)
    spread = np.float32(np.sqrt(12.0) * noise_level)
    for first in range(0, n_frames, chunk_frames):
        chunk = slice(first, first + chunk_frames)
        image = blur(splat(points[chunk], weights[chunk], size_px, chunk_frames), sigma_px)
        image *= gain
        image += background
        image[occluded[chunk]] = OCCLUDER_LEVEL
        uniform = rng.random(image.shape, dtype=np.float32)
        uniform -= np.float32(0.5)
        image += uniform * spread
        np.clip(image, 0, 255, out=image)
        crops[chunk] = image
    return crops


def render_body_crops(
    joints_px: np.ndarray,
    hand_tips_px: np.ndarray,
    box: tuple[float, float, float],
    occluder_u_px: np.ndarray,
    size_px: int,
    noise_level: float,
    rng: np.random.Generator,
    fist: np.ndarray | None = None,
) -> np.ndarray:
    """Body crops [T, S, S] uint8: the skeleton as bright blurred limbs on a noisy background.

    `joints_px` [T, 11, 2] and `hand_tips_px` [T, 2, 2] are clean image positions; the hips
    lie under a blanket (dimmer limbs, a faint blanket area); `occluder_u_px` [T, 2] is the
    image column range of a clinician standing in front (NaN when nobody is), drawn as a block.
    `fist` [T, 2] (right, left) in [0, 1] clenches each hand: the hand stroke shortens towards
    the wrist and a bright knuckle blob grows at its end (None: open hands).
    """
    crop_joints = to_crop(joints_px, box, size_px)
    open_hands = crop_hands = to_crop(hand_tips_px, box, size_px)
    sigma_px = 0.9 * size_px / 32
    knuckles: tuple[np.ndarray, np.ndarray] | None = None
    if fist is not None:
        wrists = crop_joints[:, [JOINT_INDEX["right_wrist"], JOINT_INDEX["left_wrist"]]]
        clench = np.clip(fist, 0.0, 1.0)
        crop_hands = np.where(clench[..., None] > 0, wrists + (crop_hands - wrists) * (1.0 - FIST_SHORTENING * clench[..., None]), crop_hands)
        knuckles = _knuckles(wrists, crop_hands, clench, sigma_px)
    first = [JOINT_INDEX[a] for a, _ in BODY_SEGMENTS] + [JOINT_INDEX["right_wrist"], JOINT_INDEX["left_wrist"]]
    second = [JOINT_INDEX[b] for _, b in BODY_SEGMENTS]
    starts = crop_joints[:, first]
    ends = np.concatenate([crop_joints[:, second], crop_hands], axis=1)
    open_ends = np.concatenate([crop_joints[:, second], open_hands], axis=1)
    names = list(BODY_SEGMENTS) + [("right_wrist", "right_hand"), ("left_wrist", "left_hand")]
    parts_points, parts_weights = [], []
    for segment, (a, b) in enumerate(names):
        count = sample_count(np.linalg.norm(open_ends[:, segment] - starts[:, segment], axis=-1), sigma_px, 2, 48)
        points, weights = sample_segments(starts[:, [segment]], ends[:, [segment]], count)
        parts_points.append(points)
        parts_weights.append(weights * (0.4 if a.endswith("hip") or b.endswith("hip") else 1.0))

    head = crop_joints[:, JOINT_INDEX["head"]]
    neck = crop_joints[:, JOINT_INDEX["neck"]]
    radius = 0.45 * np.linalg.norm(head - neck, axis=-1)
    count = sample_count(2 * radius, sigma_px, 2, 16)
    points, weights = sample_ellipse(
        head, np.tile([1.0, 0.0], (head.shape[0], 1)), radius, radius, radius, count, filled=True
    )
    parts_points.append(points)
    parts_weights.append(weights * 0.5)
    if knuckles is not None:
        parts_points.append(knuckles[0])
        parts_weights.append(knuckles[1])
    centres = np.arange(size_px) + 0.5
    hips = crop_joints[:, [JOINT_INDEX["right_hip"], JOINT_INDEX["left_hip"]]]
    blanket_top = float(np.nanmedian(hips[..., 1])) - 0.03 * size_px
    blanket_left = float(np.nanmin(np.nanmedian(hips[..., 0], axis=0))) - 0.25 * size_px
    blanket_right = float(np.nanmax(np.nanmedian(hips[..., 0], axis=0))) + 0.25 * size_px
    blanket = (
        (centres[:, None] >= blanket_top) & (centres[None, :] >= blanket_left) & (centres[None, :] <= blanket_right)
    )
    background = np.float32(BACKGROUND_LEVEL) + np.float32(BLANKET_LEVEL) * blanket.astype(np.float32)

    u0, _, side = box
    band = (occluder_u_px - u0) * (size_px / side)
    with np.errstate(invalid="ignore"):
        columns = (centres[None, :] >= band[:, :1]) & (centres[None, :] <= band[:, 1:])
    occluded = np.broadcast_to(columns[:, None, :], (columns.shape[0], size_px, size_px))
    points, weights = np.concatenate(parts_points, axis=1), np.concatenate(parts_weights, axis=1)
    return _rasterise(points, weights, size_px, sigma_px, background, occluded, rng, noise_level)


def _knuckles(
    wrists: np.ndarray, hands: np.ndarray, clench: np.ndarray, sigma_px: float
) -> tuple[np.ndarray, np.ndarray]:
    """A filled blob [T, 2 * N, 2] at each (shortened) hand end, its weight growing with `clench`
    [T, 2]: a clenched fist is a compact bright mass where an open hand is a thin stroke."""
    radius = np.maximum(0.6 * np.linalg.norm(hands - wrists, axis=-1), 0.5 * sigma_px)
    count = sample_count(2 * radius, sigma_px, 3, 8)
    points, weights = [], []
    for column in range(2):
        drawn, weight = sample_ellipse(
            hands[:, column],
            np.tile([1.0, 0.0], (hands.shape[0], 1)),
            radius[:, column],
            radius[:, column],
            radius[:, column],
            count,
            filled=True,
        )
        points.append(drawn)
        weights.append(weight * FIST_GAIN * clench[:, column, None])
    return np.concatenate(points, axis=1), np.concatenate(weights, axis=1)


def _furrows(right: np.ndarray, left: np.ndarray, fear: np.ndarray, sigma_px: float) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal forehead furrows above the brows [T, 3 * N, 2], their weight growing with the
    fear-like expression `fear` [T]: texture that no landmark carries. `right` and `left` are
    the brow middles [T, 2]."""
    axis, span = _unit_and_length(left - right)
    up = np.stack([axis[:, 1], -axis[:, 0]], axis=1)
    count = sample_count(span, sigma_px, 4, 32)
    points, weights = [], []
    for height in FURROW_HEIGHTS:
        offset = up * (height * span)[:, None]
        drawn, weight = sample_segments((right + offset)[:, None], (left + offset)[:, None], count)
        points.append(drawn)
        weights.append(weight * FURROW_GAIN * np.clip(fear, 0.0, 1.0)[:, None])
    return np.concatenate(points, axis=1), np.concatenate(weights, axis=1)


def render_face_crops(
    landmarks_px: np.ndarray,
    box: tuple[float, float, float],
    touch: np.ndarray,
    touch_side: str,
    occluder_box_px: np.ndarray,
    size_px: int,
    noise_level: float,
    rng: np.random.Generator,
    fear: np.ndarray | None = None,
) -> np.ndarray:
    """Face crops [T, S, S] uint8: face outline, brows, eyes, nose, nostrils and mouth.

    Eye areas follow the lids and the mouth area follows the lips, so blinks, widened eyes and
    mouth opening change the picture. `touch` [T] draws the habitual hand over the `touch_side`
    of the mouth; `occluder_box_px` [T, 4] (u0, v0, u1, v1, NaN when none) is drawn as a block.
    `fear` [T] in [0, 1] draws forehead furrows above the brows (None: a smooth forehead).
    """
    crop = to_crop(landmarks_px, box, size_px)
    n_frames = crop.shape[0]
    sigma_px = 0.7 * size_px / 32

    def at(name: str) -> np.ndarray:
        return crop[:, LANDMARK_INDEX[name]]

    pairs = []
    for side in ("right", "left"):
        pairs += [(f"{side}_brow_outer", f"{side}_brow_middle"), (f"{side}_brow_middle", f"{side}_brow_inner")]
    pairs += [("nose_bridge", "nose_mid"), ("nose_mid", "nose_tip")]
    starts = np.stack([at(a) for a, _ in pairs], axis=1)
    ends = np.stack([at(b) for _, b in pairs], axis=1)
    parts_points, parts_weights = [], []
    count = sample_count(np.linalg.norm(ends - starts, axis=-1).max(axis=1), sigma_px, 2, 32)
    points, weights = sample_segments(starts, ends, count)
    parts_points.append(points)
    parts_weights.append(weights * 1.5)

    for corner_names, lid_names in (
        (("right_eye_outer", "right_eye_inner"), ("right_eye_top", "right_eye_bottom")),
        (("left_eye_inner", "left_eye_outer"), ("left_eye_top", "left_eye_bottom")),
        (("mouth_right", "mouth_left"), ("mouth_top", "mouth_bottom")),
    ):
        for points, weights in _opening(*(at(name) for name in corner_names + lid_names), sigma_px):
            parts_points.append(points)
            parts_weights.append(weights)
    for name in ("right_nostril", "left_nostril"):
        parts_points.append(at(name)[:, None, :])
        parts_weights.append(np.full((n_frames, 1), 1.2))

    eye_axis, eye_span = _unit_and_length(at("left_eye_outer") - at("right_eye_outer"))
    eye_down = np.stack([-eye_axis[:, 1], eye_axis[:, 0]], axis=1)
    face_width = 1.45 * eye_span
    face_centre = (at("left_eye_outer") + at("right_eye_outer")) / 2 + eye_down * (0.3 * face_width)[:, None]
    outline = sample_count(3.7 * face_width, sigma_px, 16, 128)
    points, weights = sample_ellipse(
        face_centre, eye_axis, face_width / 2, 0.6 * face_width, 0.75 * face_width, outline, filled=False
    )
    parts_points.append(points)
    parts_weights.append(weights * 0.5)
    if fear is not None:
        points, weights = _furrows(at("right_brow_middle"), at("left_brow_middle"), fear, sigma_px)
        parts_points.append(points)
        parts_weights.append(weights)

    outward = -1.0 if touch_side == "right" else 1.0
    hand_centre = at(f"mouth_{touch_side}") + eye_axis * (outward * 0.12 * face_width)[:, None] + eye_down * (
        0.1 * face_width
    )[:, None]
    hand_radius = 0.16 * face_width
    across = sample_count(2 * hand_radius, sigma_px, 2, 16)
    points, weights = sample_ellipse(hand_centre, eye_axis, hand_radius, hand_radius, hand_radius, across, filled=True)
    parts_points.append(points)
    parts_weights.append(weights * 0.6 * np.clip(touch, 0.0, 1.0)[:, None])

    corners = np.stack(
        [to_crop(occluder_box_px[:, :2], box, size_px), to_crop(occluder_box_px[:, 2:], box, size_px)], axis=1
    )
    centres = np.arange(size_px) + 0.5
    with np.errstate(invalid="ignore"):
        columns = (centres[None, :] >= corners[:, 0, :1]) & (centres[None, :] <= corners[:, 1, :1])
        rows = (centres[None, :] >= corners[:, 0, 1:]) & (centres[None, :] <= corners[:, 1, 1:])
    occluded = rows[:, :, None] & columns[:, None, :]
    points, weights = np.concatenate(parts_points, axis=1), np.concatenate(parts_weights, axis=1)
    return _rasterise(points, weights, size_px, sigma_px, np.float32(BACKGROUND_LEVEL), occluded, rng, noise_level)


def _opening(
    first_corner: np.ndarray, second_corner: np.ndarray, top: np.ndarray, bottom: np.ndarray, sigma_px: float
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Outline and filled area of an eye or mouth opening: an ellipse between its corners
    (first to second along the image's left-to-right) whose upper and lower halves reach the
    top and bottom lid or lip."""
    centre = (first_corner + second_corner) / 2
    axis_u, width = _unit_and_length(second_corner - first_corner)
    axis_v = np.stack([-axis_u[:, 1], axis_u[:, 0]], axis=1)
    up = np.maximum(-np.sum((top - centre) * axis_v, axis=1), 0.0)
    down = np.maximum(np.sum((bottom - centre) * axis_v, axis=1), 0.0)
    outline = sample_count(np.pi * width, sigma_px, 8, 64)
    across = sample_count(width, sigma_px, 2, 16)
    drawn = []
    for filled, gain in ((False, 0.7), (True, 0.85)):
        points, weights = sample_ellipse(centre, axis_u, width / 2, up, down, across if filled else outline, filled)
        drawn.append((points, weights * gain))
    return drawn


def _unit_and_length(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors [T, 2] and lengths [T] of vectors [T, 2] (x axis where a vector is zero or missing)."""
    length = np.linalg.norm(vectors, axis=-1)
    good = np.isfinite(length) & (length > 1e-9)
    unit = np.where(good[:, None], vectors / np.where(good, length, 1.0)[:, None], np.array([1.0, 0.0]))
    return unit, np.where(good, length, 0.0)
