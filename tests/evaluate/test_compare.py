"""Paired comparisons: p-values checked against exact enumeration, Holm by hand, bootstrap CI, small n, report, CLI."""

import csv
import json
import shutil
import subprocess
import sys
from itertools import combinations, product
from pathlib import Path

import numpy as np
import pytest

from semiology.evaluate.compare import bootstrap_mean_ci, compare_all, compare_pair, holm, mann_whitney_p, study_comparisons, wilcoxon_p
from semiology.evaluate.compare_cli import compare_tool
from semiology.evaluate.report import write_report
from semiology.evaluate.results import StudyResult
from tests.evaluate.test_eval_report import SEIZURE_SUBJECTS, fake_model, fake_study

ROOT = Path(__file__).resolve().parents[2]
SUBJECTS = [f"P{i:02d}" for i in range(6)]
# Per-fold scores of two models; the six differences have distinct magnitudes and no zeros, and
# the twelve scores are all distinct, so both tests are exact and enumeration reproduces them.
A = [0.91, 0.83, 0.78, 0.96, 0.70, 0.88]
B = [0.85, 0.86, 0.69, 0.80, 0.72, 0.87]


def exact_wilcoxon(a, b):
    """Two-sided exact signed-rank p by enumerating all 2^n sign assignments of the ranks."""
    diff = np.subtract(a, b)
    ranks = np.argsort(np.argsort(np.abs(diff))) + 1
    observed = ranks[diff > 0].sum()
    sums = np.array([sum(r for r, s in zip(ranks, signs) if s) for signs in product([0, 1], repeat=len(diff))])
    return min(1.0, 2 * min(np.mean(sums <= observed), np.mean(sums >= observed)))


def exact_mann_whitney(a, b):
    """Two-sided exact U p by enumerating every way to give len(a) of the pooled ranks to A."""
    pooled = np.concatenate([a, b])
    ranks = np.argsort(np.argsort(pooled)) + 1
    n = len(a)
    observed = ranks[:n].sum()
    sums = np.array([sum(ranks[list(chosen)]) for chosen in combinations(range(len(pooled)), n)])
    return min(1.0, 2 * min(np.mean(sums <= observed), np.mean(sums >= observed)))


def test_p_values_match_exact_enumeration_and_hand_values():
    p_w, note_w = wilcoxon_p(np.array(A), np.array(B))
    p_u, note_u = mann_whitney_p(np.array(A), np.array(B))
    assert note_w is None and note_u is None
    assert p_w == pytest.approx(exact_wilcoxon(A, B), abs=1e-12)
    assert p_u == pytest.approx(exact_mann_whitney(A, B), abs=1e-12)
    # By hand: all six differences positive -> T+ = 21, the most extreme of 2^6 sign patterns: p = 2/64.
    assert wilcoxon_p(np.array(A) + 1, np.array(A))[0] == pytest.approx(2 / 64)
    # Every A above every B, 6 vs 6: 1 of C(12, 6) = 924 rank splits on each side: p = 2/924.
    assert mann_whitney_p(np.arange(6) + 10.0, np.arange(6) + 0.5)[0] == pytest.approx(2 / 924)


def test_holm_by_hand():
    # sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> kept monotone: 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, None, 0.9]) == [pytest.approx(1.0), None, pytest.approx(1.0)]  # None is not counted in m
    assert holm([]) == []


def test_compare_all_pairs_by_unit_and_adjusts_over_every_comparison():
    a = dict(zip(SUBJECTS, A))
    b = {**dict(zip(SUBJECTS, B)), "P99": 0.1}  # P99 is scored by B only: not paired
    c = {s: v + 1 for s, v in a.items()}
    results = compare_all([({"name": "A-B"}, a, b), ({"name": "C-A"}, c, a)])
    first, second = results
    assert first["n"] == 6 and first["units"] == SUBJECTS
    assert first["mean_difference"] == pytest.approx(np.mean(np.subtract(A, B)))
    raw = [exact_wilcoxon(A, B), 2 / 64]
    assert [r["wilcoxon"]["p"] for r in results] == pytest.approx(raw)
    assert [r["wilcoxon"]["p_holm"] for r in results] == pytest.approx(holm(raw))
    assert second["wilcoxon"]["p_holm"] == pytest.approx(min(1.0, 2 * 2 / 64))


def test_bootstrap_ci_is_deterministic_and_contains_the_mean():
    diff = np.subtract(A, B)
    low, high = bootstrap_mean_ci(diff)
    assert (low, high) == bootstrap_mean_ci(diff)
    assert low < diff.mean() < high
    assert bootstrap_mean_ci(diff, seed=1) != (low, high)


def test_small_n_gives_a_reason_not_a_crash():
    one = compare_pair({"P01": 0.9}, {"P01": 0.8})
    assert one["n"] == 1 and one["wilcoxon"]["p"] is None and "too few" in one["wilcoxon"]["note"]
    assert one["mann_whitney"]["p"] is None and one["ci95"]["low"] is None
    none = compare_pair({"P01": 0.9}, {"P02": 0.8})
    assert none["n"] == 0 and none["mean_difference"] is None and none["wilcoxon"]["p"] is None
    same = compare_pair(dict(zip(SUBJECTS, A)), dict(zip(SUBJECTS, A)))
    assert same["wilcoxon"] == {"p": 1.0, "note": "all paired differences are zero"}
    assert same["ci95"]["low"] == same["ci95"]["high"] == 0.0
    flat = mann_whitney_p(np.ones(4), np.ones(4))
    assert flat == (1.0, "all scores are equal")
    assert compare_all([({}, {"P01": 0.9}, {"P01": 0.8})])[0]["wilcoxon"]["p_holm"] is None


