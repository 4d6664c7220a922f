"""Following the patient on real clips: the extraction chain beside a bare MediaPipe loop on the same frames.

Run `.venv/bin/python benchmarks/real_clips.py`. The clips are real public recordings from
`../shared/data/video` (see its SOURCES.md), edited in memory (nothing is written) to make the
cases an EMU recording has and the shared clips lack:

- **empty frames**: a title card (text on a dark background, 60 frames) and an empty desk scene
  (the Azure Kinect colour frame of `../shared/data/depth`, no person, with sensor-like noise,
  60 frames) spliced into the one-person tai chi clip. Person-found is counted separately on
  frames with and without a person; the goal is a person reported on at most 10 % of empty frames.
- **view changes**: the car-phone clip (a man talking, 176x144, shown at 352x288) cut between
  three camera views every 30 frames: the whole view, a 1.7x zoom on the right, a 1.4x zoom on
  the left (a technician panning and zooming). Face-found of the chain against the bare face mesh
  on the whole frame; the goal is within 5 points.
- **a second person**: the tai chi patient on the left, a second person (the same clip, 40
  frames later) walking in on the right at frame 20, the patient hidden for 8 frames at frame
  60. An identity switch is a frame where the patient's keypoints lie on the right half; the
  goal is none. `kinetics_arm_wrestling.mp4` (two people, with camera cuts) is run too: there
  a switch is a jump of the body centre by more than half its size between consecutive found
  frames outside a camera cut (no ground truth), reported for both.
- **reference skeleton**: the four Human3.6M frames of `../shared/data/mmpose_testdata/h36m`
  with their annotated 2D joints: PCK@0.2 (of the torso) of the 12 limb joints, chain and bare
  (stills, so temporal cleaning cannot help there).

Frames/s of each side are on the same frames; the machine may be loaded by other work, so
compare the two columns of one run, not runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from semiology.config import config_from_dict
from semiology.extract.chain import ChainOutput, FrameChain
from semiology.extract.config import ExtractionConfig
from semiology.io.video import open_video
from semiology.preprocess.roi import ViewChange

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
H36M_TO_MEDIAPIPE = {0: 28, 1: 26, 2: 24, 3: 23, 4: 25, 5: 27, 6: 16, 7: 14, 8: 12, 9: 11, 10: 13, 11: 15}
"""Human3.6M `part` joints (LSP order: right ankle … left wrist) → MediaPipe-33 indices."""


def read(path: Path, kind: str | None = None) -> list[np.ndarray]:
    with open_video(path, kind=kind) as reader:
        return [frame.image for frame in reader]


def title_card(height: int, width: int, second: int) -> np.ndarray:
    image = np.zeros((height, width, 3), np.uint8)
    image[:] = (20, 20, 60)
    cv2.putText(image, "Seizure 3 - EMU bed 2", (10, height // 3), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2)
    cv2.putText(image, f"00:00:{second:02d}", (10, height // 2), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (200, 200, 0), 2)
    return image


def empty_frames_clip() -> tuple[list[np.ndarray], np.ndarray]:
    """Tai chi with a title card and an empty desk spliced in; and which frames hold a person."""
    tai_chi = read(DATA / "video" / "kinetics_tai_chi.mp4")
    height, width = tai_chi[0].shape[:2]
    desk = cv2.resize(read(DATA / "depth" / "azure_kinect_recording.mkv", "rgb")[0], (width, height))
    noise = np.random.default_rng(0)
    empty_desk = [np.clip(desk.astype(np.int16) + noise.integers(-4, 5, desk.shape), 0, 255).astype(np.uint8) for _ in range(60)]
    titles = [title_card(height, width, k // 10) for k in range(60)]
    frames = titles + tai_chi[:60] + empty_desk + tai_chi[60:120]
    person = np.array([False] * 60 + [True] * 60 + [False] * 60 + [True] * 60)
    return frames, person


def zoom(image: np.ndarray, factor: float, shift_u: float) -> np.ndarray:
    height, width = image.shape[:2]
    crop_w, crop_h = int(width / factor), int(height / factor)
    u0 = int(np.clip((width - crop_w) / 2 + shift_u * width, 0, width - crop_w))
    v0 = (height - crop_h) // 2
    return cv2.resize(image[v0 : v0 + crop_h, u0 : u0 + crop_w], (width, height), interpolation=cv2.INTER_LINEAR)


def view_change_clip() -> list[np.ndarray]:
    """The car-phone clip at twice its size, cut between three views every 30 frames."""
    frames = [cv2.resize(image, (352, 288), interpolation=cv2.INTER_CUBIC) for image in read(DATA / "video" / "face_carphone_qcif.mp4")]
    views = [(1.0, 0.0), (1.7, 0.15), (1.4, -0.12)]
    return [zoom(image, *views[(index // 30) % len(views)]) for index, image in enumerate(frames)]


def two_person_clip() -> tuple[list[np.ndarray], int]:
    """The patient (left) and a second person walking in on the right; returns the frames and the width of the patient's half."""
    tai_chi = read(DATA / "video" / "kinetics_tai_chi.mp4")
    height, width = tai_chi[0].shape[:2]
    frames = []
    for index in range(120):
        canvas = np.full((height, 2 * width + 80, 3), 90, np.uint8)
        if not 60 <= index < 68:
            canvas[:, :width] = tai_chi[index]
        if index >= 20:
            canvas[:, width + 80 :] = tai_chi[index + 40]
        frames.append(canvas)
    return frames, width + 40


