"""Live classification speed: a 512x424 16-bit IR recording played at 30 frames/s through `tools/live.py --realtime`.

Renders a synthetic scene (`semiology.synthetic.scene`: a patient on a tilted bed, the IR
track as 16-bit FFV1 at 30 frames/s), then runs, on the same file and the same bundle:

- live, `--realtime`: the file delivered at its frame rate like a camera; prints frames
  processed / offered (goal >= 0.95), dropped frames, and the decision latency after each
  window's end (p50, p95; goal p95 <= 1 s);
- live, as fast as it goes (no pacing): frames/s of the causal chain, the ratio to 30 frames/s;
- batch: `semiology.extract` over the whole file then `screen_record` (the batch path), its
  frames/s and how long after the file's end the decisions are ready.

The bundle is `--bundle DIR` (trained with `windows.baseline: causal`), or the small onset
detector of the live tests, trained here (about 30 s). Default extraction (MediaPipe pose on
the patient box, face mesh every 2nd frame, 32 px crops), one torch thread.

    .venv/bin/python benchmarks/live_latency.py --seconds 12
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from semiology.bundle import load_bundle  # noqa: E402
from semiology.cli import loso_eval  # noqa: E402
from semiology.extract.chain import FrameChain  # noqa: E402
from semiology.extract.config import ExtractionConfig  # noqa: E402
from semiology.extract.recording import build_record, run_chain  # noqa: E402
from semiology.io.manifest import ManifestRow  # noqa: E402
from semiology.io.video import open_video  # noqa: E402
from semiology.io.video_write import write_tracks_mkv  # noqa: E402
from semiology.live.onset import write_onset_cache  # noqa: E402
from semiology.live.session import causal_cleaning  # noqa: E402
from semiology.screen.predict import ScreeningError, screen_record  # noqa: E402
from semiology.synthetic import make_cohort  # noqa: E402
from semiology.synthetic.scene import SceneSpec, render_scene  # noqa: E402
from tests.live.conftest import COHORT, STUDY  # noqa: E402

FPS = 30.0


def train_bundle(folder: Path) -> Path:
    cache = write_onset_cache(make_cohort(COHORT), folder / "cache")
    config_file = folder / "study.yaml"
    config_file.write_text(yaml.safe_dump({**STUDY, "data": {"source": "cache", "cache_dir": str(cache)}}), encoding="utf-8")
    if loso_eval(["--config", str(config_file), "--out", str(folder / "report"), "--bundle", str(folder / "bundle"), "--no-progress"]) != 0:
        raise SystemExit("training the benchmark bundle failed")
    return folder / "bundle"


def run_live(bundle: Path, source: Path, out: Path, *options: str) -> dict:
    command = [sys.executable, str(REPO / "tools" / "live.py"), "--bundle", str(bundle), "--source", str(source), "--out", str(out), "--no-progress", *options]
    subprocess.run(command, cwd=REPO, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return json.loads(out.read_text(encoding="utf-8").splitlines()[-1])


def run_batch(bundle: Path, source: Path) -> tuple[float, int, int]:
    """Seconds to extract the whole file and screen it (the batch path), frames extracted, windows scored."""
    started = time.perf_counter()
    config = causal_cleaning(ExtractionConfig())
    row = ManifestRow("scene", "scene", {"ir": source}, None, math.nan, math.nan)
    chain = FrameChain(config)
    try:
        output, fps, _ = run_chain(chain, row, config, progress=False)
    finally:
        chain.close()
    record = build_record(row, output, fps, config, chain.sources)
    try:
        row_out = screen_record(load_bundle(bundle), record)
    except ScreeningError as error:  # nobody found in the whole file: extraction time stands, no window is scored
        print(f"  batch: {error}")
        return time.perf_counter() - started, len(output.body_px), 0
    windows = max(len(series["start_s"]) for series in row_out["timeline"].values())
    return time.perf_counter() - started, len(output.body_px), windows


def real_clip(clip: Path, folder: Path, frames: int) -> Path:
    """A real clip of a person as the same kind of recording: grey, upscaled to 512x424, 16-bit, 30 frames/s."""
    import cv2

    target = folder / f"{clip.stem}_ir16_{frames}.mkv"
    if not target.is_file():
        with open_video(clip) as video:
            images = [frame.image for _, frame in zip(range(frames), video, strict=False)]
        grey = [cv2.resize(image.mean(axis=2).astype(np.float32), (512, 424), interpolation=cv2.INTER_LINEAR) for image in images]
        write_tracks_mkv(target, {"ir": (np.stack(grey) * 256.0).astype(np.uint16)}, fps=FPS)
    return target


def measure(title: str, bundle: Path, source: Path, folder: Path, frames: int) -> None:
    """Run the live path (paced, paced on the grid only, unpaced) and the batch path on `source`; print the figures."""
    name = source.stem
    paced = run_live(bundle, source, folder / f"{name}_realtime.jsonl", "--realtime")
    grid = run_live(bundle, source, folder / f"{name}_realtime_grid.jsonl", "--realtime", "--grid-only")
    free = run_live(bundle, source, folder / f"{name}_unpaced.jsonl")
    batch_s, batch_frames, batch_windows = run_batch(bundle, source)
    scored = sum(1 for line in (folder / f"{name}_realtime.jsonl").read_text(encoding="utf-8").splitlines()
                 if '"decision"' in line and '"prob"' in line)
    free_fps = free["frames_processed"] / free["wall_s"]
    seconds = frames / FPS
    print(f"\n=== {title}: {frames} frames of 512x424 16-bit IR at {FPS:g} frames/s ({seconds:g} s) ===")
    for label, end in (("live --realtime", paced), ("live --realtime --grid-only (chain on the bundle's 10 frames/s grid)", grid)):
        handled = end["frames_processed"] + end.get("frames_passed_over", 0)
        print(f"{label}:")
        print(f"  frames processed / offered : {end['frames_processed']} / {end['frames_offered']} = {end['frames_processed'] / max(end['frames_offered'], 1):.3f}  (goal >= 0.95)")
        print(f"  processed or passed over by design / offered: {handled / max(end['frames_offered'], 1):.3f}; dropped frames: {end['frames_dropped']}")
        print(f"  decisions {end['decisions']}; latency after window end p50 {end['latency_p50_s']:.3f} s, p95 {end['latency_p95_s']:.3f} s  (goal p95 <= 1 s)")
    print(f"  (windows where the model ran, patient seen: {scored} of {paced['decisions']} in the --realtime run)")
    print("live, unpaced (every frame, as fast as it goes):")
    print(f"  {free_fps:.1f} frames/s = {free_fps / FPS:.2f} x real time; decisions {free['decisions']}, latency p95 {free['latency_p95_s']:.3f} s")
    print("batch (extract the whole file, then screen it):")
    print(f"  frames processed / offered : {batch_frames} / {frames} = {batch_frames / frames:.3f}; {batch_frames / batch_s:.1f} frames/s = "
          f"{batch_frames / batch_s / FPS:.2f} x real time; {batch_windows} windows, ready {batch_s - seconds:+.1f} s after the recording's end")
    print(f"  live unpaced / batch frames/s: {free_fps / (batch_frames / batch_s):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=12.0, help="length of the recordings (rendering costs about 0.1-0.4 s per frame)")
    parser.add_argument("--bundle", type=Path, default=None, help="a bundle trained with windows.baseline: causal (default: train the small onset detector)")
    parser.add_argument("--out", type=Path, default=None, help="working folder (default: a temporary one); rendered scenes there are reused")
    parser.add_argument("--clip", type=Path, default=REPO.parent / "shared" / "data" / "video" / "kinetics_tai_chi.mp4",
                        help="a real clip of a person, also played as 512x424 16-bit IR (skipped when absent)")
    args = parser.parse_args()
    folder = args.out or Path(tempfile.mkdtemp(prefix="live_latency_"))
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    bundle = args.bundle or train_bundle(folder / "train")
    print(f"bundle: {bundle} ({time.perf_counter() - started:.0f} s)")
    frames = int(round(args.seconds * FPS))
    started = time.perf_counter()
    source = folder / f"scene_{frames}.mkv"
    if not source.is_file():
        scene = render_scene(SceneSpec(n_frames=frames, start_s=0.0, clinician_share=0.0, seed=0))
        write_tracks_mkv(source, {"ir": scene.ir}, fps=FPS, intrinsics=scene.intrinsics)
    print(f"scene: {source} ({time.perf_counter() - started:.0f} s to render or reuse)")
    measure("synthetic scene (semiology.synthetic.scene)", bundle, source, folder, frames)
    if args.clip.is_file():
        clip = real_clip(args.clip, folder, frames)
        with open_video(clip) as video:
            clip_frames = sum(1 for _ in video)
        measure(f"real clip {args.clip.name} as IR", bundle, clip, folder, clip_frames)
    print(f"\nmachine: {os.cpu_count()} cores, shared with other work while measured (load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
