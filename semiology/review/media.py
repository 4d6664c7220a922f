"""Browser-playable previews of recordings: 16-bit IR and depth as 8-bit H.264, made once with PyAV and cached.

Browsers play 8-bit H.264 in mp4, not 16-bit gray or FFV1. A preview keeps the recording's
frames one for one (frame i at time i / fps, constant frame rate, no B-frames), so the app can
map the video's time to a keypoint frame exactly. IR is scaled between the 1st and 99th
percentile of non-zero counts of the first frames (one mapping for the whole video, so
brightness does not flicker); depth between the near and far percentiles, near bright. Colour mp4/webm files are served as they are. A preview is named by a hash of the
source's path, size and modification time and written atomically: a changed recording gets a
new preview, and nothing made from an old file is reused.
"""

from __future__ import annotations

import hashlib
import threading
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from semiology.errors import VideoError
from semiology.io.atomic import atomic_path
from semiology.io.video import open_video
from semiology.review.errors import ReviewError

PREVIEW_VERSION = 1
PLAYABLE_AS_IS: frozenset[str] = frozenset({".mp4", ".m4v", ".webm"})
_SAMPLE_FRAMES = 24
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def preview_key(source: Path, kind: str) -> str:
    """The cache key of a preview: the source's resolved path, size and modification time, the kind, the preview version."""
    stat = source.stat()
    text = f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{kind}|{PREVIEW_VERSION}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def _lock(key: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


def _value_range(source: Path, kind: str, fps: float | None) -> tuple[float, float]:
    """Low and high values of the 8-bit mapping, from the recording's first frames.

    Only the first `_SAMPLE_FRAMES` frames are read: decoding a whole 16-bit recording once more
    doubled the time to make a preview (120 Kinect-sized frames: 12 s instead of 6 s here).
    """
    values = []
    with open_video(source, kind=kind, fps=fps) as reader:
        for frame in reader:
            values.append(frame.image[frame.image > 0][::7])
            if len(values) >= _SAMPLE_FRAMES:
                break
    pooled = np.concatenate(values) if values else np.zeros(0)
    if pooled.size == 0:
        return 0.0, 1.0
    low, high = np.percentile(pooled.astype(np.float64), [1.0, 99.0])
    return float(low), float(max(high, low + 1.0))


def _to_uint8(image: np.ndarray, kind: str, low: float, high: float) -> np.ndarray:
    scaled = np.clip((image.astype(np.float32) - low) / (high - low), 0.0, 1.0)
    if kind == "depth":
        scaled = np.where(image > 0, 1.0 - scaled, 0.0)
    gray = np.round(scaled * 255.0).astype(np.uint8)
    return np.pad(gray, ((0, gray.shape[0] % 2), (0, gray.shape[1] % 2)))


def transcode(source: Path, kind: str, target: Path, fps: float | None = None) -> Path:
    """Write an 8-bit H.264 mp4 of `source` (`kind` ir, depth or rgb) to `target`, frame for frame."""
    low, high = _value_range(source, kind, fps) if kind in ("ir", "depth") else (0.0, 255.0)
    with open_video(source, kind=kind, fps=fps) as reader, atomic_path(target) as partial:
        rate = Fraction(reader.fps).limit_denominator(1001)
        with av.open(str(partial), mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
            stream = container.add_stream("h264", rate=rate)
            stream.width, stream.height = reader.width + reader.width % 2, reader.height + reader.height % 2
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": "20", "g": "10", "bf": "0", "preset": "veryfast"}
            for frame in reader:
                if kind == "rgb":
                    image = np.pad(frame.image, ((0, frame.image.shape[0] % 2), (0, frame.image.shape[1] % 2), (0, 0)))
                    video_frame = av.VideoFrame.from_ndarray(image, format="rgb24")
                else:
                    video_frame = av.VideoFrame.from_ndarray(_to_uint8(frame.image, kind, low, high), format="gray")
                video_frame.pts = frame.index
                video_frame.time_base = 1 / rate
                for packet in stream.encode(video_frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
    return target


def playable(source: Path, kind: str, preview_dir: Path, fps: float | None = None) -> Path:
    """A file the browser can play for `source`: the file itself (colour mp4/webm) or its cached 8-bit preview, made on first use."""
    if not source.exists():
        raise ReviewError(f"{source.name}: the recording is missing")
    if kind == "rgb" and source.suffix.lower() in PLAYABLE_AS_IS:
        return source
    key = preview_key(source, kind)
    target = preview_dir / f"{key}.mp4"
    with _lock(key):
        if not target.is_file():
            preview_dir.mkdir(parents=True, exist_ok=True)
            try:
                transcode(source, kind, target, fps)
            except (VideoError, av.FFmpegError, OSError) as exc:
                raise ReviewError(f"{source.name}: cannot make a browser preview of this {kind} recording ({exc})") from None
    return target
