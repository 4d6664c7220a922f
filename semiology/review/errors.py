"""Errors of the review app: each names the file, seizure or setting at fault."""

from __future__ import annotations

from semiology.errors import SemiologyError


class ReviewError(SemiologyError):
    """A review app that cannot start (a missing store, cache or video root, a bad address) or a media file it cannot serve."""
