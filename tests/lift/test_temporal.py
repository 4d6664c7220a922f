"""Temporal 2D->3D lifter: learns 3D from 2D on synthetic subjects, generalises to held-out ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from semiology.errors import CheckpointError
from semiology.lift.temporal import LifterConfig, LifterTraining, TemporalLifter, fit_temporal_lifter, lift_keypoints, load_lifter, root_relative_m, save_lifter
from semiology.synthetic import CohortSpec, make_cohort


@pytest.fixture(scope="module")
def cohort():
    spec = CohortSpec(
        n_subjects=30, n_seizures=30, seizures_per_subject=(1, 1), n_dystonia_subjects=12, n_emotion_subjects=12,
        n_both_subjects=4, seizure_duration_s=(5.0, 5.0), pre_ictal_s=2.0, post_ictal_s=2.0, seed=7,
    )
    return make_cohort(spec)


def _mpjpe_mm(predicted_mm: np.ndarray, target_m: np.ndarray) -> float:
    present = np.isfinite(predicted_mm).all(-1) & np.isfinite(target_m).all(-1)
    return float(np.linalg.norm(predicted_mm[present] - 1000.0 * target_m[present], axis=-1).mean())


def test_short_training_beats_the_mean_pose_on_held_out_subjects(cohort, tmp_path: Path) -> None:
    train, test = cohort[:26], cohort[26:]
    assert not {r.subject_id for r in train} & {r.subject_id for r in test}
    config = LifterConfig(layout="upper_body_11", num_joints=11, channels=64, dropout=0.2)
    training = LifterTraining(steps=400, batch_size=16)
    lifter = fit_temporal_lifter(train, config, training)
    assert np.mean(training.loss_history[-20:]) < 0.6 * np.mean(training.loss_history[:5])

    mean_pose_m = np.nanmean(np.concatenate([root_relative_m(r.body_3d) for r in train]), axis=0)
    lifted_all, target_all = [], []
    for record in test:
        lifted = lift_keypoints(lifter, record.body_2d)
        assert lifted.coords.shape == record.body_3d.coords.shape and lifted.layout == "upper_body_11"
        lifted_all.append(lifted.coords)
        target_all.append(root_relative_m(record.body_3d))
    target = np.concatenate(target_all)
    lifted_mm = _mpjpe_mm(np.concatenate(lifted_all), target)
    baseline_mm = _mpjpe_mm(np.broadcast_to(1000.0 * mean_pose_m, target.shape), target)
    print(f"held-out MPJPE: lifter {lifted_mm:.1f} mm, mean pose {baseline_mm:.1f} mm")
    assert lifted_mm < 0.85 * baseline_mm, f"lifter {lifted_mm:.0f} mm vs mean pose {baseline_mm:.0f} mm"

    path = save_lifter(lifter, tmp_path / "lifter.pt", {"trained_on": [r.subject_id for r in train]})
    reloaded = load_lifter(path)
    again = lift_keypoints(reloaded, test[0].body_2d)
    np.testing.assert_allclose(again.coords, lift_keypoints(lifter, test[0].body_2d).coords, atol=1e-4)


def test_missing_2d_joints_stay_missing_in_3d(cohort) -> None:
    lifter = TemporalLifter(LifterConfig(layout="upper_body_11", num_joints=11, channels=16))
    keypoints = cohort[0].body_2d
    keypoints.confidence[3:6, 4] = 0.0
    lifted = lift_keypoints(lifter, keypoints)
    assert np.isnan(lifted.coords[3:6, 4]).all() and (lifted.confidence[3:6, 4] == 0).all()
    assert np.isfinite(lifted.coords[0]).all()


def test_missing_or_wrong_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not found"):
        load_lifter(tmp_path / "absent.pt")
    other = tmp_path / "other.pt"
    torch.save({"state_dict": {}}, other)
    with pytest.raises(CheckpointError, match="not a temporal lifter"):
        load_lifter(other)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="garbage.pt"):
        load_lifter(garbage)
    lifter = TemporalLifter(LifterConfig(layout="upper_body_11", num_joints=11, channels=16))
    path = save_lifter(lifter, tmp_path / "lifter.pt")
    payload = torch.load(path, weights_only=True)
    payload["config"]["channels"] = 32
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="do not fit"):
        load_lifter(path)


def test_train_lifter_tool_writes_a_loadable_checkpoint(tmp_path: Path, capsys) -> None:
    from semiology.lift.train import main

    assert main(["--out", str(tmp_path / "lifter.pt"), "--subjects", "3", "--steps", "3", "--channels", "8"]) == 0
    assert "lifter.pt" in capsys.readouterr().out
    lifter = load_lifter(tmp_path / "lifter.pt")
    assert lifter.config.layout == "upper_body_11" and lifter.config.channels == 8
