"""Following the patient: identities, re-acquisition, view changes, presence checks, and what goes into the cache."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from semiology.config import config_from_dict
from semiology.errors import CacheError, ConfigError
from semiology.explain.video import BLANK_NOTE, write_overlay_video
from semiology.extract.chain import FrameChain
from semiology.extract.config import ExtractionConfig
from semiology.extract.recording import recording_stats
from semiology.io.cache import load_record, save_record
from semiology.io.video import open_video
from semiology.preprocess.roi import PatientTracker, PresenceSchedule, ViewChange, other_people
from semiology.records import Box, Keypoints, SeizureRecord


def test_a_jump_to_another_person_is_refused_and_a_lost_patient_is_taken_up_as_a_new_track() -> None:
    tracker = PatientTracker(640, 480, reacquire_frames=3)
    patient, clinician = Box(100, 100, 200, 300), Box(400, 100, 500, 300)
    assert tracker.update(0, patient) == 0
    assert tracker.search_box is not None and tracker.search_box.contains(np.array(patient.centre))
    assert tracker.update(1, Box(105, 102, 205, 302)) == 0
    assert tracker.update(2, clinician) == -1, "the track jumped to the clinician"
    assert tracker.update(3, Box(108, 100, 208, 300)) == 0
    for frame in (4, 5, 6):
        tracker.update(frame, None)
    assert tracker.search_box is None, "a lost patient is searched in the whole frame"
    assert tracker.update(7, clinician) == 1
    assert [event.event for event in tracker.events] == ["acquired", "refused", "lost", "reacquired"]


def test_a_seed_box_keeps_a_bystander_from_starting_the_track_and_a_view_change_restarts_it() -> None:
    bed = Box(0, 0, 300, 480)
    tracker = PatientTracker(640, 480, seed=bed)
    assert tracker.search_box == bed, "without a track the seed is searched, not the whole frame"
    assert tracker.update(0, Box(400, 100, 500, 300)) == -1
    assert tracker.update(1, Box(100, 100, 200, 300)) == 0
    tracker.view_changed(2)
    assert tracker.search_box == bed
    assert tracker.update(2, Box(20, 50, 280, 470)) == 1, "after a view change the patient may be anywhere, at any size"


def test_presence_drops_a_tentative_track_whole_and_a_confirmed_one_only_after_a_second_of_misses() -> None:
    schedule = PresenceSchedule(every_frames=30, recheck_frames=3)
    schedule.start_track(100)
    assert not schedule.due(102) and schedule.due(103)
    assert schedule.result(103, present=False) is None
    assert schedule.result(106, present=False) == 100
    schedule.start_track(200)
    assert schedule.result(203, present=True) is None
    assert not schedule.due(230) and schedule.due(233)
    assert schedule.result(233, present=False) is None
    assert schedule.result(236, present=True) is None, "one miss of a fresh detector is not an empty scene"
    assert schedule.result(266, present=False) is None
    assert schedule.result(269, present=False) is None
    assert schedule.result(296, present=False) == 266


def _frames(path: Path, kind: str | None = None) -> list[np.ndarray]:
    with open_video(path, kind=kind) as reader:
        return [frame.image for frame in reader]


def test_a_camera_cut_is_a_view_change_and_motion_is_not(shared_data: Path) -> None:
    frames = _frames(shared_data / "video" / "face_carphone_qcif.mp4")[:40]
    detector = ViewChange(0.6)
    assert not any(detector(image) for image in frames)
    height, width = frames[0].shape[:2]
    zoomed = cv2.resize(frames[-1][20:110, 60:170], (width, height))
    assert detector(zoomed)


@pytest.fixture(scope="module")
def empty_scenes() -> tuple[list[np.ndarray], np.ndarray]:
    """The tai chi patient, then an empty desk (a real Azure Kinect colour frame with sensor-like noise), then the patient again."""
    from tests.conftest import SHARED_DATA

    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test data not found at {SHARED_DATA} (../shared/data beside the project)")
    tai_chi = _frames(SHARED_DATA / "video" / "kinetics_tai_chi.mp4")[:120]
    height, width = tai_chi[0].shape[:2]
    desk = cv2.resize(_frames(SHARED_DATA / "depth" / "azure_kinect_recording.mkv", "rgb")[0], (width, height))
    noise = np.random.default_rng(0)
    empty = [np.clip(desk.astype(np.int16) + noise.integers(-4, 5, desk.shape), 0, 255).astype(np.uint8) for _ in range(60)]
    return tai_chi[:60] + empty + tai_chi[60:90], np.array([True] * 60 + [False] * 60 + [True] * 30)


def test_frames_without_a_person_are_reported_without_one(empty_scenes) -> None:
    """MediaPipe's tracker keeps a skeleton on the empty desk once its detector fires there; presence checks drop it."""
    frames, person = empty_scenes
    config = config_from_dict({"face": {"enabled": False}, "crops": {"enabled": False}}, ExtractionConfig)
    chain = FrameChain(config)
    try:
        chain.start((frames[0].shape[1], frames[0].shape[0]), fps=30.0)
        for image in frames:
            chain.process(image)
        output = chain.finish()
    finally:
        chain.close()
    assert output.person_found[~person].mean() <= 0.10, np.flatnonzero(output.person_found & ~person)
    assert output.person_found[person].mean() >= 0.9
    empty = ~output.person_found
    assert np.isnan(output.body_px[empty]).all() and (output.body_confidence[empty] == 0).all()
    assert np.isnan(output.patient_box_px[empty]).all() and (output.track[empty] == -1).all()
    assert np.isfinite(output.patient_box_px[output.person_found]).all()
    assert recording_stats(output, 30.0, 1.0).tracks >= 2, "the patient coming back after the empty scene is a new track to check"