def bare_pose(frames: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, float]:
    """MediaPipe Pose alone (video mode, the whole frame): points `[T, 33, 2]`, visibility `[T, 33]`, seconds."""
    from mediapipe.python.solutions import pose

    points = np.full((len(frames), 33, 2), np.nan, np.float32)
    visibility = np.zeros((len(frames), 33), np.float32)
    with pose.Pose(static_image_mode=False, model_complexity=1, min_detection_confidence=0.3, min_tracking_confidence=0.3) as graph:
        started = time.perf_counter()
        for index, image in enumerate(frames):
            result = graph.process(_rgb(image))
            if result.pose_landmarks is not None:
                height, width = image.shape[:2]
                marks = np.array([(m.x * width, m.y * height, m.visibility) for m in result.pose_landmarks.landmark], np.float32)
                points[index], visibility[index] = marks[:, :2], marks[:, 2]
        return points, visibility, time.perf_counter() - started


def bare_face(frames: list[np.ndarray]) -> tuple[np.ndarray, float]:
    """MediaPipe face mesh alone (video mode, the whole frame): which frames have a face, seconds."""
    from mediapipe.python.solutions import face_mesh

    found = np.zeros(len(frames), bool)
    with face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1, min_detection_confidence=0.5, min_tracking_confidence=0.5) as graph:
        started = time.perf_counter()
        for index, image in enumerate(frames):
            found[index] = bool(graph.process(_rgb(image)).multi_face_landmarks)
        return found, time.perf_counter() - started


def _rgb(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else image)


def run_chain(chain: FrameChain, frames: list[np.ndarray], fps: float = 30.0) -> tuple[ChainOutput, float]:
    height, width = frames[0].shape[:2]
    started = time.perf_counter()
    chain.start((width, height), fps=fps)
    for image in frames:
        chain.process(image)
    return chain.finish(), time.perf_counter() - started


