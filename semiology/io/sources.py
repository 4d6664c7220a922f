"""Row sources: where the list of seizure recordings comes from.

Extraction, snippet extraction, screening and studies read validated `ManifestRow`s from a
`RowSource`, never from a file path directly, so that a second source (the label store) serves
them all without touching them. A path is taken as a manifest file (CSV or YAML).

A source hands out subject ids as pseudonyms only: a manifest's subject ids are replaced by
their pseudonym under this site's secret (`semiology.pseudonyms`) as they are read, so no raw
subject id reaches a cache file, a report, a bundle or a screening result; and a manifest with
a column that holds a patient identifier (a name, a birth date, a hospital number) is refused
unless that column is explicitly allowed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from semiology.errors import ManifestError
from semiology.io.manifest import ManifestRow, load_manifest
from semiology.pseudonyms import identifying_columns, normalised_column, subject_pseudonym


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
    """A manifest file (CSV or YAML, see `semiology.io.manifest`), its subject ids pseudonymised as they are read.

    `allow_columns` names label columns to accept although their name says they may identify a
    patient (`semiology.pseudonyms.IDENTIFYING_COLUMNS`), e.g. an `admission_date` that a study
    really needs. `pseudonymised` says the subject ids already are pseudonyms (a manifest
    exported from the label store): they are kept as they are.
    """

    path: Path
    allow_columns: tuple[str, ...] = ()
    pseudonymised: bool = False

    @property
    def name(self) -> str:
        return str(self.path)

    def rows(self, label_values: Mapping[str, Sequence[str]] | None = None, check_files: bool = True) -> list[ManifestRow]:
        rows = load_manifest(self.path, label_values=label_values, check_files=check_files)
        columns = list(dict.fromkeys(column for row in rows for column in row.labels))
        allowed = {normalised_column(column) for column in self.allow_columns}
        refused = [column for column in identifying_columns(columns) if normalised_column(column) not in allowed]
        if refused:
            raise ManifestError(
                f"{self.path}: columns that may identify a patient refused: {', '.join(repr(c) for c in refused)}. Remove them from the manifest "
                "(subject ids are pseudonymised as they are read; names, birth dates and hospital numbers must not be in it), "
                "or accept one you need with --allow-column NAME"
            )
        if self.pseudonymised:
            return rows
        return [dataclasses.replace(row, subject_id=subject_pseudonym(row.subject_id)) for row in rows]


def as_source(source: RowSource | str | Path, allow_columns: Sequence[str] = (), pseudonymised: bool = False) -> RowSource:
    """`source` itself, or the manifest file at a path (see `ManifestSource` for `allow_columns` and `pseudonymised`)."""
    if isinstance(source, str | Path):
        return ManifestSource(Path(source), tuple(allow_columns), pseudonymised)
    if not isinstance(source, RowSource):
        raise TypeError(f"not a row source: {source!r} (give a manifest path or an object with name and rows())")
    return source
