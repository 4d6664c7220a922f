"""The study report: every file written, byte-stable JSON, only existing figures referenced, banners."""

import csv
import re
from pathlib import Path

import numpy as np
import pytest

from semiology.evaluate.report import LEAKY_BANNER, SYNTHETIC_BANNER, format_table, write_report
from semiology.evaluate.results import ModelResult, PredictionTable, StudyResult
from semiology.evaluate.splits import leaky_seizure_folds, loso_folds

SUBJECTS = [f"P{i}" for i in range(6)]
SEIZURE_SUBJECTS = np.repeat(SUBJECTS, 2)
SEIZURE_IDS = np.array([f"{subject}-sz{k}" for subject in SUBJECTS for k in range(2)])
WINDOWS_PER_SEIZURE = 3


def fake_model(task, model, class_names, folds, seed, curves=True):
    """Random probabilities for every held-out window; labels fixed per seizure."""
    rng = np.random.default_rng(seed)
    n_classes = len(class_names)
    seizure_labels = rng.integers(0, n_classes, len(SEIZURE_IDS))
    rows = [(fold.index, i) for fold in folds for i in fold.test_idx for _ in range(WINDOWS_PER_SEIZURE)]
    fold_of_row = np.array([fold for fold, _ in rows])
    seizure_of_row = np.array([i for _, i in rows])
    thresholds = {fold.index: (0.3 + 0.05 * fold.index if n_classes == 2 else np.nan) for fold in folds}
    table = PredictionTable(
        seizure_id=SEIZURE_IDS[seizure_of_row],
        subject_id=SEIZURE_SUBJECTS[seizure_of_row],
        fold=fold_of_row,
        window_start_s=np.tile(np.arange(WINDOWS_PER_SEIZURE) * 2.0, len(rows) // WINDOWS_PER_SEIZURE),
        y_true=seizure_labels[seizure_of_row],
        prob=rng.dirichlet(np.ones(n_classes), len(rows)),
        threshold=np.array([thresholds[fold] for fold in fold_of_row]),
        class_names=class_names,
    )
    learning = {
        fold.index: {"train_loss": list(np.linspace(1.0, 0.3, 6)), "val_loss": list(np.linspace(1.1, 0.7, 6)), "val_macro_f1": [0.5] * 6}
        for fold in folds
    }
    selected = {fold.index: {"epoch": 4.0, "threshold": thresholds[fold.index]} for fold in folds}
    return ModelResult(task, model, class_names, table, learning if curves else {}, selected)


def fake_study(synthetic=True, split="loso"):
    if split == "loso":
        folds = loso_folds(SEIZURE_SUBJECTS)
        fold_subjects = {fold.index: fold.test_subjects for fold in folds}
    else:
        folds = leaky_seizure_folds(np.arange(len(SEIZURE_IDS)) % 2, n_splits=3, seed=0)
        fold_subjects = {fold.index: tuple(sorted(set(SEIZURE_SUBJECTS[fold.test_idx]))) for fold in folds}
    models = [
        fake_model("dystonia", "AGCN-pose", ("absent", "present"), folds, seed=1),
        fake_model("dystonia", "TCN-pose", ("absent", "present"), folds, seed=2, curves=False),
        fake_model("seizure_type", "AGCN-pose+KD", ("focal", "tonic", "clonic"), folds, seed=3),
    ]
    config = {"name": "unit", "seed": 7, "train": {"lr": 1e-4, "epochs": 6}, "tasks": ["dystonia", "seizure_type"]}
    return StudyResult("unit study", synthetic, config, "cfg123", "data456", folds, fold_subjects, split, models)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("report")
    return out_dir, write_report(fake_study(), out_dir)


def test_write_report_writes_every_file(written):
    out_dir, files = written
    for name in ("metrics.json", "predictions.csv", "folds.csv", "report.md", "report.html"):
        assert files[name] == out_dir / name and files[name].stat().st_size > 0
    figures = [name for name in files if name.startswith("figures/")]
    assert "figures/fold_scores_window_macro_f1.png" in figures
    assert sum("confusion_" in name for name in figures) == 3
    assert sum("curves_" in name for name in figures) == 2  # TCN-pose recorded no curves
    assert all(files[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for name in figures)


def test_csv_files_hold_every_window_and_the_fold_assignment(written):
    out_dir, _ = written
    with (out_dir / "predictions.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3 * len(SEIZURE_IDS) * WINDOWS_PER_SEIZURE
    assert {"prob_absent", "prob_present", "prob_focal", "prob_tonic", "prob_clonic", "threshold", "y_pred"} <= set(rows[0])
    multiclass = [row for row in rows if row["model"] == "AGCN-pose+KD"]
    assert all(row["threshold"] == "" and row["prob_absent"] == "" for row in multiclass)
    assert {row["y_true"] for row in multiclass} <= {"focal", "tonic", "clonic"}
    with (out_dir / "folds.csv").open() as handle:
        folds = list(csv.DictReader(handle))
    assert [(row["fold"], row["subject_id"], row["role"]) for row in folds] == [(str(i), s, "test") for i, s in enumerate(SUBJECTS)]


def test_metrics_json_is_byte_identical_and_free_of_absolute_paths(written, tmp_path):
    out_dir, files = written
    again = write_report(fake_study(), tmp_path / "again")
    first = files["metrics.json"].read_bytes()
    assert first == again["metrics.json"].read_bytes()
    assert str(out_dir).encode() not in first and str(tmp_path).encode() not in first
    assert b'"synthetic": true' in first and b'"P3"' in first


def test_figures_drawn_on_two_processes_are_the_same_files_byte_for_byte(written, tmp_path):
    out_dir, files = written
    parallel = write_report(fake_study(), tmp_path / "parallel", workers=2)
    figures = sorted(name for name in files if name.endswith(".png"))
    assert figures == sorted(name for name in parallel if name.endswith(".png")) and any("curves_" in name for name in figures)
    for name in figures:
        assert files[name].read_bytes() == parallel[name].read_bytes(), name
    assert files["report.html"].read_bytes().replace(str(out_dir).encode(), b"") == parallel["report.html"].read_bytes().replace(str(tmp_path / "parallel").encode(), b"")


def test_html_and_markdown_reference_only_existing_files(written):
    out_dir, _ = written
    html = (out_dir / "report.html").read_text()
    references = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(references) == 1 + 3 + 2
    assert all(not Path(ref).is_absolute() and (out_dir / ref).is_file() for ref in references)
    markdown = (out_dir / "report.md").read_text()
    links = re.findall(r"\]\(([^)]+)\)", markdown)
    assert sorted(links) == sorted(references)


def test_synthetic_banner_present_only_when_synthetic(written, tmp_path):
    out_dir, _ = written
    assert SYNTHETIC_BANNER in (out_dir / "report.md").read_text()
    assert 'class="banner"' in (out_dir / "report.html").read_text()
    real = fake_study(synthetic=False)
    files = write_report(real, tmp_path)
    for name in ("report.md", "report.html"):
        text = files[name].read_text()
        assert "SYNTHETIC" not in text and "banner" not in text.split("</style>")[-1]
    assert "SYNTHETIC" not in format_table(real)


def test_format_table_lists_each_model_row_with_the_banner():
    study = fake_study()
    text = format_table(study)
    lines = text.splitlines()
    assert SYNTHETIC_BANNER in lines[0]
    for task, model in (("dystonia", "AGCN-pose"), ("dystonia", "TCN-pose"), ("seizure_type", "AGCN-pose+KD")):
        assert any(line.split()[:2] == [task, model] for line in lines)
    assert "±" in text and "[" in text


def test_leaky_report_says_so_and_skips_the_subject_level(tmp_path):
    study = fake_study(split="leaky_seizure")
    files = write_report(study, tmp_path)
    markdown = files["report.md"].read_text()
    assert LEAKY_BANNER in markdown and "skipped" in markdown
    assert LEAKY_BANNER in format_table(study)


def test_a_prediction_from_the_wrong_fold_is_refused(tmp_path):
    study = fake_study()
    study.models[0].predictions.fold[0] = 5
    with pytest.raises(ValueError, match="did not hold it out"):
        write_report(study, tmp_path)
