"""One way to write a file so that a reader never sees half of it.

Results are written to a temporary name in the destination folder and moved into place with
`os.replace` (atomic on one file system): an interrupted run leaves the old file or the new
one, never a torn one, and never a stray temporary file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | Path, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary path beside `path` to write to; moved onto `path` when the block ends without error.

    `suffix` ends the temporary name (writers that choose a format by extension, such as
    matplotlib's `savefig`, need the real one, e.g. `.png`). On any exception, including
    KeyboardInterrupt, the temporary file is removed and `path` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
