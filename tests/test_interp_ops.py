"""Every op of the interpreter against an independent NumPy / libm formula
(docs/semantics.md#op-table).

One instruction runs through `execute_instruction` on random memory (NaN, ±inf, ±0, huge and
tiny values included; inputs and output may alias). Elementwise ops, broadcasts, transposes,
min/max, heaviside, const-sets and random ops must match bit for bit (NaNs compare equal to
NaNs). Reductions (sums, dots, norms, means, products with a matrix) are compared with a
tolerance of 1e-12 times the sum of the terms' magnitudes, because NumPy may add in another
order; when that magnitude overflows the order decides the result and only NaN propagation is
checked. Standard deviations compare radicands (E[x^2] - mean^2) within 1e-12 * E[x^2].
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from amlz_compile.backends.interp import execute_instruction
from amlz_compile.ir.ops import (
    ALGEBRA_BILINEAR,
    ALGEBRA_DIFF,
    ALGEBRA_DIVISION,
    ALGEBRA_MINMAX,
    ALGEBRA_PRODUCT,
    ALGEBRA_SUM,
    MATRIX,
    NUM_OPS,
    OPS,
    SCALAR,
    VECTOR,
)
from amlz_compile.rng import SplitMix64, new_state
from tests.strategies import ci_cap

N_S, N_V, N_M = 5, 4, 3

SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, 1e300, -1e300, 1e-310, -1e-310, np.nan, np.inf, -np.inf]
VALUES = st.one_of(
    st.sampled_from(SPECIAL),
    st.floats(-10.0, 10.0),
    st.floats(allow_nan=True, allow_infinity=True),
)
FRACTION = st.one_of(
    st.floats(0.0, 1.0, exclude_max=True, width=32),
    st.sampled_from([0.0, 0.999999, -0.5, 1.0, 2.0, np.nan]),
)
DATA = st.one_of(st.floats(-1.0, 1.0, width=32), st.sampled_from([0.0, 1.0, -1.0, np.nan]))


def _libm(name: str, x: float) -> float:
    """libm through Python's math module, with IEEE results where Python raises."""
    try:
        return getattr(math, name)(x)
    except ValueError:
        return -math.inf if name == "log" and x == 0.0 else math.nan
    except OverflowError:
        return math.inf


def _index(f: float, F: int) -> int:
    p = np.float32(F) * np.float32(f)
    if not p >= 0:
        return 0
    return F - 1 if p >= F else int(p)


class Expect:
    """Expected memory after one instruction, plus approximate checks for reductions."""

    def __init__(self, S, V, M):
        self.S, self.V, self.M = S.copy(), V.copy(), M.copy()
        self.approx: list[tuple[str, tuple, str, np.ndarray]] = []  # (kind, index, mode, terms)

    def reduce(self, kind, index, mode, terms):
        self.approx.append((kind, index, mode, np.asarray(terms, dtype=np.float64).ravel()))


