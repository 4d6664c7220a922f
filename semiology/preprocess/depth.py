"""Depth preprocessing of the 3D-video study: pepper-noise closing and the bed-plane depth crop.

Depth frames are uint16 millimetres with 0 where the sensor has no reading. `close_pepper_noise`
fills those zeros by grey dilation (4 x 4 rectangle, 2 iterations), leaving valid readings as
they are.

`fit_bed_planes` finds the bed volume in the first frame, which must show the bed without a
clinician in front of it. At its core is the study's method:

1. for each image axis, the minimum and maximum non-zero distance of every line along it are
   fitted with second-order polynomials;
2. the axis whose minimum-distance profile curves less is the bed's length (along the bed the
   distance changes smoothly; across it the patient bulges towards the camera);
3. the stationary point of the across-bed minimum-distance fit is where the patient lies: the
   patient line runs along the bed's length through it;
4. two parallel planes, `n_std` (2) standard deviations of the distances on the patient line
   either side of their mean, bound the volume; `crop_depth` keeps only the depth inside it and
   `mask_ir` blanks the IR outside it.

Around it, five additions (why each, with the measurements on synthetic scenes that led to it:
docs/decisions.md#depth-crop):

* **The bed first** (`segment_bed`). The frame is back-projected with the reader's intrinsics
  (Kinect v2 defaults otherwise) and every pixel gets a surface normal from the depth gradients of
  a lightly smoothed frame. Planes are found one after another by RANSAC on a sub-sampled grid; a
  point is an inlier when it lies within `tol_mm` of the plane *and* its normal agrees within
  `max_angle_deg`; each plane's inliers are removed before the next is sought. The bed is the
  *nearest* plane whose inliers span at least a bed (`min_bed_mm`); the bed-sized planes further
  away are the floor and walls (`background`).
* **What lies over the bed**: a reading whose foot on the bed plane falls inside the bed's
  footprint (the convex hull of the mattress inliers in the plane, widened by `margin_mm`), or
  whose pixel lies inside the bed's outline in the image; never one on the floor or a wall where
  the first frame showed them.
* **The profiles inside the bed only**: readings over the bed, on or above the mattress, with
  distances measured along the bed's normal and positions on one pixel scale for both axes.
* **The planes parallel to the bed**: the slab lies between `mean - n_std std` and `mean + n_std
  std` of the heights above the bed plane on the patient line (its far side at least
  `TOL_BELOW_MM` below the mattress), over the bed only.
* **Growth above the slab** (`bed_volume_mask(grow=True)`, per frame). Readings over the bed above
  the slab (up to `MAX_HEIGHT_MM`) are kept when they are depth-continuous (no step over `JUMP_MM`
  between 8-neighbours) with the patient as the first frame shows it: readings in the slab that
  were above the mattress in the first frame and are still within `STATIC_MM` of it. A raised arm
  grows out of the body; a clinician's arms reaching in from above are cut off by a depth step.
  Where the clinician touches the patient there is no step, and that frame keeps the clinician's
  parts over the bed up to `MAX_HEIGHT_MM`.

`BedRegion.long_side_axis` checks the profiles' choice of the bed's length. Where no bed-sized
plane is found, the whole-frame method of the first version runs, with a warning;
`fit_bed_planes(segment=False)` and `crop_depth(grow=False)` give the bare study method.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property

import cv2
import numpy as np

from semiology.camera import KINECT_V2_DEPTH, CameraIntrinsics

PEPPER_KERNEL = (4, 4)
PEPPER_ITERATIONS = 2
TOL_BELOW_MM = 30.0
"""The volume reaches at least this far below the bed plane (mattress noise and sag)."""
SEED_HEIGHT_MM = 50.0
"""Readings of the first frame this far above the bed plane are what lies on the bed (the patient)."""
MAX_HEIGHT_MM = 900.0
"""How far above the mattress a supine patient's raised hand reaches (shoulder ~0.15 m, arm ~0.75 m)."""
JUMP_MM = 50.0
"""A step in depth larger than this between neighbouring pixels separates two objects."""
STATIC_MM = 60.0
"""A reading within this of the first frame's, above the mattress, is the patient still lying there."""
_NEIGHBOURS = np.ones((3, 3), dtype=np.uint8)


def close_pepper_noise(depth_mm: np.ndarray, kernel: tuple[int, int] = PEPPER_KERNEL, iterations: int = PEPPER_ITERATIONS) -> np.ndarray:
    """Fill zero-valued (no reading) pixels of a depth frame [H, W] or stack [T, H, W] by grey dilation."""
    depth = np.asarray(depth_mm)
    if depth.ndim == 3:
        return np.stack([close_pepper_noise(frame, kernel, iterations) for frame in depth])
    if depth.ndim != 2:
        raise ValueError(f"depth must be [H, W] or [T, H, W], got shape {depth.shape}")
    element = cv2.getStructuringElement(cv2.MORPH_RECT, kernel)
    dilated = cv2.dilate(depth, element, iterations=iterations)
    return np.where(depth == 0, dilated, depth).astype(depth.dtype)


