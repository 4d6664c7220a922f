"""Temporal windows: fixed-rate resampling, window slicing and per-window normalisation.

Modelling reads fixed-length windows (2 s by default) cut from the cached sequences of a
seizure. Keypoint windows become the 2s-AGCN input `[C, T, V, M]`; appearance windows become
the TCN input `[T, D]`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from semiology.layouts import get_layout
from semiology.preprocess.view import body_frame_rotation
from semiology.records import Keypoints


@dataclass(frozen=True)
class Window:
    """A window of one recording, in frames of the resampled sequence."""

    start: int
    stop: int

    @property
    def length(self) -> int:
        return self.stop - self.start


def resample_indices(num_frames: int, fps: float, target_fps: float) -> np.ndarray:
    """Indices of the source frames nearest to a `target_fps` grid over the recording.

    Nearest-frame resampling keeps NaN (missing) joints missing instead of smearing them
    into their neighbours, and keeps every stream of a record aligned by construction.
    """
    if num_frames == 0:
        return np.zeros(0, dtype=np.int64)
    duration_s = num_frames / fps
    times_s = np.arange(0.0, duration_s, 1.0 / target_fps)
    return np.minimum(np.round(times_s * fps).astype(np.int64), num_frames - 1)


def slice_windows(start: int, stop: int, window_frames: int, stride_frames: int, min_leftover_frames: int) -> list[Window]:
    """Cut `[start, stop)` into windows of `window_frames`, stepping by `stride_frames`.

    A trailing remainder is kept as a shorter window when it has at least
    `min_leftover_frames` frames (the 3D-video study keeps leftovers of >= 10 frames); the
    caller pads it.
    """
    if window_frames <= 0 or stride_frames <= 0:
        raise ValueError("window_frames and stride_frames must be positive")
    windows = []
    position = start
    while position + window_frames <= stop:
        windows.append(Window(position, position + window_frames))
        position += stride_frames
    covered = windows[-1].stop if windows else start
    if stop - covered >= min_leftover_frames:
        windows.append(Window(position, stop))
    return windows


def pair_scale(coords: np.ndarray, layout_name: str, scale_pair: tuple[str, str]) -> float:
    """Median distance between the two `scale_pair` joints over `[T, V, C]` frames (1.0 if never seen)."""
    layout = get_layout(layout_name)
    first, second = (layout.index(name) for name in scale_pair)
    distances = np.linalg.norm(coords[:, first, :] - coords[:, second, :], axis=-1)
    distances = distances[np.isfinite(distances) & (distances > 0)]
    return float(np.median(distances)) if len(distances) else 1.0


def normalise_keypoint_window(
    coords: np.ndarray, confidence: np.ndarray, layout_name: str, scale_pair: tuple[str, str], scale: float | None = None
) -> np.ndarray:
    """Centre and scale a `[T, V, C]` window; missing joints become 0 after normalisation.

    The centre is the mean position of the layout's centre joint over the window and the
    scale the median distance between the two `scale_pair` joints (shoulders for bodies,
    outer eye corners for faces), so that camera distance and placement do not become
    features. Pass the recording's `scale` (see `pair_scale`) so that a window in which those
    joints are briefly hidden or foreshortened is not blown up. Returns `[T, V, C + 1]`:
    normalised coordinates and the confidence channel.
    """
    layout = get_layout(layout_name)
    centre_track = coords[:, layout.center, :]
    if np.all(np.isnan(centre_track)):
        finite = coords[np.isfinite(coords).all(axis=-1)]
        centre = finite.mean(axis=0) if len(finite) else np.zeros(coords.shape[-1], dtype=np.float32)
    else:
        centre = np.nanmean(centre_track, axis=0)
    if scale is None:
        scale = pair_scale(coords, layout_name, scale_pair)
    normalised = (coords - centre) / scale
    missing = ~np.isfinite(normalised).all(axis=-1)
    normalised[missing] = 0.0
    conf = np.where(missing, 0.0, confidence)[..., None]
    return np.concatenate([normalised, conf], axis=-1).astype(np.float32)


def baseline_pose(keypoints: Keypoints, frame_index: np.ndarray, scale_pair: tuple[str, str], scale: float | None = None) -> np.ndarray | None:
    """The mean normalised pose `[V, C]` over `frame_index` (e.g. the pre-ictal period).

    Seizure signs are changes from the patient's own resting state: subtracting the
    recording's pre-ictal pose removes each subject's habitual posture and face shape, which
    would otherwise dominate a model trained on a handful of subjects. Returns None when the
    frames hold no visible joint.
    """
    if len(frame_index) == 0:
        return None
    window = normalise_keypoint_window(keypoints.coords[frame_index], keypoints.confidence[frame_index], keypoints.layout, scale_pair, scale)
    visible = window[..., -1:] > 0
    counts = visible.sum(axis=0)
    if not counts.any():
        return None
    return np.where(counts > 0, (window[..., :-1] * visible).sum(axis=0) / np.maximum(counts, 1), 0.0).astype(np.float32)


def keypoint_window_tensor(
    keypoints: Keypoints,
    frame_index: np.ndarray,
    window_frames: int,
    scale_pair: tuple[str, str],
    bones: bool,
    baseline: np.ndarray | None = None,
    scale: float | None = None,
) -> np.ndarray:
    """One window as the AGCN input `[C, T, V, M=1]`, zero-padded at the end to `window_frames`.

    `frame_index` are the source frames of the window (after resampling). A `baseline` pose
    `[V, C]` (see `baseline_pose`) is subtracted from the visible joints. With `bones`, the
    coordinate channels hold bone vectors derived from the layout's edges (2s-AGCN's bone
    stream); a bone with a missing end (confidence 0) is 0 like a missing joint, rather than
    the distance from the origin to its other end. The confidence channel stays per joint.
    """
    coords = keypoints.coords[frame_index]
    confidence = keypoints.confidence[frame_index]
    window = normalise_keypoint_window(coords, confidence, keypoints.layout, scale_pair, scale)
    if baseline is not None:
        window[..., :-1] -= baseline * (window[..., -1:] > 0)
    if bones:
        layout = get_layout(keypoints.layout)
        window[..., :-1] = layout.bones(window[..., :-1], axis=-2)
        parent = [parent for _, parent in layout.bone_pairs]
        unknown = (window[..., -1] <= 0) | (window[:, parent, -1] <= 0)
        window[unknown, :-1] = 0.0
    padded = np.zeros((window_frames,) + window.shape[1:], dtype=np.float32)
    padded[: len(window)] = window
    return np.ascontiguousarray(padded.transpose(2, 0, 1)[..., None])


def feature_window_tensor(features: np.ndarray, frame_index: np.ndarray, window_frames: int, baseline: np.ndarray | None = None) -> np.ndarray:
    """One window of per-frame appearance features `[T, D]`, minus an optional baseline `[D]`, zero-padded at the end."""
    window = features[frame_index] if baseline is None else features[frame_index] - baseline
    padded = np.zeros((window_frames, features.shape[1]), dtype=np.float32)
    padded[: len(window)] = window
    return padded


def motion_energy(coords: np.ndarray, confidence: np.ndarray, scale: float) -> float:
    """Mean displacement per frame of the joints visible in two consecutive frames, in units of `scale` (NaN if none).

    The rest posture is the pose of the stillest stretch: a patient lying quietly moves
    their joints far less from frame to frame than one who is seizing or being handled.
    """
    if len(coords) < 2:
        return float("nan")
    both = (confidence[1:] > 0) & (confidence[:-1] > 0) & np.isfinite(coords[1:]).all(axis=-1) & np.isfinite(coords[:-1]).all(axis=-1)
    if not both.any():
        return float("nan")
    steps = np.linalg.norm(coords[1:] - coords[:-1], axis=-1)[both]
    return float(steps.mean() / scale)


def quietest_block(keypoints: Keypoints, first: int, last: int, block_frames: int, scale: float, min_visible: float = 0.5) -> np.ndarray | None:
    """Frames of the stillest block of `block_frames` frames inside `[first, last)` (see `motion_energy`).

    Blocks are laid back to back ending at `last` (`[last - B, last)`, `[last - 2B, last - B)`,
    ...), so the choice depends only on the frames in `[first, last)` and not on where the
    recording started: a live session holding only the recent past picks the block that a
    batch run over the whole file picks. A block counts when at least `min_visible` of its
    joint-frames are seen. Ties go to the most recent block. None when no block qualifies.
    """
    best: tuple[float, int] | None = None
    stop = last
    while stop - block_frames >= first and block_frames >= 2:
        start = stop - block_frames
        confidence = keypoints.confidence[start:stop]
        if (confidence > 0).mean() >= min_visible:
            energy = motion_energy(keypoints.coords[start:stop], confidence, scale)
            if np.isfinite(energy) and (best is None or energy < best[0]):
                best = (energy, start)
        stop = start
    return None if best is None else np.arange(best[1], best[1] + block_frames)


@dataclass(frozen=True)
class CausalWindow:
    """One window normalised from past frames only: the AGCN input, the appearance input, and which rest block it used."""

    keypoints: np.ndarray
    features: np.ndarray | None
    rest_frames: np.ndarray | None


def causal_window(
    keypoints: Keypoints,
    features: np.ndarray | None,
    window: Window,
    window_frames: int,
    scale_pair: tuple[str, str],
    bones: bool,
    history_frames: int,
    body_view: bool,
) -> CausalWindow:
    """`window` normalised with a causal baseline: nothing after `window.stop` is read.

    The baseline is the mean pose of the stillest block (`quietest_block`, blocks of
    `window_frames`) in the `history_frames` before the window; the scale comes from the same
    history and the window; with `body_view`, 3D keypoints are turned into the body frame of
    the history (of the window itself when the trunk was not seen before). Only frames in
    `[max(0, start - history_frames), stop)` are read, so a live session that keeps that much
    of the past gets exactly the batch numbers. A window with no qualifying past block (the
    first seconds of a recording) gets no baseline, and `rest_frames` is None.
    """
    first = max(0, window.start - history_frames)
    span = Keypoints(keypoints.coords[first : window.stop], keypoints.confidence[first : window.stop], keypoints.layout, keypoints.fps, keypoints.source)
    start = window.start - first
    if body_view and span.coords.shape[-1] == 3:
        rotation = body_frame_rotation(span.coords[:start], span.layout) if start > 0 else None
        if rotation is None:
            rotation = body_frame_rotation(span.coords[start:], span.layout)
        if rotation is not None:
            rotated = (span.coords.astype(np.float64) @ rotation.T).astype(np.float32)
            span = Keypoints(rotated, span.confidence, span.layout, span.fps, span.source)
    scale = pair_scale(span.coords, span.layout, scale_pair)
    rest = quietest_block(span, 0, start, window_frames, scale)
    pose_reference = None if rest is None else baseline_pose(span, rest, scale_pair, scale)
    frames = np.arange(start, len(span.coords))
    tensor = keypoint_window_tensor(span, frames, window_frames, scale_pair, bones, pose_reference, scale)
    appearance = None
    if features is not None:
        own = features[first : window.stop]
        feature_reference = None if rest is None else own[rest].mean(axis=0)
        appearance = feature_window_tensor(own, frames, window_frames, feature_reference)
    return CausalWindow(tensor, appearance, None if rest is None else rest + first)


@dataclass(frozen=True)
class Reference:
    """The frames a recording's baseline and body frame come from, and a note when a fallback was taken."""

    frames: np.ndarray
    note: str | None = None


