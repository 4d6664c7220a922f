"""The 3D-video study's classifiers of 2-s samples of snippet features `[N, T', D]`.

`LSTMFC`: masking of -1 steps; LSTM 128 -> LSTM 64; FC 64 -> FC 32, each with batch norm then
dropout 0.5; recurrent dropout 0.3; L2 on kernels; He-uniform FC initialisation; one sigmoid unit
trained with class-weighted MSE for two classes, softmax + weighted cross-entropy for more. The
extended variant is LSTM 128/128, FC 128/64. `I3DHead` is the study's baseline: I3D's own
`logits` layer retrained on frozen features (SGD with momentum 0.9, weighted cross-entropy).

PyTorch's `nn.LSTM` has no recurrent dropout, so `MaskedLSTM` runs an `LSTMCell` over time and,
in training, multiplies the recurrent state fed back into the cell by a dropout mask drawn once
per sequence (Gal & Ghahramani's variational dropout, Keras' `recurrent_dropout`). A masked step
leaves the state unchanged (Keras' `Masking`), so -1 pre-padding does not change the output.
"""

from __future__ import annotations

import torch
from torch import nn

from semiology.models.i3d import Unit3D
from semiology.models.objective import Objective
from semiology.records import PAD_VALUE


def step_mask(x: torch.Tensor, value: float = PAD_VALUE) -> torch.Tensor:
    """`[N, T, D]` -> `[N, T]` True for real steps (a padding step is all `value`)."""
    return ~(x == value).all(dim=-1)


class MaskedLSTM(nn.Module):
    """One LSTM layer with masking and variational recurrent dropout; returns `[N, T, H]`."""

    def __init__(self, input_size: int, hidden_size: int, recurrent_dropout: float = 0.0) -> None:
        super().__init__()
        self.cell = nn.LSTMCell(input_size, hidden_size)
        self.hidden_size = hidden_size
        self.recurrent_dropout = recurrent_dropout

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        batch, steps, _ = x.shape
        h = x.new_zeros(batch, self.hidden_size)
        c = x.new_zeros(batch, self.hidden_size)
        keep = None
        if self.training and self.recurrent_dropout > 0:
            keep = torch.bernoulli(x.new_full((batch, self.hidden_size), 1 - self.recurrent_dropout)) / (1 - self.recurrent_dropout)
        outputs = []
        for t in range(steps):
            new_h, new_c = self.cell(x[:, t], (h * keep if keep is not None else h, c))
            real = mask[:, t, None]
            h = torch.where(real, new_h, h)
            c = torch.where(real, new_c, c)
            outputs.append(h)
        return torch.stack(outputs, dim=1)


def _dense(in_features: int, out_features: int, dropout: float) -> nn.Sequential:
    """Linear (He-uniform) -> ReLU -> batch norm -> dropout."""
    linear = nn.Linear(in_features, out_features)
    nn.init.kaiming_uniform_(linear.weight, nonlinearity="relu")
    nn.init.zeros_(linear.bias)
    return nn.Sequential(linear, nn.ReLU(), nn.BatchNorm1d(out_features), nn.Dropout(dropout))


class LSTMFC(nn.Module):
    """Stacked masked LSTMs, then FC blocks; outputs one logit (2 classes) or K logits."""

    def __init__(
        self,
        in_features: int,
        num_class: int,
        lstm_units: tuple[int, ...] = (128, 64),
        fc_units: tuple[int, ...] = (64, 32),
        dropout: float = 0.5,
        recurrent_dropout: float = 0.3,
    ) -> None:
        super().__init__()
        sizes = (in_features, *lstm_units)
        self.lstms = nn.ModuleList(MaskedLSTM(a, b, recurrent_dropout) for a, b in zip(sizes[:-1], sizes[1:]))
        widths = (lstm_units[-1], *fc_units)
        self.fc = nn.Sequential(*(_dense(a, b, dropout) for a, b in zip(widths[:-1], widths[1:])))
        self.out = nn.Linear(widths[-1], 1 if num_class == 2 else num_class)
        nn.init.kaiming_uniform_(self.out.weight, nonlinearity="linear")
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask = step_mask(x)
        hidden = x
        for lstm in self.lstms:
            hidden = lstm(hidden, mask)
        return self.out(self.fc(hidden[:, -1]))


def extended_lstm_fc(in_features: int, num_class: int) -> LSTMFC:
    """The study's extended variant: LSTM 128/128, FC 128/64."""
    return LSTMFC(in_features, num_class, lstm_units=(128, 128), fc_units=(128, 64))


class I3DHead(nn.Module):
    """I3D's `logits` unit (a 1x1x1 convolution, same state-dict name) on frozen `[N, T', D]`
    features, averaged over the real steps, after dropout 0.5 as in I3D."""

    def __init__(self, in_features: int, num_class: int, dropout: float = 0.5) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.logits = Unit3D(in_features, num_class, batch_norm=False, activation=False, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask = step_mask(x).float()
        per_step = self.logits(self.dropout(x).transpose(1, 2)[..., None, None]).flatten(2)  # [N, K, T]
        return (per_step * mask[:, None]).sum(-1) / mask.sum(-1, keepdim=True).clamp(min=1)


def l2_kernels(model: nn.Module) -> torch.Tensor:
    """Sum of squared weight matrices and kernels (not biases, not batch norm)."""
    total = torch.zeros(())
    for name, parameter in model.named_parameters():
        if parameter.ndim >= 2 and "bn" not in name:
            total = total + parameter.pow(2).sum()
    return total


class SequenceObjective(Objective):
    """Sigmoid + class-weighted MSE for one output unit, else weighted cross-entropy; plus L2 on
    kernels while training."""

    def __init__(self, l2: float = 0.0) -> None:
        self.l2 = l2

    def loss(self, model: nn.Module, outputs: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
        if outputs.shape[1] == 1:
            positive = torch.sigmoid(outputs[:, 0])
            per_item = (positive - targets.float()) ** 2
            loss = (per_item * weights[targets]).sum() / weights[targets].sum() if weights is not None else per_item.mean()
        else:
            loss = super().loss(model, outputs, targets, weights)
        if self.l2 > 0 and model.training:
            loss = loss + self.l2 * l2_kernels(model)
        return loss

    def proba(self, outputs: torch.Tensor) -> torch.Tensor:
        if outputs.shape[1] == 1:
            positive = torch.sigmoid(outputs[:, 0])
            return torch.stack([1 - positive, positive], dim=1)
        return torch.softmax(outputs, dim=1)
