"""Do the attributions point at the planted signs? Planted-joint mass and deletion tests on the synthetic cohort.

Trains the dystonia AGCN-pose and emotion AGCN-face bundles with the settings of
configs/demo.yaml (LOSO on the default synthetic cohort, final models refit on all subjects
with the folds' median epoch and mean threshold), then explains every seizure that carries
the planted sign in a fresh cohort of unseen subjects (same spec, another seed) and prints:

- the share of integrated-gradients mass (baseline: every joint at rest, detections as
  observed; see semiology/explain/attributions.py) over the ictal period on the planted joints (the
  dystonic arm's shoulder, elbow, wrist) or landmarks (brows, eye lids, mouth), averaged over
  those seizures (target >= 60 %), beside the share those joints would get by count alone;
- how often the single most attributed joint is a planted one (other planted signs of the
  same seizure -- automatisms, hyperkinetic movement, head version, clonic jerks -- move
  other joints and legitimately draw attribution too);
- the share of those seizures whose top-k deletion curve lies below the random-joints curve
  (positive area between them; target >= 80 %).

    .venv/bin/python benchmarks/explain_faithfulness.py [--out out/faithfulness] [--eval-seed 1]
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np
import torch

from semiology.bundle import load_bundle, prepare_record
from semiology.cli import DEMO_CONFIG
from semiology.evaluate.run import load_experiment, run_experiment
from semiology.explain.attributions import explain_record
from semiology.explain.faithfulness import deletion_curves, planted_mass_share
from semiology.synthetic import make_cohort

SIGNS = {"dystonia": "AGCN-pose", "emotion": "AGCN-face"}
MASS_TARGET, DELETION_TARGET = 0.60, 0.80


def train_bundle(out: Path, workers: int) -> Path:
    """The demo config restricted to the two AGCN models, evaluated under LOSO and bundled."""
    config = load_experiment(DEMO_CONFIG, {"evaluation.workers": workers})
    config.models = tuple(m for m in config.models if (m.task, m.name) in SIGNS.items())
    run_experiment(config, out / "report", source=str(DEMO_CONFIG), progress=True, bundle_dir=out / "bundle")
    return out / "bundle"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("out/faithfulness"))
    parser.add_argument("--bundle", type=Path, default=None, help="reuse a bundle instead of training one")
    parser.add_argument("--eval-seed", type=int, default=1, help="seed of the unseen evaluation cohort")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    started = time.perf_counter()
    bundle_path = args.bundle or train_bundle(args.out, args.workers)
    trained_s = time.perf_counter() - started
    bundle = load_bundle(bundle_path)
    spec = bundle.config.data.synthetic
    cohort = make_cohort(dataclasses.replace(spec, seed=args.eval_seed))
    print(f"bundle {bundle_path} (trained in {trained_s:.0f} s); evaluation cohort: {len(cohort)} seizures, seed {args.eval_seed} (subjects unseen in training), difficulty {spec.difficulty}")
    for task, name in SIGNS.items():
        model = bundle.model(name)
        shares, cam_shares, chance, areas, top_planted = [], [], [], [], []
        for record in cohort:
            planted = record.meta["planted_joints"][task]
            if record.labels.get(task) != "yes" or not planted:
                continue
            prepared = prepare_record(bundle, record)
            attribution = explain_record(bundle, model, prepared)
            shares.append(planted_mass_share(attribution, planted))
            cam_shares.append(planted_mass_share(attribution, planted, method="grad_cam"))
            top_planted.append(attribution.joint_names[int(np.argmax(attribution.joint_importance()))] in planted)
            chance.append(len(planted) / len(attribution.joint_names))
            areas.append(deletion_curves(bundle, model, prepared, attribution).area_between)
        shares, areas = np.array(shares), np.array(areas)
        below = float(np.mean(areas > 0))
        print(f"\n{task} ({name}), {len(shares)} seizures with the planted sign:")
        print(f"  IG mass on planted joints: {100 * shares.mean():.1f} % (median {100 * np.median(shares):.1f} %, by count alone {100 * np.mean(chance):.1f} %); "
              f"target >= {100 * MASS_TARGET:.0f} %: {'met' if shares.mean() >= MASS_TARGET else 'NOT met'}")
        print(f"  Grad-CAM mass on planted joints (for comparison): {100 * np.nanmean(cam_shares):.1f} %; "
              f"most attributed joint is a planted one in {sum(top_planted)}/{len(top_planted)} seizures")
        print(f"  top-k deletion curve below random: {100 * below:.1f} % of seizures (mean area between {areas.mean():+.3f}); "
              f"target >= {100 * DELETION_TARGET:.0f} %: {'met' if below >= DELETION_TARGET else 'NOT met'}")
    print(f"\ntotal wall time {time.perf_counter() - started:.0f} s (shared 2-core machine: timings include contention)")


if __name__ == "__main__":
    main()
