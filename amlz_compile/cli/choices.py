"""The fixed choices of command-line options (Typer shows them in --help and checks them)."""

from __future__ import annotations

from enum import StrEnum


class BackendChoice(StrEnum):
    auto = "auto"
    interp = "interp"
    jit = "jit"


class ShowFormat(StrEnum):
    text = "text"
    python = "python"
    json = "json"


class Flow(StrEnum):
    reference = "reference"
    fast = "fast"
