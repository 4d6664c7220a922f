"""facenet-pytorch MTCNN adapter: faces in the real face clips, where MediaPipe finds them too."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from semiology.detect.mtcnn import MTCNN_MISSING, MTCNNFaceDetector, mtcnn_importable

REASON = mtcnn_importable()


def test_missing_facenet_is_a_clear_import_error() -> None:
    if REASON is None:
        pytest.skip("facenet-pytorch is importable here; the missing-package message cannot be shown")
    with pytest.raises(ImportError, match="facenet-pytorch"):
        MTCNNFaceDetector()
    assert "torchvision==0.29.1" in MTCNN_MISSING


@pytest.mark.skipif(REASON is not None, reason=str(REASON))
@pytest.mark.parametrize("clip", ["face_single.mp4", "face_carphone_qcif.mp4"])
def test_mtcnn_finds_the_face_where_mediapipe_does(shared_data: Path, clip: str) -> None:
    from semiology.detect.mediapipe_face import MediaPipeFaceDetector
    from semiology.io.video import open_video

    with open_video(shared_data / "video" / clip) as reader:
        frames = [frame.image for frame in reader][::4]
    mtcnn = MTCNNFaceDetector()
    with MediaPipeFaceDetector("short") as mediapipe:
        pairs = [(mtcnn.detect(image), mediapipe.detect(image)) for image in frames]
    found = np.mean([bool(ours) for ours, _ in pairs])
    assert found >= 0.95, f"{clip}: MTCNN found a face in {found:.1%} of frames"
    overlaps = [max(a.box.iou(b.box) for a in ours for b in theirs) for ours, theirs in pairs if ours and theirs]
    assert np.mean(overlaps) >= 0.5, f"{clip}: MTCNN and MediaPipe disagree on the face (mean IoU {np.mean(overlaps):.2f})"
    assert all(d.label == "face" and 0.9 <= d.score <= 1.0 for ours, _ in pairs for d in ours)
