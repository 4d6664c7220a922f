"""Wall time and peak resident memory of the whole demo (`tools/loso_eval.py` with no config), and of one LOSO fold.

The whole demo, the spine study (configs/demo.yaml: dystonia and emotion, 19 LOSO folds) with
the action studies (configs/action_*.yaml), must take <= 3 minutes on a 2-core machine, as the
README promises; the goal for memory is under 4 GB. Prints each study's
time, Table 1, and peak resident set sizes: the driver process, the largest worker it forked
(`getrusage(RUSAGE_CHILDREN)`, the maximum over reaped children, not their sum) and their sum
as an upper bound of what the demo held at once. One LOSO fold is measured in a fresh
interpreter (so it inherits nothing): it loads the cohort as the demo does, computes the
appearance features and fits and predicts every window model of the study's first outer fold
in one process, which is what one worker holds while it runs a fold.

    .venv/bin/python benchmarks/demo_runtime.py [--workers 2] [--skip-demo] [--skip-fold]
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import semiology.evaluate.demo as demo

WHOLE_TARGET_S = 180.0
MEMORY_TARGET_MB = 4096.0


def peak_rss_mb(who: int) -> float:
    """Peak resident set size in MB of this process (`RUSAGE_SELF`) or of its largest reaped child (`RUSAGE_CHILDREN`)."""
    return resource.getrusage(who).ru_maxrss / 1024.0


def run_demo(workers: int) -> None:
    """Time the demo and print its tables, per-study times and peak memory."""
    finished: list[tuple[str, float]] = []
    original = demo.run_experiment

    def timed_run(config, out_dir, *rest, **options):
        run = original(config, out_dir, *rest, **options)
        finished.append((config.name, time.perf_counter()))
        return run

    demo.run_experiment = timed_run
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        runs = demo.run_demo(Path(out), {"evaluation.workers": workers}, progress=False)
        elapsed = time.perf_counter() - started
    demo.run_experiment = original
    for run in runs.values():
        print(run.table)
    previous = started
    for name, at in finished:
        print(f"{name:28s} {at - previous:7.1f} s")
        previous = at
    spine_s = finished[0][1] - started
    print(f"spine study (incl. cohort and encoders): {spine_s:.1f} s")
    print(f"whole demo: {elapsed:.1f} s with {workers} worker(s); target {WHOLE_TARGET_S:.0f} s; ratio {elapsed / WHOLE_TARGET_S:.2f}")
    driver, worker = peak_rss_mb(resource.RUSAGE_SELF), peak_rss_mb(resource.RUSAGE_CHILDREN)
    bound = driver + workers * worker
    print(
        f"demo peak resident memory: driver {driver:.0f} MB, largest worker {worker:.0f} MB;"
        f" at most {bound:.0f} MB at once (driver + {workers} x worker); target {MEMORY_TARGET_MB:.0f} MB; ratio {bound / MEMORY_TARGET_MB:.2f}"
    )


def one_fold() -> None:
    """Load the demo cohort and run every window model of the first LOSO fold here, then print time and peak memory."""
    from semiology.evaluate.folds import make_folds
    from semiology.evaluate.study import StudyContext, plan_jobs, run_window_job, window_key
    from semiology.experiment import ACTION_KINDS
    from semiology.models.appearance import attach_appearance_features
    from semiology.preprocess.model_inputs import build_stream_windows
    from semiology.preprocess.resample import resample_record

    started = time.perf_counter()
    config = demo.load_experiment(demo.DEMO_CONFIG, {"evaluation.workers": 1})
    config = dataclasses.replace(config, models=tuple(m for m in config.models if m.kind not in ACTION_KINDS))
    native, _ = demo.load_records(config, str(demo.DEMO_CONFIG))
    records = [resample_record(record, config.windows.target_fps) for record in native]
    with tempfile.TemporaryDirectory() as out:
        streams = {model.stream for model in config.models if model.kind in ("tcn", "agcn_kd")}
        attach_appearance_features(records, streams, config.encoder, Path(out) / "encoders")
    loaded_s = time.perf_counter() - started
    tasks = {task.name: task for task in config.tasks}
    windows = {key: build_stream_windows(records, tasks[key[0]], key[1], config, key[2]) for key in sorted({window_key(m, config) for m in config.models})}
    folds = make_folds(records, config)
    context = StudyContext(config=config, records=records, windows=windows)
    fold_started = time.perf_counter()
    for job in plan_jobs(config, windows, folds[:1]):
        run_window_job(context, job)
    fold_s = time.perf_counter() - fold_started
    print(
        f"one LOSO fold ({len(folds)} in the study), every window model of every task: {fold_s:.1f} s"
        f" after {loaded_s:.1f} s loading the cohort and its features; peak resident memory {peak_rss_mb(resource.RUSAGE_SELF):.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-demo", action="store_true", help="only the one-fold measurement")
    parser.add_argument("--skip-fold", action="store_true", help="only the whole demo")
    parser.add_argument("--one-fold-here", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_fold_here:
        one_fold()
        return
    if not args.skip_demo:
        run_demo(args.workers)  # first: the fold's process would otherwise count among the reaped children
    if not args.skip_fold:
        subprocess.run([sys.executable, __file__, "--one-fold-here"], check=True)


if __name__ == "__main__":
    main()
