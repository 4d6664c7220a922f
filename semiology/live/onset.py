"""Training records for an onset detector: each annotated recording as its rest and its seizure.

A live alarm asks "is this patient seizing now?", which the per-seizure labels of a study
(dystonia yes/no, ...) do not answer. Any annotated recording answers it: its pre-ictal
stretch is the patient at rest, its ictal stretch the seizure. `onset_records` turns each
recording into those two records (same frames and subject, other clinical times and a label
of the `ictal` task), so that a study with `windows.baseline: causal` and `data: {source:
cache}` trains a bundle that `tools/live.py` can run. Both records keep the whole recording's
frames: a causal window reads only frames before its end, so a rest window never sees the
seizure that follows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

from semiology.io.cache import save_record
from semiology.records import SeizureRecord

ONSET_TASK = "ictal"
ONSET_CLASSES = ("rest", "seizure")


def onset_records(record: SeizureRecord) -> list[SeizureRecord]:
    """The record's pre-ictal stretch as a `rest` record and its ictal stretch as a `seizure` record (none when it has no pre-ictal frames)."""
    seizure = dataclasses.replace(record, seizure_id=f"{record.seizure_id}-ictal", generalisation_s=None, labels={ONSET_TASK: ONSET_CLASSES[1]})
    if record.onset_s <= 0:
        return [seizure]
    rest = dataclasses.replace(record, seizure_id=f"{record.seizure_id}-rest", onset_s=0.0, offset_s=record.onset_s, generalisation_s=None,
                               labels={ONSET_TASK: ONSET_CLASSES[0]})
    return [rest, seizure]


def write_onset_cache(records: Iterable[SeizureRecord], folder: Path, tag: str = "onset-records") -> Path:
    """Save every record's rest and seizure records as cache files in `folder` (for `data: {source: cache, cache_dir: folder}`)."""
    folder = Path(folder)
    for record in records:
        for part in onset_records(record):
            save_record(part, folder / f"{part.seizure_id}.npz", tag)
    return folder
