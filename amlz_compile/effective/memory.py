"""What the effective-program view knows about memory: never-written addresses (they read 0),
scalars Setup sets once to 1, and per instruction the inputs whose value there is known."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ..ir.ops import FULL_CONSTANT_OP, SCALAR, UNIFORM_SET
from ..ir.program import COMPONENTS, Instruction, Program

RESERVED = {("s", 0), ("s", 1), ("v", 0)}  # written by the harness

#: Known input values by (kind, address), as `known_inputs` gives them per instruction.
Known = Mapping[tuple[str, int], float]


def all_instructions(program: Program) -> list[Instruction]:
    """The instructions of Setup, Predict and Learn, in that order."""
    return [ins for name in COMPONENTS for ins in program.component(name)]


def reads(ins: Instruction) -> list[tuple[str, int]]:
    """The (kind, address) locations an instruction reads, in1 then in2."""
    info = ins.info
    return [(k, a) for k, a in ((info.in1, ins.in1), (info.in2, ins.in2)) if k is not None]


def never_written(program: Program) -> Callable[[tuple[str, int]], bool]:
    """A test of (kind, address): no instruction writes it and the harness does not (it reads
    0.0 in every element all the time)."""
    written = {(ins.info.out, ins.out) for ins in all_instructions(program) if ins.info.out}
    return lambda loc: loc not in written and loc not in RESERVED


def _setup_ones(program: Program) -> set[tuple[str, int]]:
    """Scalars that hold exactly 1.0 wherever they are read: written once, by `s = 1.0` in
    Setup, and not read in Setup before that."""
    writers: dict[tuple[str, int], list[int]] = {}
    flat = all_instructions(program)
    for i, ins in enumerate(flat):
        if ins.info.out:
            writers.setdefault((ins.info.out, ins.out), []).append(i)
    n_setup = program.sizes()[0]
    ones = set()
    for loc, rows in writers.items():
        if len(rows) != 1 or loc in RESERVED or rows[0] >= n_setup:
            continue
        ins = flat[rows[0]]
        if ins.op != FULL_CONSTANT_OP[SCALAR] or ins.act != 1.0:
            continue
        if any(loc in reads(flat[j]) for j in range(rows[0] + 1)):
            continue
        ones.add(loc)
    return ones


def _written_constant(ins: Instruction) -> float | None:
    """The value a constant write stores in every element (None: not a full constant write)."""
    if ins.op == FULL_CONSTANT_OP[SCALAR]:
        return ins.act
    if UNIFORM_SET[ins.op] and not ins.f0 < ins.f1:
        return ins.f0
    return None


def known_inputs(program: Program) -> list[dict[tuple[str, int], float]]:
    """Per instruction (Setup, Predict, Learn order), its inputs whose value there is known:
    never-written memory (0); the last write before it in its component, if a constant write
    (a component is straight-line code); in Setup, what Setup has not written yet (memory is
    wiped before Setup: 0); after Setup, the scalars `_setup_ones` finds (1)."""
    zero, ones = never_written(program), _setup_ones(program)
    result = []
    for name in COMPONENTS:
        last: dict[tuple[str, int], float | None] = {}
        for ins in program.component(name):
            known = {}
            for loc in reads(ins):
                if zero(loc):
                    known[loc] = 0.0
                elif loc in last:
                    if last[loc] is not None:
                        known[loc] = last[loc]
                elif name == "setup":
                    known[loc] = 0.0
                elif loc in ones:
                    known[loc] = 1.0
            result.append(known)
            if ins.info.out:
                last[(ins.info.out, ins.out)] = _written_constant(ins)
    return result