def default_intrinsics(depth_mm: np.ndarray) -> CameraIntrinsics:
    """Kinect v2 depth intrinsics for a 512 x 424 frame; for another size, its field of view scaled to the frame."""
    height, width = np.shape(depth_mm)[-2:]
    if (width, height) == (KINECT_V2_DEPTH.width, KINECT_V2_DEPTH.height):
        return KINECT_V2_DEPTH
    scale = width / KINECT_V2_DEPTH.width
    return CameraIntrinsics(
        fx=KINECT_V2_DEPTH.fx * scale, fy=KINECT_V2_DEPTH.fy * scale, cx=(width - 1) / 2.0, cy=(height - 1) / 2.0, width=width, height=height
    )


def _rays(intrinsics: CameraIntrinsics) -> np.ndarray:
    """Viewing rays [H, W, 3] with unit z: a pixel's point is its depth times its ray."""
    u, v = np.meshgrid(np.arange(intrinsics.width, dtype=np.float64), np.arange(intrinsics.height, dtype=np.float64))
    return np.stack([(u - intrinsics.cx) / intrinsics.fx, (v - intrinsics.cy) / intrinsics.fy, np.ones_like(u)], axis=-1)


def _check_intrinsics(shape: tuple[int, ...], intrinsics: CameraIntrinsics) -> None:
    if tuple(shape[-2:]) != (intrinsics.height, intrinsics.width):
        raise ValueError(f"depth frames are {shape[-1]}x{shape[-2]}, the intrinsics {intrinsics.width}x{intrinsics.height}")


# --- the bed: the nearest bed-sized plane -------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PlaneCandidate:
    """One plane found by `segment_bed`: `normal . X = offset_mm` in the camera frame (mm), the
    unit normal facing the camera; the `share` of the usable pixels that are its inliers, the
    sides of its inliers' smallest enclosing rectangle in the plane (`extent_mm`, long side first)
    and their median depth."""

    normal: tuple[float, float, float]
    offset_mm: float
    share: float
    extent_mm: tuple[float, float]
    median_depth_mm: float


@dataclass(frozen=True, eq=False)
class BedRegion:
    """The bed in a depth frame.

    Its plane `normal . X = offset_mm` (camera frame, mm, normal facing the camera); `surface` the
    mattress pixels [H, W] of the frame it was found in and `mask` their convex hull in the image
    (the bed's outline there); `footprint_mm` the convex hull [K, 2] of the mattress in the plane's
    coordinates along `basis` (two unit vectors), widened by the margin; every plane considered in
    `candidates`, the bed at `chosen`, the floor and walls (bed-sized planes further away) at
    `background`, and `background_mask` [H, W] where the frame showed them (1 + their position in
    `background`, 0 elsewhere and inside the bed's outline). `tol_mm` is the planes' inlier distance.
    """

    mask: np.ndarray
    surface: np.ndarray
    normal: tuple[float, float, float]
    offset_mm: float
    basis: tuple[tuple[float, float, float], tuple[float, float, float]]
    footprint_mm: np.ndarray
    extent_mm: tuple[float, float]
    median_depth_mm: float
    candidates: tuple[PlaneCandidate, ...]
    chosen: int
    intrinsics: CameraIntrinsics
    background: tuple[int, ...] = ()
    background_mask: np.ndarray | None = field(default=None, repr=False)
    tol_mm: float = 30.0
    cell_mm: float = 10.0

    @cached_property
    def _projections(self) -> np.ndarray:
        """Each pixel's ray [3 + B, H, W] (float32) projected on the normal, the two basis vectors
        and the normals of the B background planes."""
        rays = _rays(self.intrinsics)
        axes = np.stack([np.asarray(self.normal), *np.asarray(self.basis), *(np.asarray(self.candidates[k].normal) for k in self.background)])
        return np.ascontiguousarray(np.moveaxis(rays @ axes.T, -1, 0)).astype(np.float32)

    def long_side_axis(self) -> str:
        """The image axis closer to the direction of the footprint's long side, `"v"` (rows) or `"u"`
        (columns): a check on the profiles' choice of the bed's length, not used by the fit (the
        stationary point of the study's profiles is what places the patient line)."""
        (centre_a, centre_b), (side_a, side_b), angle = cv2.minAreaRect(self.footprint_mm.astype(np.float32))
        theta = np.deg2rad(angle) if side_a >= side_b else np.deg2rad(angle + 90.0)
        first, second = (np.asarray(vector) for vector in self.basis)
        normal = np.asarray(self.normal)
        centre = centre_a * first + centre_b * second + self.offset_mm * normal
        ends = centre + np.outer([-250.0, 250.0], np.cos(theta) * first + np.sin(theta) * second)
        u = self.intrinsics.fx * ends[:, 0] / ends[:, 2]
        v = self.intrinsics.fy * ends[:, 1] / ends[:, 2]
        return "v" if abs(v[1] - v[0]) >= abs(u[1] - u[0]) else "u"

    @cached_property
    def _footprint_grid(self) -> tuple[np.ndarray, np.ndarray]:
        """The footprint rasterised at `cell_mm` in plane coordinates, and the grid's origin (mm)."""
        origin = self.footprint_mm.min(axis=0) - self.cell_mm
        size = np.ceil((self.footprint_mm.max(axis=0) + self.cell_mm - origin) / self.cell_mm).astype(int) + 1
        grid = np.zeros((int(size[1]), int(size[0])), dtype=np.uint8)
        cv2.fillConvexPoly(grid, np.round((self.footprint_mm - origin) / self.cell_mm).astype(np.int32), 1)
        return grid.astype(bool), origin

    def _check(self, depth: np.ndarray) -> None:
        _check_intrinsics(depth.shape, self.intrinsics)

    def heights_mm(self, depth_mm: np.ndarray) -> np.ndarray:
        """Height (mm, float32) above the bed plane of each reading of a frame [H, W] or stack [..., H, W]; NaN where no reading."""
        depth = np.asarray(depth_mm)
        self._check(depth)
        values = depth.astype(np.float32)
        return np.where(depth > 0, values * self._projections[0] - np.float32(self.offset_mm), np.float32(np.nan))

    def over_bed(self, depth_mm: np.ndarray) -> np.ndarray:
        """Which readings of a frame [H, W] or stack [..., H, W] lie over the bed: their foot on the
        bed plane inside the footprint, or their pixel inside the outline `mask`; and not on the
        floor or a wall (a `background` plane, within `tol_mm`, where `background_mask` says the
        first frame showed it)."""
        depth = np.asarray(depth_mm)
        self._check(depth)
        grid, origin = self._footprint_grid
        values = depth.astype(np.float32)
        column = np.floor((values * self._projections[1] - origin[0]) / self.cell_mm).astype(np.int64)
        row = np.floor((values * self._projections[2] - origin[1]) / self.cell_mm).astype(np.int64)
        inside = (depth > 0) & (column >= 0) & (column < grid.shape[1]) & (row >= 0) & (row < grid.shape[0])
        for channel, index in enumerate(self.background, start=3):
            where = self.background_mask == channel - 2 if self.background_mask is not None else True
            inside &= ~(where & (np.abs(values * self._projections[channel] - np.float32(self.candidates[index].offset_mm)) < self.tol_mm))
        result = np.zeros(depth.shape, dtype=bool)
        result[inside] = grid[row[inside], column[inside]]
        return result | (inside & self.mask)


