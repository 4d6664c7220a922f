"""A resumable screening batch: every recording of a manifest through every model of a bundle.

Rows go to `results.jsonl` as they finish (see `ResultsLog`); a rerun skips recordings that
already have a row. A recording that cannot be read or screened becomes an error row with the
reason and the batch goes on. With `workers > 1` recordings run in parallel processes (one
torch thread each, as with one worker, so the numbers are identical) and rows are written in
manifest order. With a Ray engine (`semiology.engines.ray_engine`) recordings run on Ray
workers, one torch thread each as well, and rows are written here in the order they finish.
On a GPU (`device`) recordings are screened one after another in this process.
At the end: `summary.csv` (and `summary.parquet` with pyarrow), `summary.html`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from semiology.bundle import Bundle, load_bundle
from semiology.bundle.store import META_FILE, WEIGHTS_FILE
from semiology.engines.device import DeviceError, torch_device
from semiology.engines.pool import worker_pool
from semiology.engines.ray_engine import RaySession, RaySettings, Throughput
from semiology.errors import SemiologyError
from semiology.io.atomic import atomic_path
from semiology.io.cache import cache_path, load_record
from semiology.io.fingerprint import content_sha256, inputs_hash
from semiology.io.manifest import VIDEO_MODALITIES
from semiology.io.sources import RowSource, as_source
from semiology.records import SeizureRecord
from semiology.screen.predict import screen_record
from semiology.screen.proposals import write_episode_proposals
from semiology.screen.report import plot_timeline, summary_rows, write_summary_html, write_summary_tables
from semiology.screen.results import ResultsLog
from semiology.store.predictions import write_screening

RESULTS_FILE = "results.jsonl"
TIMELINE_DIR = "timelines"
EXTRACTION_DIR = "cache"


@dataclass(frozen=True)
class ScreenItem:
    """One recording to screen: the manifest's identity, timing and labels, and its cached keypoints."""

    seizure_id: str
    subject_id: str
    keypoints: Path | None
    onset_s: float
    offset_s: float
    generalisation_s: float | None = None
    labels: dict[str, str] = field(default_factory=dict)
    source: str = ""
    videos: tuple[str, ...] = ()
    problem: str = ""


@dataclass
class ScreenSummary:
    results: Path
    files: dict[str, Path]
    n_total: int
    n_ok: int
    n_error: int
    n_skipped: int
    repaired_bytes: int
    rescreened: dict[str, int] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)


def items_from_manifest(path: RowSource | str | Path) -> list[ScreenItem]:
    """The rows of a row source (or a manifest path) as screening items (files are checked per recording, not up front)."""
    source = as_source(path)
    rows = source.rows(check_files=False)
    return [
        ScreenItem(row.seizure_id, row.subject_id, row.paths.get("keypoints"), row.onset_s, row.offset_s, row.generalisation_s,
                   dict(row.labels), f"{source.name}: row {row.row_number}", tuple(m for m in VIDEO_MODALITIES if m in row.paths))
        for row in rows
    ]


def extract_missing(manifest: RowSource | str | Path, items: Sequence[ScreenItem], out_dir: Path, progress: bool = True,
                    engine: RaySettings | None = None) -> list[ScreenItem]:
    """Give items that name videos but no cached keypoints the cache files of the extraction pipeline.

    Runs `semiology.extract` over the manifest into `out_dir/cache` (its own cache check makes
    reruns reuse what was extracted); a recording it cannot read keeps its reason, which
    becomes its error row. Without the pipeline such items keep a reason saying so.
    """
    if not any(item.keypoints is None and item.videos for item in items):
        return list(items)
    reason = videos_need_extraction()
    if reason is not None:
        return [dataclasses.replace(item, problem=reason) if item.keypoints is None else item for item in items]
    from semiology.extract.batch import run_extraction

    results = {result.seizure_id: result for result in run_extraction(manifest, out_dir / EXTRACTION_DIR, progress=progress, engine=engine)}
    prepared = []
    for item in items:
        result = results.get(item.seizure_id)
        if item.keypoints is not None or result is None:
            prepared.append(item)
        elif result.cache_file:
            prepared.append(dataclasses.replace(item, keypoints=Path(result.cache_file)))
        else:
            prepared.append(dataclasses.replace(item, problem=f"keypoint extraction failed: {result.reason}"))
    return prepared


def videos_need_extraction() -> str | None:
    """Why videos cannot be screened in this checkout, or None when the extraction pipeline is installed."""
    if importlib.util.find_spec("semiology.extract") is None:
        return ("screening videos needs the video -> keypoints pipeline (semiology.extract, tools/extract_keypoints.py), which this "
                "checkout does not have; extract keypoints to a cache and screen a manifest whose 'keypoints' column names them")
    return None


