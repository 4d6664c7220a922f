"""The depth crop's figures on synthetic scenes, behind docs/decisions.md#depth-crop (a script; prints figures, asserts nothing).

Per subject: whether the bare study method (`fit_bed_planes(segment=False)`, `crop_depth(grow=False)`,
the first version) keeps >= 95 % of the patient and removes >= 90 % of the clinician in front of the
bed, and its half thickness; whether the profiles' bed length agrees with `BedRegion.long_side_axis`;
and the share of the patient's pixels (all frames) over the bed and above the slab of the full method.

    .venv/bin/python benchmarks/depth_crop_figures.py [--subjects 0 2 4 6 8 10]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from semiology.preprocess.depth import close_pepper_noise, crop_depth, fit_bed_planes  # noqa: E402
from semiology.synthetic.scene import PATIENT, SceneSpec, render_scene  # noqa: E402
from tests.preprocess.bed_scenes import N_FRAMES, SUBJECTS, crop_scores  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, nargs="+", default=list(SUBJECTS), help="synthetic subjects (scene seed 0, clinician in 60 %% of frames)")
    args = parser.parse_args()
    met, thickness, disagree, above_shares = 0, [], [], []
    for subject in args.subjects:
        scene = render_scene(SceneSpec(subject_index=subject, n_frames=N_FRAMES, clinician_share=0.6, seed=0))
        frames = close_pepper_noise(scene.depth_mm)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            bare = fit_bed_planes(frames[0], intrinsics=scene.intrinsics, segment=False)
        _, mask = crop_depth(frames, bare, grow=False)
        kept, removed, _ = crop_scores(scene.labels, scene.labels_unoccluded, mask)
        full = fit_bed_planes(frames[0], intrinsics=scene.intrinsics)
        assert full.region is not None and full.height_range_mm is not None
        patient = scene.labels == PATIENT
        with np.errstate(invalid="ignore"):
            above = patient & full.region.over_bed(frames) & (full.region.heights_mm(frames) > full.height_range_mm[1])
        share = float(above.sum() / patient.sum())
        ok = kept >= 0.95 and removed >= 0.90
        met += ok
        thickness.append(bare.half_thickness_mm)
        above_shares.append(share)
        if full.length_axis != full.region.long_side_axis():
            disagree.append(subject)
        print(
            f"subject {subject:2d}: first version keeps {kept:.3f} of the patient, removes {removed:.3f} of the clinician"
            f" ({'meets' if ok else 'misses'} the targets), half thickness {bare.half_thickness_mm:.0f} mm;"
            f" bed length {full.length_axis} (long side {full.region.long_side_axis()}); patient above the slab {100 * share:.1f} %"
        )
    print(
        f"{len(args.subjects)} subjects: the first version meets both targets on {met}; its half thickness {min(thickness):.0f} to {max(thickness):.0f} mm;"
        f" the profiles take the bed's width for its length on {len(disagree)} {disagree};"
        f" patient above the slab {100 * min(above_shares):.1f} to {100 * max(above_shares):.1f} %"
    )


if __name__ == "__main__":
    main()
