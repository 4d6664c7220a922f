"""A small review world (helpers; the fixtures are in conftest.py): two sites, their users, one seizure each with a real 16-bit IR video, cached keypoints,
screening windows, a model proposal and saved attributions; and the real app served by uvicorn on a free loopback port.

The video is drawn here (a warm body shape over a cooler bed, 16-bit counts, FFV1 in mkv) rather
than rendered by `synthetic.scene` (which takes about 0.2 s a frame): the app reads it like any
recording. The demo test (`test_review_demo.py`) runs the rendered scenes.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import uvicorn

from semiology.explain.attributions import SeizureAttribution
from semiology.io.cache import cache_path, save_record
from semiology.io.video_write import write_tracks_mkv
from semiology.layouts import FACE_23, UPPER_BODY_11
from semiology.records import Keypoints, SeizureRecord
from semiology.review.app import ReviewSettings, check_roots, create_app
from semiology.store.accounts import add_site, add_user, get_user
from semiology.store.database import Store, init_store
from semiology.store.labels import SignSpan, add_sign_label, get_seizure
from semiology.store.manifests import import_manifest
from semiology.store.predictions import BundleIdentity, write_window_predictions

PASSWORD = "correct horse battery"
FPS = 25.0
FRAMES = 100
SIZE = (160, 128)
POSTGRES_URL = os.environ.get("SEMIOLOGY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = "SEMIOLOGY_REQUIRE_POSTGRES"
USERS = (("admin", "admin", None), ("rita", "reviewer", "site-a"), ("sam", "reviewer", "site-a"), ("alice", "annotator", "site-a"),
         ("bob", "annotator", "site-b"))


@dataclass(frozen=True)
class World:
    """The store, the file roots, and the seizures' ids in the store."""

    db: str
    cache: Path
    videos: Path
    seizure_a: int
    seizure_b: int
    key_a: str
    key_b: str


def body_track(frames: int) -> np.ndarray:
    """Upper-body-11 joints in pixels, swaying slowly, with the left wrist jerking (a planted movement)."""
    where = {"head": (80, 20), "neck": (80, 34), "right_shoulder": (66, 36), "right_elbow": (60, 52), "right_wrist": (58, 68),
             "left_shoulder": (94, 36), "left_elbow": (100, 52), "left_wrist": (102, 68), "right_hip": (72, 86), "left_hip": (88, 86),
             "spine_base": (80, 84)}
    base = np.array([where[name] for name in UPPER_BODY_11.joint_names], np.float32)
    t = np.arange(frames)[:, None] / FPS
    coords = base[None].repeat(frames, axis=0)
    coords[..., 0] += 2.0 * np.sin(2 * np.pi * 0.3 * t)
    coords[:, UPPER_BODY_11.index("left_wrist"), 1] += 4.0 * np.sin(2 * np.pi * 3.0 * t[:, 0])
    return coords


def face_track(body: np.ndarray) -> np.ndarray:
    """23 face landmarks around the head joint."""
    angles = np.linspace(0, 2 * np.pi, FACE_23.num_joints, endpoint=False)
    ring = np.stack([6 * np.cos(angles), 7 * np.sin(angles)], axis=1).astype(np.float32)
    return body[:, :1, :] + ring[None]


def ir_frames(body: np.ndarray) -> np.ndarray:
    """16-bit IR frames: a bed, and the patient's joints as warm discs."""
    yy, xx = np.mgrid[0 : SIZE[1], 0 : SIZE[0]]
    frames = np.full((len(body), SIZE[1], SIZE[0]), 900, np.uint16)
    frames[:, 10:120, 50:110] = 1400
    for index, joints in enumerate(body):
        for x, y in joints:
            frames[index][(xx - x) ** 2 + (yy - y) ** 2 < 25] = 2600
    return frames


