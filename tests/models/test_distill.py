"""Distillation: the loss against a hand computation, and a teacher that stays frozen."""

import math

import pytest
import torch
from torch import nn

from semiology.models.distill import DistillationLoss, FrozenTeacher, SoftTargetKLLoss


def _softmax(values: list[float]) -> list[float]:
    exps = [math.exp(v) for v in values]
    return [e / sum(exps) for e in exps]


def test_loss_matches_hand_computation() -> None:
    student = [[1.0, 0.0], [0.0, 2.0]]
    teacher = [[0.0, 2.0], [1.0, 1.0]]
    target = [0, 1]
    class_weight = [1.0, 3.0]
    temperature, alpha = 2.0, 0.25

    weighted_nll = sum(class_weight[y] * -math.log(_softmax(s)[y]) for s, y in zip(student, target))
    ce = weighted_nll / sum(class_weight[y] for y in target)
    kl = 0.0
    for s, t in zip(student, teacher):
        p_t = _softmax([v / temperature for v in t])
        p_s = _softmax([v / temperature for v in s])
        kl += sum(pt * math.log(pt / ps) for pt, ps in zip(p_t, p_s))
    kd = temperature**2 * kl / len(student)
    expected = alpha * ce + (1 - alpha) * kd

    loss = DistillationLoss(temperature=temperature, alpha=alpha, class_weight=torch.tensor(class_weight))
    total, parts = loss(torch.tensor(student), torch.tensor(teacher), torch.tensor(target))
    assert total.item() == pytest.approx(expected, rel=1e-6)
    assert parts["ce"].item() == pytest.approx(ce, rel=1e-6)
    assert parts["kd"].item() == pytest.approx(kd, rel=1e-6)


def test_alpha_one_is_cross_entropy_and_identical_logits_have_no_kd() -> None:
    torch.manual_seed(0)
    student, teacher = torch.randn(6, 3), torch.randn(6, 3)
    target = torch.tensor([0, 1, 2, 0, 1, 2])
    total, _ = DistillationLoss(alpha=1.0)(student, teacher, target)
    torch.testing.assert_close(total, nn.functional.cross_entropy(student, target))
    assert SoftTargetKLLoss(4.0)(student, student).item() == pytest.approx(0.0, abs=1e-6)


def test_gradient_reaches_student_only() -> None:
    torch.manual_seed(0)
    student = torch.randn(4, 2, requires_grad=True)
    teacher = torch.randn(4, 2, requires_grad=True)
    total, _ = DistillationLoss(alpha=0.0)(student, teacher, torch.tensor([0, 1, 0, 1]))
    total.backward()
    assert student.grad is not None and student.grad.abs().sum() > 0
    assert teacher.grad is None


def test_teacher_stays_frozen_while_student_trains() -> None:
    torch.manual_seed(0)
    teacher_net = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.Dropout(0.5), nn.Linear(8, 2))
    frozen = FrozenTeacher(teacher_net)
    student = nn.Linear(3, 2)
    pair = nn.ModuleDict({"student": student, "teacher": frozen})
    before = {name: value.clone() for name, value in teacher_net.state_dict().items()}

    pair.train()
    assert student.training
    assert not any(module.training for module in teacher_net.modules())
    assert not any(p.requires_grad for p in frozen.parameters())

    optimiser = torch.optim.SGD(student.parameters(), lr=0.1)
    x = torch.randn(8, 3)
    teacher_logits = frozen(x)
    assert not teacher_logits.requires_grad
    torch.testing.assert_close(teacher_logits, frozen(x))  # eval mode: no dropout, no batch statistics
    total, _ = DistillationLoss()(student(x), teacher_logits, torch.randint(0, 2, (8,)))
    total.backward()
    optimiser.step()

    assert all(p.grad is None for p in teacher_net.parameters())
    for name, value in teacher_net.state_dict().items():
        torch.testing.assert_close(value, before[name])
