"""What the attributions read on a hand-built linear network whose answer is known exactly.

Inputs are AGCN-shaped `[N, C=3, T, V=3, M=1]` (x, y, confidence). The network's logits:
  z_no  = 2 * s0
  z_yes = 2 * s0 + 3 * s1 - 1 * s2 + 5 * (1 - c0)
with s_j the sum of joint j's coordinates over the window and c0 the mean confidence of joint 0.
Joint 0 moves both logits together (irrelevant to the decision), joint 1 is evidence for
"yes", joint 2 evidence against it, and a missing detection of joint 0 would push "yes" up.
"""

import numpy as np
import pytest
import torch

from semiology.explain.attributions import LogOdds, explained_output, integrated_gradients, joint_readings, log_odds, rest_baseline
from semiology.explain.faithfulness import mask_joints


class _Linear(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        coords = x[:, :2].sum(dim=(1, 2, 4))  # [N, V]
        confidence = x[:, 2, :, 0, 0].mean(dim=1)
        no = 2 * coords[:, 0]
        yes = 2 * coords[:, 0] + 3 * coords[:, 1] - coords[:, 2] + 5 * (1 - confidence)
        return torch.stack([no, yes], dim=1)


@pytest.fixture
def inputs() -> np.ndarray:
    x = np.zeros((2, 3, 4, 3, 1), dtype=np.float32)
    x[:, :2] = 0.25  # every joint displaced from rest by the same amount
    x[:, 2] = 0.9
    return x


def test_log_odds_of_two_classes_is_the_logit_difference():
    logits = torch.tensor([[0.5, 2.0], [-1.0, 3.0]])
    np.testing.assert_allclose(log_odds(logits)[:, 1], logits[:, 1] - logits[:, 0])
    three = torch.tensor([[0.0, 1.0, 2.0]])
    expected = 2.0 - torch.logsumexp(torch.tensor([0.0, 1.0]), dim=0)
    assert float(log_odds(three)[0, 2]) == pytest.approx(float(expected))
    with pytest.raises(ValueError, match="unknown attribution objective"):
        explained_output(_Linear(), "probability")


def test_log_odds_attributions_ignore_what_moves_every_logit_alike(inputs):
    baseline = rest_baseline(inputs)
    raw = integrated_gradients(_Linear(), inputs, target=1, steps=16, baseline=baseline)
    decided = integrated_gradients(explained_output(_Linear(), "log_odds"), inputs, target=1, steps=16, baseline=baseline)
    _, raw_signed, _ = joint_readings(raw)
    _, signed, _ = joint_readings(decided)
    per_joint_raw, per_joint = raw_signed.sum(axis=1), signed.sum(axis=1)  # [N, V]
    np.testing.assert_allclose(per_joint_raw[:, 0], 2 * 2.0, rtol=1e-5)  # the raw logit credits joint 0 ...
    np.testing.assert_allclose(per_joint[:, 0], 0.0, atol=1e-5)  # ... the decision does not depend on it
    np.testing.assert_allclose(per_joint[:, 1], 3 * 2.0, rtol=1e-5)
    np.testing.assert_allclose(per_joint[:, 2], -1 * 2.0, rtol=1e-5)
    assert np.abs(decided[:, -1]).max() == 0  # confidence is kept by the baseline, so it gets nothing
    with torch.no_grad():
        gap = LogOdds(_Linear())(torch.from_numpy(inputs))[:, 1] - LogOdds(_Linear())(torch.from_numpy(baseline))[:, 1]
    np.testing.assert_allclose(decided.reshape(2, -1).sum(axis=1), gap.numpy(), rtol=1e-5)


def test_positive_part_keeps_evidence_for_the_class_and_magnitude_keeps_both(inputs):
    attributions = integrated_gradients(explained_output(_Linear(), "log_odds"), inputs, target=1, steps=16, baseline=rest_baseline(inputs))
    evidence_for, signed, magnitude = joint_readings(attributions)
    assert evidence_for.shape == signed.shape == magnitude.shape == (2, 4, 3)
    totals_for, totals_magnitude = evidence_for.sum(axis=(0, 1)), magnitude.sum(axis=(0, 1))
    assert totals_for[2] == 0 and totals_magnitude[2] > 0  # joint 2 argues against "yes"
    assert totals_for[1] / totals_for.sum() == pytest.approx(1.0)
    assert totals_magnitude[1] / totals_magnitude.sum() == pytest.approx(0.75)  # |IG| adds the evidence against


def test_rest_deletion_is_the_integrated_gradients_baseline(inputs):
    """Masking every joint at rest gives exactly the IG baseline; marking them undetected does not."""
    every_joint = range(inputs.shape[3])
    np.testing.assert_array_equal(mask_joints(inputs, every_joint), rest_baseline(inputs))
    undetected = mask_joints(inputs, every_joint, perturbation="undetected")
    assert undetected.max() == 0
    network = explained_output(_Linear(), "log_odds")
    with torch.no_grad():
        at_rest = network(torch.from_numpy(mask_joints(inputs, [0])))[:, 1]
        missing = network(torch.from_numpy(mask_joints(inputs, [0], perturbation="undetected")))[:, 1]
        observed = network(torch.from_numpy(inputs))[:, 1]
    np.testing.assert_allclose(at_rest.numpy(), observed.numpy(), rtol=1e-6)  # joint 0 carries no evidence: no change
    assert (missing > observed).all()  # a missing detection is new, out-of-reference input that raises "yes"
    with pytest.raises(ValueError, match="unknown deletion perturbation"):
        mask_joints(inputs, [0], perturbation="blur")