def _record(meta: dict) -> SeizureRecord:
    frames = 6
    body = Keypoints(np.zeros((frames, 11, 2), np.float32), np.ones((frames, 11), np.float32), "upper_body_11", 30.0, "test")
    return SeizureRecord("s1", "p1", 30.0, float("nan"), float("nan"), {}, body_2d=body, meta=meta)


def test_per_frame_boxes_tracks_and_identity_decisions_round_trip_through_the_cache(tmp_path: Path) -> None:
    boxes = np.array([[np.nan] * 4] + [[10, 20, 110, 220]] * 5, dtype=np.float32)
    meta = {"patient_box_px": boxes, "track": np.array([-1, 0, 0, 0, 1, 1], np.int32), "crop_boxes_px": {"body": boxes + 1},
            "identity_events": [{"frame": 1, "event": "acquired", "track": 0, "detail": ""}], "detectors": {"body": "x"}}
    path = save_record(_record(meta), tmp_path / "s1.npz", "hash")
    loaded = load_record(path, "hash")
    np.testing.assert_array_equal(loaded.meta["patient_box_px"], boxes)
    np.testing.assert_array_equal(loaded.meta["crop_boxes_px"]["body"], boxes + 1)
    assert loaded.meta["track"].dtype == np.int32 and loaded.meta["identity_events"][0]["event"] == "acquired"
    assert np.isnan(loaded.onset_s), "a recording extracted without a manifest has no clinical times"
    old = save_record(_record({"roi_px": [1, 2, 3, 4]}), tmp_path / "old.npz", "hash")
    assert load_record(old).meta == {"roi_px": [1, 2, 3, 4]}, "a cache without per-frame boxes still reads"
    with pytest.raises(CacheError, match="object array"):
        save_record(_record({"bad": np.array([object()], dtype=object)}), tmp_path / "bad.npz", "hash")


def test_the_overlay_draws_on_the_crops_of_the_real_frames_with_per_frame_boxes(tmp_path: Path) -> None:
    pytest.importorskip("av")
    frames = 6
    corners = np.array([[np.nan] * 4] + [[float(k), 0.0, 40.0 + k, 40.0] for k in range(1, frames)], np.float32)
    crops = np.full((frames, 16, 16), 200, np.uint8)
    record = _record({"crop_boxes_px": {"body": corners}})
    record.body_crops = crops
    path, note = write_overlay_video(record, "body", np.ones((frames, 11), np.float32), tmp_path / "overlay.mp4", size=32)
    assert note != BLANK_NOTE and "body crops" in note and path.stat().st_size > 0


