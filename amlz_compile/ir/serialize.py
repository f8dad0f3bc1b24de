"""Versioned JSON form of programs, and loading / saving program files (text or JSON).

Document layout (version 1):

    {"format": "amlz-program", "version": 1,
     "columns": ["op", "in1", "in2", "out", "act", "f0", "f1", "f2"],
     "setup": [[56, 0, 0, 2, 0.01, 0.0, 0.0, 0.0], ...], "predict": [...], "learn": [...],
     "meta": {...}}

Each instruction is one row in `columns` order, every field kept (lossless, unused fields too).
Finite floats are JSON numbers (f0..f2 as their shortest float32 decimal); JSON has no NaN or
infinity, so those are strings in the text form's spelling: "inf", "-inf", "nan", "-nan",
"nan(0x<float64 bits>)". `meta` is free-form JSON (a MemorySpec under "memory" and non-finite
floats are encoded so they round-trip; see `text_meta.encode_meta`).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_write_text
from .ops import NUM_OPS
from .parse_error import ParseError
from .program import COMPONENTS, MAX_COMPONENT_INSTRUCTIONS, Program
from .text import format_program, parse_program_meta
from .text_instruction import MAX_ADDRESS
from .text_meta import check_declared_memory, decode_meta, encode_meta
from .text_numbers import format_float32, format_float64, parse_number

FORMAT_TAG = "amlz-program"
VERSION = 1
COLUMNS = ("op", "in1", "in2", "out", "act", "f0", "f1", "f2")


def _encode_float(x: float, *, f32: bool) -> float | str:
    if x == 0.0 or (not f32 and math.isfinite(x)):
        return x  # json writes repr(x): exact for float64, and zeros keep their sign
    text = format_float32(x) if f32 else format_float64(x)
    return float(text) if math.isfinite(x) else text


def _row(code: list[int], data: list[float]) -> list[int | float | str]:
    return [
        *code,
        _encode_float(data[0], f32=False),
        _encode_float(data[1], f32=True),
        _encode_float(data[2], f32=True),
        _encode_float(data[3], f32=True),
    ]


def program_to_dict(program: Program, meta: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The JSON-ready document for `program` (plain dicts, lists, numbers and strings)."""
    doc: dict[str, Any] = {"format": FORMAT_TAG, "version": VERSION, "columns": list(COLUMNS)}
    code, data, bounds = program.code.tolist(), program.data.tolist(), program.bounds.tolist()
    for k, name in enumerate(COMPONENTS):
        doc[name] = [_row(code[i], data[i]) for i in range(bounds[k], bounds[k + 1])]
    doc["meta"] = encode_meta(dict(meta or {}))
    return doc


def _decode_float(value: Any, where: str) -> float:
    if isinstance(value, bool):
        raise ParseError(f"{where}: expected a number, got {value!r}")
    if isinstance(value, (int, float)):
        try:
            return float(value)
        except OverflowError:
            raise ParseError(f"{where}: {value} is too large for a float") from None
    if isinstance(value, str):
        try:
            return parse_number(value)
        except ValueError as exc:
            raise ParseError(f"{where}: {exc}") from None
    raise ParseError(f"{where}: expected a number, got {value!r}")


def _decode_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParseError(f"{where}: expected an integer, got {value!r}")
    return value


def _instruction(row: Any, where: str) -> tuple[list[int], list[float]]:
    if not isinstance(row, list) or len(row) != len(COLUMNS):
        raise ParseError(f"{where}: expected a row of {len(COLUMNS)} values {list(COLUMNS)}")
    ints = [_decode_int(v, f"{where}.{c}") for v, c in zip(row[:4], COLUMNS[:4], strict=True)]
    floats = [_decode_float(v, f"{where}.{c}") for v, c in zip(row[4:], COLUMNS[4:], strict=True)]
    if not 0 <= ints[0] < NUM_OPS:
        raise ParseError(f"{where}: unknown op number {ints[0]} (valid: 0-{NUM_OPS - 1})")
    for name, value in zip(COLUMNS[1:4], ints[1:], strict=True):
        if not 0 <= value <= MAX_ADDRESS:
            raise ParseError(f"{where}: address {name}={value} outside 0..{MAX_ADDRESS}")
    return ints, floats


