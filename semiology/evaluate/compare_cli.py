"""`tools/compare.py`: paired comparisons of the same models across saved studies.

Each study folder must hold the `metrics.json` and `folds.csv` that `tools/loso_eval.py` wrote.
Studies are comparable when they held out the same subjects in the same groups (the same folds)
and saw the same data (`data_hash`); models are paired by task/model name, folds by their
held-out subjects. Exit status 0 after printing the table, 2 when the studies cannot be compared.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path

from semiology.errors import SemiologyError
from semiology.evaluate.compare import LEVELS, compare_all, fold_scores, fold_units, format_comparisons
from semiology.evaluate.report import SYNTHETIC_BANNER


class NotComparable(SemiologyError):
    """Why the studies given cannot be compared; the tool prints it and exits with status 2."""


def load_study(folder: Path) -> dict:
    """A saved study's metrics.json, checked against its folds.csv."""
    metrics_path, folds_path = folder / "metrics.json", folder / "folds.csv"
    for path in (metrics_path, folds_path):
        if not path.is_file():
            raise NotComparable(f"{folder}: no {path.name} (is this a tools/loso_eval.py output folder?)")
    try:
        metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
        with folds_path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, ValueError) as error:
        raise NotComparable(f"{folder}: cannot read its report files: {error}") from error
    if not isinstance(metrics, dict) or not {"folds", "models"} <= set(metrics):
        raise NotComparable(f"{metrics_path}: not a study's metrics.json (no 'folds' or 'models')")
    from_csv: dict[str, list[str]] = {}
    try:
        for row in rows:
            if row.get("role") == "test":
                from_csv.setdefault(str(int(row["fold"])), []).append(row["subject_id"])
    except (KeyError, TypeError, ValueError) as error:
        raise NotComparable(f"{folds_path}: not a study's folds.csv ({error!r})") from error
    folds = {fold: sorted(subjects) for fold, subjects in metrics["folds"].items()}
    if {fold: sorted(subjects) for fold, subjects in from_csv.items()} != folds:
        raise NotComparable(f"{folder}: folds.csv and metrics.json disagree on the held-out subjects")
    return {"folder": folder, "metrics": metrics, "units": fold_units(folds)}


def _check_comparable(studies: Sequence[dict], allow_different_data: bool) -> None:
    first = studies[0]
    for other in studies[1:]:
        units_a, units_b = set(first["units"].values()), set(other["units"].values())
        if units_a != units_b:
            only_a, only_b = sorted(units_a - units_b), sorted(units_b - units_a)
            raise NotComparable(
                f"{first['folder']} and {other['folder']} have different folds: held out only in the first: "
                f"{'; '.join(only_a[:5]) or '-'}; only in the second: {'; '.join(only_b[:5]) or '-'}"
            )
        hashes = first["metrics"].get("data_hash"), other["metrics"].get("data_hash")
        if hashes[0] != hashes[1] and not allow_different_data:
            raise NotComparable(
                f"{first['folder']} and {other['folder']} saw different data (data_hash {str(hashes[0])[:12]} vs "
                f"{str(hashes[1])[:12]}): paired folds would not be the same recordings (--allow-different-data to compare anyway)"
            )


def compare_studies(folders: Sequence[Path], metric: str = "macro_f1", level: str = "window", models: Sequence[str] | None = None, allow_different_data: bool = False) -> list[dict]:
    """Every model (task/model) of every study against the same model of each other study, Holm-adjusted together."""
    return compare_loaded([load_study(Path(folder)) for folder in folders], metric, level, models, allow_different_data)


def compare_loaded(studies: Sequence[dict], metric: str = "macro_f1", level: str = "window", models: Sequence[str] | None = None, allow_different_data: bool = False) -> list[dict]:
    """`compare_studies` on studies already read with `load_study`."""
    _check_comparable(studies, allow_different_data)
    in_all = [key for key in studies[0]["metrics"]["models"] if all(key in study["metrics"]["models"] for study in studies)]
    if models:
        missing = [(key, str(study["folder"])) for key in models for study in studies if key not in study["metrics"]["models"]]
        if missing:
            raise NotComparable("; ".join(f"{folder} has no model {key!r}" for key, folder in missing))
        in_all = list(dict.fromkeys(models))
    if not in_all:
        raise NotComparable("no task/model appears in every study")
    pairs = []
    for key in in_all:
        for study_a, study_b in combinations(studies, 2):
            try:
                scores = [fold_scores(s["metrics"]["models"][key], s["units"], metric, level) for s in (study_a, study_b)]
            except ValueError as error:
                raise NotComparable(f"{key}: {error}") from error
            except KeyError as error:
                raise NotComparable(f"{key}: metrics.json has no {error} entry") from error
            task, _, model = key.partition("/")
            description = {"task": task, "a": model, "b": model, "a_label": f"{study_a['folder']}:{key}", "b_label": f"{study_b['folder']}:{key}"}
            pairs.append((description, *scores))
    return compare_all(pairs)


def compare_tool(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/compare.py", description="Paired comparisons of the same models across saved LOSO studies.")
    parser.add_argument("studies", nargs="+", type=Path, help="study output folders (each with metrics.json and folds.csv), at least two")
    parser.add_argument("--metric", default="macro_f1", help="per-fold metric to compare (default: macro_f1)")
    parser.add_argument("--level", default="window", choices=LEVELS, help="scoring level (default: window)")
    parser.add_argument("--models", nargs="+", metavar="TASK/MODEL", help="compare only these models (default: every model in all studies)")
    parser.add_argument("--allow-different-data", action="store_true", help="compare studies whose data_hash differs")
    args = parser.parse_args(argv)
    if len(args.studies) < 2:
        parser.error("give at least two study folders")
    try:
        studies = [load_study(folder) for folder in args.studies]
        items = compare_loaded(studies, args.metric, args.level, args.models, args.allow_different_data)
    except NotComparable as error:
        print(f"error: not comparable: {error}", file=sys.stderr)
        return 2
    if any(study["metrics"].get("synthetic") for study in studies):
        print(f"*** {SYNTHETIC_BANNER} ***")
    print(f"Paired comparisons of {args.level}-level {args.metric} per held-out fold (A − B), Holm–Bonferroni over {len(items)} comparisons")
    print(format_comparisons(items, args.metric), end="")
    return 0
