"""Worker-side helpers of the Ray tests, imported by Ray workers as `tests.engines.test_ray_support` (no tests here).

Ray workers import a task's functions by module name; pytest imports test modules under bare
names (`test_ray`) that a worker cannot import, so what runs in workers lives here.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any


def die_on_first_try(folder: str, item: int) -> int:
    """Kill this worker process the first time item 1 is seen; item 2 kills its worker every time."""
    marker = Path(folder) / f"seen-{item}"
    if item == 2 or (item == 1 and not marker.exists()):
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return item * 10


def slow_screening(folder: str, seconds: float) -> None:
    """A worker setup for the fault test: note this worker's pid in `folder`, and make each recording take `seconds` longer."""
    import semiology.screen.batch as screen_batch

    Path(folder, f"worker-{os.getpid()}").touch()
    real = screen_batch.screen_record

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(seconds)
        return real(*args, **kwargs)

    screen_batch.screen_record = slow
