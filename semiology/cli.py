"""Command-line entry points. They parse arguments and call the library; no logic lives here."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from semiology.config import parse_overrides
from semiology.errors import SemiologyError

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO_CONFIG = REPO_ROOT / "configs" / "demo.yaml"


def loso_eval(argv: Sequence[str] | None = None) -> int:
    """`tools/loso_eval.py`: evaluate an experiment under leave-one-subject-out and write a report."""
    parser = argparse.ArgumentParser(
        prog="loso_eval.py",
        description="Train and evaluate seizure-semiology models under leave-one-subject-out validation. "
        "With no --config it runs the demo study on the synthetic EMU cohort.",
    )
    parser.add_argument("--config", type=Path, default=None, help="experiment YAML (default: the demo: configs/demo.yaml, then the action studies configs/action_*.yaml into OUT/action/)")
    parser.add_argument("--out", type=Path, default=Path("out/demo"), help="report folder (default: out/demo)")
    parser.add_argument("--workers", type=int, default=None, help="folds run in parallel processes (default: from config)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="override a config value, e.g. --set train.epochs=5")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.add_argument("--bundle", type=Path, default=None, metavar="DIR", help="also fit the final models on all subjects with the folds' settings and save a model bundle in DIR")
    args = parser.parse_args(argv)

    from semiology.evaluate.demo import run_demo
    from semiology.evaluate.run import load_experiment, run_experiment

    started = time.perf_counter()
    try:
        overrides = parse_overrides(args.overrides)
        if args.workers is not None:
            overrides["evaluation.workers"] = args.workers
        if args.config is None and args.bundle is None:
            runs = run_demo(args.out, overrides, progress=not args.no_progress)
        else:
            config_path = args.config or DEMO_CONFIG
            config = load_experiment(config_path, overrides)
            runs = {"": run_experiment(config, args.out, source=str(config_path), progress=not args.no_progress, bundle_dir=args.bundle)}
    except SemiologyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for run in runs.values():
        print(run.table)
        print(f"\nreport: {run.files['report.html']}\n")
    run = next(iter(runs.values()))
    print(f"({time.perf_counter() - started:.0f} s)")
    if "bundle" in run.files:
        print(f"bundle: {run.files['bundle']}")
    return 0


def explain(argv: Sequence[str] | None = None) -> int:
    """`tools/explain.py`: attributions, figures, overlay video and an HTML page for one seizure."""
    parser = argparse.ArgumentParser(prog="explain.py", description="Explain a bundled model's decision on one seizure: joint x time attributions, adjacency, deletion test, overlay video, HTML page.")
    parser.add_argument("--bundle", type=Path, required=True, help="model bundle folder (tools/loso_eval.py --bundle DIR)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--seizure", help="a seizure id from the data the bundle was trained on")
    source.add_argument("--cache", type=Path, help="a cached record (.npz) to explain")
    parser.add_argument("--out", type=Path, required=True, help="output folder (index.html, PNG, NPZ, MP4)")
    parser.add_argument("--model", action="append", default=None, help="explain only this bundled model (repeatable; default: all)")
    parser.add_argument("--no-video", action="store_true", help="skip the overlay video")
    args = parser.parse_args(argv)

    from semiology.bundle import load_bundle
    from semiology.explain.page import explain_seizure, find_seizure
    from semiology.io.cache import load_record

    try:
        bundle = load_bundle(args.bundle)
        record = load_record(args.cache) if args.cache else find_seizure(bundle, args.seizure)
        page = explain_seizure(bundle, record, args.out, models=args.model, video=not args.no_video)
    except SemiologyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"explanation: {page}")
    return 0


def screen(argv: Sequence[str] | None = None) -> int:
    """`tools/screen.py`: run a bundle over many recordings, resumably, into JSON lines, CSV and HTML."""
    parser = argparse.ArgumentParser(prog="screen.py", description="Screen recordings with a model bundle: per-seizure probabilities per sign and a per-window timeline. Reruns skip recordings already in results.jsonl.")
    parser.add_argument("--bundle", type=Path, required=True, help="model bundle folder (tools/loso_eval.py --bundle DIR)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--manifest", type=Path, help="manifest (CSV/YAML) whose 'keypoints' column names cached records")
    source.add_argument("--videos", type=Path, help="folder of videos to extract keypoints from first (needs semiology.extract)")
    parser.add_argument("--out", type=Path, required=True, help="output folder (results.jsonl, summary.csv, summary.html, timelines/)")
    parser.add_argument("--workers", type=int, default=1, help="recordings screened in parallel processes (default 1)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)

    from semiology.screen.batch import items_from_manifest, run_screen, videos_need_extraction

    try:
        if args.videos is not None:
            raise SemiologyError(videos_need_extraction() or "--videos: the extraction pipeline is installed but screening does not call it yet; extract keypoints with tools/extract_keypoints.py and pass --manifest")
        items = items_from_manifest(args.manifest)
        summary = run_screen(args.bundle, items, args.out, workers=args.workers, progress=not args.no_progress)
    except SemiologyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if summary.repaired_bytes:
        print(f"repaired {summary.results}: dropped a torn last line of {summary.repaired_bytes} bytes left by an interrupted run")
    print(f"{summary.n_total} recordings: {summary.n_ok} screened, {summary.n_error} errors, {summary.n_skipped} already done")
    print(f"results: {summary.results}\nsummary: {summary.files['summary.html']}")
    return 0
