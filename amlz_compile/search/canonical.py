"""The live program of a child and its canonical form: dead-code removal (`ir.liveness`), the
structural key of dedup and the canonical program compiled code is keyed by.

Canonical form: addresses renumbered in order of first appearance (the reserved s0, s1 and v0
keep their numbers), commuting operands ordered, fields an op does not use zeroed. On zeroed
memory a renaming changes nothing a program computes, so equal keys mean equal behaviour (up to
64-bit hash collisions, as the reference's FEC).
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

from ..ir.liveness import fits_word, live_rows, live_rows_word
from ..ir.ops import ADDRESS_KINDS, COMMUTES, DATA_FIELDS, KIND_NONE
from .fec import double_bits, finalize, mix
from .kernel_layout import INLINE, NO_NRT


@njit(**NO_NRT)
def dce(code, data, sizes, span, ws):
    """Copy the live rows (`ir.liveness`) of a row buffer into ws's live program; returns the
    live row count."""
    flags = ws.live_flags
    sets = ws.live_sets
    lb = ws.live_bounds
    b1 = sizes[0]
    b2 = b1 + sizes[1]
    b3 = b2 + sizes[2]
    lb[0] = 0
    lb[1] = b1
    lb[2] = b2
    lb[3] = b3
    if fits_word(span):  # (small memories: the bit-set form, about twice as fast)
        live_rows_word(code, data, lb, span, flags, ws.live_masks)
    else:
        live_rows(code, data, lb, span, flags, sets[0], sets[1], sets[2])
    lc = ws.live_code
    ld = ws.live_data
    lb = ws.live_bounds
    n = 0
    lb[0] = 0
    for i in range(b3):
        if i == b1:
            lb[1] = n
        if i == b2:
            lb[2] = n
        if flags[i]:
            for q in range(4):
                lc[n, q] = code[i, q]
                ld[n, q] = data[i, q]
            n += 1
    if b1 == b3:
        lb[1] = n
    if b2 == b3:
        lb[2] = n
    lb[3] = n
    return n


# Per kind code (none, scalar, vector, matrix): how many addresses keep their numbers in the
# canonical form (s0, s1; v0; no matrix).
_RESERVED = np.array([0, 2, 1, 0], dtype=np.int64)


@njit(**INLINE)
def _rename(ren, nxt, kind, a):
    """Canonical number of address a of `kind`: reserved ones keep theirs, the others are
    numbered in order of first appearance."""
    if a < _RESERVED[kind]:
        return a
    r = ren[kind - 1, a]
    if r < 0:
        r = nxt[kind - 1]
        ren[kind - 1, a] = r
        nxt[kind - 1] = r + 1
    return r


@njit(**INLINE)
def _canonical_row(lc, i, ren, nxt):
    """Row i of a live program in canonical form: (op, in1, in2, out) with addresses renamed
    (`_rename`), unused inputs 0 and the operands of commuting ops ordered."""
    op = lc[i, 0]
    k1 = ADDRESS_KINDS[op, 0]
    k2 = ADDRESS_KINDS[op, 1]
    r1 = np.int64(0)
    r2 = np.int64(0)
    if k1 != KIND_NONE:
        r1 = _rename(ren, nxt, k1, lc[i, 1])
    if k2 != KIND_NONE:
        r2 = _rename(ren, nxt, k2, lc[i, 2])
    ro = _rename(ren, nxt, ADDRESS_KINDS[op, 2], lc[i, 3])
    if COMMUTES[op] and r2 < r1:
        r1, r2 = r2, r1
    return op, r1, r2, ro


@njit(**INLINE)
def _mix_row(h, ld, i, op, r1, r2, ro):
    """h with a canonical row folded in: its op and addresses, then the data fields it uses."""
    w = uint64(op) | (uint64(r1) << uint64(8)) | (uint64(r2) << uint64(24))
    h = mix(h, w | (uint64(ro) << uint64(40)))
    for q in range(4):
        if DATA_FIELDS[op, q]:
            h = mix(h, double_bits(ld[i, q]))
    return h


@njit(**NO_NRT)
def structure_key(lc, ld, lb, ntrain, n_tasks, with_budget, ren, nxt):
    """64-bit hash of a live program in canonical form, and, with a budget, of its decisions.

    Canonical form: non-reserved addresses renumbered per kind in order of first appearance
    (a bijection: memory starts zeroed, so behaviour is unchanged) and the operands of
    commuting ops sorted; only the fields an op uses are hashed. `ren` int64[3, A] and
    `nxt` int64[3] are scratch.
    """
    ren[:, :] = -1
    for k in range(3):
        nxt[k] = _RESERVED[k + 1]
    h = uint64(42)
    h = mix(h, uint64(lb[1]))
    h = mix(h, uint64(lb[2]))
    h = mix(h, uint64(lb[3]))
    for i in range(lb[3]):
        op, r1, r2, ro = _canonical_row(lc, i, ren, nxt)
        h = _mix_row(h, ld, i, op, r1, r2, ro)
    if with_budget:
        for t in range(n_tasks):
            h = mix(h, uint64(ntrain[t]))
    return finalize(h)


@njit(**INLINE)
def _canonical_rows(lc, ld, lo, hi, ren, nxt, cc, cd, h):
    """Rows lo..hi-1 of a live program in canonical form into cc/cd (the fields an op does not
    use zeroed); returns h with the rows folded in."""
    for i in range(lo, hi):
        op, r1, r2, ro = _canonical_row(lc, i, ren, nxt)
        cc[i, 0] = op
        cc[i, 1] = r1
        cc[i, 2] = r2
        cc[i, 3] = ro
        for q in range(4):
            cd[i, q] = ld[i, q] if DATA_FIELDS[op, q] else 0.0
        h = _mix_row(h, ld, i, op, r1, r2, ro)
    return h


@njit(**INLINE)
def tier_canonical(lc, ld, lb, ren, nxt, cc, cd):
    """The live program in canonical form for compiled code (into cc/cd, bounds lb), and its
    tier key: a 64-bit hash of the canonical Predict and Learn alone.

    Addresses are numbered in order of first appearance in Predict, then Learn, then Setup, so
    the Predict/Learn rows (what a given-memory kernel compiles) do not depend on Setup:
    children that differ in Setup or dead code share one kernel. Renaming is a bijection per
    kind on zeroed memory and commuting operands commute bit for bit, so the canonical program
    computes exactly what the live one does."""
    ren[:, :] = -1
    for k in range(3):
        nxt[k] = _RESERVED[k + 1]
    h = uint64(7)
    h = mix(h, uint64(lb[2] - lb[1]))
    h = mix(h, uint64(lb[3] - lb[2]))
    h = _canonical_rows(lc, ld, lb[1], lb[2], ren, nxt, cc, cd, h)
    h = _canonical_rows(lc, ld, lb[2], lb[3], ren, nxt, cc, cd, h)
    _canonical_rows(lc, ld, lb[0], lb[1], ren, nxt, cc, cd, h)
    return finalize(h)