def load_item(item: ScreenItem) -> SeizureRecord:
    """The cached record of `item`, with the manifest's identity, timing and labels."""
    if item.problem:
        raise SemiologyError(f"{item.source}: {item.problem}")
    if item.keypoints is None:
        raise SemiologyError(f"{item.source}: no 'keypoints' file and no video named for this recording")
    record = load_record(item.keypoints)
    record.seizure_id, record.subject_id = item.seizure_id, item.subject_id
    record.onset_s, record.offset_s, record.generalisation_s = item.onset_s, item.offset_s, item.generalisation_s
    record.labels = {**record.labels, **item.labels}
    return record


_WORKER: dict[str, Any] = {}


def _init_worker(bundle_path: Path, out_dir: Path) -> None:
    torch.set_num_threads(1)
    _WORKER.update(bundle=load_bundle(bundle_path), out_dir=out_dir)


def _error_row(item: ScreenItem, error: BaseException) -> dict[str, Any]:
    reason = str(error) if isinstance(error, SemiologyError) else f"{type(error).__name__}: {error}"
    return {"seizure_id": item.seizure_id, "subject_id": item.subject_id, "status": "error", "error": reason, "source": item.source,
            "labels": item.labels, "models": {}, "timeline": {}}


def screen_item(item: ScreenItem, bundle: Bundle | None = None, out_dir: Path | None = None) -> dict[str, Any]:
    """The result row of one item: its predictions and timeline figure, or an error row with the reason."""
    bundle = bundle or _WORKER["bundle"]
    out_dir = out_dir or _WORKER["out_dir"]
    try:
        row = screen_record(bundle, load_item(item))
        timeline = cache_path(out_dir / TIMELINE_DIR, item.seizure_id).with_suffix(".png")
        timeline.parent.mkdir(parents=True, exist_ok=True)
        plot_timeline(row, bundle, timeline)
    except Exception as error:  # a bad recording must not stop the batch
        return _error_row(item, error)
    return {**row, "source": item.source, "labels": item.labels, "timeline_png": str(timeline.relative_to(out_dir))}


def _rows(pending: Sequence[ScreenItem], bundle_path: Path, bundle: Bundle, out_dir: Path, workers: int,
          engine: RaySettings | None = None, bar: tqdm | None = None) -> Iterator[tuple[ScreenItem, dict[str, Any]]]:
    """Each pending item with its row: in manifest order here or in the process pool, in completion order on Ray."""
    if engine is not None:
        yield from _rows_on_ray(pending, bundle_path, out_dir, engine, bar)
        return
    if workers <= 1 or len(pending) <= 1:
        for item in pending:
            yield item, screen_item(item, bundle, out_dir)
        return
    with worker_pool(workers, initializer=_init_worker, initargs=(bundle_path, out_dir)) as pool:
        yield from zip(pending, pool.map(screen_item, pending, chunksize=1), strict=True)


def _ray_worker(bundle_path: Path) -> tuple[Bundle, Path]:
    """A Ray worker's state: the bundle, loaded once per worker, and a scratch folder for timeline figures."""
    torch.set_num_threads(1)
    return load_bundle(bundle_path), Path(tempfile.mkdtemp(prefix="semiology-screen-"))


def _ray_task(state: tuple[Bundle, Path], item: ScreenItem) -> tuple[dict[str, Any], bytes]:
    """One item's row and its timeline figure's bytes (the driver writes the figure: workers need no access to the output folder)."""
    bundle, scratch = state
    row = screen_item(item, bundle, scratch)
    if not row.get("timeline_png"):
        return row, b""
    figure = scratch / row["timeline_png"]
    data = figure.read_bytes()
    figure.unlink()
    return row, data


def _rows_on_ray(pending: Sequence[ScreenItem], bundle_path: Path, out_dir: Path, engine: RaySettings,
                 bar: tqdm | None) -> Iterator[tuple[ScreenItem, dict[str, Any]]]:
    if not pending:
        return
    throughput = Throughput()
    with RaySession(engine) as session:
        for outcome in session.map(partial(_ray_worker, Path(bundle_path).resolve()), _ray_task, pending, throughput):
            item = pending[outcome.index]
            if outcome.error:
                yield item, _error_row(item, SemiologyError(f"{item.source}: {outcome.error}"))
            else:
                row, figure = outcome.value
                if figure:
                    with atomic_path(out_dir / row["timeline_png"], suffix=".png") as temporary:
                        temporary.write_bytes(figure)
                yield item, row
            if bar is not None:
                bar.set_postfix_str(throughput.describe(), refresh=False)


