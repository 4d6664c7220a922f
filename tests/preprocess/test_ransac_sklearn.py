"""scikit-learn's RANSACRegressor in place of depth.py's hand-written plane search: the same beds, slower.

The measurement behind docs/decisions.md#ransac-planes. The stock RANSACRegressor regresses one
target on the other columns (z on x, y): its residual runs along the optical axis rather than to
the plane, and its loss sees only the target and the prediction, so it cannot express the
normal-consistency inlier test. `sklearn_planes` makes it express it: each row carries a point and
its normal ([x, y, z, nx, ny, nz]), and a plane estimator predicts the distance to the plane,
infinite where the normal disagrees, so that `residual_threshold=tol_mm` keeps the same inliers as
`_ransac_planes`. `stock_planes` is the plain use, without the normal test. Run as a script, it
prints each plane search's time and the bed and crop scores on synthetic scenes:

    .venv/bin/python -m tests.preprocess.test_ransac_sklearn [--subjects 0 2 4 6 8 10] [--seeds 0] [--repeats 5]
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import LinearRegression, RANSACRegressor

from semiology.preprocess import depth
from semiology.preprocess.depth import _plane_through, close_pepper_noise, crop_depth, fit_bed_planes, segment_bed
from semiology.synthetic.scene import BACKGROUND, BED, SceneSpec, render_scene
from tests.preprocess.bed_scenes import N_FRAMES, SUBJECTS, bed_scene, crop_scores

Planes = list[tuple[np.ndarray, float]]


class PlaneModel(BaseEstimator, RegressorMixin):
    """A least-squares plane through rows [x, y, z, nx, ny, nz]; predicts each row's distance to it, inf where the normal disagrees."""

    def __init__(self, cos_angle: float = 0.94) -> None:
        self.cos_angle = cos_angle

    def fit(self, X: np.ndarray, y: np.ndarray) -> PlaneModel:
        self.normal_, self.offset_ = _plane_through(X[:, :3])
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        distance = np.abs(X[:, :3] @ self.normal_ - self.offset_)
        return np.where(X[:, 3:] @ self.normal_ > self.cos_angle, distance, np.inf)

    def score(self, X: np.ndarray, y: np.ndarray) -> float:
        return -float(np.mean(self.predict(X)))


def _not_collinear(X: np.ndarray, y: np.ndarray) -> bool:
    return bool(np.linalg.norm(np.cross(X[1, :3] - X[0, :3], X[2, :3] - X[0, :3])) > 1e-6)


def sklearn_planes(
    points: np.ndarray, normals: np.ndarray, tol_mm: float, cos_angle: float, max_planes: int, iterations: int, min_share: float, rng: np.random.Generator
) -> Planes:
    """`_ransac_planes` with its hypothesis search done by RANSACRegressor on `PlaneModel`; the same three least-squares refinements after."""
    remaining = np.ones(len(points), dtype=bool)
    rows = np.hstack([points, normals])
    planes: Planes = []

    def inliers_of(normal: np.ndarray, offset: float) -> np.ndarray:
        return remaining & (np.abs(points @ normal - offset) < tol_mm) & ((normals @ normal) > cos_angle)

    for _ in range(max_planes):
        pool = np.flatnonzero(remaining)
        if len(pool) < max(3, min_share * len(points)):
            break
        search = RANSACRegressor(
            PlaneModel(cos_angle), min_samples=3, residual_threshold=tol_mm, max_trials=iterations, is_data_valid=_not_collinear,
            loss="absolute_error", random_state=int(rng.integers(2**31)),
        )
        try:
            search.fit(rows[pool], np.zeros(len(pool)))
        except ValueError:
            break
        normal, offset = search.estimator_.normal_, search.estimator_.offset_
        for _ in range(3):
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


def stock_planes(
    points: np.ndarray, normals: np.ndarray, tol_mm: float, cos_angle: float, max_planes: int, iterations: int, min_share: float, rng: np.random.Generator
) -> Planes:
    """The stock use: RANSACRegressor(LinearRegression) of z on (x, y), residual along the optical axis, no normal test."""
    remaining = np.ones(len(points), dtype=bool)
    planes: Planes = []
    for _ in range(max_planes):
        pool = np.flatnonzero(remaining)
        if len(pool) < max(3, min_share * len(points)):
            break
        search = RANSACRegressor(LinearRegression(), min_samples=3, residual_threshold=tol_mm, max_trials=iterations, random_state=int(rng.integers(2**31)))
        try:
            search.fit(points[pool, :2], points[pool, 2])
        except ValueError:
            break
        (a, b), c = search.estimator_.coef_, float(search.estimator_.intercept_)
        length = float(np.linalg.norm([a, b, -1.0]))
        normal, offset = np.array([a, b, -1.0]) / length, -c / length
        if offset > 0:
            normal, offset = -normal, -offset
        if search.inlier_mask_.sum() < max(3, min_share * len(points)):
            break
        planes.append((normal, offset))
        remaining[pool[search.inlier_mask_]] = False
    return planes


