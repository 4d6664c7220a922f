"""Lazy readers for recordings: video containers, image folders and array stacks, one contract.

`open_video(path, kind)` returns a `VideoReader` that yields `Frame`s (index, time in seconds,
image) one at a time and can be iterated again from the start. Images come out as:

- `rgb`: H x W x 3 uint8, RGB order;
- `ir`: H x W uint16 when the source is 16-bit (raw IR counts; `ir_to_uint8` makes them viewable),
  H x W uint8 otherwise;
- `depth`: H x W uint16 millimetres, 0 where the sensor has no reading. A depth source that is
  not 16-bit is an error, never silently rescaled.

Containers (mp4, avi, mpg, asf, mkv) are read with PyAV, which bundles FFmpeg and so reads the
same codecs everywhere, including 16-bit gray and FFV1. An Azure Kinect mkv holds several tracks;
`kind` picks the track by its title and the reader takes the camera intrinsics from the
recording's calibration attachment. Image folders and `.npy`/`.npz` stacks carry no frame rate,
so `fps` is required for them. Every failure is a `VideoError` naming the file and the problem.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import av
import cv2
import numpy as np

from semiology.camera import KINECT_V2_DEPTH, CameraIntrinsics, LensDistortion
from semiology.errors import VideoError
from semiology.io.kinect import CALIBRATION_ATTACHMENT, TRACK_TITLES, parse_calibration

KINDS: tuple[str, ...] = ("rgb", "ir", "depth")
CONTAINER_SUFFIXES: frozenset[str] = frozenset({".mp4", ".m4v", ".mov", ".avi", ".mpg", ".mpeg", ".asf", ".wmv", ".mkv", ".webm"})
IMAGE_SUFFIXES: frozenset[str] = frozenset({".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp"})
INTRINSICS_TAG = "SEMIOLOGY_INTRINSICS"
"""Stream tag holding `CameraIntrinsics.to_dict()` as JSON, written by `semiology.io.video_write`."""


@dataclass(frozen=True)
class Frame:
    """One decoded frame: its 0-based number in the stream, its time from the first frame, its image."""

    index: int
    time_s: float
    image: np.ndarray


def ir_to_uint8(image: np.ndarray, low_pct: float = 1.0, high_pct: float = 99.0, gamma: float | None = None) -> np.ndarray:
    """Scale an IR image (any dtype) to uint8 between its `low_pct` and `high_pct` percentiles.

    Robust to the few saturated or dead pixels that make min-max scaling of 16-bit IR useless.
    Zeros (no return) are left out of the percentiles. `gamma` < 1 brightens dark skin and
    bedding; the mapping is `((x - low) / (high - low)) ** gamma`.
    """
    if not 0.0 <= low_pct < high_pct <= 100.0:
        raise ValueError(f"need 0 <= low_pct < high_pct <= 100, got {low_pct}, {high_pct}")
    if gamma is not None and gamma <= 0:
        raise ValueError(f"gamma must be positive, got {gamma}")
    values = np.asarray(image, dtype=np.float32)
    valid = values[values > 0]
    if valid.size == 0:
        return np.zeros(values.shape, dtype=np.uint8)
    low, high = np.percentile(valid, [low_pct, high_pct])
    span = max(float(high - low), 1e-6)
    scaled = np.clip((values - low) / span, 0.0, 1.0)
    if gamma is not None:
        scaled = scaled**gamma
    return np.round(scaled * 255.0).astype(np.uint8)


def _convert(image: np.ndarray, kind: str, path: Path) -> np.ndarray:
    """A decoded image (H x W or H x W x 3 RGB, uint8 or uint16) in the layout `kind` promises."""
    if kind == "depth":
        if image.dtype != np.uint16:
            raise VideoError(f"{path}: declared a 16-bit depth stream but it decodes as {image.dtype} (8-bit depth has lost its millimetres)")
        if image.ndim == 3:
            raise VideoError(f"{path}: declared a depth stream but it decodes as a {image.shape[2]}-channel image")
        return image
    if kind == "ir":
        if image.ndim == 3:
            return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        return image
    if image.dtype == np.uint16:
        image = ir_to_uint8(image)
    if image.ndim == 2:
        return np.repeat(image[:, :, None], 3, axis=2)
    return image


class VideoReader:
    """A lazy, re-iterable source of `Frame`s; use as a context manager or call `close()`."""

    path: Path
    kind: str
    fps: float
    width: int
    height: int
    dtype: np.dtype
    n_frames: int | None
    intrinsics: CameraIntrinsics | None
    distortion: LensDistortion | None = None

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the underlying file; iterating again reopens it."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({str(self.path)!r}, kind={self.kind!r}, {self.width}x{self.height} "
            f"{self.dtype}, fps={self.fps:g}, n_frames={self.n_frames})"
        )


def _default_intrinsics(kind: str, width: int, height: int) -> CameraIntrinsics | None:
    """Kinect v2 factory intrinsics for 512x424 IR/depth without calibration; nothing otherwise."""
    if kind in ("ir", "depth") and (width, height) == (KINECT_V2_DEPTH.width, KINECT_V2_DEPTH.height):
        return KINECT_V2_DEPTH
    return None


def _stream_title(stream: Any) -> str:
    return str(stream.metadata.get("title", stream.metadata.get("TITLE", ""))).strip().upper()


def _is_16bit(pix_fmt: str | None) -> bool:
    return bool(pix_fmt) and bool(re.match(r"^(gray16|gray1[0-4]|y16)", str(pix_fmt)))


def _decode_ndarray(frame: av.VideoFrame, sixteen_bit: bool) -> np.ndarray:
    if sixteen_bit:
        return frame.to_ndarray(format="gray16le")
    if frame.format.name in ("gray", "gray8", "pal8") or frame.format.name.startswith("gray"):
        return frame.to_ndarray(format="gray")
    return frame.to_ndarray(format="rgb24")


class ContainerReader(VideoReader):
    """A video track of a container file (PyAV), including one track of an Azure Kinect mkv."""

    def __init__(self, path: Path, kind: str | None, fps: float | None) -> None:
        self.path = path
        self._container = self._open()
        try:
            self._setup(kind, fps)
        finally:
            self._container.close()

    def _open(self) -> Any:
        try:
            return av.open(str(self.path))
        except av.error.FFmpegError as error:
            raise VideoError(f"{self.path}: cannot open the container, the file is truncated or corrupt ({error})") from error

    def _pick_stream(self, container: Any, kind: str | None) -> Any:
        videos = list(container.streams.video)
        if not videos:
            raise VideoError(f"{self.path}: no video stream in the file")
        titled = {_stream_title(stream): stream for stream in videos}
        if kind is not None and TRACK_TITLES[kind] in titled:
            return titled[TRACK_TITLES[kind]]
        if kind is not None and set(titled) & set(TRACK_TITLES.values()):
            raise VideoError(f"{self.path}: no {TRACK_TITLES[kind]} track among {sorted(titled)}")
        return videos[0]

    def _setup(self, kind: str | None, fps: float | None) -> None:
        stream = self._pick_stream(self._container, kind)
        self._stream_index = stream.index
        context = stream.codec_context
        if context is None or not getattr(context, "name", None):
            raise VideoError(f"{self.path}: unsupported codec in video stream {stream.index} (no decoder)")
        title = _stream_title(stream)
        declared = {value: key for key, value in TRACK_TITLES.items()}.get(title)
        pix_fmt = context.pix_fmt
        if kind is None:
            kind = declared or ("ir" if _is_16bit(pix_fmt) or str(pix_fmt).startswith("gray") else "rgb")
        self.kind = kind
        self._sixteen_bit = _is_16bit(pix_fmt)
        if (kind == "depth" or declared == "depth") and not self._sixteen_bit:
            raise VideoError(f"{self.path}: declared a 16-bit depth stream but it decodes as {pix_fmt} (8-bit depth has lost its millimetres)")
        first = self._first_frame()
        image = _convert(_decode_ndarray(first, self._sixteen_bit), kind, self.path)
        self.height, self.width = int(image.shape[0]), int(image.shape[1])
        self.dtype = image.dtype
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        if fps is not None:
            self.fps = float(fps)
        elif rate:
            self.fps = float(rate)
        else:
            raise VideoError(f"{self.path}: the stream declares no frame rate; pass fps")
        self.n_frames = int(stream.frames) if stream.frames else None
        self.intrinsics, self.distortion = self._intrinsics(stream)

    def _first_frame(self) -> av.VideoFrame:
        for frame in self._frames():
            return frame
        raise VideoError(f"{self.path}: no decodable frames in video stream {self._stream_index} (zero frames)")

    def _intrinsics(self, stream: Any) -> tuple[CameraIntrinsics | None, LensDistortion | None]:
        tagged = stream.metadata.get(INTRINSICS_TAG)
        if tagged:
            try:
                return CameraIntrinsics(**json.loads(tagged)), None
            except (json.JSONDecodeError, TypeError, ValueError) as error:
                raise VideoError(f"{self.path}: stream tag {INTRINSICS_TAG} is not valid intrinsics ({error})") from error
        for attachment in getattr(self._container.streams, "attachments", ()):
            if getattr(attachment, "name", "") == CALIBRATION_ATTACHMENT:
                mode = next((value for key, value in stream.metadata.items() if key.startswith("K4A_") and key.endswith("_MODE")), None)
                if self.kind == "ir" and mode in ("ACTIVE", None):
                    mode = self._depth_mode()
                return parse_calibration(attachment.data, self.kind, mode, self.width, self.height, self.path)
        return _default_intrinsics(self.kind, self.width, self.height), None

    def _depth_mode(self) -> str | None:
        for stream in self._container.streams.video:
            if "K4A_DEPTH_MODE" in stream.metadata:
                return str(stream.metadata["K4A_DEPTH_MODE"])
        return None

    def _frames(self) -> Iterator[av.VideoFrame]:
        """Decoded frames from the start; each call opens its own handle, so iterations never interfere."""
        container = self._open()
        try:
            yield from container.decode(container.streams[self._stream_index])
        except av.error.FFmpegError as error:
            raise VideoError(f"{self.path}: decoding failed, the file is truncated or corrupt ({error})") from error
        finally:
            container.close()

    def __iter__(self) -> Iterator[Frame]:
        start: float | None = None
        index = -1
        for index, frame in enumerate(self._frames()):
            image = _convert(_decode_ndarray(frame, self._sixteen_bit), self.kind, self.path)
            if frame.time is not None:
                start = frame.time if start is None else start
                time_s = float(frame.time - start)
            else:
                time_s = index / self.fps
            yield Frame(index=index, time_s=time_s, image=image)
        if self.n_frames is not None and index + 1 < self.n_frames:
            raise VideoError(f"{self.path}: truncated: the stream declares {self.n_frames} frames but only {index + 1} decode")

def _require_fps(path: Path, fps: float | None) -> float:
    if fps is None:
        raise VideoError(f"{path}: image sequences and array stacks carry no frame rate; pass fps")
    if fps <= 0:
        raise VideoError(f"{path}: fps must be positive, got {fps}")
    return float(fps)


def _natural_key(path: Path) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def _read_image(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise VideoError(f"{path}: cannot decode the image, the file is truncated or corrupt")
    if image.ndim == 3 and image.shape[2] == 4:
        image = image[:, :, :3]
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    if image.dtype not in (np.uint8, np.uint16):
        raise VideoError(f"{path}: unsupported image type {image.dtype}; expected 8- or 16-bit")
    return image


class ImageFolderReader(VideoReader):
    """A folder of numbered 8- or 16-bit images, one per frame, in natural name order; or one image file, a one-frame recording."""

    def __init__(self, path: Path, kind: str | None, fps: float | None) -> None:
        self.path = path
        self.fps = _require_fps(path, fps)
        self._files = [path] if path.is_file() else sorted((file for file in path.iterdir() if file.suffix.lower() in IMAGE_SUFFIXES), key=_natural_key)
        if not self._files:
            raise VideoError(f"{path}: no image files ({', '.join(sorted(IMAGE_SUFFIXES))}) in the folder (zero frames)")
        first = _read_image(self._files[0])
        self.kind = kind or ("rgb" if first.ndim == 3 else "ir")
        image = _convert(first, self.kind, self._files[0])
        self.height, self.width = int(image.shape[0]), int(image.shape[1])
        self.dtype = image.dtype
        self.n_frames = len(self._files)
        self.intrinsics = _default_intrinsics(self.kind, self.width, self.height)

    def __iter__(self) -> Iterator[Frame]:
        for index, file in enumerate(self._files):
            image = _convert(_read_image(file), self.kind, file)
            if image.shape[:2] != (self.height, self.width):
                raise VideoError(f"{file}: frame is {image.shape[1]}x{image.shape[0]}, the sequence is {self.width}x{self.height}")
            yield Frame(index=index, time_s=index / self.fps, image=image)


def _load_stack(path: Path, kind: str | None) -> np.ndarray:
    try:
        if path.suffix.lower() == ".npy":
            return np.load(path, mmap_mode="r")
        with np.load(path) as archive:
            names = list(archive.files)
            chosen = kind if kind in names else (names[0] if len(names) == 1 else None)
            if chosen is None:
                raise VideoError(f"{path}: cannot tell which array holds the frames among {names}; name one {kind or 'rgb/ir/depth'}")
            return archive[chosen]
    except (OSError, ValueError, EOFError) as error:
        raise VideoError(f"{path}: cannot read the array stack, the file is truncated or corrupt ({error})") from error


class ArrayStackReader(VideoReader):
    """Frames stacked in a `.npy` array `[T, H, W]` / `[T, H, W, 3]`, or one array of a `.npz`."""

    def __init__(self, path: Path, kind: str | None, fps: float | None) -> None:
        self.path = path
        self.fps = _require_fps(path, fps)
        self._frames = _load_stack(path, kind)
        if self._frames.ndim not in (3, 4) or (self._frames.ndim == 4 and self._frames.shape[3] != 3):
            raise VideoError(f"{path}: expected frames [T, H, W] or [T, H, W, 3], got shape {self._frames.shape}")
        if self._frames.dtype not in (np.uint8, np.uint16):
            raise VideoError(f"{path}: unsupported frame type {self._frames.dtype}; expected uint8 or uint16")
        if self._frames.shape[0] == 0:
            raise VideoError(f"{path}: the stack holds zero frames")
        self.kind = kind or ("rgb" if self._frames.ndim == 4 else "ir")
        image = _convert(np.asarray(self._frames[0]), self.kind, path)
        self.height, self.width = int(image.shape[0]), int(image.shape[1])
        self.dtype = image.dtype
        self.n_frames = int(self._frames.shape[0])
        self.intrinsics = _default_intrinsics(self.kind, self.width, self.height)

    def __iter__(self) -> Iterator[Frame]:
        for index in range(self.n_frames or 0):
            image = _convert(np.array(self._frames[index]), self.kind, self.path)
            yield Frame(index=index, time_s=index / self.fps, image=image)


def open_video(path: str | Path, kind: str | None = None, fps: float | None = None) -> VideoReader:
    """A lazy reader for a container, an image folder or an array stack; `kind` picks rgb / ir / depth.

    `kind=None` takes the stream as it is (a titled Kinect track by its title, 16-bit or gray as
    IR, colour as RGB). `fps` overrides the container's rate and is required for image folders
    and array stacks.
    """
    source = Path(path)
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if not source.exists():
        raise VideoError(f"{source}: no such file or folder")
    if source.is_dir():
        return ImageFolderReader(source, kind, fps)
    suffix = source.suffix.lower()
    if suffix in (".npy", ".npz"):
        return ArrayStackReader(source, kind, fps)
    if source.stat().st_size == 0:
        raise VideoError(f"{source}: the file is empty (zero frames)")
    if suffix in IMAGE_SUFFIXES:
        return ImageFolderReader(source, kind, 1.0 if fps is None else fps)
    return ContainerReader(source, kind, fps)
