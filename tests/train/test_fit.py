import numpy as np
import torch
from torch import nn

from semiology.experiment import TrainConfig
from semiology.train.fit import class_weights, fit_classifier, predict_proba


def test_class_weights_balance_the_classes():
    weights = class_weights(np.array([0, 0, 0, 1]), 2)
    assert torch.allclose(weights, torch.tensor([4 / 6, 4 / 2]))
    assert class_weights(np.array([0, 0]), 2)[1] == 1.0


def _toy(n, rng):
    y = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    x[:, 0] += 2.5 * (2 * y - 1)
    return x, y


def test_fit_learns_keeps_best_epoch_and_is_deterministic():
    rng = np.random.default_rng(0)
    x_train, y_train = _toy(128, rng)
    x_val, y_val = _toy(64, rng)
    config = TrainConfig(epochs=12, batch_size=16, lr=0.01, patience=3)

    def build():
        return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))

    first = fit_classifier(build, x_train, y_train, x_val, y_val, 2, config, seed=3)
    second = fit_classifier(build, x_train, y_train, x_val, y_val, 2, config, seed=3)
    best = int(np.argmin(first.curves["val_loss"])) + 1
    assert first.best_epoch == best
    assert len(first.curves["train_loss"]) <= config.epochs
    accuracy = (predict_proba(first.model, x_val).argmax(1) == y_val).mean()
    assert accuracy > 0.9
    np.testing.assert_array_equal(first.val_prob, second.val_prob)
    np.testing.assert_allclose(predict_proba(first.model, x_val), first.val_prob, atol=1e-6)


def test_early_stopping_stops_after_patience():
    rng = np.random.default_rng(1)
    x_train = rng.normal(size=(64, 4)).astype(np.float32)
    y_train = rng.integers(0, 2, 64)
    x_val = rng.normal(size=(32, 4)).astype(np.float32)
    y_val = rng.integers(0, 2, 32)
    config = TrainConfig(epochs=50, batch_size=16, lr=0.05, patience=2)
    result = fit_classifier(lambda: nn.Linear(4, 2), x_train, y_train, x_val, y_val, 2, config, seed=0)
    assert len(result.curves["val_loss"]) == result.best_epoch + config.patience


def test_distillation_pulls_the_student_towards_the_teacher():
    rng = np.random.default_rng(2)
    x_train, y_train = _toy(96, rng)
    x_val, y_val = _toy(32, rng)
    teacher_logits = np.zeros((96, 2), dtype=np.float32)
    teacher_logits[:, 1] = 6.0
    config = TrainConfig(epochs=15, batch_size=16, lr=0.01, patience=15, class_weighted=False)
    from semiology.experiment import DistillationConfig

    plain = fit_classifier(lambda: nn.Linear(4, 2), x_train, y_train, x_val, y_val, 2, config, seed=0)
    distilled = fit_classifier(
        lambda: nn.Linear(4, 2), x_train, y_train, x_val, y_val, 2, config, seed=0,
        teacher_logits=teacher_logits, distillation=DistillationConfig(temperature=2.0, alpha=0.1),
    )
    assert distilled.val_prob[:, 1].mean() > plain.val_prob[:, 1].mean() + 0.1


def test_validation_auc_ranks_the_classes_and_needs_two_of_them():
    from semiology.train.fit import validation_auc

    prob = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.45, 0.55]])
    assert validation_auc(np.array([0, 0, 1, 1]), prob) == 1.0
    assert validation_auc(np.array([0, 1, 0, 1]), prob) == 0.5
    assert np.isnan(validation_auc(np.array([1, 1, 1, 1]), prob))
    three = np.eye(3)[[0, 1, 2, 2]] * 0.8 + 0.2 / 3
    assert validation_auc(np.array([0, 1, 2, 2]), three) == 1.0


def test_auc_selection_keeps_the_epoch_of_highest_validation_auc_ties_to_the_lower_loss():
    rng = np.random.default_rng(4)
    x_train, y_train = _toy(96, rng)
    x_val, y_val = _toy(48, rng)
    x_val[:, 0] += rng.normal(0.0, 3.0, size=48).astype(np.float32)
    config = TrainConfig(epochs=10, batch_size=16, lr=0.02, patience=10, select="auc")
    result = fit_classifier(lambda: nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)), x_train, y_train, x_val, y_val, 2, config, seed=1)
    auc, loss = np.array(result.curves["val_auc"]), np.array(result.curves["val_loss"])
    assert len(auc) == len(loss) == config.epochs
    best = max(range(len(auc)), key=lambda e: (round(auc[e], 6), -loss[e])) + 1
    assert result.best_epoch == best
    by_loss = fit_classifier(lambda: nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)), x_train, y_train, x_val, y_val, 2,
                             TrainConfig(epochs=10, batch_size=16, lr=0.02, patience=10), seed=1)
    assert by_loss.best_epoch == int(np.argmin(by_loss.curves["val_loss"])) + 1
    assert by_loss.curves["val_auc"] == result.curves["val_auc"], "the selection rule must not change training"


def test_auc_selection_falls_back_to_the_loss_when_validation_has_one_class():
    rng = np.random.default_rng(5)
    x_train, y_train = _toy(64, rng)
    x_val, _ = _toy(16, rng)
    y_val = np.ones(16, dtype=np.int64)
    config = TrainConfig(epochs=6, batch_size=16, lr=0.02, patience=6, select="auc")
    result = fit_classifier(lambda: nn.Linear(4, 2), x_train, y_train, x_val, y_val, 2, config, seed=0)
    assert np.isnan(result.curves["val_auc"]).all()
    assert result.best_epoch == int(np.argmin(result.curves["val_loss"])) + 1
