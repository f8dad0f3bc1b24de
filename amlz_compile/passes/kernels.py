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

from ..ir.liveness import address_span, live_rows, liveness_buffers, location, rng_location
from ..ir.numeric import nb_draws
from ..ir.op_dispatch import run_op
from ..ir.ops import (
    ADDRESS_KINDS,
    CONST_SET,
    DATA_FIELDS,
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
    PARTIAL_WRITE,
    RANDOM,
    SCALAR,
    UNIFORM_SET,
    VECTOR,
    Op,
)

MAX_ROUNDS = 20


def writable(program) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Writable copies of a Program's (code, data, bounds) (Program arrays are read-only)."""
    return np.array(program.code), np.array(program.data), np.array(program.bounds)


# -- liveness (the one analysis lives in ir.liveness) ---------------------------------------


@njit(cache=True)
def _liveness(code, data, bounds):
    """(live rows, live-in of Setup, of Predict, of Learn, span) of a program."""
    span = address_span(code)
    flags, in_p, in_l, cur = liveness_buffers(code.shape[0], span)
    live_rows(code, data, bounds, span, flags, in_p, in_l, cur)
    return flags[: code.shape[0]], cur, in_p, in_l, span


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

TOP, CONST, NAC = 0, 1, 2
_SCALAR = KIND_CODES[SCALAR]
_VECTOR = KIND_CODES[VECTOR]  # lattice: no execution yet / same value in every execution / varies


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
            code[i] = 0
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


# -- canonical order and names ----------------------------------------------------------------


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
        if UNIFORM_SET[op] and not (data[i, 1] < data[i, 2]):
            if op == Op.SCALAR_UNIFORM_SET_OP:
                code[i, 0] = Op.SCALAR_CONST_SET_OP
                data[i, 0] = data[i, 1]
                op = code[i, 0]
            else:
                data[i, 2] = data[i, 1]
        for f in range(3):
            if ADDRESS_KINDS[op, f] == KIND_NONE:
                code[i, f + 1] = 0
        for f in range(4):
            if not DATA_FIELDS[op, f]:
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
    for f in range(2):
        if ADDRESS_KINDS[op, f] != KIND_NONE:
            reads[f] = location(ADDRESS_KINDS[op, f], code[i, f + 1], span)
    if ADDRESS_KINDS[op, 2] != KIND_NONE:
        writes[0] = location(ADDRESS_KINDS[op, 2], code[i, 3], span)
        if PARTIAL_WRITE[op]:
            reads[2] = writes[0]
    if nb_draws(op, data[i, 1], data[i, 2]):
        writes[1] = rng_location(span)


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
    # rename by first use; every address that no instruction writes (and the harness does not
    # set) holds 0.0 in every element all the time, so all of one kind share one name
    written = np.zeros((3, span), dtype=np.bool_)
    written[0, 0] = True
    written[0, 1] = True
    written[1, 0] = True
    for i in range(m):
        kind = ADDRESS_KINDS[c[i, 0], 2] - 1
        if kind >= 0:
            written[kind, c[i, 3]] = True
    zero = np.full(3, -1, dtype=np.int64)
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
        for f in range(3):
            kind = ADDRESS_KINDS[op, f] - 1  # the row of `mapping`
            if kind < 0:
                oc[k, f + 1] = 0
                continue
            a = c[i, f + 1]
            if mapping[kind, a] < 0:
                if not written[kind, a] and zero[kind] >= 0:
                    mapping[kind, a] = zero[kind]
                else:
                    mapping[kind, a] = nxt[kind]
                    nxt[kind] += 1
                    if not written[kind, a]:
                        zero[kind] = mapping[kind, a]
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
