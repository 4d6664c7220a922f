"""Ray: the per-recording tasks of extraction and screening, on this machine or on a cluster.

The process pool (`engines/pool.py`) is the default; this engine runs the same tasks on Ray
(https://docs.ray.io), the distributed engine users already run clusters with, instead of a
home-made one. Without an address Ray is started on this machine (`ray.init(num_cpus=...)`) and
shut down at the end; with one (`ray://head:10001`, `head:6379` or `auto`) the driver joins an
existing cluster.

How the work is laid out, and why:
- One actor per worker (one CPU each) holds the heavy objects (a model bundle, the detectors)
  that `factory()` builds once in its process; each recording is one call `task(state, item)`
  on an actor. Loading a bundle or MediaPipe per task would cost more than many tasks.
- Only the driver writes results (cache files, the results log): a task returns its result and
  the caller writes it atomically as it arrives, in completion order. Workers need to read the
  inputs (shared storage on a cluster), never to write to the output folder, and a batch killed
  at any point (a worker, the driver) leaves only whole results, which a rerun keeps.
- A worker process that dies (killed, out of memory) is replaced by a new actor (which builds
  its heavy objects again) and the recording it held is given to it again, at most `retries`
  times; a recording that kills its worker every time becomes a failure of that recording and
  the batch goes on. (A fresh actor rather than Ray's own actor restart: calls sent to an actor
  while Ray restarts it can fail without running, which would spend a recording's retries.)
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from semiology.errors import SemiologyError

State = TypeVar("State")
Item = TypeVar("Item")
Result = TypeVar("Result")


class RayUnavailableError(SemiologyError):
    """Ray is not installed, or the cluster named by an address cannot be reached."""


@dataclass(frozen=True)
class RaySettings:
    """Where and how wide to run.

    `address` None starts Ray on this machine with `num_cpus` CPUs (None: all of them); an
    address joins that cluster (`num_cpus` is then ignored: a cluster has its own). `workers`
    is the number of actors (None: one per CPU of the cluster). `worker_setup` runs first in
    every worker process, e.g. to register a user's own detector backend there as in the driver.
    """

    address: str | None = None
    num_cpus: int | None = None
    workers: int | None = None
    retries: int = 2
    worker_setup: Callable[[], None] | None = None
    object_store_mb: int | None = None


@dataclass(frozen=True)
class TaskOutcome(Generic[Result]):
    """One item's end: its `value`, or `error` (the task raised, or its worker died `retries` + 1 times)."""

    index: int
    value: Result | None
    error: str
    worker: str
    seconds: float


@dataclass
class Throughput:
    """Recordings done and failed, overall and per worker, since `started` (a `time.monotonic()`)."""

    started: float = field(default_factory=time.monotonic)
    done: int = 0
    failed: int = 0
    lost_workers: int = 0
    per_worker: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, outcome: TaskOutcome[Any]) -> None:
        """Count one finished item."""
        self.done += 1
        self.failed += bool(outcome.error)
        if outcome.worker:
            self.per_worker[outcome.worker] += 1

    def describe(self) -> str:
        """`done 7, failed 1, worker restarts 1; per worker (recordings/min): host:pid 3.1, ...` for a progress bar."""
        minutes = max(time.monotonic() - self.started, 1e-9) / 60
        rates = ", ".join(f"{name} {count / minutes:.1f}" for name, count in sorted(self.per_worker.items()))
        restarts = f", worker restarts {self.lost_workers}" if self.lost_workers else ""
        return f"done {self.done}, failed {self.failed}{restarts}; per worker (recordings/min): {rates}"


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RayUnavailableError("--engine ray needs Ray: pip install 'semiology[ray]' (or pip install ray)") from None
    return ray


class _Worker:
    """A Ray actor's body: builds the heavy state once, then runs tasks on it."""

    def __init__(self, setup: Callable[[], None] | None, factory: Callable[[], Any]) -> None:
        if setup is not None:
            setup()
        self.state = factory()
        self.name = f"{socket.gethostname()}:{os.getpid()}"

    def run(self, task: Callable[[Any, Any], Any], item: Any) -> tuple[Any, str, float]:
        started = time.perf_counter()
        value = task(self.state, item)
        return value, self.name, time.perf_counter() - started