def reference(op, a, b, c, act, f0, f1, f2, S, V, M, F, gen) -> Expect:
    """The op's meaning written with NumPy/libm (reads every input before writing)."""
    e = Expect(S, V, M)
    with np.errstate(all="ignore"):
        sa, sb = S[a], S[b]
        va, vb = V[a % N_V].copy(), V[b % N_V].copy()
        ma, mb = M[a % N_M].copy(), M[b % N_M].copy()
        scal = {1: sa + sb, 2: sa - sb, 3: sa * sb, 4: sa / sb, 5: abs(sa), 6: 1.0 / sa}
        libm = {7: "sin", 8: "cos", 9: "tan", 10: "asin", 11: "acos", 12: "atan", 13: "exp",
                14: "log"}  # fmt: skip
        if op == 0:
            pass
        elif op in scal:
            e.S[c] = scal[op]
        elif op in libm:
            e.S[c] = _libm(libm[op], float(sa))
        elif op == 15:
            e.S[c] = 1.0 if sa >= 0 else 0.0
        elif op == 16:
            e.V[c] = np.where(va > 0, 1.0, 0.0)
        elif op == 17:
            e.M[c] = np.where(ma > 0, 1.0, 0.0)
        elif op == 18:
            e.V[c] = sa * vb
        elif op == 19:
            e.V[c] = sa
        elif op == 20:
            e.V[c] = 1.0 / va
        elif op == 21:
            e.S[c] = np.sqrt(np.sum(va * va))
            e.reduce("s", (c,), "norm", va * va)
        elif op == 22:
            e.V[c] = np.abs(va)
        elif op in (23, 24, 25, 26):
            e.V[c] = {23: np.add, 24: np.subtract, 25: np.multiply, 26: np.divide}[op](va, vb)
        elif op == 27:
            e.S[c] = np.sum(va * vb)
            e.reduce("s", (c,), "sum", va * vb)
        elif op == 28:
            e.M[c] = np.outer(va, vb)
        elif op == 29:
            e.M[c] = sa * mb
        elif op == 30:
            e.M[c] = 1.0 / ma
        elif op == 31:
            e.V[c] = ma @ vb
            for i in range(F):
                e.reduce("v", (c, i), "sum", ma[i] * vb)
        elif op == 32:
            e.M[c] = np.repeat(va[:, None], F, axis=1)
        elif op == 33:
            e.M[c] = np.repeat(va[None, :], F, axis=0)
        elif op == 34:
            e.S[c] = np.sqrt(np.sum(ma * ma))
            e.reduce("s", (c,), "norm", ma * ma)
        elif op == 35:
            e.V[c] = np.sqrt(np.sum(ma * ma, axis=0))
            for j in range(F):
                e.reduce("v", (c, j), "norm", ma[:, j] * ma[:, j])
        elif op == 36:
            e.V[c] = np.sqrt(np.sum(ma * ma, axis=1))
            for i in range(F):
                e.reduce("v", (c, i), "norm", ma[i] * ma[i])
        elif op == 37:
            e.M[c] = ma.T
        elif op == 38:
            e.M[c] = np.abs(ma)
        elif op in (39, 40, 41, 42):
            e.M[c] = {39: np.add, 40: np.subtract, 41: np.multiply, 42: np.divide}[op](ma, mb)
        elif op == 43:
            e.M[c] = ma @ mb
            for i in range(F):
                for j in range(F):
                    e.reduce("m", (c, i, j), "sum", ma[i] * mb[:, j])
        elif op == 44:
            e.S[c] = sb if sb < sa else sa
        elif op == 45:
            e.V[c] = np.where(va < vb, va, vb)
        elif op == 46:
            e.M[c] = np.where(ma < mb, ma, mb)
        elif op == 47:
            e.S[c] = sb if sa < sb else sa
        elif op == 48:
            e.V[c] = np.where(va > vb, va, vb)
        elif op == 49:
            e.M[c] = np.where(ma > mb, ma, mb)
        elif op == 50:
            e.reduce("s", (c,), "mean", va)
        elif op == 51:
            e.reduce("s", (c,), "mean", ma)
        elif op == 52:
            for i in range(F):
                e.reduce("v", (c, i), "mean", ma[i])
        elif op == 53:
            for i in range(F):
                e.reduce("v", (c, i), "std", ma[i])
        elif op == 54:
            e.reduce("s", (c,), "std", va)
        elif op == 55:
            e.reduce("s", (c,), "std", ma)
        elif op == 56:
            e.S[c] = act
        elif op == 57:
            e.V[c, _index(f0, F)] = f1
        elif op == 58:
            e.M[c, _index(f0, F), _index(f1, F)] = f2
        elif op in (59, 60, 61):
            n = {59: 1, 60: F, 61: F * F}[op]
            vals = np.array([gen.uniform(f0, f1) for _ in range(n)])
            _store(e, op, c, vals, F)
        elif op in (62, 63, 64):
            n = {62: 1, 63: F, 64: F * F}[op]
            vals = np.array([gen.gaussian(f0, f1) for _ in range(n)])
            _store(e, op, c, vals, F)
        else:  # pragma: no cover - the coverage test below names the op
            raise KeyError(op)
    return e


def _store(e: Expect, op: int, c: int, vals: np.ndarray, F: int) -> None:
    kind = OPS[op].out
    if kind == SCALAR:
        e.S[c] = vals[0]
    elif kind == VECTOR:
        e.V[c] = vals
    else:
        e.M[c] = vals.reshape(F, F)


