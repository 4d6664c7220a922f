"""Depth preprocessing of the 3D-video study: pepper-noise closing and the bed-plane depth crop.

Depth frames are uint16 millimetres with 0 where the sensor has no reading. `close_pepper_noise`
fills those zeros by grey dilation (4 x 4 rectangle, 2 iterations), leaving valid readings as
they are. `fit_bed_planes` finds the bed and the patient in the first frame:

1. for each image axis, the minimum and maximum non-zero distance of every line along it are
   fitted with second-order polynomials (coordinates normalised to [-1, 1] so both axes compare);
2. the axis whose minimum-distance profile curves less is the bed's length (along the bed the
   distance changes smoothly with the tilt; across it the patient bulges towards the camera);
3. the stationary point of the across-bed minimum-distance fit is where the patient lies: the
   patient line runs along the bed's length through it;
4. the distances on that line are fitted with a straight line along the length (the tilted bed
   plane seen along its length; robustly, so what lies beyond the bed ends drops out); two
   parallel surfaces at that fit plus and minus `n_std` standard deviations of the distances on
   the line bound the volume.

Before the profiles, readings further than `window_mm` beyond the frame's nearest surfaces are
dropped: the camera is aimed at the bed, so the floor and walls around it are further away. The
first frame must show the bed without a clinician in front of it.

`crop_depth` keeps only the depth inside that volume and `mask_ir` blanks the IR outside it, so a
clinician standing between the camera and the bed, or the room behind it, is removed.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import cv2
import numpy as np

PEPPER_KERNEL = (4, 4)
PEPPER_ITERATIONS = 2


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


@dataclass(frozen=True)
class BedPlanes:
    """The fitted bed volume, for inspection and reuse on every frame of a recording.

    `length_axis` is the image axis along the bed (`"u"` columns vary along x, `"v"` rows along
    y); profile fits are `(a, b, c)` of `a t^2 + b t + c` over normalised coordinates t in [-1, 1];
    `line_px` is the patient line's position across the bed in pixels; `line_fit` the straight-line
    fit of the distances on that line along the bed (normalised coordinate); `half_thickness_mm` the
    `n_std` standard deviations that offset the two surfaces.
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

    def centre_surface(self) -> np.ndarray:
        """The fitted distance [H, W] (mm) through the patient line, constant across the bed."""
        length = self.height if self.length_axis == "v" else self.width
        along = np.polyval(self.line_fit, _normalised(length))
        if self.length_axis == "v":
            return np.repeat(along[:, None], self.width, axis=1)
        return np.repeat(along[None, :], self.height, axis=0)

    def surfaces(self) -> tuple[np.ndarray, np.ndarray]:
        """The near and far bounding surfaces [H, W] in millimetres."""
        centre = self.centre_surface()
        return centre - self.half_thickness_mm, centre + self.half_thickness_mm


def _normalised(length: int) -> np.ndarray:
    return np.linspace(-1.0, 1.0, length) if length > 1 else np.zeros(1)


