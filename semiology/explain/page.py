"""One explanation page per seizure: prediction, ground truth, attributions, figures and video.

`explain_seizure` runs every model of a bundle that can read the record, saves each model's
arrays (NPZ, with the seizure's timing), draws its figures, writes the overlay video and the
deletion test, and brings them together in `index.html`, which references only files that
were written.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from semiology.bundle import Bundle, BundleError, check_record, prepare_record, segment_frames, window_probabilities
from semiology.explain.attributions import IG_STEPS, SeizureAttribution, explain_record
from semiology.explain.faithfulness import deletion_curves, planted_mass_share
from semiology.explain.figures import plot_adjacency, plot_deletion, plot_joint_importance, plot_joint_time, plot_time_attribution, rest_positions
from semiology.explain.video import write_overlay_video
from semiology.records import SeizureRecord


@dataclass
class ModelExplanation:
    """What was computed and written for one model of one seizure."""

    model: str
    task: str
    kind: str
    probability: dict[str, float]
    threshold: float | None
    decision: str | None
    files: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    deletion_area: float | None = None
    planted_share: float | None = None
    attribution: SeizureAttribution | None = None


def _decision(classes: tuple[str, ...], probability: np.ndarray, threshold: float) -> str:
    if len(classes) == 2 and np.isfinite(threshold):
        return classes[1] if probability[1] >= threshold else classes[0]
    return classes[int(np.argmax(probability))]


def _planted(record: SeizureRecord, task: str) -> tuple[str, ...]:
    planted = record.meta.get("planted_joints", {}) if isinstance(record.meta, dict) else {}
    return tuple(planted.get(task, ()))


def explain_model(bundle: Bundle, model_name: str, record: SeizureRecord, out_dir: Path, steps: int = IG_STEPS, video: bool = True) -> ModelExplanation:
    """Attributions, figures, video and deletion test of one model for a prepared record."""
    model = bundle.model(model_name)
    slug = model.name.replace("/", "_").replace("+", "_plus_").replace(" ", "_")
    if model.network is None:
        first, last = segment_frames(bundle, record)
        prob, _ = window_probabilities(bundle, model, record, first, last)
        probability = prob.mean(axis=0)
        return ModelExplanation(model.name, model.task, model.kind, dict(zip(model.classes, map(float, probability), strict=True)),
                                model.threshold, _decision(model.classes, probability, model.threshold), notes=["late fusion of " + " and ".join(model.members) + ": see their attributions"])
    attribution = explain_record(bundle, model, record, steps=steps)
    result = ModelExplanation(model.name, model.task, model.kind, dict(zip(model.classes, map(float, attribution.probability), strict=True)),
                              model.threshold, _decision(model.classes, attribution.probability, model.threshold), attribution=attribution)
    result.files["arrays"] = attribution.save(out_dir / f"{slug}_attributions.npz")
    if attribution.time_ig is not None:
        result.files["time attribution"] = plot_time_attribution(attribution, out_dir / f"{slug}_time.png")
        return result
    keypoints = record.face_2d if model.stream == "face" else (record.body_2d if record.body_2d is not None else record.body_3d)
    planted = _planted(record, model.task)
    result.files["joint importance"] = plot_joint_importance(attribution, keypoints.layout, rest_positions(keypoints.coords), out_dir / f"{slug}_joints.png", planted)
    result.files["joint x time"] = plot_joint_time(attribution, out_dir / f"{slug}_joint_time.png")
    result.files["adjacency"] = plot_adjacency(attribution, out_dir / f"{slug}_adjacency.png")
    curves = deletion_curves(bundle, model, record, attribution)
    result.deletion_area = curves.area_between
    result.files["deletion test"] = plot_deletion(curves, attribution, out_dir / f"{slug}_deletion.png")
    if planted:
        result.planted_share = planted_mass_share(attribution, planted)
    if video:
        path, note = write_overlay_video(record, model.stream, attribution.joint_time_ig, out_dir / f"{slug}_overlay.mp4")
        result.files["overlay video"] = path
        result.notes.append(note)
    return result


def explain_seizure(bundle: Bundle, record: SeizureRecord, out_dir: Path, models: list[str] | None = None, steps: int = IG_STEPS, video: bool = True) -> Path:
    """Explain `record` (as loaded, any frame rate) with every applicable bundled model; returns the page's path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    prepared = prepare_record(bundle, record)
    explained, skipped = [], []
    for name in models or list(bundle.models):
        model = bundle.model(name)
        try:
            for member in (model.members if model.kind == "fusion" else (model.name,)):
                check_record(bundle.model(member), prepared)
        except BundleError as error:
            skipped.append(f"{name}: {error}")
            continue
        explained.append(explain_model(bundle, name, prepared, out_dir, steps=steps, video=video))
    summary = {
        "seizure_id": record.seizure_id,
        "synthetic": record.synthetic,
        "labels": record.labels,
        "models": {e.model: {"task": e.task, "probability": e.probability, "threshold": e.threshold, "decision": e.decision,
                             "deletion_area": e.deletion_area, "planted_share": e.planted_share,
                             "files": {k: p.name for k, p in e.files.items()}} for e in explained},
        "skipped": skipped,
    }
    (out_dir / "explanation.json").write_text(json.dumps(summary, indent=2, default=float, allow_nan=True) + "\n", encoding="utf-8")
    page = out_dir / "index.html"
    page.write_text(_render(bundle, record, explained, skipped, out_dir), encoding="utf-8")
    return page


