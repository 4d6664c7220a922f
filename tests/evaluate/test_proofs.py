"""The study's proofs as tests, on small cohorts: planted signs are recovered under LOSO, the
attributions of a dystonia decision point at the planted arm, and the leakage canary stays at
chance under LOSO while a leaky split learns it.

Each proof is a floor, not a score: the cohorts are small (seconds to train), so the floors
sit well below what the benchmarks show on the full cohorts (benchmarks/leakage_canary.py,
benchmarks/explain_faithfulness.py) and well above what a broken mechanism gives (shuffled
window labels, attributions of an untrained network, a split that lets subjects cross folds).
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import yaml

from semiology.bundle import load_bundle, prepare_record
from semiology.cli import loso_eval
from semiology.config import config_from_dict, override
from semiology.evaluate.run import load_records, run_experiment
from semiology.experiment import ExperimentConfig, check_experiment
from semiology.explain.attributions import explain_record
from semiology.explain.faithfulness import planted_mass_share
from semiology.synthetic import make_cohort

PLANTED = {
    "name": "proof-planted",
    "seed": 3,
    "data": {
        "synthetic": {
            "n_subjects": 8,
            "n_seizures": 16,
            "seizures_per_subject": [2, 2],
            "n_dystonia_subjects": 4,
            "n_emotion_subjects": 0,
            "n_both_subjects": 0,
            "seizure_duration_s": [20.0, 24.0],
            "pre_ictal_s": 6.0,
            "post_ictal_s": 2.0,
            "difficulty": 0.1,
        }
    },
    "windows": {"target_fps": 10.0, "max_train_windows_per_seizure": 6, "view": "body"},
    "agcn": {"channels": [16, 16], "strides": [2, 1], "bones": True},
    "train": {"epochs": 8, "patience": 4, "batch_size": 32, "lr": 0.01, "mirror": True},
    "evaluation": {"workers": 1},
    "tasks": [{"name": "dystonia", "classes": ["no", "yes"]}],
    "models": [{"name": "AGCN-pose", "task": "dystonia", "kind": "agcn", "stream": "body_3d"}],
}
RECOVERY_FLOOR = 0.8
"""Seizure macro F1 the planted dystonia must reach under LOSO (chance is 0.5)."""
TOP_PLANTED_FLOOR = 0.6
"""Share of unseen dystonic seizures whose most attributed joint is on the planted arm (by count alone 3 of 11 joints: 0.27)."""
MASS_FLOOR = 0.45
"""Mean share of the ictal attribution mass on the planted arm's three joints (by count alone 0.27)."""


@pytest.fixture(scope="module")
def planted_study(tmp_path_factory):
    root = tmp_path_factory.mktemp("proof_planted")
    config_file = root / "planted.yaml"
    config_file.write_text(yaml.safe_dump(PLANTED), encoding="utf-8")
    status = loso_eval(["--config", str(config_file), "--out", str(root / "report"), "--bundle", str(root / "bundle"), "--no-progress"])
    assert status == 0
    return root


def test_a_planted_sign_is_recovered_under_loso(planted_study):
    metrics = json.loads((planted_study / "report" / "metrics.json").read_text())["models"]["dystonia/AGCN-pose"]
    assert metrics["seizure"]["pooled"]["macro_f1"] >= RECOVERY_FLOOR


def test_the_most_attributed_joints_of_a_dystonia_decision_include_the_planted_arm(planted_study):
    bundle = load_bundle(planted_study / "bundle")
    model = bundle.model("AGCN-pose")
    unseen = make_cohort(dataclasses.replace(bundle.config.data.synthetic, seed=11))
    dystonic = [record for record in unseen if record.labels["dystonia"] == "yes"]
    assert dystonic, "the unseen cohort must hold dystonic seizures"
    top_planted, shares = [], []
    for record in dystonic:
        attribution = explain_record(bundle, model, prepare_record(bundle, record), steps=8)
        planted = record.meta["planted_joints"]["dystonia"]
        top_planted.append(attribution.joint_names[int(np.argmax(attribution.joint_importance()))] in planted)
        shares.append(planted_mass_share(attribution, planted))
    assert np.mean(top_planted) >= TOP_PLANTED_FLOOR, f"most attributed joint on the planted arm in {sum(top_planted)}/{len(top_planted)} seizures"
    assert np.mean(shares) >= MASS_FLOOR, f"planted-arm share of the attribution mass {np.mean(shares):.2f}"


CANARY = {
    "name": "proof-canary",
    "data": {
        "synthetic": {
            "canary": True,
            "n_subjects": 10,
            "n_seizures": 60,
            "seizures_per_subject": [6, 6],
            "n_dystonia_subjects": 5,
            "n_emotion_subjects": 5,
            "n_both_subjects": 1,
            "seizure_duration_s": [20.0, 24.0],
        }
    },
    "windows": {"target_fps": 10.0, "baseline": "none", "max_train_windows_per_seizure": 24},
    "tcn": {"channels": [16]},
    "encoder": {"pretrain_subjects": 2, "pretrain_seizures": 2, "pretrain_epochs": 3},
    "train": {"epochs": 15, "patience": 6},
    "evaluation": {"workers": 1},
    "tasks": [{"name": "dystonia", "classes": ["no", "yes"]}],
    "models": [{"name": "TCN-pose", "task": "dystonia", "kind": "tcn", "stream": "body"}],
}
"""configs/canary.yaml's design at a third of its size: labels are coin tosses per subject, identity is loud.
The frame encoder gets 3 pretraining epochs: after 1 epoch its features are close to random
weights, and whether they carried identity (what a leaky split learns) was luck of the draw."""
CANARY_CEILING = 0.6
"""Seizure macro F1 the canary must stay under with subjects kept together (chance 0.5; a small
LOSO canary sits below chance, because holding a subject out tilts the training classes the
other way)."""
LEAK_GAP = 0.2
"""How far above the LOSO score the leaky split must reach: the proof that the canary can fail."""


def test_the_leakage_canary_stays_at_chance_under_loso_and_rises_under_a_leaky_split(tmp_path):
    config = config_from_dict(CANARY, ExperimentConfig, source="test")
    check_experiment(config, "test")
    loaded = load_records(config, "test")
    scores = {}
    for split in ("loso", "leaky_seizure"):
        run = run_experiment(override(config, {"evaluation.split": split}), tmp_path / split, source="test", progress=False, loaded=loaded)
        scores[split] = json.loads(run.files["metrics.json"].read_text())["models"]["dystonia/TCN-pose"]["seizure"]["pooled"]["macro_f1"]
    assert scores["loso"] <= CANARY_CEILING, scores
    assert scores["leaky_seizure"] >= scores["loso"] + LEAK_GAP, scores
