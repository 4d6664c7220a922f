"""2s-AGCN formulations: the fused and channels-last training paths equal the reference loop in outputs and gradients."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from semiology.layouts import get_layout
from semiology.models.agcn import AGCN, TemporalUnit
from tests.models.test_agcn import perturb

WIDTHS = {"channels": (16, 32, 32, 64), "strides": (2, 1, 2, 1)}


def _variant(pristine: AGCN, fused: bool, channels_last: bool) -> AGCN:
    model = copy.deepcopy(pristine)
    model.fused, model.channels_last = fused, channels_last
    return model


def _logits_and_gradients(model: AGCN, x: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    logits = model(x)
    return logits.detach(), [g.detach() for g in torch.autograd.grad(F.cross_entropy(logits, labels), list(model.parameters()))]


@pytest.mark.parametrize("channels_last", [False, True], ids=["fused", "fused+channels_last"])
def test_training_step_equals_the_reference_loop(channels_last: bool) -> None:
    """Forward and every parameter gradient of a train-mode step within 1e-5 in float32, relative to max(1, largest value)."""
    torch.manual_seed(0)
    pristine = perturb(AGCN(num_class=4, adjacency=get_layout("upper_body_11").adjacency(), **WIDTHS))
    x, labels = torch.randn(8, 3, 16, 11, 1), torch.randint(0, 4, (8,))
    loop, fast = _variant(pristine, False, False).train(), _variant(pristine, True, channels_last).train()
    assert fast.l3.tcn1.channels_last is channels_last and not loop.l3.tcn1.fused
    ref_logits, ref_gradients = _logits_and_gradients(loop, x, labels)
    logits, gradients = _logits_and_gradients(fast, x, labels)
    torch.testing.assert_close(logits, ref_logits, rtol=0, atol=1e-5 * max(1.0, float(ref_logits.abs().max())))
    scale = max(1.0, max(float(g.abs().max()) for g in ref_gradients))
    for (name, _), found, expected in zip(fast.named_parameters(), gradients, ref_gradients, strict=True):
        torch.testing.assert_close(found, expected, rtol=0, atol=1e-5 * scale, msg=lambda m, name=name: f"{name}: {m}")


def test_channels_last_eval_and_float64_gradients_match() -> None:
    """In float64 the channels-last path is the loop's maths exactly (rounding cannot hide a difference), train and eval."""
    torch.manual_seed(1)
    pristine = perturb(AGCN(num_class=3, adjacency=get_layout("ntu_25").adjacency(), num_person=2, **WIDTHS)).double()
    x = torch.randn(2, 3, 8, 25, 2, dtype=torch.float64)
    for mode in (True, False):
        loop, fast = _variant(pristine, False, False).train(mode), _variant(pristine, True, True).train(mode)
        torch.testing.assert_close(fast(x), loop(x), rtol=1e-10, atol=1e-10)
        fast(x).square().sum().backward()
        loop(x).square().sum().backward()
        for (name, p_fast), p_loop in zip(fast.named_parameters(), loop.parameters(), strict=True):
            assert p_fast.grad is not None and p_loop.grad is not None, name
            torch.testing.assert_close(p_fast.grad, p_loop.grad, rtol=1e-8, atol=1e-10, msg=lambda m, name=name: f"{name}: {m}")


def test_channels_last_switch_reaches_every_temporal_unit_and_keeps_the_output_layout() -> None:
    model = AGCN(num_class=2, adjacency=get_layout("upper_body_11").adjacency(), channels_last=True, **WIDTHS)
    units = [m for m in model.modules() if isinstance(m, TemporalUnit)]
    assert units and all(unit.channels_last for unit in units)
    model.channels_last = False
    assert not any(unit.channels_last for unit in units)
    model.channels_last = True
    out = model.l2.tcn1(torch.randn(2, 32, 12, 11))
    assert out.is_contiguous(), "the graph unit after it reads the default layout"
    assert AGCN(num_class=2, adjacency=get_layout("upper_body_11").adjacency()).channels_last is False
