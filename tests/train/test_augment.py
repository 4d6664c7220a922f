"""Left-right mirroring of keypoint windows for training."""

import numpy as np
import pytest
import torch

from semiology.layouts import get_layout
from semiology.train.augment import MirrorAugment, keypoint_augment, side_class_flip


def _window(layout: str) -> torch.Tensor:
    rng = np.random.default_rng(0)
    joints = len(get_layout(layout).joint_names)
    return torch.from_numpy(rng.normal(size=(4, 3, 5, joints, 1)).astype(np.float32))


def test_mirroring_swaps_partners_and_negates_x_only() -> None:
    layout = get_layout("upper_body_11")
    inputs = _window("upper_body_11")
    mirrored = MirrorAugment(layout.flip_index).mirror(inputs)
    left, right = layout.index("left_wrist"), layout.index("right_wrist")
    torch.testing.assert_close(mirrored[:, 0, :, left], -inputs[:, 0, :, right])
    torch.testing.assert_close(mirrored[:, 1:, :, left], inputs[:, 1:, :, right])
    head = layout.index("head")
    torch.testing.assert_close(mirrored[:, 0, :, head], -inputs[:, 0, :, head])
    torch.testing.assert_close(MirrorAugment(layout.flip_index).mirror(mirrored), inputs)


def test_random_half_is_mirrored_reproducibly_and_probability_bounds_hold() -> None:
    flip = get_layout("face_23").flip_index
    inputs = _window("face_23").repeat(50, 1, 1, 1, 1)
    targets = torch.ones(len(inputs), dtype=torch.int64)
    augment = MirrorAugment(flip)
    first, first_targets, _ = augment(inputs, targets, torch.Generator().manual_seed(3))
    again, _, _ = augment(inputs, targets, torch.Generator().manual_seed(3))
    torch.testing.assert_close(first, again)
    assert torch.equal(first_targets, targets)  # side-free labels never change
    changed = (first != inputs).flatten(1).any(dim=1).float().mean()
    assert 0.3 < float(changed) < 0.7
    torch.testing.assert_close(MirrorAugment(flip, probability=0.0)(inputs, targets, torch.Generator())[0], inputs)
    torch.testing.assert_close(MirrorAugment(flip, probability=1.0)(inputs, targets, torch.Generator())[0], augment.mirror(inputs))


def test_a_lateralised_task_mirrors_its_side_labels_and_teacher_logits_with_the_skeleton() -> None:
    classes = ("none", "left", "right")
    augment = keypoint_augment(True, "agcn_kd", "upper_body_11", classes)
    inputs = _window("upper_body_11").repeat(10, 1, 1, 1, 1)
    targets = torch.tensor([0, 1, 2, 1] * 10)
    teacher = torch.stack([torch.tensor([0.0, 1.0, 2.0])] * 40)
    out, out_targets, out_teacher = augment(inputs, targets, torch.Generator().manual_seed(5), teacher)
    mirrored = (out != inputs).flatten(1).any(dim=1)
    assert 0 < int(mirrored.sum()) < len(inputs)
    swap = torch.tensor([0, 2, 1])
    assert torch.equal(out_targets[mirrored], swap[targets[mirrored]])
    assert torch.equal(out_targets[~mirrored], targets[~mirrored])
    assert torch.equal(out_teacher[mirrored], teacher[mirrored][:, swap])
    assert torch.equal(out_teacher[~mirrored], teacher[~mirrored])
    assert side_class_flip(("no", "yes")) is None
    with pytest.raises(ValueError, match="both 'left' and 'right'"):
        side_class_flip(("none", "left"))


def test_only_keypoint_models_are_mirrored_and_only_when_asked() -> None:
    assert isinstance(keypoint_augment(True, "agcn", "upper_body_11"), MirrorAugment)
    assert isinstance(keypoint_augment(True, "agcn_kd", "face_23"), MirrorAugment)
    assert keypoint_augment(True, "tcn", "upper_body_11") is None
    assert keypoint_augment(False, "agcn", "upper_body_11") is None
