"""What a screening batch hands a reader: timeline figures, a CSV (and Parquet) summary, an HTML table.

Each recording's detected episodes (see `semiology.screen.predict.detect_episodes`) are shaded
on its timeline and listed in the summary, and a recording whose normalisation fell back to
another reference (no pre-ictal frames) carries that note in the summary.

The "top signs" of a recording are, per task, the bundle's primary model (best cross-validated
seizure-level macro F1) when it decides for the positive class, most probable first.
"""

from __future__ import annotations

import csv
import html
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from semiology.bundle import Bundle
from semiology.evaluate.figures import save_figure
from semiology.io.atomic import atomic_path


def primary_models(bundle: Bundle) -> dict[str, str]:
    """Per task, the bundled model with the best cross-validated seizure-level macro F1 (first listed on ties)."""
    best: dict[str, tuple[float, str]] = {}
    for entry in bundle.meta["models"]:
        score = entry.get("cv_metrics", {}).get("seizure", {}).get("pooled", {}).get("macro_f1")
        score = -1.0 if score is None else float(score)
        if entry["task"] not in best or score > best[entry["task"]][0]:
            best[entry["task"]] = (score, entry["name"])
    return {task: name for task, (_, name) in best.items()}


def top_signs(bundle: Bundle, row: dict[str, Any]) -> list[tuple[str, str, float]]:
    """`(task, model, probability)` of each task whose primary model decides for its positive class, most probable first."""
    signs = []
    for task, name in primary_models(bundle).items():
        result = row.get("models", {}).get(name, {})
        classes = bundle.model(name).classes
        if "probability" in result and len(classes) == 2 and result["decision"] == classes[1]:
            signs.append((task, name, result["probability"][classes[1]]))
    return sorted(signs, key=lambda sign: -sign[2])


def plot_timeline(row: dict[str, Any], bundle: Bundle, path: Path) -> Path:
    """Probability of each model's explained class over the recording, with onset, offset and thresholds."""
    figure = Figure(figsize=(8, 3.2))
    axis = figure.subplots()
    for name, series in row["timeline"].items():
        model = bundle.model(name)
        starts = np.asarray(series["start_s"])
        prob = np.asarray(series["prob"])
        if len(starts):
            axis.step(starts + row["window_s"] / 2, prob[:, -1], where="mid", label=f"{name}: p({model.task}={model.classes[-1]})")
    for name, found in row.get("episodes", {}).items():
        for number, episode in enumerate(found):
            axis.axvspan(episode["start_s"], episode["end_s"], color="tab:red", alpha=0.15, label=f"{name}: episodes" if number == 0 else None)
    if np.isfinite(row["onset_s"]):
        axis.axvline(row["onset_s"], color="k", ls="--", lw=1.2, label="onset")
    if np.isfinite(row["offset_s"]):
        axis.axvline(row["offset_s"], color="k", ls=":", lw=1.2, label="offset")
    axis.set_ylim(0, 1)
    axis.set_xlim(0, row["duration_s"])
    axis.set_xlabel("time from recording start (s)")
    axis.set_ylabel("probability")
    axis.set_title(f"{row['seizure_id']}: per-window probabilities", fontsize=9)
    axis.legend(fontsize=6, loc="upper left", ncol=2)
    figure.subplots_adjust(bottom=0.16)
    with atomic_path(path, suffix=path.suffix) as temporary:
        save_figure(figure, temporary)
    return path