def run_screen(
    bundle_path: Path, items: Sequence[ScreenItem], out_dir: Path, workers: int = 1, progress: bool = True, db: str | None = None,
    engine: RaySettings | None = None, device: str = "cpu",
) -> ScreenSummary:
    """Screen `items` with the bundle at `bundle_path` into `out_dir`, resuming from its results file.

    With `engine` (Ray settings) the recordings are screened by Ray workers (each loads the
    bundle once) and their rows are appended here as they finish, in completion order.

    `device` is where the bundle's networks run; a GPU screens in this process only (see `check_screen_device`).

    With `db` (a label store), every window's probabilities of every screened recording are also
    written into the store (`semiology.store.predictions`), replacing what this bundle wrote before.
    """
    check_screen_device(device, workers, engine)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    bundle = load_bundle(bundle_path, device)
    log = ResultsLog(out_dir / RESULTS_FILE)
    bundle_hash = bundle_digest(bundle_path)
    digests = {item.seizure_id: item_digest(item) for item in items}
    reasons = {item.seizure_id: _stale(log.rows.get(item.seizure_id), bundle_hash, digests[item.seizure_id]) for item in items}
    pending = [item for item in items if reasons[item.seizure_id] is not None]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with tqdm(total=len(items), initial=len(items) - len(pending), desc="screening", unit="recording", disable=not progress) as bar:
            for item, row in _rows(pending, Path(bundle_path), bundle, out_dir, workers, engine, bar):
                row = {**row, "inputs": {"bundle": bundle_hash, "item": digests[item.seizure_id]}}
                log.append(row)
                if engine is None:
                    bar.set_postfix_str(f"{row['seizure_id']}: {row['status']}")
                bar.update()
    finally:
        torch.set_num_threads(threads)
    if log.superseded:
        log.compact()
    rows = [log.rows[item.seizure_id] for item in items]
    if db is not None:
        write_screening(db, bundle.meta, {name: model.classes for name, model in bundle.models.items()}, rows)
        write_episode_proposals(db, bundle.meta, {name: model.task for name, model in bundle.models.items()}, rows)
    flat = summary_rows(bundle, rows)
    files = write_summary_tables(flat, out_dir)
    timelines = {row["seizure_id"]: row["timeline_png"] for row in rows if row.get("timeline_png")}
    files["summary.html"] = write_summary_html(bundle, flat, timelines, out_dir)
    n_ok = sum(row["status"] == "ok" for row in rows)
    rescreened = Counter(reason for reason in reasons.values() if reason not in (None, "new"))
    failures = [(row["seizure_id"], row.get("error", "")) for row in rows if row["status"] != "ok"]
    return ScreenSummary(results=log.path, files=files, n_total=len(rows), n_ok=n_ok, n_error=len(rows) - n_ok,
                         n_skipped=len(items) - len(pending), repaired_bytes=log.repaired_bytes, rescreened=dict(sorted(rescreened.items())),
                         failures=failures)


def check_screen_device(device: str, workers: int, engine: RaySettings | None) -> None:
    """Refuse (DeviceError) a device this machine lacks, and a GPU with `workers > 1` or an engine.

    A GPU screens in this process only: forked workers cannot use CUDA once this process has,
    and Ray's workers are started without one. Decided from the device's name once it is known
    to be usable here.
    """
    torch_device(device)
    if str(device) != "cpu" and (workers > 1 or engine is not None):
        asked = f"--workers {workers}" if engine is None else "--engine ray"
        raise DeviceError(f"device {device!r} screens in this process only, so it cannot go with {asked} "
                          f"(forked workers cannot use CUDA once this process has, and Ray's workers get no GPU)")


def bundle_digest(bundle_path: Path) -> str:
    """SHA-256 of a bundle's description and weights: a retrained or edited bundle has another."""
    digest = hashlib.sha256()
    for name in (META_FILE, WEIGHTS_FILE):
        digest.update(str(content_sha256(Path(bundle_path) / name)).encode())
    return digest.hexdigest()


def item_digest(item: ScreenItem) -> str:
    """What a screened row depends on besides the bundle: the item's times and labels and its keypoints file."""
    fields = {"seizure_id": item.seizure_id, "subject_id": item.subject_id, "onset_s": item.onset_s, "offset_s": item.offset_s,
              "generalisation_s": item.generalisation_s, "labels": dict(sorted(item.labels.items()))}
    return inputs_hash(fields, {"keypoints": item.keypoints} if item.keypoints is not None else {})


def _stale(row: dict[str, Any] | None, bundle: str, item: str) -> str | None:
    """Why a recording must be screened (again): `new`, `bundle changed`, `inputs changed`; None when its row stands."""
    if row is None:
        return "new"
    made_by = row.get("inputs") or {}
    if made_by.get("bundle") != bundle:
        return "bundle changed"
    if made_by.get("item") != item:
        return "inputs changed"
    return None
