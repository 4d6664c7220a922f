"""User-facing errors: a bad config, manifest or cache that a person can fix from the message.

The command-line tools catch `SemiologyError`, print its message without a traceback and exit
with status 2, so every message names the file and the key, row or column at fault. Programming
errors (a wrong argument type in library code) stay ordinary Python exceptions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self


class SemiologyError(Exception):
    """Base of the errors a user caused and can fix; `problems` holds one line per problem."""

    def __init__(self, message: str, problems: Sequence[str] | None = None) -> None:
        super().__init__(message)
        self.problems: tuple[str, ...] = tuple(problems) if problems is not None else (message,)

    @classmethod
    def from_problems(cls, problems: Sequence[str]) -> Self:
        """One error listing every problem, one per line, so a user fixes them all in one pass."""
        return cls("\n".join(problems), problems)


class ConfigError(SemiologyError):
    """A config file or override with an unknown key, a wrong type or a missing value."""


class ManifestError(SemiologyError):
    """A manifest with bad rows: missing values, duplicate ids, unknown labels, missing files."""


class CacheError(SemiologyError):
    """A cache file that cannot be read: missing, truncated or corrupt."""


class StaleCacheError(CacheError):
    """A readable cache made by another cache version or another config: re-extract it."""


class VideoError(SemiologyError):
    """A recording that cannot be read: missing, truncated or corrupt, no frames, an unsupported
    codec, a depth stream that is not 16-bit, or an image sequence without a frame rate."""


class CheckpointError(SemiologyError):
    """Pretrained weights that cannot be used: a missing file, a wrong checksum, wrong keys or shapes."""


class DataWarning(UserWarning):
    """Data a run went past rather than stop for (a recording where nobody was found): named in the message, never silent."""
