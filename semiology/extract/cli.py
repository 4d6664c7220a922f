"""`tools/extract_keypoints.py`: parse arguments, run the batch extraction, print the summary table."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from semiology.detect.mediapipe_pose import NATIVE_LOGS_ENV, python_stderr_only
from semiology.engines.ray_engine import add_engine_arguments, engine_settings
from semiology.errors import SemiologyError


def extract_keypoints(argv: Sequence[str] | None = None) -> int:
    """Exit status 0 when every recording was extracted or up to date, 1 when some failed, 2 on a config error."""
    parser = argparse.ArgumentParser(
        prog="extract_keypoints.py",
        description="Extract body keypoints, face landmarks, 3D, appearance crops and features from recordings "
        "(video files, image folders or images named on the command line, or the rows of a manifest) into one cache file per recording (resumable).",
    )
    parser.add_argument("recordings", type=Path, nargs="*", metavar="VIDEO", help="video files, image folders or images, each extracted as one recording named by its file name (no manifest, no clinical times)")
    parser.add_argument("--manifest", type=Path, default=None, help="manifest CSV/YAML (columns seizure_id, subject_id, ir/rgb/depth, onset_s, offset_s, ...) instead of VIDEO arguments")
    parser.add_argument("--fps", type=float, default=None, help="frame rate of VIDEO arguments (needed for image folders; default: the container's, 1 for a single image)")
    parser.add_argument("--ir", action="store_true", help="VIDEO arguments are infrared (16-bit or grey), scaled by the config's IR percentiles")
    parser.add_argument("--out", type=Path, required=True, help="cache folder (one .npz per seizure + extraction_summary.csv)")
    parser.add_argument("--config", type=Path, default=None, help="extraction YAML (default: the built-in defaults)")
    parser.add_argument("--force", action="store_true", help="extract again even where an up-to-date cache exists")
    parser.add_argument("--no-progress", action="store_true", help="hide the per-recording progress bars")
    parser.add_argument("--allow-column", action="append", default=[], metavar="NAME", help="accept a manifest label column whose name looks identifying (names, birth dates, hospital numbers are refused)")
    parser.add_argument("--ids-are-pseudonyms", action="store_true", help="the manifest's subject ids already are pseudonyms (e.g. exported from the label store): keep them (otherwise they are pseudonymised with this site's secret)")
    parser.add_argument("--verbose", action="store_true", help="show the log lines of MediaPipe, TF Lite and absl (hidden by default)")
    add_engine_arguments(parser)
    args = parser.parse_args(argv)
    if (args.manifest is None) == (not args.recordings):
        parser.error("give either VIDEO arguments or --manifest, not both and not neither")
    if args.verbose:
        os.environ[NATIVE_LOGS_ENV] = "1"

    from semiology.extract.batch import SUMMARY_FILE, format_summary, run_extraction
    from semiology.extract.config import load_extraction_config
    from semiology.extract.inputs import RecordingFiles
    from semiology.io.sources import as_source

    try:
        engine = engine_settings(args)
        config = load_extraction_config(args.config)
        rows = (
            as_source(args.manifest, args.allow_column, args.ids_are_pseudonyms)
            if args.manifest is not None
            else RecordingFiles(tuple(args.recordings), args.fps, "ir" if args.ir else None)
        )
        with python_stderr_only():
            results = run_extraction(rows, args.out, config, progress=not args.no_progress, force=args.force, engine=engine)
    except SemiologyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(format_summary(results))
    failed = sum(result.status == "failed" for result in results)
    print(f"\n{len(results) - failed} of {len(results)} recordings ready in {args.out} (summary: {args.out / SUMMARY_FILE})")
    return 1 if failed else 0
