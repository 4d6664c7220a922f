"""The fitting loop: class-weighted loss, optional distillation, early stopping on an inner split.

The validation arrays passed here must come from training subjects held out of fitting (the
inner split), never from the outer test subject: the epoch kept is chosen on them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import chain

import numpy as np
import torch
from sklearn import config_context
from sklearn.metrics import f1_score, roc_auc_score
from torch import nn

from semiology.engines.device import torch_device
from semiology.experiment import DistillationConfig, TrainConfig
from semiology.models.distill import DistillationLoss
from semiology.models.objective import Objective, class_column
from semiology.train.augment import BatchAugment


@dataclass
class FitResult:
    """A fitted model (weights of the selected epoch, in eval mode) and its learning curves."""

    model: nn.Module
    best_epoch: int
    val_prob: np.ndarray
    curves: dict[str, list[float]] = field(default_factory=dict)


def class_weights(labels: np.ndarray, num_class: int) -> torch.Tensor:
    """Inverse-frequency weights `n / (K * count)`; a class absent from training gets weight 1."""
    counts = np.bincount(labels, minlength=num_class).astype(np.float64)
    weights = np.where(counts > 0, len(labels) / (num_class * np.maximum(counts, 1)), 1.0)
    return torch.tensor(weights, dtype=torch.float32)


@torch.inference_mode()
def predict_logits(model: nn.Module, inputs: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Logits of `model` in eval mode over `inputs`, batched on the model's device, returned on the CPU."""
    model.eval()
    device = next(chain(model.parameters(), model.buffers()), torch.zeros(0)).device
    outputs = [model(torch.from_numpy(inputs[i : i + batch_size]).to(device)) for i in range(0, len(inputs), batch_size)]
    if not outputs:
        return np.zeros((0, 0), dtype=np.float32)
    return torch.cat(outputs).cpu().numpy()


def predict_proba(model: nn.Module, inputs: np.ndarray, batch_size: int = 256, objective: Objective | None = None) -> np.ndarray:
    """Class probabilities `[N, K]` (softmax unless the model's `objective` says otherwise)."""
    logits = predict_logits(model, inputs, batch_size)
    return (objective or Objective()).proba(torch.from_numpy(logits)).numpy()


@config_context(skip_parameter_validation=True)
def validation_auc(labels: np.ndarray, prob: np.ndarray) -> float:
    """ROC AUC of `prob` `[N, K]` for `labels` (macro one-vs-rest over the classes present); NaN with one class.

    Runs once per epoch of every fit: sklearn's parameter checks skipped: see docs/decisions.md#sklearn-parameter-checks.
    """
    present = np.unique(labels)
    if len(present) < 2:
        return float("nan")
    if prob.shape[1] == 2:
        return float(roc_auc_score(labels, prob[:, 1]))
    scores = [roc_auc_score(labels == k, prob[:, k]) for k in present]
    return float(np.mean(scores))


def _batches(num_items: int, batch_size: int, generator: torch.Generator) -> list[torch.Tensor]:
    """Shuffled index batches; a trailing batch of one is merged (batch norm needs two)."""
    order = torch.randperm(num_items, generator=generator)
    batches = list(order.split(batch_size))
    if len(batches) > 1 and len(batches[-1]) == 1:
        batches[-2] = torch.cat([batches[-2], batches.pop()])
    return batches


def make_optimiser(model: nn.Module, config: TrainConfig, optimiser: str = "adam") -> torch.optim.Optimizer:
    """Adam, or with `optimiser="sgd"` SGD with momentum 0.9, at `config`'s learning rate and weight decay.

    `foreach=True`: one update over all parameters instead of a loop of small ones per
    parameter, bit for bit the same weights (checked on the demo's AGCN after 20 steps) and
    about 4 % of a demo-sized training step less (see docs/decisions.md#demo-runtime).
    """
    if optimiser == "sgd":
        return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=0.9, weight_decay=config.weight_decay, foreach=True)
    return torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay, foreach=True)


