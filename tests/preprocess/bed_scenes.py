"""Synthetic bed scenes shared by the depth-crop and ROI tests: rendered and fitted once per session."""

from __future__ import annotations

from functools import cache

import numpy as np

from semiology.preprocess.depth import BedPlanes, close_pepper_noise, fit_bed_planes
from semiology.synthetic.scene import BED, CLINICIAN, PATIENT, Scene, SceneSpec, render_scene

SUBJECTS = (0, 2, 4, 6, 8, 10)
"""Six subjects, each with its own camera placement (seed 0, clinician in 60 % of the frames)."""
N_FRAMES = 10


@cache
def bed_scene(subject_index: int) -> tuple[Scene, np.ndarray, BedPlanes]:
    """A scene, its pepper-closed depth and the bed planes fitted on its first frame."""
    scene = render_scene(SceneSpec(subject_index=subject_index, n_frames=N_FRAMES, clinician_share=0.6, seed=0))
    depth = close_pepper_noise(scene.depth_mm)
    return scene, depth, fit_bed_planes(depth[0], intrinsics=scene.intrinsics)


def crop_scores(labels: np.ndarray, unoccluded: np.ndarray, mask: np.ndarray) -> tuple[float, float, int]:
    """Share of patient pixels kept, share of the clinician pixels in front of the bed (or the
    patient on it) removed, and how many such clinician pixels there are."""
    in_front = (labels == CLINICIAN) & np.isin(unoccluded, [PATIENT, BED])
    return float(mask[labels == PATIENT].mean()), float(1.0 - mask[in_front].mean()), int(in_front.sum())
