"""Dead-code elimination: keep only the live instructions (see `liveness`); NO_OPs go too."""

from __future__ import annotations

import numpy as np

from ..ir.program import Program
from .kernels import compact_arrays, dce_arrays, writable


def program_of(code: np.ndarray, data: np.ndarray, bounds: np.ndarray) -> Program:
    """Wrap arrays produced by the passes (already valid, float32 data fields) without the
    copies and checks of `Program.from_arrays`, which cost more than the passes themselves."""
    program = Program.__new__(Program)
    program._init_arrays(code, data, bounds)
    return program


def keep_rows(program: Program, mask: np.ndarray) -> Program:
    """The program made of the instructions where `mask` is true, components kept apart."""
    keep = np.asarray(mask, dtype=np.bool_)
    return program_of(*compact_arrays(*writable(program), keep))


def eliminate_dead_code(program: Program) -> Program:
    """Remove every instruction that cannot affect a prediction (or a later random draw)."""
    code, data, bounds, changed = dce_arrays(*writable(program))
    return program_of(code, data, bounds) if changed else program
