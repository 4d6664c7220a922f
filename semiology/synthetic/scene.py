"""Rendered IR and depth frames of a synthetic patient on a tilted bed by a wall, with ground truth.

The patient's upper body moves as the synthetic cohort simulates it (`simulate_body`, in the body
frame: origin at the spine base, x to the subject's left, y towards the head, z anterior); legs
lie still along the bed. The bed's mattress is the plane behind the back; the bed head is raised
by `bed_tilt_deg`, so the floor and the wall at the bed's foot end are tilted in the body frame.
A clinician sometimes leans over the bed between the camera and the patient, raised where needed
to stay `CLINICIAN_CLEARANCE_MM` clear of the patient: solid bodies do not pass through each other
(before, a patient's raised hand could sit inside the clinician's trunk, which no depth method
can separate and no camera would see).

Framing, checked against an EMU camera looking at the bed: the subject's camera (1.8-2.6 m from
the chest, 10-35 degrees towards the head, as the cohort draws it) looks nearly straight down, as
a ceiling-mounted Kinect above the bed does; the bed and patient fill 13-23 % of the frame, the
whole bed is in view on 29 of the first 38 subjects (on the others one end leaves the frame),
with floor around it and the foot-end wall along the image's lower edge. That is a plausible EMU
view, and the bed is as prominent on the subjects where the first bed crop failed as on the
others, so no framing was changed.

Each pixel casts a ray through the subject's Kinect-v2-like depth camera (512 x 424,
`KINECT_V2_DEPTH`) and takes the nearest surface among planes (floor, wall, mattress) and
capsules (limbs, trunk, head): exact, vectorised, and only evaluated inside each capsule's image
box. Depth is uint16 millimetres along the optical axis with sensor noise and zero-valued
dropouts (pepper noise); IR is uint16 counts falling off with distance. The ground truth is the
per-pixel label (background / bed / patient / clinician), the same labels without the
clinician (what the clinician hides), and the joints in 3D (camera frame, mm) and 2D (pixels)
with a per-joint visibility flag. Everything is deterministic given the seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from semiology.camera import KINECT_V2_DEPTH, CameraIntrinsics, CameraPose, project, world_to_camera
from semiology.io.video_write import write_image_folder, write_tracks_mkv
from semiology.synthetic.cohort import camera_pose, make_plans
from semiology.synthetic.motion import BODY_JOINTS, BODY_LAYOUT, JOINT_INDEX, simulate_body
from semiology.synthetic.spec import CohortSpec
from semiology.synthetic.subjects import seeded_rng

BACKGROUND, BED, PATIENT, CLINICIAN = 0, 1, 2, 3
LABEL_NAMES: dict[int, str] = {BACKGROUND: "background", BED: "bed", PATIENT: "patient", CLINICIAN: "clinician"}
MATTRESS_Z_MM = -110.0
"""Height of the mattress surface in the body frame: just behind the patient's back."""
BED_HALF_WIDTH_MM = 450.0
BED_Y_RANGE_MM = (-1350.0, 850.0)
BED_HEIGHT_MM = 550.0
WALL_GAP_MM = 150.0
CLINICIAN_CLEARANCE_MM = 60.0
"""The clinician's body keeps at least this gap to the patient's (no interpenetration)."""
IR_REFLECTANCE: dict[int, float] = {BACKGROUND: 700.0, BED: 1200.0, PATIENT: 1800.0, CLINICIAN: 2300.0}

_PATIENT_CAPSULES: tuple[tuple[str, str, float], ...] = (
    ("head", "head", 95.0),
    ("head", "neck", 50.0),
    ("neck", "spine_base", 105.0),
    ("right_shoulder", "left_shoulder", 65.0),
    ("right_shoulder", "right_hip", 75.0),
    ("left_shoulder", "left_hip", 75.0),
    ("right_hip", "left_hip", 85.0),
    ("right_shoulder", "right_elbow", 45.0),
    ("left_shoulder", "left_elbow", 45.0),
    ("right_elbow", "right_wrist", 38.0),
    ("left_elbow", "left_wrist", 38.0),
)
"""Patient body parts as (joint, joint, radius mm); hands and legs are added separately."""


