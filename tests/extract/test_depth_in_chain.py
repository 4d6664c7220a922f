"""Depth in the extraction chain, through the config: the denoise + bed-crop step, and colour↔depth registration of an Azure Kinect."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from semiology.camera import back_project, world_to_camera
from semiology.config import config_from_dict
from semiology.errors import ConfigError
from semiology.extract.chain import FrameChain
from semiology.extract.config import ExtractionConfig
from semiology.extract.recording import run_chain
from semiology.io.kinect import read_calibration
from semiology.io.manifest import ManifestRow
from semiology.io.registration import DepthToColour, depth_pixels_to_colour
from semiology.io.video import open_video
from semiology.lift.depth import back_project_keypoints
from semiology.preprocess.depth import close_pepper_noise, crop_depth, fit_bed_planes
from semiology.synthetic.scene import PATIENT, SceneSpec, render_scene

LEAN = {"crops": {"enabled": False}, "face": {"enabled": False}, "roi": {"enabled": False}}


class SeenDepth(FrameChain):
    """The real chain, keeping the depth frames it is handed (what the back-projection reads)."""

    def start(self, *args, **kwargs) -> None:
        super().start(*args, **kwargs)
        self.depth_frames: list[np.ndarray] = []

    def process(self, image: np.ndarray, depth_mm: np.ndarray | None = None) -> None:
        self.depth_frames.append(depth_mm)
        super().process(image, depth_mm)


@pytest.fixture(scope="module")
def bed_scene_files(tmp_path_factory: pytest.TempPathFactory):
    scene = render_scene(SceneSpec(subject_index=2, n_frames=4, clinician_share=0.0, seed=0))
    folder = tmp_path_factory.mktemp("scene")
    np.save(folder / "ir.npy", scene.ir)
    np.save(folder / "depth.npy", scene.depth_mm)
    return folder, scene


def test_the_depth_step_denoises_and_crops_to_the_bed_when_the_config_says_so(bed_scene_files) -> None:
    folder, scene = bed_scene_files
    row = ManifestRow("s", "P", {"ir": folder / "ir.npy", "depth": folder / "depth.npy"}, 30.0, 0.0, 0.1)
    plain = SeenDepth(config_from_dict(LEAN, ExtractionConfig))
    run_chain(plain, row, plain.config, progress=False)
    np.testing.assert_array_equal(plain.depth_frames[0], scene.depth_mm[0])
    config = config_from_dict({**LEAN, "depth": {"denoise": True, "bed_crop": True}}, ExtractionConfig)
    chain = SeenDepth(config)
    run_chain(chain, row, config, progress=False)
    closed = close_pepper_noise(scene.depth_mm)
    planes = fit_bed_planes(closed[0], intrinsics=scene.intrinsics)
    for seen, frame, labels in zip(chain.depth_frames, closed, scene.labels):
        np.testing.assert_array_equal(seen, crop_depth(frame, planes)[0])
        assert (seen[labels == PATIENT] > 0).mean() > 0.95, "the patient keeps its depth"
        assert (seen[labels != PATIENT] > 0).mean() < 0.5 * (frame[labels != PATIENT] > 0).mean(), "the room loses it"
    with pytest.raises(ConfigError, match="depth.bed_crop"):
        config_from_dict({"depth": {"bed_crop": "yes please"}}, ExtractionConfig)


def test_colour_and_depth_of_an_azure_kinect_are_registered_not_refused(shared_data: Path) -> None:
    path = shared_data / "depth" / "azure_kinect_recording.mkv"
    row = ManifestRow("k", "P", {"rgb": path, "depth": path}, None, 0.0, 0.01)
    config = config_from_dict(LEAN, ExtractionConfig)
    chain = SeenDepth(config)
    output, _, _ = run_chain(chain, row, config, progress=False)
    calibration = read_calibration(path)
    with open_video(path, kind="depth") as reader:
        depth = next(iter(reader)).image
    [seen] = chain.depth_frames
    assert seen.shape == (720, 1280)
    np.testing.assert_array_equal(seen, DepthToColour(calibration)(depth))
    assert dataclasses.replace(chain.intrinsics, distortion=None) == calibration.colour
    assert chain.intrinsics.distortion == calibration.colour_distortion
    assert output.body_mm is not None and output.body_mm.shape[0] == 1
    # a keypoint on the colour image lifts, through the chain's intrinsics and the registered depth,
    # to the point the depth camera measured there: the colour lens is undone (ignoring it: ~8 mm off, 28 mm at the 90th percentile)
    rows, cols = np.nonzero(depth)
    pixels = np.stack([cols, rows], axis=1)[::53].astype(np.float64)
    readings = depth[rows, cols][::53].astype(np.float64)
    colour_px, _ = depth_pixels_to_colour(pixels, readings, calibration)
    pose = calibration.depth_to_colour
    measured = world_to_camera(back_project(pixels, readings, calibration.depth, calibration.depth_distortion), pose.rotation_matrix, pose.translation)
    inside = (colour_px[:, 0] >= 2) & (colour_px[:, 0] < 1278) & (colour_px[:, 1] >= 2) & (colour_px[:, 1] < 718)
    errors = {}
    for name, intrinsics in (("lens", chain.intrinsics), ("pinhole", calibration.colour)):
        lifted, _ = back_project_keypoints(colour_px[inside][None], seen[None], intrinsics, window_px=1)
        errors[name] = np.linalg.norm(lifted[0] - measured[inside], axis=1)
    assert np.isfinite(errors["lens"]).mean() > 0.99
    assert np.nanmedian(errors["lens"]) < 2.0 and np.nanpercentile(errors["lens"], 90) < 10.0
    assert np.nanmedian(errors["pinhole"]) > 3 * np.nanmedian(errors["lens"])
