"""The numba core of the passes: liveness, dead-row removal, constant folding, canonical order.

All compiled code of the passes lives in this one module on purpose: numba's on-disk cache
(`cache=True`) is invalidated only when the file defining a function changes, not when a callee
in another file does, so kernels that call each other across files could run stale code after
an edit or an upgrade. The public, documented entry points are in `liveness`, `dce`, `fold`,
`canon` and `simplify`; see their docstrings for what each analysis means.

Callers pass writable arrays (`writable(program)`), except to `simplify_arrays`, which copies its
inputs: numba compiles a separate specialisation for read-only arrays, and compile time matters.

Programs are the flat arrays of `ir.program.Program`: code int32[n,4] [op, in1, in2, out], data
float64[n,4] [act, f0, f1, f2], bounds int64[4]. Locations are numbered kind * span + address
with kinds 0 = scalar, 1 = vector, 2 = matrix, 3 = the random generator (address 0), where span
is one more than the largest address used.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, uint64

from ..ir.ops import MATRIX, OPS, SCALAR, VECTOR

MAX_ROUNDS = 20


def writable(program) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Writable copies of a Program's (code, data, bounds) (Program arrays are read-only)."""
    return np.array(program.code), np.array(program.data), np.array(program.bounds)


# -- op tables and liveness ----------------------------------------------------------------------

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


@njit(cache=True)
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


# -- dead-row removal -----------------------------------------------------------------------


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


# -- constant folding ------------------------------------------------------------------------

_JIT = {"cache": True, "error_model": "numpy"}

TOP, CONST, NAC = 0, 1, 2  # lattice: no execution yet / same value in every execution / varies

_UNARY_OPS = (5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 19, 20, 22, 30, 32, 33, 37, 38)
_BINARY_OPS = (1, 2, 3, 4, 18, 23, 24, 25, 26, 28, 29, 39, 40, 41, 42, 44, 45, 46, 47, 48, 49)
# reductions: folded only when every summed term is +0.0, +-inf or NaN (then F does not matter)
_REDUCTION_OPS = (21, 27, 31, 34, 35, 36, 43, 50, 51, 52, 53, 54, 55)
#: ops whose result can be folded from constant (uniform) inputs
FOLDABLE = frozenset(_UNARY_OPS + _BINARY_OPS + _REDUCTION_OPS)
_FOLDABLE = np.zeros(65, dtype=np.bool_)
_FOLDABLE[list(FOLDABLE)] = True
_FOLDABLE.flags.writeable = False


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
    # reductions (interpreter formulas: acc = 0.0; acc += term; mean = acc / F) on uniform
    # inputs whose terms make them independent of F; a sum of such terms is 0.0 + p
    if op == 21 or op == 34 or op == 35 or op == 36:
        p = a * a
        if _sum_ok(p):
            return True, math.sqrt(0.0 + p)
        return False, 0.0
    if op == 27 or op == 31 or op == 43:
        p = a * b
        if _sum_ok(p):
            return True, 0.0 + p
        return False, 0.0
    if op == 50 or op == 51 or op == 52:
        if _sum_ok(a):
            return True, 0.0 + a
        return False, 0.0
    if op == 53 or op == 54 or op == 55:
        if _sum_ok(a) and _sum_ok(a * a):
            mean = 0.0 + a
            return True, math.sqrt((0.0 + a * a) - mean * mean)
        return False, 0.0
    return False, 0.0


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


@njit(cache=True)
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


# -- canonical order and names ----------------------------------------------------------------

#: per op, which of the data fields act, f0, f1, f2 it reads (1) or ignores (0)
DATA_USED = np.array(
    [[int(f in info.data) for f in ("act", "f0", "f1", "f2")] for info in OPS], dtype=np.int64
)
DATA_USED.flags.writeable = False

_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_G = 0x9E3779B97F4A7C15


