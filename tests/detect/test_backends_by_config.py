"""Detector backends chosen by name in the extraction config: the checks at load, the wiring, the optional ones with a user's checkpoint.

The torchvision and MTCNN tests run where the `vision` extra is installed (`make test-vision`,
a second environment with torch 2.14.1 + torchvision 0.29.1); no weights can be downloaded, so a
randomly initialised Keypoint / Mask R-CNN saved as the user's checkpoint proves the wiring (it
finds nobody, or somebody, but the chain runs it and writes COCO-17 keypoints), not accuracy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from semiology.config import config_from_dict
from semiology.detect.composite import BoxThenKeypoints
from semiology.detect.mediapipe_face import MediaPipeFaceDetector, MediaPipeFaceMesh
from semiology.detect.mtcnn import mtcnn_importable
from semiology.detect.registry import backend_names, get_backend
from semiology.errors import ConfigError
from semiology.extract.chain import FrameChain
from semiology.extract.config import ExtractionConfig, extraction_hash
from semiology.extract.recording import run_chain
from semiology.io.manifest import ManifestRow
from semiology.io.video import open_video


def _torchvision_missing() -> str | None:
    try:
        import torchvision.models.detection  # noqa: F401
    except Exception as error:  # noqa: BLE001 - a torchvision built for another torch fails with RuntimeError/OSError
        return f"torchvision is not importable here ({type(error).__name__}); make test-vision runs these"
    return None


TORCHVISION = _torchvision_missing()
MTCNN = mtcnn_importable()
LEAN = {"crops": {"enabled": False}, "face": {"enabled": False}, "roi": {"enabled": False}, "body_layout": "coco_17"}


def test_every_adapter_is_registered_by_name() -> None:
    assert {"mediapipe", "torchvision_keypoint_rcnn", "torchvision_mask_rcnn+mediapipe", "mmpose_topdown", "mmdet+mediapipe"} <= set(backend_names("pose"))
    assert {"mediapipe_face_mesh", "mtcnn+mediapipe_face_mesh"} <= set(backend_names("face"))
    assert get_backend("pose", "mmpose_topdown").requires == ("model_config", "checkpoint")


def test_a_backend_without_its_checkpoint_is_refused_when_the_config_loads(tmp_path: Path) -> None:
    (tmp_path / "extraction.yaml").write_text("pose:\n  backend: torchvision_keypoint_rcnn\n")
    from semiology.extract.config import load_extraction_config

    with pytest.raises(ConfigError, match=r"extraction\.yaml.*pose\.checkpoint: the torchvision_keypoint_rcnn backend needs it"):
        load_extraction_config(tmp_path / "extraction.yaml")
    with pytest.raises(ConfigError, match="pose.model_config"):
        config_from_dict({"pose": {"backend": "mmpose_topdown", "checkpoint": "w.pth"}}, ExtractionConfig)


def test_new_weights_make_the_caches_stale(tmp_path: Path) -> None:
    weights = tmp_path / "keypointrcnn.pth"
    weights.write_bytes(b"first weights")
    config = config_from_dict({"pose": {"backend": "torchvision_keypoint_rcnn", "checkpoint": str(weights)}}, ExtractionConfig)
    before = extraction_hash(config)
    weights.write_bytes(b"other weights")
    assert extraction_hash(config) != before


@pytest.mark.skipif(TORCHVISION is None, reason="torchvision is importable here: the missing-package message cannot be shown")
def test_without_the_vision_extra_the_chain_names_what_to_install(tmp_path: Path) -> None:
    weights = tmp_path / "keypointrcnn.pth"
    weights.write_bytes(b"x")
    config = config_from_dict({**LEAN, "pose": {"backend": "torchvision_keypoint_rcnn", "checkpoint": str(weights)}}, ExtractionConfig)
    with pytest.raises(ImportError, match="torchvision==0.29.1"):
        FrameChain(config)


def test_a_face_detector_then_the_face_mesh_finds_the_real_face(shared_data: Path) -> None:
    """The composite every detector+keypoint backend uses, with MediaPipe's own face detector (installed everywhere)."""
    with open_video(shared_data / "video" / "face_single.mp4") as reader:
        frames = [frame.image for frame in reader][::10][:8]
    backend = BoxThenKeypoints(MediaPipeFaceDetector(), MediaPipeFaceMesh(video_mode=False), people=False, scale=1.3)
    found = 0
    for image in frames:
        box = backend.box(image)
        face = backend.estimate(image)
        if face is not None:
            found += 1
            assert box is not None and box.contains(np.nanmean(face.points_px, axis=0)[None]).all()
    backend.close()
    assert found >= 6
    assert backend.layout == "face_23" and backend.name.startswith("mediapipe_face_detection")


@pytest.mark.skipif(TORCHVISION is not None, reason=str(TORCHVISION))
@pytest.mark.parametrize(("backend", "builder"), [("torchvision_keypoint_rcnn", "keypointrcnn_resnet50_fpn"), ("torchvision_mask_rcnn+mediapipe", "maskrcnn_resnet50_fpn")])
def test_torchvision_backends_run_in_the_chain_from_a_user_checkpoint(tmp_path: Path, shared_data: Path, backend: str, builder: str) -> None:
    import torch
    from torchvision.models import detection

    torch.manual_seed(0)
    weights = tmp_path / f"{builder}.pth"
    torch.save(getattr(detection, builder)(weights=None, weights_backbone=None).state_dict(), weights)
    layout = "coco_17" if backend == "torchvision_keypoint_rcnn" else "mediapipe_33"
    config = config_from_dict({**LEAN, "body_layout": layout, "pose": {"backend": backend, "checkpoint": str(weights), "min_detection_confidence": 0.0}}, ExtractionConfig)
    chain = FrameChain(config)
    assert chain.sources["body"].startswith("torchvision")
    frames = np.stack([frame.image for _, frame in zip(range(3), open_video(shared_data / "video" / "kinetics_tai_chi.mp4"))])
    np.save(tmp_path / "rgb.npy", frames)
    output, _, _ = run_chain(chain, ManifestRow("s", "P", {"rgb": tmp_path / "rgb.npy"}, 25.0, 0.0, 0.1), config, progress=False)
    assert output.body_px.shape[:2] == (3, 17 if layout == "coco_17" else 33) and output.body_layout == layout
    chain.close()


@pytest.mark.skipif(MTCNN is not None, reason=str(MTCNN))
def test_mtcnn_then_face_mesh_from_the_config(shared_data: Path, tmp_path: Path) -> None:
    config = config_from_dict({"crops": {"enabled": False}, "face": {"backend": "mtcnn+mediapipe_face_mesh", "every_n_frames": 1}, "roi": {"enabled": False}}, ExtractionConfig)
    with open_video(shared_data / "video" / "face_single.mp4") as reader:
        frames = np.stack([frame.image for frame in reader][::10][:6])
    np.save(tmp_path / "rgb.npy", frames)
    chain = FrameChain(config)
    assert chain.sources["face"].startswith("facenet_pytorch_mtcnn")
    output, _, _ = run_chain(chain, ManifestRow("s", "P", {"rgb": tmp_path / "rgb.npy"}, 25.0, 0.0, 0.1), config, progress=False)
    assert output.face_confidence is not None and (output.face_confidence.max(axis=1) > 0).mean() >= 0.8
    chain.close()
