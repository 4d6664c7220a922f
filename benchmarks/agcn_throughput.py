"""Throughput of the 2s-AGCN stream: the fused formulation against the per-subset loop of the paper.

Run `.venv/bin/python benchmarks/agcn_throughput.py [--quick]`. For each input shape both models
(paper widths, the same weights, the same process) are timed for inference (eval mode under
`torch.inference_mode`) and for a training step (forward, backward, SGD step). Calls of the two
models alternate so that load from other processes on the shared cores hits both alike, and the
median of the timed repeats is reported. The fused model is also timed with batch tiling off, so
the table separates what the formulation gains from what tiling the batch gains.

Exit status 1 when the fused and loop logits differ by more than `1e-5` relative to the logit
scale (`max |diff| <= 1e-5 * max(1, max |logit|)`): logits of a randomly initialised network
reach tens, where one float32 ulp is already a few 1e-6.
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

SHAPES: tuple[tuple[int, int, int, int, int], ...] = ((64, 3, 60, 11, 1), (16, 3, 300, 25, 2))
LAYOUT_BY_JOINTS = {11: "upper_body_11", 25: "ntu_25"}
NUM_CLASS = 10
RELATIVE_TOLERANCE = 1e-5


@dataclass(frozen=True)
class Row:
    """One line of the table: samples per second of each variant and how far the logits differ."""

    shape: tuple[int, ...]
    mode: str
    fused: float
    loop: float
    fused_untiled: float | None
    max_abs_diff: float | None
    logit_scale: float | None


def median_seconds(calls: Sequence[Callable[[], object]], warmup: int, repeats: int) -> list[float]:
    """Median wall time of each call, calls interleaved in every round so shared-core load hits all alike."""
    for _ in range(warmup):
        for call in calls:
            call()
    times: list[list[float]] = [[] for _ in calls]
    for _ in range(repeats):
        for call, record in zip(calls, times, strict=True):
            start = time.perf_counter()
            call()
            record.append(time.perf_counter() - start)
    return [statistics.median(record) for record in times]


def benchmark_shape(shape: tuple[int, int, int, int, int], warmup: int, repeats: int) -> list[Row]:
    """Inference and training rows for one input shape `[N, C, T, V, M]`."""
    batch, _, _, joints, persons = shape
    torch.manual_seed(0)
    adjacency = get_layout(LAYOUT_BY_JOINTS[joints]).adjacency()
    fused = AGCN(NUM_CLASS, adjacency, num_person=persons, fused=True)
    loop = AGCN(NUM_CLASS, adjacency, num_person=persons, fused=False)
    loop.load_state_dict(fused.state_dict())
    untiled = copy.deepcopy(fused)
    untiled.inference_tile_bytes = 0
    x = torch.randn(shape)
    labels = torch.randint(0, NUM_CLASS, (batch,))

    for model in (fused, loop, untiled):
        model.eval()
    with torch.inference_mode():
        reference = loop(x)
        max_abs_diff = max((fused(x) - reference).abs().max().item(), (untiled(x) - reference).abs().max().item())
        logit_scale = reference.abs().max().item()

        def infer(model: AGCN) -> Callable[[], object]:
            return lambda: model(x)

        seconds = median_seconds([infer(fused), infer(loop), infer(untiled)], warmup, repeats)
    rows = [
        Row(shape, "inference", batch / seconds[0], batch / seconds[1], batch / seconds[2], max_abs_diff, logit_scale)
    ]

    def train_step(model: AGCN) -> Callable[[], object]:
        model.train()
        optimiser = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

        def step() -> float:
            optimiser.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), labels)
            loss.backward()
            optimiser.step()
            return loss.item()

        return step

    seconds = median_seconds([train_step(fused), train_step(loop)], warmup, repeats)
    rows.append(Row(shape, "training", batch / seconds[0], batch / seconds[1], None, None, None))
    return rows


def format_table(rows: Sequence[Row]) -> str:
    """The rows as a fixed-width text table."""
    header = (
        f"{'input [N, C, T, V, M]':<22} {'mode':<10} {'fused s/s':>10} {'loop s/s':>10} {'fused/loop':>10}"
        f" {'untiled s/s':>11} {'untiled/loop':>12} {'max|diff|':>10} {'max|logit|':>10}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        untiled = f"{row.fused_untiled:>11.2f} {row.fused_untiled / row.loop:>12.2f}" if row.fused_untiled else " " * 24
        diff = f"{row.max_abs_diff:>10.1e} {row.logit_scale:>10.1f}" if row.max_abs_diff is not None else ""
        lines.append(
            f"{str(list(row.shape)):<22} {row.mode:<10} {row.fused:>10.2f} {row.loop:>10.2f}"
            f" {row.fused / row.loop:>10.2f} {untiled} {diff}".rstrip()
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the table, and return 1 when fused and loop logits disagree."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one warm-up and three timed repeats")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    warmup, repeats = (1, 3) if args.quick else (2, 7)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, warm-up {warmup}, median of {repeats}")
    rows: list[Row] = []
    for shape in SHAPES:
        print(f"measuring {list(shape)} ...", file=sys.stderr, flush=True)
        rows.extend(benchmark_shape(shape, warmup, repeats))
        print(format_table(rows[-2:]), file=sys.stderr, flush=True)
    print(format_table(rows))
    failures = [
        row
        for row in rows
        if row.max_abs_diff is not None
        and row.logit_scale is not None
        and row.max_abs_diff > RELATIVE_TOLERANCE * max(1.0, row.logit_scale)
    ]
    for row in failures:
        print(f"FAIL {list(row.shape)}: fused and loop logits differ by {row.max_abs_diff:.2e}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
