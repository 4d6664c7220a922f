"""Extraction of a whole manifest: one cache file per seizure, resumable, one summary row per recording.

A recording whose cache file was made with the same config hash from the same inputs (the
manifest row's times, labels and frame rate, and the fingerprints of its video files, see
`semiology.io.fingerprint`) is skipped; one whose config or inputs changed is extracted again,
and the summary says why. A recording that cannot be read (missing, truncated, no frames, unsupported codec, 8-bit depth) is reported with
its reason and the batch goes on. A recording where nobody is found is extracted (person found
0 %), not failed.

The summary CSV is merged by seizure id with the one already in the folder and rewritten
(atomically) after every recording: a row skipped as cached keeps the figures of the run that
extracted it, and a killed run leaves the rows it finished. With Ray (`engine=RaySettings(...)`)
the workers only extract; cache files and summary rows are still written here, one at a time.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from semiology.engines.ray_engine import RaySession, RaySettings, Throughput
from semiology.errors import CheckpointError, SemiologyError
from semiology.extract.chain import FrameChain
from semiology.extract.config import ExtractionConfig, extraction_hash
from semiology.extract.recording import RecordingStats, extract_recording
from semiology.io.atomic import atomic_path
from semiology.io.cache import cache_path, save_record, stale_reason
from semiology.io.fingerprint import inputs_hash
from semiology.io.manifest import VIDEO_MODALITIES, ManifestRow
from semiology.io.sources import RowSource, as_source
from semiology.lift.temporal import TemporalLifter, load_lifter
from semiology.models.encoder import FrameEncoder
from semiology.records import SeizureRecord

logger = logging.getLogger(__name__)

SUMMARY_FILE = "extraction_summary.csv"
_READ_FAILURES = (SemiologyError, OSError, ValueError, RuntimeError, EOFError)


@dataclass(frozen=True)
class RecordingResult:
    """One summary row: `status` is `extracted`, `cached` (skipped, up to date) or `failed` (see `reason`)."""

    seizure_id: str
    status: str
    stats: RecordingStats | None = None
    reason: str = ""
    cache_file: str = ""


def _lifter(config: ExtractionConfig) -> TemporalLifter | None:
    checkpoint = config.lift.lifter_checkpoint
    if config.lift.method == "temporal" and not checkpoint:
        raise CheckpointError("lift.method is 'temporal' but lift.lifter_checkpoint names no file")
    if not checkpoint or config.lift.method not in ("auto", "temporal"):
        return None
    lifter = load_lifter(checkpoint)
    if lifter.config.layout != config.body_layout:
        raise CheckpointError(f"{checkpoint}: the lifter was trained on {lifter.config.layout}, the config extracts {config.body_layout}")
    return lifter


def _encoders(config: ExtractionConfig, out_dir: Path) -> dict[str, FrameEncoder]:
    if not (config.crops.enabled and config.crops.features):
        return {}
    from semiology.extract.encoders import extraction_encoders

    streams = ("body", "face") if config.face.enabled else ("body",)
    return extraction_encoders(streams, config.encoder, config.crops.size_px, out_dir / "encoders")


def run_extraction(
    manifest: RowSource | str | Path,
    out_dir: str | Path,
    config: ExtractionConfig | None = None,
    progress: bool = True,
    force: bool = False,
    engine: RaySettings | None = None,
) -> list[RecordingResult]:
    """Extract every row of `manifest` (a row source, or a manifest path) into `out_dir` (one `.npz` per seizure) and write the summary CSV.

    Config problems (an unreadable lifter checkpoint, a manifest with bad columns) stop the run
    before any work; problems of one recording only fail that row. With `engine` (Ray settings)
    the recordings are extracted by Ray workers, one task each, and this process writes each
    cache file and summary row as its recording finishes, as it does without Ray.
    """
    config = config or ExtractionConfig()
    out_dir = Path(out_dir)
    rows = as_source(manifest).rows(check_files=False)
    digest = extraction_hash(config)
    lifter = _lifter(config)
    encoders = _encoders(config, out_dir)
    summary = SummaryFile(out_dir / SUMMARY_FILE)
    results: dict[str, RecordingResult] = {}
    pending: list[tuple[ManifestRow, Path, str, str]] = []
    for row in rows:
        target = cache_path(out_dir, row.seizure_id)
        inputs = row_inputs_hash(row)
        stale = "forced" if force else stale_reason(target, digest, inputs)
        if stale is None:
            results[row.seizure_id] = summary.record(RecordingResult(row.seizure_id, "cached", cache_file=str(target)))
        else:
            pending.append((row, target, inputs, stale))
    extracted = _extract_on_ray(pending, config, lifter, encoders, engine, progress) if engine else _extract_here(pending, config, lifter, encoders, progress)
    for (row, target, inputs, stale), outcome in extracted:
        if isinstance(outcome, str):
            logger.warning("%s: extraction failed: %s", row.seizure_id, outcome)
            results[row.seizure_id] = summary.record(RecordingResult(row.seizure_id, "failed", reason=outcome))
            continue
        record, stats = outcome
        record.meta["extraction_config_hash"] = digest
        save_record(record, target, digest, input_hash=inputs)
        notes = ["no person detected"] if stats.person_found == 0 else []
        if stats.tracks > 1:
            notes.append(f"{stats.tracks} patient tracks: check the identity decisions (identity_events in the cache)")
        if stats.excluded:
            notes.append(f"{stats.excluded} tracks of other people left out (roi.patient: longest): check the identity decisions")
        if stale not in ("not cached", "forced"):
            notes.append(f"extracted again: {stale}")
        results[row.seizure_id] = summary.record(RecordingResult(row.seizure_id, "extracted", stats, "; ".join(notes), str(target)))
    return [results[row.seizure_id] for row in rows if row.seizure_id in results]


Pending = tuple[ManifestRow, Path, str, str]
Outcome = tuple[SeizureRecord, RecordingStats] | str


def _extract_one(chain: FrameChain, row: ManifestRow, config: ExtractionConfig, lifter: TemporalLifter | None,
                 encoders: dict[str, FrameEncoder], progress: bool) -> Outcome:
    """The record and stats of one row, or the reason it cannot be read."""
    try:
        return extract_recording(chain, row, config, lifter, encoders, progress)
    except _READ_FAILURES as error:
        return str(error) if isinstance(error, SemiologyError) else f"{type(error).__name__}: {error}"


def _extract_here(pending: list[Pending], config: ExtractionConfig, lifter: TemporalLifter | None, encoders: dict[str, FrameEncoder],
                  progress: bool) -> Iterator[tuple[Pending, Outcome]]:
    """Each pending row extracted in this process, in manifest order, by one chain."""
    chain = FrameChain(config)
    try:
        for item in pending:
            yield item, _extract_one(chain, item[0], config, lifter, encoders, progress)
    finally:
        chain.close()


def _ray_worker(config: ExtractionConfig, lifter: TemporalLifter | None, encoders: dict[str, FrameEncoder]) -> tuple[Any, ...]:
    """A Ray worker's state: its own chain (detectors loaded once per worker), one torch thread per worker as with the process pool."""
    torch.set_num_threads(1)
    return FrameChain(config), config, lifter, encoders


