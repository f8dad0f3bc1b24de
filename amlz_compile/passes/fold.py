"""Constant folding and propagation over Setup ; (Predict ; Learn)* with validation Predicts.

A forward dataflow over the same control flow as `liveness` gives, for every instruction, the
value each location holds there in *every* execution, when that value is a known constant:

* memory starts wiped (every element 0.0) before Setup;
* the harness writes s0 <- 0.0 and v0 <- features before Predict, and s0 <- label, v0 <- features
  and (accuracy tasks) s1 <- sigmoid(s1) before Learn, so those are unknown at Learn's entry;
* Predict is entered from Setup, Learn and Predict (validation), Learn from Predict.

Vector and matrix values are tracked only when every element is the same number (the only
constants that do not depend on the feature size F). A pure instruction whose result is a known
constant is replaced by a constant write: SCALAR_CONST_SET (56) for scalars, and for vectors and
matrices a uniform-set with low == high (60/61; draws nothing and writes `low` everywhere) when
the value is exactly a float32 (the reference stores f0 as float32). Random ops are never folded;
uniform-sets with not f0 < f1 are normalised (scalar -> 56, vector/matrix -> f1 = f0).

Values are computed in numba with `error_model="numpy"` by the same formulas and the same libm
calls as the interpreter (IEEE results: x/0 -> +-inf or NaN, log(0) -> -inf, domain errors ->
NaN, exp overflow -> inf), so folded constants are bit-identical to what would have run.
Reductions (sums, norms, means, dot products) are never folded: their rounding depends on F and
summation order. min/max are folded only when no NaN
and no signed-zero tie is involved (the reference's vector min/max are Eigen SIMD dependent).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..ir.program import Program
from .dce import program_of
from .liveness import IN1_KIND, IN2_KIND, OUT_KIND, address_span

_JIT = {"cache": True, "error_model": "numpy"}

TOP, CONST, NAC = 0, 1, 2  # lattice: no execution yet / same value in every execution / varies

_UNARY_OPS = (5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 19, 20, 22, 30, 32, 33, 37, 38)
_BINARY_OPS = (1, 2, 3, 4, 18, 23, 24, 25, 26, 28, 29, 39, 40, 41, 42, 44, 45, 46, 47, 48, 49)
#: ops whose result can be folded from constant (uniform) inputs
FOLDABLE = frozenset(_UNARY_OPS + _BINARY_OPS)
_FOLDABLE = np.zeros(65, dtype=np.bool_)
_FOLDABLE[list(FOLDABLE)] = True
_FOLDABLE.flags.writeable = False


@njit(cache=True, inline="always")
def same(a, b):
    """Equal numbers with equal signs, or both NaN (what matters for bit-exact results)."""
    if a != a:
        return b != b
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


@njit(cache=True, inline="always")
def _minmax_ok(a, b):
    return a == a and b == b and (a != b or same(a, b))


@njit(**_JIT)
def _eval(op, a, b):
    """(True, value) of a foldable op on constant inputs a, b (uniform vectors/matrices: their
    single value), or (False, 0.0). Same formulas as the interpreter, element by element."""
    if op == 1 or op == 23 or op == 39:
        return True, a + b
    if op == 2 or op == 24 or op == 40:
        return True, a - b
    if op == 3 or op == 18 or op == 25 or op == 28 or op == 29 or op == 41:
        return True, a * b
    if op == 4 or op == 26 or op == 42:
        return True, a / b
    if op == 5 or op == 22 or op == 38:
        return True, abs(a)
    if op == 6 or op == 20 or op == 30:
        return True, 1.0 / a
    if op == 7:
        return True, math.sin(a)
    if op == 8:
        return True, math.cos(a)
    if op == 9:
        return True, math.tan(a)
    if op == 10:
        return True, math.asin(a)
    if op == 11:
        return True, math.acos(a)
    if op == 12:
        return True, math.atan(a)
    if op == 13:
        return True, math.exp(a)
    if op == 14:
        return True, math.log(a)
    if op == 15:
        return True, 1.0 if a >= 0.0 else 0.0
    if op == 16 or op == 17:
        return True, 1.0 if a > 0.0 else 0.0
    if op == 19 or op == 32 or op == 33 or op == 37:  # broadcasts, transpose of uniform values
        return True, a
    if op == 44 or op == 45 or op == 46:
        if _minmax_ok(a, b):
            return True, b if b < a else a
        return False, 0.0
    if op == 47 or op == 48 or op == 49:
        if _minmax_ok(a, b):
            return True, b if a < b else a
        return False, 0.0
    return False, 0.0


def evaluate_op(op: int, a: float, b: float = 0.0) -> float | None:
    """The folded value of a pure op on constant (uniform) inputs, or None if not foldable."""
    ok, value = _eval(int(op), float(a), float(b))
    return float(value) if ok else None


@njit(**_JIT)
def _run(code, data, lo, hi, span, st, val, rec_st, rec_val, record):
    """Forward through rows lo..hi-1, updating the state; optionally record written values."""
    for i in range(lo, hi):
        op = code[i, 0]
        ok = OUT_KIND[op]
        if ok < 0:
            if record:
                rec_st[i] = NAC
            continue
        out = ok * span + code[i, 3]
        s = NAC
        v = 0.0
        if op == 56:
            s, v = CONST, data[i, 0]
        elif op == 59 or op == 60 or op == 61:
            if not (data[i, 1] < data[i, 2]):
                s, v = CONST, data[i, 1]
        elif op == 57 or op == 58:
            new = data[i, 2] if op == 57 else data[i, 3]
            s = st[out]
            v = val[out]
            if s == CONST and not same(v, new):
                s = NAC
        elif op < 56:
            sa = st[IN1_KIND[op] * span + code[i, 1]]
            va = val[IN1_KIND[op] * span + code[i, 1]]
            sb = CONST
            vb = 0.0
            if IN2_KIND[op] >= 0:
                sb = st[IN2_KIND[op] * span + code[i, 2]]
                vb = val[IN2_KIND[op] * span + code[i, 2]]
            if sa == TOP or sb == TOP:
                s = TOP
            elif sa == CONST and sb == CONST and _FOLDABLE[op]:
                good, r = _eval(op, va, vb)
                if good:
                    s, v = CONST, r
        st[out] = s
        val[out] = v
        if record:
            rec_st[i] = s
            rec_val[i] = v


@njit(**_JIT)
def _meet_into(st, val, st2, val2):
    for k in range(st.shape[0]):
        if st2[k] == TOP or st[k] == NAC:
            continue
        if st[k] == TOP:
            st[k] = st2[k]
            val[k] = val2[k]
        elif st2[k] == NAC or not same(val[k], val2[k]):
            st[k] = NAC


@njit(**_JIT)
def _same_state(st, val, st2, val2):
    for k in range(st.shape[0]):
        if st[k] != st2[k] or (st[k] == CONST and not same(val[k], val2[k])):
            return False
    return True


@njit(**_JIT)
def _constants(code, data, bounds):
    """Per row: status (TOP/CONST/NAC) and value of what it writes, at the fixed point."""
    n = code.shape[0]
    span = address_span(code)
    n_loc = 3 * span
    rec_st = np.full(n, NAC, dtype=np.int8)
    rec_val = np.zeros(n)
    s_st = np.full(n_loc, CONST, dtype=np.int8)  # wiped memory: every element 0.0
    s_val = np.zeros(n_loc)
    _run(code, data, bounds[0], bounds[1], span, s_st, s_val, rec_st, rec_val, True)
    p_st = np.full(n_loc, TOP, dtype=np.int8)
    p_val = np.zeros(n_loc)
    l_st = np.full(n_loc, TOP, dtype=np.int8)
    l_val = np.zeros(n_loc)
    for _ in range(4 * n_loc + 4):  # each location can only go TOP -> CONST -> NAC
        # Predict is entered from Setup, Learn and Predict (validation); harness s0 = 0, v0 = x
        pi_st = s_st.copy()
        pi_val = s_val.copy()
        _meet_into(pi_st, pi_val, p_st, p_val)
        _meet_into(pi_st, pi_val, l_st, l_val)
        pi_st[0] = CONST
        pi_val[0] = 0.0
        pi_st[span] = NAC
        np_st = pi_st.copy()
        np_val = pi_val.copy()
        _run(code, data, bounds[1], bounds[2], span, np_st, np_val, rec_st, rec_val, True)
        # Learn is entered from Predict; harness s0 = label, v0 = x; s1 may be sigmoid-ed
        nl_st = np_st.copy()
        nl_val = np_val.copy()
        nl_st[0] = NAC
        nl_st[1] = NAC
        nl_st[span] = NAC
        _run(code, data, bounds[2], bounds[3], span, nl_st, nl_val, rec_st, rec_val, True)
        if _same_state(np_st, np_val, p_st, p_val) and _same_state(nl_st, nl_val, l_st, l_val):
            break
        p_st, p_val, l_st, l_val = np_st, np_val, nl_st, nl_val
    return rec_st, rec_val


@njit(cache=True, inline="always")
def _is_f32(c):
    return c != c or same(float(np.float32(c)), c)


@njit(**_JIT)
def fold_arrays(code, data, bounds):
    """Folded copies of (code, data) and whether anything changed (see the module doc)."""
    rec_st, rec_val = _constants(code, data, bounds)
    code = code.copy()
    data = data.copy()
    changed = False
    for i in range(code.shape[0]):
        op = code[i, 0]
        if (op == 59 or op == 60 or op == 61) and not (data[i, 1] < data[i, 2]):
            if op == 59:
                code[i, 0] = 56
                data[i, 0] = data[i, 1]
                data[i, 1] = 0.0
                data[i, 2] = 0.0
                changed = True
            elif not same(data[i, 2], data[i, 1]):
                data[i, 2] = data[i, 1]
                changed = True
            continue
        if op >= 56 or not _FOLDABLE[op] or rec_st[i] != CONST:
            continue
        v = rec_val[i]
        kind = OUT_KIND[op]
        if kind == 0:
            code[i, 0] = 56
            data[i, 0] = v
        elif _is_f32(v):
            code[i, 0] = 60 if kind == 1 else 61
            data[i, 0] = 0.0
            data[i, 1] = v
            data[i, 2] = v
        else:
            continue
        code[i, 1] = 0
        code[i, 2] = 0
        data[i, 3] = 0.0
        changed = True
    return code, data, changed


def constant_values(program: Program) -> list[float | None]:
    """Per instruction, the value it writes when that is the same in every execution, else None.

    Vector and matrix constants are reported as the single value of all their elements.
    """
    st, val = _constants(program.code, program.data, program.bounds)
    return [float(v) if s == CONST else None for s, v in zip(st, val, strict=True)]


def fold_constants(program: Program) -> Program:
    """Replace pure instructions with constant results by constant writes (see module doc)."""
    if len(program) == 0:
        return program
    code, data, changed = fold_arrays(program.code, program.data, program.bounds)
    if not changed:
        return program
    return program_of(code, data, program.bounds)
