"""I3D feature-extraction throughput: the fast path against the reference formulation, same process.

Reference: `I3D.features`, pytorch-i3d's `InceptionI3d` layer for layer (separate batch norms,
SAME padding by `F.pad`, torch's max pool), in eval mode under `torch.inference_mode` (what
its `extract_features.py` does with `volatile=True`), and once more with autograd on (the
plain eager path of a script that forgets `no_grad`). Fast: `fast_extractor` (batch norm
folded into the convolutions, the 1x1 branch convolutions of every Inception block merged,
every convolution on oneDNN and the max pools as separable strided maxima on CPU) with and
without channels_last_3d. Random weights with non-trivial batch-norm statistics, batch 1, at
64x224x224 and 60x112x112 (the demo's crops). The variants alternate in every round; the
median of the rounds is reported with clips/s, the speed-up over each reference, the largest
feature difference, and achieved GFLOP/s against this machine's float32 matrix-multiply peak
measured in the same run.

    .venv/bin/python benchmarks/i3d_throughput.py [--threads N] [--repeats 3] [--device cpu|cuda] [--sizes 224,112]

Exit status 1 when a fast variant's features differ from the reference by more than 1e-5.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence

import torch
from torch.utils.flop_counter import FlopCounterMode

from semiology.models.i3d import I3D, extract_features, fast_extractor

FRAMES_BY_SIZE = {224: 64, 112: 60}
TOLERANCE = 1e-5


def synchronise(device: torch.device) -> None:
    """Wait for queued CUDA work, so that wall times cover it; nothing on CPU."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_peak_gflops(device: torch.device, size: int = 2048, seconds: float = 2.0) -> float:
    """Best float32 GFLOP/s of `size` x `size` matrix products over about `seconds` (at least five products)."""
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    best = 0.0
    with torch.inference_mode():
        torch.mm(a, b)
        deadline, count = time.perf_counter() + seconds, 0
        while count < 5 or time.perf_counter() < deadline:
            count += 1
            synchronise(device)
            start = time.perf_counter()
            torch.mm(a, b)
            synchronise(device)
            best = max(best, 2 * size**3 / (time.perf_counter() - start) / 1e9)
    return best


def clip_flops(model: I3D, clip: torch.Tensor) -> float:
    """Floating-point operations of one feature extraction (convolutions and products)."""
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        model.features(clip)
    return float(counter.get_total_flops())


def alternating_medians(runs: Sequence[Callable[[], torch.Tensor]], repeats: int, device: torch.device) -> list[float]:
    """Median seconds of each run over `repeats` rounds (after one warm-up round), runs alternating in each round."""
    for run in runs:
        run()
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(repeats):
        for run, record in zip(runs, times, strict=True):
            synchronise(device)
            start = time.perf_counter()
            run()
            synchronise(device)
            record.append(time.perf_counter() - start)
    return [statistics.median(record) for record in times]


def random_model(device: torch.device) -> I3D:
    """An I3D in eval mode with seeded random weights and batch norms away from their initial statistics."""
    torch.manual_seed(0)
    model = I3D().eval()
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm3d):
            module.running_mean.normal_(0, 0.1)
            module.running_var.uniform_(0.5, 2.0)
    return model.to(device)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table for each size; 1 when a fast variant's features leave the tolerance."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--sizes", default="224,112", help="comma-separated input sizes among 224 and 112")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print(f"--device {args.device}: CUDA is not available in this torch build or machine", file=sys.stderr)
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    model = random_model(device)
    extractors = {"fast": fast_extractor(model, channels_last=False), "fast + channels_last_3d (default)": fast_extractor(model)}
    peak = matmul_peak_gflops(device)
    print(f"device {device}, {torch.get_num_threads()} threads; measured float32 matmul peak {peak:.1f} GFLOP/s; median of {args.repeats} alternating rounds")
    failed = False
    for size in (int(text) for text in args.sizes.split(",")):
        frames = FRAMES_BY_SIZE[size]
        clip = (torch.rand(1, 3, frames, size, size, generator=torch.Generator().manual_seed(size)) * 2 - 1).to(device)
        flops = clip_flops(model, clip)

        def with_autograd(clip: torch.Tensor = clip) -> torch.Tensor:
            return model.features(clip)

        runs: dict[str, Callable[[], torch.Tensor]] = {
            "reference, inference_mode": lambda clip=clip: extract_features(model, clip),
            "reference, autograd on": with_autograd,
        }
        runs.update({name: (lambda e=e, clip=clip: extract_features(e, clip)) for name, e in extractors.items()})
        seconds = dict(zip(runs, alternating_medians(list(runs.values()), args.repeats, device), strict=True))
        reference = extract_features(model, clip)
        peak = max(peak, matmul_peak_gflops(device))
        print(f"\n{frames}x{size}x{size}: {flops / 1e9:.1f} GFLOP per clip; matmul peak so far {peak:.1f} GFLOP/s (best of before and after)")
        for name, run in runs.items():
            rate = flops / seconds[name] / 1e9
            line = f"  {name:34s}{1 / seconds[name]:7.3f} clips/s {rate:7.1f} GFLOP/s ({rate / peak:4.0%} of peak)"
            if name.startswith("fast"):
                difference = float((run().detach() - reference).abs().max())
                failed |= difference > TOLERANCE
                line += (
                    f"  x{seconds['reference, inference_mode'] / seconds[name]:.2f} reference,"
                    f" x{seconds['reference, autograd on'] / seconds[name]:.2f} autograd-on;"
                    f" max |diff| {difference:.1e} ({'ok' if difference <= TOLERANCE else 'ABOVE 1e-5'})"
                )
            print(line, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
