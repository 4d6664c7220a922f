"""Appearance crops: square grey patches around the body and the face, one per frame.

The TCN appearance streams read a frozen encoder's features of these crops (uint8 `[T, S, S]`,
the same form as the synthetic cohort's crops). Boxes are made square around their centre so
the patch keeps the body's proportions, followed from frame to frame with exponential smoothing
so that the crop does not jitter with the detector, and held at their last place while the
person is not found.
"""

from __future__ import annotations

import cv2
import numpy as np

from semiology.records import Box


def square_around(box: Box, scale: float = 1.0) -> np.ndarray:
    """`[u0, v0, u1, v1]` of the square centred on `box` whose side is `scale` times its longer side."""
    centre_u, centre_v = box.centre
    half = 0.5 * scale * max(box.width, box.height, 1.0)
    return np.array([centre_u - half, centre_v - half, centre_u + half, centre_v + half], dtype=np.float64)


class SmoothedBox:
    """A box followed over frames: `update` blends a new sighting in (weight `alpha`), `None` keeps the last."""

    def __init__(self, alpha: float) -> None:
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"box smoothing alpha must lie in (0, 1], got {alpha}")
        self.alpha = alpha
        self.current: np.ndarray | None = None

    def reset(self) -> None:
        """Forget the box (a new view or a new track): the next sighting is taken as it is, not blended in."""
        self.current = None

    def update(self, corners: np.ndarray | None) -> np.ndarray | None:
        """The smoothed `[u0, v0, u1, v1]` after this frame (None until the first sighting)."""
        if corners is not None:
            self.current = corners.copy() if self.current is None else self.alpha * corners + (1 - self.alpha) * self.current
        return self.current


def grey_crop(image: np.ndarray, corners: np.ndarray | None, size_px: int) -> np.ndarray:
    """The `size_px` square uint8 grey patch of `image` inside `corners`; black where it leaves the image
    or when there is no box yet. Only the boxed pixels are converted and resized (INTER_AREA)."""
    if corners is None:
        return np.zeros((size_px, size_px), dtype=np.uint8)
    height, width = image.shape[:2]
    u0, v0, u1, v1 = (round(value) for value in corners)
    side_u, side_v = max(u1 - u0, 1), max(v1 - v0, 1)
    inside_u0, inside_v0 = max(u0, 0), max(v0, 0)
    inside_u1, inside_v1 = min(u1, width), min(v1, height)
    if inside_u1 <= inside_u0 or inside_v1 <= inside_v0:
        return np.zeros((size_px, size_px), dtype=np.uint8)
    region = image[inside_v0:inside_v1, inside_u0:inside_u1]
    if region.ndim == 3:
        region = cv2.cvtColor(region, cv2.COLOR_RGB2GRAY)
    if (inside_u0, inside_v0, inside_u1, inside_v1) != (u0, v0, u1, v1):
        region = cv2.copyMakeBorder(
            region, inside_v0 - v0, v1 - inside_v1, inside_u0 - u0, u1 - inside_u1, cv2.BORDER_CONSTANT, value=0
        )
    interpolation = cv2.INTER_AREA if min(side_u, side_v) >= size_px else cv2.INTER_LINEAR
    return cv2.resize(region, (size_px, size_px), interpolation=interpolation)
