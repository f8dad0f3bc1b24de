"""Atomic file writes: readers see the old file or the complete new one, never half of it.

The content goes to a temporary file in the target's directory (so the rename stays on one
file system), is flushed and fsynced, gets the permissions a plain `open` would give it, and is
then `os.replace`d over the target; the directory is fsynced last, so the rename itself survives
a crash. With `keep_previous`, the file being replaced is first moved there. If anything fails,
the temporary file is removed and the target is left as it was. The target's directory must
exist.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _plain_permissions(fd: int) -> None:
    """mkstemp creates files private (0600); give the file what `open` would (0666 - umask)."""
    umask = os.umask(0)
    os.umask(umask)
    with contextlib.suppress(OSError):
        os.fchmod(fd, 0o666 & ~umask)


@contextlib.contextmanager
def atomic_file(
    path: str | os.PathLike, mode: str = "w", *, keep_previous: str | os.PathLike | None = None
) -> Iterator[IO[Any]]:
    """A file object to write `path`'s new content to ("w": text in UTF-8, "wb": bytes); the
    content replaces `path` when the block ends without an exception."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_file writes in mode 'w' or 'wb', not {mode!r}")
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        _plain_permissions(fd)
        encoding = "utf-8" if mode == "w" else None
        with os.fdopen(fd, mode, encoding=encoding) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if keep_previous is not None and path.exists():
            os.replace(path, keep_previous)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def atomic_write_text(
    path: str | os.PathLike, text: str, *, keep_previous: str | os.PathLike | None = None
) -> None:
    """Write `text` (UTF-8) to `path` atomically (see the module docstring)."""
    with atomic_file(path, "w", keep_previous=keep_previous) as fh:
        fh.write(text)
