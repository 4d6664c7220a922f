"""Do the attributions point at what the model actually uses? Deletion curves and planted-joint mass.

Deletion test (per seizure): joints are masked in the order of their integrated-gradients mass
over the ictal period, and, for comparison, in random orders. A masked joint gets 0 in every
input channel of every window: coordinates 0 in the normalised, pre-ictal-baseline-subtracted
frame (the joint held at the recording's mean pre-ictal position, or at the window's centre
when there is no baseline) and confidence 0 -- exactly how the windows represent a joint the
detector missed. The curve is the seizure-level probability of the explained class (mean over
the ictal windows) after masking k = 0..V joints. If the attributions are faithful, masking
the top-k joints lowers that probability faster than masking k random joints: the area
between the random curve and the top-k curve (mean over k of random minus top-k) is positive.

Planted-joint mass (synthetic cohort): the share of integrated-gradients mass over the ictal
period that falls on the joints or landmarks that carry the planted sign
(`record.meta["planted_joints"][task]`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from semiology.bundle import Bundle, BundledModel, model_inputs, segment_frames
from semiology.explain.attributions import SeizureAttribution
from semiology.io.records import SeizureRecord
from semiology.train.fit import predict_proba

RANDOM_ORDERS = 20


@dataclass
class DeletionCurves:
    """Probability of the explained class after masking k = 0..V joints, top-k first and random."""

    seizure_id: str
    top_k: np.ndarray  # [V + 1]
    random: np.ndarray  # [V + 1], mean over random orders
    order: np.ndarray  # [V] joint indices, most attributed first

    @property
    def area_between(self) -> float:
        """Mean over k of (random - top-k): positive when the top-k curve lies below the random one."""
        return float(np.mean(self.random - self.top_k))

    @property
    def top_k_below_random(self) -> bool:
        return self.area_between > 0


def mask_joints(inputs: np.ndarray, joints: Sequence[int]) -> np.ndarray:
    """A copy of AGCN inputs `[N, C, T, V, M]` with `joints` set to 0 in every channel (see module docstring)."""
    masked = inputs.copy()
    masked[:, :, :, list(joints), :] = 0.0
    return masked


def deletion_curves(
    bundle: Bundle, model: BundledModel, record: SeizureRecord, attribution: SeizureAttribution, seed: int = 0, random_orders: int = RANDOM_ORDERS
) -> DeletionCurves:
    """Deletion curves of one seizure (a prepared record) for an AGCN model, ordered by `attribution`."""
    first, last = segment_frames(bundle, record)
    inputs, _ = model_inputs(bundle, model, record, first, last)
    if len(inputs) == 0:
        raise ValueError(f"seizure {record.seizure_id}: no ictal windows to mask")
    order = np.argsort(-attribution.joint_importance(), kind="stable")
    joints = inputs.shape[3]

    def curve(sequence: np.ndarray) -> np.ndarray:
        batch = np.concatenate([mask_joints(inputs, sequence[:k]) for k in range(joints + 1)])
        prob = predict_proba(model.network, batch)[:, attribution.target]
        return prob.reshape(joints + 1, len(inputs)).mean(axis=1)

    rng = np.random.default_rng(seed)
    random = np.mean([curve(rng.permutation(joints)) for _ in range(random_orders)], axis=0)
    return DeletionCurves(seizure_id=record.seizure_id, top_k=curve(order), random=random, order=order)


def planted_mass_share(attribution: SeizureAttribution, planted: Sequence[str], method: str = "integrated_gradients") -> float:
    """Share of the ictal attribution mass (`integrated_gradients` or `grad_cam`) on the `planted` joints (NaN when none are planted)."""
    if not planted:
        return float("nan")
    importance = attribution.joint_importance(method=method)
    index = [attribution.joint_names.index(name) for name in planted]
    total = importance.sum()
    return float(importance[index].sum() / total) if total > 0 else float("nan")
