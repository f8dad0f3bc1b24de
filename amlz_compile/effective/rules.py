"""The effective-program view's approximate rewrite rules, each true for finite inputs only:
`x - x` -> 0, `x / x` -> 1, `x * 0` and `0 / x` -> 0; copies (`x + 0`, `x * 1`, ...) as
`y = x + z` with z never written, reads of such a copy propagated to its source, and `x = x`
dropped. The view keeps a rule's result only if the fitness stays within its tolerance."""

from __future__ import annotations

from ..ir.ops import (
    DIFF_OPS,
    DIVISION_OPS,
    FULL_CONSTANT_OP,
    MINMAX_OPS,
    PRODUCT_OPS,
    SCALAR,
    SUM_OP_OF_KIND,
    SUM_OPS,
    ZERO_ABSORBING_OPS,
)
from ..ir.program import ADDRESS_LIMIT, COMPONENTS, Instruction, MemorySpec, Program
from .memory import Known, never_written, reads

COPY = "copy: x + 0 = x, x * 1 = x (approx.)"
SELF_COPY = "no-op: x = x + 0, x = x * 1 (approx.)"
PROPAGATED = "copy propagated (approx.)"


def copy_source(ins: Instruction, known: Known) -> tuple[str, int] | None:
    """The location an instruction copies, given its known inputs: `x + 0`, `x - 0`, `x * 1`,
    `x / 1`, `min(x, x)` (None when it is not such a copy)."""
    info = ins.info
    locs = reads(ins)
    if len(locs) != 2:
        return None
    a, b = (known.get(loc) for loc in locs)
    op = info.op
    source = None
    if op in SUM_OPS:
        source = locs[0] if b == 0.0 else locs[1] if a == 0.0 else None
    elif op in DIFF_OPS or op in DIVISION_OPS:
        source = locs[0] if b == (0.0 if op in DIFF_OPS else 1.0) else None
    elif op in PRODUCT_OPS:
        source = locs[1] if a == 1.0 else locs[0] if b == 1.0 else None
    elif op in MINMAX_OPS and locs[0] == locs[1]:
        source = locs[0]
    return source if source is not None and source[0] == info.out else None


def _const(kind: str, out: int, value: float) -> Instruction:
    if kind == SCALAR:
        return Instruction(FULL_CONSTANT_OP[kind], out=out, act=value)
    return Instruction(FULL_CONSTANT_OP[kind], out=out, f0=value, f1=value)


def rewrite(ins: Instruction, known: Known) -> tuple[Instruction, str] | None:
    """The approximate constant an instruction computes for finite inputs (and the rule), or
    None: `x - x` -> 0, `x / x` -> 1, a product with never-written memory or `0 / x` -> 0."""
    info = ins.info
    op = info.op
    locs = reads(ins)
    if op in DIFF_OPS and ins.in1 == ins.in2:
        return _const(info.out, ins.out, 0.0), "x - x = 0 (approx.)"
    if op in DIVISION_OPS and ins.in1 == ins.in2:
        return _const(info.out, ins.out, 1.0), "x / x = 1 (approx.)"
    if op in ZERO_ABSORBING_OPS and any(known.get(loc) == 0.0 for loc in locs):
        return _const(info.out, ins.out, 0.0), "x * 0 = 0 (approx.)"
    if op in DIVISION_OPS and known.get(locs[0]) == 0.0:
        return _const(info.out, ins.out, 0.0), "0 / x = 0 (approx.)"
    return None


def self_copy(ins: Instruction, known: Known) -> tuple[None, str] | None:
    """(None, rule) for an instruction that renders as `x = x` (`x = x + 0`, `x = x * 1`, ...:
    it changes nothing, a -0.0 apart), else None."""
    if copy_source(ins, known) == (ins.info.out, ins.out):
        return None, SELF_COPY
    return None


def free_zero(program: Program, memory: MemorySpec) -> dict[str, int]:
    """Per kind, the first never-written address inside `memory` (if any)."""
    zero = never_written(program)
    free = {}
    for kind in ("s", "v", "m"):
        for a in range(min(memory.count(kind), ADDRESS_LIMIT)):
            if zero((kind, a)):
                free[kind] = a
                break
    return free


def as_copy(ins: Instruction, known: Known, zero, free) -> tuple[Instruction, str] | None:
    """A copy whose no-op operand is a written constant (`x * 1`, `x + 0` with the 0 written
    earlier) as `x + z`, z never-written: the constant's writer may then be dead."""
    source = copy_source(ins, known)
    kind = ins.info.out
    if source is None or kind not in free:
        return None
    if ins.info.op in SUM_OPS and any(zero(loc) for loc in reads(ins)):
        return None  # already in this form
    return Instruction(SUM_OP_OF_KIND[kind], in1=source[1], in2=free[kind], out=ins.out), COPY


def propagations(program: Program, zero) -> dict[int, tuple[Instruction, str]]:
    """Reads of y after `y = x + z` (z never-written) in the same component, x unchanged in
    between, read x instead (then the copy may be dead)."""
    found = {}
    row = 0
    for name in COMPONENTS:
        copies: dict[tuple[str, int], tuple[str, int]] = {}
        for ins in program.component(name):
            fields = {}
            for field in ("in1", "in2"):
                kind = getattr(ins.info, field)
                loc = (kind, getattr(ins, field))
                if kind is not None and loc in copies:
                    fields[field] = copies[loc][1]
            if fields:
                new = Instruction(ins.op, fields.get("in1", ins.in1), fields.get("in2", ins.in2),
                                  ins.out, ins.act, ins.f0, ins.f1, ins.f2)  # fmt: skip
                found[row] = (new, PROPAGATED)
            out = (ins.info.out, ins.out)
            if ins.info.out:
                copies = {y: x for y, x in copies.items() if out not in (x, y)}
                locs = reads(ins)
                if ins.info.op in SUM_OPS and len(locs) == 2:
                    z = [loc for loc in locs if zero(loc)]
                    x = [loc for loc in locs if not zero(loc)]
                    if len(z) == 1 and len(x) == 1 and x[0] != out:
                        copies[out] = x[0]
            row += 1
    return found