def make_recording(key: str, subject: str, folder: Path, cache: Path) -> dict[str, object]:
    """Write one seizure's IR video and cached record; its manifest row."""
    body = body_track(FRAMES)
    video = write_tracks_mkv(folder / f"{key}.mkv", {"ir": ir_frames(body)}, fps=FPS)
    confidence = np.linspace(0.2, 1.0, UPPER_BODY_11.num_joints, dtype=np.float32)[None].repeat(FRAMES, axis=0)
    record = SeizureRecord(
        seizure_id=key, subject_id=subject, fps=FPS, onset_s=0.5, offset_s=3.5, labels={"dystonia": "yes"},
        body_2d=Keypoints(body, confidence, UPPER_BODY_11.name, FPS, "test"),
        face_2d=Keypoints(face_track(body), np.full((FRAMES, FACE_23.num_joints), 0.8, np.float32), FACE_23.name, FPS, "test"),
        synthetic=True,
    )
    cached = save_record(record, cache_path(cache, key), config_hash="test")
    return {"seizure_id": key, "subject_id": subject, "ir": str(video), "keypoints": str(cached), "fps": FPS, "onset_s": 0.5, "offset_s": 3.5,
            "dystonia": "yes"}


def save_attribution(cache: Path, key: str) -> None:
    """Saved attributions of one skeleton model (the format `tools/explain.py` writes), the left wrist most important."""
    values = np.zeros((FRAMES, UPPER_BODY_11.num_joints))
    values[:, UPPER_BODY_11.joint_names.index("left_wrist")] = 1.0
    values[:, UPPER_BODY_11.joint_names.index("left_elbow")] = 0.4
    SeizureAttribution(
        seizure_id=key, model="AGCN-pose", task="dystonia", kind="agcn", stream="body", classes=("no", "yes"), target=1, fps=FPS, onset_s=0.5,
        offset_s=3.5, generalisation_s=None, joint_names=UPPER_BODY_11.joint_names, probability=np.array([0.3, 0.7]), threshold=0.5,
        window_start_s=np.arange(0, 3.0, 0.5), window_prob=np.full((6, 2), 0.5), joint_time_ig=values,
    ).save(cache / "attributions" / cache_path("", key).stem / "AGCN-pose.npz")


def seed_world(db: str, root: Path) -> World:
    """The store and files every review test uses."""
    cache, videos = root / "cache", root / "videos"
    cache.mkdir(parents=True)
    videos.mkdir(parents=True)
    with init_store(db) as store:
        with store.session(actor="admin") as session:
            sites = {name: add_site(session, name, f"secret of {name} for tests".encode()) for name in ("site-a", "site-b")}
            for username, role, site in USERS:
                add_user(session, username, role, PASSWORD, None if site is None else sites[site])
        for site, key, subject in (("site-a", "EMU-A-001", "P01"), ("site-b", "EMU-B-001", "P02")):
            manifest = root / f"{site}.csv"
            row = make_recording(key, subject, videos, cache)
            manifest.write_text(",".join(row) + "\n" + ",".join(str(value) for value in row.values()) + "\n", encoding="utf-8")
            import_manifest(store, manifest, site, "admin", pseudonymised=True)
        bundle = BundleIdentity("demo@0123456789abcdef", "test/format-1")
        with store.session(actor="screen:demo") as session:
            seizure = get_seizure(session, "EMU-A-001")
            starts = np.arange(0.0, 3.5, 0.5)
            probability = [[1 - p, p] for p in np.clip(np.sin(starts / 3.5 * np.pi), 0, 1)]
            write_window_predictions(session, seizure, bundle, "AGCN-pose", "dystonia", ["no", "yes"], 1.0, starts, probability)
            add_sign_label(session, seizure, SignSpan("dystonic_posture", 1.0, 2.5, confidence=0.81), model="demo@0123456789abcdef:AGCN-pose")
        with store.session(actor="alice") as session:
            add_sign_label(session, get_seizure(session, "EMU-A-001"), SignSpan("clonic", 0.2, 0.8), annotator=get_user(session, "alice"))
        save_attribution(cache, "EMU-A-001")
        with store.session() as session:
            ids = get_seizure(session, "EMU-A-001").id, get_seizure(session, "EMU-B-001").id
    return World(db=db, cache=cache, videos=videos, seizure_a=ids[0], seizure_b=ids[1], key_a="EMU-A-001", key_b="EMU-B-001")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Running:
    """A served app: its base URL and its store."""

    url: str
    store: Store


def serve(world: World) -> Iterator[Running]:
    """The real app under uvicorn in a thread on a free loopback port, stopped afterwards."""
    store = init_store(world.db)
    settings = ReviewSettings(store=store, roots=check_roots(world.cache, [world.videos]), session_secret="test session key " * 2)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the review server did not start")
        time.sleep(0.05)
    try:
        yield Running(url=f"http://127.0.0.1:{port}", store=store)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        store.close()


