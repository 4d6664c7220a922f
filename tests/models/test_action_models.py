"""LSTM-FC (masking, recurrent dropout, objectives), the I3D head, and GESTURES (aggregations, objective, views)."""

import numpy as np
import pytest
import torch

from semiology.models.gestures import GesturesModel, GesturesObjective, average_views, view_seizure_id
from semiology.models.lstm import LSTMFC, I3DHead, SequenceObjective, extended_lstm_fc, l2_kernels


def test_lstm_fc_ignores_minus_one_padding() -> None:
    torch.manual_seed(0)
    model = LSTMFC(5, 2).eval()
    real = torch.randn(3, 4, 5)
    padded = torch.cat([torch.full((3, 3, 5), -1.0), real], dim=1)
    assert torch.allclose(model(real), model(padded), atol=1e-6)
    assert model(real).shape == (3, 1)
    assert LSTMFC(5, 3).eval()(real).shape == (3, 3)


def test_extended_variant_and_recurrent_dropout() -> None:
    model = extended_lstm_fc(5, 2)
    assert [lstm.hidden_size for lstm in model.lstms] == [128, 128]
    assert [block[0].out_features for block in model.fc] == [128, 64]
    model.train()
    torch.manual_seed(1)
    x = torch.randn(4, 7, 5)
    first = model.lstms[0](x, torch.ones(4, 7, dtype=torch.bool))
    second = model.lstms[0](x, torch.ones(4, 7, dtype=torch.bool))
    assert not torch.allclose(first, second)  # a new recurrent mask per call in training
    model.eval()
    assert torch.allclose(model.lstms[0](x, torch.ones(4, 7, dtype=torch.bool)), model.lstms[0](x, torch.ones(4, 7, dtype=torch.bool)))


def test_sequence_objective_weighted_mse_and_l2() -> None:
    model = LSTMFC(2, 2)
    objective = SequenceObjective(l2=0.5)
    outputs = torch.tensor([[0.0], [10.0]])
    targets = torch.tensor([1, 1])
    model.eval()
    assert float(objective.loss(model, outputs, targets, torch.tensor([1.0, 1.0]))) == pytest.approx(0.125, abs=1e-4)
    model.train()
    regularised = float(objective.loss(model, outputs, targets, torch.tensor([1.0, 1.0])).detach())
    assert regularised == pytest.approx(0.125 + 0.5 * float(l2_kernels(model).detach()), rel=1e-4)
    assert torch.allclose(objective.proba(outputs).sum(1), torch.ones(2))


def test_i3d_head_masks_padding_and_keeps_the_logits_name() -> None:
    torch.manual_seed(0)
    head = I3DHead(8, 3).eval()
    assert "logits.conv3d.weight" in head.state_dict()
    real = torch.randn(2, 3, 8)
    padded = torch.cat([torch.full((2, 4, 8), -1.0), real], dim=1)
    assert torch.allclose(head(real), head(padded), atol=1e-6)


@pytest.mark.parametrize("aggregation", ["mean", "lstm", "blstm"])
def test_gestures_outputs_seizure_and_snippet_logits(aggregation: str) -> None:
    model = GesturesModel(6, aggregation=aggregation).eval()
    out = model(torch.randn(2, 5, 6))
    assert out.shape == (2, 6)


def test_gestures_objective_uses_snippet_labels() -> None:
    objective = GesturesObjective(snippet_weight=1.0)
    outputs = torch.tensor([[5.0, -5.0, 5.0]])
    right = torch.tensor([[1, 0, 1]])
    wrong = torch.tensor([[1, 1, 0]])
    model = torch.nn.Linear(1, 1)
    assert float(objective.loss(model, outputs, right, None)) < float(objective.loss(model, outputs, wrong, None))
    assert objective.proba(outputs).shape == (1, 2)


def test_views_of_one_seizure_are_averaged() -> None:
    ids = np.array([view_seizure_id("A-cam1", {"view_of": "A", "view": "cam1"}), view_seizure_id("A-cam2", {"view_of": "A"}), view_seizure_id("B", {})])
    events, prob, first = average_views(ids, np.array([[0.2, 0.8], [0.6, 0.4], [1.0, 0.0]]))
    assert events.tolist() == ["A", "B"]
    assert np.allclose(prob, [[0.4, 0.6], [1.0, 0.0]])
    assert first.tolist() == [0, 2]