class RaySession:
    """Ray for one batch: joined or started on entry, and shut down on exit when this session started it.

    A process that already called `ray.init` (a test's shared instance, a notebook) keeps its
    Ray: the session uses it and leaves it running. A Ray instance started here on Linux gets a
    watchdog (`engines/ray_watchdog.py`) so that none of its processes outlives a killed driver.
    """

    def __init__(self, settings: RaySettings) -> None:
        self.settings = settings
        self.ray = _import_ray()
        self.started_here = False
        self.watchdog: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> RaySession:
        if self.ray.is_initialized():
            return self
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": True, "configure_logging": False}
        try:
            if self.settings.address:
                self.ray.init(address=self.settings.address, **options)
            else:
                store = self.settings.object_store_mb
                self.ray.init(address="local", num_cpus=self.settings.num_cpus or os.cpu_count(),
                              object_store_memory=store * 2**20 if store else None, **options)
        except (ConnectionError, RuntimeError, ValueError) as error:
            where = f"the Ray cluster at {self.settings.address}" if self.settings.address else "a local Ray instance"
            raise RayUnavailableError(f"could not start or join {where}: {error}") from error
        self.started_here = True
        if sys.platform.startswith("linux"):
            self.watchdog = subprocess.Popen([sys.executable, str(Path(__file__).with_name("ray_watchdog.py")), str(os.getpid())])
        return self

    def __exit__(self, *exc: object) -> None:
        if self.started_here:
            self.ray.shutdown()
        if self.watchdog is not None:
            self.watchdog.terminate()
            self.watchdog.wait()

    def worker_count(self) -> int:
        """`settings.workers`, or one worker per CPU of the cluster."""
        return self.settings.workers or max(1, int(self.ray.cluster_resources().get("CPU", 1)))

    def map(self, factory: Callable[[], State], task: Callable[[State, Item], Result], items: Sequence[Item],
            throughput: Throughput | None = None) -> Iterator[TaskOutcome[Result]]:
        """Run `task(state, item)` for every item on actors built with `factory`; yield outcomes as they finish.

        Every actor has one call in flight at a time (a long recording never queues others
        behind it on the same worker). `throughput`, when given, counts each outcome as yielded.
        """
        if not items:
            return
        ray = self.ray
        actor_class = ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)(_Worker)

        def new_actor() -> Any:
            return actor_class.remote(self.settings.worker_setup, factory)

        actors = [new_actor() for _ in range(min(self.worker_count(), len(items)))]
        waiting = list(range(len(items)))[::-1]
        attempts: dict[int, int] = defaultdict(int)
        running: dict[Any, tuple[int, int]] = {}

        def submit(actor_index: int) -> None:
            if waiting:
                index = waiting.pop()
                running[actors[actor_index].run.remote(task, items[index])] = (index, actor_index)

        for actor_index in range(len(actors)):
            submit(actor_index)
        try:
            while running:
                (ref,), _ = ray.wait(list(running), num_returns=1)
                index, actor_index = running.pop(ref)
                try:
                    value, worker, seconds = ray.get(ref)
                    outcome = TaskOutcome(index, value, "", worker, seconds)
                except ray.exceptions.RayActorError as error:
                    attempts[index] += 1
                    if throughput is not None:
                        throughput.lost_workers += 1
                    ray.kill(actors[actor_index])
                    actors[actor_index] = new_actor()
                    if attempts[index] <= self.settings.retries:
                        waiting.append(index)
                        submit(actor_index)
                        continue
                    first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                    outcome = TaskOutcome(index, None, f"its worker process died {attempts[index]} times: {first_line}", "", 0.0)
                except ray.exceptions.RayTaskError as error:
                    cause = error.cause if error.cause is not None else error
                    outcome = TaskOutcome(index, None, f"{type(cause).__name__}: {cause}", "", 0.0)
                submit(actor_index)
                if throughput is not None:
                    throughput.add(outcome)
                yield outcome
        finally:
            for actor in actors:
                ray.kill(actor)


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    """`--engine`, `--ray-address`, `--ray-cpus`: the same options on every batch command that can run on Ray."""
    parser.add_argument("--engine", choices=("local", "ray"), default="local",
                        help="where recordings are processed: local (this machine's processes, the default) or ray (a Ray instance: "
                        "started on this machine, or the cluster of --ray-address)")
    parser.add_argument("--ray-address", default=None, metavar="ADDR",
                        help="with --engine ray: join this Ray cluster (e.g. ray://head:10001, head:6379, or auto) instead of starting Ray here")
    parser.add_argument("--ray-cpus", type=int, default=None, metavar="N",
                        help="with --engine ray and no address: CPUs of the Ray instance started here (default: all of this machine's)")


def engine_settings(args: argparse.Namespace, workers: int | None = None) -> RaySettings | None:
    """The Ray settings the parsed `args` ask for, or None for the local engine (Ray options without `--engine ray` are an error)."""
    if args.engine != "ray":
        if args.ray_address is not None or args.ray_cpus is not None:
            raise SemiologyError("--ray-address and --ray-cpus need --engine ray")
        return None
    if args.ray_cpus is not None and args.ray_cpus < 1:
        raise SemiologyError(f"--ray-cpus must be at least 1, not {args.ray_cpus}")
    return RaySettings(address=args.ray_address, num_cpus=args.ray_cpus, workers=workers)