def test_the_configured_seed_picks_the_patient_among_two_people(empty_scenes) -> None:
    """`roi.seed_px` (the bed, say) through the extraction config: the person on the left is never taken, the one in the seed is."""
    frames, _ = empty_scenes
    person = frames[:30]
    height, width = person[0].shape[:2]
    canvas = np.full((30, height, 2 * width + 80, 3), 90, dtype=np.uint8)
    canvas[:, :, :width] = np.stack(person)
    canvas[10:, :, width + 80 :] = np.stack(person[:20])
    seed = [float(width + 40), 0.0, float(2 * width + 80), float(height)]
    config = config_from_dict({"face": {"enabled": False}, "crops": {"enabled": False}, "roi": {"seed_px": seed}}, ExtractionConfig)
    chain = FrameChain(config)
    try:
        chain.start((canvas.shape[2], height), fps=30.0)
        for image in canvas:
            chain.process(image)
        output = chain.finish()
    finally:
        chain.close()
    found = output.person_found
    assert not found[:10].any(), "the person outside the seed started a track"
    assert found[10:].mean() >= 0.8
    assert (output.patient_box_px[found][:, 0] >= width).all()
    np.testing.assert_allclose(output.search_box_px[:10], np.tile(seed, (10, 1)), err_msg="without a track the seed is searched")
    assert output.identity_events[0].event == "acquired" and output.identity_events[0].frame >= 10


def _run(chain: FrameChain, frames: list[np.ndarray]):
    chain.start((frames[0].shape[1], frames[0].shape[0]), fps=30.0)
    for image in frames:
        chain.process(image)
    return chain.finish()


def _assert_same_output(first, second) -> None:
    for name in ("body_px", "body_confidence", "face_px", "face_confidence", "face_searched", "body_crops", "face_crops",
                 "search_box_px", "patient_box_px", "track", "body_crop_box_px", "face_crop_box_px"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name), err_msg=name)
    assert first.identity_events == second.identity_events


@pytest.fixture(scope="module")
def cut_face_clip() -> list[np.ndarray]:
    """A real face clip with a camera cut (a zoom onto the face) after 24 frames."""
    from tests.conftest import SHARED_DATA

    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test data not found at {SHARED_DATA} (../shared/data beside the project)")
    frames = _frames(SHARED_DATA / "video" / "face_carphone_qcif.mp4")[:48]
    height, width = frames[0].shape[:2]
    return frames[:24] + [cv2.resize(image[10:130, 30:150], (width, height)) for image in frames[24:]]


def _both_ways(frames: list[np.ndarray], config: ExtractionConfig):
    """The chain's output with and without its second thread, and the threads that ran the face mesh and the presence checks with it."""
    outputs, threads = [], set()
    for overlap in (True, False):
        chain = FrameChain(config, overlap=overlap)
        if overlap:
            for backend, method in ((chain.face_mesh, "estimate"), (chain.pose, "estimate_anew")):
                _note_thread(backend, method, threads)
        try:
            outputs.append(_run(chain, frames))
        finally:
            chain.close()
    return outputs, threads


def _note_thread(backend, method: str, threads: set[str]) -> None:
    original = getattr(backend, method)

    def noted(*args, **kwargs):
        threads.add(threading.current_thread().name)
        return original(*args, **kwargs)

    setattr(backend, method, noted)


def test_the_face_mesh_on_its_own_thread_gives_the_sequential_chain_output_bit_for_bit(cut_face_clip) -> None:
    """The overlap only moves work in time: the same landmarks, crops, boxes and identity decisions, across a view change."""
    (overlapped, sequential), threads = _both_ways(cut_face_clip, config_from_dict({}, ExtractionConfig))
    assert threads and all(name.startswith("frame-chain") for name in threads), threads
    assert "view_change" in [event.event for event in overlapped.identity_events]
    assert np.isfinite(overlapped.face_px[overlapped.face_searched]).any(axis=(1, 2)).mean() >= 0.8, "the face was not found: the comparison is empty"
    assert len(overlapped.face_crops) == len(cut_face_clip) == len(overlapped.face_px)
    _assert_same_output(overlapped, sequential)