def baseline_reference(keypoints: Keypoints, onset_frame: int, policy: str, fallback: str, block_frames: int, scale_pair: tuple[str, str]) -> Reference:
    """The reference frames of one recording under a whole-recording baseline `policy` (`pre_ictal`, `quietest`, `none`).

    `pre_ictal` (and `none`, whose reference only serves the body frame) take the frames
    before `onset_frame`; a recording with none, or none where a joint is seen, takes
    `fallback`: `quietest` (the stillest block of the whole recording, `quietest_block`) or
    `none` (no frames: no baseline, body frame from every frame), and says so in the note.
    `quietest` takes the stillest block directly. The caller warns with the note; the
    screening report keeps it per record.
    """
    pre_ictal = np.arange(0, min(max(onset_frame, 0), keypoints.num_frames))
    if policy in ("pre_ictal", "none"):
        if len(pre_ictal) and (keypoints.confidence[pre_ictal] > 0).any():
            return Reference(pre_ictal)
        why = "no pre-ictal frames" if not len(pre_ictal) else "nobody seen in the pre-ictal frames"
        if fallback == "none":
            return Reference(np.zeros(0, dtype=np.int64), f"{why}: no baseline subtracted, body frame from every frame (windows.baseline_fallback: none)")
        policy, lead = "quietest", f"{why}: "
    else:
        lead = ""
    scale = pair_scale(keypoints.coords, keypoints.layout, scale_pair)
    block = quietest_block(keypoints, 0, keypoints.num_frames, block_frames, scale)
    if block is None:
        return Reference(np.zeros(0, dtype=np.int64), f"{lead}no {block_frames}-frame block where the patient is seen: no baseline subtracted")
    fps = keypoints.fps
    if not lead:
        return Reference(block)
    return Reference(block, f"{lead}baseline and body frame from the stillest block, {block[0] / fps:.1f}-{(block[-1] + 1) / fps:.1f} s (windows.baseline_fallback: quietest)")