def _ray_task(state: tuple[Any, ...], row: ManifestRow) -> Outcome:
    chain, config, lifter, encoders = state
    return _extract_one(chain, row, config, lifter, encoders, False)


def _extract_on_ray(pending: list[Pending], config: ExtractionConfig, lifter: TemporalLifter | None, encoders: dict[str, FrameEncoder],
                    settings: RaySettings, progress: bool) -> Iterator[tuple[Pending, Outcome]]:
    """Each pending row extracted by a Ray worker, yielded as it finishes (this process writes the cache files and the summary)."""
    if not pending:
        return
    throughput = Throughput()
    with RaySession(settings) as session, tqdm(total=len(pending), desc="extraction (ray)", unit="recording", disable=not progress) as bar:
        rows = [item[0] for item in pending]
        for outcome in session.map(partial(_ray_worker, config, lifter, encoders), _ray_task, rows, throughput):
            yield pending[outcome.index], outcome.value if not outcome.error else outcome.error
            bar.set_postfix_str(throughput.describe())
            bar.update()


def row_inputs_hash(row: ManifestRow) -> str:
    """What an extracted record depends on besides the config: the row's times, labels and frame rate, and its videos' fingerprints."""
    fields = {"seizure_id": row.seizure_id, "subject_id": row.subject_id, "fps": row.fps, "onset_s": row.onset_s, "offset_s": row.offset_s,
              "generalisation_s": row.generalisation_s, "labels": dict(sorted(row.labels.items()))}
    return inputs_hash(fields, {modality: path for modality, path in row.paths.items() if modality in VIDEO_MODALITIES})


