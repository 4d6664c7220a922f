"""The model speed figures on whatever device this machine has: AGCN and I3D, each against its reference.

Picks CUDA when torch sees a GPU (or the device given with `--device`), else the CPU, prints
what it found, then runs `agcn_throughput.py` (fused formulations against the per-subset loop
of 2s-AGCN, inference and a training step, with the forward and gradient equality checks)
and `i3d_throughput.py` (the fast feature extractor against pytorch-i3d's formulation, with the
matrix-multiply peak measured on the same device) with that device, in this process. Exit
status: the worst of the two (1 when an equality check failed, 2 when the device is missing).

    .venv/bin/python benchmarks/device_suite.py [--device cuda] [--threads N] [--quick]
"""

from __future__ import annotations

import argparse
import platform
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import agcn_throughput  # noqa: E402  (a sibling script, importable once its folder is on the path)
import i3d_throughput  # noqa: E402


def found_device(requested: str | None) -> torch.device:
    """The requested device, or CUDA when available, else the CPU."""
    if requested:
        return torch.device(requested)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def describe(device: torch.device) -> str:
    """One line naming the device: the GPU's name and memory, or the CPU and its thread count."""
    if device.type == "cuda" and torch.cuda.is_available():
        properties = torch.cuda.get_device_properties(device)
        return f"cuda: {properties.name}, {properties.total_memory / 2**30:.0f} GiB, torch {torch.__version__}, CUDA {torch.version.cuda}"
    return f"cpu: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run both benchmarks on one device; return the worst exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: cuda when available, else cpu)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads on the CPU (default: torch's choice)")
    parser.add_argument("--quick", action="store_true", help="fewer rounds, and I3D at 112 px only")
    args = parser.parse_args(argv)
    device = found_device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print(f"--device {device}: CUDA is not available in this torch build or machine", file=sys.stderr)
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    print(describe(device), flush=True)
    common = ["--device", str(device)] + (["--threads", str(args.threads)] if args.threads else [])
    print("\n== AGCN: fused formulations against the reference loop ==", flush=True)
    agcn_status = agcn_throughput.main(common + (["--quick"] if args.quick else []))
    print("\n== I3D: fast extractor against the reference formulation ==", flush=True)
    i3d_status = i3d_throughput.main(common + (["--sizes", "112", "--repeats", "2"] if args.quick else []))
    return max(agcn_status, i3d_status)


if __name__ == "__main__":
    sys.exit(main())