@dataclass(frozen=True)
class SceneSpec:
    """What to render: which synthetic subject, which stretch of its first seizure, and the room."""

    subject_index: int = 0
    n_frames: int = 45
    start_s: float | None = None
    bed_tilt_deg: float = 20.0
    clinician_share: float = 0.4
    depth_noise_mm: float = 4.0
    dropout: float = 0.01
    seed: int = 0

    def __post_init__(self) -> None:
        if self.n_frames < 1:
            raise ValueError(f"n_frames must be at least 1, got {self.n_frames}")
        if not 0.0 <= self.clinician_share <= 1.0:
            raise ValueError(f"clinician_share must lie in [0, 1], got {self.clinician_share}")
        if not 0.0 <= self.dropout < 0.5:
            raise ValueError(f"dropout must lie in [0, 0.5), got {self.dropout}")
        if not 0.0 <= self.bed_tilt_deg < 60.0:
            raise ValueError(f"bed_tilt_deg must lie in [0, 60), got {self.bed_tilt_deg}")


@dataclass
class Scene:
    """Rendered frames and their ground truth (T frames of H x W pixels, V joints)."""

    ir: np.ndarray
    depth_mm: np.ndarray
    labels: np.ndarray
    labels_unoccluded: np.ndarray
    joints_3d_mm: np.ndarray
    joints_2d_px: np.ndarray
    visible: np.ndarray
    clinician_present: np.ndarray
    fps: float
    intrinsics: CameraIntrinsics
    pose: CameraPose
    layout: str = BODY_LAYOUT
    joint_names: tuple[str, ...] = field(default=BODY_JOINTS)

    @property
    def n_frames(self) -> int:
        return int(self.depth_mm.shape[0])


def _pixel_rays(intrinsics: CameraIntrinsics) -> np.ndarray:
    """Ray directions [H, W, 3] with unit z, so a ray's parameter is the depth along the optical axis."""
    u, v = np.meshgrid(np.arange(intrinsics.width, dtype=np.float64), np.arange(intrinsics.height, dtype=np.float64))
    return np.stack([(u - intrinsics.cx) / intrinsics.fx, (v - intrinsics.cy) / intrinsics.fy, np.ones_like(u)], axis=-1)


def _plane_depth(rays: np.ndarray, normal: np.ndarray, offset: float) -> np.ndarray:
    """Depth where each ray meets the plane `normal . p = offset` (camera frame); inf where it does not."""
    facing = rays @ normal
    with np.errstate(divide="ignore", invalid="ignore"):
        depth = offset / facing
    return np.where(np.isfinite(depth) & (depth > 0), depth, np.inf)


def _capsule_depth(rays: np.ndarray, start: np.ndarray, end: np.ndarray, radius: float) -> np.ndarray:
    """Depth where each ray [..., 3] enters the capsule (segment start-end swept by a sphere); inf on a miss."""
    ray_sq = np.einsum("...i,...i->...", rays, rays)
    best = np.full(rays.shape[:-1], np.inf)
    for centre in (start, end):
        half_b = -(rays @ centre)
        disc = half_b**2 - ray_sq * (centre @ centre - radius**2)
        with np.errstate(invalid="ignore"):
            depth = (-half_b - np.sqrt(disc)) / ray_sq
        best = np.where((disc >= 0) & (depth > 0) & (depth < best), depth, best)
    axis = end - start
    axis_sq = float(axis @ axis)
    if axis_sq < 1e-9:
        return best
    origin = -start
    axis_ray = rays @ axis
    axis_origin = float(axis @ origin)
    a = axis_sq * ray_sq - axis_ray**2
    half_b = axis_sq * (rays @ origin) - axis_origin * axis_ray
    c = axis_sq * float(origin @ origin) - axis_origin**2 - radius**2 * axis_sq
    disc = half_b**2 - a * c
    with np.errstate(invalid="ignore", divide="ignore"):
        depth = (-half_b - np.sqrt(disc)) / a
    along = axis_origin + depth * axis_ray
    hit = (disc >= 0) & (a > 1e-12) & (depth > 0) & (along > 0) & (along < axis_sq)
    return np.where(hit & (depth < best), depth, best)


def _draw_capsule(
    zbuffer: np.ndarray, labels: np.ndarray, rays: np.ndarray, intrinsics: CameraIntrinsics,
    start: np.ndarray, end: np.ndarray, radius: float, label: int,
) -> None:
    """Ray-cast one capsule (camera frame, mm) into `zbuffer`/`labels`, only inside its image box."""
    ends = np.stack([start, end])
    if (ends[:, 2] - radius <= 10.0).any():
        return
    pixels = project(ends, intrinsics)
    reach = radius * max(intrinsics.fx, intrinsics.fy) / (ends[:, 2].min() - radius) + 2.0
    u0, v0 = np.floor(pixels.min(axis=0) - reach).astype(int)
    u1, v1 = np.ceil(pixels.max(axis=0) + reach).astype(int) + 1
    u0, v0, u1, v1 = max(u0, 0), max(v0, 0), min(u1, intrinsics.width), min(v1, intrinsics.height)
    if u0 >= u1 or v0 >= v1:
        return
    depth = _capsule_depth(rays[v0:v1, u0:u1], start, end, radius)
    window = zbuffer[v0:v1, u0:u1]
    nearer = depth < window
    window[nearer] = depth[nearer]
    labels[v0:v1, u0:u1][nearer] = label


