"""Where a study's seizures come from: the synthetic cohort or a folder of cached records."""

from __future__ import annotations

from pathlib import Path

from semiology.errors import CacheError, ConfigError
from semiology.experiment import DataConfig
from semiology.io.cache import load_record
from semiology.io.records import SeizureRecord
from semiology.synthetic import make_cohort


def load_study_records(data: DataConfig, source: str) -> tuple[list[SeizureRecord], bool]:
    """The records of a study and whether they are synthetic.

    `cache` reads every `*.npz` record under `data.cache_dir` (written by the extraction
    tools, or by users who bring their own keypoints); an unreadable record stops the study
    with a message naming every bad file, since evaluating on a silently smaller cohort
    would bias the numbers.
    """
    if data.source == "synthetic":
        return make_cohort(data.synthetic.spec()), True
    if not data.cache_dir:
        raise ConfigError(f"{source}: data.cache_dir is required when data.source is 'cache'")
    folder = Path(data.cache_dir)
    if not folder.is_dir():
        raise ConfigError(f"{source}: data.cache_dir {folder} is not a folder")
    records, problems = [], []
    for path in sorted(folder.glob("*.npz")):
        try:
            records.append(load_record(path))
        except CacheError as error:
            problems.append(str(error))
    if problems:
        raise CacheError("unreadable cached records:\n" + "\n".join(problems))
    if not records:
        raise ConfigError(f"{source}: no cached records (*.npz) in {folder}")
    return records, all(record.synthetic for record in records)