def _profiles(depth: np.ndarray, axis: int, central: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normalised positions along image axis `axis` (0 rows, 1 columns) and the min / max non-zero
    distance of each line, over the `central` share of the other axis (where the camera aims)."""
    other = depth.shape[1 - axis]
    margin = int(round(other * (1.0 - central) / 2.0))
    depth = depth[:, margin : other - margin] if axis == 0 else depth[margin : other - margin, :]
    valid = depth > 0
    values = depth.astype(np.float64)
    reduce_over = 1 - axis
    has = valid.any(axis=reduce_over)
    minimum = np.where(valid, values, np.inf).min(axis=reduce_over)
    maximum = np.where(valid, values, -np.inf).max(axis=reduce_over)
    positions = _normalised(depth.shape[axis])
    return positions[has], minimum[has], maximum[has]


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

    A camera aimed at a bed sees the bed and the patient as the nearest large surfaces; the floor
    and walls beyond are left out before the profiles are fitted.
    """
    valid = depth_mm[depth_mm > 0]
    near = float(np.percentile(valid, percentile))
    return np.where((depth_mm > 0) & (depth_mm <= near + window_mm), depth_mm, 0).astype(depth_mm.dtype)


def fit_bed_planes(
    first_frame_mm: np.ndarray, n_std: float = 2.0, line_band_px: int = 2, central: float = 1.0, window_mm: float = 700.0
) -> BedPlanes:
    """Fit the bed volume to the first depth frame [H, W] (uint16 mm); see the module docstring.

    Only the nearest surfaces (`window_mm` beyond the frame's near 2nd percentile) and the
    `central` share of each image axis enter the fits, so the room around the bed does not.
    """
    depth = np.asarray(first_frame_mm)
    if depth.ndim != 2:
        raise ValueError(f"fit the bed planes on one frame [H, W], got shape {depth.shape}")
    if (depth > 0).sum() < 10:
        raise ValueError("the depth frame has fewer than 10 valid (non-zero) pixels; cannot fit a bed")
    depth = nearest_surfaces(depth, window_mm)
    height, width = depth.shape
    fits: dict[str, dict[str, tuple[float, float, float]]] = {}
    for name, axis in (("v", 0), ("u", 1)):
        positions, minimum, maximum = _profiles(depth, axis, central)
        fits[name] = {
            "min": tuple(float(value) for value in np.polyfit(positions, minimum, 2)),  # type: ignore[dict-item]
            "max": tuple(float(value) for value in np.polyfit(positions, maximum, 2)),  # type: ignore[dict-item]
        }
    curvature = {name: abs(2.0 * fit["min"][0]) for name, fit in fits.items()}
    length_axis = min(curvature, key=curvature.__getitem__)
    across_axis = "u" if length_axis == "v" else "v"
    a, b, _ = fits[across_axis]["min"]
    across_length = width if across_axis == "u" else height
    covered = _profiles(depth, 1 if across_axis == "u" else 0, central)[0]
    stationary = -b / (2.0 * a) if a > 1e-9 else float(np.median(covered))
    stationary = float(np.clip(stationary, covered.min(), covered.max()))
    line_px = (stationary + 1.0) / 2.0 * (across_length - 1)
    column = int(round(line_px))
    low, high = max(column - line_band_px, 0), min(column + line_band_px + 1, across_length)
    band = depth[:, low:high] if across_axis == "u" else depth[low:high, :].T
    band = np.where(band > 0, band.astype(np.float64), np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        line = np.nanmedian(band, axis=1)
    positions = _normalised(len(line))
    finite = np.isfinite(line)
    if finite.sum() < 3:
        raise ValueError("too few valid distances on the patient line to fit the bed")
    line_fit, inliers = _robust_polyfit(positions[finite], line[finite], 1)
    line_std = float(np.std(line[finite][inliers]))
    return BedPlanes(
        length_axis=length_axis,
        profile_fits=fits,
        curvature=curvature,
        line_px=line_px,
        line_fit=tuple(float(value) for value in line_fit),
        line_std_mm=line_std,
        half_thickness_mm=n_std * line_std,
        height=height,
        width=width,
    )


def bed_volume_mask(depth_mm: np.ndarray, planes: BedPlanes) -> np.ndarray:
    """Which pixels of a frame [H, W] or stack [T, H, W] hold a reading inside the bed volume."""
    depth = np.asarray(depth_mm)
    if depth.shape[-2:] != (planes.height, planes.width):
        raise ValueError(f"depth frames are {depth.shape[-1]}x{depth.shape[-2]}, the planes were fitted on {planes.width}x{planes.height}")
    near, far = planes.surfaces()
    return (depth > 0) & (depth >= near) & (depth <= far)


def crop_depth(depth_mm: np.ndarray, planes: BedPlanes) -> tuple[np.ndarray, np.ndarray]:
    """Depth with everything outside the bed volume set to 0 (no reading), and the kept-pixel mask."""
    mask = bed_volume_mask(depth_mm, planes)
    return np.where(mask, depth_mm, 0).astype(np.asarray(depth_mm).dtype), mask


def mask_ir(ir: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """IR with the pixels outside the bed-volume `mask` set to 0."""
    if np.shape(ir) != np.shape(mask):
        raise ValueError(f"IR shape {np.shape(ir)} differs from mask shape {np.shape(mask)}")
    return np.where(mask, ir, 0).astype(np.asarray(ir).dtype)
