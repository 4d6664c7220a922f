"""facenet-pytorch's MTCNN as a face `Detector` (the face detector of the source studies).

Its P/R/O-Net weights ship in the facenet-pytorch wheel, so it runs offline, but facenet-pytorch
imports torchvision when it loads, and torchvision only works here beside torch 2.14.1
(torchvision 0.29.1), not beside the default CPU torch 2.13. It is therefore optional and
imported only when an `MTCNNFaceDetector` is built; install it with
`pip install torch==2.14.1 torchvision==0.29.1 && pip install --no-deps facenet-pytorch==2.6.0`.
"""

from __future__ import annotations

import numpy as np

from semiology.detect.keypoints import as_rgb, crop_to
from semiology.records import Box, Detection

MTCNN_MISSING = (
    "MTCNNFaceDetector needs facenet-pytorch with a working torchvision: pip install torch==2.14.1 "
    "torchvision==0.29.1, then pip install --no-deps facenet-pytorch==2.6.0"
)


def mtcnn_importable() -> str | None:
    """None when facenet-pytorch's MTCNN can be imported here, else the reason it cannot."""
    try:
        from facenet_pytorch import MTCNN  # noqa: F401
    except Exception as error:  # noqa: BLE001 - a torchvision built for another torch fails with RuntimeError/OSError
        return f"{MTCNN_MISSING} ({type(error).__name__}: {error})"
    return None


class MTCNNFaceDetector:
    """Faces as scored boxes from MTCNN; `min_face_px` is the smallest face searched for."""

    def __init__(self, min_face_px: int = 20, min_score: float = 0.9, device: str = "cpu") -> None:
        reason = mtcnn_importable()
        if reason is not None:
            raise ImportError(reason)
        import facenet_pytorch
        from facenet_pytorch import MTCNN

        self.min_score = min_score
        self.name = f"facenet_pytorch_mtcnn-{getattr(facenet_pytorch, '__version__', 'unknown')}"
        self._model = MTCNN(keep_all=True, min_face_size=min_face_px, device=device, select_largest=False)

    def detect(self, image: np.ndarray, roi: Box | None = None) -> list[Detection]:
        """Every face in `image` (inside `roi` when given) scoring at least `min_score`, in full-frame pixels."""
        region, (u_offset, v_offset) = crop_to(image, roi)
        region = np.ascontiguousarray(as_rgb(region))
        boxes, scores = self._model.detect(region)
        if boxes is None:
            return []
        height, width = region.shape[:2]
        found = []
        for (u0, v0, u1, v1), score in zip(boxes, scores):
            if score is None or score < self.min_score:
                continue
            u0, u1 = np.clip([u0, u1], 0, width)
            v0, v1 = np.clip([v0, v1], 0, height)
            if u1 > u0 and v1 > v0:
                box = Box(float(u0 + u_offset), float(v0 + v_offset), float(u1 + u_offset), float(v1 + v_offset))
                found.append(Detection(box=box, score=float(score), label="face"))
        return found
