"""torchvision Keypoint R-CNN (COCO-17 body keypoints) and Mask R-CNN (person boxes) with a user's weights.

These are the detectors of the source studies. No weights can be downloaded here, so both take
a local checkpoint: a state dict of torchvision's `keypointrcnn_resnet50_fpn` /
`maskrcnn_resnet50_fpn` (e.g. torchvision's own COCO files placed under `checkpoints/`).
torchvision is imported only when an adapter is built; it works here beside torch 2.14.1
(torchvision 0.29.1), not beside the default CPU torch 2.13.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from semiology.detect.keypoints import KeypointEstimate, as_rgb, crop_to
from semiology.errors import CheckpointError
from semiology.layouts.body import COCO_17
from semiology.preprocess.roi import select_patient
from semiology.records import Box, Detection

TORCHVISION_MISSING = "the torchvision R-CNN adapters need torchvision: pip install torch==2.14.1 torchvision==0.29.1"
COCO_PERSON = 1


def _build(builder_name: str, checkpoint: str | Path, device: str) -> Any:
    try:
        from torchvision.models import detection
    except Exception as error:  # a torchvision built for another torch fails with RuntimeError/OSError
        raise ImportError(f"{TORCHVISION_MISSING} ({type(error).__name__}: {error})") from error
    path = Path(checkpoint)
    if not path.is_file():
        raise CheckpointError(f"{path}: {builder_name} checkpoint not found (weights are never downloaded; place a state dict there)")
    model = getattr(detection, builder_name)(weights=None, weights_backbone=None)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        if isinstance(state, dict) and "state_dict" in state:
            state = state["state_dict"]
        model.load_state_dict(state)
    except Exception as error:  # noqa: BLE001 - torch.load and load_state_dict fail with many types
        raise CheckpointError(f"{path}: not a {builder_name} state dict ({type(error).__name__}: {error})") from None
    return model.eval().to(device)


def _tensor(image: np.ndarray, device: str) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(as_rgb(image))).permute(2, 0, 1).float().div(255.0).to(device)


class TorchvisionMaskRCNN:
    """People as scored boxes (`Detector`) from a Mask R-CNN with the user's COCO weights."""

    def __init__(self, checkpoint: str | Path, min_score: float = 0.5, device: str = "cpu") -> None:
        self.model = _build("maskrcnn_resnet50_fpn", checkpoint, device)
        self.name, self.min_score, self.device = f"torchvision_maskrcnn:{Path(checkpoint).name}", min_score, device

    def detect(self, image: np.ndarray) -> list[Detection]:
        with torch.inference_mode():
            output = self.model([_tensor(image, self.device)])[0]
        return [
            Detection(box=Box.from_array(box.cpu().numpy()), score=float(score), label="person")
            for box, score, label in zip(output["boxes"], output["scores"], output["labels"])
            if int(label) == COCO_PERSON and float(score) >= self.min_score
        ]


class TorchvisionKeypointRCNN:
    """COCO-17 keypoints of the patient (`KeypointEstimator`) and person boxes (`Detector`).

    Of several people the patient is the one `semiology.preprocess.roi.select_patient` picks (on
    the ROI, else overlapping the last patient, else the largest). A keypoint's confidence is the
    sigmoid of its heatmap score.
    """

    layout = COCO_17.name

    def __init__(self, checkpoint: str | Path, min_score: float = 0.5, device: str = "cpu") -> None:
        self.model = _build("keypointrcnn_resnet50_fpn", checkpoint, device)
        self.name, self.min_score, self.device = f"torchvision_keypointrcnn:{Path(checkpoint).name}", min_score, device
        self._previous: Box | None = None

    def _people(self, image: np.ndarray, offset: tuple[int, int]) -> list[tuple[Detection, np.ndarray, np.ndarray]]:
        with torch.inference_mode():
            output = self.model([_tensor(image, self.device)])[0]
        shift = np.array(offset, dtype=np.float32)
        people = []
        for box, score, label, points, scores in zip(
            output["boxes"], output["scores"], output["labels"], output["keypoints"], output["keypoints_scores"]
        ):
            if int(label) != COCO_PERSON or float(score) < self.min_score:
                continue
            corners = box.cpu().numpy() + np.tile(shift, 2)
            detection = Detection(box=Box.from_array(corners), score=float(score), label="person")
            people.append((detection, points[:, :2].cpu().numpy() + shift, torch.sigmoid(scores).cpu().numpy()))
        return people

    def detect(self, image: np.ndarray) -> list[Detection]:
        return [detection for detection, _, _ in self._people(image, (0, 0))]

    def estimate(self, image: np.ndarray, roi: Box | None = None) -> KeypointEstimate | None:
        region, offset = crop_to(image, roi)
        people = self._people(region, offset)
        patient = select_patient([detection for detection, _, _ in people], bed=roi, previous=self._previous)
        if patient is None:
            return None
        _, points, confidence = next(person for person in people if person[0] is patient)
        self._previous = patient.box
        return KeypointEstimate(points.astype(np.float32), confidence.astype(np.float32), self.layout)

    def reset(self) -> None:
        self._previous = None

    def close(self) -> None:
        """Nothing to release: the model is freed with the adapter."""
