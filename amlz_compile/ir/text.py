"""The readable text form of programs (`s3 = s0 - s1`): print and parse, round-trip exact.

The form is the reference's printout: `def Setup():`, `def Predict():`, `def Learn():`, each
followed by its instructions indented two spaces, each instruction rendered from the `text`
template of its op in `ops.py` (this module holds no op facts of its own: the parser is built from
the same table, and ops that share a template are told apart by the kinds of their addresses).

Numbers print so that parsing gives back the same bits:

* `act` (float64) prints as Python's shortest repr (`0.01`, `1e-10`, `-0.0`);
* `f0..f2` hold float32 values and print as the shortest float32 decimal (`0.1`, not
  `0.10000000149011612`), in the same notation;
* `inf`, `-inf`, `nan` (the default quiet NaN) and `-nan` (the same with its sign bit set) print as
  words; any other NaN prints its float64 bit pattern, `nan(0x7ff8000000000001)`.

Fields an op does not use (say `in2` of `abs`, or `act` of a sum) do not show in the template;
when they are not zero, a suffix keeps them: `s3 = abs(s1) with in2=5, act=0.5`.

Parsing also accepts the reference's own printouts (6 significant digits, `NoOp()`, `-nan`),
blank lines, `#` comments and any whitespace around symbols. Comment lines of the form
`# key: <json>` before the first `def` carry metadata (see `parse_program_meta`).
"""

from __future__ import annotations

import json
import math
import re
import string
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import AmlzError
from .ops import OPS, OpInfo
from .program import (
    COMPONENTS,
    MAX_COMPONENT_INSTRUCTIONS,
    Instruction,
    MemorySpec,
    Program,
    ProgramError,
)

MAX_ADDRESS = 65535  # addresses are uint16 in the reference
SECTION_NAMES = {"setup": "Setup", "predict": "Predict", "learn": "Learn"}
ADDRESS_FIELDS = ("in1", "in2", "out")
DATA_FIELDS = ("act", "f0", "f1", "f2")


class ParseError(AmlzError, ValueError):
    """Text or JSON that is not a valid program; the message names the place and the problem.

    `problem` is the bare problem, `line_no` (1-based) and `line` locate it when known, and
    `source` names the file.
    """

    def __init__(
        self,
        problem: str,
        *,
        line_no: int | None = None,
        line: str | None = None,
        source: str | None = None,
    ) -> None:
        self.problem, self.line_no, self.line, self.source = problem, line_no, line, source
        msg = problem
        if line is not None:
            msg = f"{msg}: {line.strip()!r}"
        if line_no is not None:
            msg = f"line {line_no}: {msg}"
        if source is not None:
            msg = f"{source}: {msg}"
        super().__init__(msg)

    def located(self, *, line_no: int | None = None, source: str | None = None) -> ParseError:
        """A copy with a line number and/or source added (existing ones are kept)."""
        return ParseError(
            self.problem,
            line_no=self.line_no if self.line_no is not None else line_no,
            line=self.line,
            source=self.source if self.source is not None else source,
        )


# -- numbers ---------------------------------------------------------------------------------

_QNAN_BITS = 0x7FF8000000000000
_NEG_QNAN_BITS = 0xFFF8000000000000
_NUMBER = re.compile(
    r"[+-]?(?:nan\(0x[0-9a-f]{16}\)|nan|inf(?:inity)?|(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)",
    re.IGNORECASE,
)


def _bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def _from_bits(bits: int) -> float:
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


def _format_nan(x: float) -> str:
    bits = _bits(x)
    if bits == _QNAN_BITS:
        return "nan"
    if bits == _NEG_QNAN_BITS:
        return "-nan"
    return f"nan(0x{bits:016x})"


def format_float64(x: float) -> str:
    """Shortest text that parses back to exactly `x` (Python repr; NaNs as described above)."""
    x = float(x)
    return _format_nan(x) if math.isnan(x) else repr(x)


def _f32_bits_equal(a: float, b: float) -> bool:
    return np.float32(a).tobytes() == np.float32(b).tobytes()


def format_float32(x: float) -> str:
    """Shortest text that parses back to the float32 value `x` (same notation as float64)."""
    x = float(x)
    if math.isnan(x):
        return _format_nan(x)
    text = repr(float(str(np.float32(x))))  # float32-shortest digits, Python's notation
    return text if _f32_bits_equal(float(text), x) else repr(x)


