"""The simplification pipeline: fold constants, remove dead code, canonicalise; to a fixed point.

`canonical_key` is the hash of the simplified canonical form: the search's structural dedup
and the JIT's compile cache key. Programs with equal keys behave identically (same predictions,
bit for bit, same random draws).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..ir.program import Program
from .canon import canonical_arrays, canonicalize, key_of_arrays
from .dce import eliminate_dead_code
from .fold import fold_constants

MAX_ROUNDS = 20


@dataclass(frozen=True)
class SimplifyResult:
    """The simplified program, instruction counts before/after and the passes that ran."""

    program: Program
    size_before: int
    size_after: int
    passes_run: tuple[str, ...]


def simplify(program: Program, *, fold: bool = True) -> SimplifyResult:
    """Fold (optional) and remove dead code until nothing changes, then canonicalise.

    The result gives the same predictions as `program` on every task, bit for bit, and fits in
    any memory `program` fits in.
    """
    passes: list[str] = []
    current = program
    for _ in range(MAX_ROUNDS):
        before = current
        if fold:
            current = fold_constants(current)
            passes.append("fold")
        current = eliminate_dead_code(current)
        passes.append("dce")
        if current == before:
            break
    current = canonicalize(current)
    passes.append("canon")
    return SimplifyResult(current, len(program), len(current), tuple(passes))


def simplify_program(program: Program) -> Program:
    """`simplify(program).program`."""
    return simplify(program).program


def canonical_key(program: Program, *, fold: bool = True) -> str:
    """Hex digest identifying the simplified canonical program (equal key => equal behaviour).

    With fold=False only dead-code removal and canonicalisation run (all in numba, faster).
    """
    if fold:
        simple = simplify(program).program
        return key_of_arrays(simple.code, simple.data, simple.bounds)
    return key_of_arrays(*canonical_arrays(program))
