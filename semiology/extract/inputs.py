"""Recordings given as files, without a manifest: a row source for `tools/extract_keypoints.py VIDEO [VIDEO …]`.

Extraction needs frames, not clinical times: onset and offset belong to the studies that read
the cache (their manifest gives them), so a row made here has none (NaN) and no labels. Each
video file, image folder or single image becomes one recording whose seizure id is its file
name without the extension (`-2`, `-3`, … when two inputs share a name), so the cache file and
the summary row are found by the name the user gave the file; subject ids are `unassigned`
(a study's manifest assigns subjects). Name files by a pseudonym, never by a patient's name or
hospital number: the seizure id is written into the cache and the summary.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from semiology.errors import ManifestError
from semiology.io.manifest import ManifestRow

UNASSIGNED_SUBJECT = "unassigned"


@dataclass(frozen=True)
class RecordingFiles:
    """A `RowSource` of recording paths (video files, image folders, single images), each extracted as it is.

    `kind` is the modality the frames are read as (`rgb` or `ir`; None: IR for grey or 16-bit
    frames, RGB for colour ones); `fps` overrides the container's rate and is needed for image
    folders (a single image is one frame at 1 frame/s unless given).
    """

    paths: tuple[Path, ...]
    fps: float | None = None
    kind: str | None = None

    @property
    def name(self) -> str:
        return f"{len(self.paths)} recording file(s)"

    def rows(self, label_values: Mapping[str, Sequence[str]] | None = None, check_files: bool = True) -> list[ManifestRow]:
        """One row per path, in the order given; every missing path is listed in one error."""
        if not self.paths:
            raise ManifestError("no recordings given: name video files, image folders or images (or a --manifest)")
        missing = [str(path) for path in self.paths if not Path(path).exists()]
        if check_files and missing:
            raise ManifestError("recordings not found: " + ", ".join(missing))
        if self.fps is not None and not (math.isfinite(self.fps) and self.fps > 0):
            raise ManifestError(f"fps must be a positive number, got {self.fps}")
        rows, taken = [], set()
        for number, path in enumerate(self.paths, start=1):
            path = Path(path).resolve()
            stem = path.stem if path.is_file() else path.name
            seizure_id, copy = stem, 1
            while seizure_id in taken:
                copy += 1
                seizure_id = f"{stem}-{copy}"
            taken.add(seizure_id)
            modality = "ir" if self.kind == "ir" else "rgb"
            rows.append(ManifestRow(seizure_id, UNASSIGNED_SUBJECT, {modality: path}, self.fps, math.nan, math.nan, row_number=number))
        return rows
