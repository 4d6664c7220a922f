"""I3D feature-extraction throughput on CPU: the fast path against a plain eager run, same process.

Baseline: `I3D.features` in eval mode with autograd on (no `inference_mode`), batch norm as
separate layers. Fast: `fast_extractor` (batch norm folded into the convolutions, the 1x1
branch convolutions of every Inception block merged) under `torch.inference_mode`, with and
without channels_last_3d. Random weights, batch 1, at 64x224x224 and 60x112x112. Prints clips/s,
the speed-up, the largest feature difference, and achieved GFLOP/s against this machine's
float32 matrix-multiply peak measured here.

    .venv/bin/python benchmarks/i3d_throughput.py [--threads 2] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from semiology.models.i3d import I3D, extract_features, fast_extractor


def matmul_peak_gflops(size: int = 1024, seconds: float = 2.0) -> float:
    """Best float32 GFLOP/s of `size` x `size` matrix products over about `seconds`."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    best = 0.0
    deadline = time.perf_counter() + seconds
    with torch.inference_mode():
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            torch.mm(a, b)
            best = max(best, 2 * size**3 / (time.perf_counter() - start) / 1e9)
    return best


def clip_flops(model: I3D, clip: torch.Tensor) -> float:
    """Floating-point operations of one feature extraction (convolutions and products)."""
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        model.features(clip)
    return float(counter.get_total_flops())


def seconds_per_clip(run, clip: torch.Tensor, repeats: int) -> tuple[float, torch.Tensor]:
    """Best wall time of `repeats` runs after one warm-up, and the output."""
    output = run(clip)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        output = run(clip)
        best = min(best, time.perf_counter() - start)
    return best, output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = I3D().eval()
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm3d):
            module.running_mean.normal_(0, 0.1)
            module.running_var.uniform_(0.5, 2.0)
    fast = fast_extractor(model, channels_last=False)
    fast_cl = fast_extractor(model, channels_last=True)
    peak = matmul_peak_gflops()
    print(f"threads {args.threads}; measured float32 matmul peak {peak:.1f} GFLOP/s")

    def eager(clip: torch.Tensor) -> torch.Tensor:
        return model.features(clip).detach()

    for frames, size in ((64, 224), (60, 112)):
        clip = torch.rand(1, 3, frames, size, size) * 2 - 1
        flops = clip_flops(model, clip)
        base_s, base_out = seconds_per_clip(eager, clip, args.repeats)
        print(f"\n{frames}x{size}x{size}: {flops / 1e9:.1f} GFLOP per clip")
        print(f"  eager, autograd on, BN separate   {1 / base_s:7.3f} clips/s  {flops / base_s / 1e9:6.1f} GFLOP/s ({flops / base_s / 1e9 / peak:.0%} of peak)")
        for name, extractor in (("fast (folded, merged, inference)", fast), ("fast + channels_last_3d (default)", fast_cl)):
            fast_s, fast_out = seconds_per_clip(lambda c: extract_features(extractor, c), clip, args.repeats)
            difference = float((fast_out - base_out).abs().max())
            print(
                f"  {name:33s}{1 / fast_s:7.3f} clips/s  {flops / fast_s / 1e9:6.1f} GFLOP/s ({flops / fast_s / 1e9 / peak:.0%} of peak)"
                f"  speed-up {base_s / fast_s:.2f}x  max |diff| {difference:.1e} ({'ok' if difference <= 1e-4 else 'ABOVE 1e-4'})"
            )


if __name__ == "__main__":
    main()
