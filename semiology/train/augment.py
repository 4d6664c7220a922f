"""Training-time augmentation of keypoint windows: left-right mirroring.

A sign such as a dystonic arm can appear on either side, but a small cohort may show it on
one side only (the default synthetic demo cohort has left-arm dystonia in all nine dystonic
subjects). A keypoint model trained on it learns "left arm flexed" rather than "one arm
flexed", and explains a right-arm seizure by everything except the arm. Mirroring a random
half of every training batch (x negated, left and right joints swapped through the layout's
mirror partners) teaches the sign on both sides at no extra cost per epoch. Labels must be
side-free (dystonia yes/no, emotion): a task whose classes name a side would be corrupted.
"""

from __future__ import annotations

import numpy as np
import torch

from semiology.layouts import get_layout


class MirrorAugment:
    """Mirror each window of a batch `[N, C, T, V, M]` left-right with probability `probability`.

    `flip_index` is the layout's `flip_index` (joint v takes the values of its partner);
    channel `x_channel` (the horizontal coordinate, or bone component) changes sign, the
    other channels (vertical, depth, confidence) are only re-indexed.
    """

    def __init__(self, flip_index: np.ndarray, probability: float = 0.5, x_channel: int = 0) -> None:
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"mirror probability must lie in [0, 1], got {probability}")
        self.flip_index = torch.as_tensor(np.asarray(flip_index, dtype=np.int64))
        self.probability = probability
        self.x_channel = x_channel

    def mirror(self, inputs: torch.Tensor) -> torch.Tensor:
        """Every window of `inputs` mirrored."""
        mirrored = inputs.index_select(3, self.flip_index)
        mirrored[:, self.x_channel] = -mirrored[:, self.x_channel]
        return mirrored

    def __call__(self, inputs: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """A copy of `inputs` with a random subset of windows mirrored (draws from `generator`)."""
        chosen = torch.rand(len(inputs), generator=generator) < self.probability
        if not bool(chosen.any()):
            return inputs
        out = inputs.clone()
        out[chosen] = self.mirror(inputs[chosen])
        return out


def keypoint_augment(mirror: bool, kind: str, layout: str) -> MirrorAugment | None:
    """The batch augmentation of a model: mirroring for keypoint models (`agcn`, `agcn_kd`) when `mirror` is on.

    Appearance features (TCN inputs) come from a frozen encoder of unmirrored crops and are
    never mirrored.
    """
    if not mirror or kind not in ("agcn", "agcn_kd"):
        return None
    return MirrorAugment(get_layout(layout).flip_index)
