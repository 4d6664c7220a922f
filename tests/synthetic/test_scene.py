"""Synthetic IR/depth scenes: ground truth that agrees with the pixels, determinism, files that read back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from semiology.io.video import open_video
from semiology.synthetic.scene import BED, CLINICIAN, CLINICIAN_CLEARANCE_MM, PATIENT, Scene, SceneSpec, _clear_clinician, _clearance, _clinician, render_scene, write_scene


@pytest.fixture(scope="module")
def scene() -> Scene:
    return render_scene(SceneSpec(n_frames=12, clinician_share=0.5, seed=3))


def test_scene_frames_labels_and_keypoints_agree(scene: Scene) -> None:
    assert scene.depth_mm.shape == scene.ir.shape == scene.labels.shape == (12, 424, 512)
    assert scene.depth_mm.dtype == np.uint16 and scene.ir.dtype == np.uint16
    assert scene.joints_3d_mm.shape == (12, 11, 3) and scene.joints_2d_px.shape == (12, 11, 2)
    assert not scene.clinician_present[0] and scene.clinician_present.sum() == 6
    assert (scene.labels[scene.clinician_present] == CLINICIAN).any(axis=(1, 2)).all()
    assert not (scene.labels[~scene.clinician_present] == CLINICIAN).any()
    assert (scene.labels_unoccluded != CLINICIAN).all()
    patient = scene.labels == PATIENT
    # the patient lies on the bed: nearer to the camera than the mattress around it
    assert np.median(scene.depth_mm[patient & (scene.depth_mm > 0)]) < np.median(scene.depth_mm[(scene.labels == BED) & (scene.depth_mm > 0)])
    assert 0.005 < (scene.depth_mm == 0).mean() < 0.05, "pepper-noise dropouts"
    # visible joints project onto patient pixels, the surface a little in front of the joint
    t, v = np.nonzero(scene.visible)
    u_px, v_px = np.round(scene.joints_2d_px[t, v]).astype(int).T
    assert (scene.labels[t, v_px, u_px] == PATIENT).all()
    assert scene.visible.mean() > 0.8


def test_scene_is_deterministic_by_seed() -> None:
    first = render_scene(SceneSpec(n_frames=2, seed=5))
    again = render_scene(SceneSpec(n_frames=2, seed=5))
    other = render_scene(SceneSpec(n_frames=2, seed=6))
    np.testing.assert_array_equal(first.depth_mm, again.depth_mm)
    np.testing.assert_array_equal(first.ir, again.ir)
    assert not np.array_equal(first.depth_mm, other.depth_mm)


@pytest.mark.parametrize("target", ["scene.mkv", "scene_png"])
def test_written_scene_reads_back_exactly(scene: Scene, tmp_path: Path, target: str) -> None:
    path = write_scene(scene, tmp_path / target)
    if path.suffix == ".mkv":
        depth_reader, ir_reader = open_video(path, kind="depth"), open_video(path, kind="ir")
    else:
        depth_reader = open_video(path / "depth", kind="depth", fps=scene.fps)
        ir_reader = open_video(path / "ir", kind="ir", fps=scene.fps)
    assert depth_reader.intrinsics == scene.intrinsics
    assert depth_reader.fps == pytest.approx(scene.fps, rel=1e-3)
    np.testing.assert_array_equal(np.stack([frame.image for frame in depth_reader]), scene.depth_mm)
    np.testing.assert_array_equal(np.stack([frame.image for frame in ir_reader]), scene.ir)


def test_clinician_keeps_clear_of_the_patient() -> None:
    tilt = np.deg2rad(20.0)
    leaning = _clinician(0.5, 1.0, tilt)
    hands = [end for _, end, _ in leaning[-2:]]
    # a patient's raised hand where the clinician's hands would be: the clinician straightens up
    patient = [(hands[0] - np.array([0.0, 0.0, 150.0]), hands[0], 30.0)]
    assert _clearance(leaning, patient) < 0
    cleared = _clear_clinician(0.5, 1.0, tilt, patient)
    assert _clearance(cleared, patient) >= CLINICIAN_CLEARANCE_MM
    assert cleared[0][1][2] == leaning[0][1][2], "the clinician stays on the floor (hips), only the upper body rises"
    assert _clear_clinician(0.5, 1.0, tilt, [(np.zeros(3), np.zeros(3), 10.0)])[2][0][2] == leaning[2][0][2], "no lift when clear"
