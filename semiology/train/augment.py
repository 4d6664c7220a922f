"""Training-time augmentation of keypoint windows: left-right mirroring.

A sign such as a dystonic arm can appear on either side, but a small cohort may show it on
one side only (the default synthetic demo cohort has left-arm dystonia in all nine dystonic
subjects). A keypoint model trained on it learns "left arm flexed" rather than "one arm
flexed", and explains a right-arm seizure by everything except the arm. Mirroring a random
half of every training batch (x negated, left and right joints swapped through the layout's
mirror partners) teaches the sign on both sides at no extra cost per epoch. A lateralised
task (classes that name the sides `left` and `right`, e.g. which arm is dystonic) mirrors its
labels with the skeleton: a mirrored left-arm window becomes a right-arm one (and a teacher's
logits for it swap the same two classes), so mirroring doubles the side examples instead of
corrupting them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from semiology.layouts import get_layout

BatchAugment = Callable[[torch.Tensor, torch.Tensor, torch.Generator, "torch.Tensor | None"], tuple[torch.Tensor, torch.Tensor, "torch.Tensor | None"]]
"""A training batch's augmentation: (inputs, targets, generator, teacher logits) to the same three."""


class MirrorAugment:
    """Mirror each window of a batch `[N, C, T, V, M]` left-right with probability `probability`.

    `flip_index` is the layout's `flip_index` (joint v takes the values of its partner);
    channel `x_channel` (the horizontal coordinate, or bone component) changes sign, the
    other channels (vertical, depth, confidence) are only re-indexed.
    """

    def __init__(
        self, flip_index: np.ndarray, probability: float = 0.5, x_channel: int = 0, class_flip: np.ndarray | None = None
    ) -> None:
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"mirror probability must lie in [0, 1], got {probability}")
        self.flip_index = torch.as_tensor(np.asarray(flip_index, dtype=np.int64))
        self.probability = probability
        self.x_channel = x_channel
        self.class_flip = None if class_flip is None else torch.as_tensor(np.asarray(class_flip, dtype=np.int64))

    def mirror(self, inputs: torch.Tensor) -> torch.Tensor:
        """Every window of `inputs` mirrored."""
        mirrored = inputs.index_select(3, self.flip_index)
        mirrored[:, self.x_channel] = -mirrored[:, self.x_channel]
        return mirrored

    def __call__(
        self,
        inputs: torch.Tensor,
        targets: torch.Tensor,
        generator: torch.Generator,
        teacher_logits: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Copies of a batch with a random subset of windows mirrored (draws from `generator`).

        Returns the inputs, the targets (class index, or column 0 of a target matrix, mapped
        through `class_flip` for mirrored windows) and the teacher's logits (their class
        columns permuted the same way); unchanged objects when nothing is mirrored.
        """
        chosen = torch.rand(len(inputs), generator=generator) < self.probability
        if not bool(chosen.any()):
            return inputs, targets, teacher_logits
        out = inputs.clone()
        out[chosen] = self.mirror(inputs[chosen])
        if self.class_flip is None:
            return out, targets, teacher_logits
        targets = targets.clone()
        if targets.ndim == 2:
            targets[chosen, 0] = self.class_flip[targets[chosen, 0]]
        else:
            targets[chosen] = self.class_flip[targets[chosen]]
        if teacher_logits is not None:
            teacher_logits = teacher_logits.clone()
            teacher_logits[chosen] = teacher_logits[chosen][:, self.class_flip]
        return out, targets, teacher_logits


def side_class_flip(classes: tuple[str, ...] | list[str]) -> np.ndarray | None:
    """The class permutation of a mirror: `left` and `right` swapped, every other class kept.

    None for a side-free task (no class named `left` or `right`). A task naming one side but
    not the other cannot be mirrored: its mirrored windows would have no class.
    """
    names = [name.lower() for name in classes]
    if "left" not in names and "right" not in names:
        return None
    if "left" not in names or "right" not in names:
        raise ValueError(f"a lateralised task needs both 'left' and 'right' classes to be mirrored, got {list(classes)}")
    flip = np.arange(len(names))
    left, right = names.index("left"), names.index("right")
    flip[left], flip[right] = right, left
    return flip


def keypoint_augment(mirror: bool, kind: str, layout: str, classes: tuple[str, ...] = ()) -> MirrorAugment | None:
    """The batch augmentation of a model: mirroring for keypoint models (`agcn`, `agcn_kd`) when `mirror` is on.

    `classes` are the task's: a lateralised task's side labels mirror with the skeleton.

    Appearance features (TCN inputs) come from a frozen encoder of unmirrored crops and are
    never mirrored.
    """
    if not mirror or kind not in ("agcn", "agcn_kd"):
        return None
    return MirrorAugment(get_layout(layout).flip_index, class_flip=side_class_flip(classes))
