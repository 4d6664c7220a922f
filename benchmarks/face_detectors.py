"""MediaPipe face detection (short and full range) against facenet-pytorch MTCNN on the real face clips.

Prints, per clip and detector: frames with a face, milliseconds per frame, and the mean IoU of
its best box with MediaPipe short-range's best box (agreement on where the face is). MTCNN rows
appear only where facenet-pytorch and a working torchvision are importable (see
semiology/detect/mtcnn.py); run with a Python that has them, e.g.
`PYTHONPATH=. /path/to/vision-venv/bin/python benchmarks/face_detectors.py`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch

from semiology.detect.mediapipe_face import MediaPipeFaceDetector
from semiology.detect.mtcnn import MTCNNFaceDetector, mtcnn_importable
from semiology.io.video import open_video

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "video"
CLIPS = ("face_single.mp4", "face_carphone_qcif.mp4", "kinetics_face_makeup.avi")


def best_boxes(detector, frames: list[np.ndarray]) -> tuple[list, float]:
    started = time.perf_counter()
    boxes = []
    for image in frames:
        found = detector.detect(image)
        boxes.append(max(found, key=lambda d: d.score).box if found else None)
    return boxes, 1000.0 * (time.perf_counter() - started) / len(frames)


def main() -> int:
    torch.set_num_threads(1)
    if not DATA.is_dir():
        print(f"real clips not found at {DATA}")
        return 1
    detectors = {"mediapipe short": lambda: MediaPipeFaceDetector("short"), "mediapipe full": lambda: MediaPipeFaceDetector("full")}
    reason = mtcnn_importable()
    if reason is None:
        detectors["mtcnn"] = MTCNNFaceDetector
    else:
        print(f"MTCNN skipped: {reason}")
    print(f"torch {torch.__version__}, 1 thread; timings measured on a shared machine")
    print(f"{'clip':26s} {'detector':16s} {'found %':>8s} {'ms/frame':>9s} {'IoU vs mp short':>16s}")
    for clip in CLIPS:
        with open_video(DATA / clip) as reader:
            frames = [frame.image for frame in reader]
        reference = None
        for name, make in detectors.items():
            boxes, ms = best_boxes(make(), frames)
            reference = boxes if reference is None else reference
            pairs = [(a, b) for a, b in zip(boxes, reference) if a is not None and b is not None]
            iou = np.mean([a.iou(b) for a, b in pairs]) if pairs else float("nan")
            found = 100.0 * np.mean([box is not None for box in boxes])
            print(f"{clip:26s} {name:16s} {found:8.1f} {ms:9.1f} {iou:16.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
