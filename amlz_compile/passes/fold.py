"""Constant folding and propagation over Setup ; (Predict ; Learn)* with validation Predicts.

A forward dataflow over the same control flow as `liveness` gives, for every instruction, the
value each location holds there in *every* execution, when that value is a known constant:

* memory starts wiped (every element 0.0) before Setup;
* the harness writes s0 <- 0.0 and v0 <- features before Predict, and s0 <- label, v0 <- features
  and (accuracy tasks) s1 <- sigmoid(s1) before Learn, so those are unknown at Learn's entry;
* Predict is entered from Setup, Learn and Predict (validation), Learn from Predict.

Vector and matrix values are tracked only when every element is the same number (the only
constants that do not depend on the feature size F). An address nothing writes therefore reads
0.0 everywhere. A pure instruction whose result is a known constant is replaced by a constant
write: SCALAR_CONST_SET for scalars, and for vectors and matrices a uniform-set with low == high
(draws nothing and writes `low` everywhere) when the value is exactly a float32 (the reference
stores f0 as float32). Uniform-sets with not f0 < f1 are normalised (scalar -> SCALAR_CONST_SET,
vector/matrix -> f1 = f0).

Random ops whose result does not depend on their draws (`_random_constant`:
gaussian(mu, +-0) with mu != -0.0, gaussian(mu, NaN), uniform(lo, inf), uniform(-inf, hi)) are
known constants for their readers; they become constant writes only when the generator is dead
after them (no live random op can run later), since dropping their draws would shift the stream
of a later live one. A write of the value its location already holds in every execution (same
bits, not NaN; e.g. a zero on the zeroed memory in Setup) is removed, under the same condition
for ops that draw.

Values are computed in numba with `error_model="numpy"` by the same formulas and the same libm
calls as the interpreter (IEEE results: x/0 -> +-inf or NaN, log(0) -> -inf, domain errors ->
NaN, exp overflow -> inf), so folded constants are bit-identical to what would have run.
Reductions (sums, norms, means, dot products, standard deviations, matrix products) are folded
only when every summed term is +0.0, +-inf or NaN: otherwise their value depends on F.
min/max are folded only when no NaN and no signed-zero tie is involved (the reference's vector
min/max are Eigen SIMD dependent).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, uint64

from ..ir.liveness import address_span, location, rng_location
from ..ir.numeric import nb_draws
from ..ir.op_dispatch import run_op
from ..ir.ops import (
    ADDRESS_KINDS,
    CONST_SET,
    DATA_OP,
    FOLD_CLASS,
    FOLD_MAP,
    FOLD_MINMAX,
    FOLD_NONE,
    FOLD_SUM,
    FOLD_SUM_AND_SQUARES,
    FOLD_SUM_PRODUCTS,
    FOLD_SUM_SQUARES,
    KIND_CODES,
    KIND_NONE,
    OPS,
    RANDOM,
    SCALAR,
    UNIFORM_SET,
    VECTOR,
    Op,
)
from ..ir.program import Program
from .arrays import program_of, writable
from .liveness import _liveness

#: ops whose result can be folded from constant (uniform) inputs
FOLDABLE = frozenset(info.op.value for info in OPS if info.fold != FOLD_NONE)

__all__ = ["FOLDABLE", "constant_values", "evaluate_op", "fold_constants"]


# -- the compiled core ----------------------------------------------------------------------

_JIT = {"cache": True, "error_model": "numpy"}

# the lattice: no execution yet / same value in every execution / varies
TOP, CONST, NAC = 0, 1, 2
_SCALAR = KIND_CODES[SCALAR]
_VECTOR = KIND_CODES[VECTOR]


@njit(cache=True)
def same(a, b):
    """Equal numbers with equal signs, or both NaN (what matters for bit-exact results)."""
    if a != a:
        return b != b
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


@njit(cache=True)
def _minmax_ok(a, b):
    return a == a and b == b and (a != b or same(a, b))


@njit(cache=True)
def _sum_ok(p):
    """True when a sum 0.0 + p + ... + p of F >= 1 equal terms does not depend on F, and
    dividing it by F (a mean) gives it back: p is +0.0, +-inf or NaN."""
    return p != p or math.isinf(p) or (p == 0.0 and math.copysign(1.0, p) > 0.0)


@njit(**_JIT)
def _foldable(op, a, b):
    """Whether op on uniform constant inputs a, b has a uniform result that does not depend on
    F and on the order in which min/max see their operands (FOLD_CLASS of the op table)."""
    k = FOLD_CLASS[op]
    if k == FOLD_MAP:
        return True
    if k == FOLD_MINMAX:
        return _minmax_ok(a, b)
    if k == FOLD_SUM:
        return _sum_ok(a)
    if k == FOLD_SUM_SQUARES:
        return _sum_ok(a * a)
    if k == FOLD_SUM_PRODUCTS:
        return _sum_ok(a * b)
    if k == FOLD_SUM_AND_SQUARES:
        return _sum_ok(a) and _sum_ok(a * a)
    return False


@njit(**_JIT)
def _eval(op, a, b):
    """(True, value) of a foldable op on uniform constant inputs a, b, or (False, 0.0).

    The value is the interpreter's own op function run on one-element memory (F = 1: in1, in2,
    out, then one scratch element each for vectors and matrices); `_foldable` says when that
    equals every element at any F. Folded ops read no data fields and draw nothing."""
    if not _foldable(op, a, b):
        return False, 0.0
    mem = np.zeros(5)
    mem[0] = a
    mem[1] = b
    no_data = np.zeros((1, 4))
    no_rng = np.zeros(1, dtype=np.uint64)
    run_op(op, mem, uint64(0), uint64(1), uint64(2), 1, no_data, 0, no_rng, uint64(3), uint64(4))
    return True, mem[2]


@njit(**_JIT)
def _random_constant(op, f0, f1):
    """(True, value) when the random op `op` with data f0, f1 writes `value` into every element
    whatever its draws, else (False, 0.0). It still draws (see `fold_arrays` for when it may
    become a constant write). With u = open_unit in (0, 1] (it rounds to 1.0 at the top) and
    z = sqrt(-2 ln u1) cos(2 pi u2), always finite (docs/semantics.md#random-ops):

    * uniform(lo, hi), lo < hi: lo + (hi - lo) u is NaN when lo = -inf (-inf + inf) and +inf
      when hi = +inf and lo is finite; for finite bounds it varies with u;
    * gaussian(mu, sigma): mu + sigma z is NaN when sigma is NaN, and mu when sigma is +-0
      (sigma z is +-0.0, and mu + +-0.0 = mu) unless mu is -0.0 (-0.0 + 0.0 = +0.0 but
      -0.0 + -0.0 = -0.0: the sign follows the draw); an infinite sigma gives +-inf or NaN."""
    if UNIFORM_SET[op]:
        if f0 < f1:
            if f0 == -math.inf:
                return True, math.nan
            if f1 == math.inf:
                return True, math.inf
        return False, 0.0
    if f1 != f1:
        return True, math.nan
    if f1 == 0.0 and not (f0 == 0.0 and math.copysign(1.0, f0) < 0.0):
        return True, f0
    return False, 0.0


@njit(**_JIT)
def _run(code, data, lo, hi, span, st, val, rec_st, rec_val, pre_st, pre_val, record):
    """Forward through rows lo..hi-1, updating the state; optionally record written values
    (rec_*) and what the output location held just before each row (pre_*)."""
    for i in range(lo, hi):
        op = code[i, 0]
        ok = ADDRESS_KINDS[op, 2]
        if ok == KIND_NONE:
            if record:
                rec_st[i] = NAC
                pre_st[i] = NAC
            continue
        out = location(ok, code[i, 3], span)
        if record:
            pre_st[i] = st[out]
            pre_val[i] = val[out]
        s = NAC
        v = 0.0
        if op == Op.SCALAR_CONST_SET_OP:
            s, v = CONST, data[i, 0]
        elif UNIFORM_SET[op] and not (data[i, 1] < data[i, 2]):
            s, v = CONST, data[i, 1]
        elif RANDOM[op]:
            good, r = _random_constant(op, data[i, 1], data[i, 2])
            if good:
                s, v = CONST, r
        elif CONST_SET[op]:  # a partial write: the written element is the last data field used
            new = data[i, 2] if op == Op.VECTOR_CONST_SET_OP else data[i, 3]
            s = st[out]
            v = val[out]
            if s == CONST and not same(v, new):
                s = NAC
        elif not DATA_OP[op]:
            k1 = ADDRESS_KINDS[op, 0]
            sa = st[location(k1, code[i, 1], span)]
            va = val[location(k1, code[i, 1], span)]
            sb = CONST
            vb = 0.0
            k2 = ADDRESS_KINDS[op, 1]
            if k2 != KIND_NONE:
                sb = st[location(k2, code[i, 2], span)]
                vb = val[location(k2, code[i, 2], span)]
            if sa == TOP or sb == TOP:
                s = TOP
            elif sa == CONST and sb == CONST and FOLD_CLASS[op] != FOLD_NONE:
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
    """Per row: status (TOP/CONST/NAC) and value of what it writes, and of what its output
    location holds just before it runs, at the fixed point."""
    n = code.shape[0]
    span = address_span(code)
    n_loc = 3 * span
    rec_st = np.full(n, NAC, dtype=np.int8)
    rec_val = np.zeros(n)
    pre_st = np.full(n, NAC, dtype=np.int8)
    pre_val = np.zeros(n)
    s_st = np.full(n_loc, CONST, dtype=np.int8)  # wiped memory: every element 0.0
    s_val = np.zeros(n_loc)
    _run(
        code, data, bounds[0], bounds[1], span, s_st, s_val, rec_st, rec_val, pre_st, pre_val, True
    )
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
        _run(
            code, data, bounds[1], bounds[2], span, np_st, np_val, rec_st, rec_val, pre_st,
            pre_val, True,
        )  # fmt: skip
        # Learn is entered from Predict; harness s0 = label, v0 = x; s1 may be sigmoid-ed
        nl_st = np_st.copy()
        nl_val = np_val.copy()
        nl_st[0] = NAC
        nl_st[1] = NAC
        nl_st[span] = NAC
        _run(
            code, data, bounds[2], bounds[3], span, nl_st, nl_val, rec_st, rec_val, pre_st,
            pre_val, True,
        )  # fmt: skip
        if _same_state(np_st, np_val, p_st, p_val) and _same_state(nl_st, nl_val, l_st, l_val):
            break
        p_st, p_val, l_st, l_val = np_st, np_val, nl_st, nl_val
    return rec_st, rec_val, pre_st, pre_val


@njit(cache=True)
def _rng_live_after(code, data, bounds):
    """Per row: whether the generator is live just after it, i.e. a live random op may run
    later (in this component or, through the Predict/Learn loop, in a later one). A row that
    draws may stop drawing (become a constant write, or go) only when this is false."""
    flags, _, in_p, in_l, span = _liveness(code, data, bounds)
    rng = rng_location(span)
    after = np.zeros(code.shape[0], dtype=np.bool_)
    exits = (in_p[rng], in_p[rng] or in_l[rng], in_p[rng])  # Setup, Predict, Learn
    for comp in range(3):
        r = exits[comp]
        for i in range(bounds[comp + 1] - 1, bounds[comp] - 1, -1):
            after[i] = r
            if flags[i] and nb_draws(code[i, 0], data[i, 1], data[i, 2]):
                r = True
    return after


@njit(cache=True)
def _is_f32(c):
    return c != c or same(float(np.float32(c)), c)


@njit(**_JIT)
def fold_arrays(code, data, bounds):
    """Folded copies of (code, data) and whether anything changed (see the module doc)."""
    rec_st, rec_val, pre_st, pre_val = _constants(code, data, bounds)
    rng_after = np.zeros(code.shape[0], dtype=np.bool_)
    for i in range(code.shape[0]):  # only a drawing row with a constant result consults it
        if rec_st[i] == CONST and nb_draws(code[i, 0], data[i, 1], data[i, 2]):
            rng_after = _rng_live_after(code, data, bounds)
            break
    code = code.copy()
    data = data.copy()
    changed = False
    for i in range(code.shape[0]):
        op = code[i, 0]
        drawing = nb_draws(op, data[i, 1], data[i, 2])
        if drawing and rng_after[i]:
            continue  # its draws are part of the stream a later live draw reads: untouched
        v = rec_val[i]
        if rec_st[i] == CONST and pre_st[i] == CONST and v == v and same(pre_val[i], v):
            # a redundant store: the location already holds exactly this value
            code[i, 0] = Op.NO_OP
            code[i, 1:] = 0
            data[i] = 0.0
            changed = True
            continue
        if UNIFORM_SET[op] and not (data[i, 1] < data[i, 2]):
            if op == Op.SCALAR_UNIFORM_SET_OP:
                code[i, 0] = Op.SCALAR_CONST_SET_OP
                data[i, 0] = data[i, 1]
                data[i, 1] = 0.0
                data[i, 2] = 0.0
                changed = True
            elif not same(data[i, 2], data[i, 1]):
                data[i, 2] = data[i, 1]
                changed = True
            continue
        if rec_st[i] != CONST or not (drawing or FOLD_CLASS[op] != FOLD_NONE):
            continue
        kind = ADDRESS_KINDS[op, 2]
        if kind == _SCALAR:
            code[i, 0] = Op.SCALAR_CONST_SET_OP
            data[i, 0] = v
            data[i, 1] = 0.0
            data[i, 2] = 0.0
        elif _is_f32(v):  # a uniform-set with low == high writes low everywhere, drawing nothing
            code[i, 0] = Op.VECTOR_UNIFORM_SET_OP if kind == _VECTOR else Op.MATRIX_UNIFORM_SET_OP
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


# -- the Python face -----------------------------------------------------------------------


def evaluate_op(op: int, a: float, b: float = 0.0) -> float | None:
    """The folded value of a pure op on constant (uniform) inputs, or None if not foldable."""
    ok, value = _eval(int(op), float(a), float(b))
    return float(value) if ok else None


def constant_values(program: Program) -> list[float | None]:
    """Per instruction, the value it writes when that is the same in every execution, else None.

    Vector and matrix constants are reported as the single value of all their elements.
    """
    st, val, _, _ = _constants(*writable(program))
    return [float(v) if s == CONST else None for s, v in zip(st, val, strict=True)]


def fold_constants(program: Program) -> Program:
    """Replace pure instructions with constant results by constant writes (see module doc)."""
    if len(program) == 0:
        return program
    code, data, changed = fold_arrays(*writable(program))
    if not changed:
        return program
    return program_of(code, data, program.bounds)