SEARCHES: dict[str, Callable[..., Planes]] = {"hand-written": depth._ransac_planes, "sklearn-plane": sklearn_planes, "sklearn-stock": stock_planes}


@pytest.mark.parametrize("subject_index", SUBJECTS)
def test_sklearn_plane_search_finds_the_same_bed(subject_index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    scene, frames, planes = bed_scene(subject_index)
    hand = planes.region
    assert hand is not None
    monkeypatch.setattr(depth, "_ransac_planes", sklearn_planes)
    found = segment_bed(frames[0], scene.intrinsics)
    assert float(np.dot(found.normal, hand.normal)) > 0.999 and abs(found.offset_mm - hand.offset_mm) < 10.0
    overlap = (found.surface & hand.surface).sum() / (found.surface | hand.surface).sum()
    assert overlap > 0.95
    assert (scene.labels[0][found.surface] == BED).mean() >= 0.95


def _scores(scene, frames: np.ndarray, region) -> tuple[float, float, float, float, bool]:
    """Bed purity and cover, patient kept, clinician removed, and whether every check of test_depth_crop's first two tests holds."""
    labels = scene.labels[0]
    purity, cover = float((labels[region.surface] == BED).mean()), float(region.surface[labels == BED].mean())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        planes = fit_bed_planes(frames[0], intrinsics=scene.intrinsics, region=region)
    _, mask = crop_depth(frames, planes)
    kept, removed, _ = crop_scores(scene.labels, scene.labels_unoccluded, mask)
    extent_ok = 1800.0 <= region.extent_mm[0] <= 2400.0 and 700.0 <= region.extent_mm[1] <= 1000.0
    room_gone = float(mask[scene.labels == BACKGROUND].mean()) < 0.01
    ok = purity >= 0.95 and cover >= 0.5 and extent_ok and bool(region.background) and kept >= 0.95 and removed >= 0.90 and room_gone
    return purity, cover, kept, removed, ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, nargs="+", default=list(SUBJECTS), help="synthetic subjects (scene seed 0, clinician in 60 %% of frames)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="segment_bed seeds")
    parser.add_argument("--repeats", type=int, default=5, help="timings per scene and seed (the fastest is kept)")
    args = parser.parse_args()
    scenes = []
    for subject in args.subjects:
        scene = render_scene(SceneSpec(subject_index=subject, n_frames=N_FRAMES, clinician_share=0.6, seed=0))
        scenes.append((subject, scene, close_pepper_noise(scene.depth_mm)))
    print(f"{len(scenes)} scenes x {len(args.seeds)} seeds; times: fastest of {args.repeats}, median over scenes and seeds")
    for name, search in SEARCHES.items():
        search_s: list[float] = []
        segment_s: list[float] = []
        scores = []
        for subject, scene, frames in scenes:
            for seed in args.seeds:
                runs, planes_runs = [], []
                for _ in range(args.repeats):
                    planes_time: list[float] = []

                    def timed(*arguments, _search=search, _times=planes_time):
                        start = time.perf_counter()
                        result = _search(*arguments)
                        _times.append(time.perf_counter() - start)
                        return result

                    depth._ransac_planes = timed
                    start = time.perf_counter()
                    try:
                        region = segment_bed(frames[0], scene.intrinsics, seed=seed)
                    except ValueError:
                        region = None
                    finally:
                        depth._ransac_planes = SEARCHES["hand-written"]
                    runs.append(time.perf_counter() - start)
                    planes_runs.append(planes_time[0])
                search_s.append(min(planes_runs))
                segment_s.append(min(runs))
                scores.append((subject, seed, *(_scores(scene, frames, region) if region is not None else (np.nan,) * 4 + (False,))))
        table = np.array([row[2:6] for row in scores], dtype=float)
        passed = sum(row[6] for row in scores)
        print(
            f"{name:13s} plane search {1000 * np.median(search_s):6.1f} ms, segment_bed {1000 * np.median(segment_s):6.1f} ms; "
            f"worst scene: bed purity {np.nanmin(table[:, 0]):.3f}, bed cover {np.nanmin(table[:, 1]):.3f}, patient kept {np.nanmin(table[:, 2]):.3f}, "
            f"clinician removed {np.nanmin(table[:, 3]):.3f}; every check held on {passed}/{len(scores)}"
        )
        for row in scores:
            if not row[6]:
                print(f"    failed: subject {row[0]} seed {row[1]}: purity, cover, kept, removed {np.round(row[2:6], 3).tolist()}")


if __name__ == "__main__":
    main()
