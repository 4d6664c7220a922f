"""Row sources: where the list of seizure recordings comes from.

Extraction, snippet extraction, screening and studies read validated `ManifestRow`s from a
`RowSource`, never from a file path directly, so that a second source (the label store) serves
them all without touching them. A path is taken as a manifest file (CSV or YAML).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from semiology.io.manifest import ManifestRow, load_manifest


@runtime_checkable
class RowSource(Protocol):
    """Anything that yields validated rows: one per seizure recording, with paths, subject pseudonym, times and labels."""

    @property
    def name(self) -> str:
        """How messages name the source (a file path, a database and its site)."""
        ...

    def rows(self, label_values: Mapping[str, Sequence[str]] | None = None, check_files: bool = True) -> list[ManifestRow]:
        """Every row, validated; `label_values` restricts label columns to allowed values, `check_files` checks that paths exist."""
        ...


@dataclass(frozen=True)
class ManifestSource:
    """A manifest file (CSV or YAML, see `semiology.io.manifest`)."""

    path: Path

    @property
    def name(self) -> str:
        return str(self.path)

    def rows(self, label_values: Mapping[str, Sequence[str]] | None = None, check_files: bool = True) -> list[ManifestRow]:
        return load_manifest(self.path, label_values=label_values, check_files=check_files)


def as_source(source: RowSource | str | Path) -> RowSource:
    """`source` itself, or the manifest file at a path."""
    if isinstance(source, str | Path):
        return ManifestSource(Path(source))
    if not isinstance(source, RowSource):
        raise TypeError(f"not a row source: {source!r} (give a manifest path or an object with name and rows())")
    return source
