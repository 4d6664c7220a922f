"""Screening soak: a batch screened while its driver is killed at random moments ends exactly as an uninterrupted run.

    .venv/bin/python benchmarks/screen_soak.py [--recordings 200] [--kills 10] [--workers 2] [--seed 0]

Builds a tiny bundle and `--recordings` short synthetic recordings (cached keypoints and a
manifest), screens them once without interruption (the reference), then runs
`tools/screen.py --workers N` into a fresh folder and SIGKILLs the driver at a random moment,
`--kills` times (a bounded loop), before letting a last run finish. After each kill it counts
the driver's workers still alive a few seconds later (they must die with it). It prints the
rows, the kills, duplicated rows, missing rows, rows that differ from the reference, and
orphaned workers: every one but the rows must be 0.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SEMIOLOGY_SITE_SECRET", "screen soak")

from semiology.io.cache import save_record  # noqa: E402
from semiology.io.manifest import ManifestRow, write_manifest  # noqa: E402
from semiology.screen.batch import RESULTS_FILE, items_from_manifest, run_screen  # noqa: E402
from tests.bundle_fixtures import tiny_bundle, tiny_records  # noqa: E402


def children(pid: int) -> list[int]:
    """The processes `pid` started (Linux /proc), empty when it has none or is gone."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def comparable(row: dict) -> dict:
    """A result row without what may differ between two folders (the manifest's path in `source`)."""
    return {key: value for key, value in row.items() if key != "source"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recordings", type=int, default=200)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    scratch = Path(tempfile.mkdtemp(prefix="semiology-soak-"))
    bundle = tiny_bundle(scratch / "bundle").path
    rows = []
    for record in tiny_records(args.recordings, seed=31):
        path = save_record(record, scratch / "cache" / f"{record.seizure_id}.npz", config_hash="soak")
        rows.append(ManifestRow(record.seizure_id, record.subject_id, {"keypoints": path}, record.fps, record.onset_s, record.offset_s, record.generalisation_s, {}))
    manifest = write_manifest(rows, scratch / "manifest.csv")

    started = time.perf_counter()
    run_screen(bundle, items_from_manifest(manifest), scratch / "reference", workers=args.workers, progress=False)
    full_s = time.perf_counter() - started
    reference = {row["seizure_id"]: comparable(row) for row in map(json.loads, (scratch / "reference" / RESULTS_FILE).read_text().splitlines())}

    out = scratch / "soak"
    command = [sys.executable, str(ROOT / "tools" / "screen.py"), "--bundle", str(bundle), "--manifest", str(manifest), "--out", str(out),
               "--workers", str(args.workers), "--no-progress"]
    kills, orphans, exit_codes = 0, 0, []
    for _ in range(args.kills):
        driver = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.0, max(1.5, 0.8 * full_s)))
        workers = children(driver.pid)
        if driver.poll() is not None:
            exit_codes.append(driver.returncode)
            continue
        driver.send_signal(signal.SIGKILL)
        driver.wait()
        kills += 1
        time.sleep(3.0)
        left = [pid for pid in workers if alive(pid)]
        orphans += len(left)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
    final = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    exit_codes.append(final.returncode)

    lines = [json.loads(line) for line in (out / RESULTS_FILE).read_text().splitlines()]
    counts = Counter(row["seizure_id"] for row in lines)
    duplicates = sum(count - 1 for count in counts.values())
    missing = len(set(reference) - set(counts))
    differing = sum(comparable(row) != reference.get(row["seizure_id"]) for row in lines)
    print(f"uninterrupted run: {len(reference)} recordings in {full_s:.1f} s with {args.workers} workers")
    print(f"rows {len(lines)}  kills {kills}  duplicates {duplicates}  missing {missing}  differing from the reference {differing}  "
          f"orphaned workers {orphans}  exit codes {exit_codes}")
    return 0 if duplicates == missing == differing == orphans == 0 and len(lines) == len(reference) else 1


if __name__ == "__main__":
    sys.exit(main())
