"""An advisory lock that gives a run directory one writer at a time.

The lock is an `fcntl.flock` on `RUN_DIR/run.lock`, held for the life of the process that runs
the search; the file records the holder's pid and host for the message a second writer gets.
The operating system drops the lock when its holder dies, so a lock left by a killed run is
stale by construction and the next writer simply takes it over. Where `fcntl` is missing, the
recorded pid is checked instead: a lock whose pid is not alive is taken over.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from pathlib import Path

from .errors import RunDirBusyError

LOCK_NAME = "run.lock"

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


class RunLock:
    """The exclusive writer lock of one run directory; `release()` or process exit frees it."""

    def __init__(self, directory: str | os.PathLike) -> None:
        self.path = Path(directory) / LOCK_NAME
        self._fd: int | None = None

    def holder(self) -> dict:
        """What the lock file says about its holder ({} when unreadable)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def acquire(self) -> RunLock:
        """Take the lock or raise RunDirBusyError naming the live holder's pid."""
        if self._fd is not None:
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    self._busy()
            else:
                pid = self.holder().get("pid")
                if isinstance(pid, int) and pid != os.getpid() and _pid_alive(pid):
                    self._busy()
            record = {"pid": os.getpid(), "host": socket.gethostname()}
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    def _busy(self) -> None:
        info = self.holder()
        who = f"process {info.get('pid', '?')}"
        if info.get("host") and info.get("host") != socket.gethostname():
            who += f" on {info['host']}"
        raise RunDirBusyError(
            f"run directory {self.path.parent} is in use by {who}; wait for it to finish or "
            "stop it (Ctrl-C writes a final checkpoint), or use another --out"
        )

    def release(self) -> None:
        """Free the lock (the file stays; an unlocked file means nobody is writing)."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        if fcntl is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None
