"""Figures of attributions: the skeleton or face coloured by joint importance, joint x time
heatmaps aligned to the clinical times, adjacency matrices, time attributions and deletion curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from semiology.evaluate.figures import save_figure
from semiology.explain.attributions import SeizureAttribution
from semiology.explain.faithfulness import DeletionCurves
from semiology.layouts import get_layout

COLORMAP = "magma"


def _clinical_lines(axis, attribution: SeizureAttribution) -> None:
    axis.axvline(attribution.onset_s, color="tab:green", lw=1.5, label="onset")
    axis.axvline(attribution.offset_s, color="tab:red", lw=1.5, label="offset")
    if attribution.generalisation_s is not None:
        axis.axvline(attribution.generalisation_s, color="tab:orange", lw=1.5, ls="--", label="generalisation")


def rest_positions(coords: np.ndarray) -> np.ndarray:
    """A drawable `[V, 2]` position per joint: its median over frames (unseen joints at the mean of the others)."""
    with np.errstate(all="ignore"):
        positions = np.nanmedian(coords[..., :2], axis=0)
    missing = ~np.isfinite(positions).all(axis=1)
    if missing.all():
        return np.zeros_like(positions)
    positions[missing] = positions[~missing].mean(axis=0)
    return positions


def plot_joint_importance(attribution: SeizureAttribution, layout_name: str, positions: np.ndarray, path: Path, planted: tuple[str, ...] = ()) -> Path:
    """The layout drawn at `positions` (image pixels), each joint's colour and size its share of the ictal IG evidence for the class."""
    importance = attribution.joint_importance()
    share = importance / importance.sum() if importance.sum() > 0 else importance
    layout = get_layout(layout_name)
    figure = Figure(figsize=(4.5, 4.5))
    axis = figure.subplots()
    for child, parent in layout.inward_edges:
        axis.plot(positions[[child, parent], 0], positions[[child, parent], 1], color="0.7", lw=1.5, zorder=1)
    points = axis.scatter(positions[:, 0], positions[:, 1], c=share, s=40 + 900 * share / max(share.max(), 1e-12), cmap=COLORMAP, edgecolors="k", zorder=2)
    for name in planted:
        index = layout.index(name)
        axis.scatter(*positions[index], s=40, marker="x", color="tab:cyan", zorder=3)
    figure.colorbar(points, ax=axis, label=f"share of ictal IG evidence for {attribution.classes[attribution.target]!r}")
    axis.invert_yaxis()
    axis.set_aspect("equal")
    axis.set_title(f"{attribution.model}: joint importance" + ("\n(x: planted joints)" if planted else ""), fontsize=9)
    axis.set_xticks([])
    axis.set_yticks([])
    return save_figure(figure, path)


def plot_joint_time(attribution: SeizureAttribution, path: Path) -> Path:
    """Joint x time heatmaps (integrated gradients, Grad-CAM) above the window probability, with onset/offset."""
    duration = attribution.num_frames / attribution.fps
    names = attribution.joint_names
    figure = Figure(figsize=(9, 2.2 + 0.36 * len(names)))
    axes = figure.subplots(3, 1, sharex=True, gridspec_kw={"height_ratios": [3, 3, 1.4]})
    for axis, values, title in ((axes[0], attribution.joint_time_ig, _ig_title(attribution)), (axes[1], attribution.joint_time_gradcam, "Grad-CAM (last graph block)")):
        axis.imshow(values.T, aspect="auto", cmap=COLORMAP, extent=(0, duration, len(names) - 0.5, -0.5), interpolation="nearest")
        axis.set_yticks(range(len(names)))
        axis.set_yticklabels(names, fontsize=6)
        axis.set_title(title, fontsize=9)
        _clinical_lines(axis, attribution)
    _plot_window_probability(axes[2], attribution)
    axes[0].legend(loc="upper right", fontsize=7)
    return save_figure(figure, path)


