"""Window macro F1 of demo models over training seeds and cohorts: is a score robust or a lucky draw?

    .venv/bin/python benchmarks/seed_robustness.py [--cohort 0 ...] [--seeds 0 1 2] [--models TCN-face AGCN-pose+KD] [--set key=value ...]

Runs the demo config (configs/demo.yaml, or `--config`) restricted to the named models (a student brings its
teacher along) on the synthetic cohort of each seed in `--cohort`, once per training seed
(`seed:`), and prints the window macro F1 (mean ± std over LOSO folds) per seed, the mean ± std
over seeds, and with several cohorts the mean ± std over cohorts of their seed means: the demo
cohort is one draw of the generator, and a score on it alone says little about the method.
Tune on other cohorts (`--cohort 11 12`) before confirming on the demo cohort (0); cohorts 14
to 18 are kept for held-out checks of a change chosen on the dev cohorts.
`--set` overrides config keys as on the command line of tools/loso_eval.py (YAML values), e.g.
`--set tcn.keypoints=false models.TCN-face.ensemble=1 models.AGCN-pose.train.lr=0.01` (a
`models.NAME.KEY` or `models.NAME.SECTION.KEY` item changes one model).
`--level seizure` scores seizures instead of windows (each seizure's window probabilities averaged,
as the report's seizure rows do).
`--compare A B` (model names) also prints, per cohort and training seed, A's paired difference to
B over the LOSO folds (window macro F1): mean difference, its bootstrap 95 % CI and the
Wilcoxon signed-rank p-value, as the study report's comparison table computes them, e.g.
`--cohort 14 15 16 --seeds 0 --models AGCN-pose+KD AGCN-pose --compare AGCN-pose+KD AGCN-pose`
for what distillation buys over the same AGCN without it on three cohorts never tuned on.
"""

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np

from semiology.cli import DEMO_CONFIG
from semiology.config import config_to_dict, parse_overrides
from semiology.evaluate.aggregate import LEVELS, at_level
from semiology.evaluate.compare import compare_pair
from semiology.evaluate.metrics import fold_metrics, summarise_folds
from semiology.evaluate.report import SYNTHETIC_BANNER
from semiology.evaluate.run import load_experiment, load_records
from semiology.evaluate.study import run_study
from semiology.models.appearance import attach_appearance_features
from semiology.preprocess.resample import resample_record


def selected_models(demo_models: list[dict], names: list[str], changes: dict[str, dict]) -> list[dict]:
    """The named demo models with their teachers, in demo order, with per-model changes applied."""
    by_name = {model["name"]: model for model in demo_models}
    wanted = set(names) | {by_name[name]["teacher"] for name in names if by_name[name].get("teacher")}
    return [_changed(model, changes.get(model["name"], {})) for model in demo_models if model["name"] in wanted]


def _changed(model: dict, change: dict) -> dict:
    """`model` with `change` applied; a section (e.g. `train`) is updated key by key, not replaced."""
    out = dict(model)
    for key, value in change.items():
        out[key] = {**out.get(key, {}), **value} if isinstance(value, dict) else value
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cohort", type=int, nargs="+", default=[0], help="data.synthetic.seed of each cohort (0 = the demo cohort)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="training seeds")
    parser.add_argument("--models", nargs="+", default=["AGCN-pose+KD", "TCN-face"])
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--config", type=Path, default=DEMO_CONFIG, help="the experiment whose models are run (default the demo's)")
    parser.add_argument("--level", choices=LEVELS[:2], default="window", help="score windows (the default) or seizures (window probabilities averaged per seizure)")
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"), default=None, help="print A's paired difference to B per cohort and seed")
    args = parser.parse_args()
    print(f"*** {SYNTHETIC_BANNER} ***")
    overrides = parse_overrides(args.set)
    changes: dict[str, dict] = {}
    for key in [key for key in overrides if key.startswith("models.")]:
        _, name, field = key.split(".", 2)
        section, _, sub_key = field.partition(".")
        change = changes.setdefault(name, {})
        if sub_key:
            change.setdefault(section, {})[sub_key] = overrides.pop(key)
        else:
            change[field] = overrides.pop(key)
    demo = load_experiment(args.config)
    models = selected_models(config_to_dict(demo)["models"], args.models, changes)
    tasks = [dataclasses.asdict(task) for task in demo.tasks if any(model["task"] == task.name for model in models)]
    per_cohort: dict[str, list[float]] = {}
    for cohort in args.cohort:
        for key, value in cohort_scores(cohort, args, overrides, models, tasks).items():
            per_cohort.setdefault(key, []).append(value)
    if len(args.cohort) > 1:
        for key, values in per_cohort.items():
            print(f"over cohorts {args.cohort}: {key:24s} {np.mean(values):.3f} ± {np.std(values):.3f} (min {np.min(values):.3f}, max {np.max(values):.3f})")


def cohort_scores(cohort: int, args: argparse.Namespace, overrides: dict, models: list[dict], tasks: list[dict]) -> dict[str, float]:
    """Run the models on one cohort once per training seed; print and return each model's mean over seeds."""
    base = {**overrides, "data.synthetic.seed": cohort, "models": models, "tasks": tasks, "evaluation.workers": args.workers}
    config = load_experiment(args.config, base)
    native, _ = load_records(config, f"cohort {cohort}")
    records = [resample_record(record, config.windows.target_fps) for record in native]
    with tempfile.TemporaryDirectory() as cache:
        attach_appearance_features(records, {m["stream"] for m in models if m["kind"] in ("tcn", "agcn_kd")}, config.encoder, Path(cache))
    scores: dict[str, list[float]] = {}
    print(f"cohort {cohort}, models {[m['name'] for m in models]}, overrides {args.set}")
    for seed in args.seeds:
        started = time.perf_counter()
        study = run_study(load_experiment(args.config, {**base, "seed": seed}), records, synthetic=True, progress=False)
        seconds = time.perf_counter() - started
        if args.compare:
            _print_comparison(study, args.compare, seed)
        for result in study.models:
            summary = summarise_folds(fold_metrics(at_level(result.predictions, args.level)))["macro_f1"]
            scores.setdefault(result.key, []).append(summary["mean"])
            print(f"seed {seed}  {result.key:24s} {args.level} macro F1 {summary['mean']:.3f} ± {summary['std']:.3f} over folds   ({seconds:.0f} s for the seed)")
    for key, values in scores.items():
        print(f"over seeds {args.seeds}: {key:24s} {np.mean(values):.3f} ± {np.std(values):.3f} (min {np.min(values):.3f})")
    return {key: float(np.mean(values)) for key, values in scores.items()}


def _print_comparison(study, names: list[str], seed: int) -> None:
    """A's paired difference to B over the folds of one run (window macro F1 per held-out subject)."""
    by_name = {result.model: result for result in study.models}
    missing = [name for name in names if name not in by_name]
    if missing:
        raise SystemExit(f"--compare: {', '.join(missing)} not among the models run ({', '.join(by_name)})")
    scores = [{",".join(entry["subjects"]): entry["macro_f1"] for entry in fold_metrics(by_name[name].predictions)} for name in names]
    result = compare_pair(*scores)
    low, high = result["ci95"]["low"], result["ci95"]["high"]
    p = result["wilcoxon"]["p"]
    print(f"seed {seed}  {names[0]} - {names[1]}: {result['mean_difference']:+.3f} [{low:+.3f}, {high:+.3f}] over {result['n']} folds, "
          f"Wilcoxon p {'-' if p is None else f'{p:.3f}'}")


if __name__ == "__main__":
    main()
