"""Macro F1 of the dystonia and emotion streams against the synthetic cohort's difficulty knob (it must fall).

Runs the target models of configs/demo.yaml (TCN-pose, AGCN-pose+KD, TCN-face, with the
demo's settings, ensembles included) under LOSO on cohorts of several seeds at each
difficulty, and prints window macro F1 (mean over folds) and pooled seizure macro F1 per run,
then the mean ± std over cohort seeds and whether that mean falls at every step. One cohort
per difficulty is not enough: training-seed and cohort-seed variance (about ±0.04) is as
large as the change between neighbouring difficulties.

    .venv/bin/python benchmarks/difficulty_sweep.py [--difficulties 0 0.3 0.6 0.9] [--seeds 0 1 2]
"""

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from semiology.cli import DEMO_CONFIG
from semiology.evaluate.run import load_experiment, run_experiment

TARGETS = ("TCN-pose", "AGCN-pose+KD", "TCN-face")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--difficulties", type=float, nargs="+", default=[0.0, 0.3, 0.6, 0.9])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="cohort seeds (data.synthetic.seed)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    demo = load_experiment(DEMO_CONFIG)
    models = [dataclasses.asdict(model) for model in demo.models if model.name in TARGETS]
    tasks = [dataclasses.asdict(task) for task in demo.tasks]
    window: dict[tuple[float, str], list[float]] = {}
    print("difficulty  seed  model          window macro F1 (mean over folds)  seizure macro F1 (pooled)")
    started = time.perf_counter()
    for difficulty in args.difficulties:
        for seed in args.seeds:
            overrides = {"data.synthetic.difficulty": difficulty, "data.synthetic.seed": seed, "tasks": tasks, "models": models, "evaluation.workers": args.workers}
            config = load_experiment(DEMO_CONFIG, overrides)
            with tempfile.TemporaryDirectory() as out:
                run = run_experiment(config, Path(out), source=f"difficulty {difficulty}, seed {seed}", progress=False)
                metrics = json.loads(run.files["metrics.json"].read_text())["models"]
            for key, evaluation in metrics.items():
                name = key.split("/")[1]
                score = evaluation["window"]["fold_summary"]["macro_f1"]["mean"]
                window.setdefault((difficulty, name), []).append(score)
                print(f"{difficulty:10.2f}  {seed:4d}  {name:13s}  {score:33.3f}  {evaluation['seizure']['pooled']['macro_f1']:25.3f}", flush=True)
    print(f"\nmean ± std of window macro F1 over cohort seeds {args.seeds} ({time.perf_counter() - started:.0f} s)")
    print("model          " + "  ".join(f"d={d:<11.2f}" for d in args.difficulties) + "  falls at every step")
    for name in TARGETS:
        means = [float(np.mean(window[(d, name)])) for d in args.difficulties]
        stds = [float(np.std(window[(d, name)])) for d in args.difficulties]
        falls = all(later < earlier for earlier, later in zip(means, means[1:]))
        cells = "  ".join(f"{m:.3f} ± {s:.3f}" for m, s in zip(means, stds))
        print(f"{name:13s}  {cells}  {'yes' if falls else 'no'}")


if __name__ == "__main__":
    main()
