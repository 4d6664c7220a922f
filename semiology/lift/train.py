"""Train the temporal lifter on a synthetic cohort and save its checkpoint (`tools/train_lifter.py`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from semiology.lift.temporal import LifterConfig, LifterTraining, fit_temporal_lifter, save_lifter
from semiology.synthetic import CohortSpec, make_cohort


def train_synthetic_lifter(out: str | Path, subjects: int = 40, steps: int = 1500, channels: int = 128, seed: int = 0) -> Path:
    """Fit a lifter on `subjects` synthetic subjects (one short seizure each) and save it to `out`.

    The cohort's own seed tree is used with `seed`; the provenance stored with the weights says
    which cohort and settings produced them.
    """
    spec = CohortSpec(
        n_subjects=subjects,
        n_seizures=subjects,
        seizures_per_subject=(1, 1),
        n_dystonia_subjects=subjects // 3,
        n_emotion_subjects=subjects // 3,
        n_both_subjects=min(1, subjects // 3),
        seizure_duration_s=(10.0, 20.0),
        seed=seed,
    )
    records = make_cohort(spec)
    body = records[0].body_2d
    if body is None:
        raise ValueError("the synthetic cohort produced no body_2d stream to train on")
    config = LifterConfig(layout=body.layout, num_joints=body.num_joints, channels=channels)
    training = LifterTraining(steps=steps, seed=seed)
    lifter = fit_temporal_lifter(records, config, training)
    provenance = {"cohort": spec.to_dict(), "steps": steps, "final_loss_m": training.loss_history[-1]}
    return save_lifter(lifter, out, provenance)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="train_lifter.py", description="Train the temporal 2D->3D lifter on the synthetic cohort's 3D ground truth.")
    parser.add_argument("--out", type=Path, required=True, help="checkpoint file to write (e.g. checkpoints/temporal_lifter_upper_body_11.pt)")
    parser.add_argument("--subjects", type=int, default=40)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--channels", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    path = train_synthetic_lifter(args.out, args.subjects, args.steps, args.channels, args.seed)
    print(f"temporal lifter saved to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
