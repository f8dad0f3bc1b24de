"""The steps of the effective-program view on a working program: the exact passes (keeping
address names and order), the approximate rewrites kept while the fitness holds, and the greedy
drop of instructions, each step noted against the original row it changed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from ..ir.ops import Op
from ..ir.program import Instruction, MemorySpec, Program
from ..passes import fold_constants, live_mask
from .memory import all_instructions, known_inputs, never_written
from .rules import as_copy, free_zero, propagations, rewrite, self_copy

DEAD = "dead code"
REDUNDANT = "redundant write"
FOLDED = "constant (exact fold)"
NO_EFFECT = "no effect on fitness"


@dataclass(frozen=True)
class Work:
    """The current program, the original row each of its rows comes from, and the steps that
    changed each original row (by original row number)."""

    program: Program
    origin: tuple[int, ...]
    history: Mapping[int, tuple[str, ...]]

    def noted(self, notes: Mapping[int, str]) -> dict[int, tuple[str, ...]]:
        """The history plus one note per current row (`notes` by current row)."""
        history = dict(self.history)
        for row, note in notes.items():
            key = self.origin[row]
            history[key] = history.get(key, ()) + (note,)
        return history


def _keep(program: Program, mask: np.ndarray) -> Program:
    b = program.bounds.tolist()
    sizes = [int(mask[b[k] : b[k + 1]].sum()) for k in range(3)]
    return Program.from_arrays(program.code[mask], program.data[mask], np.cumsum([0, *sizes]))


def exact(work: Work) -> Work:
    """The exact passes (constant folding, dead-code removal) to a fixed point, keeping address
    names and order (no canonical renaming), with what they did to each row."""
    program, origin, history = work.program, work.origin, dict(work.history)
    while True:
        folded = fold_constants(program)
        notes = {}
        if folded is not program:
            changed = np.any(folded.code != program.code, axis=1) | np.any(
                folded.data.view(np.int64) != program.data.view(np.int64), axis=1
            )
            for r in np.flatnonzero(changed).tolist():
                notes[r] = REDUNDANT if folded.code[r, 0] == Op.NO_OP else FOLDED
        mask = live_mask(folded)
        for r in np.flatnonzero(~mask).tolist():
            if r not in notes:
                notes[r] = "no-op" if folded.code[r, 0] == Op.NO_OP else DEAD
        history = Work(program, origin, history).noted(notes)
        if folded is program and mask.all():
            return Work(program, origin, history)
        program = _keep(folded, mask)
        origin = tuple(o for o, m in zip(origin, mask.tolist(), strict=True) if m)


def _replaced(work: Work, rewrites: Mapping[int, tuple[Instruction | None, str]]) -> Work:
    """Rows replaced by their rewrites (None: removed), then the exact passes."""
    code, data = work.program.code.copy(), work.program.data.copy()
    keep = np.ones(len(work.program), dtype=bool)
    for row, (ins, _) in rewrites.items():
        if ins is None:
            keep[row] = False
        else:
            code[row], data[row] = ins.row()
    program = _keep(Program.from_arrays(code, data, work.program.bounds), keep)
    history = work.noted({row: reason for row, (_, reason) in rewrites.items()})
    origin = tuple(o for o, k in zip(work.origin, keep.tolist(), strict=True) if k)
    return exact(Work(program, origin, history))


def _without(work: Work, row: int) -> Work:
    return _replaced(work, {row: (None, NO_EFFECT)})


def algebra(work: Work, ok: Callable[[Program], bool], memory: MemorySpec) -> Work:
    """Apply the approximate rewrites whose result keeps the fitness: all at once if that does,
    else one at a time in program order (a rejected one is not tried again)."""
    rejected: set[tuple[int, str]] = set()
    for _ in range(4 * len(work.program) + 8):  # each kept step shrinks or simplifies
        known = known_inputs(work.program)
        zero, free = never_written(work.program), free_zero(work.program, memory)
        propagate = propagations(work.program, zero)
        todo: dict[int, tuple[Instruction | None, str]] = {}
        for row, ins in enumerate(all_instructions(work.program)):
            rules = (rewrite(ins, known[row]), self_copy(ins, known[row]), propagate.get(row),
                     as_copy(ins, known[row], zero, free))  # fmt: skip
            for found in rules:
                if found is not None and (work.origin[row], found[1]) not in rejected:
                    todo[row] = found
                    break
        if not todo:
            return work
        candidate = _replaced(work, todo)
        if ok(candidate.program):
            work = candidate
            continue
        for row in sorted(todo):
            candidate = _replaced(work, {row: todo[row]})
            if ok(candidate.program):
                work = candidate
                break
            rejected.add((work.origin[row], todo[row][1]))
        else:
            return work
    return work


def drop(work: Work, ok: Callable[[Program], bool]) -> Work:
    """Greedy: remove each instruction in program order, keep a removal that keeps the fitness,
    repeat the passes until one removes nothing."""
    changed = True
    while changed:
        changed = False
        row = 0
        while row < len(work.program):
            here = work.origin[row]
            candidate = _without(work, row)
            if ok(candidate.program):
                work, changed = candidate, True
                row = sum(1 for o in work.origin if o < here)
            else:
                row += 1
    return work
