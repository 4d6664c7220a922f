"""Optional detectors (torchvision R-CNNs, mmpose, mmdet): clear errors without them, working with them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from semiology.errors import CheckpointError


def _importable(module: str) -> str | None:
    try:
        __import__(module)
    except Exception as error:  # noqa: BLE001 - broken installs fail with RuntimeError/OSError too  # noqa: BLE001 - broken installs fail with RuntimeError/OSError too
        return f"{module} is not importable here ({type(error).__name__}: {error})"
    return None


TORCHVISION = _importable("torchvision.models.detection")
MMPOSE = _importable("mmpose.apis")
MMDET = _importable("mmdet.apis")


@pytest.mark.skipif(TORCHVISION is None, reason="torchvision is importable here")
def test_torchvision_adapters_name_the_missing_package(tmp_path: Path) -> None:
    from semiology.detect.torchvision_rcnn import TorchvisionKeypointRCNN, TorchvisionMaskRCNN

    for adapter in (TorchvisionKeypointRCNN, TorchvisionMaskRCNN):
        with pytest.raises(ImportError, match="torchvision==0.29.1"):
            adapter(tmp_path / "weights.pth")


@pytest.mark.skipif(MMPOSE is None and MMDET is None, reason="mmpose and mmdet are importable here")
def test_openmmlab_adapters_name_the_missing_package(tmp_path: Path) -> None:
    from semiology.detect.openmmlab import MMDetPersonDetector, MMPoseTopDown

    if MMPOSE is not None:
        with pytest.raises(ImportError, match="mmpose"):
            MMPoseTopDown(tmp_path / "config.py", tmp_path / "weights.pth")
    if MMDET is not None:
        with pytest.raises(ImportError, match="mmdet"):
            MMDetPersonDetector(tmp_path / "config.py", tmp_path / "weights.pth")


@pytest.mark.skipif(MMPOSE is not None, reason=str(MMPOSE))
def test_mmpose_missing_files_are_checkpoint_errors(tmp_path: Path) -> None:
    from semiology.detect.openmmlab import MMPoseTopDown

    with pytest.raises(CheckpointError, match="config.py"):
        MMPoseTopDown(tmp_path / "config.py", tmp_path / "weights.pth")


@pytest.mark.skipif(TORCHVISION is not None, reason=str(TORCHVISION))
def test_keypoint_rcnn_loads_a_user_checkpoint_and_returns_coco_17(tmp_path: Path) -> None:
    import torch
    from torchvision.models.detection import keypointrcnn_resnet50_fpn

    from semiology.detect.torchvision_rcnn import TorchvisionKeypointRCNN

    with pytest.raises(CheckpointError, match="not found"):
        TorchvisionKeypointRCNN(tmp_path / "absent.pth")
    (tmp_path / "wrong.pth").write_bytes(b"no")
    with pytest.raises(CheckpointError, match="wrong.pth"):
        TorchvisionKeypointRCNN(tmp_path / "wrong.pth")
    torch.manual_seed(0)
    weights = tmp_path / "keypointrcnn.pth"
    torch.save(keypointrcnn_resnet50_fpn(weights=None, weights_backbone=None).state_dict(), weights)
    estimator = TorchvisionKeypointRCNN(weights, min_score=0.0)
    image = np.random.default_rng(0).integers(0, 255, (96, 128, 3), dtype=np.uint8)
    found = estimator.estimate(image)
    detections = estimator.detect(image)
    assert all(d.label == "person" for d in detections)
    if found is not None:  # random weights may or may not fire; when they do, the format holds
        assert found.points_px.shape == (17, 2) and found.layout == "coco_17"
        assert ((found.confidence >= 0) & (found.confidence <= 1)).all()