@njit(cache=True)
def _mix(h, x):
    z = (h ^ x) + uint64(_G)
    z = (z ^ (z >> uint64(30))) * uint64(_M1)
    z = (z ^ (z >> uint64(27))) * uint64(_M2)
    return z ^ (z >> uint64(31))


@njit(cache=True)
def _normalise(code, data):
    """Zero unused fields and normalise constant uniform-sets (in place)."""
    for i in range(code.shape[0]):
        op = code[i, 0]
        if UNIFORM[op] == 1 and not (data[i, 1] < data[i, 2]):
            if op == 59:
                code[i, 0] = 56
                data[i, 0] = data[i, 1]
                op = 56
            else:
                data[i, 2] = data[i, 1]
        if IN1_KIND[op] < 0:
            code[i, 1] = 0
        if IN2_KIND[op] < 0:
            code[i, 2] = 0
        if OUT_KIND[op] < 0:
            code[i, 3] = 0
        for f in range(4):
            if DATA_USED[op, f] == 0:
                data[i, f] = 0.0


@njit(cache=True)
def _locs(code, data, i, span, reads, writes):
    """Fill reads[0:3] / writes[0:2] with the locations of instruction i (-1 = none).

    writes[1] is the generator pseudo-location for drawing ops (which also read it).
    """
    op = code[i, 0]
    for k in range(3):
        reads[k] = -1
    writes[0] = -1
    writes[1] = -1
    if IN1_KIND[op] >= 0:
        reads[0] = IN1_KIND[op] * span + code[i, 1]
    if IN2_KIND[op] >= 0:
        reads[1] = IN2_KIND[op] * span + code[i, 2]
    if OUT_KIND[op] >= 0:
        writes[0] = OUT_KIND[op] * span + code[i, 3]
        if PARTIAL[op] == 1:
            reads[2] = writes[0]
    if draws(code, data, i):
        writes[1] = RNG_KIND * span


