"""The study report: metrics.json, predictions.csv, folds.csv, report.md, report.html and figures.

Written for two readers: a clinician, who reads Table 1 and the figures, and a reviewer, who
checks which subject was held out in which fold, what was chosen on each inner split, which
config and which data produced the numbers. Outputs hold no timestamps and no absolute paths,
so the same study writes byte-identical `metrics.json`.
"""

from __future__ import annotations

import csv
import html
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from semiology import __version__
from semiology.evaluate.compare import COMPARISON_HEADER, comparison_caption, comparison_rows, study_comparisons
from semiology.evaluate.figures import plot_confusion_matrix, plot_fold_scores, plot_learning_curves
from semiology.evaluate.metrics import evaluate_model, to_jsonable
from semiology.evaluate.results import ModelResult, StudyResult
from semiology.evaluate.runner import run_jobs
from semiology.evaluate.text import fixed_width
from semiology.train.search import SEARCH_KEY_PREFIX as SEARCH_PREFIX

SYNTHETIC_BANNER = "SYNTHETIC DATA — these numbers prove the machinery, not clinical accuracy"
LEAKY_BANNER = (
    "LEAKY SPLIT — seizures of one subject are in both training and test folds; "
    "these numbers only demonstrate leakage and must not be reported"
)
N_BOOT = 1000
BOOT_SEED = 0
TABLE1_HEADER = ("Task", "Model", "F1", "Accuracy", "Sensitivity", "Specificity", "Seizure F1 [95% CI]")
MISSING = "n/a"
SPLIT_DESCRIPTIONS = {
    "loso": "Leave-one-subject-out: each fold tests one subject and trains on the others (scikit-learn "
    "LeaveOneGroupOut, grouped by subject_id).",
    "grouped_kfold": "Subject-grouped stratified k-fold (scikit-learn StratifiedGroupKFold, grouped by subject_id): "
    "every subject is tested in exactly one fold and never trained on in that fold.",
    "leaky_seizure": "Seizure-level stratified k-fold that IGNORES subjects (scikit-learn StratifiedKFold): seizures "
    "of one subject are in training and test of the same fold, so these numbers are inflated by design.",
}


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


@dataclass(frozen=True)
class _Heading:
    text: str
    level: int = 2

    def markdown(self) -> str:
        return f"{'#' * self.level} {self.text}"

    def html(self) -> str:
        return f"<h{self.level}>{html.escape(self.text)}</h{self.level}>"


@dataclass(frozen=True)
class _Paragraph:
    text: str

    def markdown(self) -> str:
        return self.text

    def html(self) -> str:
        return f"<p>{html.escape(self.text)}</p>"


@dataclass(frozen=True)
class _Banner:
    text: str

    def markdown(self) -> str:
        return f"> **{self.text}**"

    def html(self) -> str:
        return f'<div class="banner">{html.escape(self.text)}</div>'


@dataclass(frozen=True)
class _Table:
    header: Sequence[str]
    rows: Sequence[Sequence[str]]

    def markdown(self) -> str:
        lines = ["| " + " | ".join(_md_cell(text) for text in self.header) + " |", "|" + "---|" * len(self.header)]
        lines += ["| " + " | ".join(_md_cell(text) for text in row) + " |" for row in self.rows]
        return "\n".join(lines)

    def html(self) -> str:
        head = "".join(f"<th>{html.escape(text)}</th>" for text in self.header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(text)}</td>" for text in row) + "</tr>" for row in self.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


@dataclass(frozen=True)
class _Image:
    path: str
    alt: str

    def markdown(self) -> str:
        return f"![{_md_cell(self.alt)}]({self.path})"

    def html(self) -> str:
        return f'<img src="{html.escape(self.path)}" alt="{html.escape(self.alt)}">'


@dataclass(frozen=True)
class _Code:
    text: str

    def markdown(self) -> str:
        return f"```json\n{self.text}\n```"

    def html(self) -> str:
        return f"<pre><code>{html.escape(self.text)}</code></pre>"


