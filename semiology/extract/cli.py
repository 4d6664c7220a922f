"""`tools/extract_keypoints.py`: parse arguments, run the batch extraction, print the summary table."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from semiology.errors import SemiologyError


def extract_keypoints(argv: Sequence[str] | None = None) -> int:
    """Exit status 0 when every recording was extracted or up to date, 1 when some failed, 2 on a config error."""
    parser = argparse.ArgumentParser(
        prog="extract_keypoints.py",
        description="Extract body keypoints, face landmarks, 3D, appearance crops and features from the "
        "recordings of a manifest into one cache file per seizure (resumable).",
    )
    parser.add_argument("--manifest", type=Path, required=True, help="manifest CSV/YAML (columns seizure_id, subject_id, ir/rgb/depth, onset_s, offset_s, ...)")
    parser.add_argument("--out", type=Path, required=True, help="cache folder (one .npz per seizure + extraction_summary.csv)")
    parser.add_argument("--config", type=Path, default=None, help="extraction YAML (default: the built-in defaults)")
    parser.add_argument("--force", action="store_true", help="extract again even where an up-to-date cache exists")
    parser.add_argument("--no-progress", action="store_true", help="hide the per-recording progress bars")
    parser.add_argument("--allow-column", action="append", default=[], metavar="NAME", help="accept a manifest label column whose name looks identifying (names, birth dates, hospital numbers are refused)")
    parser.add_argument("--ids-are-pseudonyms", action="store_true", help="the manifest's subject ids already are pseudonyms (e.g. exported from the label store): keep them (otherwise they are pseudonymised with this site's secret)")
    args = parser.parse_args(argv)

    from semiology.extract.batch import SUMMARY_FILE, format_summary, run_extraction
    from semiology.extract.config import load_extraction_config
    from semiology.io.sources import as_source

    try:
        config = load_extraction_config(args.config)
        rows = as_source(args.manifest, args.allow_column, args.ids_are_pseudonyms)
        results = run_extraction(rows, args.out, config, progress=not args.no_progress, force=args.force)
    except SemiologyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(format_summary(results))
    failed = sum(result.status == "failed" for result in results)
    print(f"\n{len(results) - failed} of {len(results)} recordings ready in {args.out} (summary: {args.out / SUMMARY_FILE})")
    return 1 if failed else 0
