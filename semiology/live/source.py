"""Where live frames come from, and how they are handed to the processing at the source's own pace.

A source is a camera (an integer device index, OpenCV), a network stream (`rtsp://`,
`http://`, ..., PyAV with a timeout) or a file (the batch path's own reader,
`semiology.io.video.open_video`, so a file gives the frames batch extraction sees). A file is
read as fast as it is processed, unless `realtime` plays it at its frame rate to stand in for
a camera.

`Feeder` decouples arrival from processing with a one-frame mailbox filled by a reader
thread: a frame that arrives while the previous one still waits replaces it, and the replaced
frame is counted as dropped. Processing thus always works on the newest frame and never
drifts behind the source; the count says how much it skipped. Written here because the
drop-oldest, count-what-you-drop hand-over with a paced file reader is a dozen lines and no
library offers it as such.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from semiology.errors import SemiologyError, VideoError
from semiology.io.video import open_video

STREAM_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://", "srt://")
STREAM_TIMEOUT_S = 5.0
"""How long a network stream may stay silent (opening or between frames) before it counts as gone (`--stream-timeout`)."""


class LiveSourceError(SemiologyError):
    """A live source that cannot be opened or stops delivering frames part-way."""


@dataclass(frozen=True)
class SourceFrame:
    """One frame as it arrived: its number in the source, its time in the source (s), the image, and when it was offered (monotonic s)."""

    index: int
    time_s: float
    image: np.ndarray
    offered_at: float


def describe(spec: str) -> str:
    """`spec` fit for messages: a URL loses its user name and password."""
    return re.sub(r"//[^/@]*@", "//", spec)


def output_label(spec: str) -> str:
    """How the JSON output names a source: a camera by index, a stream by its URL without credentials, a file by a hash of its path.

    A file's path or name may carry the patient's name (`smith_john_2026-12-07.mkv`), and the
    output is shared; the person running the session knows which file they named.
    """
    if spec.isdigit():
        return f"camera {spec}"
    if spec.lower().startswith(STREAM_SCHEMES):
        return describe(spec)
    return f"file sha256:{hashlib.sha256(str(Path(spec).resolve()).encode()).hexdigest()[:16]}"


class FrameSource:
    """Frames of one source, in order; `fps` is its declared frame rate."""

    name: str
    fps: float
    paced: bool
    """Whether frames arrive at the source's own pace (a camera, a stream, a file played in real time)."""
    timeout_s: float = STREAM_TIMEOUT_S
    """How long a read may block before the source counts as gone (a stream's `--stream-timeout`)."""

    def frames(self) -> Iterator[tuple[int, float, np.ndarray]]:
        raise NotImplementedError

    def close(self) -> None:
        pass


class FileSource(FrameSource):
    """A recording on disk, read by the batch reader; `realtime` waits for each frame's time."""

    def __init__(self, path: Path, fps: float | None, realtime: bool) -> None:
        self.name = str(path)
        try:
            self._reader = open_video(path, fps=fps)
        except VideoError as error:
            raise LiveSourceError(str(error)) from None
        self.fps = float(self._reader.fps)
        self.paced = realtime

    def frames(self) -> Iterator[tuple[int, float, np.ndarray]]:
        started = time.monotonic()
        try:
            for frame in self._reader:
                if self.paced:
                    delay = started + frame.time_s - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                yield frame.index, frame.time_s, frame.image
        except VideoError as error:
            raise LiveSourceError(f"{error} (the file ended early)") from None

    def close(self) -> None:
        self._reader.close()


class StreamSource(FrameSource):
    """A network stream through PyAV (FFmpeg), with `timeout_s` for opening and for each read.

    A camera's stream does not end: when it stops, whether the connection closes or falls
    silent for `timeout_s`, the camera or its server went away, and that is a failure.
    """

    def __init__(self, url: str, fps: float | None, timeout_s: float = STREAM_TIMEOUT_S) -> None:
        import av

        self.name = describe(url)
        self.paced = True
        self.timeout_s = timeout_s
        try:
            self._container: Any = av.open(url, timeout=(timeout_s, timeout_s))
            self._stream = self._container.streams.video[0]
        except (av.error.FFmpegError, OSError, IndexError) as error:
            raise LiveSourceError(f"{self.name}: cannot open the stream ({type(error).__name__}: {describe(str(error))})") from None
        rate = self._stream.average_rate or self._stream.guessed_rate
        self.fps = float(fps or (rate if rate else 0.0))
        if self.fps <= 0:
            raise LiveSourceError(f"{self.name}: the stream declares no frame rate; pass --fps")

    def frames(self) -> Iterator[tuple[int, float, np.ndarray]]:
        import av

        index = 0
        try:
            for frame in self._container.decode(self._stream):
                image = frame.to_ndarray(format="gray16le" if "16" in frame.format.name else "rgb24")
                yield index, index / self.fps, image
                index += 1
        except av.error.ExitError:
            raise LiveSourceError(f"{self.name}: no frame for {self.timeout_s:g} s after {index} frames (the camera or its server went away)") from None
        except (av.error.FFmpegError, OSError) as error:
            raise LiveSourceError(f"{self.name}: the stream failed after {index} frames ({type(error).__name__}: {describe(str(error))})") from None
        raise LiveSourceError(f"{self.name}: the stream stopped after {index} frames (the camera or its server went away)")

    def close(self) -> None:
        self._container.close()