def _number(value: float | None, digits: int = 3) -> str:
    return MISSING if value is None else f"{value:.{digits}f}"


def _mean_std(summary: Mapping | None, n_folds: int) -> str:
    if not summary or summary.get("mean") is None:
        return MISSING
    cell = f"{summary['mean']:.3f} ± {summary['std']:.3f}"
    return cell if summary["n"] == n_folds else f"{cell} (n={summary['n']}/{n_folds})"


def _ci(ci: Mapping | None) -> str:
    if not ci or ci.get("estimate") is None:
        return MISSING
    if ci.get("low") is None:
        return _number(ci["estimate"])
    return f"{ci['estimate']:.3f} [{ci['low']:.3f}, {ci['high']:.3f}]"


def _banners(study: StudyResult) -> list[str]:
    banners = [SYNTHETIC_BANNER] if study.synthetic else []
    if study.split == "leaky_seizure":
        banners.append(LEAKY_BANNER)
    return banners


def _evaluate_all(study: StudyResult) -> dict[str, dict]:
    evaluations: dict[str, dict] = {}
    for model in study.models:
        if model.key in evaluations:
            raise ValueError(f"study {study.name!r} lists model {model.key!r} twice")
        evaluations[model.key] = evaluate_model(model, n_boot=N_BOOT, seed=BOOT_SEED)
    return evaluations


def _comparisons(study: StudyResult, evaluations: Mapping[str, dict]) -> dict:
    """Paired comparisons of the models of each task (`semiology.evaluate.compare`): metrics.json's "comparisons"."""
    return study_comparisons(study.config, study.fold_subjects, evaluations, [(model.task, model.model) for model in study.models])


def _models_by_task(study: StudyResult) -> list[ModelResult]:
    """Models grouped by task (tasks in order of first appearance), models in study order."""
    tasks = list(dict.fromkeys(model.task for model in study.models))
    return [model for task in tasks for model in study.models if model.task == task]


def _table1_rows(study: StudyResult, evaluations: Mapping[str, dict]) -> list[list[str]]:
    rows = []
    for model in _models_by_task(study):
        window = evaluations[model.key]["window"]
        summary = window["fold_summary"]
        n_folds = summary["n_folds"]
        binary = len(model.class_names) == 2
        sensitivity = summary.get("sensitivity" if binary else "macro_sensitivity")
        specificity = summary.get("specificity" if binary else "macro_specificity")
        mark = "" if binary else " †"
        rows.append(
            [
                model.task,
                model.model,
                _mean_std(summary.get("macro_f1"), n_folds),
                _mean_std(summary.get("accuracy"), n_folds),
                _mean_std(sensitivity, n_folds) + (mark if sensitivity else ""),
                _mean_std(specificity, n_folds) + (mark if specificity else ""),
                _ci(evaluations[model.key]["seizure"].get("ci95")),
            ]
        )
    return rows


def _table1_caption(study: StudyResult) -> str:
    n_folds = len(study.folds)
    return (
        f"F1 (macro), accuracy, sensitivity and specificity at window level: mean ± std over {n_folds} folds "
        f"({study.split}); (n=a/b) marks a metric defined in only a of b folds (e.g. no positives among a "
        f"fold's test subjects). Seizure F1: macro F1 pooled over all held-out seizures, with a 95% "
        f"percentile CI from {N_BOOT} bootstrap resamples of subjects. "
        f"† macro average over classes (multiclass tasks)."
        + "".join(f" Task {task['name']}: fitted on the windows at least half inside the annotated spans of {task['during']}; "
                  f"validated and scored on all windows."
                  for task in study.config.get("tasks", []) if isinstance(task, Mapping) and task.get("during"))
    )


