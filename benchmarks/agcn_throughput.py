"""Throughput of the 2s-AGCN stream: the fused formulations against the per-subset loop of the paper.

Run `.venv/bin/python benchmarks/agcn_throughput.py [--quick] [--threads N] [--device cpu|cuda]`.
For each input shape the models (the same weights, the same process) are timed for inference
(eval mode under `torch.inference_mode`) and for a training step (forward, backward, SGD step):
the loop (`fused=False`, the reference formulation of 2s-AGCN's `model/agcn.py`), the fused
formulation as the demo trains it, and the fused formulation with channels-last temporal
convolutions. Calls of the models alternate in every round so that load from other processes
on shared cores hits all alike, and the median of the timed rounds is reported with the ratio
to the loop.

Before timing, each fused variant is checked against the loop on the same weights and batch:
logits in eval and in train mode (float32), and the gradient of every parameter after one
backward of the cross-entropy, in float64 on the first two samples (see `equality`; the
float32 gradient difference is printed beside it). Exit status 1 when any checked difference
exceeds `1e-5` relative to the scale of what is compared (`max |diff| <= 1e-5 * max(1, max
|reference|)`, for gradients the largest reference gradient of any parameter): logits of a
randomly initialised network reach tens, where one float32 ulp is already a few 1e-6, and
the gradients of biases before a train-mode batch norm are zero up to rounding.

On a loaded machine prefer `--threads 1`: with more threads than free cores every parallel
region waits for a descheduled thread and the timings measure the scheduler, not the model.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from semiology.layouts import get_layout
from semiology.models.agcn import AGCN

SHAPES: tuple[tuple[int, int, int, int, int], ...] = ((32, 3, 60, 11, 1), (8, 3, 300, 25, 2))
"""The demo's AGCN batch (upper body, 2 s at 30 fps) and the issue's NTU training batch."""
DEMO_WIDTHS = {"channels": (16, 32, 32), "strides": (2, 1, 1)}
LAYOUT_BY_JOINTS = {11: "upper_body_11", 25: "ntu_25"}
NUM_CLASS = 10
RELATIVE_TOLERANCE = 1e-5
VARIANTS = ("loop", "fused", "fused+cl")


@dataclass(frozen=True)
class Row:
    """One line of the table: samples per second of each variant and the largest relative difference to the loop."""

    shape: tuple[int, ...]
    mode: str
    per_second: dict[str, float]
    worst_relative_diff: float
    float32_gradient_diff: float


def median_seconds(calls: Sequence[Callable[[], object]], warmup: int, repeats: int, sync: Callable[[], None]) -> list[float]:
    """Median wall time of each call, calls interleaved in every round so shared-core load hits all alike."""
    for _ in range(warmup):
        for call in calls:
            call()
    sync()
    times: list[list[float]] = [[] for _ in calls]
    for _ in range(repeats):
        for call, record in zip(calls, times, strict=True):
            start = time.perf_counter()
            call()
            sync()
            record.append(time.perf_counter() - start)
    return [statistics.median(record) for record in times]


def relative_diff(found: torch.Tensor, reference: torch.Tensor) -> float:
    """`max |found - reference| / max(1, max |reference|)`."""
    return float((found - reference).abs().max()) / max(1.0, float(reference.abs().max()))


def build_models(shape: tuple[int, int, int, int, int], device: torch.device) -> dict[str, AGCN]:
    """The three variants with the same (seeded) weights, on `device`; demo widths for the 11-joint shape."""
    joints, persons = shape[3], shape[4]
    torch.manual_seed(0)
    widths = DEMO_WIDTHS if joints == 11 else {}
    loop = AGCN(NUM_CLASS, get_layout(LAYOUT_BY_JOINTS[joints]).adjacency(), num_person=persons, fused=False, **widths)
    fused, fused_cl = copy.deepcopy(loop), copy.deepcopy(loop)
    fused.fused = True
    fused_cl.fused, fused_cl.channels_last = True, True
    return {name: model.to(device) for name, model in zip(VARIANTS, (loop, fused, fused_cl), strict=True)}


def _train_outputs(models: dict[str, AGCN], x: torch.Tensor, labels: torch.Tensor) -> dict[str, tuple[torch.Tensor, list[torch.Tensor]]]:
    """Each variant's train-mode logits and parameter gradients of the cross-entropy, on copies (the timed models stay untouched)."""
    outputs: dict[str, tuple[torch.Tensor, list[torch.Tensor]]] = {}
    for name, model in models.items():
        probe = copy.deepcopy(model).to(x.dtype).train()
        logits = probe(x)
        gradients = torch.autograd.grad(F.cross_entropy(logits, labels), list(probe.parameters()))
        outputs[name] = (logits.detach(), [g.detach() for g in gradients])
    return outputs


