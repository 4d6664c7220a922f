"""Extraction and screening on a real local Ray instance (2 CPUs) give what the local engines give; dead workers are replaced;
a batch killed at any point (a worker, then the driver) and started again loses nothing and counts nothing twice.

One Ray instance serves the whole module (Ray takes seconds to start) and is shut down at its end;
the fault test's driver starts its own, in its own process, to be killed.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from semiology.cli import screen
from semiology.config import config_from_dict
from semiology.engines.ray_engine import RaySession, RaySettings, Throughput
from semiology.extract.batch import SUMMARY_FILE, run_extraction
from semiology.extract.cli import extract_keypoints
from semiology.extract.config import ExtractionConfig
from semiology.io.cache import cache_path, load_record, save_record
from semiology.io.manifest import ManifestRow, write_manifest
from semiology.screen.batch import RESULTS_FILE, items_from_manifest, run_screen
from tests.blob_backend import FPS, blob_video, register_blob
from tests.bundle_fixtures import tiny_bundle, tiny_records
from tests.engines.test_ray_support import die_on_first_try

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install -c constraints.txt -e '.[dev,ray]'")


@pytest.fixture(scope="module")
def local_ray():
    """A real local Ray instance with 2 CPUs for this module; the engine uses it and leaves it running."""
    ray.init(address="local", num_cpus=2, include_dashboard=False, configure_logging=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def blob_config() -> ExtractionConfig:
    register_blob()
    return config_from_dict(
        {"body_layout": "blob_3", "pose": {"backend": "bright_blob"}, "roi": {"enabled": False}, "face": {"enabled": False},
         "crops": {"enabled": False}, "lift": {"method": "none"}},
        ExtractionConfig,
    )


def _blob_manifest(folder: Path, count: int) -> Path:
    columns = ["seizure_id", "subject_id", "ir", "fps", "onset_s", "offset_s", "motion"]
    with (folder / "manifest.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        for index in range(count):
            video = folder / f"video{index}"
            blob_video(video, moving=index % 2 == 1, phase=0.3 * index)
            writer.writerow({"seizure_id": f"s{index}", "subject_id": f"P{index}", "ir": str(video), "fps": str(FPS), "onset_s": "1.0",
                             "offset_s": "3.5", "motion": "sway"})
        writer.writerow({"seizure_id": "missing", "subject_id": "PX", "ir": str(folder / "no_such_video"), "fps": str(FPS),
                         "onset_s": "1.0", "offset_s": "3.5", "motion": "sway"})
    return folder / "manifest.csv"


def _summary(folder: Path) -> dict[str, dict[str, str]]:
    with (folder / SUMMARY_FILE).open(newline="") as handle:
        return {row["seizure_id"]: row for row in csv.DictReader(handle)}


def test_extraction_on_ray_equals_the_local_run(local_ray, blob_config: ExtractionConfig, tmp_path: Path) -> None:
    manifest = _blob_manifest(tmp_path, 4)
    here = run_extraction(manifest, tmp_path / "here", blob_config, progress=False)
    on_ray = run_extraction(manifest, tmp_path / "ray", blob_config, progress=False, engine=RaySettings(worker_setup=register_blob))
    assert [(r.seizure_id, r.status) for r in on_ray] == [(r.seizure_id, r.status) for r in here]
    assert [r.status for r in on_ray] == ["extracted"] * 4 + ["failed"]
    assert on_ray[-1].reason == here[-1].reason and "no_such_video" in on_ray[-1].reason
    for index in range(4):
        local, remote = (load_record(cache_path(tmp_path / folder, f"s{index}")) for folder in ("here", "ray"))
        np.testing.assert_array_equal(remote.body_2d.coords, local.body_2d.coords)
        np.testing.assert_array_equal(remote.body_2d.confidence, local.body_2d.confidence)
        np.testing.assert_equal(remote.meta, local.meta)
    ignore = {"time_s", "cache_file"}
    strip = lambda rows: {key: {k: v for k, v in row.items() if k not in ignore} for key, row in rows.items()}  # noqa: E731
    assert strip(_summary(tmp_path / "ray")) == strip(_summary(tmp_path / "here"))
    again = run_extraction(manifest, tmp_path / "ray", blob_config, progress=False, engine=RaySettings(worker_setup=register_blob))
    assert [r.status for r in again] == ["cached"] * 4 + ["failed"], "a rerun on Ray reuses what is up to date"


@pytest.fixture(scope="module")
def screen_batch(tmp_path_factory: pytest.TempPathFactory):
    bundle = tiny_bundle(tmp_path_factory.getbasetemp() / "tiny_bundle")
    folder = tmp_path_factory.mktemp("ray_screen")
    rows = []
    for record in tiny_records(6, seed=23):
        path = save_record(record, folder / "cache" / f"{record.seizure_id}.npz", config_hash="ray-test")
        rows.append(ManifestRow(record.seizure_id, record.subject_id, {"keypoints": path}, record.fps, record.onset_s, record.offset_s,
                                record.generalisation_s, {"dystonia": record.labels["dystonia"]}))
    rows.append(ManifestRow("unreadable", "PZ", {"keypoints": folder / "cache" / "absent.npz"}, 10.0, 1.0, 5.0, None, {"dystonia": "no"}))
    return bundle, write_manifest(rows, folder / "manifest.csv")


def _results(folder: Path) -> dict[str, dict]:
    rows = [json.loads(line) for line in (folder / RESULTS_FILE).read_text().splitlines()]
    assert len(rows) == len({row["seizure_id"] for row in rows}), "one row per recording"
    return {row["seizure_id"]: row for row in rows}


def test_screening_on_ray_equals_the_process_pool(local_ray, screen_batch, tmp_path: Path) -> None:
    bundle, manifest = screen_batch
    items = items_from_manifest(manifest)
    pool = run_screen(bundle.path, items, tmp_path / "pool", workers=2, progress=False)
    status = screen(["--bundle", str(bundle.path), "--manifest", str(manifest), "--out", str(tmp_path / "ray"), "--engine", "ray",
                     "--workers", "2", "--no-progress"])
    assert status == 1 and (pool.n_ok, pool.n_error) == (6, 1), "tools/screen.py --engine ray: one unreadable recording, the rest screened"
    assert _results(tmp_path / "ray") == _results(tmp_path / "pool")
    for row in _results(tmp_path / "ray").values():
        if row["status"] == "ok":
            assert (tmp_path / "ray" / row["timeline_png"]).read_bytes() == (tmp_path / "pool" / row["timeline_png"]).read_bytes()
    assert (tmp_path / "ray" / "summary.csv").read_bytes() == (tmp_path / "pool" / "summary.csv").read_bytes()
    again = run_screen(bundle.path, items, tmp_path / "ray", progress=False, engine=RaySettings(workers=2))
    assert again.n_skipped == 7 and _results(tmp_path / "ray") == _results(tmp_path / "pool")


def test_a_dead_worker_is_replaced_and_only_a_killer_item_fails(local_ray, tmp_path: Path) -> None:
    throughput = Throughput()
    with RaySession(RaySettings(workers=2, retries=2)) as session:
        outcomes = {o.index: o for o in session.map(lambda: str(tmp_path), die_on_first_try, list(range(6)), throughput)}
    assert sorted(outcomes) == list(range(6))
    assert {i: o.value for i, o in outcomes.items() if not o.error} == {0: 0, 1: 10, 3: 30, 4: 40, 5: 50}
    assert "worker process died 3 times" in outcomes[2].error
    assert (throughput.done, throughput.failed, throughput.lost_workers) == (6, 1, 4)
    assert "per worker (recordings/min)" in throughput.describe()


def test_ray_options_without_the_ray_engine_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = extract_keypoints(["--manifest", str(tmp_path / "m.csv"), "--out", str(tmp_path / "out"), "--ray-address", "auto"])
    assert status == 2 and "--ray-address and --ray-cpus need --engine ray" in capsys.readouterr().err


REPO = Path(__file__).resolve().parents[2]
N_RECORDINGS = 10
DRIVER = textwrap.dedent(
    """
    import sys
    from functools import partial
    from pathlib import Path
    from semiology.engines.ray_engine import RaySettings
    from semiology.screen.batch import items_from_manifest, run_screen
    from tests.engines.test_ray_support import slow_screening

    bundle, manifest, out, folder, seconds = sys.argv[1:]
    setup = partial(slow_screening, folder, float(seconds)) if float(seconds) > 0 else None
    run_screen(Path(bundle), items_from_manifest(manifest), Path(out), progress=False,
               engine=RaySettings(num_cpus=2, workers=2, worker_setup=setup, object_store_mb=128))
    """
)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _descendants(root: int) -> set[int]:
    """Every live process below `root` (Ray's GCS, raylet, workers started by a driver)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, stack = set(), [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.add(child)
            stack.append(child)
    return found


def _rows(path: Path) -> list[dict]:
    """The complete rows of a results file (a torn last line, left by a kill, has no newline yet)."""
    if not path.exists():
        return []
    text = path.read_text()
    return [json.loads(line) for line in text[: text.rfind("\n") + 1].splitlines()]


def _wait(condition, what: str, driver: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert driver.poll() is None, f"the driver ended before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_killing_a_worker_then_the_driver_loses_nothing_and_counts_nothing_twice(local_ray, tmp_path: Path, tmp_path_factory) -> None:
    """A driver screens on its own local Ray; one worker is killed (the batch goes on), then the driver (its Ray processes die with
    it); `tools/screen.py --engine ray --ray-address ...`, joining a running Ray, completes the batch."""
    bundle = tiny_bundle(tmp_path_factory.getbasetemp() / "tiny_bundle")
    rows = []
    for record in tiny_records(N_RECORDINGS, seed=31):
        path = save_record(record, tmp_path / "cache" / f"{record.seizure_id}.npz", config_hash="ray-fault")
        rows.append(ManifestRow(record.seizure_id, record.subject_id, {"keypoints": path}, record.fps, record.onset_s, record.offset_s,
                                record.generalisation_s, {"dystonia": record.labels["dystonia"]}))
    manifest = write_manifest(rows, tmp_path / "manifest.csv")
    run_screen(bundle.path, items_from_manifest(manifest), tmp_path / "reference", workers=1, progress=False)
    reference = {row["seizure_id"]: row for row in _rows(tmp_path / "reference" / RESULTS_FILE)}

    out, workers = tmp_path / "out", tmp_path / "workers"
    workers.mkdir()
    results = out / RESULTS_FILE
    command = [sys.executable, "-c", DRIVER, str(bundle.path), str(manifest), str(out), str(workers), "1.0"]
    driver = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(lambda: len(_rows(results)) >= 2, "two rows", driver)
        victim = next(int(path.name.split("-")[1]) for path in workers.iterdir() if _alive(int(path.name.split("-")[1])))
        os.kill(victim, signal.SIGKILL)
        done_at_worker_kill = len(_rows(results))
        _wait(lambda: len(_rows(results)) >= done_at_worker_kill + 2, "rows after a worker was killed", driver)
        ray_processes = _descendants(driver.pid)
        driver.send_signal(signal.SIGKILL)
        driver.wait(timeout=10)
    finally:
        if driver.poll() is None:
            driver.kill()
    done_at_driver_kill = len(_rows(results))
    assert done_at_driver_kill < N_RECORDINGS, "the driver was killed mid-batch"
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in ray_processes) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [pid for pid in ray_processes if _alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert ray_processes and not left, f"Ray processes {left} outlived their driver"

    cluster = ray.get_runtime_context().gcs_address  # the restart joins this module's Ray as it would a cluster
    finished = subprocess.run([sys.executable, "tools/screen.py", "--bundle", str(bundle.path), "--manifest", str(manifest), "--out", str(out),
                               "--engine", "ray", "--ray-address", cluster, "--workers", "2", "--no-progress"],
                              cwd=REPO, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr[-3000:]
    expected = f"{N_RECORDINGS} recordings: {N_RECORDINGS} screened, 0 errors, {done_at_driver_kill} already done"
    assert expected in finished.stdout, "finished rows were kept, not screened again"
    lines = _rows(results)
    assert sorted(row["seizure_id"] for row in lines) == sorted(reference), "every recording exactly once"
    assert {row["seizure_id"]: row for row in lines} == reference
