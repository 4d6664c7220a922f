"""Regions of interest: box arithmetic, patient selection among several people, tracking, the synthetic ROI."""

from __future__ import annotations

import numpy as np
import pytest

from semiology.detect.base import Detector
from semiology.preprocess.depth import BedPlanes, crop_depth
from semiology.preprocess.roi import crop, crop_offset, expand_box, mask_box, patient_bed_box, select_patient, smooth_boxes, track_patient
from semiology.records import Box, Detection
from tests.preprocess.bed_scenes import SUBJECTS, bed_scene


def test_expand_box_adds_thirty_percent_each_side_and_clips() -> None:
    assert expand_box(Box(100, 100, 200, 150), 0.3, 512, 424) == Box(70, 85, 230, 165)
    assert expand_box(Box(0, 400, 100, 424), 0.3, 512, 424) == Box(0, 392.8, 130, 424)


def test_patient_is_the_one_on_the_bed_then_the_tracked_one_then_the_largest() -> None:
    bed = Box(100, 50, 300, 400)
    patient = Detection(Box(150, 100, 250, 350), 0.9)
    clinician = Detection(Box(280, 0, 500, 420), 0.95)
    assert select_patient([clinician, patient], bed=bed) is patient
    assert select_patient([clinician, patient], previous=Box(140, 90, 240, 340)) is patient
    assert select_patient([patient, clinician]) is clinician
    assert select_patient([Detection(Box(0, 0, 10, 10), 0.9, label="face")]) is None


def test_tracked_box_is_smoothed_and_waits_for_the_first_sighting() -> None:
    frames = [[], [Detection(Box(0, 0, 100, 100), 0.9)], [], [Detection(Box(10, 0, 110, 100), 0.9)]]
    boxes = track_patient(frames, alpha=0.5)
    assert np.isnan(boxes[0]).all()
    np.testing.assert_allclose(boxes[1:3], [[0, 0, 100, 100]] * 2)
    np.testing.assert_allclose(boxes[3], [5, 0, 105, 100])
    with pytest.raises(ValueError):
        smooth_boxes(boxes, alpha=0.0)


def test_crop_and_offset_map_back_to_the_image() -> None:
    image = np.arange(100 * 80).reshape(80, 100)
    box = Box(10.4, 20.6, 30.2, 40.0)
    window = crop(image, box)
    u0, v0 = crop_offset(box)
    assert window.shape == (20, 21) and window[0, 0] == image[v0, u0]


class BedVolumeDetector:
    """The largest region of the bed volume as a 'person' box: a depth-only stand-in detector."""

    name = "bed_volume"

    def __init__(self, planes: BedPlanes) -> None:
        self.planes = planes

    def detect(self, image: np.ndarray) -> list[Detection]:
        box = mask_box(crop_depth(image, self.planes)[1])
        return [] if box is None else [Detection(box, 1.0)]


@pytest.mark.parametrize("subject_index", SUBJECTS)
def test_patient_bed_box_on_synthetic_scenes_holds_the_visible_keypoints(subject_index: int) -> None:
    scene, depth, planes = bed_scene(subject_index)
    detector = BedVolumeDetector(planes)
    assert isinstance(detector, Detector)
    bed = mask_box(crop_depth(depth[0], planes)[1])
    roi = patient_bed_box([detector.detect(frame) for frame in depth[:5]], 512, 424, bed=bed)
    assert roi is not None
    held = [roi.contains(scene.joints_2d_px[t][scene.visible[t]]).all() for t in range(scene.n_frames)]
    assert np.mean(held) >= 0.95
    assert roi.area < 0.8 * 512 * 424, "the crop is smaller than the frame"