def format_table(study: StudyResult, evaluations: Mapping[str, dict] | None = None) -> str:
    """Table 1 as fixed-width plain text for the terminal, banner lines first when they apply.

    `evaluations` (model key -> `evaluate_model` output, e.g. the "models" of a metrics.json)
    skips recomputing them.
    """
    evaluations = evaluations if evaluations is not None else _evaluate_all(study)
    table, rule = fixed_width(TABLE1_HEADER, _table1_rows(study, evaluations))
    lines = [f"*** {banner} ***" for banner in _banners(study)]
    lines += [f"Table 1 — {study.name}", *table, rule, _table1_caption(study)]
    return "\n".join(lines) + "\n"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "model"


_Drawing = tuple[Callable[..., Path | None], tuple]
"""One figure to draw: a plotting function and its arguments (the last one its path)."""


def _draw(_: None, drawing: _Drawing) -> Path | None:
    plot, arguments = drawing
    return plot(*arguments)


def _figures(study: StudyResult, evaluations: Mapping[str, dict], out_dir: Path, workers: int = 1) -> tuple[str, dict[str, dict[str, str]]]:
    """Draw every figure, on up to `workers` processes; returns the fold-score figure and, per model key, {"confusion", "curves"}.

    Paths are relative to `out_dir`; "curves" is absent for a model without learning curves.
    Each figure is drawn on its own canvas, so drawing them in parallel changes no byte.
    """
    scores = {key: [fold["macro_f1"] for fold in evaluation["window"]["per_fold"]] for key, evaluation in evaluations.items()}
    scores_figure = "figures/fold_scores_window_macro_f1.png"
    drawings: list[_Drawing] = [(plot_fold_scores, (scores, "window-level macro F1", out_dir / scores_figure))]
    test_subjects = {
        fold: ", ".join(subjects) if len(subjects) <= 2 else f"{len(subjects)} subjects"
        for fold, subjects in study.fold_subjects.items()
    }
    per_model: dict[str, dict[str, str]] = {}
    curve_figures: dict[str, tuple[int, str]] = {}
    for index, model in enumerate(study.models):
        stem = f"{index:02d}_{_slug(model.key)}"
        per_model[model.key] = {"confusion": f"figures/confusion_{stem}.png"}
        matrix = evaluations[model.key]["seizure"]["pooled"]["confusion_matrix"]
        drawings.append((plot_confusion_matrix, (matrix, model.class_names, f"{model.key}: seizure level, all folds pooled", out_dir / per_model[model.key]["confusion"])))
        curves = f"figures/curves_{stem}.png"
        curve_figures[model.key] = (len(drawings), curves)
        epochs = {fold: chosen["epoch"] for fold, chosen in model.selected.items() if chosen.get("epoch") is not None}
        drawings.append((plot_learning_curves, (model.learning_curves, f"{model.key}: learning curves", out_dir / curves, epochs, test_subjects)))
    drawn = run_jobs(_draw, None, drawings, workers, desc="figures", unit="figure", progress=False)
    for key, (position, curves) in curve_figures.items():
        if drawn[position] is not None:
            per_model[key]["curves"] = curves
    return scores_figure, per_model


def _selection_value(chosen: Mapping[str, float], key: str) -> str:
    value = chosen.get(key)
    if value is None:
        return "—"
    if not np.isfinite(value):
        return "argmax" if key == "threshold" else MISSING
    return str(int(value)) if key == "epoch" and float(value).is_integer() else f"{value:.3f}"