def _cells(result: RecordingResult) -> list[str]:
    stats = result.stats
    if stats is None:
        return [result.seizure_id, result.status, "", "", "", "", "", "", result.reason]
    face = "" if stats.face_found is None else f"{100 * stats.face_found:.1f}"
    return [
        result.seizure_id,
        result.status,
        str(stats.frames),
        f"{stats.fps:.2f}",
        f"{100 * stats.person_found:.1f}",
        face,
        f"{stats.mean_confidence:.2f}",
        f"{stats.time_s:.1f}",
        result.reason,
    ]


SUMMARY_COLUMNS = ("seizure", "status", "frames", "fps", "person %", "face %", "mean conf", "time s", "note")


def format_summary(results: list[RecordingResult]) -> str:
    """The per-recording summary as an aligned text table (long reasons are kept whole, last column)."""
    rows = [list(SUMMARY_COLUMNS)] + [_cells(result) for result in results]
    widths = [max(len(row[k]) for row in rows) for k in range(len(SUMMARY_COLUMNS) - 1)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths)) + "  " + row[-1] for row in rows]
    lines.insert(1, "-" * max(len(line) for line in lines[:1]))
    return "\n".join(line.rstrip() for line in lines)


SUMMARY_HEADER = ("seizure_id", "status", *RecordingStats.__dataclass_fields__, "reason", "cache_file")


def _summary_row(result: RecordingResult) -> dict[str, str]:
    stats = asdict(result.stats) if result.stats is not None else dict.fromkeys(RecordingStats.__dataclass_fields__, "")
    return {"seizure_id": result.seizure_id, "status": result.status, **{key: str(value) for key, value in stats.items()},
            "reason": result.reason, "cache_file": result.cache_file}


class SummaryFile:
    """The summary CSV of a cache folder, merged by seizure id and rewritten atomically after each recording.

    A recording skipped as cached keeps the figures (and notes, such as "no person detected")
    of the run that extracted it; rows of recordings this run does not list are kept as they were.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: dict[str, dict[str, str]] = {}
        if path.is_file():
            with path.open(newline="") as handle:
                self.rows = {row["seizure_id"]: {key: row.get(key) or "" for key in SUMMARY_HEADER} for row in csv.DictReader(handle) if row.get("seizure_id")}

    def record(self, result: RecordingResult) -> RecordingResult:
        """Merge one result in and rewrite the file; returns `result`."""
        row = _summary_row(result)
        earlier = self.rows.get(result.seizure_id)
        if result.status == "cached" and earlier is not None and earlier["status"] in ("extracted", "cached"):
            row = {**earlier, "status": "cached", "cache_file": result.cache_file}
        self.rows[result.seizure_id] = row
        with atomic_path(self.path) as temporary, temporary.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, SUMMARY_HEADER)
            writer.writeheader()
            writer.writerows(self.rows.values())
        return result


def write_summary(results: list[RecordingResult], path: Path) -> Path:
    """The summary of `results` as CSV, merged with the one already at `path` (one row per recording, stats at full precision)."""
    summary = SummaryFile(path)
    for result in results:
        summary.record(result)
    return path
