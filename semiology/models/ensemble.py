"""A seed ensemble: several copies of one network, trained from different seeds, read as one model.

Its output is the log of the members' mean class probabilities, so `softmax(output)` is
exactly the average of the members' softmax probabilities: every caller that turns logits
into probabilities (evaluation, thresholds, screening, a distillation teacher) sees the
ensemble's averaged prediction without knowing it is an ensemble. Attribution methods that
run the network end to end (integrated gradients) therefore explain the mean; the ones that
need a single network's internals (`forward_features` + `fc` for Grad-CAM, `attention_maps`)
read the first member, and say so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn


class SeedEnsemble(nn.Module):
    """Members of one architecture; `forward` gives `log(mean_i softmax(member_i(x)))` `[N, K]`."""

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        if len(members) < 2:
            raise ValueError(f"a seed ensemble needs at least two members, got {len(members)}")
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Log of the mean member probabilities (logits whose softmax is that mean)."""
        log_probs = torch.stack([torch.log_softmax(member(x), dim=1) for member in self.members])
        return torch.logsumexp(log_probs, dim=0) - math.log(len(self.members))

    @property
    def first(self) -> nn.Module:
        """The first member (trained from the model's own seed, as a single model would be)."""
        return self.members[0]

    @property
    def fc(self) -> nn.Module:
        """The first member's classifier, paired with `forward_features` for Grad-CAM."""
        return self.first.fc

    def forward_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The first member's pooled features and feature map (members' features do not average)."""
        return self.first.forward_features(x)

    def attention_maps(self, x: torch.Tensor) -> list[dict[str, torch.Tensor]]:
        """The first member's graph attention maps (AGCN members only)."""
        return self.first.attention_maps(x)
