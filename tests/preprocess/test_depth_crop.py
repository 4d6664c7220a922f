"""Pepper-noise closing, the bed segmentation and the bed-plane depth crop, measured against the
synthetic scenes' labels on several subjects (each with its own camera placement)."""

from __future__ import annotations

import numpy as np
import pytest

from semiology.camera import CameraIntrinsics
from semiology.preprocess.depth import bed_volume_mask, close_pepper_noise, crop_depth, fit_bed_planes, mask_ir, segment_bed
from semiology.synthetic.scene import BACKGROUND, BED, PATIENT
from tests.preprocess.bed_scenes import SUBJECTS, bed_scene, crop_scores


def test_pepper_closing_fills_zeros_and_keeps_readings() -> None:
    depth = np.full((30, 30), 1200, dtype=np.uint16)
    depth[10:20, 10:20] = 1500
    rng = np.random.default_rng(0)
    holes = rng.random(depth.shape) < 0.05
    noisy = np.where(holes, 0, depth).astype(np.uint16)
    closed = close_pepper_noise(noisy)
    assert closed.dtype == np.uint16 and (closed > 0).all()
    np.testing.assert_array_equal(closed[~holes], depth[~holes])
    assert np.isin(closed[holes], [1200, 1500]).all()
    assert close_pepper_noise(np.stack([noisy, noisy])).shape == (2, 30, 30)


@pytest.mark.parametrize("subject_index", SUBJECTS)
def test_bed_is_the_nearest_bed_sized_plane(subject_index: int) -> None:
    scene, _, planes = bed_scene(subject_index)
    region = planes.region
    assert region is not None, "a bed was found"
    labels = scene.labels[0]
    assert (labels[region.surface] == BED).mean() >= 0.95, "the chosen plane is the mattress"
    assert region.surface[labels == BED].mean() >= 0.5, "and much of it (its rim by the patient and the edges has no clean normal)"
    assert 1800.0 <= region.extent_mm[0] <= 2400.0 and 700.0 <= region.extent_mm[1] <= 1000.0, "a 2.2 m x 0.9 m bed"
    assert region.background, "floor and wall were found too, further away"
    for index in region.background:
        assert region.candidates[index].median_depth_mm > region.median_depth_mm
    assert region.mask[labels == PATIENT].mean() >= 0.95, "the patient lies inside the bed's outline"


@pytest.mark.parametrize("subject_index", SUBJECTS)
def test_bed_crop_keeps_the_patient_and_removes_the_clinician(subject_index: int) -> None:
    scene, depth, planes = bed_scene(subject_index)
    assert planes.length_axis == "v" == planes.region.long_side_axis(), "the bed runs up the image"  # type: ignore[union-attr]
    low, high = planes.height_range_mm  # type: ignore[misc]
    assert low <= -30.0 < 200.0 < high < 500.0
    near, far = planes.surfaces()
    bed = planes.region.surface  # type: ignore[union-attr]
    assert near.shape == (424, 512) and (far[bed] - near[bed] > 0).all()
    cropped, mask = crop_depth(depth, planes)
    patient_kept, clinician_removed, in_front = crop_scores(scene.labels, scene.labels_unoccluded, mask)
    assert in_front > 1000
    assert patient_kept >= 0.95, f"patient kept {patient_kept:.3f}"
    assert clinician_removed >= 0.90, f"clinician removed {clinician_removed:.3f}"
    assert mask[scene.labels == BACKGROUND].mean() < 0.01, "the room is gone"
    slab = bed_volume_mask(depth, planes, grow=False)
    assert not (slab & ~mask).any() and mask[scene.labels == PATIENT].sum() > slab[scene.labels == PATIENT].sum(), (
        "growth only adds, and adds the raised arms"
    )
    assert (cropped[~mask] == 0).all() and (cropped[mask] == depth[mask]).all()
    ir = mask_ir(scene.ir, mask)
    assert (ir[~mask] == 0).all() and (ir[mask] == scene.ir[mask]).all()


def test_bed_across_the_image_is_found_along_the_other_axis() -> None:
    scene, depth, _ = bed_scene(SUBJECTS[2])
    intrinsics = scene.intrinsics
    turned = CameraIntrinsics(fx=intrinsics.fy, fy=intrinsics.fx, cx=intrinsics.cy, cy=intrinsics.cx, width=intrinsics.height, height=intrinsics.width)
    depth_t = np.ascontiguousarray(depth.transpose(0, 2, 1))
    planes = fit_bed_planes(depth_t[0], intrinsics=turned)
    assert planes.length_axis == "u"
    _, mask = crop_depth(depth_t, planes)
    patient_kept, clinician_removed, _ = crop_scores(scene.labels.transpose(0, 2, 1), scene.labels_unoccluded.transpose(0, 2, 1), mask)
    assert patient_kept >= 0.95 and clinician_removed >= 0.90


def test_without_a_bed_sized_plane_the_whole_frame_is_fitted_with_a_warning() -> None:
    noise = np.random.default_rng(0).uniform(800, 4000, (424, 512)).astype(np.uint16)
    with pytest.raises(ValueError, match="bed"):
        segment_bed(noise)
    with pytest.warns(RuntimeWarning, match="no bed region"):
        planes = fit_bed_planes(noise)
    assert planes.region is None and planes.height_range_mm is None
    assert bed_volume_mask(noise, planes).shape == noise.shape
    with pytest.raises(ValueError, match="intrinsics"):
        fit_bed_planes(noise[:, :300], intrinsics=bed_scene(SUBJECTS[0])[0].intrinsics)