def _gradient_diff(outputs: dict[str, tuple[torch.Tensor, list[torch.Tensor]]], name: str) -> float:
    """Largest gradient difference of `name` to the loop, relative to max(1, the loop's largest gradient)."""
    reference = outputs["loop"][1]
    scale = max(1.0, max(float(g.abs().max()) for g in reference))
    return max(float((found - expected).abs().max()) for found, expected in zip(outputs[name][1], reference, strict=True)) / scale


def equality(models: dict[str, AGCN], x: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    """The checked difference of the fused variants to the loop, and the float32 gradient difference (for information).

    Checked: eval and train logits in float32, and parameter gradients in float64 on the
    first two samples. Gradients are compared in float64 because train-mode batch norm (with
    the reference's 1e-6 initial scale in every graph unit) amplifies float32 rounding of
    two correct orders of summation to ~1e-3 of the largest gradient at NTU widths, where a
    real difference in the maths would show at any precision.
    """
    worst = 0.0
    with torch.inference_mode():
        reference = models["loop"].eval()(x)
        for name in VARIANTS[1:]:
            worst = max(worst, relative_diff(models[name].eval()(x), reference))
    single = _train_outputs(models, x, labels)
    double = _train_outputs(models, x[:2].double(), labels[:2])
    float32_gradients = 0.0
    for name in VARIANTS[1:]:
        worst = max(worst, relative_diff(single[name][0], single["loop"][0]), _gradient_diff(double, name))
        float32_gradients = max(float32_gradients, _gradient_diff(single, name))
    return worst, float32_gradients


def benchmark_shape(shape: tuple[int, int, int, int, int], warmup: int, repeats: int, device: torch.device) -> list[Row]:
    """Inference and training rows for one input shape `[N, C, T, V, M]`."""
    models = build_models(shape, device)
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(shape, generator=generator).to(device)
    labels = torch.randint(0, NUM_CLASS, (shape[0],), generator=generator).to(device)
    worst, float32_gradients = equality(models, x, labels)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    for model in models.values():
        model.eval()
    with torch.inference_mode():
        seconds = median_seconds([lambda m=m: m(x) for m in models.values()], warmup, repeats, sync)
    rows = [Row(shape, "inference", {n: shape[0] / s for n, s in zip(VARIANTS, seconds, strict=True)}, worst, float32_gradients)]

    def train_step(model: AGCN) -> Callable[[], object]:
        model.train()
        optimiser = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

        def step() -> None:
            optimiser.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), labels).backward()
            optimiser.step()

        return step

    seconds = median_seconds([train_step(m) for m in models.values()], warmup, repeats, sync)
    rows.append(Row(shape, "training", {n: shape[0] / s for n, s in zip(VARIANTS, seconds, strict=True)}, worst, float32_gradients))
    return rows


def format_table(rows: Sequence[Row]) -> str:
    """The rows as a fixed-width text table: samples/s per variant, ratios to the loop, worst relative difference."""
    header = (
        f"{'input [N, C, T, V, M]':<22} {'mode':<10}"
        + "".join(f" {name + ' s/s':>12}" for name in VARIANTS)
        + "".join(f" {name + '/loop':>14}" for name in VARIANTS[1:])
        + f" {'max rel diff':>12} {'f32 grad diff':>13}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        rates = "".join(f" {row.per_second[name]:>12.2f}" for name in VARIANTS)
        ratios = "".join(f" {row.per_second[name] / row.per_second['loop']:>14.2f}" for name in VARIANTS[1:])
        lines.append(f"{str(list(row.shape)):<22} {row.mode:<10}{rates}{ratios} {row.worst_relative_diff:>12.1e} {row.float32_gradient_diff:>13.1e}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the table, and return 1 when a fused variant and the loop disagree."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one warm-up and three timed rounds (default: 2 and 5)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--shapes", default=None, help="semicolon-separated N,C,T,V,M shapes (default: the demo's and NTU's)")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print(f"--device {args.device}: CUDA is not available in this torch build or machine", file=sys.stderr)
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    shapes = SHAPES
    if args.shapes:
        shapes = tuple(tuple(int(n) for n in text.split(",")) for text in args.shapes.split(";"))  # type: ignore[misc]
    warmup, repeats = (1, 3) if args.quick else (2, 5)
    print(f"torch {torch.__version__}, device {device}, {torch.get_num_threads()} threads, warm-up {warmup}, median of {repeats} alternating rounds")
    rows: list[Row] = []
    for shape in shapes:
        print(f"measuring {list(shape)} ...", file=sys.stderr, flush=True)
        rows.extend(benchmark_shape(shape, warmup, repeats, device))
    print(format_table(rows))
    failures = [row for row in rows if row.worst_relative_diff > RELATIVE_TOLERANCE]
    for row in failures:
        print(f"FAIL {list(row.shape)}: fused and loop differ by {row.worst_relative_diff:.2e} (relative)", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
