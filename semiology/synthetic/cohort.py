"""A deterministic synthetic epilepsy-monitoring-unit cohort with planted, known semiology.

`make_cohort(CohortSpec())` returns 38 `SeizureRecord`s of 19 subjects, each with a 3D body
stream from a Kinect-v2-like depth camera, its 2D projection with detector-like noise and
occlusions, 2D face landmarks from a face camera, small IR-like body and face crops, labels and
the ground truth of every planted sign in `meta`. Recordings include the pre- and post-ictal
periods (rest and habits only), which later serve as the non-epileptic class.

Leakage canary (`CohortSpec(canary=True)`): the dystonia and emotion labels are balanced coin
tosses per subject (all of a subject's seizures share them), no motion is planted for them and
the epilepsy type is drawn independently of them, so no movement carries their information;
meanwhile every subject's identity is strongly encoded (large, stable posture, face shape and
habitual movements). Under leave-one-subject-out evaluation nothing about these labels can be
learned (chance level); a split that puts one subject's seizures in both training and test sets
can predict them from identity alone, so above-chance scores reveal the leak.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from semiology.camera import KINECT_V2_DEPTH, CameraPose, look_at, project, world_to_camera
from semiology.engines.pool import worker_pool
from semiology.records import SIGN_SPANS, Keypoints, SeizureRecord
from semiology.synthetic.face import EMOTION_LANDMARKS, FACE_CENTRE_PX, FACE_IMAGE_SIZE_PX, FACE_LANDMARKS, FACE_LAYOUT, LANDMARK_INDEX, FaceMotion, simulate_face
from semiology.synthetic.motion import BODY_JOINTS, BODY_LAYOUT, JOINT_INDEX, BodyMotion, SeizurePlan, draw_focal_labels, plan_seizure, simulate_body, smooth_noise
from semiology.synthetic.render import render_body_crops, render_face_crops, square_box, steady_box
from semiology.synthetic.spec import PLANTED_SIGNS, SIGN_TERMS, CohortSpec
from semiology.synthetic.subjects import SubjectTraits, make_subjects, seeded_rng

SOURCE = "synthetic"

GENERATOR_VERSION = 3
"""Raised whenever the same `CohortSpec` starts to yield different records, so that anything
derived from a synthetic cohort and cached (the pretrained frame encoders) is rebuilt.
Version 2: graded signs and balanced dystonic sides. Version 3: appearance-only cues (the
dystonic fist, forehead furrows) in the crops; the keypoint streams are unchanged. The planted
signs' spans in `meta["sign_spans"]` came later without a new version: nothing cached reads them."""

BODY_BASE_CONFIDENCE: dict[str, float] = {
    "head": 0.95,
    "neck": 0.95,
    "right_shoulder": 0.92,
    "right_elbow": 0.88,
    "right_wrist": 0.82,
    "left_shoulder": 0.92,
    "left_elbow": 0.88,
    "left_wrist": 0.82,
    "right_hip": 0.45,
    "left_hip": 0.45,
    "spine_base": 0.8,
}
"""Typical 2D detector confidence per joint; the hips lie under a blanket."""

BODY_NOISE_GAIN: dict[str, float] = {"right_hip": 3.0, "left_hip": 3.0, "right_wrist": 1.5, "left_wrist": 1.5}
"""How much noisier than the others a joint's 2D detection is."""

FACE_REGIONS: dict[str, tuple[str, ...]] = {
    "mouth": tuple(name for name in FACE_LANDMARKS if name.startswith("mouth") or name.endswith("nostril")),
    "right_eye": tuple(name for name in FACE_LANDMARKS if name.startswith(("right_brow", "right_eye"))),
    "left_eye": tuple(name for name in FACE_LANDMARKS if name.startswith(("left_brow", "left_eye"))),
    "lower_face": tuple(
        name
        for name in FACE_LANDMARKS
        if name.startswith("mouth") or name.endswith("nostril") or name in ("nose_mid", "nose_tip")
    ),
}
"""Groups of landmarks hidden together when something passes in front of the face camera."""


