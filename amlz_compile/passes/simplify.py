"""The simplification pipeline: fold constants, remove dead code, canonicalise; to a fixed point.

`canonical_key` is the hash of the simplified canonical form: the search's structural dedup
and the JIT's compile cache key. Programs with equal keys behave identically (same predictions,
bit for bit, same random draws). The whole pipeline runs in one numba call on the flat arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ..ir.program import Program
from .arrays import program_of
from .canon import _canonicalise, key_of_arrays
from .dce import dce_arrays
from .fold import fold_arrays

MAX_ROUNDS = 20

#: Version of the rules `canonical_key` applies: keys made under different versions of the
#: simplifier may differ for the same program (a new exact rewrite merges more programs).
#: 2: redundant writes, random ops with constant results, one name for unwritten addresses.
KEY_VERSION = 2

__all__ = [
    "KEY_VERSION",
    "MAX_ROUNDS",
    "SimplifyResult",
    "canonical_key",
    "canonical_key_arrays",
    "simplify",
    "simplify_program",
]


@njit(cache=True, error_model="numpy")
def simplify_arrays(code, data, bounds, fold):
    """Fold (optional) + DCE rounds until nothing changes, then canonicalise.

    Returns (code, data, bounds, rounds).
    """
    # work on writable copies: every callee then has one compiled specialisation
    code = code.copy()
    data = data.copy()
    bounds = bounds.copy()
    rounds = 0
    while rounds < MAX_ROUNDS:
        rounds += 1
        changed = False
        if fold:
            code, data, changed = fold_arrays(code, data, bounds)
        code, data, bounds, removed = dce_arrays(code, data, bounds)
        if not (changed or removed):
            break
    c, d, b = _canonicalise(code, data, bounds, False)
    return c, d, b, rounds


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
    code, data, bounds, rounds = simplify_arrays(program.code, program.data, program.bounds, fold)
    passes = (("fold", "dce") if fold else ("dce",)) * rounds + ("canon",)
    simple = program_of(code, data, bounds)
    return SimplifyResult(simple, len(program), len(simple), passes)


def simplify_program(program: Program) -> Program:
    """`simplify(program).program`."""
    return simplify(program).program


def canonical_key(program: Program, *, fold: bool = True) -> str:
    """Hex digest (blake2b, 128 bits) of the simplified canonical program.

    Equal keys => identical behaviour. fold=False skips constant folding (fewer merges).
    """
    return canonical_key_arrays(program.code, program.data, program.bounds, fold=fold)


def canonical_key_arrays(
    code: np.ndarray, data: np.ndarray, bounds: np.ndarray, *, fold: bool = True
) -> str:
    """`canonical_key` of flat program arrays (code int32[n,4], data float64[n,4] with float32
    f0..f2, bounds int64[4]), for callers that hold packed programs rather than Programs."""
    code, data, bounds, _ = simplify_arrays(
        np.ascontiguousarray(code, dtype=np.int32),
        np.ascontiguousarray(data, dtype=np.float64),
        np.ascontiguousarray(bounds, dtype=np.int64),
        fold,
    )
    return key_of_arrays(code, data, bounds)
