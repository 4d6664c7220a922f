"""One tiny model bundle per test session, shared by the bundle, explain and screen tests.

A six-subject synthetic cohort, two grouped folds, two-block AGCNs and a TCN trained for two
epochs: enough to exercise every path (final fit, save, load, attributions, screening) in a
few seconds, not to score well.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from semiology.cli import loso_eval
from semiology.config import config_from_dict
from semiology.experiment import ExperimentConfig
from semiology.records import SeizureRecord
from semiology.synthetic import CohortSpec, make_cohort

TINY_STUDY = {
    "name": "tiny-bundle",
    "data": {
        "synthetic": {
            "n_subjects": 6,
            "n_seizures": 8,
            "seizures_per_subject": [1, 2],
            "n_dystonia_subjects": 3,
            "n_emotion_subjects": 3,
            "n_both_subjects": 1,
            "seizure_duration_s": [12.0, 16.0],
            "pre_ictal_s": 4.0,
            "post_ictal_s": 3.0,
        }
    },
    "windows": {"target_fps": 10.0, "max_train_windows_per_seizure": 4},
    "agcn": {"channels": [8, 8], "strides": [1, 2]},
    "tcn": {"channels": [8]},
    "encoder": {"pretrain_subjects": 2, "pretrain_seizures": 2, "pretrain_epochs": 1},
    "train": {"epochs": 2, "patience": 2, "batch_size": 32},
    "evaluation": {"workers": 1, "split": "grouped_kfold", "n_splits": 2},
    "tasks": [{"name": "dystonia", "classes": ["no", "yes"]}, {"name": "emotion", "classes": ["no", "yes"]}],
    "models": [
        {"name": "TCN-pose", "task": "dystonia", "kind": "tcn", "stream": "body"},
        {"name": "AGCN-pose", "task": "dystonia", "kind": "agcn", "stream": "body"},
        {"name": "fusion", "task": "dystonia", "kind": "fusion", "stream": "body", "members": ["AGCN-pose", "TCN-pose"]},
        {"name": "AGCN-face", "task": "emotion", "kind": "agcn", "stream": "face"},
    ],
}


@dataclass
class TinyBundle:
    path: Path
    report_dir: Path
    config: ExperimentConfig


_BUILT: dict[Path, TinyBundle] = {}


def tiny_bundle(root: Path) -> TinyBundle:
    """The session's tiny bundle under `root`, trained on first use through `tools/loso_eval.py --bundle`."""
    if root not in _BUILT:
        root.mkdir(parents=True, exist_ok=True)
        config_file = root / "tiny.yaml"
        config_file.write_text(yaml.safe_dump(TINY_STUDY), encoding="utf-8")
        status = loso_eval(["--config", str(config_file), "--out", str(root / "report"), "--bundle", str(root / "bundle"), "--no-progress"])
        if status != 0:
            raise RuntimeError(f"tools/loso_eval.py --bundle failed with status {status}")
        config = config_from_dict(TINY_STUDY, ExperimentConfig, source=str(config_file))
        _BUILT[root] = TinyBundle(path=root / "bundle", report_dir=root / "report", config=config)
    return _BUILT[root]


def tiny_records(n_seizures: int = 8, seed: int = 5) -> list[SeizureRecord]:
    """Unseen synthetic recordings (another seed) to screen or explain with the tiny bundle."""
    subjects = max(2, n_seizures // 4)
    spec = CohortSpec(
        n_subjects=subjects,
        n_seizures=n_seizures,
        seizures_per_subject=(1, max(1, -(-n_seizures // subjects) + 1)),
        n_dystonia_subjects=subjects // 2,
        n_emotion_subjects=subjects // 2,
        n_both_subjects=min(1, subjects // 2),
        seizure_duration_s=(6.0, 8.0),
        pre_ictal_s=3.0,
        post_ictal_s=2.0,
        seed=seed,
    )
    return make_cohort(spec)