def _link(path: Path, out_dir: Path) -> str:
    """A relative reference to a written file; refuses to reference a file that does not exist."""
    if not path.is_file():
        raise FileNotFoundError(f"explanation page would reference {path}, which was not written")
    return html.escape(str(path.relative_to(out_dir)))


def _render(bundle: Bundle, record: SeizureRecord, explained: list[ModelExplanation], skipped: list[str], out_dir: Path) -> str:
    e = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{e(record.seizure_id)}: explanation</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:3px 8px}"
             ".banner{background:#fff3cd;padding:6px;border:1px solid #e0c36c}img{max-width:100%}</style></head><body>",
             f"<h1>Seizure {e(record.seizure_id)} (subject {e(record.subject_id)})</h1>"]
    if record.synthetic:
        parts.append("<p class='banner'>SYNTHETIC recording: it proves the machinery, not clinical accuracy.</p>")
    timing = f"onset {record.onset_s:.1f} s, offset {record.offset_s:.1f} s" + (f", generalisation {record.generalisation_s:.1f} s" if record.generalisation_s is not None else "")
    parts.append(f"<p>Clinical times: {timing}. Bundle: {e(str(bundle.path))} (study {e(str(bundle.meta.get('study')))}, data hash {e(str(bundle.meta.get('data_hash'))[:12])}).</p>")
    parts.append("<h2>Prediction and ground truth</h2><table><tr><th>model</th><th>task</th><th>probabilities</th><th>threshold</th><th>prediction</th><th>ground truth</th></tr>")
    for item in explained:
        probs = ", ".join(f"{e(k)}: {v:.3f}" for k, v in item.probability.items())
        threshold = "" if item.threshold is None or not np.isfinite(item.threshold) else f"{item.threshold:.3f}"
        parts.append(f"<tr><td>{e(item.model)}</td><td>{e(item.task)}</td><td>{probs}</td><td>{threshold}</td><td>{e(str(item.decision))}</td><td>{e(record.labels.get(item.task, 'unknown'))}</td></tr>")
    parts.append("</table>")
    signs = record.meta.get("signs") if isinstance(record.meta, dict) else None
    if signs:
        parts.append(f"<p>Planted signs (synthetic ground truth): {e(', '.join(map(str, signs)))}</p>")
    for item in explained:
        parts.append(f"<h2>{e(item.model)} ({e(item.kind)}, task {e(item.task)})</h2>")
        facts = []
        if item.deletion_area is not None:
            facts.append(f"deletion test: area between random and top-k curves {item.deletion_area:+.3f} ({'top-k below random' if item.deletion_area > 0 else 'top-k NOT below random'})")
        if item.planted_share is not None:
            facts.append(f"share of the ictal integrated-gradients evidence for the class (positive part) on the planted joints: {100 * item.planted_share:.1f} %")
        facts += item.notes
        parts += [f"<p>{e(fact)}</p>" for fact in facts]
        for label, path in item.files.items():
            reference = _link(path, out_dir)
            if path.suffix == ".png":
                parts.append(f"<h3>{e(label)}</h3><img src='{reference}' alt='{e(label)}'>")
            elif path.suffix == ".mp4":
                parts.append(f"<h3>{e(label)}</h3><video controls width='384' src='{reference}'></video>")
            else:
                parts.append(f"<p><a href='{reference}'>{e(label)} ({e(path.name)})</a></p>")
    if skipped:
        parts.append("<h2>Models not applied</h2><ul>" + "".join(f"<li>{e(s)}</li>" for s in skipped) + "</ul>")
    parts.append(f"<p><a href='{_link(out_dir / 'explanation.json', out_dir)}'>explanation.json</a></p></body></html>")
    return "\n".join(parts)


def find_seizure(bundle: Bundle, seizure_id: str) -> SeizureRecord:
    """The record `seizure_id` from the data the bundle was trained on (synthetic cohort, cache or manifest)."""
    from semiology.evaluate.dataset import load_study_records

    labels = {name: tuple(classes) for name, classes in bundle.meta.get("labels", {}).items()}
    records, _ = load_study_records(bundle.config.data, str(bundle.path / "bundle.json"), labels)
    for record in records:
        if record.seizure_id == seizure_id:
            return record
    known = ", ".join(sorted(r.seizure_id for r in records)[:12])
    raise BundleError(f"{bundle.path}: no seizure {seizure_id!r} in the bundle's data ({bundle.config.data.source}); known ids include {known}")
