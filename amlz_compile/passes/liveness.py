"""Liveness: which instructions can influence an observable output (s1 after every Predict).

The analysis follows the evaluation control flow of the semantics reference (1.2-1.3, 3.1):

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

* a random op (59-64, except a uniform-set with not f0 < f1, which draws nothing, see
  `ir.ops.uses_uniform_constant`) reads and writes the generator state. It is live when its
  output is live OR the generator state is live after it, i.e. a live random op may run later
  (removing or reordering it would shift that op's draws). So simplified programs draw exactly
  the same numbers and produce bit-identical predictions.
* VECTOR_CONST_SET (57) and MATRIX_CONST_SET (58) write one element and keep the others: they
  read their output address too, so they never kill it. Every other op fully writes its output.

The core runs in numba on the flat program arrays (code int32[n,4], data float64[n,4],
bounds int64[4]); the op facts come from `ir.ops.OPS` as small lookup tables.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..ir.ops import MATRIX, OPS, SCALAR, VECTOR
from ..ir.program import Program

KIND_CODE = {SCALAR: 0, VECTOR: 1, MATRIX: 2, None: -1}
RNG_KIND = 3  # the generator pseudo-location lives at kind 3, address 0

#: per op: kind code of in1, in2, out (-1 = unused)
IN1_KIND = np.array([KIND_CODE[i.in1] for i in OPS], dtype=np.int64)
IN2_KIND = np.array([KIND_CODE[i.in2] for i in OPS], dtype=np.int64)
OUT_KIND = np.array([KIND_CODE[i.out] for i in OPS], dtype=np.int64)
#: per op: 1 when the op draws from the generator (before the uniform-constant exception)
RANDOM = np.array([int(i.random) for i in OPS], dtype=np.int64)
#: per op: 1 for the const-set ops that write a single element (57, 58)
PARTIAL = np.zeros(len(OPS), dtype=np.int64)
PARTIAL[57] = PARTIAL[58] = 1
#: per op: 1 for the uniform-set ops that are constants when not f0 < f1
UNIFORM = np.zeros(len(OPS), dtype=np.int64)
UNIFORM[59] = UNIFORM[60] = UNIFORM[61] = 1
for _t in (IN1_KIND, IN2_KIND, OUT_KIND, RANDOM, PARTIAL, UNIFORM):
    _t.flags.writeable = False


@njit(cache=True, inline="always")
def draws(code, data, i) -> bool:
    """True when instruction i consumes the generator stream."""
    op = code[i, 0]
    # uniform-set with not f0 < f1 writes the constant f0 and draws nothing
    return RANDOM[op] == 1 and (UNIFORM[op] == 0 or data[i, 1] < data[i, 2])


@njit(cache=True)
def address_span(code) -> int:
    """One more than the largest address any instruction uses (at least 2: s0, s1)."""
    span = 2
    for i in range(code.shape[0]):
        op = code[i, 0]
        if IN1_KIND[op] >= 0 and code[i, 1] + 1 > span:
            span = code[i, 1] + 1
        if IN2_KIND[op] >= 0 and code[i, 2] + 1 > span:
            span = code[i, 2] + 1
        if OUT_KIND[op] >= 0 and code[i, 3] + 1 > span:
            span = code[i, 3] + 1
    return span


@njit(cache=True)
def _backward(code, data, lo, hi, live, span, flags):
    """Walk instructions hi-1..lo updating `live` (live-out -> live-in) and setting flags."""
    rng = RNG_KIND * span
    for i in range(hi - 1, lo - 1, -1):
        op = code[i, 0]
        ok = OUT_KIND[op]
        if ok < 0:  # NO_OP
            flags[i] = False
            continue
        out = ok * span + code[i, 3]
        rnd = draws(code, data, i)
        if not (live[out] or (rnd and live[rng])):
            flags[i] = False
            continue
        flags[i] = True
        if PARTIAL[op] == 0:
            live[out] = False
        else:
            live[out] = True
        if rnd:
            live[rng] = True
        k1 = IN1_KIND[op]
        if k1 >= 0:
            live[k1 * span + code[i, 1]] = True
        k2 = IN2_KIND[op]
        if k2 >= 0:
            live[k2 * span + code[i, 2]] = True


@njit(cache=True)
def _liveness(code, data, bounds):
    span = address_span(code)
    n_loc = 4 * span
    s0 = 0  # scalar 0
    s1 = 1  # scalar 1
    v0 = span  # vector 0
    flags = np.zeros(code.shape[0], dtype=np.bool_)
    in_p = np.zeros(n_loc, dtype=np.bool_)
    in_l = np.zeros(n_loc, dtype=np.bool_)
    while True:
        # Learn: followed by Predict (or the end).
        live = in_p.copy()
        live[s0] = False
        live[v0] = False
        _backward(code, data, bounds[2], bounds[3], live, span, flags)
        new_l = live
        # Predict: followed by Learn, Predict or the end; s1 is observed.
        live = in_p | new_l
        live[s0] = False
        live[v0] = False
        live[s1] = True
        _backward(code, data, bounds[1], bounds[2], live, span, flags)
        new_p = live
        if np.array_equal(new_p, in_p) and np.array_equal(new_l, in_l):
            break
        in_p = new_p
        in_l = new_l
    # Setup: followed by Predict.
    live = in_p.copy()
    live[s0] = False
    live[v0] = False
    _backward(code, data, bounds[0], bounds[1], live, span, flags)
    return flags, live, in_p, in_l, span


def live_mask_arrays(code: np.ndarray, data: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Boolean mask of live instructions for flat program arrays (NO_OPs are never live)."""
    return _liveness(code, data, bounds)[0]


def live_mask(program: Program) -> np.ndarray:
    """Boolean mask (one entry per instruction, Setup then Predict then Learn) of live ones."""
    return _liveness(program.code, program.data, program.bounds)[0]


def _decode(mask: np.ndarray, span: int) -> frozenset[str]:
    names = []
    for loc in np.flatnonzero(mask):
        kind, addr = divmod(int(loc), span)
        names.append("rng" if kind == RNG_KIND else f"{'svm'[kind]}{addr}")
    return frozenset(names)


def live_in(program: Program) -> dict[str, frozenset[str]]:
    """Locations live on entry to each component, e.g. {"predict": {"s2", "v0", "rng"}, ...}.

    For diagnostics and tests; "rng" is the generator pseudo-location.
    """
    _, setup_in, in_p, in_l, span = _liveness(program.code, program.data, program.bounds)
    return {
        "setup": _decode(setup_in, span),
        "predict": _decode(in_p, span),
        "learn": _decode(in_l, span),
    }