def test_presence_checks_on_the_second_thread_drop_the_same_frames(empty_scenes) -> None:
    """The checks run beside the next frame's pose and are read at the same point of it: the same frames dropped, the same tracks."""
    frames, _ = empty_scenes
    (overlapped, sequential), threads = _both_ways(frames, config_from_dict({}, ExtractionConfig))
    assert threads and all(name.startswith("frame-chain") for name in threads), threads
    assert "dropped" in [event.event for event in overlapped.identity_events], "no check dropped a track: the comparison is empty"
    _assert_same_output(overlapped, sequential)


def test_a_recordings_keypoints_do_not_depend_on_the_recording_before_it(cut_face_clip, shared_data: Path) -> None:
    """Each `start` begins with fresh detector graphs: a batch gives every recording what it would give alone."""
    other = _frames(shared_data / "video" / "face_single.mp4")[:20]
    chain = FrameChain(config_from_dict({}, ExtractionConfig))
    try:
        alone = _run(chain, cut_face_clip)
        _run(chain, other)
        chain.start((7, 7))
        chain.process(other[0][:7, :7].copy())
        after = _run(chain, cut_face_clip)
    finally:
        chain.close()
    _assert_same_output(alone, after)


def test_a_caller_may_refill_one_frame_buffer(cut_face_clip) -> None:
    """A reader that decodes every frame into the same array gets what fresh arrays give, with and without the second thread."""
    for overlap in (True, False):
        chain = FrameChain(config_from_dict({}, ExtractionConfig), overlap=overlap)
        try:
            fresh = _run(chain, cut_face_clip)
            buffer = np.empty_like(cut_face_clip[0])
            chain.start((buffer.shape[1], buffer.shape[0]), fps=30.0)
            for image in cut_face_clip:
                np.copyto(buffer, image)
                chain.process(buffer)
            _assert_same_output(fresh, chain.finish())
        finally:
            chain.close()


def test_a_frame_that_fails_leaves_no_face_job_behind_a_graph_reset(cut_face_clip) -> None:
    """A frame that raises after its face job was queued: the next `start` waits for that job before it rebuilds the graphs."""
    chain = FrameChain(config_from_dict({}, ExtractionConfig))
    events: list[str] = []
    estimate, reset = chain.face_mesh.estimate, chain.face_mesh.reset

    def slow_estimate(*args, **kwargs):
        time.sleep(0.2)
        result = estimate(*args, **kwargs)
        events.append("face done")
        return result

    def noted_reset() -> None:
        events.append("reset")
        reset()

    chain.face_mesh.estimate, chain.face_mesh.reset = slow_estimate, noted_reset
    try:
        image = cut_face_clip[0]
        chain.start((image.shape[1], image.shape[0]), fps=30.0)
        with pytest.raises(ValueError, match="intrinsics"):
            chain.process(image, depth_mm=np.ones(image.shape[:2], np.float32))
        chain.start((image.shape[1], image.shape[0]), fps=30.0)
        assert events == ["face done", "reset"]
    finally:
        chain.close()


def test_the_person_present_longest_is_the_patient_and_tracks_at_one_place_are_one_person() -> None:
    patient, patient_again, clinician = [10, 10, 110, 210], [14, 12, 112, 214], [300, 10, 400, 210]
    track = np.array([0] * 50 + [1] * 10 + [-1] * 5 + [2] * 40 + [3] * 8)
    boxes = np.array([patient] * 50 + [clinician] * 10 + [[np.nan] * 4] * 5 + [patient_again] * 40 + [clinician] * 8, dtype=np.float32)
    others = other_people(track, boxes, view_changes=[])
    assert set(others) == {1, 3} and "patient's 90" in others[1] and "18 frames" in others[1]
    assert set(other_people(track, boxes, view_changes=[105])) == {1}, "alone in its own camera view, a track is that view's patient"
    a, c, bridge = [0, 0, 100, 100], [60, 0, 160, 100], [30, 0, 130, 100]
    third = np.array([0] * 30 + [1] * 30 + [2] * 10 + [3] * 50)
    third_boxes = np.array([a] * 30 + [c] * 30 + [bridge] * 10 + [clinician] * 50, np.float32)
    assert set(other_people(third, third_boxes, [])) == {3}, "two places bridged by a third track are one person"
    tie = other_people(np.array([1] * 5 + [0] * 5), np.array([clinician] * 5 + [patient] * 5, np.float32), [])
    assert set(tie) == {0}, "on a tie the person seen first is the patient"
    assert other_people(np.array([-1, -1]), np.full((2, 4), np.nan, np.float32), []) == {}


