"""The action stream's input: real 16-bit IR scaled as the keypoint path scales it, the bed crop from depth, I3D's [-1, 1]."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from semiology.cli import extract_i3d
from semiology.extract.recording import IrScaler
from semiology.extract.snippets import I3DInput, clip_frames, read_frames
from semiology.io.cache import cache_path
from semiology.io.manifest import ManifestRow, write_manifest
from semiology.io.snippet_cache import load_sample_features
from semiology.io.video import open_video
from semiology.models.i3d import I3D
from semiology.preprocess.depth import bed_crop_box
from semiology.preprocess.i3d_input import prepare_clip
from semiology.synthetic.scene import PATIENT, SceneSpec, render_scene


def _contrast(values: np.ndarray) -> float:
    low, high = np.percentile(values, [1, 99])
    return float(high - low)


def test_i3d_sees_the_real_ir_frame_with_the_contrast_of_the_keypoint_path(shared_data: Path) -> None:
    path = shared_data / "depth" / "azure_kinect_recording.mkv"
    with open_video(path, kind="ir") as reader:
        raw = next(iter(reader)).image
    assert raw.dtype == np.uint16
    frames, _ = read_frames(path, "ir", fps=30.0)
    scaled = IrScaler(1.0, 99.0)(raw)
    np.testing.assert_array_equal(frames[0], scaled)
    clip = prepare_clip(frames, fit="crop")
    assert clip.shape == (3, 1, 224, 224) and float(clip.min()) >= -1.0 and float(clip.max()) <= 1.0
    seen = (clip[0].numpy() + 1.0) * 127.5  # back to the 0..255 of the scaled frame
    # the central square of the scaled frame, the part the crop keeps
    height, width = scaled.shape
    side = min(height, width)
    centre = scaled[(height - side) // 2 : (height + side) // 2, (width - side) // 2 : (width + side) // 2].astype(np.float64)
    assert _contrast(seen) == pytest.approx(_contrast(centre), rel=0.1)
    assert float(seen.std()) == pytest.approx(float(centre.std()), rel=0.1)
    assert _contrast(seen) > 150, "the clip spans the 8-bit range as the scaled frame does"
    with pytest.raises(ValueError, match="scale 16-bit IR"):
        prepare_clip(raw[None])


@pytest.fixture(scope="module")
def bed_recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, np.ndarray]:
    """A synthetic EMU recording (a patient on a tilted bed, IR and depth 512x424) as .npy stacks, 90 frames."""
    scene = render_scene(SceneSpec(subject_index=0, n_frames=10, clinician_share=0.0, seed=0))
    folder = tmp_path_factory.mktemp("bed")
    repeat = (9, 1, 1)
    np.save(folder / "ir.npy", np.tile(scene.ir, repeat))
    np.save(folder / "depth.npy", np.tile(scene.depth_mm, repeat))
    return folder / "ir.npy", folder / "depth.npy", scene.labels[0]


def test_the_bed_crop_keeps_the_patient_and_cuts_the_room(bed_recording: tuple[Path, Path, np.ndarray]) -> None:
    ir, depth, labels = bed_recording
    whole, _, no_box = clip_frames(ir, I3DInput(bed_crop=False), 30.0, depth)
    cropped, _, box = clip_frames(ir, I3DInput(), 30.0, depth)
    assert no_box is None and box is not None and whole.dtype == cropped.dtype == np.uint8
    u0, v0, u1, v1 = box
    assert cropped.shape == (90, v1 - v0, u1 - u0)
    assert cropped.shape[1] * cropped.shape[2] < 0.8 * whole.shape[1] * whole.shape[2], "the room around the bed is cut"
    rows, cols = np.nonzero(labels == PATIENT)
    inside = (cols >= u0) & (cols < u1) & (rows >= v0) & (rows < v1)
    assert inside.mean() > 0.99, "the patient stays in the crop"
    assert box == bed_crop_box(np.load(depth)[0])


def test_extract_i3d_crops_to_the_bed_where_the_row_has_depth(tmp_path: Path, bed_recording: tuple[Path, Path, np.ndarray]) -> None:
    """Through the command: the same recording with and without the bed crop gives different features, and reruns are skipped."""
    ir, depth, _ = bed_recording
    torch.manual_seed(0)
    checkpoint = tmp_path / "random_i3d.pt"
    torch.save(I3D(num_classes=400).state_dict(), checkpoint)  # random weights stand in for the user's pytorch-i3d file
    rows = [ManifestRow("s1", "P1", {"ir": ir, "depth": depth}, 30.0, 1.0, 2.0, labels={"generalisation": "FOS"})]
    manifest = write_manifest(rows, tmp_path / "manifest.csv")
    common = ["--manifest", str(manifest), "--checkpoint", str(checkpoint), "--size", "32"]
    assert extract_i3d([*common, "--out", str(tmp_path / "crop"), "--no-progress"]) == 0
    assert extract_i3d([*common, "--out", str(tmp_path / "whole"), "--no-bed-crop", "--no-progress"]) == 0
    features = {}
    for name in ("crop", "whole"):
        files = list((tmp_path / name).glob("*.npz"))
        assert len(files) == 1
        _, samples = load_sample_features(files[0])
        features[name] = samples.features
    assert features["crop"].shape == features["whole"].shape
    assert not np.allclose(features["crop"], features["whole"])
    assert cache_path(tmp_path / "crop", "s1").is_file()
