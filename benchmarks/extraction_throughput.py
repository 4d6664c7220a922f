"""Frames per second of the whole extraction chain on 512x424 16-bit IR, beside a bare MediaPipe Pose loop.

Run `.venv/bin/python benchmarks/extraction_throughput.py [--frames N] [--repeats R]`. The frames
are a real clip (`kinetics_tai_chi.mp4`, one person) resized to the Kinect v2 IR size, made grey
and scaled to 16 bits like IR counts; they are decoded once, before timing, so neither side pays
for decoding. The bare loop is MediaPipe Pose (`model_complexity=1`, video mode) fed with the
8-bit grey frames repeated on three channels: the least any pose extraction must do. The chain
is `FrameChain` + `build_record` as the extraction tool runs them: 16-bit → 8-bit lookup, following
the patient (tracked search box, identity checks, view-change check, presence checks with a fresh
detection), pose, head-crop face mesh, smoothed body and face crops, cleaning, layout mapping and
frozen small-CNN features (random weights: the same arithmetic as the pretrained encoder). Two
chain variants are timed: the default (with face landmarks, whose mesh runs on a second thread
beside the next frame's pose) and body only. Runs alternate bare and chain so that load from
other processes hits both alike. The frames/s are medians over the repeats; the overhead is the
median of the paired ratios (each chain run against the bare run just before it), which a load
that drifts during the benchmark moves less than a ratio of medians.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from semiology.camera import KINECT_V2_DEPTH
from semiology.config import config_from_dict
from semiology.extract.chain import FrameChain
from semiology.extract.config import ExtractionConfig
from semiology.extract.recording import IrScaler, build_record
from semiology.io.manifest import ManifestRow
from semiology.io.video import open_video
from semiology.models.encoder import SmallCNNEncoder, freeze

CLIP = Path(__file__).resolve().parents[2] / "shared" / "data" / "video" / "kinetics_tai_chi.mp4"
FPS = 30.0


def ir_frames(count: int) -> list[np.ndarray]:
    """`count` 512x424 uint16 IR-like frames from the real clip (looped if it is shorter)."""
    with open_video(CLIP) as reader:
        grey = [cv2.cvtColor(frame.image, cv2.COLOR_RGB2GRAY) for frame in reader]
    size = (KINECT_V2_DEPTH.width, KINECT_V2_DEPTH.height)
    return [(cv2.resize(grey[k % len(grey)], size).astype(np.uint16) * 40 + 300) for k in range(count)]


def bare_loop(frames: list[np.ndarray]) -> float:
    """Seconds for MediaPipe Pose alone over the frames (8-bit grey repeated on 3 channels)."""
    from mediapipe.python.solutions import pose

    eight_bit = [(frame // 40).astype(np.uint8) for frame in frames]
    with pose.Pose(static_image_mode=False, model_complexity=1, min_detection_confidence=0.3, min_tracking_confidence=0.3) as graph:
        started = time.perf_counter()
        for frame in eight_bit:
            graph.process(cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB))
        return time.perf_counter() - started


def chain_run(frames: list[np.ndarray], chain: FrameChain, config: ExtractionConfig, encoders: dict) -> tuple[float, float]:
    """Seconds for the whole chain over the frames, and the share of frames with a person."""
    row = ManifestRow("bench", "bench", {}, FPS, 0.0, 1.0)
    started = time.perf_counter()
    chain.start((KINECT_V2_DEPTH.width, KINECT_V2_DEPTH.height), fps=FPS)
    scale = IrScaler(config.ir_low_pct, config.ir_high_pct)
    for frame in frames:
        chain.process(scale(frame))
    output = chain.finish()
    record = build_record(row, output, FPS, config, chain.sources, encoders=encoders)
    elapsed = time.perf_counter() - started
    return elapsed, float((record.body_2d.confidence > 0).any(axis=1).mean())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if not CLIP.is_file():
        print(f"benchmark clip not found: {CLIP}")
        return 1
    frames = ir_frames(args.frames)
    variants = {
        "chain (body+face+crops+features)": config_from_dict({}, ExtractionConfig),
        "chain (body+crops+features)": config_from_dict({"face": {"enabled": False}}, ExtractionConfig),
    }
    encoders = {"body": freeze(SmallCNNEncoder()), "face": freeze(SmallCNNEncoder())}
    chains = {name: FrameChain(config) for name, config in variants.items()}
    bare_times: list[float] = []
    chain_times: dict[str, list[float]] = {name: [] for name in variants}
    ratios: dict[str, list[float]] = {name: [] for name in variants}
    found: dict[str, float] = {}
    for _ in range(args.repeats):
        for name, config in variants.items():
            bare_times.append(bare_loop(frames))
            elapsed, found[name] = chain_run(frames, chains[name], config, encoders)
            chain_times[name].append(elapsed)
            ratios[name].append(elapsed / bare_times[-1])
    bare = statistics.median(bare_times)
    print(f"{len(frames)} frames of 512x424 16-bit IR (a real clip resized), torch threads 1, {args.repeats} alternating runs")
    print(f"{'':36s} {'frames/s':>9s} {'overhead':>9s} {'(each pair)':>36s} {'person found':>13s}")
    print(f"{'bare MediaPipe Pose loop':36s} {len(frames) / bare:9.1f}")
    for name in variants:
        seconds = statistics.median(chain_times[name])
        pairs = " ".join(f"{100 * (ratio - 1):+.0f}" for ratio in ratios[name])
        print(f"{name:36s} {len(frames) / seconds:9.1f} {100 * (statistics.median(ratios[name]) - 1):8.1f}% {pairs:>36s} {100 * found[name]:12.1f}%")
    for chain in chains.values():
        chain.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
