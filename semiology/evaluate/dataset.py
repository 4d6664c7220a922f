"""Where a study's seizures come from: the synthetic cohort or a folder of cached records."""

from __future__ import annotations

from pathlib import Path

from semiology.errors import CacheError, ConfigError, SemiologyError
from semiology.experiment import DataConfig
from semiology.io.cache import load_record
from semiology.io.skeletons import row_record
from semiology.io.sources import as_source
from semiology.records import SeizureRecord
from semiology.synthetic import make_cohort


def load_study_records(
    data: DataConfig, source: str, label_values: dict[str, tuple[str, ...]] | None = None, workers: int = 1
) -> tuple[list[SeizureRecord], bool]:
    """The records of a study and whether they are synthetic (a synthetic cohort is simulated by `workers` processes).

    `cache` reads every `*.npz` record under `data.cache_dir` (written by the extraction
    tools, or by users who bring their own keypoints); an unreadable record stops the study
    with a message naming every bad file, since evaluating on a silently smaller cohort
    would bias the numbers.
    """
    if data.source == "synthetic":
        return make_cohort(data.synthetic, workers), True
    if data.source in ("manifest", "store"):
        return _records_from_manifest(data, source, label_values or {})
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


def _records_from_manifest(data: DataConfig, source: str, label_values: dict[str, tuple[str, ...]]) -> tuple[list[SeizureRecord], bool]:
    """Records named by a validated manifest (or the label store's rows); the manifest's ids, times and labels win."""
    if data.source == "store":
        from semiology.store import StoreSource  # SQLAlchemy is loaded only by studies that read a store

        if not data.store:
            raise ConfigError(f"{source}: data.store is required when data.source is 'store'")
        row_source = StoreSource(data.store)
        name = row_source.name
    elif not data.manifest:
        raise ConfigError(f"{source}: data.manifest is required when data.source is 'manifest'")
    else:
        row_source, name = as_source(data.manifest, data.allow_columns, data.subject_ids_are_pseudonyms), data.manifest
    rows = row_source.rows(label_values=label_values)
    records, problems = [], []
    for row in rows:
        path = row.paths.get("keypoints")
        if path is None:
            problems.append(f"{name}: row {row.row_number} (seizure_id {row.seizure_id!r}): column 'keypoints': no cached record named")
            continue
        try:
            record = row_record(row)  # a cache file, or keypoints from NTU, OpenPose or pyskl (semiology.io.skeletons)
        except SemiologyError as error:
            problems.append(f"{name}: row {row.row_number} (seizure_id {row.seizure_id!r}): {error}")
            continue
        records.append(record)
    if problems:
        raise CacheError("\n".join(problems))
    return records, all(record.synthetic for record in records)
