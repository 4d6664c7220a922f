"""MediaPipe body and face estimators on real clips from ../shared/data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from semiology.detect.mediapipe_face import MediaPipeFaceDetector, MediaPipeFaceMesh
from semiology.detect.mediapipe_pose import MediaPipePose
from semiology.io.video import open_video
from semiology.layouts.body import MEDIAPIPE_33


def _frames(path: Path) -> list[np.ndarray]:
    with open_video(path) as reader:
        return [frame.image for frame in reader]


@pytest.mark.parametrize("clip", ["kinetics_tai_chi.mp4", "kinetics_arm_wrestling.mp4"])
def test_body_found_in_most_frames_and_stays_on_one_person(shared_data: Path, clip: str) -> None:
    frames = _frames(shared_data / "video" / clip)
    shoulders = [MEDIAPIPE_33.index("left_shoulder"), MEDIAPIPE_33.index("right_shoulder")]
    centres = []
    with MediaPipePose() as pose:
        for image in frames:
            found = pose.estimate(image)
            centres.append(found.points_px[shoulders].mean(axis=0) if found is not None else (np.nan, np.nan))
    centres = np.asarray(centres)
    found_fraction = np.isfinite(centres[:, 0]).mean()
    assert found_fraction >= 0.90, f"{clip}: body found in {found_fraction:.1%} of frames"
    # One person throughout: the shoulder centre never jumps a quarter of the frame between found frames.
    steps = np.linalg.norm(np.diff(centres[np.isfinite(centres[:, 0])], axis=0), axis=1)
    width = frames[0].shape[1]
    assert (steps < 0.25 * width).mean() >= 0.98, f"{clip}: the tracked person switches (max step {steps.max():.0f} px)"


@pytest.mark.parametrize("clip", ["face_single.mp4", "face_carphone_qcif.mp4"])
def test_face_found_in_nearly_every_frame(shared_data: Path, clip: str) -> None:
    frames = _frames(shared_data / "video" / clip)
    with MediaPipeFaceDetector("short") as detector, MediaPipeFaceMesh() as mesh:
        boxes = [detector.detect(image) for image in frames]
        landmarks = [mesh.estimate(image) for image in frames]
    detected = np.mean([bool(found) for found in boxes])
    meshed = np.mean([found is not None for found in landmarks])
    assert detected >= 0.95, f"{clip}: face detection found a face in {detected:.1%} of frames"
    assert meshed >= 0.95, f"{clip}: face mesh found a face in {meshed:.1%} of frames"
    first = next(found for found in landmarks if found is not None)
    assert first.points_px.shape == (23, 2) and first.layout == "face_23"
    box = next(found for found in boxes if found)[0].box
    # The mesh's landmarks lie in the detector's face box (both see the same face).
    assert box.contains(first.points_px).mean() >= 0.8
    # Anatomy: the subject's right eye is on the image's left in a frontal view; mouth below nose.
    right_eye, left_eye = first.points_px[6], first.points_px[12]
    nose_tip, mouth_top = first.points_px[16], first.points_px[20]
    assert right_eye[0] < left_eye[0] and mouth_top[1] > nose_tip[1]


def test_grey_frame_is_accepted_and_16_bit_is_refused(shared_data: Path) -> None:
    frames = _frames(shared_data / "video" / "kinetics_tai_chi.mp4")[:3]
    grey = [image.mean(axis=2).astype(np.uint8) for image in frames]
    with MediaPipePose(video_mode=False) as pose:
        assert pose.estimate(grey[0]) is not None
        with pytest.raises(ValueError, match="ir_to_uint8"):
            pose.estimate(grey[0].astype(np.uint16))
        detections = pose.detect(frames[0])
    assert len(detections) == 1 and detections[0].label == "person"
    assert 0 < detections[0].box.width <= frames[0].shape[1]
