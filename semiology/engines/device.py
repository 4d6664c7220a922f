"""Where torch models run: a device name (`cpu`, `cuda`, `cuda:N`), checked, then resolved.

Studies, bundle building, screening, live classification and I3D extraction take one device
name (`train.device` in an experiment config, `--device` on the tools). Its spelling is checked
wherever it is read; whether this machine has that device is checked only when work is about to
start (`device_problem`, `torch_device`), so that a config or bundle written on a GPU machine
still loads on a CPU-only one. Only a CUDA name ever asks torch about CUDA: the CPU path never
initialises it, so forked workers on the CPU behave as before. torch itself is imported only
when a name is resolved, so reading a config (`semiology.experiment`) does not load it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from semiology.errors import SemiologyError

if TYPE_CHECKING:
    import torch

DEVICE_NAMES = "cpu, cuda or cuda:N"
"""The device names a config or a `--device` option accepts, as messages spell them."""

_DEVICE_PATTERN = re.compile(r"cpu|cuda(?::(\d+))?")


class DeviceError(SemiologyError):
    """A device a run cannot use: a name that is not one, or CUDA where this machine or torch build has none."""


def device_name_problem(name: str) -> str | None:
    """Why `name` is not a device name, or None when it is spelt right (nothing is asked of the machine)."""
    if isinstance(name, str) and _DEVICE_PATTERN.fullmatch(name):
        return None
    return f"device must be {DEVICE_NAMES}, got {name!r}"


def device_problem(name: str) -> str | None:
    """Why this machine cannot run torch models on `name`: misspelt, no CUDA, or no such GPU; None when it can."""
    spelling = device_name_problem(name)
    if spelling is not None:
        return spelling
    if name == "cpu":
        return None
    import torch

    if not torch.cuda.is_available():
        return (f"device {name!r} asks for CUDA, but torch.cuda.is_available() is False on this machine (torch {torch.__version__}); "
                f"use cpu, or run where torch sees a GPU")
    index, count = _DEVICE_PATTERN.fullmatch(name).group(1), torch.cuda.device_count()
    if index is not None and int(index) >= count:
        return f"device {name!r}: this machine has {count} CUDA device{'s' if count != 1 else ''} (cuda:0 to cuda:{count - 1})"
    return None


def torch_device(name: str | torch.device) -> torch.device:
    """`name` as a torch device; a DeviceError naming it when it is misspelt or this machine lacks it."""
    import torch

    text = str(name)
    problem = device_problem(text)
    if problem is not None:
        raise DeviceError(problem)
    return torch.device(text)
