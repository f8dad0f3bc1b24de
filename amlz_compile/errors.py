"""The one base class of every error a user can cause, and the errors that belong to no layer.

Every problem a user can cause (a bad file, option, config, task, size or run directory) raises
a subclass of `AmlzError`; the CLI prints it as one `error: ...` line and exits 1, and anything
else is reported as an internal error. The family classes also derive from the built-in class
their callers used to catch (`ValueError`, `RuntimeError`), so existing `except ValueError`
code keeps working; catch `AmlzError` to catch exactly the user's errors.
"""

from __future__ import annotations


class AmlzError(Exception):
    """A problem the user can fix (bad input, bad file, too large, busy run directory)."""


class UsageError(AmlzError, ValueError):
    """A command line or API call whose arguments cannot be used together or at all."""


class ResourceLimitError(AmlzError, MemoryError):
    """Work that would allocate more memory than the configured cap (the estimate is named)."""


class RunDirBusyError(AmlzError, RuntimeError):
    """A run directory that another live process is writing (its pid is named)."""
