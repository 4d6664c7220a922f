"""Errors of the label store: each names the store, file, row, column or record at fault."""

from __future__ import annotations

from semiology.errors import SemiologyError


class StoreError(SemiologyError):
    """A store that cannot be used (not created, an older schema), or a change it refuses: an unknown
    seizure or user, a value outside the vocabulary, a role that may not make the change."""


class IdentifierError(StoreError):
    """Input that would put a patient identifier into the store: identifying columns, or a subject
    identifier repeated in a seizure id, a path or a label. Messages name columns and rows, never the values."""


class EventsFileError(StoreError):
    """A BIDS events file (or its index) that cannot be imported, with every bad row and column listed."""
