"""Late fusion of stream probabilities, and the choice of its weight and decision threshold.

The fusion weight and the binary threshold are hyper-parameters: choose them with
`choose_fusion_weight` / `choose_threshold` on predictions for the INNER validation split of
the training subjects only, never on the held-out subject, whose score would otherwise be
optimistic. Choices are deterministic: ties in macro F1 go to the weight nearest 0.5 (then the
lower weight), and then to the lower threshold (`choose_fusion_weight`) or to the threshold
nearest 0.5 (`choose_threshold`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import f1_score

DEFAULT_WEIGHT_GRID = np.linspace(0, 1, 11)
DEFAULT_THRESHOLD_GRID = np.linspace(0.05, 0.95, 19)
_DECIMALS = 12


def fuse(probs: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """Weighted mean of class-probability arrays `[N, K]`; weights are normalised to sum to one."""
    if len(probs) == 0:
        raise ValueError("fuse needs at least one probability array")
    if len(probs) != len(weights):
        raise ValueError(f"{len(probs)} probability arrays but {len(weights)} weights")
    arrays = [np.asarray(p, dtype=np.float64) for p in probs]
    shape = arrays[0].shape
    if len(shape) != 2:
        raise ValueError(f"probabilities must be [N, K], got shape {shape}")
    for index, array in enumerate(arrays):
        if array.shape != shape:
            raise ValueError(f"probability array {index} has shape {array.shape}, expected {shape}")
    weight_array = np.asarray(weights, dtype=np.float64)
    if not np.all(np.isfinite(weight_array)) or np.any(weight_array < 0) or weight_array.sum() <= 0:
        raise ValueError(f"weights must be finite, non-negative and not all zero, got {list(weights)}")
    weight_array = weight_array / weight_array.sum()
    return np.tensordot(weight_array, np.stack(arrays), axes=1)


def _macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Macro F1 over the classes present in truth or prediction (sklearn, zero division as 0)."""
    return float(f1_score(y_true, y_pred, average="macro", zero_division=0))


def _labels(y_true: np.ndarray, num_samples: int) -> np.ndarray:
    """Validate integer class labels `[N]`."""
    labels = np.asarray(y_true)
    if labels.shape != (num_samples,):
        raise ValueError(f"y_true must have shape ({num_samples},), got {labels.shape}")
    return labels


def _grid(values: Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    """A non-empty 1-D grid of values in `[0, 1]`."""
    grid = np.asarray(values, dtype=np.float64).ravel()
    if grid.size == 0 or np.any(grid < 0) or np.any(grid > 1):
        raise ValueError(f"{name} must be a non-empty grid of values in [0, 1]")
    return grid


def choose_threshold(
    prob_pos: np.ndarray, y_true: np.ndarray, grid: Sequence[float] | np.ndarray = DEFAULT_THRESHOLD_GRID
) -> tuple[float, float]:
    """Binary threshold (positive when `prob_pos >= threshold`) maximising macro F1, and that F1.

    Call on inner-split predictions only, never on the held-out subject. Ties go to the
    threshold nearest 0.5, then to the lower one.
    """
    prob_pos = np.asarray(prob_pos, dtype=np.float64)
    if prob_pos.ndim != 1:
        raise ValueError(f"prob_pos must be [N], got shape {prob_pos.shape}")
    labels = _labels(y_true, len(prob_pos))
    candidates = []
    for threshold in _grid(grid, "grid"):
        score = _macro_f1(labels, (prob_pos >= threshold).astype(int))
        key = (-round(score, _DECIMALS), round(abs(threshold - 0.5), _DECIMALS), threshold)
        candidates.append((key, float(threshold), score))
    _, threshold, score = min(candidates)
    return threshold, score


def choose_fusion_weight(
    prob_a: np.ndarray,
    prob_b: np.ndarray,
    y_true: np.ndarray,
    grid: Sequence[float] | np.ndarray = DEFAULT_WEIGHT_GRID,
    threshold_grid: Sequence[float] | np.ndarray | None = None,
) -> tuple[float, float | None, float]:
    """Weight `w` of `prob_a` in `w * prob_a + (1 - w) * prob_b` maximising macro F1.

    Returns `(weight, threshold, score)`. For two classes the threshold on the fused positive
    (last-column) probability is chosen jointly from `threshold_grid` (default 0.05 to 0.95 in
    steps of 0.05); for more classes the fused argmax decides and the threshold is None. Call
    on inner-split predictions only, never on the held-out subject. Ties go to the weight
    nearest 0.5 (then the lower weight), then to the lower threshold.
    """
    prob_a = np.asarray(prob_a, dtype=np.float64)
    prob_b = np.asarray(prob_b, dtype=np.float64)
    if prob_a.ndim != 2 or prob_a.shape != prob_b.shape:
        raise ValueError(f"prob_a and prob_b must be [N, K] of one shape, got {prob_a.shape} and {prob_b.shape}")
    labels = _labels(y_true, len(prob_a))
    binary = prob_a.shape[1] == 2
    if not binary and threshold_grid is not None:
        raise ValueError("threshold_grid applies to binary tasks only")
    thresholds = _grid(DEFAULT_THRESHOLD_GRID if threshold_grid is None else threshold_grid, "threshold_grid")
    candidates = []
    for weight in _grid(grid, "grid"):
        fused = fuse([prob_a, prob_b], [weight, 1.0 - weight])
        weight_key = (round(abs(weight - 0.5), _DECIMALS), weight)
        if binary:
            for threshold in thresholds:
                score = _macro_f1(labels, (fused[:, 1] >= threshold).astype(int))
                key = (-round(score, _DECIMALS), *weight_key, threshold)
                candidates.append((key, float(weight), float(threshold), score))
        else:
            score = _macro_f1(labels, fused.argmax(axis=1))
            candidates.append(((-round(score, _DECIMALS), *weight_key), float(weight), None, score))
    _, weight, threshold, score = min(candidates, key=lambda candidate: candidate[0])
    return weight, threshold, score