def _room(rays: np.ndarray, pose: CameraPose, tilt_rad: float) -> tuple[np.ndarray, np.ndarray]:
    """Depth and labels of the static room: floor and the wall at the bed's foot end (background),
    and the mattress (bed). The camera is above the head end, so the wall faces it."""
    rotation, translation = pose.rotation_matrix, pose.translation
    up = np.array([0.0, np.sin(tilt_rad), np.cos(tilt_rad)])

    def plane(normal_body: np.ndarray, point_body: np.ndarray) -> np.ndarray:
        normal = rotation @ normal_body
        return _plane_depth(rays, normal, float(normal @ (rotation @ point_body + translation)))

    foot_end = np.array([0.0, BED_Y_RANGE_MM[0], MATTRESS_Z_MM])
    floor_point = foot_end - BED_HEIGHT_MM * up
    along_bed = np.array([0.0, np.cos(tilt_rad), -np.sin(tilt_rad)])
    wall_point = foot_end - WALL_GAP_MM * along_bed
    floor = plane(up, floor_point)
    wall = plane(along_bed, wall_point)
    mattress = plane(np.array([0.0, 0.0, 1.0]), np.array([0.0, 0.0, MATTRESS_Z_MM]))
    on_mattress = rays * mattress[..., None]
    body_points = (on_mattress - translation) @ rotation
    inside = (
        np.isfinite(mattress)
        & (np.abs(body_points[..., 0]) <= BED_HALF_WIDTH_MM)
        & (body_points[..., 1] >= BED_Y_RANGE_MM[0])
        & (body_points[..., 1] <= BED_Y_RANGE_MM[1])
    )
    mattress = np.where(inside, mattress, np.inf)
    depth = np.minimum(np.minimum(floor, wall), mattress)
    labels = np.where(mattress <= depth, BED, BACKGROUND).astype(np.uint8)
    return depth, labels


