"""The memory cap: estimates of what an evaluation or a task list will allocate, checked before
anything is allocated, so an oversized request fails with its size instead of exhausting RAM.

The cap is, in order of precedence: `set_memory_limit` (the CLI's `--memory-limit`), the
environment variable `AMLZ_MEMORY_LIMIT`, or `DEFAULT_FRACTION` of the machine's physical
memory. Sizes are bytes, or a number with a unit: `512M`, `8G`, `8GiB`, `1.5T`.
"""

from __future__ import annotations

import os
import re

from .errors import ResourceLimitError, UsageError

ENV_VAR = "AMLZ_MEMORY_LIMIT"
DEFAULT_FRACTION = 0.5  # of physical memory: room for the OS and the rest of the process
BYTES_PER_VALUE = 8  # float64
MIN_LIMIT = 1 << 20  # a smaller cap refuses everything: 1 MiB

_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_override: int | None = None


def parse_size(text: str | int | float) -> int:
    """Bytes from `123`, `1.5e9`, `512M`, `8G`, `8GiB`, `8gb` (binary units); > 0."""
    if isinstance(text, bool):
        raise UsageError(f"a memory size is a number of bytes, got {text!r}")
    if isinstance(text, int | float):
        value = float(text)
    else:
        match = re.fullmatch(r"\s*([0-9.eE+]+)\s*([kKmMgGtT]?)(?:i?[bB])?\s*", str(text))
        if match is None:
            raise UsageError(f"cannot read memory size {text!r} (examples: 512M, 8G, 8GiB)")
        try:
            value = float(match.group(1)) * _UNITS[match.group(2).lower()]
        except ValueError:
            raise UsageError(f"cannot read memory size {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise UsageError(f"a memory size must be a positive finite number of bytes, got {text!r}")
    if value < MIN_LIMIT:
        raise UsageError(f"a memory size must be at least 1M (1 MiB), got {text!r}")
    return int(value)


def physical_memory_bytes() -> int:
    """Physical memory of this machine (4 GiB when the OS does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 4 << 30


def set_memory_limit(value: str | int | None) -> None:
    """Set the process's cap (None: back to the environment variable or the default)."""
    global _override
    _override = None if value is None else parse_size(value)


def memory_limit() -> int:
    """The cap in bytes now in force."""
    if _override is not None:
        return _override
    env = os.environ.get(ENV_VAR)
    if env:
        try:
            return parse_size(env)
        except UsageError as exc:
            raise UsageError(f"{ENV_VAR}: {exc}") from None
    return int(DEFAULT_FRACTION * physical_memory_bytes())


def human_bytes(n: float) -> str:
    """`1.5 GiB`-style size for messages."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def check_allocation(nbytes: float, what: str) -> None:
    """Raise ResourceLimitError when `what` would need more than the cap (before allocating)."""
    limit = memory_limit()
    if nbytes > limit:
        raise ResourceLimitError(
            f"{what} needs about {human_bytes(nbytes)}, over the memory limit of "
            f"{human_bytes(limit)} (raise it with `amlz --memory-limit 16G ...` or {ENV_VAR}=16G)"
        )


def memory_bytes(scalars: int, vectors: int, matrices: int, features: int) -> int:
    """Bytes of one program memory: scalars, F-vectors and FxF matrices of float64."""
    return BYTES_PER_VALUE * (scalars + vectors * features + matrices * features * features)
