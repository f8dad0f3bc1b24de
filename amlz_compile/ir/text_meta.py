"""The metadata a program file carries: `# key: <json>` header lines of the text form (the `meta`
object of the JSON form), encoded so that non-finite floats and a `MemorySpec` round-trip, and
a declared memory checked against the program."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from .parse_error import ParseError
from .program import MemorySpec, Program, ProgramError
from .text_numbers import format_float64, parse_number

_MEMORY_KEYS = ("scalars", "vectors", "matrices", "features")


def encode_meta(value: Any) -> Any:
    """Make metadata JSON-safe: non-finite floats become {"$float": text}, a MemorySpec under the
    key "memory" becomes a dict, numpy scalars become Python numbers, tuples become lists."""
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"metadata keys must be strings, got {key!r}")
            if key == "memory" and isinstance(item, MemorySpec):
                out[key] = {k: getattr(item, k) for k in _MEMORY_KEYS}
            else:
                out[key] = encode_meta(item)
        return out
    if isinstance(value, MemorySpec):
        return {k: getattr(value, k) for k in _MEMORY_KEYS}
    if isinstance(value, (list, tuple)):
        return [encode_meta(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return {"$float": format_float64(value)}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ValueError(f"metadata value of type {type(value).__name__} cannot be stored: {value!r}")


def decode_meta(value: Any) -> Any:
    """Inverse of `encode_meta`."""
    if isinstance(value, dict):
        if set(value) == {"$float"} and isinstance(value["$float"], str):
            return parse_number(value["$float"])
        out = {}
        for key, item in value.items():
            if key == "memory" and isinstance(item, dict) and tuple(item) == _MEMORY_KEYS:
                try:
                    out[key] = MemorySpec(**item)
                    continue
                except (TypeError, ProgramError):
                    pass
            out[key] = decode_meta(item)
        return out
    if isinstance(value, list):
        return [decode_meta(v) for v in value]
    return value


_META_KEY = re.compile(r"[A-Za-z_][\w.\-]*")
META_LINE = re.compile(r"#\s*([A-Za-z_][\w.\-]*)\s*:\s?(.*)")


def format_header(meta: Mapping[str, Any] | None) -> list[str]:
    if not meta:
        return []
    encoded = encode_meta(dict(meta))
    lines = []
    for key, value in encoded.items():
        if not _META_KEY.fullmatch(key):
            raise ValueError(f"metadata key {key!r} is not a name (letters, digits, _ . -)")
        lines.append(f"# {key}: {json.dumps(value, allow_nan=False, ensure_ascii=False)}")
    return lines


def header_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, or nested too deeply: kept as text
        return raw.strip()


def check_declared_memory(program: Program, meta: Mapping[str, Any]) -> None:
    """ParseError when the metadata declares a memory (`memory`: scalars, vectors, matrices,
    features) that the program addresses beyond, or a `memory` that is not such a declaration."""
    declared = meta.get("memory")
    if declared is None:
        return
    if not isinstance(declared, MemorySpec):
        raise ParseError(
            f"metadata 'memory' must give {', '.join(_MEMORY_KEYS)} as counts, got {declared!r:.80}"
        )
    try:
        program.check_fits(declared)
    except ProgramError as exc:
        raise ParseError(
            f"the program does not fit the memory its metadata declares: {exc}"
        ) from None