def read_dict(doc: Any) -> tuple[Program, dict[str, Any]]:
    """Program and metadata from a document; ParseError naming the problem otherwise."""
    if not isinstance(doc, dict):
        raise ParseError(f"expected a JSON object, got {type(doc).__name__}")
    tag = doc.get("format")
    if tag != FORMAT_TAG:
        raise ParseError(f"not an amlz program: format tag is {tag!r}, expected {FORMAT_TAG!r}")
    if "version" not in doc:
        raise ParseError("missing field 'version'")
    version = doc["version"]
    if version != VERSION or isinstance(version, bool):
        raise ParseError(f"unsupported version {version!r} (this build reads version {VERSION})")
    columns = doc.get("columns", list(COLUMNS))
    if not isinstance(columns, list) or columns != list(COLUMNS):
        raise ParseError(f"field 'columns' must be {list(COLUMNS)}, got {columns!r}")
    code: list[list[int]] = []
    data: list[list[float]] = []
    bounds = [0]
    for name in COMPONENTS:
        if name not in doc:
            raise ParseError(f"missing field {name!r}")
        rows = doc[name]
        if not isinstance(rows, list):
            raise ParseError(f"field {name!r} must be a list of instruction rows")
        if len(rows) > MAX_COMPONENT_INSTRUCTIONS:
            raise ParseError(
                f"field {name!r} has {len(rows):,} instructions, more than the "
                f"{MAX_COMPONENT_INSTRUCTIONS:,} a component may have"
            )
        for i, row in enumerate(rows):
            ints, floats = _instruction(row, f"{name}[{i}]")
            code.append(ints)
            data.append(floats)
        bounds.append(len(code))
    meta = doc.get("meta", {})
    if not isinstance(meta, dict):
        raise ParseError(f"field 'meta' must be an object, got {type(meta).__name__}")
    try:
        meta = decode_meta(meta)
    except ValueError as exc:
        raise ParseError(f"meta: {exc}") from None
    program = Program.from_arrays(  # rounds f0..f2 to float32, as Instruction does
        np.array(code, dtype=np.int32).reshape(-1, 4),
        np.array(data, dtype=np.float64).reshape(-1, 4),
        bounds,
    )
    check_declared_memory(program, meta)
    return program, meta


def program_from_dict(doc: Any) -> Program:
    """The program of a document (metadata dropped; see `read_dict`)."""
    return read_dict(doc)[0]


def dumps(program: Program, meta: Mapping[str, Any] | None = None) -> str:
    """JSON text, one instruction row per line."""
    doc = program_to_dict(program, meta)

    def enc(value: Any) -> str:
        return json.dumps(value, allow_nan=False, ensure_ascii=False)

    lines = ["{"]
    items = list(doc.items())
    for k, (key, value) in enumerate(items):
        comma = "," if k < len(items) - 1 else ""
        if key in COMPONENTS and value:
            rows = ",\n".join(f"    {enc(row)}" for row in value)
            lines.append(f"  {enc(key)}: [\n{rows}\n  ]{comma}")
        else:
            lines.append(f"  {enc(key)}: {enc(value)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def loads_meta(text: str) -> tuple[Program, dict[str, Any]]:
    """Program and metadata from JSON text."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"invalid JSON (column {exc.colno}): {exc.msg}", line_no=exc.lineno
        ) from None
    except RecursionError:
        raise ParseError("invalid JSON: nested too deeply") from None
    except ValueError as exc:  # e.g. a number of more digits than Python converts
        raise ParseError(f"invalid JSON: {exc}") from None
    return read_dict(doc)


def loads(text: str) -> Program:
    """Program from JSON text (metadata dropped; see `loads_meta`)."""
    return loads_meta(text)[0]


# -- files -------------------------------------------------------------------------------------


def _is_json(path: Path, text: str) -> bool:
    if path.suffix.lower() == ".json":
        return True
    return text.lstrip().startswith("{")


def load_program_meta(path: str | os.PathLike) -> tuple[Program, dict[str, Any]]:
    """Program and metadata from a file: JSON when the name ends in .json or the content starts
    with `{`, else the text form. Unreadable files and bad content raise ParseError naming the
    file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(f"not UTF-8 text (byte {exc.start})", source=str(p)) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ParseError(f"cannot read program file: {reason}", source=str(p)) from exc
    try:
        return loads_meta(text) if _is_json(p, text) else parse_program_meta(text)
    except ParseError as exc:
        raise exc.located(source=str(p)) from None


def load_program(path: str | os.PathLike) -> Program:
    """Program from a text or JSON file (see `load_program_meta`)."""
    return load_program_meta(path)[0]


def save_program(
    program: Program, path: str | os.PathLike, meta: Mapping[str, Any] | None = None
) -> Path:
    """Write `program` (JSON for a .json name, else the text form) atomically (`atomic`).
    Returns the path written."""
    p = Path(path)
    data = dumps(program, meta) if p.suffix.lower() == ".json" else format_program(program, meta)
    atomic_write_text(p, data)
    return p