def surface_normals(depth_mm: np.ndarray, intrinsics: CameraIntrinsics, step: int = 3, smooth: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Camera-frame points [H, W, 3] (mm) of a frame and unit surface normals [H, W, 3] facing the
    camera, from central differences `step` pixels apart on the frame box-smoothed over `smooth`
    pixels (zeros left out); NaN normals where a neighbour has no reading or the surface is seen
    edge-on (an edge between surfaces)."""
    depth = np.asarray(depth_mm).astype(np.float32)
    valid = (depth > 0).astype(np.float32)
    total = cv2.blur(depth * valid, (smooth, smooth))
    weight = cv2.blur(valid, (smooth, smooth))
    smoothed = np.where(weight > 0.5, total / np.maximum(weight, 1e-6), 0.0)
    rays = _rays(intrinsics)
    points = rays * depth[..., None].astype(np.float64)
    near = rays * smoothed[..., None]
    normals = np.full(points.shape, np.nan)
    s = step
    along_u = near[s:-s, 2 * s :] - near[s:-s, : -2 * s]
    along_v = near[2 * s :, s:-s] - near[: -2 * s, s:-s]
    cross = np.cross(along_u, along_v)
    cross /= np.maximum(np.linalg.norm(cross, axis=-1, keepdims=True), 1e-9)
    centre = near[s:-s, s:-s]
    cross[(cross * centre).sum(axis=-1) > 0] *= -1.0
    z = smoothed
    ok = (z[s:-s, 2 * s :] > 0) & (z[s:-s, : -2 * s] > 0) & (z[2 * s :, s:-s] > 0) & (z[: -2 * s, s:-s] > 0) & (z[s:-s, s:-s] > 0)
    ok &= np.abs((cross * centre).sum(axis=-1)) > 0.05 * np.linalg.norm(centre, axis=-1)
    cross[~ok] = np.nan
    normals[s:-s, s:-s] = cross
    return points, normals


def _plane_through(points: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares plane through points [N, 3]: unit normal facing the camera (origin), offset."""
    centre = points.mean(axis=0)
    _, _, vt = np.linalg.svd(points - centre, full_matrices=False)
    normal = vt[-1]
    if normal @ centre > 0:
        normal = -normal
    return normal, float(normal @ centre)


def _plane_basis(normal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors spanning the plane with this normal."""
    helper = np.array([1.0, 0.0, 0.0]) if abs(normal[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    first = np.cross(normal, helper)
    first /= np.linalg.norm(first)
    return first, np.cross(normal, first)


def _in_plane(points: np.ndarray, normal: np.ndarray) -> np.ndarray:
    first, second = _plane_basis(normal)
    return np.stack([points @ first, points @ second], axis=1)


def _extent_in_plane(points: np.ndarray, normal: np.ndarray) -> tuple[float, float]:
    """Sides (mm, long first) of the smallest rectangle holding points [N, 3] projected onto the plane."""
    (_, _), (side_a, side_b), _ = cv2.minAreaRect(_in_plane(points, normal).astype(np.float32))
    return float(max(side_a, side_b)), float(min(side_a, side_b))


def _ransac_planes(
    points: np.ndarray, normals: np.ndarray, tol_mm: float, cos_angle: float, max_planes: int, iterations: int, min_share: float, rng: np.random.Generator
) -> list[tuple[np.ndarray, float]]:
    """Planes found one after another on points [N, 3] with normals [N, 3], each plane's inliers removed before the next.

    Written out rather than scikit-learn's RANSACRegressor: the same beds, the search in about half the time (docs/decisions.md#ransac-planes).
    """
    remaining = np.ones(len(points), dtype=bool)
    planes: list[tuple[np.ndarray, float]] = []

    def inliers_of(normal: np.ndarray, offset: float) -> np.ndarray:
        return remaining & (np.abs(points @ normal - offset) < tol_mm) & ((normals @ normal) > cos_angle)

    for _ in range(max_planes):
        pool = np.flatnonzero(remaining)
        if len(pool) < max(3, min_share * len(points)):
            break
        triples = pool[rng.integers(0, len(pool), (iterations, 3))]
        a, b, c = points[triples[:, 0]], points[triples[:, 1]], points[triples[:, 2]]
        hypotheses = np.cross(b - a, c - a)
        length = np.linalg.norm(hypotheses, axis=1)
        usable = length > 1e-6
        if not usable.any():
            break
        hypotheses, a = hypotheses[usable] / length[usable, None], a[usable]
        hypotheses[(hypotheses * a).sum(axis=1) > 0] *= -1.0
        offsets = (hypotheses * a).sum(axis=1)
        votes = (np.abs(points[pool] @ hypotheses.T - offsets) < tol_mm) & ((normals[pool] @ hypotheses.T) > cos_angle)
        best = int(np.argmax(votes.sum(axis=0)))
        normal, offset = hypotheses[best], float(offsets[best])
        for _ in range(3):  # refine by least squares on the inliers
            inliers = inliers_of(normal, offset)
            if inliers.sum() < 3:
                break
            normal, offset = _plane_through(points[inliers])
        inliers = inliers_of(normal, offset)
        if inliers.sum() < max(3, min_share * len(points)):
            break
        planes.append((normal, offset))
        remaining &= ~inliers
    return planes


def segment_bed(
    frame_mm: np.ndarray,
    intrinsics: CameraIntrinsics | None = None,
    tol_mm: float = 30.0,
    max_angle_deg: float = 20.0,
    min_bed_mm: tuple[float, float] = (1200.0, 500.0),
    max_planes: int = 5,
    iterations: int = 300,
    stride: int = 4,
    min_share: float = 0.01,
    margin_mm: float = 50.0,
    seed: int = 0,
) -> BedRegion:
    """The bed in one depth frame [H, W] (uint16 mm): the nearest plane whose inliers span at least
    `min_bed_mm` (long, short side); see the module docstring. Deterministic given `seed`.

    Raises ValueError when no plane is bed-sized.
    """
    depth = np.asarray(frame_mm)
    if depth.ndim != 2:
        raise ValueError(f"segment the bed in one frame [H, W], got shape {depth.shape}")
    camera = intrinsics or default_intrinsics(depth)
    _check_intrinsics(depth.shape, camera)
    points, normals = surface_normals(depth, camera)
    usable = (depth > 0) & np.isfinite(normals).all(axis=-1)
    sampled = usable[::stride, ::stride]
    if sampled.sum() < 30:
        raise ValueError("too few valid depth readings to find the bed")
    cos_angle = float(np.cos(np.deg2rad(max_angle_deg)))
    planes = _ransac_planes(
        points[::stride, ::stride][sampled], normals[::stride, ::stride][sampled], tol_mm, cos_angle, max_planes, iterations, min_share,
        np.random.default_rng(seed),
    )
    flat_points, flat_normals = points.reshape(-1, 3), np.nan_to_num(normals.reshape(-1, 3))
    opening = cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5))
    claimed = np.zeros(depth.shape, dtype=bool)
    candidates: list[PlaneCandidate] = []
    surfaces: list[np.ndarray] = []
    for normal, offset in planes:
        inliers = (np.abs(flat_points @ normal - offset) < tol_mm) & ((flat_normals @ normal) > cos_angle)
        inliers = inliers.reshape(depth.shape) & usable & ~claimed
        inliers = cv2.morphologyEx(inliers.astype(np.uint8), cv2.MORPH_OPEN, opening).astype(bool)
        claimed |= inliers
        _, components, stats, _ = cv2.connectedComponentsWithStats(inliers.astype(np.uint8), connectivity=8)
        areas = stats[1:, cv2.CC_STAT_AREA]
        # the pieces of the surface (a mattress cut up by the patient lying on it), not stray specks
        keep = 1 + np.flatnonzero(areas >= max(0.002 * depth.size, 0.05 * areas.max(initial=0)))
        surface = np.isin(components, keep)
        surfaces.append(surface)
        on_plane = points[surface]
        if len(on_plane) < 3:
            candidates.append(PlaneCandidate(tuple(float(v) for v in normal), float(offset), 0.0, (0.0, 0.0), float("inf")))  # type: ignore[arg-type]
            continue
        candidates.append(
            PlaneCandidate(
                normal=tuple(float(value) for value in normal),  # type: ignore[arg-type]
                offset_mm=float(offset),
                share=float(surface.sum() / usable.sum()),
                extent_mm=_extent_in_plane(on_plane, normal),
                median_depth_mm=float(np.median(on_plane[:, 2])),
            )
        )
    sized = [index for index, plane in enumerate(candidates) if plane.extent_mm[0] >= min_bed_mm[0] and plane.extent_mm[1] >= min_bed_mm[1]]
    if not sized:
        found = ", ".join(f"{c.extent_mm[0]:.0f}x{c.extent_mm[1]:.0f} mm at {c.median_depth_mm:.0f} mm" for c in candidates) or "none"
        raise ValueError(f"no bed-sized plane (at least {min_bed_mm[0]:.0f}x{min_bed_mm[1]:.0f} mm) in the frame; planes found: {found}")
    chosen = min(sized, key=lambda index: candidates[index].median_depth_mm)
    bed, surface = candidates[chosen], surfaces[chosen]
    background = tuple(index for index in sized if candidates[index].median_depth_mm > bed.median_depth_mm)
    rows, cols = np.nonzero(surface)
    mask = np.zeros(depth.shape, dtype=np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.stack([cols, rows], axis=1).astype(np.int32)), 1)
    # where the floor and walls were seen (a little wider, for the rims without a clean normal),
    # never inside the bed's outline
    background_mask = np.zeros(depth.shape, dtype=np.uint8)
    for number, index in reversed(list(enumerate(background, start=1))):
        seen = cv2.dilate(surfaces[index].astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9))).astype(bool)
        background_mask[seen & ~mask.astype(bool)] = number
    normal = np.asarray(bed.normal)
    flat = _in_plane(points[surface], normal).astype(np.float32)
    hull = cv2.convexHull(flat).reshape(-1, 2).astype(np.float64)
    centre = hull.mean(axis=0)
    outwards = hull - centre
    hull = hull + margin_mm * outwards / np.maximum(np.linalg.norm(outwards, axis=1, keepdims=True), 1e-9)
    basis = _plane_basis(normal)
    return BedRegion(
        mask=mask.astype(bool),
        surface=surface,
        normal=bed.normal,
        offset_mm=bed.offset_mm,
        basis=(tuple(float(v) for v in basis[0]), tuple(float(v) for v in basis[1])),  # type: ignore[arg-type]
        footprint_mm=hull,
        extent_mm=bed.extent_mm,
        median_depth_mm=bed.median_depth_mm,
        candidates=tuple(candidates),
        chosen=chosen,
        intrinsics=camera,
        background=background,
        background_mask=background_mask,
        tol_mm=tol_mm,
    )


# --- the study's profiles and the bed volume ----------------------------------------------------


@dataclass(frozen=True, eq=False)
class BedPlanes:
    """The fitted bed volume, for inspection and reuse on every frame of a recording.

    `length_axis` is the image axis along the bed (`"u"` columns vary along x, `"v"` rows along
    y); profile fits are `(a, b, c)` of `a t^2 + b t + c` over positions t (pixels from the centre
    of the lines with readings, `profile_span_px`, divided by half the image's larger side; over
    each axis' own length normalised to [-1, 1] without a bed region); `line_px` is the patient
    line's position across the bed in pixels; `line_fit` the straight-line fit of the distances on
    that line along the bed (normalised coordinate over the image); `half_thickness_mm` half the
    distance between the two surfaces.

    With a bed region (`region`, the default of `fit_bed_planes`) the distances are along the bed's
    normal and the two surfaces are planes parallel to the bed at heights `height_range_mm`
    (low, high) above it, over the bed only; `line_heights_mm` are the mean and standard deviation
    of the heights on the patient line; `reference_mm` and `reference_on_bed` the first frame and
    its readings above the mattress (the patient), for the growth above the slab. Without a region
    the surfaces are the whole-frame fit of the first version, constant across the bed.
    """

    length_axis: str
    profile_fits: dict[str, dict[str, tuple[float, float, float]]]
    curvature: dict[str, float]
    line_px: float
    line_fit: tuple[float, ...]
    line_std_mm: float
    half_thickness_mm: float
    height: int
    width: int
    profile_span_px: dict[str, tuple[int, int]] = field(default_factory=dict)
    region: BedRegion | None = None
    height_range_mm: tuple[float, float] | None = None
    line_heights_mm: tuple[float, float] | None = None
    reference_mm: np.ndarray | None = field(default=None, repr=False)
    reference_on_bed: np.ndarray | None = field(default=None, repr=False)

    def _line_surface(self) -> np.ndarray:
        length = self.height if self.length_axis == "v" else self.width
        along = np.polyval(self.line_fit, _normalised(length))
        if self.length_axis == "v":
            return np.repeat(along[:, None], self.width, axis=1)
        return np.repeat(along[None, :], self.height, axis=0)

    def _plane_surface(self, height_mm: float) -> np.ndarray:
        """Depth [H, W] where each pixel's ray meets the plane `height_mm` above the bed (0 where it does not)."""
        assert self.region is not None
        facing = self.region._projections[0].astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            depth = (self.region.offset_mm + height_mm) / facing
        return np.where(np.isfinite(depth) & (depth > 0), depth, 0.0)

    def centre_surface(self) -> np.ndarray:
        """The distance [H, W] (mm) midway between the two surfaces."""
        if self.region is None or self.height_range_mm is None:
            return self._line_surface()
        return self._plane_surface(float(np.mean(self.height_range_mm)))

    def surfaces(self) -> tuple[np.ndarray, np.ndarray]:
        """The near and far bounding surfaces [H, W] in millimetres (0 where a ray misses them)."""
        if self.region is None or self.height_range_mm is None:
            centre = self._line_surface()
            return centre - self.half_thickness_mm, centre + self.half_thickness_mm
        low, high = self.height_range_mm
        return self._plane_surface(high), self._plane_surface(low)


def _normalised(length: int) -> np.ndarray:
    return np.linspace(-1.0, 1.0, length) if length > 1 else np.zeros(1)


def _profiles(depth: np.ndarray, axis: int, central: float = 1.0, scale: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
    """Positions along image axis `axis` (0 rows, 1 columns) of the lines that have a reading, the
    min / max non-zero distance of each, and the first and last such line (the span); only the
    `central` share of the other axis is looked at. Positions are normalised to [-1, 1] over the
    image's length on that axis (`scale` 0), or centred on the span and divided by `scale` pixels
    (one scale for both axes, so their curvatures compare)."""
    other = depth.shape[1 - axis]
    margin = int(round(other * (1.0 - central) / 2.0))
    depth = depth[:, margin : other - margin] if axis == 0 else depth[margin : other - margin, :]
    valid = depth > 0
    values = depth.astype(np.float64)
    reduce_over = 1 - axis
    has = valid.any(axis=reduce_over)
    minimum = np.where(valid, values, np.inf).min(axis=reduce_over)
    maximum = np.where(valid, values, -np.inf).max(axis=reduce_over)
    lines = np.flatnonzero(has)
    if len(lines) == 0:
        return np.zeros(0), minimum[has], maximum[has], (0, 0)
    span = (int(lines[0]), int(lines[-1]))
    positions = (lines - (span[0] + span[1]) / 2.0) / scale if scale > 0 else _normalised(depth.shape[axis])[lines]
    return positions, minimum[has], maximum[has], span


def _robust_polyfit(positions: np.ndarray, values: np.ndarray, degree: int, rounds: int = 4, cut: float = 2.5) -> tuple[np.ndarray, np.ndarray]:
    """A polynomial fit that drops points further than `cut` robust standard deviations, and the inlier mask."""
    inliers = np.ones(len(values), dtype=bool)
    coefficients = np.polyfit(positions, values, degree)
    for _ in range(rounds):
        residuals = values - np.polyval(coefficients, positions)
        spread = 1.4826 * np.median(np.abs(residuals[inliers] - np.median(residuals[inliers])))
        keep = np.abs(residuals) <= cut * max(spread, 1.0)
        if keep.sum() < 3 or np.array_equal(keep, inliers):
            break
        inliers = keep
        coefficients = np.polyfit(positions[inliers], values[inliers], degree)
    return coefficients, inliers


def nearest_surfaces(depth_mm: np.ndarray, window_mm: float, percentile: float = 2.0) -> np.ndarray:
    """The frame with readings further than `window_mm` beyond its near `percentile` set to 0.

    The first version's way of leaving the room out, used now only where no bed plane is found.
    """
    valid = depth_mm[depth_mm > 0]
    near = float(np.percentile(valid, percentile))
    return np.where((depth_mm > 0) & (depth_mm <= near + window_mm), depth_mm, 0).astype(depth_mm.dtype)


def fit_bed_planes(
    first_frame_mm: np.ndarray,
    n_std: float = 2.0,
    line_band_px: int = 2,
    central: float = 1.0,
    window_mm: float = 700.0,
    intrinsics: CameraIntrinsics | None = None,
    region: BedRegion | None = None,
    segment: bool = True,
) -> BedPlanes:
    """Fit the bed volume to the first depth frame [H, W] (uint16 mm); see the module docstring.

    `intrinsics` are the depth camera's (the reader's `intrinsics`; Kinect v2 defaults otherwise).
    The bed comes from `segment_bed` unless given as `region`. `segment=False`, or no bed-sized
    plane (with a warning), runs the profiles over the whole frame as the first version did: only
    the nearest surfaces (`window_mm` beyond the frame's near 2nd percentile) and the `central`
    share of each axis.
    """
    depth = np.asarray(first_frame_mm)
    if depth.ndim != 2:
        raise ValueError(f"fit the bed planes on one frame [H, W], got shape {depth.shape}")
    if (depth > 0).sum() < 10:
        raise ValueError("the depth frame has fewer than 10 valid (non-zero) pixels; cannot fit a bed")
    camera = intrinsics or default_intrinsics(depth)
    _check_intrinsics(depth.shape, camera)
    if region is None and segment:
        try:
            region = segment_bed(depth, camera)
        except ValueError as error:
            warnings.warn(f"no bed region found ({error}); fitting the bed planes over the whole frame", RuntimeWarning, stacklevel=2)
    reference_on_bed: np.ndarray | None = None
    if region is not None:
        # what lies on the bed (over its footprint, on or above its plane), as distances along the
        # bed's normal: what a camera square to the bed would measure
        heights = region.heights_mm(depth)
        over = region.over_bed(depth)
        with np.errstate(invalid="ignore"):
            view = np.where(over & (heights >= -TOL_BELOW_MM), abs(region.offset_mm) - heights, 0.0)
            reference_on_bed = over & (heights > SEED_HEIGHT_MM)
        scale = max(depth.shape) / 2.0
    else:
        view = nearest_surfaces(depth, window_mm).astype(np.float64)
        scale = 0.0
    height, width = view.shape
    fits: dict[str, dict[str, tuple[float, float, float]]] = {}
    spans: dict[str, tuple[int, int]] = {}
    for name, axis in (("v", 0), ("u", 1)):
        positions, minimum, maximum, span = _profiles(view, axis, central if region is None else 1.0, scale)
        if len(positions) < 3:
            raise ValueError("the bed spans fewer than 3 lines of the image; cannot fit the profiles")
        fits[name] = {
            "min": tuple(float(value) for value in np.polyfit(positions, minimum, 2)),  # type: ignore[dict-item]
            "max": tuple(float(value) for value in np.polyfit(positions, maximum, 2)),  # type: ignore[dict-item]
        }
        spans[name] = span
    curvature = {name: abs(2.0 * fit["min"][0]) for name, fit in fits.items()}
    length_axis = min(curvature, key=curvature.__getitem__)
    across_axis = "u" if length_axis == "v" else "v"
    a, b, _ = fits[across_axis]["min"]
    across_length = width if across_axis == "u" else height
    first, last = spans[across_axis]
    # the stationary point (the vertex of the across-bed fit) in pixels, kept on the bed
    vertex = -b / (2.0 * a) if a > 1e-9 else None
    if vertex is None:
        stationary_px = (first + last) / 2.0
    elif scale > 0:
        stationary_px = (first + last) / 2.0 + vertex * scale
    else:
        stationary_px = (vertex + 1.0) / 2.0 * (across_length - 1)
    line_px = float(np.clip(stationary_px, first, last))
    column = int(round(line_px))
    low, high = max(column - line_band_px, 0), min(column + line_band_px + 1, across_length)
    band = view[:, low:high] if across_axis == "u" else view[low:high, :].T
    band = np.where(band > 0, band, np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        line = np.nanmedian(band, axis=1)
    positions = _normalised(len(line))
    finite = np.isfinite(line)
    if finite.sum() < 3:
        raise ValueError("too few valid distances on the patient line to fit the bed")
    line_fit, inliers = _robust_polyfit(positions[finite], line[finite], 1)
    line_std = float(np.std(line[finite][inliers]))
    half_thickness = n_std * line_std
    height_range: tuple[float, float] | None = None
    line_heights: tuple[float, float] | None = None
    if region is not None:
        on_line = band[np.isfinite(band)]
        mean, spread = float(abs(region.offset_mm) - np.mean(on_line)), float(np.std(on_line))
        line_heights = (mean, spread)
        height_range = (min(mean - n_std * spread, -TOL_BELOW_MM), mean + n_std * spread)
        half_thickness = (height_range[1] - height_range[0]) / 2.0
    return BedPlanes(
        length_axis=length_axis,
        profile_fits=fits,
        curvature=curvature,
        line_px=line_px,
        line_fit=tuple(float(value) for value in line_fit),
        line_std_mm=line_std,
        half_thickness_mm=half_thickness,
        height=height,
        width=width,
        profile_span_px=spans,
        region=region,
        height_range_mm=height_range,
        line_heights_mm=line_heights,
        reference_mm=depth.astype(np.float32) if region is not None else None,
        reference_on_bed=reference_on_bed,
    )


def _grow_above(depth: np.ndarray, heights: np.ndarray, over: np.ndarray, core: np.ndarray, planes: BedPlanes, max_height_mm: float, jump_mm: float, static_mm: float) -> np.ndarray:
    """Readings of one frame [H, W] over the bed and above the slab (up to `max_height_mm`) that
    are depth-continuous with the patient as the first frame shows it; see the module docstring."""
    assert planes.height_range_mm is not None and planes.reference_mm is not None and planes.reference_on_bed is not None
    with np.errstate(invalid="ignore"):
        band = over & (heights > planes.height_range_mm[1]) & (heights <= max_height_mm)
    if not band.any():
        return band
    values = depth.astype(np.float32)
    readings = np.where(depth > 0, values, np.float32(1e9))
    # the far side of a depth step to any of the 8 neighbours: the cut between separate objects
    cut = (depth > 0) & (values - cv2.erode(readings, _NEIGHBOURS) > jump_mm)
    seeds = core & planes.reference_on_bed & (np.abs(values - planes.reference_mm) <= static_mm)
    graph = (core | band) & ~cut
    count, labels = cv2.connectedComponents(graph.astype(np.uint8), connectivity=8)
    grown = np.zeros(count, dtype=bool)
    grown[labels[seeds & graph]] = True
    grown[0] = False
    kept = band & grown[labels]
    # a kept part's rim, cut off where it meets what lies behind it
    rim = band & cut & cv2.dilate(kept.astype(np.uint8), _NEIGHBOURS).astype(bool)
    return kept | rim


def bed_volume_mask(
    depth_mm: np.ndarray,
    planes: BedPlanes,
    grow: bool = True,
    max_height_mm: float = MAX_HEIGHT_MM,
    jump_mm: float = JUMP_MM,
    static_mm: float = STATIC_MM,
) -> np.ndarray:
    """Which pixels of a frame [H, W] or stack [T, H, W] hold a reading inside the bed volume.

    With a bed region the volume is the slab between the two planes, over the bed only
    (`BedRegion.over_bed`), and with `grow` what rises above it out of the patient (module
    docstring); `grow=False` keeps the slab alone.
    """
    depth = np.asarray(depth_mm)
    if depth.shape[-2:] != (planes.height, planes.width):
        raise ValueError(f"depth frames are {depth.shape[-1]}x{depth.shape[-2]}, the planes were fitted on {planes.width}x{planes.height}")
    if planes.region is None or planes.height_range_mm is None:
        near, far = planes.surfaces()
        return (depth > 0) & (depth >= near) & (depth <= far)
    if depth.ndim != 2:
        frames = depth.reshape(-1, *depth.shape[-2:])
        masks = [bed_volume_mask(frame, planes, grow, max_height_mm, jump_mm, static_mm) for frame in frames]
        return np.stack(masks).reshape(depth.shape) if masks else np.zeros(depth.shape, dtype=bool)
    heights = planes.region.heights_mm(depth)
    over = planes.region.over_bed(depth)
    low, high = planes.height_range_mm
    with np.errstate(invalid="ignore"):
        core = over & (heights >= low) & (heights <= high)
    if not grow or planes.reference_mm is None:
        return core
    return core | _grow_above(depth, heights, over, core, planes, max_height_mm, jump_mm, static_mm)


def crop_depth(depth_mm: np.ndarray, planes: BedPlanes, grow: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Depth with everything outside the bed volume set to 0 (no reading), and the kept-pixel mask."""
    mask = bed_volume_mask(depth_mm, planes, grow=grow)
    return np.where(mask, depth_mm, 0).astype(np.asarray(depth_mm).dtype), mask


def mask_ir(ir: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """IR with the pixels outside the bed-volume `mask` set to 0."""
    if np.shape(ir) != np.shape(mask):
        raise ValueError(f"IR shape {np.shape(ir)} differs from mask shape {np.shape(mask)}")
    return np.where(mask, ir, 0).astype(np.asarray(ir).dtype)


def bed_crop_box(first_frame_mm: np.ndarray, intrinsics: CameraIntrinsics | None = None, margin: float = 0.1) -> tuple[int, int, int, int]:
    """The patient+bed box `(u0, v0, u1, v1)` (pixels, end exclusive) of a recording from its first depth frame.

    The frame is pepper-closed, the bed planes fitted (`fit_bed_planes`) and the box drawn around
    the bed volume (`bed_volume_mask`), widened by `margin` of its size each side and kept inside
    the frame. It is what the 3D-video study cropped to before I3D, and a fixed box for the pose.
    """
    depth = close_pepper_noise(np.asarray(first_frame_mm))
    mask = bed_volume_mask(depth, fit_bed_planes(depth, intrinsics=intrinsics))
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        raise ValueError("the bed volume holds no depth reading in the first frame")
    height, width = depth.shape
    pad_u, pad_v = margin * (cols.max() + 1 - cols.min()), margin * (rows.max() + 1 - rows.min())
    return (
        int(max(0, np.floor(cols.min() - pad_u))),
        int(max(0, np.floor(rows.min() - pad_v))),
        int(min(width, np.ceil(cols.max() + 1 + pad_u))),
        int(min(height, np.ceil(rows.max() + 1 + pad_v))),
    )


class DepthStep:
    """The extraction chain's depth step for one recording: pepper closing, then the bed-volume crop.

    `denoise` fills the sensor's missing readings (`close_pepper_noise`) so that a keypoint on a
    hole still gets a depth; `bed_crop` fits the bed planes on the recording's first frame
    (`fit_bed_planes`, which must show the bed without a clinician in front of it) and keeps only
    the readings inside the bed volume of every frame (`crop_depth`), so that a keypoint's depth
    never comes from the floor or from a clinician leaning over the patient.
    """

    def __init__(self, denoise: bool, bed_crop: bool, intrinsics: CameraIntrinsics | None = None) -> None:
        self.denoise, self.bed_crop, self.intrinsics = denoise, bed_crop, intrinsics
        self.planes: BedPlanes | None = None

    def __call__(self, depth_mm: np.ndarray) -> np.ndarray:
        depth = close_pepper_noise(depth_mm) if self.denoise else np.asarray(depth_mm)
        if not self.bed_crop:
            return depth
        if self.planes is None:
            self.planes = fit_bed_planes(depth, intrinsics=self.intrinsics)
        return crop_depth(depth, self.planes)[0]