def parse_number(token: str) -> float:
    """Parse one number of the text form (also the C++ printout); ValueError when malformed."""
    tok = token.strip()
    if not _NUMBER.fullmatch(tok):
        raise ValueError(f"malformed number {token!r}")
    low = tok.lower()
    sign = -1.0 if low.startswith("-") else 1.0
    body = low.lstrip("+-")
    if body.startswith("nan("):
        value = _from_bits(int(body[4:-1], 16))
        if not math.isnan(value):
            raise ValueError(f"nan(...) bit pattern {body[4:-1]} is not a NaN")
        return -value if sign < 0 else value
    if body == "nan":
        return _from_bits(_NEG_QNAN_BITS if sign < 0 else _QNAN_BITS)
    return float(tok)


# -- metadata in header comments -------------------------------------------------------------

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
_META_LINE = re.compile(r"#\s*([A-Za-z_][\w.\-]*)\s*:\s?(.*)")


def _format_header(meta: Mapping[str, Any] | None) -> list[str]:
    if not meta:
        return []
    encoded = encode_meta(dict(meta))
    lines = []
    for key, value in encoded.items():
        if not _META_KEY.fullmatch(key):
            raise ValueError(f"metadata key {key!r} is not a name (letters, digits, _ . -)")
        lines.append(f"# {key}: {json.dumps(value, allow_nan=False, ensure_ascii=False)}")
    return lines


def _header_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, or nested too deeply: kept as text
        return raw.strip()


# -- instruction forms, built from the op table ---------------------------------------------

_TOKEN = r"(?:[+-]?nan\(0x[0-9a-fA-F]*\)|[^\s,()\[\]=]+)"  # nan(0x..) is one token


@dataclass(frozen=True)
class _Form:
    """One distinct template: its regex and the ops (by address kinds) that print with it."""

    template: str
    regex: re.Pattern
    fields: tuple[str, ...]
    ops: dict[tuple[str | None, str | None, str | None], OpInfo]


def _literal_regex(text: str) -> str:
    out = []
    for ch in text:
        if ch.isspace():
            if not out or out[-1] != r"\s*":
                out.append(r"\s*")
        elif ch in ",()[]=":
            if not out or out[-1] != r"\s*":
                out.append(r"\s*")
            out.append(re.escape(ch))
            out.append(r"\s*")
        else:
            out.append(re.escape(ch))
    return "".join(out)


def _form_regex(template: str) -> tuple[str, tuple[str, ...]]:
    parts, fields = [], []
    for literal, field, _, _ in string.Formatter().parse(template):
        parts.append(_literal_regex(literal))
        if field is not None:
            parts.append(f"(?P<{field}>{_TOKEN})")
            fields.append(field)
    return "".join(parts).replace(r"\s*\s*", r"\s*"), tuple(fields)


def _build_forms() -> tuple[_Form, ...]:
    by_template: dict[str, _Form] = {}
    for info in OPS:
        if info.text not in by_template:
            pattern, fields = _form_regex(info.text)
            by_template[info.text] = _Form(info.text, re.compile(pattern), fields, {})
        form = by_template[info.text]
        kinds = (info.out, info.in1, info.in2)
        if kinds in form.ops:
            raise AssertionError(
                f"ops {form.ops[kinds].op.value} and {info.op.value} share the template "
                f"{info.text!r} and the address kinds {kinds}: the text form is ambiguous"
            )
        form.ops[kinds] = info
    # Most literal text first, so `s3 = 1 / s2` meets the reciprocal before the division.
    forms = sorted(by_template.values(), key=lambda f: -len(re.sub(r"{\w+}", "", f.template)))
    return tuple(forms)


_FORMS = _build_forms()


def _dispatch_key(text: str) -> str:
    """A cheap key that narrows a line (or a template) down to a few forms."""
    head, eq, rest = text.partition("=")
    if not eq:
        return text.split("(", 1)[0].strip()  # NoOp()
    if "[" in head:
        return "[]"
    m = _CALL.match(rest)
    return m.group(1) if m else "="


_CALL = re.compile(r"\s*([A-Za-z_]\w*)\s*\(")
_BY_KEY: dict[str, tuple[_Form, ...]] = {}
for _form in _FORMS:
    _key = _dispatch_key(_form.template)
    _BY_KEY[_key] = _BY_KEY.get(_key, ()) + (_form,)


def _signature(info: OpInfo) -> str:
    """The template with kind letters for addresses: `vC = sA * vB`."""
    names = {"out": "C", "in1": "A", "in2": "B"}
    subst = {f: f"{getattr(info, f)}{names[f]}" for f in ADDRESS_FIELDS if getattr(info, f)}
    subst.update({f: f"<{f}>" for f in DATA_FIELDS})
    return info.text.format(**subst)