class CameraSource(FrameSource):
    """A camera by device index through OpenCV."""

    def __init__(self, device: int, fps: float | None) -> None:
        import cv2

        self.name = f"camera {device}"
        self.paced = True
        self._capture = cv2.VideoCapture(device)
        if not self._capture.isOpened():
            raise LiveSourceError(f"{self.name}: cannot open the camera (no such device, or it is busy)")
        self.fps = float(fps or self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        if self.fps <= 0:
            raise LiveSourceError(f"{self.name}: the camera reports no frame rate; pass --fps")

    def frames(self) -> Iterator[tuple[int, float, np.ndarray]]:
        import cv2

        index = 0
        while True:
            ok, image = self._capture.read()
            if not ok:
                raise LiveSourceError(f"{self.name}: the camera stopped delivering frames after {index} frames (unplugged or failed)")
            yield index, index / self.fps, cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
            index += 1

    def close(self) -> None:
        self._capture.release()


def open_source(spec: str, fps: float | None = None, realtime: bool = False, stream_timeout_s: float = STREAM_TIMEOUT_S) -> FrameSource:
    """The source `spec` names: a device index, a stream URL or a file path (LiveSourceError when it cannot be opened).

    `stream_timeout_s` is how long a network stream may stay silent, opening or between frames.
    """
    if spec.isdigit():
        return CameraSource(int(spec), fps)
    if spec.lower().startswith(STREAM_SCHEMES):
        return StreamSource(spec, fps, stream_timeout_s)
    path = Path(spec)
    if not path.exists():
        raise LiveSourceError(f"{spec}: no such file, and not a camera index or a stream URL ({', '.join(s.rstrip(':/') for s in STREAM_SCHEMES)})")
    return FileSource(path, fps, realtime)


class Feeder:
    """Frames of a source for the processing loop: in order, the newest when processing falls behind.

    An unpaced source (a file read as fast as possible) is read in the caller's thread and
    nothing is dropped. A paced one is read by a thread into a one-frame mailbox; `dropped`
    counts the frames replaced before they were taken. `end` says why the frames stopped:
    None while running, `source ended`, `stopped`, or the source's error message.
    """

    def __init__(self, source: FrameSource) -> None:
        self.source = source
        self.offered = 0
        self.dropped = 0
        self.end: str | None = None
        self.failed = False
        self._slot: SourceFrame | None = None
        self._done = False
        self._stop = threading.Event()
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None

    def _offer(self, frame: SourceFrame) -> None:
        with self._ready:
            self.offered += 1
            if self._slot is not None:
                self.dropped += 1
            self._slot = frame
            self._ready.notify()

    def _finish(self, reason: str, failed: bool) -> None:
        with self._ready:
            if self.end is None:
                self.end, self.failed = reason, failed
            self._done = True
            self._ready.notify()

    def _read(self) -> None:
        try:
            for index, time_s, image in self.source.frames():
                if self._stop.is_set():
                    break
                self._offer(SourceFrame(index, time_s, image, time.monotonic()))
            self._finish("stopped" if self._stop.is_set() else "source ended", False)
        except LiveSourceError as error:
            self._finish(str(error), True)
        except Exception as error:  # a reader thread must always say why it stopped
            self._finish(f"{self.source.name}: {type(error).__name__}: {error}", True)

    def __iter__(self) -> Iterator[SourceFrame]:
        if not self.source.paced:
            try:
                for index, time_s, image in self.source.frames():
                    if self._stop.is_set():
                        break
                    self.offered += 1
                    yield SourceFrame(index, time_s, image, time.monotonic())
                self._finish("stopped" if self._stop.is_set() else "source ended", False)
            except LiveSourceError as error:
                self._finish(str(error), True)
            return
        self._thread = threading.Thread(target=self._read, name="live-source", daemon=True)
        self._thread.start()
        while True:
            with self._ready:
                while self._slot is None and not self._done:
                    self._ready.wait(0.5)
                frame, self._slot = self._slot, None
                if frame is None:
                    return
            yield frame

    def stop(self) -> None:
        """Ask the reader to stop (Ctrl-C); frames already taken are kept."""
        self._stop.set()
        self._finish("stopped", False)
        with self._ready:
            self._slot = None

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.source.timeout_s + 1.0)
        self.source.close()
