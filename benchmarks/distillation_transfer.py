"""Does distillation transfer what only the appearance shows? KD against no KD, by appearance condition.

    .venv/bin/python benchmarks/distillation_transfer.py [--cohort 14 15 16] [--seeds 0 1] [--conditions none cues distal] [--workers 2]

The dystonia study's keypoint student (AGCN-pose, 3D body keypoints) is distilled from an
appearance teacher (TCN-pose, body crops). Distillation can only pass on knowledge the teacher
has and the student lacks, so the synthetic cohort is run under three appearance conditions:

- `none`: the crops show nothing the keypoints lack (`appearance_cues: false`);
- `cues`: the default cohort: the dystonic hand also clenches into a fist that only the crops show;
- `distal`: cues, and half of the dystonia episodes stay in the hand (`distal_dystonia_share:
  0.5`): fist and wrist only, no arm posture, so those windows are visible in the crops and
  invisible in every keypoint.

For each cohort, training seed and condition it runs TCN-pose, AGCN-pose and AGCN-pose+KD
(the demo's settings) under LOSO and prints each model's window macro F1 and, in the `distal`
condition, the recall of each model on the windows of hand-only episodes (what only the crops
show). Then the paired difference KD - no KD over the LOSO folds (bootstrap 95 % CI, Wilcoxon
signed-rank p, as the study report computes them), and per condition a summary over every
(cohort, seed) run: the mean difference and a Wilcoxon signed-rank test over the runs.
Cohorts 14-16 were never used to choose a setting (docs/decisions.md#distillation-transfer).
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.stats import wilcoxon

from semiology.cli import DEMO_CONFIG
from semiology.config import config_to_dict
from semiology.evaluate.compare import compare_pair
from semiology.evaluate.metrics import fold_metrics, summarise_folds
from semiology.evaluate.report import SYNTHETIC_BANNER
from semiology.evaluate.results import PredictionTable
from semiology.evaluate.run import load_experiment, load_records
from semiology.evaluate.study import run_study
from semiology.models.appearance import attach_appearance_features
from semiology.preprocess.resample import resample_record

CONDITIONS: dict[str, dict[str, object]] = {
    "none": {"data.synthetic.appearance_cues": False},
    "cues": {},
    "distal": {"data.synthetic.distal_dystonia_share": 0.5},
}
MODELS = ("TCN-pose", "AGCN-pose", "AGCN-pose+KD")


def hand_only_windows(table: PredictionTable, signs: dict[str, dict], window_s: float) -> np.ndarray:
    """Rows of `table` whose window lies mostly (over half) inside a hand-only dystonia episode."""
    inside = np.zeros(len(table), dtype=bool)
    for row, (seizure, start) in enumerate(zip(table.seizure_id, table.window_start_s, strict=True)):
        for first, last, details in signs.get(seizure, {}).get("dystonia", []):
            if not details.get("proximal", True):
                overlap = min(last, start + window_s) - max(first, start)
                inside[row] |= overlap > window_s / 2
    return inside


def recall(table: PredictionTable, rows: np.ndarray) -> float | None:
    """Share of `rows` called `yes` (class 1) at each fold's chosen threshold."""
    if not rows.any():
        return None
    decided = table.prob[rows, 1] >= np.where(np.isnan(table.threshold[rows]), 0.5, table.threshold[rows])
    return float(decided.mean())


def run_condition(cohort: int, condition: str, seeds: list[int], workers: int) -> list[dict]:
    """Every training seed of one cohort under one condition: scores, hand-only recall, KD - no KD."""
    demo = load_experiment(DEMO_CONFIG)
    models = [model for model in config_to_dict(demo)["models"] if model["name"] in MODELS]
    base = {**CONDITIONS[condition], "data.synthetic.seed": cohort, "models": models,
            "tasks": [{"name": "dystonia", "classes": ["no", "yes"]}], "evaluation.workers": workers}
    config = load_experiment(DEMO_CONFIG, base)
    native, _ = load_records(config, f"cohort {cohort}")
    records = [resample_record(record, config.windows.target_fps) for record in native]
    signs = {record.seizure_id: record.meta["signs"] for record in records}
    with tempfile.TemporaryDirectory() as cache:
        attach_appearance_features(records, {"body"}, config.encoder, Path(cache))
    runs = []
    for seed in seeds:
        started = time.perf_counter()
        study = run_study(load_experiment(DEMO_CONFIG, {**base, "seed": seed}), records, synthetic=True, progress=False)
        by_name = {result.model: result for result in study.models}
        scores = {name: summarise_folds(fold_metrics(by_name[name].predictions))["macro_f1"]["mean"] for name in MODELS}
        folds = [{",".join(entry["subjects"]): entry["macro_f1"] for entry in fold_metrics(by_name[name].predictions)} for name in ("AGCN-pose+KD", "AGCN-pose")]
        paired = compare_pair(*folds)
        hand_only = {name: recall(by_name[name].predictions, hand_only_windows(by_name[name].predictions, signs, config.windows.window_s)) for name in MODELS}
        run = {"cohort": cohort, "condition": condition, "seed": seed, "scores": scores, "paired": paired, "hand_only_recall": hand_only}
        runs.append(run)
        p = paired["wilcoxon"]["p"]
        recalls = "  ".join(f"{name} {value:.2f}" for name, value in hand_only.items() if value is not None)
        print(f"cohort {cohort:2d}  {condition:6s}  seed {seed}  " + "  ".join(f"{name} {value:.3f}" for name, value in scores.items())
              + f"  KD-noKD {paired['mean_difference']:+.3f} [{paired['ci95']['low']:+.3f}, {paired['ci95']['high']:+.3f}]"
              + f" p {'-' if p is None else f'{p:.3f}'}" + (f"  hand-only recall: {recalls}" if recalls else "")
              + f"  ({time.perf_counter() - started:.0f} s)", flush=True)
    return runs


def summarise(runs: list[dict], conditions: list[str]) -> None:
    """Per condition, over every (cohort, seed) run: mean scores, mean KD - no KD and its Wilcoxon p."""
    print("\nover every (cohort, seed) run:")
    for condition in conditions:
        chosen = [run for run in runs if run["condition"] == condition]
        differences = np.array([run["paired"]["mean_difference"] for run in chosen])
        p = float(wilcoxon(differences).pvalue) if len(differences) >= 2 and np.any(differences != 0) else None
        means = "  ".join(f"{name} {np.mean([run['scores'][name] for run in chosen]):.3f}" for name in MODELS)
        line = f"{condition:6s} ({len(chosen)} runs)  {means}  KD-noKD mean {differences.mean():+.3f} (min {differences.min():+.3f}, max {differences.max():+.3f}), Wilcoxon over runs p {'-' if p is None else f'{p:.3f}'}"
        recalls = {name: [run["hand_only_recall"][name] for run in chosen if run["hand_only_recall"][name] is not None] for name in MODELS}
        if any(recalls.values()):
            line += "  hand-only recall " + "  ".join(f"{name} {np.mean(values):.2f}" for name, values in recalls.items() if values)
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cohort", type=int, nargs="+", default=[14, 15, 16], help="data.synthetic.seed of each cohort (never a tuning cohort)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="training seeds")
    parser.add_argument("--conditions", nargs="+", choices=sorted(CONDITIONS), default=list(CONDITIONS))
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(f"*** {SYNTHETIC_BANNER} ***")
    runs = [run for cohort in args.cohort for condition in args.conditions for run in run_condition(cohort, condition, args.seeds, args.workers)]
    summarise(runs, args.conditions)


if __name__ == "__main__":
    main()