def test_roi_patient_longest_reports_a_bystander_taken_up_in_the_patients_absence_without_a_person(empty_scenes) -> None:
    """Through the config, on real frames: the patient leaves the left of the scene for a second while someone stands on the right.

    On the plain canvas half the picture changes when they swap, which the view-change check would
    call a new view (and a new view has its own patient), so it is off here."""
    frames, _ = empty_scenes
    person = frames[:60] + frames[120:150]
    height, width = person[0].shape[:2]
    canvas = np.full((120, height, 2 * width + 80, 3), 90, dtype=np.uint8)
    canvas[:60, :, :width] = np.stack(person[:60])
    canvas[90:, :, :width] = np.stack(person[30:60])
    canvas[60:90, :, width + 80 :] = np.stack(person[60:90])
    outputs = {}
    for choice in ("any", "longest"):
        roi = {"patient": choice, "view_change": -1.0}
        chain = FrameChain(config_from_dict({"roi": roi}, ExtractionConfig))
        try:
            outputs[choice] = _run(chain, list(canvas))
        finally:
            chain.close()
    assert outputs["any"].person_found[60:90].any(), "the bystander was never taken up: the scene does not test the choice"
    longest = outputs["longest"]
    assert not longest.person_found[60:90].any() and longest.person_found[:60].mean() >= 0.9 and longest.person_found[90:].any()
    bystander = outputs["any"].person_found & ~longest.person_found
    assert bystander.any() and np.isnan(longest.body_px[bystander]).all() and (longest.body_crops[bystander] == 0).all()
    assert np.isnan(longest.patient_box_px[bystander]).all() and (longest.track[bystander] == -1).all()
    assert [event.track for event in longest.identity_events if event.event == "excluded"] == sorted(set(outputs["any"].track[bystander]))
    kept = longest.person_found
    np.testing.assert_array_equal(longest.body_px[kept], outputs["any"].body_px[kept])
    after = np.arange(int(np.flatnonzero(bystander)[-1]) + 1, int(np.flatnonzero(kept & (np.arange(120) >= 90))[0]))
    assert len(after) and not outputs["any"].person_found[after].any()
    for frames_of in (np.flatnonzero(bystander), after):
        assert (longest.body_crops[frames_of] == 0).all() and (longest.face_crops[frames_of] == 0).all(), "the bystander's picture is kept"
        assert np.isnan(longest.face_px[frames_of]).all() and np.isnan(longest.body_crop_box_px[frames_of]).all()
    assert (outputs["any"].body_crops[after] > 0).any(), "the crops after the bystander's track were blank anyway: the check is empty"
    stats = recording_stats(longest, 30.0, 1.0)
    assert stats.excluded == len(set(outputs["any"].track[bystander])) >= 1 and recording_stats(outputs["any"], 30.0, 1.0).excluded == 0


def test_a_live_session_cannot_wait_for_the_longest_present() -> None:
    chain = FrameChain(config_from_dict({"face": {"enabled": False}, "crops": {"enabled": False}, "roi": {"patient": "longest"}}, ExtractionConfig))
    try:
        chain.start((64, 48))
        chain.process(np.zeros((48, 64), np.uint8))
        with pytest.raises(ConfigError, match="roi.patient: longest"):
            chain.drain()
    finally:
        chain.close()
    from semiology.live.session import LiveSession

    with pytest.raises(ConfigError, match="a live session needs roi.patient: any"):
        LiveSession(None, config_from_dict({"roi": {"patient": "longest"}}, ExtractionConfig), 30.0)
    with pytest.raises(ConfigError, match="roi.enabled: false turns off"):
        config_from_dict({"roi": {"patient": "longest", "enabled": False}}, ExtractionConfig)
    with pytest.raises(ConfigError, match="roi.patient must be one of any, longest"):
        config_from_dict({"roi": {"patient": "tallest"}}, ExtractionConfig)