def summary_rows(bundle: Bundle, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One flat dict per recording: status, reason, each model's positive-class probability and decision, top signs."""
    flat = []
    for row in rows:
        item: dict[str, Any] = {"seizure_id": row["seizure_id"], "subject_id": row.get("subject_id"), "status": row["status"], "error": row.get("error") or ""}
        for name, model in bundle.models.items():
            result = row.get("models", {}).get(name, {})
            probability = result.get("probability", {})
            item[f"{name}:p_{model.classes[-1]}"] = probability.get(model.classes[-1], float("nan")) if probability else float("nan")
            item[f"{name}:decision"] = result.get("decision", "")
        item["top_signs"] = "; ".join(f"{task} ({p:.2f})" for task, _, p in top_signs(bundle, row)) if row["status"] == "ok" else ""
        item["episodes"] = episode_text(row)
        item["normalisation"] = "; ".join(f"{stream}: {note}" for stream, note in sorted(row.get("normalisation", {}).get("notes", {}).items()))
        flat.append(item)
    return flat


def episode_text(row: dict[str, Any]) -> str:
    """The detected episodes of a result row, per model, as `model: start-end s (peak p)` items."""
    return "; ".join(f"{name}: {episode['start_s']:.1f}-{episode['end_s']:.1f} s (peak {episode['peak']:.2f})"
                     for name, found in sorted(row.get("episodes", {}).items()) for episode in found)


def write_summary_tables(flat: list[dict[str, Any]], out_dir: Path) -> dict[str, Path]:
    """`summary.csv`, and `summary.parquet` when pyarrow is installed."""
    written = {"summary.csv": out_dir / "summary.csv"}
    columns = list(flat[0]) if flat else ["seizure_id", "status", "error"]
    with written["summary.csv"].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(flat)
    if importlib.util.find_spec("pyarrow") is not None:
        import pyarrow
        import pyarrow.parquet

        written["summary.parquet"] = out_dir / "summary.parquet"
        pyarrow.parquet.write_table(pyarrow.Table.from_pylist(flat), written["summary.parquet"])
    return written


_SORT_SCRIPT = """<script>
document.querySelectorAll('th').forEach((th, col) => th.addEventListener('click', () => {
  const body = th.closest('table').tBodies[0];
  const rows = Array.from(body.rows);
  const ascending = th.dataset.order !== 'asc';
  th.dataset.order = ascending ? 'asc' : 'desc';
  const key = r => { const t = r.cells[col].dataset.sort ?? r.cells[col].textContent; const n = parseFloat(t); return isNaN(n) ? t : n; };
  rows.sort((a, b) => { const x = key(a), y = key(b); return (x > y ? 1 : x < y ? -1 : 0) * (ascending ? 1 : -1); });
  rows.forEach(r => body.appendChild(r));
}));
</script>"""


def write_summary_html(bundle: Bundle, flat: list[dict[str, Any]], timelines: dict[str, str], out_dir: Path) -> Path:
    """A sortable table (click a header) of recordings, their top signs and a link to each timeline figure."""
    e = html.escape
    probability_columns = [c for c in (flat[0] if flat else {}) if c.endswith(tuple(f":p_{m.classes[-1]}" for m in bundle.models.values()))]
    header = ["seizure id", "subject", "status", "top signs", *probability_columns, "episodes", "normalisation", "timeline", "reason"]
    lines = ["<!doctype html><html><head><meta charset='utf-8'><title>screening summary</title>",
             "<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:2px 6px}th{cursor:pointer;background:#eee}.error{color:#a00}</style></head><body>",
             f"<h1>Screening summary: {len(flat)} recordings</h1>",
             f"<p>Bundle {e(str(bundle.path))} (study {e(str(bundle.meta.get('study')))}{', trained on SYNTHETIC data' if bundle.meta.get('synthetic') else ''}). Click a column header to sort.</p>",
             "<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr></thead><tbody>"]
    for item in flat:
        cells = [e(item["seizure_id"]), e(str(item["subject_id"])), f"<span class='{'error' if item['status'] != 'ok' else ''}'>{e(item['status'])}</span>", e(item["top_signs"])]
        for column in probability_columns:
            value = item[column]
            cells.append("" if not np.isfinite(value) else f"{value:.3f}")
        cells += [e(item.get("episodes", "")), e(item.get("normalisation", ""))]
        timeline = timelines.get(item["seizure_id"])
        cells.append(f"<a href='{e(timeline)}'>timeline</a>" if timeline and (out_dir / timeline).is_file() else "")
        cells.append(e(item["error"]))
        lines.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    lines += ["</tbody></table>", _SORT_SCRIPT, "</body></html>"]
    path = out_dir / "summary.html"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
