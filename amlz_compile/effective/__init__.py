"""The effective program: what an evolved program does on given tasks, for reading.

APPROXIMATE, unlike `passes.simplify` (exact: same predictions bit for bit, on every task). The
view starts from the exact passes (constant folding and dead-code removal, keeping the
program's own address names and order) and then, on the tasks given:

1. inputs known to be 0 or 1 (`known_inputs`: never-written memory, the constant written last
   in the same component, Setup's not yet written memory) are shown as the literal, and
   results they determine for finite values become constants: `x * 0`, `dot(x, 0)`, `0 / x`
   -> 0; self-cancelling arithmetic too: `x - x` -> 0, `x / x` -> 1 (none of these hold for
   inf or NaN: `s2 - s2` is NaN when s2 is inf);
2. copies (`x + 0`, `x - 0`, `x * 1`, `x / 1`, `max(x, x)`) print as `y = x`; in the program
   they become `y = x + z` (z never written: the IR has no copy op), later reads of y in the
   component read x instead, and `x = x` goes;
3. instructions whose removal leaves the fitness within `tolerance` of the ORIGINAL program's
   are dropped, greedily in program order (each removal followed by the exact passes again),
   until no single removal passes.

Every rewrite of steps 1-2 is kept only if the fitness stays within the tolerance too, so the
effective program's fitness on the given tasks (and seed) is within `tolerance` of the
original's; on other tasks it may differ. The view stays out of `simplify`, canonical keys and
checkpoints, which remain exact (docs/semantics.md#the-effective-program).

Modules: `memory` (what is known about memory: never-written addresses, known inputs),
`rules` (the approximate rewrite rules), `render` (the reading form of instructions and
programs), `steps` (exact passes, rewrites and drops on a working program), `view`
(`effective_program`, `EffectiveView` and the report text).
"""

from .memory import known_inputs, never_written
from .render import render_instruction, render_program
from .rules import copy_source, rewrite
from .view import (
    APPROXIMATE_NOTE,
    DEFAULT_TOLERANCE,
    Change,
    EffectiveView,
    describe_tasks,
    effective_program,
)

__all__ = [
    "APPROXIMATE_NOTE",
    "DEFAULT_TOLERANCE",
    "Change",
    "EffectiveView",
    "copy_source",
    "describe_tasks",
    "effective_program",
    "known_inputs",
    "never_written",
    "render_instruction",
    "render_program",
    "rewrite",
]
