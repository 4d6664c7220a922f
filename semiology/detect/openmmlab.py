"""OpenMMLab adapters: an mmpose top-down pose model and an mmdet person detector, from a user's config + checkpoint.

mmcv has no wheel here (it compiles for 13-17 minutes) and no OpenMMLab weights can be
downloaded, so these are optional: the packages are imported only when an adapter is built, and
the model files must be given. Missing packages raise ImportError naming them; missing files
raise CheckpointError naming the path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from semiology.detect.keypoints import KeypointEstimate, as_rgb
from semiology.errors import CheckpointError
from semiology.layouts.body import COCO_17
from semiology.records import Box, Detection

MMPOSE_MISSING = "MMPoseTopDown needs mmpose 1.x with mmcv 2.x and mmengine (see ENVIRONMENT.md: mmcv compiles from source)"
MMDET_MISSING = "MMDetPersonDetector needs mmdet 3.x with mmcv 2.x and mmengine (see ENVIRONMENT.md: mmcv compiles from source)"


def _files(config_file: str | Path, checkpoint_file: str | Path) -> tuple[str, str]:
    for path, what in ((Path(config_file), "model config"), (Path(checkpoint_file), "checkpoint")):
        if not path.is_file():
            raise CheckpointError(f"{path}: OpenMMLab {what} not found (weights are never downloaded)")
    return str(config_file), str(checkpoint_file)


def _bgr(image: np.ndarray) -> np.ndarray:
    """OpenMMLab models read OpenCV's BGR order."""
    return np.ascontiguousarray(as_rgb(image)[..., ::-1])


class MMPoseTopDown:
    """COCO-17 keypoints of the person in a box (the ROI, or the whole frame) from an mmpose top-down model."""

    layout = COCO_17.name

    def __init__(self, config_file: str | Path, checkpoint_file: str | Path, device: str = "cpu") -> None:
        try:
            from mmpose.apis import inference_topdown, init_model
        except Exception as error:
            raise ImportError(f"{MMPOSE_MISSING} ({type(error).__name__}: {error})") from error
        config, checkpoint = _files(config_file, checkpoint_file)
        self._inference = inference_topdown
        self.model: Any = init_model(config, checkpoint, device=device)
        self.name = f"mmpose:{Path(config).stem}"

    def estimate(self, image: np.ndarray, roi: Box | None = None) -> KeypointEstimate | None:
        height, width = image.shape[:2]
        box = roi.as_array() if roi is not None else np.array([0.0, 0.0, width, height])
        results = self._inference(self.model, _bgr(image), bboxes=box[None], bbox_format="xyxy")
        if not results:
            return None
        instances = results[0].pred_instances
        points = np.asarray(instances.keypoints[0], dtype=np.float32)
        scores = np.clip(np.asarray(instances.keypoint_scores[0], dtype=np.float32), 0.0, 1.0)
        if points.shape[0] != COCO_17.num_joints:
            raise ValueError(f"{self.name}: the model gives {points.shape[0]} keypoints; this adapter reads COCO-17 models")
        return KeypointEstimate(points, scores, self.layout)

    def reset(self) -> None:
        """Top-down models keep no state between frames."""

    def close(self) -> None:
        """Nothing to release: the model is freed with the adapter."""


class MMDetPersonDetector:
    """People as scored boxes (`Detector`) from an mmdet model trained on COCO (person = class 0)."""

    def __init__(self, config_file: str | Path, checkpoint_file: str | Path, min_score: float = 0.5, device: str = "cpu") -> None:
        try:
            from mmdet.apis import inference_detector, init_detector
        except Exception as error:
            raise ImportError(f"{MMDET_MISSING} ({type(error).__name__}: {error})") from error
        config, checkpoint = _files(config_file, checkpoint_file)
        self._inference = inference_detector
        self.model: Any = init_detector(config, checkpoint, device=device)
        self.name, self.min_score = f"mmdet:{Path(config).stem}", min_score

    def detect(self, image: np.ndarray) -> list[Detection]:
        instances = self._inference(self.model, _bgr(image)).pred_instances
        return [
            Detection(box=Box.from_array(np.asarray(box)), score=float(score), label="person")
            for box, score, label in zip(instances.bboxes.cpu().numpy(), instances.scores.cpu().numpy(), instances.labels.cpu().numpy())
            if int(label) == 0 and float(score) >= self.min_score
        ]
