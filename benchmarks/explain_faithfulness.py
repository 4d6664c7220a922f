"""Do the attributions point at the planted signs? Planted-joint mass and deletion tests on the synthetic cohort.

Trains the dystonia AGCN-pose and emotion AGCN-face bundles with the settings of
configs/demo.yaml (LOSO on the default synthetic cohort, final models refit on all subjects
with the folds' median epoch and mean threshold), then explains every seizure that carries
the planted sign in a fresh cohort of unseen subjects (same spec, another seed) and prints,
for the attribution reading of semiology/explain (integrated gradients of the class's
log-odds from the recording at rest, read as evidence FOR the class: the positive part) and,
beside it, the earlier reading (|IG| of the raw class logit, evidence for and against added):

- the share of attribution mass over the ictal period on the planted joints (the dystonic
  arm's shoulder, elbow, wrist) or landmarks (brows, eye lids, mouth), averaged over those
  seizures (target >= 60 %), beside the share those joints would get by count alone; the
  intermediate |IG| of the log-odds separates the effect of the two changes;
- how often the single most attributed joint is a planted one (other planted signs of the
  same seizure -- automatisms, hyperkinetic movement, head version, clonic jerks -- move
  other joints and legitimately draw attribution too);
- the share of those seizures whose top-k deletion curve lies below the random-joints curve
  (positive area between them; target >= 80 %): new reading with joints held at rest (the IG
  baseline), and the earlier reading with joints marked undetected (confidence 0).

    .venv/bin/python benchmarks/explain_faithfulness.py [--out out/faithfulness] [--eval-seed 1] [--bundle DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np
import torch

from semiology.bundle import Bundle, BundledModel, load_bundle, prepare_record
from semiology.bundle.build import run_and_bundle
from semiology.cli import DEMO_CONFIG
from semiology.evaluate.run import load_experiment
from semiology.explain.attributions import explain_record
from semiology.explain.faithfulness import RANDOM_ORDERS, deletion_curves, planted_mass_share
from semiology.records import SeizureRecord
from semiology.synthetic import make_cohort

SIGNS = {"dystonia": "AGCN-pose", "emotion": "AGCN-face"}
# (label, key) per reading; the last is the one semiology.explain uses.
READINGS = (
    ("earlier: |IG| of logit, deletion undetected", "logit_abs"),
    ("Grad-CAM of log-odds (comparison)", "grad_cam"),
    ("|IG| of log-odds (intermediate)", "log_odds_abs"),
    ("IG+ of log-odds, deletion at rest (used)", "log_odds_positive"),
)
MASS_TARGET, DELETION_TARGET = 0.60, 0.80


def train_bundle(out: Path, workers: int, train_seed: int | None = None) -> Path:
    """The demo config restricted to the two AGCN models, evaluated under LOSO and bundled (optionally on another cohort seed)."""
    overrides = {"evaluation.workers": workers} | ({} if train_seed is None else {"data.synthetic.seed": train_seed})
    config = load_experiment(DEMO_CONFIG, overrides)
    config.models = tuple(m for m in config.models if (m.task, m.name) in SIGNS.items())
    run_and_bundle(config, out / "report", source=str(DEMO_CONFIG), bundle_dir=out / "bundle", progress=True)
    return out / "bundle"


def measure(bundle: Bundle, model: BundledModel, record: SeizureRecord, task: str, random_orders: int) -> dict:
    """Planted share, top-joint hit and (for the earlier and the used reading) deletion area of one seizure."""
    planted = record.meta["planted_joints"][task]
    prepared = prepare_record(bundle, record)
    earlier = explain_record(bundle, model, prepared, objective="logit")
    used = explain_record(bundle, model, prepared)
    dystonia = record.meta["signs"].get("dystonia") or [[0, 0, {}]]
    result = {"chance": len(planted) / len(used.joint_names), "side": dystonia[0][2].get("side"),
              "decided_yes": bool(used.probability[used.target] >= model.threshold)}
    for key, attribution, method, perturbation in (
        ("logit_abs", earlier, "integrated_gradients_abs", "undetected"),
        ("grad_cam", used, "grad_cam", None),
        ("log_odds_abs", used, "integrated_gradients_abs", None),
        ("log_odds_positive", used, "integrated_gradients", "rest"),
    ):
        importance = attribution.joint_importance(method=method)
        area = float("nan")
        if perturbation is not None:
            curves = deletion_curves(bundle, model, prepared, attribution, random_orders=random_orders, perturbation=perturbation, method=method)
            area = curves.area_between
        result[key] = {
            "share": planted_mass_share(attribution, planted, method=method),
            "top_planted": attribution.joint_names[int(np.argmax(importance))] in planted,
            "area": area,
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("out/faithfulness"))
    parser.add_argument("--bundle", type=Path, default=None, help="reuse a bundle instead of training one")
    parser.add_argument("--eval-seed", type=int, default=1, help="seed of the unseen evaluation cohort")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--train-seed", type=int, default=None,
                        help="train the bundle on another cohort seed instead of the demo's (a check of how the training cohort shapes the attributions)")
    parser.add_argument("--random-orders", type=int, default=RANDOM_ORDERS, help="random joint orders per deletion test")
    args = parser.parse_args()
    torch.set_num_threads(1)
    started = time.perf_counter()
    bundle_path = args.bundle or train_bundle(args.out, args.workers, args.train_seed)
    trained_s = time.perf_counter() - started
    bundle = load_bundle(bundle_path)
    spec = bundle.config.data.synthetic
    cohort = make_cohort(dataclasses.replace(spec, seed=args.eval_seed))
    training = make_cohort(spec)
    trained_sides = {r.meta["signs"]["dystonia"][0][2]["side"] for r in training if r.meta["signs"].get("dystonia")}
    print(f"training cohort (seed {spec.seed}): dystonic arm sides {sorted(trained_sides)}")
    print(f"bundle {bundle_path} (trained in {trained_s:.0f} s); evaluation cohort: {len(cohort)} seizures, seed {args.eval_seed} (subjects unseen in training), difficulty {spec.difficulty}")
    for task, name in SIGNS.items():
        model = bundle.model(name)
        rows = [measure(bundle, model, record, task, args.random_orders) for record in cohort
                if record.labels.get(task) == "yes" and record.meta["planted_joints"][task]]
        print(f"\n{task} ({name}), {len(rows)} seizures with the planted sign "
              f"(joints by count alone: {100 * np.mean([r['chance'] for r in rows]):.1f} %):")
        print(f"  {'reading':44s} {'planted mass':>12s} {'top joint planted':>18s} {'deletion below random':>22s} {'mean area':>10s}")
        for label, key in READINGS:
            shares, areas = np.array([r[key]["share"] for r in rows]), np.array([r[key]["area"] for r in rows])
            top = sum(r[key]["top_planted"] for r in rows)
            below = f"{100 * np.mean(areas > 0):.1f} %" if np.isfinite(areas).all() else "-"
            mean_area = f"{areas.mean():+.3f}" if np.isfinite(areas).all() else "-"
            print(f"  {label:44s} {100 * shares.mean():11.1f} % {top:>12d}/{len(rows):<5d} {below:>22s} {mean_area:>10s}")
        new = READINGS[-1][1]
        shares, areas = np.array([r[new]["share"] for r in rows]), np.array([r[new]["area"] for r in rows])
        groups = {"model's decision": (["says yes" if r["decided_yes"] else "says no" for r in rows])}
        if task == "dystonia":
            groups["dystonic arm"] = ["side seen in training" if r["side"] in trained_sides else "side unseen in training" for r in rows]
        earlier = np.array([r["logit_abs"]["share"] for r in rows])
        for title, labels in groups.items():
            labels = np.array(labels)
            parts = [f"{value}: n={np.sum(labels == value)}, mass {100 * shares[labels == value].mean():.1f} % "
                     f"(earlier {100 * earlier[labels == value].mean():.1f} %), deletion below random {100 * np.mean(areas[labels == value] > 0):.1f} %"
                     for value in sorted(set(labels))]
            print(f"  by {title}: " + "; ".join(parts))
        print(f"  targets (reading used by semiology.explain): planted mass >= {100 * MASS_TARGET:.0f} %: {'met' if shares.mean() >= MASS_TARGET else 'NOT met'} "
              f"(median {100 * np.median(shares):.1f} %); deletion below random >= {100 * DELETION_TARGET:.0f} %: "
              f"{'met' if np.mean(areas > 0) >= DELETION_TARGET else 'NOT met'}")
    print(f"\ntotal wall time {time.perf_counter() - started:.0f} s (shared 2-core machine: timings include contention)")


if __name__ == "__main__":
    main()
