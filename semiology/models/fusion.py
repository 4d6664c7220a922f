"""Late fusion of stream probabilities, and the choice of its weight and decision threshold.

The fusion weight and the binary threshold are hyper-parameters: choose them with
`choose_fusion_weights` / `choose_threshold` on predictions for the INNER validation split of
the training subjects only, never on the held-out subject, whose score would otherwise be
optimistic. A fusion has any number of members and any number of classes. Choices are
deterministic: ties in macro F1 go to the weights nearest equal (then the lower first weights),
and then to the lower threshold (`choose_fusion_weights`) or to the threshold nearest 0.5
(`choose_threshold`).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from sklearn import config_context
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


@config_context(skip_parameter_validation=True)
def _macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Macro F1 over the classes present in truth or prediction (sklearn, zero division as 0); once per grid point, so sklearn's parameter checks skipped: see docs/decisions.md#sklearn-parameter-checks."""
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


def weight_grid(members: int, step: float = 0.1) -> np.ndarray:
    """Every weight vector of `members` non-negative multiples of `step` summing to one `[G, members]` (the simplex grid).

    For two members it is `[w, 1 - w]` for w = 0, 0.1, ..., 1, in that order.
    """
    if members < 1:
        raise ValueError(f"a fusion needs at least one member, got {members}")
    units = int(round(1.0 / step))
    if units < 1 or not np.isclose(units * step, 1.0):
        raise ValueError(f"step must divide 1, got {step}")
    combos = [c for c in itertools.product(range(units + 1), repeat=members - 1) if sum(c) <= units]
    return np.array([[*c, units - sum(c)] for c in combos], dtype=np.float64) / units


def choose_fusion_weights(
    probs: Sequence[np.ndarray],
    y_true: np.ndarray,
    grid: np.ndarray | Sequence[Sequence[float]] | None = None,
    threshold_grid: Sequence[float] | np.ndarray | None = None,
) -> tuple[np.ndarray, float | None, float]:
    """Weights of `probs` (any number of `[N, K]` arrays, any K) in their weighted mean maximising macro F1.

    Returns `(weights, threshold, score)`. The weights run over `grid` (`[G, len(probs)]`
    weight vectors; default the simplex grid of step 0.1, `weight_grid`). For two classes the threshold on the fused positive (last-column)
    probability is chosen jointly from `threshold_grid` (default 0.05 to 0.95 in steps of
    0.05); for more classes the fused argmax decides and the threshold is None. Call on
    inner-split predictions only, never on the held-out subject. Ties go to the weights nearest
    equal (L1 distance), then to the lower first weights, then to the lower threshold.
    """
    arrays = [np.asarray(p, dtype=np.float64) for p in probs]
    if len(arrays) < 2 or arrays[0].ndim != 2 or any(a.shape != arrays[0].shape for a in arrays):
        raise ValueError(f"fusion needs two or more [N, K] probability arrays of one shape, got {[a.shape for a in arrays]}")
    labels = _labels(y_true, len(arrays[0]))
    binary = arrays[0].shape[1] == 2
    if not binary and threshold_grid is not None:
        raise ValueError("threshold_grid applies to binary tasks only")
    thresholds = _grid(DEFAULT_THRESHOLD_GRID if threshold_grid is None else threshold_grid, "threshold_grid")
    uniform = 1.0 / len(arrays)
    vectors = weight_grid(len(arrays)) if grid is None else np.asarray(grid, dtype=np.float64)
    if vectors.ndim != 2 or vectors.shape[1] != len(arrays) or np.any(vectors < 0) or np.any(vectors.sum(axis=1) <= 0):
        raise ValueError(f"grid must hold non-negative weight vectors of {len(arrays)} members, got shape {vectors.shape}")
    candidates = []
    for weights in vectors:
        fused = fuse(arrays, weights)
        weight_key = (round(float(np.abs(weights - uniform).sum()), _DECIMALS), *weights.tolist())
        if binary:
            for threshold in thresholds:
                score = _macro_f1(labels, (fused[:, 1] >= threshold).astype(int))
                candidates.append(((-round(score, _DECIMALS), *weight_key, threshold), weights, float(threshold), score))
        else:
            score = _macro_f1(labels, fused.argmax(axis=1))
            candidates.append(((-round(score, _DECIMALS), *weight_key), weights, None, score))
    _, weights, threshold, score = min(candidates, key=lambda candidate: candidate[0])
    return weights, threshold, score
