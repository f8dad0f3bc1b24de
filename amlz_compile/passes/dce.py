"""Dead-code elimination: keep only the live instructions (see `liveness`); NO_OPs go too."""

from __future__ import annotations

import numpy as np

from ..ir.program import Program
from .liveness import live_mask


def keep_rows(program: Program, mask: np.ndarray) -> Program:
    """The program made of the instructions where `mask` is true, components kept apart."""
    mask = np.asarray(mask, dtype=bool)
    b = program.bounds
    counts = [int(mask[b[k] : b[k + 1]].sum()) for k in range(3)]
    bounds = np.array([0, counts[0], counts[0] + counts[1], sum(counts)], dtype=np.int64)
    return Program.from_arrays(program.code[mask], program.data[mask], bounds)


def eliminate_dead_code(program: Program) -> Program:
    """Remove every instruction that cannot affect a prediction (or a later random draw)."""
    mask = live_mask(program)
    if mask.all():
        return program
    return keep_rows(program, mask)