def _legs(joints: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Still legs along the bed from each hip (body frame): thigh, shin and foot capsules."""
    parts = []
    for hip_name in ("right_hip", "left_hip"):
        hip = joints[JOINT_INDEX[hip_name]]
        knee = np.array([hip[0] * 1.1, hip[1] - 430.0, MATTRESS_Z_MM + 65.0])
        ankle = np.array([hip[0] * 1.2, knee[1] - 420.0, MATTRESS_Z_MM + 50.0])
        toe = ankle + np.array([0.0, -40.0, 120.0])
        parts += [(hip, knee, 70.0), (knee, ankle, 50.0), (ankle, toe, 40.0)]
    return parts


def _clinician(progress: float, side: float, tilt_rad: float, lift_mm: float = 0.0) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """A clinician beside the bed leaning over the patient (body frame), `progress` in [0, 1] along
    the bed; `lift_mm` raises the leaning upper body (shoulders, head, hands) to clear the patient."""
    up = np.array([0.0, np.sin(tilt_rad), np.cos(tilt_rad)])
    along = BED_Y_RANGE_MM[0] + 600.0 + progress * 1000.0
    floor_spot = np.array([side * (BED_HALF_WIDTH_MM + 250.0), along, MATTRESS_Z_MM]) - BED_HEIGHT_MM * up
    hips = floor_spot + 950.0 * up
    shoulders = np.array([side * 200.0, along + 100.0, MATTRESS_Z_MM + 700.0 + lift_mm])
    lean = (shoulders - hips) / np.linalg.norm(shoulders - hips)
    head = shoulders + 230.0 * lean + 60.0 * up
    hands = [np.array([side * 40.0, along + offset, MATTRESS_Z_MM + 420.0 + lift_mm]) for offset in (-150.0, 150.0)]
    return [
        (floor_spot + 60.0 * up, hips, 110.0),
        (hips, shoulders, 150.0),
        (head, head, 105.0),
        (shoulders, hands[0], 45.0),
        (shoulders, hands[1], 45.0),
    ]


def _segment_distance(p0: np.ndarray, p1: np.ndarray, q0: np.ndarray, q1: np.ndarray) -> float:
    """Shortest distance between segments p0-p1 and q0-q1 (either may be a point)."""
    d1, d2, r = p1 - p0, q1 - q0, p0 - q0
    a, e, f = float(d1 @ d1), float(d2 @ d2), float(d2 @ r)
    if a < 1e-9 and e < 1e-9:
        return float(np.linalg.norm(r))
    if a < 1e-9:
        s, t = 0.0, float(np.clip(f / e, 0.0, 1.0))
    else:
        c = float(d1 @ r)
        if e < 1e-9:
            s, t = float(np.clip(-c / a, 0.0, 1.0)), 0.0
        else:
            b = float(d1 @ d2)
            denominator = a * e - b * b
            s = float(np.clip((b * f - c * e) / denominator, 0.0, 1.0)) if denominator > 1e-9 else 0.0
            t = (b * s + f) / e
            if t < 0.0:
                s, t = float(np.clip(-c / a, 0.0, 1.0)), 0.0
            elif t > 1.0:
                s, t = float(np.clip((b - c) / a, 0.0, 1.0)), 1.0
    return float(np.linalg.norm(p0 + d1 * s - (q0 + d2 * t)))


def _clearance(first: list[tuple[np.ndarray, np.ndarray, float]], second: list[tuple[np.ndarray, np.ndarray, float]]) -> float:
    """The smallest gap (mm, negative where they overlap) between two sets of capsules."""
    return min(_segment_distance(a0, a1, b0, b1) - ra - rb for a0, a1, ra in first for b0, b1, rb in second)


def _clear_clinician(
    progress: float, side: float, tilt_rad: float, patient: list[tuple[np.ndarray, np.ndarray, float]]
) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """The leaning clinician, raised as little as needed (50 mm steps) to stay `CLINICIAN_CLEARANCE_MM`
    clear of the patient: two solid bodies do not pass through each other (a patient's raised
    hand would otherwise sit inside the clinician's trunk)."""
    lift = 0.0
    parts = _clinician(progress, side, tilt_rad)
    while _clearance(parts, patient) < CLINICIAN_CLEARANCE_MM and lift < 1000.0:
        lift += 50.0
        parts = _clinician(progress, side, tilt_rad, lift)
    return parts


def _visibility(joints_cam: np.ndarray, joints_px: np.ndarray, zbuffer: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """A joint is visible when its pixel shows the patient's surface less than 130 mm in front of it."""
    height, width = zbuffer.shape
    visible = np.zeros(len(joints_cam), dtype=bool)
    for index, (point, pixel) in enumerate(zip(joints_cam, joints_px)):
        if not np.isfinite(pixel).all():
            continue
        u, v = int(round(pixel[0])), int(round(pixel[1]))
        if 0 <= u < width and 0 <= v < height and labels[v, u] == PATIENT:
            visible[index] = point[2] - zbuffer[v, u] < 130.0
    return visible


def _clinician_frames(spec: SceneSpec, rng: np.random.Generator) -> np.ndarray:
    """Which frames show the clinician: one contiguous visit covering `clinician_share` of the frames,
    never the first frame (the bed-plane fit assumes a clear view of the bed at the start)."""
    present = np.zeros(spec.n_frames, dtype=bool)
    length = min(int(round(spec.clinician_share * spec.n_frames)), spec.n_frames - 1)
    if length > 0:
        first = int(rng.integers(1, spec.n_frames - length + 1))
        present[first : first + length] = True
    return present


def render_scene(spec: SceneSpec = SceneSpec(), cohort: CohortSpec = CohortSpec()) -> Scene:
    """Render `spec.n_frames` IR and depth frames of one synthetic subject's first seizure.

    The stretch starts at `spec.start_s` (default: one second before the clinical onset).
    """
    plans = make_plans(cohort)
    if not 0 <= spec.subject_index < len(plans):
        raise ValueError(f"subject_index must lie in [0, {len(plans)}), got {spec.subject_index}")
    traits, plan = plans[spec.subject_index]
    rng = seeded_rng(spec.seed, spec.subject_index)
    body = simulate_body(traits, plan, rng)
    start_s = max(plan.onset_s - 1.0, 0.0) if spec.start_s is None else spec.start_s
    first = int(round(start_s * plan.fps))
    if first + spec.n_frames > plan.n_frames:
        raise ValueError(f"frames {first}..{first + spec.n_frames} exceed the recording's {plan.n_frames} frames")
    frames = slice(first, first + spec.n_frames)
    joints_body, hands_body = body.joints_mm[frames], body.hand_tips_mm[frames]

    intrinsics, pose = KINECT_V2_DEPTH, camera_pose(traits)
    rotation, translation = pose.rotation_matrix, pose.translation
    tilt_rad = float(np.deg2rad(spec.bed_tilt_deg))
    rays = _pixel_rays(intrinsics)
    room_depth, room_labels = _room(rays, pose, tilt_rad)
    present = _clinician_frames(spec, rng)
    side = float(rng.choice([-1.0, 1.0]))

    def to_camera(point: np.ndarray) -> np.ndarray:
        return rotation @ point + translation

    shape = (spec.n_frames, intrinsics.height, intrinsics.width)
    zbuffers, labels, unoccluded = np.empty(shape), np.empty(shape, np.uint8), np.empty(shape, np.uint8)
    joints_cam = world_to_camera(joints_body, rotation, translation)
    joints_px = project(joints_cam, intrinsics)
    visible = np.zeros(joints_cam.shape[:2], dtype=bool)
    for index in range(spec.n_frames):
        zbuffer, label = room_depth.copy(), room_labels.copy()
        joints = joints_body[index]
        parts = [(joints[JOINT_INDEX[a]], joints[JOINT_INDEX[b]], radius) for a, b, radius in _PATIENT_CAPSULES]
        parts += [(joints[JOINT_INDEX[f"{hand}_wrist"]], hands_body[index, side_index], 30.0) for side_index, hand in enumerate(("right", "left"))]
        parts += _legs(joints)
        for start, end, radius in parts:
            _draw_capsule(zbuffer, label, rays, intrinsics, to_camera(start), to_camera(end), radius, PATIENT)
        unoccluded[index] = label
        if present[index]:
            progress = float(np.flatnonzero(present).tolist().index(index)) / max(present.sum() - 1, 1)
            for start, end, radius in _clear_clinician(progress, side, tilt_rad, parts):
                _draw_capsule(zbuffer, label, rays, intrinsics, to_camera(start), to_camera(end), radius, CLINICIAN)
        zbuffers[index], labels[index] = zbuffer, label
        visible[index] = _visibility(joints_cam[index], joints_px[index], zbuffer, label)

    depth_mm, ir = _sensor(zbuffers, labels, spec, rng)
    return Scene(
        ir=ir, depth_mm=depth_mm, labels=labels, labels_unoccluded=unoccluded,
        joints_3d_mm=joints_cam.astype(np.float32), joints_2d_px=joints_px.astype(np.float32), visible=visible,
        clinician_present=present, fps=float(plan.fps), intrinsics=intrinsics, pose=pose,
    )


def _sensor(zbuffers: np.ndarray, labels: np.ndarray, spec: SceneSpec, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Depth (uint16 mm, noisy, zero dropouts and out of range) and IR (uint16 counts) from true depth."""
    in_range = np.isfinite(zbuffers) & (zbuffers < 8000.0)
    true_depth = np.where(in_range, zbuffers, 0.0)
    noise = rng.normal(0.0, 1.0, zbuffers.shape) * spec.depth_noise_mm * (true_depth / 2000.0) ** 2
    depth = np.where(in_range, np.round(true_depth + noise), 0.0)
    depth[rng.random(zbuffers.shape) < spec.dropout] = 0.0
    reflectance = np.zeros(zbuffers.shape)
    for label, level in IR_REFLECTANCE.items():
        reflectance[labels == label] = level
    with np.errstate(divide="ignore"):
        falloff = np.where(in_range, (2000.0 / np.maximum(true_depth, 1.0)) ** 2, 0.0)
    ir = reflectance * falloff * (1.0 + 0.03 * rng.normal(0.0, 1.0, zbuffers.shape))
    return np.clip(depth, 0, 65535).astype(np.uint16), np.clip(np.round(ir), 0, 65535).astype(np.uint16)


def write_scene(scene: Scene, path: str | Path) -> Path:
    """Save a scene's depth and IR as a recording: one mkv (`*.mkv`) or a folder with `depth/` and `ir/` PNGs.

    Read it back with `open_video(path, kind="depth")` / `kind="ir"` (for a folder, open its
    `depth` and `ir` subfolders with `fps=scene.fps`).
    """
    target = Path(path)
    if target.suffix.lower() == ".mkv":
        return write_tracks_mkv(target, {"depth": scene.depth_mm, "ir": scene.ir}, fps=scene.fps, intrinsics=scene.intrinsics)
    write_image_folder(target / "depth", scene.depth_mm)
    write_image_folder(target / "ir", scene.ir)
    return target