def _document(
    study: StudyResult, evaluations: Mapping[str, dict], comparisons: Mapping, scores_figure: str, figures: Mapping[str, Mapping[str, str]]
) -> tuple[str, list]:
    title = f"{study.name} — seizure semiology evaluation"
    subjects = sorted({subject for held_out in study.fold_subjects.values() for subject in held_out})
    blocks: list = [_Banner(text) for text in _banners(study)]
    blocks += [
        _Paragraph(
            f"Split: {study.split}, {len(study.folds)} folds, {len(subjects)} subjects, {len(study.models)} models. "
            f"Config hash {study.config_hash}; data hash {study.data_hash}; semiology {__version__}."
        ),
        _Heading("Table 1"),
        _Table(TABLE1_HEADER, _table1_rows(study, evaluations)),
        _Paragraph(_table1_caption(study)),
        *_comparison_blocks(comparisons),
        _Heading("How these numbers were made"),
        _Paragraph(
            f"{SPLIT_DESCRIPTIONS[study.split]} The epoch, decision threshold and fusion weight of each fold were "
            "chosen on an inner split of that fold's training subjects (recorded below); the test items were predicted "
            "once. Seizure probability is the mean over its windows, subject "
            "probability the mean over its seizures; the fold's threshold applies to these means (argmax for "
            "multiclass). A subject is positive if any of its seizures is. Pooled metrics score all held-out items "
            "together; per-fold macro F1 averages over the classes present in that fold's ground truth, and "
            "sensitivity/specificity/AUCs are counted only in folds where they are defined. Standard deviations are "
            "population standard deviations over folds."
        ),
        *_normalisation_blocks(study),
        _Heading("Metrics pooled over folds, by level"),
        _Table(*_pooled_table(study, evaluations)),
        _Heading("Scores per fold"),
        _Image(scores_figure, "window-level macro F1 per fold and model"),
        _Heading("Confusion matrices (seizure level)"),
    ]
    for model in study.models:
        blocks.append(_Image(figures[model.key]["confusion"], f"confusion matrix of {model.key}"))
    blocks.append(_Heading("Learning curves"))
    for model in study.models:
        if "curves" in figures[model.key]:
            blocks.append(_Image(figures[model.key]["curves"], f"learning curves of {model.key}"))
        else:
            blocks.append(_Paragraph(f"{model.key}: no learning curves recorded."))
    blocks += [
        _Heading("Choices made on each fold's inner split"),
        _Table(*_selection_table(study)),
        _Heading("Fold assignment"),
        _Paragraph("Subjects tested in each fold (also in folds.csv; every window prediction is in predictions.csv)."),
        _Table(*_fold_table(study)),
        _Heading("Configuration"),
        _Code(json.dumps(to_jsonable(study.config, decimals=None), sort_keys=True, indent=2)),
    ]
    return title, blocks


def _normalisation(study: StudyResult) -> dict:
    windows = study.config.get("windows", {})
    return {"baseline": windows.get("baseline"), "fallback": windows.get("baseline_fallback"), "view": windows.get("view"), "notes": list(study.normalisation_notes)}


def _normalisation_blocks(study: StudyResult) -> list:
    """The baseline policy in words, and every record that fell back from it (none: one sentence says so)."""
    policy = _normalisation(study)
    if policy["baseline"] is None:
        return []
    text = (f"Windows are normalised with the `{policy['baseline']}` baseline policy (fallback `{policy['fallback']}` for a recording "
            f"without the frames it needs), body frame: `{policy['view']}`, the same rule for every record.")
    if not policy["notes"]:
        return [_Heading("Normalisation"), _Paragraph(text + " No record fell back.")]
    rows = [[note["seizure"], note["stream"], note["note"]] for note in policy["notes"]]
    return [_Heading("Normalisation"), _Paragraph(text + f" {len(rows)} record/stream pairs fell back:"), _Table(("Seizure", "Stream", "Note"), rows)]


def _comparison_blocks(comparisons: Mapping) -> list:
    if not comparisons["items"]:
        return []
    rows = comparison_rows(comparisons["items"], comparisons["metric"])
    return [_Heading("Paired comparisons"), _Table(COMPARISON_HEADER, rows), _Paragraph(comparison_caption(comparisons))]


