"""Recordings per minute of one screening batch on the process pool and on Ray, on this machine.

    .venv/bin/python benchmarks/engine_throughput.py [--recordings 40] [--workers 2]

Builds the tests' tiny bundle and `--recordings` short synthetic recordings (cached keypoints
and a manifest), then screens the same batch into fresh folders: once on the process pool
(`--workers N`, the default engine), once on Ray started here with N CPUs (`--engine ray
--ray-cpus N`), and once more on a Ray instance already running (as on a cluster, where the
driver joins with `--ray-address`). It prints recordings/min for each and the ratios to the
pool measured in this run: the first Ray figure includes starting Ray (what one
`tools/screen.py --engine ray` call costs on one machine), the second does not; both include
starting the workers, which load the bundle once each. Results of every run are checked to be
equal.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SEMIOLOGY_SITE_SECRET", "engine throughput")

from semiology.engines.ray_engine import RaySession, RaySettings  # noqa: E402
from semiology.io.cache import save_record  # noqa: E402
from semiology.io.manifest import ManifestRow, write_manifest  # noqa: E402
from semiology.screen.batch import RESULTS_FILE, items_from_manifest, run_screen  # noqa: E402
from tests.bundle_fixtures import tiny_bundle, tiny_records  # noqa: E402


def _batch(folder: Path, count: int) -> Path:
    rows = []
    for record in tiny_records(count, seed=7):
        path = save_record(record, folder / "cache" / f"{record.seizure_id}.npz", config_hash="engine-throughput")
        rows.append(ManifestRow(record.seizure_id, record.subject_id, {"keypoints": path}, record.fps, record.onset_s, record.offset_s,
                                record.generalisation_s, {"dystonia": record.labels["dystonia"]}))
    return write_manifest(rows, folder / "manifest.csv")


def _rows(folder: Path) -> dict[str, dict]:
    return {row["seizure_id"]: row for row in map(json.loads, (folder / RESULTS_FILE).read_text().splitlines())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recordings", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="engine-throughput-"))
    bundle = tiny_bundle(folder / "bundle")
    items = items_from_manifest(_batch(folder, args.recordings))

    def timed(name: str, **engine: object) -> float:
        started = time.perf_counter()
        summary = run_screen(bundle.path, items, folder / name, progress=False, **engine)
        seconds = time.perf_counter() - started
        assert summary.n_ok == len(items), f"{name}: {summary.n_error} recordings failed"
        return seconds

    pool_s = timed("pool", workers=args.workers)
    ray_cold_s = timed("ray_cold", engine=RaySettings(num_cpus=args.workers, workers=args.workers))
    with RaySession(RaySettings(num_cpus=args.workers, workers=args.workers)):
        ray_warm_s = timed("ray_warm", engine=RaySettings(workers=args.workers))
    reference = _rows(folder / "pool")
    for name in ("ray_cold", "ray_warm"):
        assert _rows(folder / name) == reference, f"{name}: results differ from the process pool's"

    n = len(items)
    print(f"screening {n} recordings, {args.workers} workers, {os.cpu_count()} CPUs on this machine")
    print(f"{'engine':<34}{'seconds':>9}{'recordings/min':>16}{'vs pool':>9}")
    for label, seconds in (("process pool (default)", pool_s), ("ray, started for the batch", ray_cold_s),
                           ("ray, already running", ray_warm_s)):
        print(f"{label:<34}{seconds:>9.1f}{60 * n / seconds:>16.1f}{pool_s / seconds:>9.2f}")
    print("results equal across engines: yes")


if __name__ == "__main__":
    main()
