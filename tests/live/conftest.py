"""An onset-detector bundle trained with the causal baseline, and the synthetic recordings it runs on.

Each synthetic seizure recording gives two training records (`semiology.live.onset`): its
pre-ictal stretch (class `rest`) and its ictal stretch (class `seizure`), both cut into causally
normalised windows (`windows.baseline: causal`), so the bundle learns what a live alarm needs:
a seizure against the same patient's rest, from past frames only. Small: about 30 s to train.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from semiology.cli import loso_eval
from semiology.live.onset import write_onset_cache
from semiology.records import SeizureRecord
from semiology.synthetic import CohortSpec, make_cohort

COHORT = CohortSpec(n_subjects=4, n_seizures=8, seizures_per_subject=(2, 2), n_dystonia_subjects=2, n_emotion_subjects=2, n_both_subjects=1,
                    seizure_duration_s=(10.0, 12.0), pre_ictal_s=10.0, post_ictal_s=2.0, fps_range=(30.0, 30.0), difficulty=0.0, seed=11)
STUDY = {
    "name": "live-onset-detector",
    "windows": {"target_fps": 10.0, "stride_s": 1.0, "baseline": "causal", "baseline_history_s": 20.0, "max_train_windows_per_seizure": 10},
    "agcn": {"channels": [16, 16], "strides": [1, 2]},
    "train": {"epochs": 25, "patience": 25, "batch_size": 32, "lr": 0.01},
    "evaluation": {"workers": 1, "split": "grouped_kfold", "n_splits": 2},
    "tasks": [{"name": "ictal", "classes": ["rest", "seizure"]}],
    "models": [{"name": "AGCN-onset", "task": "ictal", "kind": "agcn", "stream": "body"}],
}


@dataclass
class LiveBundle:
    path: Path
    records: list[SeizureRecord]


@pytest.fixture(scope="session")
def live_bundle(tmp_path_factory) -> LiveBundle:
    root = tmp_path_factory.mktemp("live_bundle")
    records = make_cohort(COHORT)
    cache = write_onset_cache(records, root / "cache")
    study = {**STUDY, "data": {"source": "cache", "cache_dir": str(cache)}}
    config_file = root / "study.yaml"
    config_file.write_text(yaml.safe_dump(study), encoding="utf-8")
    status = loso_eval(["--config", str(config_file), "--out", str(root / "report"), "--bundle", str(root / "bundle"), "--no-progress"])
    assert status == 0, "training the live test bundle failed"
    return LiveBundle(path=root / "bundle", records=records)


@pytest.fixture(scope="session")
def unseen_recordings() -> list[SeizureRecord]:
    """Recordings of other synthetic subjects (another seed), with a planted onset after a rest period."""
    return make_cohort(dataclasses.replace(COHORT, n_subjects=2, n_seizures=2, seizures_per_subject=(1, 1), n_dystonia_subjects=1,
                                           n_emotion_subjects=1, n_both_subjects=0, seed=23))
