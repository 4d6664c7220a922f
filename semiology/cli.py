"""Command-line entry points. They parse arguments and call the library; no logic lives here."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from semiology.config import parse_overrides
from semiology.engines.ray_engine import RaySession, add_engine_arguments, engine_settings
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
    parser.add_argument("--device", default=None, help="where models train and predict: cpu, cuda or cuda:N (default: the config's train.device, cpu); "
                        "on a GPU the folds run one after another in this process")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="override a config value, e.g. --set train.epochs=5")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.add_argument("--bundle", type=Path, default=None, metavar="DIR", help="also fit the final models on all subjects with the folds' settings and save a model bundle in DIR")
    parser.add_argument("--db", default=None, metavar="URL", help="read the seizures and labels from this label store (database URL or SQLite file; sets data.source=store)")
    args = parser.parse_args(argv)

    from semiology.bundle.build import run_and_bundle
    from semiology.evaluate.demo import run_demo
    from semiology.evaluate.run import load_experiment, run_experiment

    started = time.perf_counter()
    try:
        overrides = parse_overrides(args.overrides)
        if args.workers is not None:
            overrides["evaluation.workers"] = args.workers
        if args.device is not None:
            overrides["train.device"] = args.device
        if args.db is not None:
            overrides.update({"data.source": "store", "data.store": args.db})
        if args.config is None and args.bundle is None:
            runs = run_demo(args.out, overrides, progress=not args.no_progress)
        else:
            config_path = args.config or DEMO_CONFIG
            config = load_experiment(config_path, overrides)
            if args.bundle is None:
                run = run_experiment(config, args.out, source=str(config_path), progress=not args.no_progress)
            else:
                run = run_and_bundle(config, args.out, source=str(config_path), bundle_dir=args.bundle, progress=not args.no_progress)
            runs = {"": run}
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
    parser = argparse.ArgumentParser(
        prog="screen.py",
        description="Screen recordings with a model bundle: per-seizure probabilities per sign and a per-window timeline. Reruns skip recordings "
        "already in results.jsonl and screen again those whose bundle, keypoints, times or labels changed. Exit status: 0 all screened, "
        "1 some recordings failed (listed), 2 bad input (nothing screened).",
    )
    parser.add_argument("--bundle", type=Path, required=True, help="model bundle folder (tools/loso_eval.py --bundle DIR)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--manifest", type=Path, help="manifest (CSV/YAML): a 'keypoints' column naming cached records, or ir/rgb/depth videos to extract first")
    source.add_argument("--videos", type=Path, help="a folder of unannotated videos (no onset/offset): each is extracted, then screened into a timeline of window probabilities and its detected episodes")
    parser.add_argument("--out", type=Path, required=True, help="output folder (results.jsonl, summary.csv, summary.html, timelines/)")
    parser.add_argument("--workers", type=int, default=None, help="recordings screened in parallel processes (default 1); with --engine ray, Ray workers (default: one per CPU of the Ray cluster)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--device", default="cpu", help="where the bundle's models run: cpu, cuda or cuda:N (default cpu); a GPU screens in this process (no --workers, no --engine)")
    parser.add_argument("--db", default=None, metavar="URL", help="label store (database URL or SQLite file): write every window's predictions into it; without --manifest, screen its seizures")
    add_engine_arguments(parser)
    parser.add_argument("--allow-column", action="append", default=[], metavar="NAME", help="accept a manifest label column whose name looks identifying (names, birth dates, hospital numbers are refused)")
    parser.add_argument("--ids-are-pseudonyms", action="store_true", help="the manifest's subject ids already are pseudonyms (e.g. exported from the label store): keep them (otherwise they are pseudonymised with this site's secret)")
    args = parser.parse_args(argv)
    if args.manifest is None and args.videos is None and args.db is None:
        parser.error("one of the arguments --manifest --videos --db is required")

    from semiology.io.sources import as_source
    from semiology.screen.batch import check_screen_device, extract_missing, items_from_manifest, run_screen
    from semiology.store import StoreSource

    try:
        if args.videos is not None and not args.videos.is_dir():
            raise SemiologyError(f"--videos {args.videos}: not a folder of recordings")
        engine = engine_settings(args, workers=args.workers)
        check_screen_device(args.device, args.workers or 1, engine)  # before anything is extracted
        if args.videos is not None:  # unannotated recordings: no clinical times, so timelines and episodes without a seizure-level decision
            from semiology.extract.inputs import RecordingFiles
            from semiology.io.manifest import MODALITY_EXTENSIONS

            rows = RecordingFiles(tuple(sorted(p for p in args.videos.iterdir() if p.suffix.lower() in MODALITY_EXTENSIONS["rgb"])))
        else:
            rows = as_source(args.manifest, args.allow_column, args.ids_are_pseudonyms) if args.manifest is not None else StoreSource(args.db)
        with RaySession(engine) if engine is not None else contextlib.nullcontext():  # one Ray start for extraction and screening
            items = extract_missing(rows, items_from_manifest(rows), args.out, progress=not args.no_progress, engine=engine)
            summary = run_screen(args.bundle, items, args.out, workers=args.workers or 1, progress=not args.no_progress, db=args.db, engine=engine,
                                 device=args.device)
    except SemiologyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if summary.repaired_bytes:
        print(f"repaired {summary.results}: dropped a torn last line of {summary.repaired_bytes} bytes left by an interrupted run")
    print(f"{summary.n_total} recordings: {summary.n_ok} screened, {summary.n_error} errors, {summary.n_skipped} already done")
    for reason, count in summary.rescreened.items():
        print(f"{count} screened again: {reason}")
    print(f"results: {summary.results}\nsummary: {summary.files['summary.html']}")
    if args.db is not None:
        print(f"window predictions: {args.db}")
    for seizure_id, reason in summary.failures:
        print(f"failed: {seizure_id}: {reason}", file=sys.stderr)
    return 1 if summary.failures else 0


def extract_i3d(argv: Sequence[str] | None = None) -> int:
    """`tools/extract_i3d.py`: per-seizure snippet features (I3D over recordings, or kinematic over cached keypoints) into a cache folder."""
    parser = argparse.ArgumentParser(prog="extract_i3d.py", description="Write per-seizure 2-s sample features to a cache folder, resumably: I3D features of the recordings of a manifest, or kinematic features of cached keypoint records.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--manifest", type=Path, help="manifest whose rows name the recordings (column --kind)")
    source.add_argument("--keypoints", type=Path, help="folder of cached keypoint records (*.npz): kinematic features, no weights needed")
    parser.add_argument("--out", type=Path, required=True, help="cache folder for the feature files")
    parser.add_argument("--kind", default="ir", choices=("ir", "rgb"), help="manifest column / stream to read (default: ir)")
    parser.add_argument("--checkpoint", type=Path, default=REPO_ROOT / "checkpoints" / "rgb_imagenet.pt", help="pytorch-i3d checkpoint (default: checkpoints/rgb_imagenet.pt)")
    parser.add_argument("--sha256", default=None, help="expected sha256 of the checkpoint")
    parser.add_argument("--fit", default="pad", choices=("pad", "crop"), help="longest side + pad (the 3D-video study) or shorter side + centre crop")
    parser.add_argument("--size", type=int, default=224, help="I3D input size in pixels (default: 224)")
    parser.add_argument("--overlap", action="store_true", help="50%% overlapping 2-s samples")
    parser.add_argument("--ir-low-pct", type=float, default=1.0, help="16-bit IR -> 8 bits from this percentile of the first frame, as extraction does (default: 1)")
    parser.add_argument("--ir-high-pct", type=float, default=99.0, help="... to this one (default: 99)")
    parser.add_argument("--no-bed-crop", action="store_true", help="keep whole frames where the row has a depth video (default: crop to the patient+bed box found in its first depth frame)")
    parser.add_argument("--device", default="cpu", help="where I3D runs: cpu, cuda or cuda:N (default cpu; kinematic features run no model)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)

    from semiology.config import config_hash
    from semiology.engines.device import torch_device
    from semiology.evaluate.dataset import load_study_records
    from semiology.experiment import DataConfig
    from semiology.extract.snippets import I3DInput, clip_frames, extract_batch, i3d_sample_features, kinematic_record_features, manifest_recordings, video_inputs_hash
    from semiology.models.i3d import fast_extractor, load_i3d_checkpoint

    settings = {"overlap": args.overlap, "encoder": "kinematic" if args.keypoints else "i3d"}
    try:
        device = torch_device(args.device)
        if args.keypoints:
            records, _ = load_study_records(DataConfig(source="cache", cache_dir=str(args.keypoints)), str(args.keypoints))
            summary = extract_batch(records, lambda r: kinematic_record_features(r, args.overlap), args.out, config_hash(settings), not args.no_progress, len(records))
        else:
            model = load_i3d_checkpoint(args.checkpoint, sha256=args.sha256).to(device)
            extractor = fast_extractor(model)
            clips = I3DInput(args.kind, args.ir_low_pct, args.ir_high_pct, not args.no_bed_crop, fit=args.fit, size_px=args.size)
            settings.update(checkpoint=args.checkpoint.name, sha256=args.sha256, **clips.as_dict())
            jobs = manifest_recordings(args.manifest, args.kind)
            paths = {record.seizure_id: (path, depth if clips.bed_crop else None) for record, path, depth in jobs}

            def encode(record):
                frames, fps, _ = clip_frames(paths[record.seizure_id][0], clips, record.fps, paths[record.seizure_id][1])
                return i3d_sample_features(extractor, frames, fps, record.onset_s, record.offset_s, args.overlap, args.fit, args.size)

            summary = extract_batch([record for record, _, _ in jobs], encode, args.out, config_hash(settings), not args.no_progress, len(jobs),
                                    inputs=lambda record: video_inputs_hash(record, *paths[record.seizure_id]))
    except SemiologyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"written {len(summary.written)}, skipped (already cached) {len(summary.skipped)}, failed {len(summary.failed)}")
    for seizure_id, reason in summary.failed:
        print(f"failed: {seizure_id}: {reason}", file=sys.stderr)
    return 1 if summary.failed else 0