def centres(points: np.ndarray, confidence: np.ndarray, threshold: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame body centre `[T, 2]` (NaN when none) and size `[T]` from the confident points."""
    keep = (confidence >= threshold) & np.isfinite(points).all(axis=-1)
    centre = np.full((len(points), 2), np.nan)
    size = np.full(len(points), np.nan)
    for index in np.flatnonzero(keep.any(axis=1)):
        chosen = points[index][keep[index]]
        low, high = chosen.min(axis=0), chosen.max(axis=0)
        centre[index], size[index] = (low + high) / 2, max(float((high - low).max()), 1.0)
    return centre, size


def jumps(points: np.ndarray, confidence: np.ndarray, cuts: np.ndarray) -> int:
    """Jumps of the body centre by more than half its size between consecutive found frames, outside camera cuts."""
    centre, size = centres(points, confidence)
    count = 0
    for index in range(1, len(centre)):
        if np.isfinite(centre[index - 1]).all() and np.isfinite(centre[index]).all() and not cuts[index]:
            count += int(np.linalg.norm(centre[index] - centre[index - 1]) > 0.5 * size[index - 1])
    return count


def camera_cuts(frames: list[np.ndarray]) -> np.ndarray:
    detector = ViewChange()
    return np.array([detector(image) for image in frames])


def pck(predicted: np.ndarray, confidence: np.ndarray, reference: np.ndarray, threshold: float = 0.2) -> float:
    """PCK of the limb joints: share of annotated joints within `threshold` x torso size (missing ones count as wrong)."""
    hits = total = 0
    for frame_points, frame_confidence, truth in zip(predicted, confidence, reference):
        torso = np.linalg.norm(truth[9, :2] - truth[2, :2])  # left shoulder - right hip
        for h36m, mediapipe in H36M_TO_MEDIAPIPE.items():
            if truth[h36m, 2] <= 0:
                continue
            total += 1
            point = frame_points[mediapipe]
            hits += int(frame_confidence[mediapipe] > 0 and np.isfinite(point).all() and np.linalg.norm(point - truth[h36m, :2]) <= threshold * torso)
    return hits / max(total, 1)


def row(label: str, bare: str, chain: str) -> None:
    print(f"{label:58s} {bare:>14s} {chain:>14s}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    if not DATA.is_dir():
        print(f"real clips not found at {DATA} (../shared/data beside the project)")
        return 1
    config = config_from_dict({"crops": {"features": False}}, ExtractionConfig)
    chain = FrameChain(config)
    print("real clips, default extraction chain (crops without features) beside bare MediaPipe on the same frames")
    row("", "bare", "chain")
    fps_rows: list[tuple[str, float, float, int]] = []

    frames, person = empty_frames_clip()
    points, visibility, bare_s = bare_pose(frames)
    output, chain_s = run_chain(chain, frames)
    bare_found, chain_found = np.isfinite(points).all(axis=-1).any(axis=1), output.person_found
    row("person found, frames with a person (tai chi)", f"{100 * bare_found[person].mean():.1f} %", f"{100 * chain_found[person].mean():.1f} %")
    row("person found, frames without (title card + empty desk)", f"{100 * bare_found[~person].mean():.1f} %", f"{100 * chain_found[~person].mean():.1f} %")
    fps_rows.append(("tai chi + empty frames", bare_s, chain_s, len(frames)))

    frames = view_change_clip()
    bare_faces, bare_s = bare_face(frames)
    bare_s += bare_pose(frames)[2]
    output, chain_s = run_chain(chain, frames)
    assert output.face_confidence is not None and output.face_searched is not None
    chain_faces = output.face_confidence.max(axis=1) > 0
    searched = output.face_searched
    row("face found, car-phone clip with view changes", f"{100 * bare_faces[searched].mean():.1f} %", f"{100 * chain_faces[searched].mean():.1f} %")
    fps_rows.append(("car phone, view changes", bare_s, chain_s, len(frames)))

    frames, half = two_person_clip()
    points, visibility, bare_s = bare_pose(frames)
    output, chain_s = run_chain(chain, frames)
    bare_centre, _ = centres(points, visibility)
    chain_centre, _ = centres(output.body_px, output.body_confidence * output.person_found[:, None])
    row("identity switches, patient + second person (frames)", str(int((bare_centre[:, 0] > half).sum())), str(int((chain_centre[:, 0] > half).sum())))
    row("  patient found while visible", f"{100 * np.isfinite(bare_centre[:, 0])[np.r_[0:60, 68:120]].mean():.1f} %",
        f"{100 * output.person_found[np.r_[0:60, 68:120]].mean():.1f} %")
    fps_rows.append(("two people", bare_s, chain_s, len(frames)))

    frames = read(DATA / "video" / "kinetics_arm_wrestling.mp4")
    cuts = camera_cuts(frames)
    points, visibility, bare_s = bare_pose(frames)
    output, chain_s = run_chain(chain, frames, 28.0)
    chain_jumps = jumps(output.body_px, output.body_confidence * output.person_found[:, None], cuts)
    row(f"centre jumps, arm wrestling (two people, {int(cuts.sum())} cuts)", str(jumps(points, visibility, cuts)), str(chain_jumps))
    row("  person found", f"{100 * np.isfinite(points).all(axis=-1).any(axis=1).mean():.1f} %", f"{100 * output.person_found.mean():.1f} %")
    row("  tracks started (chain: identity decisions in the cache)", "", str(int(output.track.max()) + 1))
    fps_rows.append(("arm wrestling", bare_s, chain_s, len(frames)))

    annotations = np.load(DATA / "mmpose_testdata" / "h36m" / "test_h36m.npz")
    folder = DATA / "mmpose_testdata" / "h36m"
    images = [read_still(next(folder.rglob(str(name)))) for name in annotations["imgname"]]
    bare_points, bare_confidence = [], []
    chain_points, chain_confidence = [], []
    for image in images:
        points, visibility, _ = bare_pose([image])
        bare_points.append(points[0])
        bare_confidence.append(np.where(visibility[0] >= config.cleaning.min_confidence, visibility[0], 0.0))
        output, _ = run_chain(chain, [image])
        chain_points.append(output.body_px[0])
        chain_confidence.append(np.where(output.body_confidence[0] >= config.cleaning.min_confidence, output.body_confidence[0], 0.0))
    reference = annotations["part"]
    row("PCK@0.2 limbs, Human3.6M stills (4, annotated 2D)", f"{pck(np.array(bare_points), np.array(bare_confidence), reference):.3f}",
        f"{pck(np.array(chain_points), np.array(chain_confidence), reference):.3f}")

    print()
    print(f"{'frames/s on the same frames':58s} {'bare':>14s} {'chain':>14s} {'overhead':>9s}")
    for label, bare_seconds, chain_seconds, count in fps_rows:
        print(f"{label:58s} {count / bare_seconds:14.1f} {count / chain_seconds:14.1f} {100 * (chain_seconds / bare_seconds - 1):8.1f}%")
    print("(bare: pose alone, plus the face mesh alone on the whole frame for the car-phone row; chain: tracking, presence checks, pose, face mesh, crops)")
    chain.close()
    return 0


def read_still(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(path)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


if __name__ == "__main__":
    sys.exit(main())
