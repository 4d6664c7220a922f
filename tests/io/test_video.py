"""Readers: real clips and the Azure Kinect recording, round trips through the writers, bad inputs."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from semiology.camera import KINECT_V2_DEPTH, back_project, project
from semiology.errors import VideoError
from semiology.io.video import Frame, VideoReader, ir_to_uint8, open_video
from semiology.io.video_write import write_image_folder, write_tracks_mkv

CLIPS = {  # name: (frames, fps, width, height)
    "kinetics_tai_chi.mp4": (300, 30000 / 1001, 340, 256),
    "kinetics_arm_wrestling.mp4": (280, 28.0, 340, 256),
    "face_single.mp4": (72, 30.0, 640, 360),
    "kinetics_face_makeup.avi": (164, 25.0, 320, 240),
}


@pytest.mark.parametrize("name", sorted(CLIPS))
def test_real_clips_give_their_frame_count_fps_and_size(shared_data: Path, name: str) -> None:
    n_frames, fps, width, height = CLIPS[name]
    with open_video(shared_data / "video" / name) as reader:
        assert (reader.kind, reader.width, reader.height, reader.dtype) == ("rgb", width, height, np.uint8)
        assert reader.fps == pytest.approx(fps, rel=1e-4)
        assert reader.n_frames == n_frames
        assert reader.intrinsics is None
        frames = list(reader)
    assert len(frames) == n_frames
    assert [frame.index for frame in frames] == list(range(n_frames))
    assert frames[0].time_s == 0.0
    assert frames[-1].time_s == pytest.approx((n_frames - 1) / fps, abs=1.5 / fps)
    assert frames[0].image.shape == (height, width, 3)


def test_reader_is_lazy_and_re_iterable(shared_data: Path) -> None:
    reader = open_video(shared_data / "video" / "face_single.mp4", kind="ir")
    first = next(iter(reader))
    again = next(iter(reader))
    assert isinstance(reader, VideoReader) and isinstance(first, Frame)
    assert first.image.shape == (360, 640) and first.image.dtype == np.uint8
    np.testing.assert_array_equal(first.image, again.image)


def test_azure_kinect_depth_and_ir_tracks_with_calibrated_intrinsics(shared_data: Path) -> None:
    path = shared_data / "depth" / "azure_kinect_recording.mkv"
    with open_video(path, kind="depth") as depth_reader:
        depth = next(iter(depth_reader)).image
        intrinsics = depth_reader.intrinsics
    with open_video(path, kind="ir") as ir_reader:
        ir = next(iter(ir_reader)).image
        assert ir_reader.intrinsics == intrinsics
    assert depth.shape == (576, 640) and depth.dtype == np.uint16
    assert ir.shape == (576, 640) and ir.dtype == np.uint16
    valid = depth[depth > 0]
    assert 300 < np.median(valid) < 3000, "a desk scene a metre or so away, in millimetres"
    assert ir.max() > 255, "IR keeps its 16-bit counts"
    assert intrinsics is not None and depth_reader.distortion is not None
    # NFOV unbinned: ~75 x 65 degree field of view, principal point near the image centre
    assert (intrinsics.width, intrinsics.height) == (640, 576)
    assert intrinsics.fx == pytest.approx(504.6, abs=0.5) and intrinsics.fy == pytest.approx(504.7, abs=0.5)
    assert abs(intrinsics.cx - 320) < 20 and abs(intrinsics.cy - 288) < 70
    # the desk's depth pixels back-project to points that project back onto themselves
    rows, cols = np.nonzero(depth)
    pixels = np.stack([cols, rows], axis=1)[::997].astype(np.float64)
    points = back_project(pixels, depth[rows, cols][::997], intrinsics)
    np.testing.assert_allclose(project(points, intrinsics), pixels, atol=1e-6)
    with open_video(path, kind="rgb") as colour:
        assert (colour.width, colour.height, colour.dtype) == (1280, 720, np.uint8)
        assert colour.intrinsics is not None and colour.intrinsics.width == 1280


def test_ir_to_uint8_scales_between_robust_percentiles() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(1000, 3000, size=(64, 64)).astype(np.uint16)
    image[0, 0] = 65535  # one saturated pixel must not squash the rest
    image[1, 1] = 0  # no return: ignored
    scaled = ir_to_uint8(image)
    assert scaled.dtype == np.uint8
    assert scaled[2:, 2:].std() > 50
    assert scaled[0, 0] == 255 and scaled[1, 1] == 0
    brighter = ir_to_uint8(image, gamma=0.5)
    assert brighter[2:, 2:].mean() > scaled[2:, 2:].mean()


def test_tracks_mkv_round_trips_depth_ir_and_rgb_exactly(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    depth = rng.integers(0, 8000, size=(3, 42, 52), dtype=np.uint16)
    ir = rng.integers(0, 65535, size=(3, 42, 52), dtype=np.uint16)
    rgb = rng.integers(0, 255, size=(3, 42, 52, 3), dtype=np.uint8)
    path = write_tracks_mkv(tmp_path / "scene.mkv", {"depth": depth, "ir": ir, "rgb": rgb}, fps=30.0, intrinsics=KINECT_V2_DEPTH)
    for kind, expected in (("depth", depth), ("ir", ir), ("rgb", rgb)):
        with open_video(path, kind=kind) as reader:
            frames = list(reader)
            assert reader.fps == pytest.approx(30.0)
            assert reader.intrinsics == (None if kind == "rgb" else KINECT_V2_DEPTH)
        np.testing.assert_array_equal(np.stack([frame.image for frame in frames]), expected)
        assert [frame.time_s for frame in frames] == pytest.approx([0.0, 1 / 30, 2 / 30], abs=1e-3)


def test_png_folder_and_array_stacks_need_fps_and_read_back(tmp_path: Path) -> None:
    depth = np.random.default_rng(2).integers(0, 5000, size=(4, 424, 512), dtype=np.uint16)
    folder = write_image_folder(tmp_path / "frames", depth)
    with pytest.raises(VideoError, match="frame rate"):
        open_video(folder)
    reader = open_video(folder, kind="depth", fps=30.0)
    assert reader.n_frames == 4 and reader.intrinsics == KINECT_V2_DEPTH
    np.testing.assert_array_equal(np.stack([frame.image for frame in reader]), depth)
    np.save(tmp_path / "stack.npy", depth)
    np.savez(tmp_path / "stack.npz", depth=depth, ir=depth // 2)
    assert np.array_equal(next(iter(open_video(tmp_path / "stack.npy", "depth", fps=30))).image, depth[0])
    assert np.array_equal(next(iter(open_video(tmp_path / "stack.npz", "ir", fps=30))).image, depth[0] // 2)
    assert [frame.time_s for frame in open_video(tmp_path / "stack.npy", fps=10)] == pytest.approx([0, 0.1, 0.2, 0.3])


def test_missing_file_and_empty_inputs_are_video_errors(tmp_path: Path) -> None:
    with pytest.raises(VideoError, match="no such file"):
        open_video(tmp_path / "absent.mp4")
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(VideoError, match="empty"):
        open_video(tmp_path / "empty.mp4")
    (tmp_path / "no_frames").mkdir()
    with pytest.raises(VideoError, match="zero frames"):
        open_video(tmp_path / "no_frames", fps=30)
    np.save(tmp_path / "none.npy", np.zeros((0, 4, 4), dtype=np.uint16))
    with pytest.raises(VideoError, match="zero frames"):
        open_video(tmp_path / "none.npy", fps=30)


def test_container_with_a_video_stream_but_zero_frames(tmp_path: Path) -> None:
    path = tmp_path / "zero.mkv"
    with av.open(str(path), "w") as container:
        video = container.add_stream("ffv1", rate=30)
        video.width, video.height, video.pix_fmt = 64, 48, "gray16le"
        audio = container.add_stream("pcm_s16le", rate=8000)
        samples = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
        samples.sample_rate, samples.pts = 8000, 0
        container.mux(audio.encode(samples))
        container.mux(audio.encode())
    with pytest.raises(VideoError, match=r"zero\.mkv.*zero frames"):
        open_video(path)


def test_truncated_real_mp4_is_a_video_error(shared_data: Path, tmp_path: Path) -> None:
    data = (shared_data / "video" / "kinetics_tai_chi.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])  # index at the end: the container cannot be opened
    with pytest.raises(VideoError, match=r"cut\.mp4.*truncated or corrupt"):
        list(open_video(cut))
    source = av.open(str(shared_data / "video" / "kinetics_tai_chi.mp4"))
    faststart = tmp_path / "faststart.mp4"
    with av.open(str(faststart), "w", options={"movflags": "faststart"}) as out:
        stream = out.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    source.close()
    data = faststart.read_bytes()
    cut.write_bytes(data[: len(data) // 2])  # index first: opens, then runs out of frames
    reader = open_video(cut)
    with pytest.raises(VideoError, match=r"cut\.mp4.*(truncated|corrupt)"):
        list(reader)


def _write_mpeg4_avi(path: Path) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for level in range(3):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.full((48, 64, 3), level * 50, np.uint8), format="rgb24")))
        container.mux(stream.encode())


def test_unsupported_codec_is_a_video_error(tmp_path: Path) -> None:
    path = tmp_path / "clip.avi"
    _write_mpeg4_avi(path)
    assert len(list(open_video(path))) == 3
    unknown = tmp_path / "unknown_codec.avi"
    unknown.write_bytes(path.read_bytes().replace(b"FMP4", b"QZQZ"))  # a FourCC no decoder knows
    with pytest.raises(VideoError, match=r"unknown_codec\.avi.*unsupported codec"):
        open_video(unknown)


def test_eight_bit_where_sixteen_bit_depth_declared_is_a_video_error(tmp_path: Path) -> None:
    eight_bit = np.full((2, 48, 64), 100, dtype=np.uint8)
    titled = write_tracks_mkv(tmp_path / "depth8.mkv", {"depth": eight_bit}, fps=30)
    with pytest.raises(VideoError, match=r"depth8\.mkv.*16-bit depth"):
        open_video(titled)
    with pytest.raises(VideoError, match="16-bit depth"):
        open_video(write_image_folder(tmp_path / "frames8", eight_bit), kind="depth", fps=30)
    with pytest.raises(VideoError, match="no IR track"):
        open_video(titled, kind="ir")