# -- instructions ------------------------------------------------------------------------------


Row = tuple[int, int, int, int, float, float, float, float]


def _unused_fields(row: Row) -> list[tuple[str, str]]:
    info = OPS[row[0]]
    extra = []
    for field, value in zip(ADDRESS_FIELDS, row[1:4], strict=True):
        if value != 0 and getattr(info, field) is None:
            extra.append((field, str(value)))
    for field, value in zip(DATA_FIELDS, row[4:], strict=True):
        if field not in info.data and (value != 0.0 or math.copysign(1.0, value) < 0):
            fmt = format_float64 if field == "act" else format_float32
            extra.append((field, fmt(value)))
    return extra


def _format_row(row: Row) -> str:
    info = OPS[row[0]]
    values: dict[str, str] = {}
    for field, value in zip(ADDRESS_FIELDS, row[1:4], strict=True):
        kind = getattr(info, field)
        if kind is not None:
            values[field] = f"{kind}{value}"
    for field, value in zip(DATA_FIELDS, row[4:], strict=True):
        if field in info.data:
            values[field] = (format_float64 if field == "act" else format_float32)(value)
    text = info.text.format(**values)
    extra = _unused_fields(row)
    if extra:
        text += " with " + ", ".join(f"{k}={v}" for k, v in extra)
    return text


def format_instruction(ins: Instruction) -> str:
    """One instruction in the text form, without indentation, e.g. `s3 = s0 - s1`."""
    code, data = ins.row()
    return _format_row((*code, *data))


_ADDRESS = re.compile(r"([svm])(\d+)")
_WITH = re.compile(r"^(.*?)\s+with\s+(.*)$")


def _address_number(digits: str) -> int:
    """The value of an address's digits, or MAX_ADDRESS + 1 for any longer number (so a
    100,000-digit address is refused as too large, not converted)."""
    significant = digits.lstrip("0") or "0"
    return int(significant) if len(significant) <= len(str(MAX_ADDRESS)) else MAX_ADDRESS + 1


def _parse_address(token: str) -> tuple[str, int] | str:
    """(kind, index), or a problem description."""
    m = _ADDRESS.fullmatch(token)
    if m:
        index = _address_number(m.group(2))
        if index > MAX_ADDRESS:
            return f"address {token} is outside 0..{MAX_ADDRESS}"
        return m.group(1), index
    if re.fullmatch(r"[svm]-\d+", token):
        return f"negative address {token}"
    if re.fullmatch(r"[A-Za-z]+\d+", token):
        return f"unknown address kind in {token!r} (addresses are s<n>, v<n> or m<n>)"
    return f"expected an address like s3, v0 or m1, got {token!r}"


def _match_form(form: _Form, body: str) -> tuple[dict[str, Any], list[str]] | None:
    """Fields and problems if `body` has the shape of `form`; None when the shape differs."""
    m = form.regex.fullmatch(body)
    if m is None:
        return None
    fields: dict[str, Any] = {}
    problems: list[str] = []
    for name in form.fields:
        token = m.group(name)
        if name in ADDRESS_FIELDS:
            parsed = _parse_address(token)
            if isinstance(parsed, str):
                problems.append(parsed)
            else:
                fields[name] = parsed
        else:
            try:
                fields[name] = parse_number(token)
            except ValueError as exc:
                problems.append(str(exc))
    return fields, problems


def _parse_extra(text: str) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for item in text.split(","):
        key, eq, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not eq or key not in ADDRESS_FIELDS + DATA_FIELDS:
            raise ParseError(
                f"bad 'with' field {item.strip()!r} (expected in1=, in2=, out=, act=, f0=, "
                "f1= or f2=)"
            )
        if key in extra:
            raise ParseError(f"field {key} given twice after 'with'")
        if key in ADDRESS_FIELDS:
            if not re.fullmatch(r"\d+", value) or _address_number(value) > MAX_ADDRESS:
                raise ParseError(
                    f"bad address {key}={value} (expected an integer 0..{MAX_ADDRESS})"
                )
            extra[key] = _address_number(value)
        else:
            try:
                extra[key] = parse_number(value)
            except ValueError as exc:
                raise ParseError(str(exc)) from None
    return extra


def _strip_comment(line: str) -> str:
    return line.split("#", 1)[0].strip()


def parse_instruction(line: str) -> Instruction:
    """Parse one instruction line (indentation and a trailing `# comment` allowed).

    Raises ParseError naming the line and the problem: unknown form, an address of the wrong kind
    for the op, a negative or too large address, a malformed number.
    """
    return Instruction(*_parse_row(line))