def camera_pose(traits: SubjectTraits) -> CameraPose:
    """The depth camera of a subject's room, in the body frame (mm): above the anterior side,
    looking down at the chest by `tilt_deg`, off to one side by `azimuth_deg` and aimed
    `lateral_offset_mm` beside the patient, rolled by `roll_deg`."""
    camera = traits.camera
    target = np.array([0.0, camera["target_height_mm"], 0.0])
    tilt, azimuth, roll = np.deg2rad([camera["tilt_deg"], camera["azimuth_deg"], camera["roll_deg"]])
    direction = np.array([np.sin(azimuth) * np.cos(tilt), np.sin(tilt), np.cos(azimuth) * np.cos(tilt)])
    centre = target + camera["distance_mm"] * direction
    pose = look_at(centre, target + np.array([camera["lateral_offset_mm"], 0.0, 0.0]), np.array([0.0, 1.0, 0.0]))
    spin = np.array([[np.cos(roll), -np.sin(roll), 0.0], [np.sin(roll), np.cos(roll), 0.0], [0.0, 0.0, 1.0]])
    return CameraPose.from_arrays(spin @ pose.rotation_matrix, spin @ pose.translation)


def _poisson_events(
    rng: np.random.Generator,
    plan: SeizurePlan,
    rate_per_s: tuple[float, float],
    duration_s: tuple[float, float],
) -> list[tuple[float, float]]:
    """Random events over the recording at `rate_per_s` (outside, during the ictal period)."""
    total_s = plan.n_frames / plan.fps
    events = []
    cursor = 0.0
    while True:
        rate = rate_per_s[1] if plan.onset_s <= cursor < plan.offset_s else rate_per_s[0]
        cursor += float(rng.exponential(1.0 / rate))
        if cursor >= total_s:
            return events
        length = float(rng.uniform(*duration_s))
        events.append((cursor, min(cursor + length, total_s)))
        cursor += length


def _clinician_band(
    rng: np.random.Generator, plan: SeizurePlan, clean_px: np.ndarray, difficulty: float
) -> tuple[np.ndarray, list[list[float]]]:
    """Image columns [T, 2] hidden by a clinician walking past (NaN when nobody), and the passes.

    Each pass lasts 1-4 s; a band 60-110 px wide crosses the patient's 2D extent.
    """
    occurrence = 0.5 + 1.5 * difficulty
    passes = _poisson_events(rng, plan, (occurrence / 60.0, occurrence / 25.0), (1.0, 4.0))
    band = np.full((plan.n_frames, 2), np.nan)
    u = clean_px[..., 0][np.isfinite(clean_px[..., 0])]
    left, right = np.percentile(u, [2.0, 98.0])
    described = []
    for start_s, end_s in passes:
        width = float(rng.uniform(60.0, 110.0))
        path = (left - width / 2, right + width / 2)
        if rng.random() < 0.5:
            path = path[::-1]
        first, last = int(start_s * plan.fps), max(int(end_s * plan.fps), int(start_s * plan.fps) + 1)
        progress = np.linspace(0.0, 1.0, last - first)
        centre = path[0] + (path[1] - path[0]) * progress
        band[first:last, 0] = centre - width / 2
        band[first:last, 1] = centre + width / 2
        described.append([start_s, end_s, {"width_px": width, "from_u_px": float(path[0]), "to_u_px": float(path[1])}])
    return band, described


