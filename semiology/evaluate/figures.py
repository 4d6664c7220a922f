"""Report figures as PNG files: per-fold scores, confusion matrices, learning curves.

Figures are drawn on `matplotlib.figure.Figure` objects with the Agg canvas, never through
pyplot's global state, so reports can be written from any thread or headless process.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 110


def save_figure(figure: Figure, path: Path) -> Path:
    """Render `figure` to `path` (format from its extension) at the report resolution, with no timestamp, so reruns are byte-identical."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=DPI, metadata={"Software": None})
    return path


def plot_fold_scores(scores: Mapping[str, Sequence[float | None]], metric_label: str, path: Path) -> Path:
    """One column of dots per model (one dot per fold, undefined folds left out) with mean ± std."""
    names = list(scores)
    figure = Figure(figsize=(max(4.5, 1.1 * len(names) + 2.0), 4.0), layout="constrained")
    axes = figure.add_subplot()
    for position, name in enumerate(names):
        values = np.asarray([value for value in scores[name] if value is not None], dtype=float)
        if len(values) == 0:
            continue
        offsets = np.linspace(-0.18, 0.18, len(values)) if len(values) > 1 else np.zeros(1)
        axes.scatter(position + offsets, values, s=18, alpha=0.7, color="tab:blue", zorder=2)
        axes.errorbar(position + 0.3, values.mean(), yerr=values.std(), fmt="o", color="black", capsize=4, zorder=3)
    crowded = len(names) > 3 or max((len(name) for name in names), default=0) > 12
    axes.set_xticks(range(len(names)), names, rotation=25 if crowded else 0, ha="right" if crowded else "center")
    axes.set_xlim(-0.6, len(names) - 0.4)
    axes.set_ylim(-0.03, 1.03)
    axes.set_ylabel(metric_label)
    axes.set_title(f"{metric_label} per fold\ndots: one per fold; black: mean ± std over folds", fontsize=10)
    axes.grid(axis="y", alpha=0.3)
    return save_figure(figure, path)


def plot_confusion_matrix(matrix: Sequence[Sequence[int]], class_names: Sequence[str], title: str, path: Path) -> Path:
    """Counts with row percentages (the share of each true class given each prediction)."""
    counts = np.asarray(matrix, dtype=int)
    row_totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, row_totals, out=np.zeros(counts.shape), where=row_totals > 0)
    size = 1.2 + 1.0 * len(class_names)
    figure = Figure(figsize=(size + 1.0, size), layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    for row in range(counts.shape[0]):
        for column in range(counts.shape[1]):
            colour = "white" if shares[row, column] > 0.6 else "black"
            axes.text(column, row, f"{counts[row, column]}\n{100 * shares[row, column]:.0f}%", ha="center", va="center", color=colour)
    axes.set_xticks(range(len(class_names)), class_names, rotation=30 if len(class_names) > 2 else 0)
    axes.set_yticks(range(len(class_names)), class_names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title, fontsize=10)
    figure.colorbar(image, ax=axes, label="share of true class", shrink=0.8)
    return save_figure(figure, path)


def plot_learning_curves(
    curves: Mapping[int, Mapping[str, Sequence[float]]],
    title: str,
    path: Path,
    selected_epochs: Mapping[int, float] | None = None,
    fold_labels: Mapping[int, str] | None = None,
) -> Path | None:
    """Train and validation loss per epoch (numbered from 1), one panel per fold; the chosen epoch dashed.

    `fold_labels` (e.g. the held-out subjects) title the panels. Returns None (and writes
    nothing) when no fold recorded a loss curve.
    """
    folds = [fold for fold in sorted(curves) if curves[fold].get("train_loss") or curves[fold].get("val_loss")]
    if not folds:
        return None
    columns = min(4, len(folds))
    rows = math.ceil(len(folds) / columns)
    width, height = 3.0 * columns + 0.8, 2.4 * rows + 1.1
    figure = Figure(figsize=(width, height))
    panels = figure.subplots(rows, columns, squeeze=False)
    # Fixed margins in inches: constrained layout costs more than drawing on grids of many folds.
    figure.subplots_adjust(left=0.8 / width, right=1 - 0.15 / width, bottom=0.6 / height, top=1 - 0.6 / height, wspace=0.3, hspace=0.5)
    for panel, fold in zip(panels.flat, folds):
        for key, colour in (("train_loss", "tab:blue"), ("val_loss", "tab:orange")):
            values = curves[fold].get(key) or []
            panel.plot(range(1, len(values) + 1), values, color=colour, label=key.replace("_", " "))
        epoch = (selected_epochs or {}).get(fold)
        if epoch is not None and math.isfinite(epoch):
            panel.axvline(epoch, color="grey", linestyle="--", linewidth=1, label="chosen epoch")
        label = (fold_labels or {}).get(fold)
        panel.set_title(f"fold {fold}" + (f" ({label})" if label else ""), fontsize=9)
        panel.grid(alpha=0.3)
    for panel in panels.flat[len(folds):]:
        panel.set_visible(False)
    panels.flat[0].legend(fontsize=8)
    figure.supxlabel("epoch", y=0.05 / height, va="bottom")
    figure.supylabel("loss", x=0.05 / width, ha="left")
    figure.suptitle(title, fontsize=10, y=1 - 0.1 / height, va="top")
    return save_figure(figure, path)
