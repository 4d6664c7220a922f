"""The leakage canary: chance under leave-one-subject-out, clearly above chance under a leaky split.

Labels of the canary cohort are random per subject and no planted sign carries them, while
each subject's identity is strongly encoded. A split that keeps subjects together cannot
learn them (macro F1 ~ 0.5); a split that mixes a subject's seizures across train and test
can, through identity -- which proves the canary is able to fail.

    .venv/bin/python benchmarks/leakage_canary.py
"""

import json
import tempfile
from pathlib import Path

from semiology.cli import REPO_ROOT
from semiology.evaluate.run import load_experiment, run_experiment

CHANCE = 0.5


def main() -> None:
    print("split            seizure macro F1 (pooled)  window macro F1 (pooled)  |F1 - chance| (seizure)")
    for name in ("canary.yaml", "canary_leaky.yaml"):
        path = REPO_ROOT / "configs" / name
        config = load_experiment(path)
        with tempfile.TemporaryDirectory() as out:
            run = run_experiment(config, Path(out), source=str(path), progress=False)
            metrics = json.loads(run.files["metrics.json"].read_text())["models"]
        evaluation = next(iter(metrics.values()))
        seizure = evaluation["seizure"]["pooled"]["macro_f1"]
        window = evaluation["window"]["pooled"]["macro_f1"]
        print(f"{config.evaluation.split:15s}  {seizure:25.3f}  {window:24.3f}  {abs(seizure - CHANCE):.3f}")


if __name__ == "__main__":
    main()