def _ig_title(attribution: SeizureAttribution) -> str:
    """What the IG panels show: the positive part (evidence for the class) of IG of its log-odds or logit."""
    explained = "log-odds" if attribution.objective == "log_odds" else "logit"
    return f"integrated gradients, evidence for {attribution.classes[attribution.target]!r} (positive part, {explained})"


def _plot_window_probability(axis, attribution: SeizureAttribution) -> None:
    window_s = np.diff(attribution.window_start_s).min() if len(attribution.window_start_s) > 1 else 1.0
    centres = attribution.window_start_s + window_s / 2
    axis.plot(centres, attribution.window_prob[:, attribution.target], marker="o", ms=3)
    if np.isfinite(attribution.threshold):
        axis.axhline(attribution.threshold, color="0.5", ls=":", lw=1)
    axis.set_ylim(0, 1)
    axis.set_ylabel(f"p({attribution.classes[attribution.target]})", fontsize=8)
    axis.set_xlabel("time from recording start (s)")
    _clinical_lines(axis, attribution)


def plot_time_attribution(attribution: SeizureAttribution, path: Path) -> Path:
    """A TCN stream's time attribution (IG mass per frame) above its window probability."""
    figure = Figure(figsize=(9, 3.6))
    axes = figure.subplots(2, 1, sharex=True)
    axes[0].fill_between(attribution.time_s, attribution.time_ig, step="mid", alpha=0.7)
    axes[0].set_title(f"{attribution.model}: {_ig_title(attribution)} over time", fontsize=9)
    _clinical_lines(axes[0], attribution)
    axes[0].legend(loc="upper right", fontsize=7)
    _plot_window_probability(axes[1], attribution)
    return save_figure(figure, path)


def plot_adjacency(attribution: SeizureAttribution, path: Path) -> Path:
    """Per block, `A + B` (layout + learned graph) and `C` (data-dependent, mean over the seizure), summed over subsets."""
    blocks = attribution.adjacency_learned.shape[0]
    figure = Figure(figsize=(4.2 * blocks, 7.2))
    axes = figure.subplots(2, blocks, squeeze=False)
    names = attribution.joint_names
    for block in range(blocks):
        for row, (values, label) in enumerate(((attribution.adjacency_learned, "A + B"), (attribution.adjacency_data, "C (seizure mean)"))):
            axis = axes[row, block]
            image = axis.imshow(values[block].sum(axis=0), cmap="viridis")
            axis.set_title(f"block l{block + 1}: {label}", fontsize=8)
            axis.set_xticks(range(len(names)))
            axis.set_yticks(range(len(names)))
            axis.set_xticklabels(names, rotation=90, fontsize=5)
            axis.set_yticklabels(names, fontsize=5)
            figure.colorbar(image, ax=axis, fraction=0.046, pad=0.02)
    figure.subplots_adjust(wspace=0.55, hspace=0.45)
    return save_figure(figure, path)


def plot_deletion(curves: DeletionCurves, attribution: SeizureAttribution, path: Path) -> Path:
    """Deletion curves: probability of the explained class after masking the top-k vs k random joints."""
    figure = Figure(figsize=(5, 3.4))
    axis = figure.subplots()
    k = np.arange(len(curves.top_k))
    how = "held at rest" if curves.perturbation == "rest" else "marked undetected"
    axis.plot(k, curves.top_k, marker="o", label=f"top-k attributed joints {how}")
    axis.plot(k, curves.random, marker="s", label=f"k random joints {how} (mean)")
    axis.fill_between(k, curves.top_k, curves.random, alpha=0.15)
    axis.set_xlabel("joints masked (k)")
    axis.set_ylabel(f"p({attribution.classes[attribution.target]})")
    axis.set_ylim(0, 1)
    axis.set_title(f"deletion test, area between = {curves.area_between:+.3f}", fontsize=9)
    axis.legend(fontsize=7)
    return save_figure(figure, path)