def _detect_body(
    rng: np.random.Generator, plan: SeizurePlan, camera_mm: np.ndarray, band: np.ndarray, difficulty: float
) -> tuple[Keypoints, Keypoints]:
    """The 3D (sensor) and 2D (detector) body streams with noise, blanket and clinician occlusion
    (joints behind the clinician or outside the image are missing in both)."""
    n_frames, n_joints = camera_mm.shape[:2]
    clean_px = project(camera_mm, KINECT_V2_DEPTH)
    with np.errstate(invalid="ignore"):
        hidden = (clean_px[..., 0] >= band[:, :1]) & (clean_px[..., 0] <= band[:, 1:])
        near = ~hidden & (clean_px[..., 0] >= band[:, :1] - 25.0) & (clean_px[..., 0] <= band[:, 1:] + 25.0)
    size = np.array([KINECT_V2_DEPTH.width, KINECT_V2_DEPTH.height])
    hidden |= ~((clean_px >= 0) & (clean_px < size)).all(axis=-1)

    base = np.array([BODY_BASE_CONFIDENCE[name] for name in BODY_JOINTS]) * (1.0 - 0.3 * difficulty)
    wander = np.stack([smooth_noise(rng, n_frames, plan.fps, 0.5) for _ in range(n_joints)], axis=1)
    confidence = np.clip(base[None, :] + 0.04 * wander, 0.05, 1.0)
    gain = np.array([BODY_NOISE_GAIN.get(name, 1.0) for name in BODY_JOINTS])
    sigma_px = (1.0 + 5.0 * difficulty) * gain[None, :, None] * np.where(near, 3.0, 1.0)[..., None]
    drift = np.stack([smooth_noise(rng, n_frames, plan.fps, 0.3) for _ in range(2 * n_joints)], axis=1)
    noise = 0.6 * rng.standard_normal((n_frames, n_joints, 2)) + 0.8 * drift.reshape(n_frames, n_joints, 2)
    coords_2d = clean_px + sigma_px * noise
    glitch = rng.random((n_frames, n_joints)) < 0.002 * difficulty
    coords_2d[glitch] += rng.normal(0.0, 25.0, size=(int(glitch.sum()), 2))
    confidence = np.where(glitch, 0.15, confidence)
    confidence = np.where(near, confidence * 0.2, confidence)
    confidence = np.where(hidden, 0.0, confidence)
    coords_2d[hidden] = np.nan

    coords_3d = camera_mm + rng.normal(0.0, 3.0 * (1.0 + 2.0 * difficulty), size=camera_mm.shape)
    confidence_3d = np.ones((n_frames, n_joints))
    for name in ("right_hip", "left_hip"):
        confidence_3d[:, JOINT_INDEX[name]] = 0.5
    confidence_3d = np.where(near, 0.5, confidence_3d)
    confidence_3d[hidden] = 0.0
    coords_3d[hidden] = np.nan
    body_3d = Keypoints(coords=coords_3d, confidence=confidence_3d, layout=BODY_LAYOUT, fps=plan.fps, source=SOURCE)
    body_2d = Keypoints(coords=coords_2d, confidence=confidence, layout=BODY_LAYOUT, fps=plan.fps, source=SOURCE)
    return body_3d, body_2d


def _detect_face(
    rng: np.random.Generator, plan: SeizurePlan, face: FaceMotion, difficulty: float
) -> tuple[Keypoints, np.ndarray, list[list[Any]]]:
    """Face landmarks with detector noise, self-occlusion, passing occluders and landmarks
    that leave the face image (all missing: NaN with confidence 0).

    Returns the keypoints, the occluder box per frame [T, 4] (u0, v0, u1, v1; NaN when none)
    and the occlusion events `[start_s, end_s, {"region": ...}]`.
    """
    n_frames, n_landmarks = face.coords_px.shape[:2]
    occurrence = 0.5 + 1.5 * difficulty
    events = _poisson_events(rng, plan, (occurrence / 50.0, occurrence / 30.0), (0.5, 2.0))
    hidden = face.visibility < 0.15
    boxes = np.full((n_frames, 4), np.nan)
    described: list[list[Any]] = []
    for start_s, end_s in events:
        region = str(rng.choice(sorted(FACE_REGIONS)))
        members = [LANDMARK_INDEX[name] for name in FACE_REGIONS[region]]
        first, last = int(start_s * plan.fps), max(int(end_s * plan.fps), int(start_s * plan.fps) + 1)
        hidden[first:last, members] = True
        region_px = face.coords_px[first:last][:, members]
        boxes[first:last, :2] = np.nanmin(region_px, axis=1) - 6.0
        boxes[first:last, 2:] = np.nanmax(region_px, axis=1) + 6.0
        described.append([start_s, end_s, {"region": region}])

    sigma_px = 0.5 + 3.0 * difficulty
    wander = np.stack([smooth_noise(rng, n_frames, plan.fps, 0.4) for _ in range(n_landmarks)], axis=1)
    confidence = np.clip((0.95 - 0.25 * difficulty + 0.03 * wander) * face.visibility, 0.02, 1.0)
    coords = face.coords_px + sigma_px * (1.0 + 2.0 * (1.0 - face.visibility))[..., None] * rng.standard_normal(
        face.coords_px.shape
    )
    width, height = FACE_IMAGE_SIZE_PX
    outside = (
        (face.coords_px[..., 0] < 0) | (face.coords_px[..., 0] >= width)
        | (face.coords_px[..., 1] < 0) | (face.coords_px[..., 1] >= height)
    )
    hidden |= outside
    confidence[hidden] = 0.0
    coords[hidden] = np.nan
    keypoints = Keypoints(coords=coords, confidence=confidence, layout=FACE_LAYOUT, fps=plan.fps, source=SOURCE)
    return keypoints, boxes, described


