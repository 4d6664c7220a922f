"""Macro F1 of the dystonia and emotion streams against the synthetic cohort's difficulty knob (it must fall).

    .venv/bin/python benchmarks/difficulty_sweep.py [--difficulties 0 0.5 1]
"""

import argparse
import json
import tempfile
from pathlib import Path

from semiology.cli import DEMO_CONFIG
from semiology.evaluate.run import load_experiment, run_experiment

MODELS = [
    {"name": "TCN-pose", "task": "dystonia", "kind": "tcn", "stream": "body"},
    {"name": "AGCN-pose+KD", "task": "dystonia", "kind": "agcn_kd", "stream": "body", "teacher": "TCN-pose"},
    {"name": "TCN-face", "task": "emotion", "kind": "tcn", "stream": "face"},
]
TASKS = [{"name": "dystonia", "classes": ["no", "yes"]}, {"name": "emotion", "classes": ["no", "yes"]}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--difficulties", type=float, nargs="+", default=[0.0, 0.3, 0.6, 1.0])
    args = parser.parse_args()
    print("difficulty  model          window macro F1 (mean over folds)  seizure macro F1 (pooled)")
    for difficulty in args.difficulties:
        config = load_experiment(
            DEMO_CONFIG,
            {"data.synthetic.difficulty": difficulty, "tasks": TASKS, "models": MODELS},
        )
        with tempfile.TemporaryDirectory() as out:
            run = run_experiment(config, Path(out), source=f"difficulty {difficulty}", progress=False)
            metrics = json.loads(run.files["metrics.json"].read_text())["models"]
        for key, evaluation in metrics.items():
            window = evaluation["window"]["fold_summary"]["macro_f1"]["mean"]
            seizure = evaluation["seizure"]["pooled"]["macro_f1"]
            print(f"{difficulty:10.2f}  {key.split('/')[1]:13s}  {window:33.3f}  {seizure:25.3f}")


if __name__ == "__main__":
    main()
