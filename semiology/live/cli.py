"""`tools/live.py`: parse arguments, run a live session until the source ends or Ctrl-C, report.

Exit status: 0 when the source ended or was stopped (Ctrl-C), 1 when the source failed
(unreachable stream, camera gone, file damaged part-way), 2 on a bad bundle, config or
argument. The output always ends with an `end` line saying why and what was processed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from semiology.errors import SemiologyError
from semiology.live.output import JsonLines
from semiology.live.proposals import LiveProposals
from semiology.live.session import LiveSession, check_live_bundle
from semiology.live.source import STREAM_TIMEOUT_S, Feeder, LiveSourceError, open_source, output_label
from semiology.store.errors import StoreError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="live.py", description="Classify a running recording window by window with a model bundle; "
                                     "one JSON line per decision and alarm (stdout or --out).")
    parser.add_argument("--bundle", type=Path, required=True, help="model bundle folder, trained with windows.baseline: causal")
    parser.add_argument("--source", required=True, help="camera device index (0), stream URL (rtsp://..., http://...) or video file")
    parser.add_argument("--realtime", action="store_true", help="play a file at its own frame rate, as a camera would deliver it (frames are dropped when processing falls behind)")
    parser.add_argument("--out", type=Path, default=None, help="write the JSON lines to this file instead of stdout")
    parser.add_argument("--config", type=Path, default=None, help="extraction YAML (default: the built-in defaults); cleaning is applied causally")
    parser.add_argument("--fps", type=float, default=None, help="frame rate of a source that declares none")
    parser.add_argument("--stream-timeout", type=float, default=STREAM_TIMEOUT_S, metavar="SECONDS",
                        help=f"how long a network stream may stay silent, opening or between frames, before it counts as gone (default {STREAM_TIMEOUT_S:g})")
    parser.add_argument("--hop", type=float, default=None, help="seconds between window starts (default: the bundle's windows.stride_s)")
    parser.add_argument("--k", type=int, default=2, help="alarm when k of the last n windows are above threshold (default 2)")
    parser.add_argument("--n", type=int, default=3, help="see --k (default 3)")
    parser.add_argument("--threshold", type=float, default=None, help="probability threshold of the positive class (default: each model's bundled threshold)")
    parser.add_argument("--device", default="cpu", help="where the bundle's models run: cpu, cuda or cuda:N (default cpu; the extraction chain stays on the CPU)")
    parser.add_argument("--grid-only", action="store_true", help="run the extraction only on the frames the bundle reads (its target_fps): a third of the work at 30 frames/s")
    parser.add_argument("--max-seconds", type=float, default=None, help="stop after this much source time")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar (frames/s, dropped frames, latency)")
    parser.add_argument("--db", default=None, help="label store (SQLite path or database URL): each alarm episode becomes a model proposal there as it ends")
    parser.add_argument("--seizure-id", default=None, help="with --db: the store's id of the recording this source is (registered beforehand)")
    return parser


def live(argv: Sequence[str] | None = None) -> int:
    """Run `tools/live.py`; see the module docstring for the exit status."""
    args = _parser().parse_args(argv)
    from semiology.bundle import load_bundle
    from semiology.extract.config import load_extraction_config
    from semiology.screen.predict import AlarmPolicy

    try:
        if not args.stream_timeout > 0:
            raise SemiologyError(f"--stream-timeout must be a positive number of seconds, got {args.stream_timeout}")
        if (args.db is None) != (args.seizure_id is None):
            raise SemiologyError("--db and --seizure-id go together: proposals are written for one recording the store knows")
        bundle = load_bundle(args.bundle, args.device)
        check_live_bundle(bundle)
        policy = AlarmPolicy(args.k, args.n, args.threshold)
        extraction = load_extraction_config(args.config)
        proposals = None if args.db is None else LiveProposals(args.db, args.seizure_id, bundle)
        writer = JsonLines(args.out)
    except SemiologyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        source = open_source(args.source, args.fps, args.realtime, args.stream_timeout)
    except LiveSourceError as error:
        writer.write({"type": "end", "source": output_label(args.source), "reason": str(error), "failed": True, "frames_offered": 0, "frames_processed": 0,
                      "frames_dropped": 0, "decisions": 0, "alarms": 0})
        writer.close()
        print(f"error: {error}", file=sys.stderr)
        return 1
    torch.set_num_threads(1)
    try:
        session = LiveSession(bundle, extraction, source.fps, policy, args.hop, grid_only=args.grid_only)
    except SemiologyError as error:
        source.close()
        writer.write({"type": "end", "source": output_label(args.source), "reason": str(error), "failed": True, "frames_offered": 0, "frames_processed": 0,
                      "frames_dropped": 0, "decisions": 0, "alarms": 0})
        writer.close()
        print(f"error: {error}", file=sys.stderr)
        return 2
    writer.write({"type": "start", "source": output_label(args.source), "fps": source.fps, "realtime": bool(args.realtime), "paced": source.paced,
                  "bundle": str(args.bundle), "baseline": bundle.config.windows.baseline, "history_s": bundle.config.windows.baseline_history_s,
                  "window_s": session.scorer.window_s, "hop_s": session.scorer.hop_frames / session.scorer.target_fps,
                  "alarm_policy": {"k": policy.k, "n": policy.n, "threshold": policy.threshold}, "grid_only": bool(args.grid_only),
                  "cleaning": "per frame only (min_confidence); no gap bridging or smoothing (they read future frames)",
                  "synthetic_bundle": bool(bundle.meta.get("synthetic"))})
    feeder = Feeder(source)
    summary: dict[str, Any] = {"type": "end", "source": output_label(args.source)}
    status = 0
    started = time.monotonic()
    bar = tqdm(desc="live", unit="frame", disable=args.no_progress, file=sys.stderr)
    try:
        try:
            for frame in feeder:
                for missed in range(session.frames_seen, frame.index):
                    _emit(writer, session.skip(missed, frame.offered_at), proposals)
                _emit(writer, session.process(frame.index, frame.image, frame.offered_at), proposals)
                bar.update()
                if session.scorer.latencies_s:
                    bar.set_postfix_str(f"{bar.format_dict['rate'] or 0:.1f} fps, dropped {feeder.dropped}, latency {session.scorer.latencies_s[-1]:.2f} s")
                if args.max_seconds is not None and frame.time_s >= args.max_seconds:
                    feeder.stop()
                    summary["stopped_at_s"] = frame.time_s
                    break
        except KeyboardInterrupt:
            feeder.stop()
            summary["interrupted"] = True
        except SemiologyError as error:
            feeder.stop()
            summary["error"] = str(error)
            status = 2
    except KeyboardInterrupt:
        summary["interrupted"] = True
    finally:
        bar.close()
        feeder.close()
        session.close()
        if feeder.failed:
            status = max(status, 1)
        reason = "interrupted (Ctrl-C)" if summary.get("interrupted") else summary.get("error") or feeder.end or "stopped"
        summary.update(_figures(session, feeder, time.monotonic() - started), reason=reason, failed=bool(feeder.failed or status == 2))
        if proposals is not None:
            summary["store"] = _close_proposals(proposals)
        writer.write(summary)
        writer.close()
    print(f"live: {reason}; {summary['frames_processed']} of {summary['frames_offered']} frames processed, {summary['frames_dropped']} dropped, "
          f"{summary['decisions']} decisions, {summary['alarms']} alarms", file=sys.stderr)
    return status


def _emit(writer: JsonLines, events: list[dict[str, Any]], proposals: LiveProposals | None = None) -> None:
    """Write each event; with a store, follow it for proposals. A store that fails is reported, never stops the session."""
    for event in events:
        writer.write(event)
        if proposals is None:
            continue
        try:
            proposals.observe(event)
        except StoreError as error:
            writer.write({"type": "store_error", "reason": str(error)})
            print(f"warning: label store: {error}", file=sys.stderr)


def _close_proposals(proposals: LiveProposals) -> dict[str, Any]:
    """Write the episodes still open and return the store's counts (or why it failed)."""
    try:
        return proposals.close()
    except StoreError as error:
        print(f"warning: label store: {error}", file=sys.stderr)
        return {**proposals.counts(), "error": str(error)}


def _figures(session: LiveSession, feeder: Feeder, wall_s: float) -> dict[str, Any]:
    """Frames offered, processed and dropped, decisions, alarms and the decision latency after each window's end."""
    latencies = np.asarray(session.scorer.latencies_s, dtype=np.float64)
    return {
        "frames_offered": feeder.offered,
        "frames_processed": session.processed,
        "frames_passed_over": session.passed_over,
        "frames_dropped": feeder.dropped,
        "decisions": session.scorer.decisions,
        "alarms": session.scorer.alarms,
        "latency_p50_s": float(np.percentile(latencies, 50)) if len(latencies) else None,
        "latency_p95_s": float(np.percentile(latencies, 95)) if len(latencies) else None,
        "wall_s": round(wall_s, 3),
    }
