"""The interpreter's F = 4 register paths (inputs loaded into locals before any store) against
element-by-element loops on the same memory, bit for bit, for every aliasing of the operands."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from amlz_compile.backends.interp import execute_instruction
from amlz_compile.ir.ops import MATRIX, OPS, SCALAR, VECTOR
from amlz_compile.rng import new_state

F = 4
N = 2  # two of each kind, so operands coincide or are disjoint, as in real programs
FAST_OPS = (16, 18, 23, 24, 25, 28, 31, 39, 40, 41, 48)
VALUES = st.one_of(
    st.floats(-4.0, 4.0),
    st.sampled_from([0.0, -0.0, 1.0, -1.0, np.nan, np.inf, -np.inf, 1e300, 5e-324]),
)


def _elementwise(op: int, x: float, y: float) -> float:
    if op in (23, 39):
        return x + y
    if op in (24, 40):
        return x - y
    if op in (25, 41):
        return x * y
    return x if x > y else y  # 48


def _loops(op: int, a: int, b: int, c: int, S, V, M) -> None:
    """The generic interpreter's loops in Python (IEEE doubles, in place, same order)."""
    with np.errstate(all="ignore"):
        if op == 16:
            for i in range(F):
                V[c, i] = 1.0 if V[a, i] > 0.0 else 0.0
        elif op == 18:
            s = S[a]
            for i in range(F):
                V[c, i] = s * V[b, i]
        elif op in (23, 24, 25, 48):
            for i in range(F):
                V[c, i] = _elementwise(op, V[a, i], V[b, i])
        elif op in (39, 40, 41):
            for i in range(F):
                for j in range(F):
                    M[c, i, j] = _elementwise(op, M[a, i, j], M[b, i, j])
        elif op == 28:
            for i in range(F):
                for j in range(F):
                    M[c, i, j] = V[a, i] * V[b, j]
        elif op == 31:
            out = np.zeros(F)
            for i in range(F):
                acc = 0.0
                for j in range(F):
                    acc += float(M[a, i, j]) * float(V[b, j])
                out[i] = acc
            V[c] = out


def _same(x: np.ndarray, y: np.ndarray) -> bool:
    """Bit-level agreement, except that any NaN equals any NaN (payloads are not semantics)."""
    x, y = np.ascontiguousarray(x, dtype=np.float64), np.ascontiguousarray(y, dtype=np.float64)
    return bool(np.all((np.isnan(x) & np.isnan(y)) | (x.view(np.uint64) == y.view(np.uint64))))


@pytest.mark.parametrize("op", FAST_OPS)
@given(
    S=hnp.arrays(np.float64, N, elements=VALUES),
    V=hnp.arrays(np.float64, (N, F), elements=VALUES),
    M=hnp.arrays(np.float64, (N, F, F), elements=VALUES),
)
def test_f4_ops_match_element_loops_for_every_aliasing(op, S, V, M):
    info = OPS[op]
    count = {SCALAR: N, VECTOR: N, MATRIX: N, None: 1}
    ranges = [range(count[k]) for k in (info.in1, info.in2, info.out)]
    for a, b, c in itertools.product(*ranges):
        want = S.copy(), V.copy(), M.copy()
        _loops(op, a, b, c, *want)
        got = S.copy(), V.copy(), M.copy()
        code = np.array([op, a, b, c], dtype=np.int32)
        execute_instruction(code, np.zeros(4), *got, F, new_state(0))
        for w, g in zip(want, got, strict=True):
            assert _same(w, g), (op, a, b, c, w, g)
