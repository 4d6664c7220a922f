"""Knowledge distillation from the TCN appearance stream (teacher) into the AGCN (student).

Following mmpose's distiller, the teacher is frozen (eval mode, no gradients, not switched
back to training by `train()`) and each loss is a named module. The teacher must be fitted on
the training subjects of the current fold only; that is the caller's duty, and a teacher that
has seen the held-out subject leaks its labels into the student. At test time the student
alone predicts: the teacher is needed only while the student trains.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F


class SoftTargetKLLoss(nn.Module):
    """Hinton's soft-target term: `T^2 * KL(softmax(teacher/T) || softmax(student/T))`, batch mean.

    The `T^2` factor keeps the gradient scale of this term independent of the temperature.
    """

    def __init__(self, temperature: float = 4.0) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        self.temperature = float(temperature)

    def forward(self, student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
        """Scalar loss for `[N, K]` logits; no gradient flows into the teacher's logits."""
        if student_logits.shape != teacher_logits.shape:
            raise ValueError(
                f"student and teacher logits differ in shape: {tuple(student_logits.shape)} "
                f"vs {tuple(teacher_logits.shape)}"
            )
        log_student = F.log_softmax(student_logits / self.temperature, dim=1)
        log_teacher = F.log_softmax(teacher_logits.detach() / self.temperature, dim=1)
        kl = F.kl_div(log_student, log_teacher, reduction="batchmean", log_target=True)
        return kl * self.temperature**2


class DistillationLoss(nn.Module):
    """`alpha * CE(student, target) + (1 - alpha) * T^2 * KL(teacher || student)`.

    The cross-entropy is class-weighted when `class_weight` is given (weighted mean, as
    `F.cross_entropy`). `forward` returns the total and its named parts `{"ce", "kd"}` so both
    can be logged.
    """

    def __init__(self, temperature: float = 4.0, alpha: float = 0.5, class_weight: torch.Tensor | None = None) -> None:
        super().__init__()
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
        self.alpha = float(alpha)
        self.kd = SoftTargetKLLoss(temperature)
        self.class_weight: torch.Tensor | None
        if class_weight is None:
            self.register_buffer("class_weight", None)
        else:
            self.register_buffer("class_weight", torch.as_tensor(class_weight, dtype=torch.float32))

    @property
    def temperature(self) -> float:
        """Softmax temperature of the soft-target term."""
        return self.kd.temperature

    def forward(
        self, student_logits: torch.Tensor, teacher_logits: torch.Tensor, target: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Return `(total, {"ce": ce, "kd": kd})` for `[N, K]` logits and `[N]` class indices."""
        ce = F.cross_entropy(student_logits, target, weight=self.class_weight)
        kd = self.kd(student_logits, teacher_logits)
        total = self.alpha * ce + (1.0 - self.alpha) * kd
        return total, {"ce": ce, "kd": kd}


class FrozenTeacher(nn.Module):
    """Wrap a fitted teacher so it stays in eval mode, has no trainable parameters and runs under `no_grad`.

    Calling `train()` on the wrapper, or on a module that holds it beside the student, leaves
    the teacher in eval mode, so its batch-norm statistics and dropout never change.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.teacher = model
        self.teacher.requires_grad_(False)
        self.teacher.eval()

    def train(self, mode: bool = True) -> FrozenTeacher:
        """Set the wrapper's flag as asked but keep the teacher itself in eval mode."""
        super().train(mode)
        self.teacher.eval()
        return self

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The teacher's output, computed without building a graph."""
        with torch.no_grad():
            return self.teacher(*args, **kwargs)
