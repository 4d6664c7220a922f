"""Detector backends by name: the extraction config says `pose: {backend: mediapipe}`, the registry builds it.

A backend is a kind (`pose`: one person's body keypoints per frame; `face`: one face's
landmarks), a name, a factory that builds it from its section of the extraction config, and a
version that goes into the extraction hash (so that caches made by another detector version
are stale). A pose or face backend has `name` (with its version), `layout` (a registered
layout name), `estimate(image, roi) -> KeypointEstimate | None`, `reset()` (forget the last
recording) and `close()`.

A new backend is one module plus one `register_backend` call; nothing in the extraction
chain names a backend. MediaPipe is the default for both kinds.

Registered here besides MediaPipe, each built only when selected (their packages are optional):

| kind | name | what | needs |
| --- | --- | --- | --- |
| pose | `torchvision_keypoint_rcnn` | torchvision Keypoint R-CNN, COCO-17 | `vision` extra, `checkpoint` |
| pose | `torchvision_mask_rcnn+mediapipe` | Mask R-CNN finds the patient, MediaPipe Pose reads inside | `vision` extra, `checkpoint` |
| pose | `mmpose_topdown` | an mmpose top-down model on the search box, COCO-17 | mmpose, `model_config`, `checkpoint` |
| pose | `mmdet+mediapipe` | an mmdet detector finds the patient, MediaPipe Pose reads inside | mmdet, `model_config`, `checkpoint` |
| face | `mtcnn+mediapipe_face_mesh` | facenet-pytorch's MTCNN finds the face, the face mesh reads inside | `vision` extra, facenet-pytorch |

`requires` names the config keys a backend cannot run without; the extraction config refuses
to load without them. A checkpoint's content hash joins the extraction hash
(`semiology.extract.config.extraction_hash`), so new weights make caches stale.
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
    requires: tuple[str, ...] = ()


_BACKENDS: dict[tuple[str, str], Backend] = {}


def register_backend(
    kind: str, name: str, create: Callable[[Any], KeypointBackend], version: Callable[[], str], requires: tuple[str, ...] = ()
) -> None:
    """Make a backend selectable by `name` for `kind` (replacing one of the same name); `requires`: config keys it needs set."""
    if kind not in BACKEND_KINDS:
        raise ValueError(f"unknown backend kind {kind!r} (known: {', '.join(BACKEND_KINDS)})")
    _BACKENDS[(kind, name)] = Backend(kind, name, create, version, tuple(requires))


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


def _package_version(module: str) -> Callable[[], str]:
    """The installed version of `module` (its distribution), or `absent` (the backend then fails when built)."""

    def version() -> str:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as installed

        try:
            return f"{module}-{installed(module)}"
        except PackageNotFoundError:
            return f"{module}-absent"

    return version


def _mediapipe_pose_inside(settings: Any) -> KeypointBackend:
    """MediaPipe Pose on single images: each frame's box comes from a detector, so there is no video tracking to keep."""
    from semiology.detect.mediapipe_pose import MediaPipePose

    return MediaPipePose(video_mode=False, min_detection_confidence=settings.min_detection_confidence, min_tracking_confidence=settings.min_tracking_confidence)


def _keypoint_rcnn(settings: Any) -> KeypointBackend:
    from semiology.detect.torchvision_rcnn import TorchvisionKeypointRCNN

    return TorchvisionKeypointRCNN(settings.checkpoint, min_score=settings.min_detection_confidence)


def _mask_rcnn_mediapipe(settings: Any) -> KeypointBackend:
    from semiology.detect.composite import BoxThenKeypoints
    from semiology.detect.torchvision_rcnn import TorchvisionMaskRCNN

    return BoxThenKeypoints(TorchvisionMaskRCNN(settings.checkpoint, min_score=settings.min_detection_confidence), _mediapipe_pose_inside(settings), people=True)


def _mmpose(settings: Any) -> KeypointBackend:
    from semiology.detect.openmmlab import MMPoseTopDown

    return MMPoseTopDown(settings.model_config, settings.checkpoint)


def _mmdet_mediapipe(settings: Any) -> KeypointBackend:
    from semiology.detect.composite import BoxThenKeypoints
    from semiology.detect.openmmlab import MMDetPersonDetector

    detector = MMDetPersonDetector(settings.model_config, settings.checkpoint, min_score=settings.min_detection_confidence)
    return BoxThenKeypoints(detector, _mediapipe_pose_inside(settings), people=True)


def _mtcnn_face_mesh(settings: Any) -> KeypointBackend:
    from semiology.detect.composite import BoxThenKeypoints
    from semiology.detect.mtcnn import MTCNNFaceDetector

    return BoxThenKeypoints(MTCNNFaceDetector(), _mediapipe_face_mesh(settings), people=False, scale=1.3)


def _with(*versions: Callable[[], str]) -> Callable[[], str]:
    return lambda: "+".join(version() for version in versions)


register_backend("pose", "torchvision_keypoint_rcnn", _keypoint_rcnn, _package_version("torchvision"), requires=("checkpoint",))
register_backend("pose", "torchvision_mask_rcnn+mediapipe", _mask_rcnn_mediapipe, _with(_package_version("torchvision"), _mediapipe_version), requires=("checkpoint",))
register_backend("pose", "mmpose_topdown", _mmpose, _package_version("mmpose"), requires=("model_config", "checkpoint"))
register_backend("pose", "mmdet+mediapipe", _mmdet_mediapipe, _with(_package_version("mmdet"), _mediapipe_version), requires=("model_config", "checkpoint"))
register_backend("face", "mtcnn+mediapipe_face_mesh", _mtcnn_face_mesh, _with(_package_version("facenet-pytorch"), _mediapipe_version))
