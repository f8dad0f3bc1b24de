"""The flat arrays the passes work on, and the way to and from a Program.

Programs are the flat arrays of `ir.program.Program`: code int32[n,4] [op, in1, in2, out], data
float64[n,4] [act, f0, f1, f2], bounds int64[4] (Setup, Predict and Learn are the rows
bounds[c]..bounds[c+1]-1). The passes' compiled code takes writable arrays (`writable`): numba
compiles a separate specialisation for read-only arrays, and compile time matters.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..ir.program import Program


def writable(program) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Writable copies of a Program's (code, data, bounds) (Program arrays are read-only)."""
    return np.array(program.code), np.array(program.data), np.array(program.bounds)


def program_of(code: np.ndarray, data: np.ndarray, bounds: np.ndarray) -> Program:
    """Wrap arrays produced by the passes (already valid, float32 data fields) without the
    copies and checks of `Program.from_arrays`, which cost more than the passes themselves."""
    program = Program.__new__(Program)
    program._init_arrays(code, data, bounds)
    return program


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
