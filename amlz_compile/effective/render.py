"""The effective-program view's reading form of instructions and programs: inputs known to be
0 or 1 as the literal, constant vector/matrix writes as `full(...)`, copies as `y = x` (not
parseable as a program)."""

from __future__ import annotations

from ..ir.ops import DATA_OP, DIFF_OPS, FULL_CONSTANT_OP, SCALAR, UNIFORM_SET
from ..ir.program import COMPONENTS, Instruction, Program
from ..ir.text import SECTION_NAMES
from ..ir.text_instruction import format_instruction
from .memory import Known, known_inputs
from .rules import copy_source

_SHAPE = {"v": "n_features", "m": "(n_features, n_features)"}


def render_instruction(
    ins: Instruction,
    known: Known | None = None,
) -> str:
    """The readable form of one instruction: inputs known (`known_inputs`) to be 0 or 1 as the
    literal, a constant vector/matrix write as `full(...)`, copies (`copy_source`) as `y = x`."""
    info = ins.info
    out = f"{info.out}{ins.out}" if info.out else ""
    if info.out in _SHAPE and UNIFORM_SET[info.op] and not ins.f0 < ins.f1:
        return f"{out} = full({_SHAPE[info.out]}, {_number(ins.f0)})"
    if DATA_OP[ins.op] or info.arity == 0:
        return format_instruction(ins)
    names = {}
    for field in ("in1", "in2"):
        kind = getattr(info, field)
        if kind is not None:
            loc = (kind, getattr(ins, field))
            value = (known or {}).get(loc)
            names[field] = "0" if value == 0.0 else "1" if value == 1.0 else f"{kind}{loc[1]}"
    source = copy_source(ins, known or {})
    if source is not None:
        return f"{out} = {source[0]}{source[1]}"
    if info.op in DIFF_OPS and names["in1"] == "0":
        return f"{out} = -{names['in2']}"
    return info.text.format(out=out, **names)


def _number(value: float) -> str:
    const = Instruction(FULL_CONSTANT_OP[SCALAR], act=float(value))
    return format_instruction(const).split(" = ", 1)[1]


def render_program(program: Program) -> list[str]:
    """The rendered lines of a whole program (`def Setup():` and indented instructions)."""
    known = iter(known_inputs(program))
    lines = []
    for name in COMPONENTS:
        lines.append(f"def {SECTION_NAMES[name]}():")
        lines.extend(f"  {render_instruction(ins, next(known))}" for ins in program.component(name))
    return lines