def _pooled_table(study: StudyResult, evaluations: Mapping[str, dict]) -> tuple[Sequence[str], list[list[str]]]:
    header = ("Task/model", "Level", "n", "Macro F1 [95% CI]", "Accuracy", "Sensitivity", "Specificity", "ROC-AUC", "PR-AUC")
    rows = []
    for model in _models_by_task(study):
        binary = len(model.class_names) == 2
        for level in ("window", "seizure", "subject"):
            entry = evaluations[model.key][level]
            if "skipped" in entry:
                rows.append([model.key, level, MISSING, f"skipped: {entry['skipped']}", "", "", "", "", ""])
                continue
            pooled = entry["pooled"]
            macro_f1 = _ci(entry["ci95"]) if "ci95" in entry else _number(pooled["macro_f1"])
            sensitivity = pooled.get("sensitivity") if binary else pooled.get("macro_sensitivity")
            specificity = pooled.get("specificity") if binary else pooled.get("macro_specificity")
            mark = "" if binary else " †"
            rows.append(
                [
                    model.key,
                    level,
                    str(pooled["n"]),
                    macro_f1,
                    _number(pooled["accuracy"]),
                    _number(sensitivity) + (mark if sensitivity is not None else ""),
                    _number(specificity) + (mark if specificity is not None else ""),
                    _number(pooled["roc_auc"]),
                    _number(pooled["pr_auc"]),
                ]
            )
    return header, rows


def _selection_table(study: StudyResult) -> tuple[Sequence[str], list[list[str]]]:
    header = ("Task/model", "Fold", "Test subjects", "Epoch", "Threshold", "Fusion weight")
    searched = any(key.startswith(SEARCH_PREFIX) for model in study.models for chosen in model.selected.values() for key in chosen)
    if searched:
        header = (*header, "Searched settings (inner split)")
    rows = []
    for model in _models_by_task(study):
        for fold in sorted(model.selected):
            chosen = model.selected[fold]
            held_out = ", ".join(study.fold_subjects.get(fold, ()))
            row = [model.key, str(fold), held_out] + [_selection_value(chosen, key) for key in ("epoch", "threshold", "fusion_weight")]
            if searched:
                row.append(", ".join(f"{key[len(SEARCH_PREFIX):]}={value:g}" for key, value in sorted(chosen.items()) if key.startswith(SEARCH_PREFIX)) or "—")
            rows.append(row)
    return header, rows


def _fold_table(study: StudyResult) -> tuple[Sequence[str], list[list[str]]]:
    header = ("Fold", "Test subjects", "Test seizures", "Training seizures")
    rows = [
        [str(fold.index), ", ".join(study.fold_subjects.get(fold.index, fold.test_subjects)), str(len(fold.test_idx)), str(len(fold.train_idx))]
        for fold in study.folds
    ]
    return header, rows


def _render_markdown(title: str, blocks: Sequence) -> str:
    return "\n\n".join([f"# {title}"] + [block.markdown() for block in blocks]) + "\n"


