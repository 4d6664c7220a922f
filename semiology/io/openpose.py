"""OpenPose JSON keypoints: one file per frame (`<name>_000000000000_keypoints.json`), or one file for an image.

Each file holds `{"people": [{"pose_keypoints_2d": [x, y, c, ...], ...}, ...]}` with the BODY_25
or the COCO-18 body model (told apart by the number of points). Both contain the 17 COCO points,
so the body comes out in this project's `coco_17` layout, and models read it through the
layouts' mappings. A point OpenPose did not find is written as `0, 0, 0`: here it is NaN with
confidence 0. OpenPose's 70-point face and 21-point hands have no layout here and are not read.

Of several people in a frame the patient is the one nearest (by the mean of their points) to
the patient of the previous frame, starting from the most confident person of the first frame
with anyone in it; OpenPose keeps no identities between frames.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from semiology.io.ntu_skeleton import SkeletonFileError
from semiology.layouts.body import COCO_17

_BODY_25 = ("nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow", "left_wrist", "mid_hip",
            "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle", "right_eye", "left_eye", "right_ear",
            "left_ear", "left_big_toe", "left_small_toe", "left_heel", "right_big_toe", "right_small_toe", "right_heel")
_COCO_18 = ("nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow", "left_wrist", "right_hip",
            "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle", "right_eye", "left_eye", "right_ear", "left_ear")
MODELS: dict[int, tuple[str, ...]] = {25: _BODY_25, 18: _COCO_18}
"""OpenPose's body models by their number of points, in OpenPose's order."""


def _natural_key(path: Path) -> list[object]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def openpose_files(path: str | Path) -> list[Path]:
    """The frames of an OpenPose output: the `.json` files of a folder in natural order, or one file."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.json"), key=_natural_key)
        if not files:
            raise SkeletonFileError(f"{path}: no OpenPose .json files in the folder")
        return files
    if not path.is_file():
        raise SkeletonFileError(f"{path}: OpenPose keypoints not found")
    return [path]


def _people(path: Path) -> list[np.ndarray]:
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
        people = content["people"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SkeletonFileError(f"{path}: not readable as OpenPose JSON ({error})") from None
    except (KeyError, TypeError):
        raise SkeletonFileError(f"{path}: no 'people' list: not an OpenPose keypoint file") from None
    found = []
    for index, person in enumerate(people):
        values = np.asarray(person.get("pose_keypoints_2d", []) if isinstance(person, dict) else [], dtype=np.float64)
        if values.size % 3 or values.size // 3 not in MODELS:
            raise SkeletonFileError(f"{path}: person {index}: {values.size} pose values; expected BODY_25 (75) or COCO-18 (54)")
        found.append(values.reshape(-1, 3))
    return found


def _to_coco(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    names = MODELS[len(points)]
    index = [names.index(name) for name in COCO_17.joint_names]
    chosen = points[index]
    confidence = np.clip(chosen[:, 2], 0.0, 1.0)
    coords = np.where((confidence > 0)[:, None], chosen[:, :2], np.nan)
    return coords, confidence


def read_openpose(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """The patient's COCO-17 pixels `[T, 17, 2]` and confidence `[T, 17]` from OpenPose JSON (a folder of frames or one file)."""
    files = openpose_files(path)
    coords = np.full((len(files), COCO_17.num_joints, 2), np.nan, dtype=np.float32)
    confidence = np.zeros((len(files), COCO_17.num_joints), dtype=np.float32)
    previous: np.ndarray | None = None
    for frame, file in enumerate(files):
        people = [_to_coco(points) for points in _people(file)]
        people = [(xy, c) for xy, c in people if (c > 0).any()]
        if not people:
            continue
        if previous is None:
            chosen = max(people, key=lambda person: float(person[1].sum()))
        else:
            chosen = min(people, key=lambda person: float(np.linalg.norm(np.nanmean(person[0], axis=0) - previous)))
        coords[frame], confidence[frame] = chosen
        previous = np.nanmean(chosen[0], axis=0)
    return coords, confidence
