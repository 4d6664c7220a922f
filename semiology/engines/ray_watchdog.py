"""Ray processes die with the driver that started them, even when it is killed with SIGKILL.

A local Ray instance started by `ray.init()` shares the fate of its driver only in part: when
the driver is killed, GCS, raylet and the workers end, but Ray's dashboard and runtime-env
agents were seen to live on (Ray 2.60, minutes later), holding memory, as orphaned pool workers
would (see `engines/pool.py`). So the engine starts this watchdog beside a Ray instance it
starts: a small process that notes every process below the driver while the driver lives and,
when the driver is gone, kills those still running. Each is noted with its start time, so that
a process id reused by an unrelated process is never killed. Written here rather than taken
from a library: psutil could walk the tree, but the walk is a few lines over /proc (the pool
already relies on Linux for the same guarantee), and no library offers the watch itself.

Run as `python ray_watchdog.py DRIVER_PID` (it imports nothing of the package); stopped with SIGTERM by a driver
that ends normally (after `ray.shutdown()`), it kills nothing.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

POLL_S = 0.5


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state, parent, ..., start time at index 19), or None when gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def descendants(root: int) -> dict[int, str]:
    """Every process below `root`, with its start time (clock ticks since boot)."""
    parents: dict[int, list[tuple[int, str]]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and fields[0] != "Z":
                parents.setdefault(int(fields[1]), []).append((int(entry.name), fields[19]))
    found: dict[int, str] = {}
    stack = [root]
    while stack:
        for child, started in parents.get(stack.pop(), []):
            found[child] = started
            stack.append(child)
    return found


def watch(driver_pid: int) -> list[int]:
    """Note the processes below `driver_pid` until it ends, then kill those still running; returns the ids killed."""
    me = os.getpid()
    noted: dict[int, str] = {}
    while os.getppid() == driver_pid:
        noted.update((pid, started) for pid, started in descendants(driver_pid).items() if pid != me)
        time.sleep(POLL_S)
    killed = []
    for pid, started in noted.items():
        fields = _stat(pid)
        if fields is not None and fields[19] == started and fields[0] != "Z":
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
    return killed


if __name__ == "__main__":
    watch(int(sys.argv[1]))