HTML_STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
.banner { background: #b00020; color: #fff; font-weight: bold; padding: .8em 1em; margin: 1em 0; border-radius: 4px; font-size: 1.1em; }
table { border-collapse: collapse; margin: .8em 0; font-size: .92em; }
th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; } tr:nth-child(even) td { background: #fafafa; }
img { max-width: 100%; display: block; margin: .8em 0; }
pre { background: #f6f6f6; padding: .8em; overflow-x: auto; font-size: .85em; }
"""


def _render_html(title: str, blocks: Sequence) -> str:
    head = f'<head><meta charset="utf-8"><title>{html.escape(title)}</title><style>{HTML_STYLE}</style></head>'
    body = [f"<h1>{html.escape(title)}</h1>"] + [block.html() for block in blocks]
    return "\n".join(["<!DOCTYPE html>", '<html lang="en">', head, "<body>", *body, "</body>", "</html>"]) + "\n"


def _check_held_out(study: StudyResult) -> None:
    """Every prediction must come from the fold that held its subject out (grouped splits only)."""
    if study.split == "leaky_seizure":
        return
    for model in study.models:
        table = model.predictions
        for fold, subject in sorted(set(zip(table.fold.tolist(), table.subject_id.tolist()))):
            if subject not in study.fold_subjects.get(fold, ()):
                raise ValueError(f"{model.key}: subject {subject!r} is predicted in fold {fold}, which did not hold it out")


def _write_predictions(study: StudyResult, path: Path) -> None:
    class_columns = list(dict.fromkeys(name for model in study.models for name in model.class_names))
    header = ["study", "task", "model", "fold", "subject_id", "seizure_id", "window_start_s", "y_true", "y_pred"]
    header += [f"prob_{name}" for name in class_columns] + ["threshold"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for model in study.models:
            table = model.predictions
            names = table.class_names
            y_pred = table.y_pred()
            for row in range(len(table)):
                probs = {name: f"{table.prob[row, k]:.6f}" for k, name in enumerate(names)}
                threshold = table.threshold[row]
                writer.writerow(
                    [study.name, model.task, model.model, int(table.fold[row]), table.subject_id[row], table.seizure_id[row]]
                    + [f"{table.window_start_s[row]:.6f}", names[table.y_true[row]], names[y_pred[row]]]
                    + [probs.get(name, "") for name in class_columns]
                    + [f"{threshold:.6f}" if np.isfinite(threshold) else ""]
                )


def _write_folds(study: StudyResult, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["fold", "subject_id", "role"])
        for fold in sorted(study.fold_subjects):
            for subject in sorted(study.fold_subjects[fold]):
                writer.writerow([fold, subject, "test"])


def _metrics_document(study: StudyResult, evaluations: Mapping[str, dict], comparisons: Mapping) -> dict:
    models = {}
    for model in study.models:
        models[model.key] = {**evaluations[model.key], "selected": to_jsonable(model.selected)}
    return {
        "study": study.name,
        "synthetic": study.synthetic,
        "split": study.split,
        "config": to_jsonable(study.config, decimals=None),
        "config_hash": study.config_hash,
        "data_hash": study.data_hash,
        "folds": {str(fold): sorted(subjects) for fold, subjects in sorted(study.fold_subjects.items())},
        "bootstrap": {"n_boot": N_BOOT, "seed": BOOT_SEED, "unit": "subject", "method": "percentile"},
        "semiology_version": __version__,
        "models": models,
        "comparisons": comparisons,
        "normalisation": _normalisation(study),
    }


def write_report(study: StudyResult, out_dir: Path, workers: int = 1) -> dict[str, Path]:
    """Write every report file under `out_dir` (figures drawn on up to `workers` processes); returns {path relative to out_dir: path}."""
    _check_held_out(study)
    out_dir = Path(out_dir)
    (out_dir / "figures").mkdir(parents=True, exist_ok=True)
    evaluations = _evaluate_all(study)
    written: dict[str, Path] = {}

    metrics_path = out_dir / "metrics.json"
    comparisons = _comparisons(study, evaluations)
    metrics_path.write_text(json.dumps(_metrics_document(study, evaluations, comparisons), sort_keys=True, indent=2) + "\n", encoding="utf-8")
    written["metrics.json"] = metrics_path
    written["predictions.csv"] = out_dir / "predictions.csv"
    _write_predictions(study, written["predictions.csv"])
    written["folds.csv"] = out_dir / "folds.csv"
    _write_folds(study, written["folds.csv"])

    scores_figure, figures = _figures(study, evaluations, out_dir, workers)
    for relative in [scores_figure] + [path for entry in figures.values() for path in entry.values()]:
        written[relative] = out_dir / relative
    title, blocks = _document(study, evaluations, comparisons, scores_figure, figures)
    written["report.md"] = out_dir / "report.md"
    written["report.md"].write_text(_render_markdown(title, blocks), encoding="utf-8")
    written["report.html"] = out_dir / "report.html"
    written["report.html"].write_text(_render_html(title, blocks), encoding="utf-8")
    return written
