"""Pepper-noise closing and the bed-plane depth crop, measured against the synthetic scene's labels."""

from __future__ import annotations

import numpy as np

from semiology.preprocess.depth import close_pepper_noise, crop_depth, fit_bed_planes, mask_ir
from semiology.synthetic.scene import BED, CLINICIAN, PATIENT, SceneSpec, render_scene


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


def test_bed_crop_keeps_the_patient_and_removes_the_clinician() -> None:
    scene = render_scene(SceneSpec(subject_index=10, n_frames=16, clinician_share=0.6, seed=0))
    depth = close_pepper_noise(scene.depth_mm)
    planes = fit_bed_planes(depth[0])
    assert planes.length_axis == "v", "the bed runs up the image"
    near, far = planes.surfaces()
    assert near.shape == (424, 512) and (far - near > 0).all()
    cropped, mask = crop_depth(depth, planes)
    patient_kept = mask[scene.labels == PATIENT].mean()
    in_front = (scene.labels == CLINICIAN) & np.isin(scene.labels_unoccluded, [PATIENT, BED])
    clinician_removed = 1.0 - mask[in_front].mean()
    assert in_front.sum() > 1000
    assert patient_kept >= 0.95 and clinician_removed >= 0.90
    assert (cropped[~mask] == 0).all() and (cropped[mask] == depth[mask]).all()
    ir = mask_ir(scene.ir, mask)
    assert (ir[~mask] == 0).all() and (ir[mask] == scene.ir[mask]).all()
