"""The readable text form of programs: print and parse, round-trip exact.

The form is the reference's printout: `def Setup():`, `def Predict():`, `def Learn():`, each
followed by its instructions indented two spaces. One instruction's form (`s3 = s0 - s1`, built
from the op table) is `text_instruction`'s, its numbers `text_numbers`' (parsing gives back the
same bits), and the `# key: <json>` comment lines before the first `def`, which carry metadata
(see `parse_program_meta`), are `text_meta`'s.

Parsing also accepts blank lines, `#` comments and the reference's own printouts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from .ops import OPS
from .parse_error import ParseError
from .program import COMPONENTS, MAX_COMPONENT_INSTRUCTIONS, MemorySpec, Program
from .text_instruction import (
    ADDRESS_FIELDS,
    Row,
    format_instruction,
    format_row,
    parse_instruction,
    parse_row,
    strip_comment,
)
from .text_meta import META_LINE, check_declared_memory, decode_meta, format_header, header_value

# The instruction-level names are part of the text form's API (`from amlz_compile.ir.text import
# format_instruction` keeps working); they live in `text_instruction`.
__all__ = [
    "SECTION_NAMES",
    "ParseError",
    "format_instruction",
    "format_program",
    "parse_instruction",
    "parse_program",
    "parse_program_meta",
]

SECTION_NAMES = {"setup": "Setup", "predict": "Predict", "learn": "Learn"}

_DEF = re.compile(r"def\s+(\w+)\s*\(\s*\)\s*:")


def format_program(program: Program, meta: Mapping[str, Any] | None = None) -> str:
    """The whole program in the reference's form; `meta` goes into `# key: <json>` header lines."""
    lines = format_header(meta)
    code, data = program.code.tolist(), program.data.tolist()
    bounds = program.bounds.tolist()
    for k, name in enumerate(COMPONENTS):
        lines.append(f"def {SECTION_NAMES[name]}():")
        lines.extend(
            f"  {format_row((*code[i], *data[i]))}" for i in range(bounds[k], bounds[k + 1])
        )
    return "\n".join(lines) + "\n"


def parse_program(text: str, *, memory: MemorySpec | None = None) -> Program:
    """Parse the text form (see the module doc); with `memory`, also check every address fits."""
    return parse_program_meta(text, memory=memory)[0]


def parse_program_meta(
    text: str, *, memory: MemorySpec | None = None
) -> tuple[Program, dict[str, Any]]:
    """Parse the text form and its header metadata (`# key: <json>` lines before the first def).

    Raises ParseError (with line number and line) for: empty text, instructions before the first
    `def`, unknown / repeated / out-of-order sections, a missing section, bad instructions, and,
    when `memory` is given, addresses outside it.
    """
    if not isinstance(text, str):
        raise ParseError(f"program text must be a str, got {type(text).__name__}")
    lines = text.splitlines()
    meta: dict[str, Any] = {}
    parts: dict[str, list[Row]] = {}
    current: str | None = None
    expected = list(COMPONENTS)
    for no, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            m = META_LINE.fullmatch(stripped)
            if current is None and m:
                meta[m.group(1)] = header_value(m.group(2))
            continue
        body = strip_comment(raw)
        d = _DEF.fullmatch(body)
        if d or body.startswith("def "):
            name = d.group(1).lower() if d else None
            if name not in COMPONENTS:
                raise ParseError(
                    "unknown section (expected def Setup():, def Predict(): or def Learn():)",
                    line_no=no,
                    line=raw,
                )
            if name in parts:
                raise ParseError(
                    f"section {SECTION_NAMES[name]} appears twice", line_no=no, line=raw
                )
            if name != expected[0]:
                raise ParseError(
                    f"section {SECTION_NAMES[name]} out of order (expected def "
                    f"{SECTION_NAMES[expected[0]]}(): next; the order is Setup, Predict, Learn)",
                    line_no=no,
                    line=raw,
                )
            expected.pop(0)
            current = name
            parts[name] = []
            continue
        if current is None:
            raise ParseError(
                "instruction outside a section (expected def Setup(): first)", line_no=no, line=raw
            )
        if not raw[:1].isspace():
            raise ParseError(
                f"instruction not indented under def {SECTION_NAMES[current]}():",
                line_no=no,
                line=raw,
            )
        try:
            row = parse_row(raw)
        except ParseError as exc:
            raise exc.located(line_no=no) from None
        if memory is not None:
            _check_fits(row, memory, no, raw)
        if len(parts[current]) >= MAX_COMPONENT_INSTRUCTIONS:
            raise ParseError(
                f"def {SECTION_NAMES[current]}() has more than {MAX_COMPONENT_INSTRUCTIONS:,} "
                "instructions",
                line_no=no,
                line=raw,
            )
        parts[current].append(row)
    if not parts and not any(line.strip() for line in lines):
        raise ParseError("empty program text (expected def Setup():)", line_no=1)
    if expected:
        last_no = max(len(lines), 1)
        last = lines[-1] if lines else ""
        missing = ", ".join(f"def {SECTION_NAMES[n]}():" for n in expected)
        raise ParseError(
            f"text ends before {missing} (truncated or missing section)", line_no=last_no, line=last
        )
    try:
        decoded = decode_meta(meta)
    except ValueError as exc:
        raise ParseError(f"bad header metadata: {exc}", line_no=1) from None
    program = _program_from_rows([parts[name] for name in COMPONENTS])
    check_declared_memory(program, decoded)
    return program, decoded


def _program_from_rows(parts: list[list[Row]]) -> Program:
    rows = [row for part in parts for row in part]
    code = np.array([r[:4] for r in rows], dtype=np.int32).reshape(-1, 4)
    data = np.array([r[4:] for r in rows], dtype=np.float64).reshape(-1, 4)
    sizes = [len(part) for part in parts]
    bounds = [0, sizes[0], sizes[0] + sizes[1], sum(sizes)]
    return Program.from_arrays(code, data, bounds)  # rounds f0..f2 to float32 as Instruction does


def _check_fits(row: Row, memory: MemorySpec, no: int, raw: str) -> None:
    info = OPS[row[0]]
    for field, addr in zip(ADDRESS_FIELDS, row[1:4], strict=True):
        kind = getattr(info, field)
        if kind is not None and addr >= memory.count(kind):
            raise ParseError(
                f"address {kind}{addr} is out of range for the memory "
                f"({memory.count(kind)} {kind}-addresses)",
                line_no=no,
                line=raw,
            )
