"""Wall time of the whole demo (`tools/loso_eval.py` with no config) against its budgets.

The spine study (configs/demo.yaml: dystonia and emotion, 19 LOSO folds x 6 models) must
take <= 3 minutes on a 2-core machine, and the whole demo with the action studies
(configs/action_*.yaml) <= 5 minutes. Prints each study's time and Table 1.

    .venv/bin/python benchmarks/demo_runtime.py [--workers 2]
"""

import argparse
import tempfile
import time
from pathlib import Path

import semiology.evaluate.demo as demo

SPINE_TARGET_S = 180.0
WHOLE_TARGET_S = 300.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    finished: list[tuple[str, float]] = []
    original = demo.run_experiment

    def timed_run(config, out_dir, *rest, **options):
        run = original(config, out_dir, *rest, **options)
        finished.append((config.name, time.perf_counter()))
        return run

    demo.run_experiment = timed_run
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        runs = demo.run_demo(Path(out), {"evaluation.workers": args.workers}, progress=False)
        elapsed = time.perf_counter() - started
    demo.run_experiment = original
    for run in runs.values():
        print(run.table)
    previous = started
    for name, at in finished:
        print(f"{name:28s} {at - previous:7.1f} s")
        previous = at
    spine_s = finished[0][1] - started
    print(f"spine study (incl. cohort and encoders): {spine_s:.1f} s; target {SPINE_TARGET_S:.0f} s; ratio {spine_s / SPINE_TARGET_S:.2f}")
    print(f"whole demo: {elapsed:.1f} s with {args.workers} worker(s); target {WHOLE_TARGET_S:.0f} s; ratio {elapsed / WHOLE_TARGET_S:.2f}")


if __name__ == "__main__":
    main()
