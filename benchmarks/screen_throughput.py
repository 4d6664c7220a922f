"""Screening throughput for cached keypoints: recordings per minute with 1 and 2 workers.

Saves a synthetic cohort (default spec, its own seed: recordings of 40-140 s with 32 px
crops) as cached records plus a manifest, then screens it with a bundle twice from scratch,
once with one worker and once with two, and prints recordings per minute, the speed-up and
whether both runs gave identical rows. Timeline figures are drawn in both runs.

    .venv/bin/python benchmarks/screen_throughput.py --bundle out/faithfulness/bundle

Make a bundle with `tools/loso_eval.py --bundle DIR` or `benchmarks/explain_faithfulness.py`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

from semiology.bundle import load_bundle
from semiology.io.cache import save_record
from semiology.io.manifest import ManifestRow, write_manifest
from semiology.screen.batch import RESULTS_FILE, items_from_manifest, run_screen
from semiology.synthetic import make_cohort


def write_cohort(bundle_path: Path, folder: Path, seed: int) -> Path:
    """The bundle's synthetic cohort spec with another seed, cached, and its manifest."""
    spec = dataclasses.replace(load_bundle(bundle_path).config.data.synthetic, seed=seed)
    rows = []
    for record in make_cohort(spec):
        path = save_record(record, folder / "cache" / f"{record.seizure_id}.npz", config_hash="screen-throughput")
        rows.append(ManifestRow(record.seizure_id, record.subject_id, {"keypoints": path}, record.fps, record.onset_s, record.offset_s, record.generalisation_s, {}))
    return write_manifest(rows, folder / "manifest.csv")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=2)
    args = parser.parse_args()
    if not (args.bundle / "bundle.json").is_file():
        sys.exit(f"{args.bundle}: no bundle there; make one with tools/loso_eval.py --bundle DIR or benchmarks/explain_faithfulness.py")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        manifest = write_cohort(args.bundle, folder, args.seed)
        items = items_from_manifest(manifest)
        rates, rows = {}, {}
        for workers in (1, 2):
            out = folder / f"workers{workers}"
            started = time.perf_counter()
            summary = run_screen(args.bundle, items, out, workers=workers, progress=False)
            elapsed = time.perf_counter() - started
            rates[workers] = summary.n_total / elapsed * 60.0
            rows[workers] = [{k: v for k, v in json.loads(line).items() if k != "source"} for line in (out / RESULTS_FILE).read_text().splitlines()]
            print(f"{workers} worker(s): {summary.n_total} recordings ({summary.n_error} errors) in {elapsed:.1f} s = {rates[workers]:.1f} recordings/min")
    models = ", ".join(load_bundle(args.bundle).models)
    print(f"speed-up with 2 workers: {rates[2] / rates[1]:.2f}x; rows identical: {rows[1] == rows[2]}; bundle models: {models}")
    print("measured on a shared 2-core machine: other processes compete for the cores, so the speed-up is a lower bound")


if __name__ == "__main__":
    main()