@njit(cache=True)
def _order_component(code, data, bits, lo, hi, span, order, pos):
    """Append the canonical order of rows lo..hi-1 to `order` starting at pos; return new pos."""
    n = hi - lo
    if n == 0:
        return pos
    reads = np.empty((n, 4), dtype=np.int64)
    writes = np.empty((n, 2), dtype=np.int64)
    r = np.empty(3, dtype=np.int64)
    w = np.empty(2, dtype=np.int64)
    for k in range(n):
        _locs(code, data, lo + k, span, r, w)
        reads[k, 0] = r[0]
        reads[k, 1] = r[1]
        reads[k, 2] = r[2]
        reads[k, 3] = w[1]  # a drawing op also reads the generator state
        writes[k, 0] = w[0]
        writes[k, 1] = w[1]
    # structural labels (forward): op, data bits and the labels of the producers of the inputs
    n_loc = 4 * span
    cur = np.empty(n_loc, dtype=np.uint64)
    for loc in range(n_loc):
        cur[loc] = _mix(uint64(loc // span + 1), uint64(0x51ED))
    cur[0] = uint64(0xA11CE)  # s0
    cur[1] = uint64(0xB0B)  # s1
    cur[span] = uint64(0xCAFE)  # v0
    label = np.empty(n, dtype=np.uint64)
    producer = np.full((n, 4), -1, dtype=np.int64)
    last = np.full(n_loc, -1, dtype=np.int64)
    for k in range(n):
        i = lo + k
        h = _mix(uint64(code[i, 0]), uint64(0x0F))
        for f in range(4):
            h = _mix(h, uint64(bits[i, f]))
        for a in range(4):
            loc = reads[k, a]
            if loc >= 0:
                h = _mix(h, cur[loc] + uint64(a))
                producer[k, a] = last[loc]
        label[k] = h
        for a in range(2):
            loc = writes[k, a]
            if loc >= 0:
                cur[loc] = h
                last[loc] = k
    # backward labels: the consumers (label and argument position) and whether the value
    # survives to the end of the component
    back = np.zeros(n, dtype=np.uint64)
    for k in range(n):
        for a in range(4):
            p = producer[k, a]
            if p >= 0:
                back[p] += _mix(label[k], uint64(a + 7))
    for loc in range(n_loc):
        if last[loc] >= 0:
            back[last[loc]] += uint64(0x1A57)
    # dependency DAG
    dep = np.zeros((n, n), dtype=np.bool_)
    indeg = np.zeros(n, dtype=np.int64)
    for j in range(n):
        for i in range(j):
            hit = False
            for a in range(2):
                wi = writes[i, a]
                if wi < 0:
                    continue
                for b in range(4):
                    if reads[j, b] == wi:
                        hit = True
                for b in range(2):
                    if writes[j, b] == wi:
                        hit = True
            for a in range(4):
                ri = reads[i, a]
                if ri < 0:
                    continue
                for b in range(2):
                    if writes[j, b] == ri:
                        hit = True
            if hit:
                dep[i, j] = True
                indeg[j] += 1
    # Kahn's algorithm, smallest (label, back, index) first
    done = np.zeros(n, dtype=np.bool_)
    for _ in range(n):
        best = -1
        for k in range(n):
            if done[k] or indeg[k] != 0:
                continue
            if (
                best < 0
                or label[k] < label[best]
                or (label[k] == label[best] and back[k] < back[best])
            ):
                best = k
        done[best] = True
        order[pos] = lo + best
        pos += 1
        for j in range(n):
            if dep[best, j]:
                indeg[j] -= 1
    return pos


@njit(cache=True)
def _canonicalise(code, data, bounds, do_dce):
    """DCE (optional), normalisation, ordering and renaming of flat arrays: new arrays."""
    if do_dce:
        keep = _liveness(code, data, bounds)[0]
    else:
        keep = code[:, 0] != 0
    c, d, nb = compact_arrays(code, data, bounds, keep)
    m = c.shape[0]
    _normalise(c, d)
    bits = d.view(np.int64)
    span = address_span(c)
    order = np.empty(m, dtype=np.int64)
    pos = 0
    for comp in range(3):
        pos = _order_component(c, d, bits, nb[comp], nb[comp + 1], span, order, pos)
    # rename by first use
    mapping = np.full((3, span), -1, dtype=np.int64)
    mapping[0, 0] = 0
    mapping[0, 1] = 1
    mapping[1, 0] = 0
    nxt = np.array([2, 1, 0], dtype=np.int64)
    oc = np.empty((m, 4), dtype=np.int32)
    od = np.empty((m, 4), dtype=np.float64)
    for k in range(m):
        i = order[k]
        op = c[i, 0]
        oc[k, 0] = op
        kinds = (IN1_KIND[op], IN2_KIND[op], OUT_KIND[op])
        for f in range(3):
            kind = kinds[f]
            if kind < 0:
                oc[k, f + 1] = 0
                continue
            a = c[i, f + 1]
            if mapping[kind, a] < 0:
                mapping[kind, a] = nxt[kind]
                nxt[kind] += 1
            oc[k, f + 1] = mapping[kind, a]
        for f in range(4):
            od[k, f] = d[i, f]
    return oc, od, nb


# -- the pipeline ----------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def simplify_arrays(code, data, bounds, fold):
    """Fold (optional) + DCE rounds until nothing changes, then canonicalise.

    Returns (code, data, bounds, rounds).
    """
    # work on writable copies: every callee then has one compiled specialisation
    code = code.copy()
    data = data.copy()
    bounds = bounds.copy()
    rounds = 0
    while rounds < MAX_ROUNDS:
        rounds += 1
        changed = False
        if fold:
            code, data, changed = fold_arrays(code, data, bounds)
        code, data, bounds, removed = dce_arrays(code, data, bounds)
        if not (changed or removed):
            break
    c, d, b = _canonicalise(code, data, bounds, False)
    return c, d, b, rounds
