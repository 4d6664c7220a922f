"""Workers die with the process that started them, even when it is killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from semiology.engines.pool import worker_pool

DRIVER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from semiology.evaluate.runner import run_jobs

    def work(folder, job):
        (Path(folder) / f"worker-{os.getpid()}").write_text(str(job))
        time.sleep(120)
        return job

    run_jobs(work, sys.argv[1], list(range(4)), workers=2, desc="soak", progress=False)
    """
)


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting to be reaped has stopped running)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signals are Linux's")
def test_killing_the_driver_kills_its_workers(tmp_path: Path) -> None:
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, str(tmp_path)], cwd=Path(__file__).resolve().parents[2])
    try:
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob("worker-*"))) < 2:
            assert driver.poll() is None, "the driver ended early"
            assert time.monotonic() < deadline, "the workers never started"
            time.sleep(0.1)
        workers = [int(path.name.split("-")[1]) for path in tmp_path.glob("worker-*")]
        assert all(_alive(pid) for pid in workers)
        driver.send_signal(signal.SIGKILL)
        driver.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        orphans = [pid for pid in workers if _alive(pid)]
        for pid in orphans:
            os.kill(pid, signal.SIGKILL)
        assert not orphans, f"workers {orphans} outlived their driver"
    finally:
        if driver.poll() is None:
            driver.kill()


def _set_probe(value: str) -> None:
    os.environ["SEMIOLOGY_POOL_PROBE"] = value


def _probe(index: int) -> tuple[int, str | None, int]:
    return index, os.environ.get("SEMIOLOGY_POOL_PROBE"), os.getppid()


def test_the_pool_runs_work_and_its_initializer() -> None:
    with worker_pool(2, initializer=_set_probe, initargs=("set",)) as pool:
        seen = list(pool.map(_probe, range(4)))
    assert seen == [(index, "set", os.getpid()) for index in range(4)]