def fit_classifier(
    build_model: Callable[[], nn.Module],
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    num_class: int,
    config: TrainConfig,
    seed: int,
    teacher_logits: np.ndarray | None = None,
    distillation: DistillationConfig | None = None,
    objective: Objective | None = None,
    optimiser: str = "adam",
    augment: BatchAugment | None = None,
    device: str | torch.device | None = None,
) -> FitResult:
    """Train with Adam, keep the best epoch on the inner validation split, stop after `patience`.

    The best epoch has the lowest inner-validation loss, or with `config.select == "auc"` the
    highest validation AUC (ties to the lower loss); `patience` epochs without a better one end
    training.

    With `teacher_logits` (a frozen teacher's logits on `x_train`, row for row) the loss is
    the distillation loss: class-weighted cross-entropy plus temperature-scaled KL to the
    teacher. An `objective` replaces the cross-entropy (see `Objective`); `optimiser="sgd"`
    uses SGD with momentum 0.9 instead of Adam. `augment` transforms each training batch
    (e.g. `MirrorAugment`), drawing from the seeded generator. Deterministic given `seed`.
    `device` (`cpu`, `cuda`, `cuda:1`; None: `config.device`, the study's `train.device`) is
    where the model trains: batches are drawn and augmented on the CPU and moved there; the
    returned model stays there. A device this machine lacks is a DeviceError naming it.
    """
    device = torch_device(config.device if device is None else device)
    torch.manual_seed(seed)
    model = build_model().to(device)
    generator = torch.Generator().manual_seed(seed)
    weights = class_weights(class_column(y_train), num_class) if config.class_weighted else None
    objective = objective or Objective()

    def criterion(outputs: torch.Tensor, batch_targets: torch.Tensor) -> torch.Tensor:
        return objective.loss(model, outputs, batch_targets, None if weights is None else weights.to(outputs.device))

    distiller = None
    if teacher_logits is not None:
        settings = distillation or DistillationConfig()
        distiller = DistillationLoss(temperature=settings.temperature, alpha=settings.alpha, class_weight=weights).to(device)
        teacher_tensor = torch.from_numpy(np.ascontiguousarray(teacher_logits, dtype=np.float32))
    step = make_optimiser(model, config, optimiser)
    inputs = torch.from_numpy(x_train)
    targets = torch.from_numpy(y_train.astype(np.int64))
    val_targets = torch.from_numpy(y_val.astype(np.int64))

    curves: dict[str, list[float]] = {"train_loss": [], "val_loss": [], "val_macro_f1": [], "val_auc": []}
    best_score, best_epoch, best_state, best_prob = (-np.inf, -np.inf), 0, None, None
    stale_epochs = 0
    for epoch in range(1, config.epochs + 1):
        model.train()
        running, seen = 0.0, 0
        for batch in _batches(len(inputs), config.batch_size, generator):
            batch_inputs, batch_targets = inputs[batch], targets[batch]
            batch_teacher = teacher_tensor[batch] if distiller is not None else None
            if augment is not None:
                batch_inputs, batch_targets, batch_teacher = augment(batch_inputs, batch_targets, generator, batch_teacher)
            batch_inputs, batch_targets = batch_inputs.to(device), batch_targets.to(device)
            if batch_teacher is not None:
                batch_teacher = batch_teacher.to(device)
            logits = model(batch_inputs)
            if distiller is not None:
                loss, _ = distiller(logits, batch_teacher, batch_targets)
            else:
                loss = criterion(logits, batch_targets)
            step.zero_grad()
            loss.backward()
            step.step()
            running += float(loss.detach()) * len(batch)
            seen += len(batch)
        val_logits = torch.from_numpy(predict_logits(model, x_val))
        val_loss = float(criterion(val_logits, val_targets))
        val_prob = objective.proba(val_logits).numpy()
        val_labels = class_column(y_val)
        with config_context(skip_parameter_validation=True):
            val_f1 = f1_score(val_labels, val_prob.argmax(1), average="macro", labels=np.unique(val_labels), zero_division=0)
        curves["train_loss"].append(running / max(seen, 1))
        curves["val_loss"].append(val_loss)
        val_auc = validation_auc(val_labels, val_prob)
        curves["val_macro_f1"].append(float(val_f1))
        curves["val_auc"].append(val_auc)
        score = (round(val_auc, 6), -val_loss) if config.select == "auc" and np.isfinite(val_auc) else (0.0, -val_loss)
        if score[0] > best_score[0] or (score[0] == best_score[0] and score[1] > best_score[1] + 1e-6):
            best_score, best_epoch, best_prob = score, epoch, val_prob
            best_state = copy.deepcopy(model.state_dict())
            stale_epochs = 0
        else:
            stale_epochs += 1
            if stale_epochs >= config.patience:
                break
    model.load_state_dict(best_state)
    model.eval()
    return FitResult(model=model, best_epoch=best_epoch, val_prob=best_prob, curves=curves)
