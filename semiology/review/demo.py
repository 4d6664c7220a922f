"""The review app's demo: a SQLite store seeded from the synthetic cohort, ready to review in a browser.

One call (`seed_demo`) makes, under one folder:

- `videos/`: rendered IR and depth scenes (`synthetic.scene`: a synthetic patient on a tilted bed,
  16-bit, FFV1 in mkv) of the first seizure of a few synthetic subjects, split over two sites;
- `cache/`: one cached keypoint record per scene: the rendered joints (upper-body-11, confidence
  0.9 where the joint is visible, 0.2 where something hides it) and 23 face landmarks (the
  subject's face template from `synthetic.face`, placed on the rendered head: the cohort's face
  camera is not the scene's, so the landmarks follow the head but do not come from the pixels);
- `store.sqlite`: sites `site-a` and `site-b`, users, patients under the cohort's pseudonyms,
  seizures, their recordings and task labels (imported through the manifest, as any site would),
  the planted signs of some seizures as an annotator's labels, and a model bundle's screening as
  `tools/screen.py --db` writes it: window probabilities and detected episodes as proposals
  (see `screen_into_store` for the demo's fallback);
- `cache/attributions/`: each skeleton model's attributions (`semiology.explain`) per seizure;
- `cache/previews/`: the 8-bit previews of the IR videos, made now so the first page opens at once.

The bundle is the one given, or a small one trained here on a synthetic cohort (`DEMO_STUDY`, a few
minutes on two cores). Everything is synthetic and labelled so in the app.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from semiology.bundle.build import run_and_bundle
from semiology.bundle.predict import prepare_record
from semiology.bundle.store import Bundle, load_bundle
from semiology.config import config_from_dict
from semiology.experiment import ExperimentConfig
from semiology.explain.attributions import explain_record
from semiology.io.cache import cache_path, save_record
from semiology.layouts import FACE_23
from semiology.records import Keypoints, SeizureRecord
from semiology.review.media import playable
from semiology.screen.predict import ScreeningError, screen_record
from semiology.screen.proposals import TASK_TERMS, write_episode_proposals
from semiology.store.accounts import add_site, add_user, get_user
from semiology.store.database import Store, init_store
from semiology.store.labels import SignSpan, add_sign_labels, get_seizure
from semiology.store.manifests import import_manifest
from semiology.store.predictions import bundle_identity, write_screening
from semiology.synthetic.cohort import make_plans
from semiology.synthetic.face import canonical_face
from semiology.synthetic.motion import BODY_LAYOUT, JOINT_INDEX
from semiology.synthetic.scene import SceneSpec, render_scene, write_scene
from semiology.synthetic.spec import SIGN_TERMS

SITES: tuple[str, ...] = ("site-a", "site-b")
USERS: tuple[tuple[str, str, str | None], ...] = (
    ("admin", "admin", None),
    ("rita", "reviewer", "site-a"),
    ("sam", "reviewer", "site-a"),
    ("alice", "annotator", "site-a"),
    ("bob", "annotator", "site-b"),
)
"""(username, role, site) of the demo's accounts; every one gets the demo password."""
HEAD_RADIUS_MM = 95.0
DEMO_STUDY: dict = {
    "name": "review-demo-bundle",
    "data": {"synthetic": {"n_subjects": 6, "n_seizures": 8, "seizures_per_subject": [1, 2], "n_dystonia_subjects": 3, "n_emotion_subjects": 3,
                           "n_both_subjects": 1, "seizure_duration_s": [12.0, 16.0], "pre_ictal_s": 4.0, "post_ictal_s": 3.0}},
    "windows": {"target_fps": 10.0, "max_train_windows_per_seizure": 4},
    "agcn": {"channels": [8, 8], "strides": [1, 2]},
    "train": {"epochs": 2, "patience": 2, "batch_size": 32},
    "evaluation": {"workers": 1, "split": "grouped_kfold", "n_splits": 2},
    "tasks": [{"name": "dystonia", "classes": ["no", "yes"]}, {"name": "emotion", "classes": ["no", "yes"]}],
    "models": [
        {"name": "AGCN-pose", "task": "dystonia", "kind": "agcn", "stream": "body"},
        {"name": "AGCN-face", "task": "emotion", "kind": "agcn", "stream": "face"},
    ],
}
"""A small study whose bundle screens the demo: two skeleton models, trained in minutes, not to score well."""


@dataclass(frozen=True)
class DemoStore:
    """What `seed_demo` made: the store, the keypoint cache, the video folder, the seizure ids, the usernames."""

    db: Path
    cache: Path
    videos: Path
    seizures: tuple[str, ...]
    users: tuple[str, ...]
    proposals: int
    problems: tuple[str, ...]


