"""The training optimiser: one update over all parameters, the same weights as the per-parameter loop bit for bit."""

from __future__ import annotations

import pytest
import torch

from semiology.experiment import TrainConfig
from semiology.layouts import UPPER_BODY_11
from semiology.models.agcn import AGCN
from semiology.train.fit import make_optimiser


def _trained(optimiser_of, steps: int = 8) -> torch.Tensor:
    torch.manual_seed(0)
    model = AGCN(2, UPPER_BODY_11.adjacency(), in_channels=4, channels=(8, 16), strides=(2, 1))
    optimiser = optimiser_of(model)
    generator = torch.Generator().manual_seed(1)
    for _ in range(steps):
        x = torch.randn(8, 4, 12, 11, 1, generator=generator)
        y = torch.randint(0, 2, (8,), generator=generator)
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimiser.step()
    return torch.cat([parameter.detach().flatten() for parameter in model.parameters()])


@pytest.mark.parametrize("name", ["adam", "sgd"])
def test_the_batched_update_gives_the_weights_of_the_per_parameter_loop(name):
    config = TrainConfig(lr=0.01, weight_decay=1e-4)
    if name == "sgd":
        loop = _trained(lambda m: torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4, foreach=False))
    else:
        loop = _trained(lambda m: torch.optim.Adam(m.parameters(), lr=0.01, weight_decay=1e-4, foreach=False))
    batched = _trained(lambda m: make_optimiser(m, config, name))
    assert isinstance(make_optimiser(torch.nn.Linear(2, 2), config, name), torch.optim.SGD if name == "sgd" else torch.optim.Adam)
    assert torch.equal(batched, loop)
