"""The one process pool: forked workers that die with the process that started them.

Studies, screening and the synthetic cohort fan work out to forked processes (a fork shares
the records and models already in memory without pickling them). A worker must not outlive
its driver: a driver killed with SIGKILL cannot clean up, and its orphaned workers would go on
holding hundreds of megabytes each. Every worker therefore asks the kernel for SIGKILL when
its parent dies (Linux `prctl(PR_SET_PDEATHSIG)`, through ctypes: the call is one line and no
maintained wrapper ships wheels for every platform we run on), and leaves at once if its parent
is already gone when it starts. Elsewhere the request is skipped and the workers end when the
pool's queue closes, as before.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

PR_SET_PDEATHSIG = 1


def _die_with(parent_pid: int) -> None:
    """In a worker: be killed when `parent_pid` exits; exit now if it already has."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent_pid:
        os._exit(1)


def _start_worker(parent_pid: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    _die_with(parent_pid)
    if initializer is not None:
        initializer(*initargs)


def worker_pool(workers: int, initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = ()) -> ProcessPoolExecutor:
    """A pool of `workers` forked processes, each tied to this process's life, then running `initializer(*initargs)`."""
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start_worker,
        initargs=(os.getpid(), initializer, initargs),
    )
