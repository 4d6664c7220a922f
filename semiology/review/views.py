"""What the review app's pages read, as plain JSON-able dicts: seizure lists, a seizure, its keypoints, traces and attributions.

Nothing here returns a patient identifier: a patient appears only by the pseudonym the store
holds, a recording only by its modality (never its path), a user by username. Keypoints come
from the cached record with the store's corrections applied (`store.corrections`), so what the
reviewer sees is what training will read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from semiology.errors import CacheError
from semiology.io.cache import cache_path, load_record
from semiology.layouts import get_layout
from semiology.records import Keypoints, SeizureRecord
from semiology.review.errors import ReviewError
from semiology.review.security import confined, sees_every_site
from semiology.store.corrections import corrected_record, seizure_corrections
from semiology.store.editing import label_view
from semiology.store.labels import sign_terms
from semiology.store.schema import Patient, Recording, Seizure, SignLabel, Site, User, WindowPrediction

REVIEW_STATUSES: tuple[str, ...] = ("to_review", "in_progress", "reviewed")
"""A seizure is `to_review` until a person labels it, `in_progress` while model proposals wait for a decision, then `reviewed`."""
VIDEO_MODALITIES: tuple[str, ...] = ("ir", "rgb", "depth")
"""Which recording the seizure page plays, in order of preference."""


@dataclass(frozen=True)
class Roots:
    """Where the app may read files: the keypoint cache (with previews and attributions under it) and the video roots."""

    cache: Path
    videos: tuple[Path, ...]

    @property
    def previews(self) -> Path:
        return self.cache / "previews"

    @property
    def attributions(self) -> Path:
        return self.cache / "attributions"


def user_view(session: Session, user: User) -> dict[str, Any]:
    site = None if user.site_id is None else session.get(Site, user.site_id)
    return {"username": user.username, "role": user.role, "site": None if site is None else site.name}


def visible_sites(session: Session, user: User) -> list[str]:
    """The sites whose seizures `user` may see."""
    query = select(Site.name).order_by(Site.name)
    if not sees_every_site(user):
        query = query.where(Site.id == user.site_id)
    return list(session.scalars(query))


def review_status(human_labels: int, pending_proposals: int) -> str:
    """The review status of a seizure from its count of labels by people and of undecided model proposals."""
    if human_labels == 0:
        return "to_review"
    return "in_progress" if pending_proposals else "reviewed"


def seizure_list(session: Session, user: User, site: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
    """The seizures `user` may see, optionally of one site and one review status, by site and seizure id."""
    humans = func.count(SignLabel.annotator_id)
    pending = func.sum(case((SignLabel.status == "model_proposal", 1), else_=0))
    query = (
        select(Seizure, Site.name, Patient.pseudonym, humans, pending)
        .join(Patient, Seizure.patient_id == Patient.id).join(Site, Patient.site_id == Site.id)
        .outerjoin(SignLabel, SignLabel.seizure_id == Seizure.id)
        .group_by(Seizure.id, Site.name, Patient.pseudonym).order_by(Site.name, Seizure.seizure_key)
    )
    if not sees_every_site(user):
        query = query.where(Patient.site_id == user.site_id)
    if site:
        query = query.where(Site.name == site)
    rows = []
    for seizure, site_name, pseudonym, human_count, pending_count in session.execute(query):
        state = review_status(int(human_count or 0), int(pending_count or 0))
        if status and state != status:
            continue
        rows.append({"id": seizure.id, "seizure": seizure.seizure_key, "site": site_name, "patient": pseudonym, "onset_s": seizure.onset_s,
                     "offset_s": seizure.offset_s, "status": state, "labels": int(human_count or 0), "proposals": int(pending_count or 0)})
    return rows


def _recording(session: Session, seizure: Seizure, modality: str) -> Recording | None:
    return session.scalar(select(Recording).where(Recording.seizure_id == seizure.id, Recording.modality == modality))


def video_recording(session: Session, seizure: Seizure) -> Recording | None:
    """The recording the page plays: IR, else colour, else depth."""
    for modality in VIDEO_MODALITIES:
        recording = _recording(session, seizure, modality)
        if recording is not None:
            return recording
    return None


def keypoint_file(session: Session, seizure: Seizure, roots: Roots) -> Path:
    """The seizure's cached record, inside the cache root: its `keypoints` recording, else the cache's file for its id."""
    recording = _recording(session, seizure, "keypoints")
    path = confined(roots.cache, recording.path) if recording is not None else cache_path(roots.cache, seizure.seizure_key)
    if path is None:
        raise ReviewError(f"seizure {seizure.seizure_key!r}: its keypoint file lies outside the cache folder; it is not served")
    if not path.is_file():
        raise ReviewError(f"seizure {seizure.seizure_key!r}: no cached keypoints ({path.name} is not in the cache folder)")
    return path


def corrected(session: Session, seizure: Seizure, roots: Roots) -> SeizureRecord:
    """The seizure's cached record with the store's corrections applied."""
    path = keypoint_file(session, seizure, roots)
    try:
        record = load_record(path)
    except CacheError as exc:
        raise ReviewError(str(exc)) from None
    return corrected_record(record, seizure_corrections(session, seizure))


def _rounded(values: np.ndarray, decimals: int) -> list[Any]:
    """Nested lists with NaN as None (JSON has no NaN)."""
    rounded = np.round(values.astype(np.float64), decimals)
    return [_rounded(row, decimals) for row in rounded] if rounded.ndim > 1 else [None if not math.isfinite(v) else float(v) for v in rounded]


def _stream(keypoints: Keypoints | None) -> dict[str, Any] | None:
    if keypoints is None:
        return None
    layout = get_layout(keypoints.layout)
    return {"layout": layout.name, "joints": list(layout.joint_names), "edges": [list(edge) for edge in layout.inward_edges],
            "coords": _rounded(keypoints.coords[..., :2], 2), "confidence": _rounded(keypoints.confidence, 3)}


def keypoints_view(record: SeizureRecord) -> dict[str, Any]:
    """The 2D body skeleton and face landmarks per frame, in the video's pixels, with per-joint confidence."""
    return {"fps": record.fps, "frames": record.num_frames, "synthetic": record.synthetic, "body": _stream(record.body_2d), "face": _stream(record.face_2d)}