def _same(x, y) -> bool:
    """Bit-level agreement, except that any NaN equals any NaN."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    both_nan = np.isnan(x) & np.isnan(y)
    same_bits = x.view(np.uint64) == y.view(np.uint64)
    return bool(np.all(both_nan | same_bits))


def _check_reduction(got: float, mode: str, terms: np.ndarray) -> None:
    with np.errstate(all="ignore"):
        if np.isnan(terms).any():
            assert np.isnan(got), (mode, terms, got)
            return
        n = terms.size
        if mode in ("sum", "norm"):
            scale = np.sum(np.abs(terms))
            if not np.isfinite(scale):
                return
            want = np.sum(terms)
            if mode == "norm":
                assert np.isclose(got * got, want, rtol=1e-12, atol=1e-300), (terms, got)
            else:
                assert abs(got - want) <= 1e-12 * scale + 1e-300, (terms, got, want)
        elif mode == "mean":
            scale = np.sum(np.abs(terms)) / n
            if not np.isfinite(scale):
                return
            assert abs(got - np.mean(terms)) <= 1e-12 * scale + 1e-300, (terms, got)
        else:  # std: compare radicands
            scale = np.mean(terms * terms)
            if not np.isfinite(scale):
                return
            radicand = scale - np.mean(terms) ** 2
            if np.isnan(got):
                assert radicand <= 1e-12 * scale, (terms, radicand)
            else:
                assert abs(got * got - radicand) <= 1e-12 * scale + 1e-300, (terms, got)


def run_one(op, a, b, c, act, f0, f1, f2, S, V, M, F, seed):
    code = np.array([op, a, b, c], dtype=np.int32)
    data = np.array([act, f0, f1, f2], dtype=np.float64)
    S2, V2, M2 = S.copy(), V.copy(), M.copy()
    state = new_state(seed)
    execute_instruction(code, data, S2, V2, M2, F, state)
    return S2, V2, M2, int(state[0])


@st.composite
def cases(draw, op: int):
    info = OPS[op]
    F = draw(st.integers(1, 5))
    S = draw(hnp.arrays(np.float64, N_S, elements=VALUES))
    V = draw(hnp.arrays(np.float64, (N_V, F), elements=VALUES))
    M = draw(hnp.arrays(np.float64, (N_M, F, F), elements=VALUES))
    count = {SCALAR: N_S, VECTOR: N_V, MATRIX: N_M, None: 1}
    a = draw(st.integers(0, count[info.in1] - 1))
    b = draw(st.integers(0, count[info.in2] - 1))
    c = draw(st.integers(0, count[info.out] - 1))
    act = draw(VALUES)
    if op in (57, 58):
        f0, f1 = draw(FRACTION), draw(FRACTION if op == 58 else DATA)
    else:
        f0, f1 = draw(DATA), draw(DATA)
    f2 = draw(DATA)
    seed = draw(st.integers(0, 2**64 - 1))
    return F, S, V, M, a, b, c, act, f0, f1, f2, seed


def test_every_op_has_one_function_and_the_dispatch_is_current():
    """Each op of the table has its function in its `ir.op_kernels` module, and
    `ir/op_dispatch.py` is the text `dispatch_source` renders from the table (rerun
    `python -m amlz_compile.ir.op_kernels` after adding an op)."""
    from pathlib import Path

    from amlz_compile.ir import op_dispatch, op_kernels

    defined = {
        name
        for family in op_kernels.FAMILIES
        for name in vars(op_kernels.family_module(family))
        if name.endswith("_op")
    }
    missing = [i.name for i in OPS if op_kernels.function_name(i) not in defined]
    assert not missing, f"ops without a function in ir/op_kernels/: {missing}"
    assert len(OPS) == NUM_OPS
    text = Path(op_dispatch.__file__).read_text(encoding="utf-8")
    assert text == op_kernels.dispatch_source()


@pytest.mark.parametrize("op", [int(i.op) for i in OPS], ids=[i.name for i in OPS])
def test_every_op_writes_its_output(op):
    """Each op (but NO_OP) changes its output on a memory of distinct sentinel values.

    An op missing from the interpreter's dispatch would leave memory untouched.
    """
    F = 3
    S = np.arange(N_S, dtype=np.float64) + 0.25
    V = np.arange(N_V * F, dtype=np.float64).reshape(N_V, F) * 0.5 + 7.125
    M = np.arange(N_M * F * F, dtype=np.float64).reshape(N_M, F, F) * 0.25 - 3.375
    S2, V2, M2, _ = run_one(op, 1, 2, 0, -0.75, 0.5, 0.9, -0.625, S, V, M, F, 12345)
    changed = not (_same(S, S2) and _same(V, V2) and _same(M, M2))
    assert changed == (op != 0)


# 65 ops x examples: capped under the CI profile to keep the file fast.
PER_OP = ci_cap(25)


@pytest.mark.parametrize("op", [int(i.op) for i in OPS], ids=[i.name for i in OPS])
@PER_OP
@given(data=st.data())
def test_op_matches_reference_formula(op, data):
    F, S, V, M, a, b, c, act, f0, f1, f2, seed = data.draw(cases(op))
    f0, f1, f2 = (float(np.float32(x)) for x in (f0, f1, f2))
    gen = SplitMix64(seed)
    want = reference(op, a, b, c, act, f0, f1, f2, S, V, M, F, gen)
    S2, V2, M2, state = run_one(op, a, b, c, act, f0, f1, f2, S, V, M, F, seed)
    assert state == gen.state, "random draws consumed differ from the reference"
    approx = {(kind, idx) for kind, idx, _, _ in want.approx}
    got = {"s": S2, "v": V2, "m": M2}
    exp = {"s": want.S, "v": want.V, "m": want.M}
    for kind in "svm":
        g, w = got[kind].copy(), exp[kind].copy()
        for k, idx in approx:
            if k == kind:
                g[idx] = w[idx] = 0.0
        assert _same(g, w), (OPS[op].name, kind, g, w)
    for kind, idx, mode, terms in want.approx:
        _check_reduction(float(got[kind][idx]), mode, terms)


@given(
    F=st.integers(1, 6),
    f=st.one_of(st.floats(-2.0, 2.0, width=32), st.sampled_from([np.nan, np.inf, -np.inf])),
)
def test_const_set_index_is_the_float32_product_clamped(F, f):
    S = np.zeros(2)
    V = np.zeros((2, F))
    M = np.zeros((1, F, F))
    _, V2, _, _ = run_one(57, 0, 0, 1, 0.0, f, 9.0, 0.0, S, V, M, F, 0)
    assert np.flatnonzero(V2[1]).tolist() == [_index(f, F)]


def test_every_two_input_op_and_only_those_have_an_algebra_fact():
    """`OpInfo.algebra` (what the effective-program view's rewrites read) is declared for every
    two-input op, from the ALGEBRA_* vocabulary, and for no other op."""
    vocabulary = {ALGEBRA_SUM, ALGEBRA_DIFF, ALGEBRA_PRODUCT, ALGEBRA_DIVISION,
                  ALGEBRA_BILINEAR, ALGEBRA_MINMAX}  # fmt: skip
    missing = [i.name for i in OPS if i.arity == 2 and i.algebra not in vocabulary]
    extra = [i.name for i in OPS if i.arity != 2 and i.algebra]
    assert not missing, f"two-input ops without an algebra fact: {missing}"
    assert not extra, f"algebra facts on ops without two inputs: {extra}"


_ALGEBRA_FORMULAS = {
    ALGEBRA_SUM: np.add,
    ALGEBRA_DIFF: np.subtract,
    ALGEBRA_PRODUCT: np.multiply,
    ALGEBRA_DIVISION: np.divide,
}


@pytest.mark.parametrize(
    "op", [int(i.op) for i in OPS if i.algebra], ids=[i.name for i in OPS if i.algebra]
)
def test_algebra_facts_hold_in_the_interpreter(op):
    """On finite inputs, each op computes what its `algebra` fact says: in1 + in2, in1 - in2,
    in1 * in2, in1 / in2 (elementwise, a scalar applied to each element), the elementwise
    minimum or maximum; a bilinear op (dot, outer, matrix products) writes 0 when an input is 0."""
    info = OPS[op]
    F = 3
    rng = np.random.default_rng(op)
    shapes = {SCALAR: (N_S,), VECTOR: (N_V, F), MATRIX: (N_M, F, F)}
    for trial in range(20):
        mem = {k: rng.uniform(-2.0, 2.0, shape) for k, shape in shapes.items()}
        if info.algebra == ALGEBRA_BILINEAR:
            mem[info.in1 if trial % 2 else info.in2][trial % 2] = 0.0
        S, V, M, _ = run_one(op, 1, 0, 2, 0.0, 0.0, 0.0, 0.0, mem[SCALAR], mem[VECTOR],
                             mem[MATRIX], F, 0)  # fmt: skip
        got = {SCALAR: S, VECTOR: V, MATRIX: M}[info.out][2]
        x, y = mem[info.in1][1], mem[info.in2][0]
        if info.algebra == ALGEBRA_BILINEAR:  # +0.0 or -0.0
            assert np.all(got == 0.0), info.name
        elif info.algebra == ALGEBRA_MINMAX:
            assert _same(got, np.minimum(x, y)) or _same(got, np.maximum(x, y)), info.name
        else:
            want = _ALGEBRA_FORMULAS[info.algebra](x, y)
            assert _same(got, np.broadcast_to(want, np.shape(got))), info.name
