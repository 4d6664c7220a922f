"""Detector backends by name: the extraction config says `pose: {backend: mediapipe}`, the registry builds it.

A backend is a kind (`pose`: one person's body keypoints per frame; `face`: one face's
landmarks), a name, a factory that builds it from its section of the extraction config, and a
version that goes into the extraction hash (so that caches made by another detector version
are stale). A pose or face backend has `name` (with its version), `layout` (a registered
layout name), `estimate(image, roi) -> KeypointEstimate | None`, `reset()` (forget the last
recording) and `close()`.

A new backend is one module plus one `register_backend` call; nothing in the extraction
chain names a backend. MediaPipe is the default for both kinds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from semiology.detect.keypoints import KeypointEstimate
from semiology.records import Box

BACKEND_KINDS = ("pose", "face")


@runtime_checkable
class KeypointBackend(Protocol):
    """A per-frame keypoint detector the extraction chain can run."""

    name: str
    layout: str

    def estimate(self, image: np.ndarray, roi: Box | None = None) -> KeypointEstimate | None: ...

    def reset(self) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Backend:
    """A registered backend: `create(settings)` builds it from its config section; `version()` tags caches."""

    kind: str
    name: str
    create: Callable[[Any], KeypointBackend]
    version: Callable[[], str]


_BACKENDS: dict[tuple[str, str], Backend] = {}


def register_backend(kind: str, name: str, create: Callable[[Any], KeypointBackend], version: Callable[[], str]) -> None:
    """Make a backend selectable by `name` for `kind` (replacing one of the same name)."""
    if kind not in BACKEND_KINDS:
        raise ValueError(f"unknown backend kind {kind!r} (known: {', '.join(BACKEND_KINDS)})")
    _BACKENDS[(kind, name)] = Backend(kind, name, create, version)


def get_backend(kind: str, name: str) -> Backend:
    """The backend registered as `name` for `kind`; a KeyError lists the names there are."""
    try:
        return _BACKENDS[(kind, name)]
    except KeyError:
        raise KeyError(f"unknown {kind} backend {name!r} (known: {', '.join(backend_names(kind))})") from None


def backend_names(kind: str) -> tuple[str, ...]:
    return tuple(name for registered_kind, name in _BACKENDS if registered_kind == kind)


def _mediapipe_pose(settings: Any) -> KeypointBackend:
    from semiology.detect.mediapipe_pose import MediaPipePose

    return MediaPipePose(video_mode=True, min_detection_confidence=settings.min_detection_confidence, min_tracking_confidence=settings.min_tracking_confidence)


def _mediapipe_face_mesh(settings: Any) -> KeypointBackend:
    from semiology.detect.mediapipe_face import MediaPipeFaceMesh

    return MediaPipeFaceMesh(video_mode=False, min_detection_confidence=settings.min_detection_confidence)


def _mediapipe_version() -> str:
    from semiology.detect.mediapipe_pose import mediapipe_version

    return mediapipe_version()


register_backend("pose", "mediapipe", _mediapipe_pose, _mediapipe_version)
register_backend("face", "mediapipe_face_mesh", _mediapipe_face_mesh, _mediapipe_version)
