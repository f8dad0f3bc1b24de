"""Liveness: which instructions can influence an observable output (s1 after every Predict).

The analysis follows the evaluation control flow of docs/semantics.md#training-and-validation:

    Setup ; ( [v0, s0 <- harness] Predict ; [s1 read; maybe s1 <- sigmoid(s1)] ;
              [v0, s0 <- harness] Learn )*  interleaved with validation ( [v0, s0] Predict )*

Memory persists across everything, so after Setup comes Predict; after Predict comes Learn,
Predict (next validation example, or training after a validation pass) or the end; after Learn
comes Predict or the end. The harness fully writes v0 and s0 before every Predict and Learn, so
those two addresses are never live across a component boundary. s1 is observed after every
Predict, so it is live at Predict's exit.

It is a per-address backward dataflow ("strong" liveness: only live instructions make their
inputs live) iterated to the least fixed point over the Predict/Learn loop. Scalars, vectors
and matrices are separate locations, plus one pseudo-location for the random generator:

* a random op (the uniform- and gaussian-set ops, except a uniform-set with not f0 < f1,
  which draws nothing, see `ir.ops.uses_uniform_constant`) reads and writes the generator
  state. It is live when its output is live OR the generator state is live after it, i.e. a
  live random op may run later (removing or reordering it would shift that op's draws). So
  simplified programs draw exactly the same numbers and produce bit-identical predictions.
* VECTOR_CONST_SET and MATRIX_CONST_SET write one element and keep the others: they
  read their output address too, so they never kill it. Every other op fully writes its output.

The analysis itself is `ir.liveness.live_rows` (numba, on the flat program arrays), the one
shared with the search's dead-code removal and the interpreter; this module is its Python face.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..ir.liveness import address_span, live_rows, liveness_buffers, rng_location
from ..ir.program import Program
from .arrays import writable


@njit(cache=True)
def _liveness(code, data, bounds):
    """(live rows, live-in of Setup, of Predict, of Learn, span) of a program (flat arrays,
    `arrays`). Locations are numbered kind * span + address (`ir.liveness.location`), span
    being one more than the largest address used; the generator is `rng_location(span)`."""
    span = address_span(code)
    flags, in_p, in_l, cur = liveness_buffers(code.shape[0], span)
    live_rows(code, data, bounds, span, flags, in_p, in_l, cur)
    return flags[: code.shape[0]], cur, in_p, in_l, span


def live_mask_arrays(code: np.ndarray, data: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Boolean mask of live instructions for flat program arrays (NO_OPs are never live)."""
    arrays = (np.array(code, np.int32), np.array(data, np.float64), np.array(bounds, np.int64))
    return _liveness(*arrays)[0]


def live_mask(program: Program) -> np.ndarray:
    """Boolean mask (one entry per instruction, Setup then Predict then Learn) of live ones."""
    return _liveness(*writable(program))[0]


def _decode(mask: np.ndarray, span: int) -> frozenset[str]:
    names = []
    for loc in np.flatnonzero(mask):
        kind, addr = divmod(int(loc), span)
        names.append("rng" if loc == rng_location(span) else f"{'svm'[kind]}{addr}")
    return frozenset(names)


def live_in(program: Program) -> dict[str, frozenset[str]]:
    """Locations live on entry to each component, e.g. {"predict": {"s2", "v0", "rng"}, ...}.

    For diagnostics and tests; "rng" is the generator pseudo-location.
    """
    _, setup_in, in_p, in_l, span = _liveness(*writable(program))
    return {
        "setup": _decode(setup_in, span),
        "predict": _decode(in_p, span),
        "learn": _decode(in_l, span),
    }
