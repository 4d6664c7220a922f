"""A newcomer's path: videos and images on the command line (no manifest, no clinical times), quiet logs, shipped encoders."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

from semiology.detect.mediapipe_pose import NATIVE_LOGS_ENV
from semiology.experiment import EncoderConfig
from semiology.extract.cli import extract_keypoints
from semiology.extract.encoders import SHIPPED_DIR, encoder_file, extraction_encoders
from semiology.io.cache import cache_path, load_record
from semiology.io.video import open_video

NATIVE_LOG_LINES = re.compile(r"inference_feedback_manager|absl::InitializeLog|XNNPACK")


@pytest.fixture()
def inputs(shared_data: Path, tmp_path: Path) -> tuple[Path, Path]:
    with open_video(shared_data / "video" / "kinetics_tai_chi.mp4") as reader:
        frames = np.stack([frame.image for _, frame in zip(range(12), reader)])
    np.save(tmp_path / "patient_07.npy", frames)
    return tmp_path / "patient_07.npy", shared_data / "faces" / "pyfeat" / "single_face.jpg"


def test_videos_and_an_image_are_extracted_without_a_manifest_and_native_logs_stay_quiet(
    inputs: tuple[Path, Path], tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(NATIVE_LOGS_ENV, "0")
    video, image = inputs
    config = tmp_path / "fast.yaml"
    config.write_text("crops:\n  features: false\n")
    out = tmp_path / "out"
    assert extract_keypoints([str(video), str(image), "--fps", "30", "--out", str(out), "--config", str(config), "--no-progress"]) == 0
    printed = capfd.readouterr()
    assert "2 of 2 recordings ready" in printed.out
    assert not NATIVE_LOG_LINES.search(printed.err), printed.err
    clip = load_record(cache_path(out, "patient_07"))
    assert clip.num_frames == 12 and clip.subject_id == "unassigned" and np.isnan(clip.onset_s) and np.isnan(clip.offset_s)
    assert (clip.body_2d.confidence > 0).any(axis=1).mean() >= 0.9
    still = load_record(cache_path(out, "single_face"))
    assert still.num_frames == 1 and (still.face_2d.confidence > 0).any()

    assert extract_keypoints([str(image), "--out", str(tmp_path / "loud"), "--config", str(config), "--no-progress", "--verbose"]) == 0
    assert NATIVE_LOG_LINES.search(capfd.readouterr().err), "--verbose shows MediaPipe's own log lines"


def test_a_missing_recording_fails_its_row_and_a_manifest_beside_videos_is_refused(
    inputs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    video, _ = inputs
    assert extract_keypoints([str(video), str(tmp_path / "nowhere.mp4"), "--fps", "30", "--out", str(tmp_path / "out"), "--no-progress"]) == 1
    printed = capsys.readouterr().out
    assert re.search(r"nowhere\.mp4 +failed .*nowhere\.mp4: no such file", printed) and "1 of 2 recordings ready" in printed
    assert extract_keypoints([str(video), "--fps", "0", "--out", str(tmp_path / "out")]) == 2
    assert "fps must be a positive number" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stopped:
        extract_keypoints([str(video), "--manifest", str(tmp_path / "m.csv"), "--out", str(tmp_path / "out")])
    assert stopped.value.code == 2
    with pytest.raises(SystemExit):
        extract_keypoints(["--out", str(tmp_path / "out")])


def test_the_shipped_encoders_are_used_as_they_are_and_match_their_listed_sha256(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import semiology.models.appearance as appearance

    def no_pretraining(*args: object, **kwargs: object) -> None:
        raise AssertionError("a crop encoder was pretrained although one is shipped")

    monkeypatch.setattr(appearance, "pretraining_set", no_pretraining)
    readme = (SHIPPED_DIR / "README.md").read_text()
    config = EncoderConfig()
    encoders = extraction_encoders(("body", "face"), config, 32, tmp_path / "encoders")
    assert set(encoders) == {"body", "face"}
    for stream in ("body", "face"):
        shipped = SHIPPED_DIR / encoder_file(stream, config)
        assert shipped.stat().st_size < 2_000_000
        assert hashlib.sha256(shipped.read_bytes()).hexdigest() in readme, f"{shipped.name}: its sha256 is not the one checkpoints/README.md lists"
        assert (tmp_path / "encoders" / shipped.name).read_bytes() == shipped.read_bytes()