def sign_spans(signs: dict[str, list]) -> dict[str, list[list[float]]]:
    """The planted signs' episodes as an annotator's spans, by the label store's sign terms (`SIGN_TERMS`)."""
    return {SIGN_TERMS[sign]: [[float(start), float(end)] for start, end, *_ in episodes] for sign, episodes in signs.items() if sign in SIGN_TERMS}


def simulate_record(
    traits: SubjectTraits, plan: SeizurePlan, spec: CohortSpec, rng: np.random.Generator
) -> SeizureRecord:
    """One recording: motion, camera, detectors, crops, labels and ground-truth metadata."""
    body: BodyMotion = simulate_body(traits, plan, rng)
    face = simulate_face(traits, plan, body, rng)
    pose = camera_pose(traits)
    camera_mm = world_to_camera(body.joints_mm, pose.rotation_matrix, pose.translation)
    hands_mm = world_to_camera(body.hand_tips_mm, pose.rotation_matrix, pose.translation)
    clean_px = project(camera_mm, KINECT_V2_DEPTH)
    hands_px = project(hands_mm, KINECT_V2_DEPTH)

    band, clinician = _clinician_band(rng, plan, clean_px, spec.difficulty)
    body_3d, body_2d = _detect_body(rng, plan, camera_mm, band, spec.difficulty)
    face_2d, face_boxes, face_events = _detect_face(rng, plan, face, spec.difficulty)

    size = spec.crop_size_px
    noise_level = 4.0 + 10.0 * spec.difficulty
    body_box = square_box(np.concatenate([clean_px, hands_px], axis=1), margin=0.1)
    face_box = steady_box(face.coords_px, scale=2.3)
    cues = spec.appearance_cues
    body_crops = render_body_crops(clean_px, hands_px, body_box, band, size, noise_level, rng, body.fist if cues else None)
    face_crops = render_face_crops(
        face.coords_px, face_box, face.touch, face.touch_side, face_boxes, size, noise_level, rng, face.fear if cues else None
    )

    planted_dystonia = "dystonia" in plan.signs
    side = traits.dystonia_side
    meta = {
        "subject_traits": traits.to_json(),
        "signs": plan.signs,
        SIGN_SPANS: sign_spans(plan.signs),
        "planted_joints": {
            "dystonia": [f"{side}_shoulder", f"{side}_elbow", f"{side}_wrist"] if planted_dystonia else [],
            "emotion": list(EMOTION_LANDMARKS) if "emotion" in plan.signs else [],
        },
        "camera": {
            "intrinsics": KINECT_V2_DEPTH.to_dict(),
            "pose": pose.to_dict(),
            **{key: float(value) for key, value in traits.camera.items()},
        },
        "face_camera": {
            "width": FACE_IMAGE_SIZE_PX[0],
            "height": FACE_IMAGE_SIZE_PX[1],
            "face_centre_px": list(FACE_CENTRE_PX),
            "face_width_px": float(traits.face_shape_px["face_width"]),
            "projection": "orthographic",
        },
        "crop_boxes_px": {"body": list(body_box), "face": list(face_box)},
        "occlusions": {"clinician": clinician, "face": face_events},
        "difficulty": float(spec.difficulty),
        "effect": float(plan.effect),
        "graded_signs": list(plan.graded_signs),
        "appearance_cues": bool(spec.appearance_cues),
        "sign_levels": {sign: plan.level(sign) for sign in PLANTED_SIGNS},
        "canary": bool(spec.canary),
        "body_frame": "origin spine base; x subject's left, y towards head, z anterior (mm)",
    }
    return SeizureRecord(
        seizure_id=plan.seizure_id,
        subject_id=plan.subject_id,
        fps=plan.fps,
        onset_s=plan.onset_s,
        offset_s=plan.offset_s,
        labels=dict(plan.labels),
        generalisation_s=plan.generalisation_s,
        body_3d=body_3d,
        body_2d=body_2d,
        face_2d=face_2d,
        body_crops=body_crops,
        face_crops=face_crops,
        synthetic=True,
        meta=meta,
    )