def face_on_head(record_head_px: np.ndarray, head_depth_mm: np.ndarray, fx: float, shape_px: dict[str, float]) -> np.ndarray:
    """23 face landmarks per frame `[T, 23, 2]` from the subject's face template, scaled to the head's size in the image and centred on it."""
    template = canonical_face(shape_px)[:, :2]
    template = template - template.mean(axis=0)
    head_px = 2.0 * HEAD_RADIUS_MM * fx / np.maximum(head_depth_mm, 1.0)
    scale = 0.8 * head_px / float(shape_px["face_width"])
    mirrored = template * np.array([-1.0, -1.0])
    return record_head_px[:, None, :] + mirrored[None] * scale[:, None, None]


def scene_record(subject_index: int, n_frames: int, videos: Path, cache: Path) -> tuple[SeizureRecord, Path, Path, dict[str, list[tuple[float, float]]]]:
    """Render one subject's scene; write its video and cached record; return the record, both paths and its planted signs (s from the first frame)."""
    traits, plan = make_plans()[subject_index]
    scene = render_scene(SceneSpec(subject_index=subject_index, n_frames=n_frames, clinician_share=0.3, seed=subject_index))
    start_s = max(plan.onset_s - 1.0, 0.0)
    duration_s = n_frames / scene.fps
    video = write_scene(scene, videos / f"{plan.seizure_id}.mkv")
    confidence = np.where(scene.visible, 0.9, 0.2).astype(np.float32)
    body = Keypoints(scene.joints_2d_px, confidence, BODY_LAYOUT, scene.fps, source="synthetic scene: rendered joints")
    body_3d = Keypoints(scene.joints_3d_mm, confidence, BODY_LAYOUT, scene.fps, source="synthetic scene: rendered joints")
    head = JOINT_INDEX["head"]
    face_px = face_on_head(scene.joints_2d_px[:, head], scene.joints_3d_mm[:, head, 2], scene.intrinsics.fx, traits.face_shape_px)
    face = Keypoints(face_px, np.full(face_px.shape[:2], 0.9, np.float32), FACE_23.name, scene.fps, source="synthetic face template on the rendered head")
    onset_s = plan.onset_s - start_s
    offset_s = min(plan.offset_s - start_s, duration_s - 1.0 / scene.fps)
    labels = {task: value for task, value in plan.labels.items() if task in ("dystonia", "emotion")}
    record = SeizureRecord(seizure_id=plan.seizure_id, subject_id=plan.subject_id, fps=scene.fps, onset_s=onset_s, offset_s=max(offset_s, onset_s + 0.5),
                           labels=labels, body_2d=body, body_3d=body_3d, face_2d=face, synthetic=True,
                           meta={"scene": dataclasses.asdict(SceneSpec(subject_index=subject_index, n_frames=n_frames, clinician_share=0.3, seed=subject_index))})
    cached = save_record(record, cache_path(cache, record.seizure_id), config_hash="review-demo")
    signs = {sign: [(max(0.0, a - start_s), min(duration_s, b - start_s)) for a, b, *_ in episodes if b - start_s > 0 and a - start_s < duration_s]
             for sign, episodes in plan.signs.items()}
    return record, video, cached, {sign: spans for sign, spans in signs.items() if spans}


def demo_subjects(count: int) -> list[int]:
    """The first `count` synthetic subjects, those with a planted dystonia or fearful face first (the demo bundle's two tasks)."""
    plans = make_plans()
    screened = [index for index, (_, plan) in enumerate(plans) if {"dystonia", "emotion"} & set(plan.signs)]
    return (screened + [index for index in range(len(plans)) if index not in screened])[:count]


