"""Wall time of the demo LOSO study (target: <= 3 minutes on a 2-core machine) and its Table 1.

    .venv/bin/python benchmarks/demo_runtime.py [--workers 2]
"""

import argparse
import tempfile
import time
from pathlib import Path

from semiology.cli import DEMO_CONFIG
from semiology.evaluate.run import load_experiment, run_experiment

TARGET_S = 180.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    config = load_experiment(DEMO_CONFIG, {"evaluation.workers": args.workers})
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        run = run_experiment(config, Path(out), source=str(DEMO_CONFIG), progress=False)
        elapsed = time.perf_counter() - started
    print(run.table)
    print(f"demo wall time: {elapsed:.1f} s with {args.workers} worker(s); target {TARGET_S:.0f} s; ratio {elapsed / TARGET_S:.2f} of the budget")


if __name__ == "__main__":
    main()
