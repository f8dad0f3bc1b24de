"""Dead-code elimination: keep only the live instructions (see `liveness`); NO_OPs go too."""

from __future__ import annotations

import numpy as np
from numba import njit

from ..ir.program import Program
from .liveness import _liveness


@njit(cache=True)
def compact_arrays(code, data, bounds, keep):
    """The rows where `keep` is true, and the new component bounds."""
    m = 0
    for i in range(code.shape[0]):
        if keep[i]:
            m += 1
    c = np.empty((m, 4), dtype=np.int32)
    d = np.empty((m, 4), dtype=np.float64)
    nb = np.zeros(4, dtype=np.int64)
    k = 0
    for comp in range(3):
        for i in range(bounds[comp], bounds[comp + 1]):
            if keep[i]:
                c[k] = code[i]
                d[k] = data[i]
                k += 1
        nb[comp + 1] = k
    return c, d, nb


@njit(cache=True)
def dce_arrays(code, data, bounds):
    """(code, data, bounds) without dead rows, and whether any row was removed."""
    keep = _liveness(code, data, bounds)[0]
    if keep.all():
        return code, data, bounds, False
    c, d, nb = compact_arrays(code, data, bounds, keep)
    return c, d, nb, True


def program_of(code: np.ndarray, data: np.ndarray, bounds: np.ndarray) -> Program:
    """Wrap arrays produced by the passes (already valid, float32 data fields) without the
    copies and checks of `Program.from_arrays`, which cost more than the passes themselves."""
    program = Program.__new__(Program)
    program._init_arrays(code, data, bounds)
    return program


def keep_rows(program: Program, mask: np.ndarray) -> Program:
    """The program made of the instructions where `mask` is true, components kept apart."""
    keep = np.asarray(mask, dtype=np.bool_)
    return program_of(*compact_arrays(program.code, program.data, program.bounds, keep))


def eliminate_dead_code(program: Program) -> Program:
    """Remove every instruction that cannot affect a prediction (or a later random draw)."""
    code, data, bounds, changed = dce_arrays(program.code, program.data, program.bounds)
    return program_of(code, data, bounds) if changed else program
