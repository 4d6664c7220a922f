"""One fold runner: independent jobs over a shared, read-only context, in worker processes.

Keypoint studies run one job per (fold, task), action studies one per fold; both hand the
runner a typed context (the config, records and prepared inputs every job reads) and typed
job payloads. Workers are forked, so the context reaches them without being pickled; each
job's output comes back pickled. Results do not depend on the number of workers or the order
jobs finish in: every seed is derived from the job itself, and outputs are returned in job
order. Workers die with the process that started them (`semiology.engines.pool`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import torch
from tqdm import tqdm

from semiology.engines.pool import worker_pool

Context = TypeVar("Context")
Job = TypeVar("Job")
Output = TypeVar("Output")


_installed: tuple[Callable[[Any, Any], Any], Any] | None = None
"""In a worker process: the work function and its context, set once when the worker starts."""


def _install(work: Callable[[Context, Job], Output], context: Context) -> None:
    global _installed
    _installed = (work, context)


def _run(job: Job) -> Output:
    torch.set_num_threads(1)
    assert _installed is not None, "worker not initialised"
    work, context = _installed
    return work(context, job)


def run_jobs(
    work: Callable[[Context, Job], Output],
    context: Context,
    jobs: Sequence[Job],
    workers: int,
    desc: str,
    unit: str = "job",
    progress: bool = True,
) -> list[Output]:
    """`work(context, job)` for every job, on up to `workers` forked processes; outputs in job order.

    One thread per job (torch), so that two workers on two cores do not fight over them.
    """
    workers = max(1, min(workers, len(jobs)))
    outputs: list[Output] = []
    with tqdm(total=len(jobs), desc=desc, unit=unit, disable=not progress) as bar:
        if workers == 1:
            threads = torch.get_num_threads()
            try:
                torch.set_num_threads(1)
                for job in jobs:
                    outputs.append(work(context, job))
                    bar.update()
            finally:
                torch.set_num_threads(threads)
        else:
            with worker_pool(workers, initializer=_install, initargs=(work, context)) as pool:
                for output in pool.map(_run, jobs):
                    outputs.append(output)
                    bar.update()
    return outputs