def traces(session: Session, seizure: Seizure) -> list[dict[str, Any]]:
    """Each screening model's window probabilities for the seizure: the probability of its last class (the sign present) per window."""
    rows = session.scalars(select(WindowPrediction).where(WindowPrediction.seizure_id == seizure.id)
                           .order_by(WindowPrediction.bundle_id, WindowPrediction.model, WindowPrediction.start_s)).all()
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        classes = list(row.probabilities)
        trace = found.setdefault((row.bundle_id, row.model), {"bundle": row.bundle_id, "version": row.bundle_version, "model": row.model,
                                                             "task": row.task, "class": classes[-1], "start_s": [], "end_s": [], "probability": []})
        trace["start_s"].append(row.start_s)
        trace["end_s"].append(row.end_s)
        trace["probability"].append(round(float(row.probabilities[classes[-1]]), 4))
    return list(found.values())


def attribution_models(seizure: Seizure, roots: Roots) -> list[str]:
    """The models whose saved attributions (`semiology.explain`, one NPZ per model) the cache holds for the seizure."""
    folder = roots.attributions / cache_path("", seizure.seizure_key).stem
    return sorted(path.stem for path in folder.glob("*.npz")) if folder.is_dir() else []


def attribution_strip(seizure: Seizure, roots: Roots, model: str, start_s: float, end_s: float) -> dict[str, Any]:
    """Per-joint attribution (integrated gradients, evidence for the class) summed over [start_s, end_s) of one model's saved attributions."""
    folder = roots.attributions / cache_path("", seizure.seizure_key).stem
    path = confined(folder, f"{model}.npz")
    if path is None or model not in attribution_models(seizure, roots):
        raise ReviewError(f"seizure {seizure.seizure_key!r}: no attributions of model {model!r}")
    with np.load(path, allow_pickle=False) as saved:
        fps = float(saved["fps"])
        values = saved["joint_time_ig"] if "joint_time_ig" in saved else None
        joints = [str(name) for name in saved["joint_names"]]
        target = str(saved["target_class"])
    if values is None:
        raise ReviewError(f"seizure {seizure.seizure_key!r}: model {model!r} has no per-joint attributions (not a skeleton model)")
    first, last = max(0, int(round(start_s * fps))), max(int(round(end_s * fps)), int(round(start_s * fps)) + 1)
    strip = values[first:last].sum(axis=0)
    return {"model": model, "class": target, "start_s": start_s, "end_s": end_s, "joints": joints, "values": _rounded(strip, 5)}


def seizure_view(session: Session, seizure: Seizure, roots: Roots) -> dict[str, Any]:
    """Everything the seizure page shows but the keypoints: times, video, vocabulary, labels, proposals, traces, attributions."""
    patient = session.get(Patient, seizure.patient_id)
    site = session.get(Site, patient.site_id)
    video = video_recording(session, seizure)
    keypoints = _recording(session, seizure, "keypoints")
    labels = session.scalars(select(SignLabel).where(SignLabel.seizure_id == seizure.id).order_by(SignLabel.start_s, SignLabel.id)).all()
    return {
        "id": seizure.id, "seizure": seizure.seizure_key, "site": site.name, "patient": patient.pseudonym,
        "onset_s": seizure.onset_s, "offset_s": seizure.offset_s, "generalisation_s": seizure.generalisation_s,
        "seizure_type": seizure.seizure_type, "event_kind": seizure.event_kind,
        "video": None if video is None else {"modality": video.modality, "fps": video.fps, "url": f"/api/seizures/{seizure.id}/video"},
        "keypoint_frames": None if keypoints is None else keypoints.frame_count,
        "terms": [{"term": term.term, "label": term.label, "region": term.region} for term in sign_terms(session).values()],
        "labels": [label_view(label) for label in labels],
        "traces": traces(session, seizure),
        "attributions": attribution_models(seizure, roots),
    }