def _write_manifest(path: Path, rows: list[dict[str, object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def demo_bundle(out: Path) -> Path:
    """Train the demo's small bundle (`DEMO_STUDY`) under `out`, or reuse the one trained there before."""
    bundle_dir = out / "bundle"
    if not (bundle_dir / "meta.json").is_file():
        config = config_from_dict(DEMO_STUDY, ExperimentConfig, source="semiology.review.demo.DEMO_STUDY")
        run_and_bundle(config, out / "bundle-study", source="semiology.review.demo.DEMO_STUDY", bundle_dir=bundle_dir, progress=False)
    return bundle_dir


def strongest_window(starts: Sequence[float], window_s: float, probability: Sequence[float]) -> tuple[float, float, float]:
    """The window with the highest probability as (start, end, probability)."""
    best = int(np.argmax(probability))
    return float(starts[best]), float(starts[best]) + window_s, float(probability[best])


def screen_into_store(store: Store, bundle: Bundle, records: list[SeizureRecord], attributions: Path) -> tuple[int, list[str]]:
    """Screen each record with `bundle` as `tools/screen.py --db` does, proposals included; attributions next to the cache.

    Window probabilities go in through `store.predictions.write_screening`, detected episodes as
    proposals through `screen.proposals.write_episode_proposals`. The demo's small bundle rarely
    raises an alarm on 4-second recordings, so a model with no episode on a seizure proposes its
    strongest window instead (its low probability as confidence): the demo always has proposals to
    accept or reject. Returns the proposals written and, per record that could not be screened,
    why (the others go on).
    """
    rows, problems = [], []
    for record in records:
        try:
            rows.append(screen_record(bundle, record))
        except ScreeningError as exc:
            problems.append(f"seizure {record.seizure_id!r}: not screened: {exc}")
    db = store.url.render_as_string(hide_password=False)
    write_screening(db, bundle.meta, {name: model.classes for name, model in bundle.models.items()}, rows)
    tasks = {name: model.task for name, model in bundle.models.items()}
    proposals = write_episode_proposals(db, bundle.meta, tasks, rows)["proposals"]
    identity = bundle_identity(bundle.meta)
    with store.session(actor=f"screen:{identity.bundle_id}") as session:
        for row in rows:
            seizure = get_seizure(session, row["seizure_id"])
            for name, timeline in row["timeline"].items():
                term = TASK_TERMS.get(tasks[name], tasks[name])
                if row["episodes"].get(name) or term not in SIGN_TERMS.values():
                    continue
                start, end, peak = strongest_window(timeline["start_s"], row["window_s"], [p[-1] for p in timeline["prob"]])
                add_sign_labels(session, [(seizure, SignSpan(term, start, min(end, row["duration_s"]), confidence=round(peak, 4)))],
                                model=f"{identity.bundle_id}:{name}")
                proposals += 1
    for record in records:
        prepared = prepare_record(bundle, record)
        for name, model in bundle.models.items():
            if model.network is not None and model.reads_keypoints:
                explain_record(bundle, model, prepared, steps=8).save(attributions / cache_path("", record.seizure_id).stem / f"{name}.npz")
    return proposals, problems


def seed_demo(out: str | Path, password: str, subjects: int = 3, n_frames: int = 120, bundle: str | Path | None = None) -> DemoStore:
    """Seed the demo under `out` (see the module docstring): `subjects` rendered seizures of `n_frames` frames, alternating sites."""
    root = Path(out)
    videos, cache = root / "videos", root / "cache"
    for folder in (videos, cache):
        folder.mkdir(parents=True, exist_ok=True)
    db = root / "store.sqlite"
    if db.exists():
        db.unlink()
    made = [scene_record(index, n_frames, videos, cache) for index in demo_subjects(subjects)]
    with init_store(db) as store:
        with store.session(actor="admin") as session:
            sites = {name: add_site(session, name, f"review-demo secret of {name}".encode()) for name in SITES}
            for username, role, site in USERS:
                add_user(session, username, role, password, None if site is None else sites[site])
        for site_index, site in enumerate(SITES):
            rows = [{"seizure_id": record.seizure_id, "subject_id": record.subject_id, "ir": str(video), "keypoints": str(cached), "fps": record.fps,
                     "onset_s": round(record.onset_s, 6), "offset_s": round(record.offset_s, 6), **record.labels}
                    for index, (record, video, cached, _) in enumerate(made) if index % len(SITES) == site_index]
            if rows:
                import_manifest(store, _write_manifest(root / f"manifest-{site}.csv", rows), site, "admin", pseudonymised=True)
        for index, (record, _, _, signs) in enumerate(made):
            if index >= len(SITES):
                continue
            annotator = "alice" if index % len(SITES) == 0 else "bob"
            with store.session(actor=annotator) as session:
                seizure, user = get_seizure(session, record.seizure_id), get_user(session, annotator)
                spans = [(seizure, SignSpan(SIGN_TERMS[sign], a, b)) for sign, found in signs.items() for a, b in found if b > a]
                if spans:
                    add_sign_labels(session, spans, annotator=user)
        loaded = load_bundle(bundle if bundle is not None else demo_bundle(root))
        proposals, problems = screen_into_store(store, loaded, [record for record, *_ in made], cache / "attributions")
    for record, video, _, _ in made:
        playable(video, "ir", cache / "previews", record.fps)
    return DemoStore(db=db, cache=cache, videos=videos, seizures=tuple(record.seizure_id for record, *_ in made), users=tuple(name for name, _, _ in USERS),
                     proposals=proposals, problems=tuple(problems))
