"""One instruction in the text form (`s3 = s0 - s1`): print and parse, round-trip exact.

Each instruction is rendered from the `text` template of its op in `ops.py` (this module holds
no op facts of its own: the parser is built from the same table, and ops that share a template
are told apart by the kinds of their addresses). Numbers print as `text_numbers` says.

Fields an op does not use (say `in2` of `abs`, or `act` of a sum) do not show in the template;
when they are not zero, a suffix keeps them: `s3 = abs(s1) with in2=5, act=0.5`.

Parsing also accepts the reference's own printouts (`NoOp()`), a trailing `#` comment and any
whitespace around symbols.
"""

from __future__ import annotations

import math
import re
import string
from dataclasses import dataclass
from typing import Any

from .ops import OPS, OpInfo
from .parse_error import ParseError
from .program import Instruction
from .text_numbers import format_float32, format_float64, parse_number

MAX_ADDRESS = 65535  # addresses are uint16 in the reference
ADDRESS_FIELDS = ("in1", "in2", "out")
DATA_FIELDS = ("act", "f0", "f1", "f2")


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


def format_row(row: Row) -> str:
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
    return format_row((*code, *data))


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


def strip_comment(line: str) -> str:
    return line.split("#", 1)[0].strip()


def parse_instruction(line: str) -> Instruction:
    """Parse one instruction line (indentation and a trailing `# comment` allowed).

    Raises ParseError naming the line and the problem: unknown form, an address of the wrong kind
    for the op, a negative or too large address, a malformed number.
    """
    return Instruction(*parse_row(line))


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


def parse_row(line: str) -> Row:
    body = strip_comment(line)
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