def _generalised_seizures(spec: CohortSpec, subjects: list[SubjectTraits]) -> set[tuple[int, int]]:
    """Which (subject, seizure) pairs generalise: a third of all seizures, chosen at random."""
    pairs = [(subject.index, number) for subject in subjects for number in range(subject.n_seizures)]
    chosen = seeded_rng(spec.seed, 0, 1).permutation(len(pairs))[: int(round(len(pairs) / 3))]
    return {pairs[index] for index in chosen}


def make_plans(spec: CohortSpec = CohortSpec()) -> list[tuple[SubjectTraits, SeizurePlan]]:
    """Every seizure's subject and timeline, without simulating any motion (cheap)."""
    return [(traits, plan) for traits, plan, _ in _iterate_plans(spec)]


def _iterate_plans(spec: CohortSpec) -> Iterator[tuple[SubjectTraits, SeizurePlan, np.random.Generator]]:
    """Each seizure's subject, timeline and the generator that continues its simulation."""
    subjects = make_subjects(spec)
    generalised = _generalised_seizures(spec, subjects)
    for traits in subjects:
        for number in range(traits.n_seizures):
            rng = seeded_rng(spec.seed, 2, traits.index, number)
            duration_s = float(rng.uniform(*spec.seizure_duration_s))
            plan = plan_seizure(
                traits,
                seizure_id=f"{traits.subject_id}-S{number + 1}",
                duration_s=duration_s,
                generalised=(traits.index, number) in generalised,
                focal_labels=draw_focal_labels(traits, rng),
                pre_ictal_s=spec.pre_ictal_s,
                post_ictal_s=spec.post_ictal_s,
                difficulty=spec.difficulty,
                rng=rng,
                graded_signs=spec.graded_signs,
                distal_share=spec.distal_dystonia_share,
                distal_rng=seeded_rng(spec.seed, 4, traits.index, number),
            )
            yield traits, plan, rng


def make_cohort(spec: CohortSpec = CohortSpec(), workers: int = 1) -> list[SeizureRecord]:
    """The synthetic cohort of `spec`: one `SeizureRecord` per seizure, subject by subject.

    Deterministic: the same spec gives identical arrays (every subject and seizure draws from
    its own node of the seed tree of `spec.seed`), whatever `workers` (processes that simulate
    seizures in parallel). With `spec.canary` it is the leakage canary
    of the module docstring: dystonia/emotion labels are per-subject coin tosses carried by no
    movement, while subject identity is strongly encoded, so only a split that mixes a
    subject's seizures between training and test can score above chance on them.
    """
    if workers <= 1:
        return [simulate_record(traits, plan, spec, rng) for traits, plan, rng in _iterate_plans(spec)]
    plans = make_plans(spec)
    frames = [plan.n_frames for _, plan in plans]
    # Longest seizures first, in as many interleaved shares as the pool has room for, so that
    # the workers finish together; each share replays the cheap planning to reach its seeds.
    order = [int(index) for index in np.argsort(frames, kind="stable")[::-1]]
    shares = [order[start :: 4 * workers] for start in range(4 * workers)]
    with worker_pool(workers) as pool:
        simulated = pool.map(_simulate_share, [spec] * len(shares), shares)
        by_index = {index: record for share, records in zip(shares, simulated, strict=True) for index, record in zip(share, records, strict=True)}
    return [by_index[index] for index in range(len(plans))]


def _simulate_share(spec: CohortSpec, indices: list[int]) -> list[SeizureRecord]:
    """The records of the seizures at `indices` (positions in `make_plans(spec)`), in that order."""
    wanted = set(indices)
    records = {index: simulate_record(traits, plan, spec, rng) for index, (traits, plan, rng) in enumerate(_iterate_plans(spec)) if index in wanted}
    return [records[index] for index in indices]