def _evaluation(scores):
    return {"window": {"per_fold": [{"fold": i, "macro_f1": s} for i, s in enumerate(scores)]}}


def test_study_comparisons_orient_distillation_against_its_counterpart():
    config = {
        "models": [
            {"name": "KD", "task": "t", "kind": "agcn_kd", "stream": "body"},
            {"name": "AGCN", "task": "t", "kind": "agcn", "stream": "body"},
            {"name": "TCN", "task": "t", "kind": "tcn", "stream": "body"},
            {"name": "other", "task": "u", "kind": "agcn", "stream": "body"},
        ]
    }
    folds = {i: (subject,) for i, subject in enumerate(SUBJECTS)}
    evaluations = {"t/KD": _evaluation(A), "t/AGCN": _evaluation(B), "t/TCN": _evaluation(B[::-1]), "u/other": _evaluation(A)}
    order = [("t", "KD"), ("t", "AGCN"), ("t", "TCN"), ("u", "other")]
    comparisons = study_comparisons(config, folds, evaluations, order)
    items = comparisons["items"]
    assert [(i["a"], i["b"], i["relation"]) for i in items] == [("KD", "AGCN", "distillation"), ("KD", "TCN", "same task"), ("AGCN", "TCN", "same task")]
    assert items[0]["wilcoxon"]["p"] == pytest.approx(exact_wilcoxon(A, B), abs=1e-6)
    # the counterpart listed first is still the B side of the distillation comparison
    swapped = study_comparisons(config, folds, evaluations, [("t", "AGCN"), ("t", "KD")])["items"]
    assert (swapped[0]["a"], swapped[0]["b"], swapped[0]["relation"]) == ("KD", "AGCN", "distillation")
    # a row's own bones setting must match the other's (a row without one reads the study's agcn.bones)
    config["agcn"] = {"bones": True}
    config["models"][1]["bones"] = False
    assert study_comparisons(config, folds, evaluations, order)["items"][0]["relation"] == "same task"
    config["models"][1]["bones"] = True
    assert study_comparisons(config, folds, evaluations, order)["items"][0]["relation"] == "distillation"


def test_report_writes_comparisons_without_touching_other_keys(tmp_path):
    files = write_report(fake_study(), tmp_path)
    metrics = json.loads(files["metrics.json"].read_text())
    comparisons = metrics["comparisons"]
    assert [(i["task"], i["a"], i["b"]) for i in comparisons["items"]] == [("dystonia", "AGCN-pose", "TCN-pose")]
    assert comparisons["items"][0]["n"] == len(metrics["folds"])
    assert "## Paired comparisons" in files["report.md"].read_text()
    assert "Paired comparisons" in files["report.html"].read_text()


def _saved_study(folder, seed):
    study = fake_study()
    models = [fake_model("dystonia", "AGCN-pose", ("absent", "present"), study.folds, seed=seed, curves=False)]
    study = StudyResult("s", True, study.config, "cfg", "data456", study.folds, study.fold_subjects, "loso", models)
    write_report(study, folder)
    return folder


@pytest.fixture(scope="module")
def two_studies(tmp_path_factory):
    root = tmp_path_factory.mktemp("studies")
    return _saved_study(root / "a", seed=1), _saved_study(root / "b", seed=5)


def test_cli_compares_two_saved_studies(two_studies, capsys):
    a, b = two_studies
    assert compare_tool([str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert f"{a}:dystonia/AGCN-pose" in out and f"{b}:dystonia/AGCN-pose" in out and "Holm" in out
    synthetic = json.loads((a / "metrics.json").read_text())["synthetic"]
    assert ("SYNTHETIC DATA" in out) == bool(synthetic), "synthetic studies are labelled as such"
    assert compare_tool([str(a), str(b), "--models", "dystonia/AGCN-pose", "--level", "seizure"]) == 0


def test_cli_refuses_studies_that_are_not_comparable(two_studies, tmp_path, capsys):
    a, b = two_studies
    other = tmp_path / "other"
    shutil.copytree(b, other)
    metrics = json.loads((other / "metrics.json").read_text())
    metrics["folds"]["0"] = ["Q9"]
    (other / "metrics.json").write_text(json.dumps(metrics))
    with (other / "folds.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["fold", "subject_id", "role"])
        for fold, subjects in metrics["folds"].items():
            writer.writerows([fold, s, "test"] for s in subjects)
    assert compare_tool([str(a), str(other)]) == 2
    assert "different folds" in capsys.readouterr().err
    (other / "folds.csv").unlink()
    assert compare_tool([str(a), str(other)]) == 2
    assert "no folds.csv" in capsys.readouterr().err
    assert compare_tool([str(a), str(b), "--models", "dystonia/nope"]) == 2
    assert "no model 'dystonia/nope'" in capsys.readouterr().err
    assert set(SEIZURE_SUBJECTS) == {s for subjects in json.loads((a / "metrics.json").read_text())["folds"].values() for s in subjects}


def test_tools_compare_entry_point_exit_codes(two_studies, tmp_path):
    a, b = two_studies

    def run(*args):
        return subprocess.run([sys.executable, str(ROOT / "tools" / "compare.py"), *map(str, args)], check=False, capture_output=True, text=True, timeout=60, cwd=ROOT)

    assert run(a, b).returncode == 0
    missing = run(a, tmp_path / "missing")
    assert missing.returncode == 2 and "not comparable" in missing.stderr