def _fast_fields(body: str) -> tuple[_Form, dict[str, Any]] | None:
    """The common case: a form of matching shape whose tokens are all valid."""
    for form in _BY_KEY.get(_dispatch_key(body), ()):
        m = form.regex.fullmatch(body)
        if m is None:
            continue
        fields: dict[str, Any] = {}
        for name in form.fields:
            token = m.group(name)
            if name in ADDRESS_FIELDS:
                a = _ADDRESS.fullmatch(token)
                if a is None or _address_number(a.group(2)) > MAX_ADDRESS:
                    break
                fields[name] = (a.group(1), _address_number(a.group(2)))
            else:
                try:
                    fields[name] = parse_number(token)
                except ValueError:
                    break
        else:
            return form, fields
    return None


def _parse_row(line: str) -> Row:
    body = _strip_comment(line)
    if not body:
        raise ParseError("empty instruction", line=line)
    extra: dict[str, Any] = {}
    if " with" in body or "\twith" in body:
        m = _WITH.match(body)
        if m:
            body = m.group(1).strip()
            try:
                extra = _parse_extra(m.group(2))
            except ParseError as exc:
                raise ParseError(exc.problem, line=line) from None
    fast = _fast_fields(body)
    if fast is not None:
        form, fields = fast
        kinds = tuple(fields[f][0] if f in fields else None for f in ("out", "in1", "in2"))
        info = form.ops.get(kinds)
        if info is not None:
            return _build(info, fields, extra, line)
    best: tuple[int, str] | None = None
    for form in _FORMS:
        matched = _match_form(form, body)
        if matched is None:
            continue
        fields, problems = matched
        if problems:
            if best is None or len(problems) + 1 < best[0]:
                best = (len(problems) + 1, "; ".join(problems))
            continue
        kinds = tuple(fields[f][0] if f in fields else None for f in ("out", "in1", "in2"))
        info = form.ops.get(kinds)
        if info is None:
            best = (0, _kind_problem(form, kinds))
            continue
        return _build(info, fields, extra, line)
    problem = best[1] if best else "unknown instruction (no op prints in this form)"
    raise ParseError(problem, line=line)


def _kind_problem(form: _Form, kinds: tuple[str | None, ...]) -> str:
    out, in1, in2 = kinds
    names = {"out": out, "in1": in1, "in2": in2}
    given = form.template.format(
        **{f: f"{k}" for f, k in names.items() if k is not None},
        **{f: f"<{f}>" for f in DATA_FIELDS},
    )
    valid = "; ".join(
        f"{_signature(info)} (op {info.op.value} {info.name})" for info in form.ops.values()
    )
    hint = ""
    if form.fields[1:3] == ("in1", "in2") and (out, in2, in1) in form.ops:
        hint = " (operands swapped?)"
    return f"no op of this form takes the address kinds {given!r}{hint}; valid: {valid}"


def _build(info: OpInfo, fields: dict[str, Any], extra: dict[str, Any], line: str) -> Row:
    values: dict[str, Any] = {"in1": 0, "in2": 0, "out": 0, "act": 0.0, "f0": 0.0, "f1": 0.0}
    values["f2"] = 0.0
    for name, value in fields.items():
        values[name] = value[1] if name in ADDRESS_FIELDS else value
    for name, value in extra.items():
        if name in fields:
            raise ParseError(f"field {name} is part of the instruction, not of 'with'", line=line)
        values[name] = value
    return (
        info.op.value,
        values["in1"],
        values["in2"],
        values["out"],
        values["act"],
        values["f0"],
        values["f1"],
        values["f2"],
    )


# -- programs ----------------------------------------------------------------------------------

_DEF = re.compile(r"def\s+(\w+)\s*\(\s*\)\s*:")


def format_program(program: Program, meta: Mapping[str, Any] | None = None) -> str:
    """The whole program in the reference's form; `meta` goes into `# key: <json>` header lines."""
    lines = _format_header(meta)
    code, data = program.code.tolist(), program.data.tolist()
    bounds = program.bounds.tolist()
    for k, name in enumerate(COMPONENTS):
        lines.append(f"def {SECTION_NAMES[name]}():")
        lines.extend(
            f"  {_format_row((*code[i], *data[i]))}" for i in range(bounds[k], bounds[k + 1])
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
            m = _META_LINE.fullmatch(stripped)
            if current is None and m:
                meta[m.group(1)] = _header_value(m.group(2))
            continue
        body = _strip_comment(raw)
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
            row = _parse_row(raw)
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
