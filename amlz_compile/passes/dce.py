"""Dead-code elimination: keep only the live instructions (see `liveness`); NO_OPs go too."""

from __future__ import annotations

import numpy as np
from numba import njit

from ..ir.program import Program
from .arrays import compact_arrays, program_of, writable
from .liveness import _liveness


@njit(cache=True)
def dce_arrays(code, data, bounds):
    """(code, data, bounds) without dead rows, and whether any row was removed."""
    keep = _liveness(code, data, bounds)[0]
    if keep.all():
        return code, data, bounds, False
    c, d, nb = compact_arrays(code, data, bounds, keep)
    return c, d, nb, True


def keep_rows(program: Program, mask: np.ndarray) -> Program:
    """The program made of the instructions where `mask` is true, components kept apart."""
    keep = np.asarray(mask, dtype=np.bool_)
    return program_of(*compact_arrays(*writable(program), keep))


def eliminate_dead_code(program: Program) -> Program:
    """Remove every instruction that cannot affect a prediction (or a later random draw)."""
    code, data, bounds, changed = dce_arrays(*writable(program))
    return program_of(code, data, bounds) if changed else program
