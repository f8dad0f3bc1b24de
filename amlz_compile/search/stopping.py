"""Stopping a run from outside: `request_stop` (the CLI's signal handlers call it) makes every
run of this process stop at its next epoch boundary with a checkpoint of its exact state and
raise `SearchInterrupted`."""

from __future__ import annotations

import threading

INTERRUPTED = "interrupted"

_stop_requested = threading.Event()


class Stop(Exception):
    """Raised inside the run loop when a stop rule fires; `reason` says which."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


class SearchInterrupted(KeyboardInterrupt):
    """A run stopped by `request_stop` (the CLI's SIGINT, SIGTERM, SIGHUP) after writing a
    checkpoint of its exact state (`checkpoint`, None without a checkpoint directory)."""

    def __init__(self, checkpoint: str | None, *, wrote: bool = True) -> None:
        super().__init__(checkpoint)
        self.checkpoint = checkpoint
        self.wrote = wrote  # False: `checkpoint` is an earlier one that resumes exactly


def request_stop() -> None:
    """Ask the runs of this process to stop at their next epoch boundary: each writes a final
    checkpoint (resume continues exactly) and raises SearchInterrupted. Safe in signal handlers."""
    _stop_requested.set()


def clear_stop_request() -> None:
    """Forget a pending `request_stop` (a new run starts fresh)."""
    _stop_requested.clear()


def stop_requested() -> bool:
    """Whether `request_stop` was called since the last `clear_stop_request`."""
    return _stop_requested.is_set()
