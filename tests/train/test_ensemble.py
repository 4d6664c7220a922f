"""Seed ensembles: members differ, probabilities average, one member is the plain fit, deterministic."""

import numpy as np
import pytest
import torch
from torch import nn

from semiology.experiment import TrainConfig
from semiology.models.ensemble import SeedEnsemble
from semiology.train.ensemble import fit_ensemble, member_epochs, member_seeds
from semiology.train.fit import fit_classifier, predict_proba


def _toy(n, rng):
    y = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    x[:, 0] += 1.0 * (2 * y - 1)
    return x, y


def _build():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return (*_toy(96, rng), *_toy(48, rng))


CONFIG = TrainConfig(epochs=6, batch_size=16, lr=0.01, patience=3)


def test_member_seeds_start_at_the_model_seed_and_differ():
    seeds = member_seeds(42, 4)
    assert seeds[0] == 42 and len(set(seeds)) == 4
    assert member_epochs([3, 5, 4, 8]) == 5 and member_epochs([2, 3]) == 3
    with pytest.raises(ValueError):
        member_seeds(0, 0)


def test_one_member_is_exactly_fit_classifier(data):
    single = fit_ensemble(_build, *data, 2, CONFIG, seed=7, members=1)
    plain = fit_classifier(_build, *data, 2, CONFIG, seed=7)
    assert not isinstance(single.model, SeedEnsemble)
    np.testing.assert_array_equal(single.val_prob, plain.val_prob)


def test_members_differ_and_probabilities_average(data):
    x_train, y_train, x_val, y_val = data
    result = fit_ensemble(_build, x_train, y_train, x_val, y_val, 2, CONFIG, seed=7, members=3)
    assert isinstance(result.model, SeedEnsemble) and len(result.model.members) == 3
    member_probs = [predict_proba(member, x_val) for member in result.model.members]
    assert not np.allclose(member_probs[0], member_probs[1], atol=1e-4)
    np.testing.assert_allclose(result.val_prob, np.mean(member_probs, axis=0), atol=1e-6)
    np.testing.assert_allclose(predict_proba(result.model, x_val), result.val_prob, atol=1e-6)
    first = fit_classifier(_build, x_train, y_train, x_val, y_val, 2, CONFIG, seed=7)
    np.testing.assert_allclose(member_probs[0], first.val_prob, atol=1e-6)
    again = fit_ensemble(_build, x_train, y_train, x_val, y_val, 2, CONFIG, seed=7, members=3)
    np.testing.assert_array_equal(again.val_prob, result.val_prob)


def test_ensemble_logits_are_log_mean_probabilities():
    torch.manual_seed(0)
    members = [nn.Linear(3, 4), nn.Linear(3, 4)]
    ensemble = SeedEnsemble(members)
    x = torch.randn(5, 3)
    expected = (torch.softmax(members[0](x), 1) + torch.softmax(members[1](x), 1)) / 2
    torch.testing.assert_close(torch.softmax(ensemble(x), 1), expected)
    torch.testing.assert_close(ensemble(x).exp().sum(1), torch.ones(5))
    with pytest.raises(ValueError, match="at least two"):
        SeedEnsemble(members[:1])
