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
    parser.add_argument("--config", type=Path, default=DEMO_CONFIG, help="experiment YAML (default: configs/demo.yaml)")
    parser.add_argument("--out", type=Path, default=Path("out/demo"), help="report folder (default: out/demo)")
    parser.add_argument("--workers", type=int, default=None, help="folds run in parallel processes (default: from config)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="override a config value, e.g. --set train.epochs=5")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.add_argument("--bundle", type=Path, default=None, metavar="DIR", help="also fit the final models on all subjects with the folds' settings and save a model bundle in DIR")
    args = parser.parse_args(argv)

    from semiology.evaluate.run import load_experiment, run_experiment

    started = time.perf_counter()
    try:
        overrides = parse_overrides(args.overrides)
        if args.workers is not None:
            overrides["evaluation.workers"] = args.workers
        config = load_experiment(args.config, overrides)
        run = run_experiment(config, args.out, source=str(args.config), progress=not args.no_progress, bundle_dir=args.bundle)
    except SemiologyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(run.table)
    print(f"\nreport: {run.files['report.html']}  ({time.perf_counter() - started:.0f} s)")
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
