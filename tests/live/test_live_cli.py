"""`tools/live.py` end to end on a real video: the same decisions as batch, Ctrl-C, bad sources.

Real MediaPipe on a real clip from ../shared/data (skipped when absent); the bundle is the
synthetic onset detector of conftest.py, so the probabilities mean nothing clinically: what is
tested is that the live chain computes what batch computes, and that every way of ending
leaves a complete output.
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from semiology.bundle import load_bundle
from semiology.extract.chain import FrameChain
from semiology.extract.config import ExtractionConfig
from semiology.extract.recording import build_record, run_chain
from semiology.io.manifest import ManifestRow
from semiology.io.video import open_video
from semiology.io.video_write import write_image_folder, write_tracks_mkv
from semiology.live.cli import live
from semiology.live.session import causal_cleaning
from semiology.screen.predict import screen_record

REPO = Path(__file__).resolve().parents[2]
CLIP = "video/kinetics_tai_chi.mp4"
TOLERANCE = 1e-5


def run_live(capsys, *args: str) -> tuple[int, str]:
    """`tools/live.py` in this process (a subprocess costs seconds of imports): exit status and stderr."""
    capsys.readouterr()
    status = live(["--no-progress", *args])
    return status, capsys.readouterr().err


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def clip_frames(shared_data, tmp_path_factory) -> tuple[Path, float]:
    """The first 4 s of a real clip as a PNG folder (lossless, so both paths read the same pixels)."""
    with open_video(shared_data / CLIP) as video:
        fps = video.fps
        frames = [frame.image for _, frame in zip(range(int(4 * fps)), video, strict=False)]
    folder = write_image_folder(tmp_path_factory.mktemp("clip") / "rgb", np.stack(frames))
    return folder, fps


def test_live_file_equals_batch_extraction_and_screening(live_bundle, clip_frames, tmp_path, capsys):
    folder, fps = clip_frames
    out = tmp_path / "live.jsonl"
    status, stderr = run_live(capsys, "--bundle", str(live_bundle.path), "--source", str(folder), "--fps", str(fps), "--out", str(out))
    assert status == 0, stderr[-2000:]
    events = lines(out)
    assert events[0]["type"] == "start" and events[-1]["type"] == "end" and events[-1]["reason"] == "source ended"
    assert events[-1]["frames_processed"] == events[-1]["frames_offered"] == 119 and events[-1]["frames_dropped"] == 0
    assert events[0]["source"].startswith("file sha256:") and str(folder.parent) not in out.read_text(encoding="utf-8"), "a file path may name the patient"
    config = causal_cleaning(ExtractionConfig())
    row = ManifestRow("clip", "clip", {"rgb": folder}, fps, math.nan, math.nan)
    chain = FrameChain(config)
    try:
        output, fps_read, _ = run_chain(chain, row, config, progress=False)
    finally:
        chain.close()
    record = build_record(row, output, fps_read, config, chain.sources)
    batch = screen_record(load_bundle(live_bundle.path), record)["timeline"]["AGCN-onset"]
    by_start = dict(zip(batch["start_s"], batch["prob"], strict=True))
    decisions = [event for event in events if event["type"] == "decision"]
    assert len(decisions) == 3
    for decision in decisions:
        live = decision["models"]["AGCN-onset"]["prob"]
        assert [live["rest"], live["seizure"]] == pytest.approx(by_start[decision["window_start_s"]], abs=TOLERANCE)


def test_ctrl_c_leaves_a_complete_readable_output(live_bundle, shared_data, tmp_path):
    out = tmp_path / "live.jsonl"
    command = [sys.executable, str(REPO / "tools" / "live.py"), "--no-progress", "--bundle", str(live_bundle.path), "--source", str(shared_data / CLIP),
               "--realtime", "--out", str(out)]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (out.exists() and '"decision"' in out.read_text(encoding="utf-8")):
        assert process.poll() is None, process.stderr.read()[-2000:]
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr[-2000:]
    events = lines(out)
    assert events[-1]["type"] == "end" and events[-1]["reason"] == "interrupted (Ctrl-C)" and events[-1]["interrupted"]
    decisions = [event for event in events if event["type"] == "decision"]
    assert decisions and events[-1]["decisions"] == len(decisions)
    assert events[-1]["frames_processed"] + events[-1]["frames_dropped"] <= events[-1]["frames_offered"]
    assert "interrupted (Ctrl-C)" in stderr


def test_an_unreachable_stream_ends_with_a_clear_message_and_an_end_line(live_bundle, tmp_path, capsys):
    out = tmp_path / "live.jsonl"
    status, stderr = run_live(capsys, "--bundle", str(live_bundle.path), "--source", "http://user:secret@127.0.0.1:9/camera.mjpg", "--out", str(out))
    assert status == 1
    assert "http://127.0.0.1:9/camera.mjpg: cannot open the stream" in stderr and "secret" not in stderr
    (end,) = lines(out)
    assert end["type"] == "end" and end["failed"] and "cannot open the stream" in end["reason"] and end["frames_processed"] == 0
    assert "secret" not in out.read_text(encoding="utf-8")


def test_a_missing_camera_and_a_missing_file_are_named(live_bundle, tmp_path, capsys):
    status, stderr = run_live(capsys, "--bundle", str(live_bundle.path), "--source", "7", "--out", str(tmp_path / "camera.jsonl"))
    assert status == 1 and "camera 7: cannot open the camera" in stderr
    status, stderr = run_live(capsys, "--bundle", str(live_bundle.path), "--source", str(tmp_path / "nowhere.mkv"), "--out", str(tmp_path / "file.jsonl"))
    assert status == 1 and "nowhere.mkv: no such file" in stderr


def test_a_file_that_breaks_part_way_keeps_what_was_processed(live_bundle, clip_frames, tmp_path, capsys):
    folder, fps = clip_frames
    with open_video(folder, fps=fps) as video:
        frames = np.stack([frame.image for frame in video])
    whole = write_tracks_mkv(tmp_path / "whole.mkv", {"rgb": frames}, fps=fps)
    broken = tmp_path / "broken.mkv"
    broken.write_bytes(whole.read_bytes()[: whole.stat().st_size * 2 // 3])
    out = tmp_path / "live.jsonl"
    status, stderr = run_live(capsys, "--bundle", str(live_bundle.path), "--source", str(broken), "--out", str(out))
    events = lines(out)
    end = events[-1]
    assert end["type"] == "end" and end["decisions"] == sum(event["type"] == "decision" for event in events) >= 1
    assert 0 < end["frames_processed"] < len(frames)
    if status == 1:
        assert end["failed"] and str(broken) in end["reason"] and str(broken) in stderr
    else:
        assert status == 0 and end["reason"] == "source ended"


def test_a_folder_of_unannotated_videos_is_screened_into_timelines_and_episodes(live_bundle, shared_data, tmp_path, capsys):
    from semiology.cli import screen

    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / "bedside.mp4").write_bytes((shared_data / "video/face_single.mp4").read_bytes())
    status = screen(["--bundle", str(live_bundle.path), "--videos", str(videos), "--out", str(tmp_path / "out"), "--no-progress"])
    assert status == 0, capsys.readouterr().err[-2000:]
    (row,) = lines(tmp_path / "out" / "results.jsonl")
    assert row["status"] == "ok" and math.isnan(row["onset_s"]) and math.isnan(row["offset_s"])
    assert "probability" not in row["models"]["AGCN-onset"] and len(row["timeline"]["AGCN-onset"]["start_s"]) >= 1
    assert "AGCN-onset" in row["episodes"] and (tmp_path / "out" / row["timeline_png"]).is_file()
    assert "episodes" in (tmp_path / "out" / "summary.csv").read_text(encoding="utf-8").splitlines()[0]


class _CameraServer:
    """A local HTTP 'camera' that streams a recording's first `share` of bytes at a steady pace, then goes away.

    `ending="close"` drops the connection (a camera unplugged, a server restarted);
    `ending="stall"` keeps it open and sends nothing more (a frozen encoder, a cut cable
    behind a switch). A real socket and FFmpeg's own HTTP client: nothing is mocked.
    """

    def __init__(self, payload: bytes, share: float, ending: str) -> None:
        import http.server
        import threading

        self.released = threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "video/x-matroska")
                self.end_headers()
                sent, cut, chunk = 0, int(len(payload) * share), 32 * 1024
                while sent < cut:
                    self.wfile.write(payload[sent : min(sent + chunk, cut)])
                    self.wfile.flush()
                    sent += chunk
                    time.sleep(0.02)
                if ending == "stall":
                    server.released.wait(30)
                self.close_connection = True

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/camera.mkv"

    def close(self) -> None:
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.mark.parametrize("ending", ["close", "stall"])
def test_a_camera_that_disappears_mid_run_ends_with_a_clear_message_and_keeps_what_was_processed(live_bundle, clip_frames, tmp_path, capsys, ending):
    folder, fps = clip_frames
    with open_video(folder, fps=fps) as video:
        frames = np.stack([frame.image for frame in video])
    recording = write_tracks_mkv(tmp_path / "camera.mkv", {"rgb": frames}, fps=fps)
    camera = _CameraServer(recording.read_bytes(), share=0.6, ending=ending)
    out = tmp_path / "live.jsonl"
    try:
        started = time.monotonic()
        status, stderr = run_live(capsys, "--bundle", str(live_bundle.path), "--source", camera.url, "--out", str(out), "--stream-timeout", "1.5")
        elapsed = time.monotonic() - started
    finally:
        camera.close()
    events = lines(out)
    end = events[-1]
    assert status == 1, stderr
    assert end["type"] == "end" and end["failed"]
    assert camera.url in end["reason"] and camera.url in stderr
    if ending == "stall":
        assert "no frame for 1.5 s after" in end["reason"], end["reason"]
    else:
        assert "failed after" in end["reason"] or "stopped after" in end["reason"], end["reason"]
    assert 0 < end["frames_processed"] < len(frames)
    assert end["decisions"] == sum(event["type"] == "decision" for event in events) >= 1
    assert elapsed < 30, "a silent stream must be given up after --stream-timeout, not waited on"
