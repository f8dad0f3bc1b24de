"""Which instructions can influence a prediction: the one liveness analysis, in numba.

Passes (`passes.liveness`, dead-code removal), the search's dead-code removal and the
interpreter's pruning all call `live_rows`. Locations are numbered `location(kind, address,
span)`: scalars from 0, vectors from `span`, matrices from 2 * span (kinds coded as in
`ir.ops.KIND_CODES`), and the generator is one pseudo-location after them, `rng_location(span)`;
`span` is more than any address used. An evaluation runs Setup; (Predict; Learn)*; Predict,
where the harness writes s0 and v0 before every Predict and Learn and reads s1 after every
Predict (docs/semantics.md#liveness).
An instruction is live when it writes a live location, or draws from the generator while the
generator is live (later live draws depend on it); a const-set on a vector or matrix writes one
element, so it does not kill its output.
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

from .numeric import nb_draws
from .ops import ADDRESS_KINDS, KIND_CODES, KIND_NONE, PARTIAL_WRITE, SCALAR, VECTOR

_S = KIND_CODES[SCALAR]
_V = KIND_CODES[VECTOR]

_JIT = {"cache": True, "error_model": "numpy", "nogil": True}


@njit(**_JIT, inline="always")
def location(kind, address, span):
    """The liveness location of `address` of kind code `kind` (not KIND_NONE)."""
    return (kind - 1) * span + address


@njit(**_JIT, inline="always")
def rng_location(span):
    """The generator's pseudo-location."""
    return 3 * span


@njit(**_JIT)
def n_locations(span: int) -> int:
    """Length of a liveness set for addresses below `span`."""
    return 4 * span


@njit(**_JIT, inline="always")
def backward(code, data, lo, hi, live, span, flags):
    """Walk rows hi-1..lo turning `live` (live-out) into the live-in set; flags[i] = live."""
    for i in range(hi - 1, lo - 1, -1):
        op = code[i, 0]
        ko = ADDRESS_KINDS[op, 2]
        if ko == KIND_NONE:  # NoOp
            flags[i] = False
            continue
        out = location(ko, code[i, 3], span)
        rnd = nb_draws(op, data[i, 1], data[i, 2])
        if not (live[out] or (rnd and live[rng_location(span)])):
            flags[i] = False
            continue
        flags[i] = True
        live[out] = PARTIAL_WRITE[op]
        if rnd:
            live[rng_location(span)] = True
        k1 = ADDRESS_KINDS[op, 0]
        if k1 != KIND_NONE:
            live[location(k1, code[i, 1], span)] = True
        k2 = ADDRESS_KINDS[op, 1]
        if k2 != KIND_NONE:
            live[location(k2, code[i, 2], span)] = True


@njit(**_JIT, inline="always")
def _harness(live, span):
    """The harness writes s0 and v0 before every Predict and Learn."""
    live[location(_S, 0, span)] = False
    live[location(_V, 0, span)] = False


@njit(**_JIT, inline="always")
def _differs(a, b):
    for q in range(a.shape[0]):  # noqa: SIM110 (numba compiles loops, not generators)
        if a[q] != b[q]:
            return True
    return False


@njit(**_JIT, inline="always")
def live_rows(code, data, bounds, span, flags, in_p, in_l, cur):
    """Mark flags[i] for every row of the program (components split at bounds) that can
    influence a prediction. Buffers of `n_locations(span)` bools: on return `in_p` and `in_l`
    hold the live-in sets of Predict and Learn, `cur` that of Setup. Allocates nothing."""
    n_loc = cur.shape[0]
    for q in range(n_loc):
        in_p[q] = False
        in_l[q] = False
    while True:
        # Learn: followed by Predict (or the end).
        for q in range(n_loc):
            cur[q] = in_p[q]
        _harness(cur, span)
        backward(code, data, bounds[2], bounds[3], cur, span, flags)
        changed = _differs(cur, in_l)
        for q in range(n_loc):
            in_l[q] = cur[q]
        # Predict: followed by Learn, Predict or the end; s1 is observed.
        for q in range(n_loc):
            cur[q] = in_p[q] or in_l[q]
        _harness(cur, span)
        cur[location(_S, 1, span)] = True
        backward(code, data, bounds[1], bounds[2], cur, span, flags)
        changed = _differs(cur, in_p) or changed
        for q in range(n_loc):
            in_p[q] = cur[q]
        if not changed:
            break
    # Setup: followed by Predict.
    for q in range(n_loc):
        cur[q] = in_p[q]
    _harness(cur, span)
    backward(code, data, bounds[0], bounds[1], cur, span, flags)


# -- the same analysis on one-word bit sets ---------------------------------------------------
# When every location fits one uint64 (`fits_word`), a liveness set is a bit set and a row's
# transfer function three masks, so the fixed point runs without per-location loops: the
# search's dead-code removal of each child uses it (the same flags as `live_rows`).


@njit(**_JIT, inline="always")
def fits_word(span):
    """Whether every location below `span`, the generator's included, is a bit of a uint64."""
    return rng_location(span) < 64


@njit(**_JIT, inline="always")
def _bit(used, loc):
    """The bit of location `loc` when `used`, else 0 (no branch; the shift stays in range)."""
    return uint64(used) << uint64(loc * used)


@njit(**_JIT, inline="always")
def _row_masks(code, data, lo, hi, span, masks):
    """Per row i in lo..hi-1, `backward`'s rule as masks: masks[i, 0] the locations that make
    the row live (its output, the generator when it draws), masks[i, 1] those it kills (its
    output), masks[i, 2] those it makes live (its inputs, the generator when it draws, and its
    output when it writes one element)."""
    rng = uint64(1) << uint64(rng_location(span))
    for i in range(lo, hi):
        op = code[i, 0]
        k1, k2, ko = ADDRESS_KINDS[op, 0], ADDRESS_KINDS[op, 1], ADDRESS_KINDS[op, 2]
        out = _bit(ko != KIND_NONE, location(ko, code[i, 3], span))
        r = rng * uint64(nb_draws(op, data[i, 1], data[i, 2]))
        gen = _bit(k1 != KIND_NONE, location(k1, code[i, 1], span)) | r
        gen |= _bit(k2 != KIND_NONE, location(k2, code[i, 2], span))
        masks[i, 0] = out | r
        masks[i, 1] = out
        masks[i, 2] = gen | (out * uint64(PARTIAL_WRITE[op]))


@njit(**_JIT, inline="always")
def _backward_word(masks, lo, hi, live, flags):
    """`backward` on a bit set: returns the live-in set of rows lo..hi-1 given live-out."""
    for i in range(hi - 1, lo - 1, -1):
        f = (live & masks[i, 0]) != uint64(0)
        flags[i] = f
        m = uint64(0) - uint64(f)
        live = (live & ~(masks[i, 1] & m)) | (masks[i, 2] & m)
    return live


@njit(**_JIT, inline="always")
def live_rows_word(code, data, bounds, span, flags, masks):
    """`live_rows` with one-word bit sets (needs `fits_word(span)`): the same flags. `masks` is
    uint64[rows, 3] scratch. Returns the live-in sets of Predict and Learn as bit sets."""
    _row_masks(code, data, bounds[0], bounds[3], span, masks)
    harness = ~(uint64(1) << uint64(location(_S, 0, span)))
    harness &= ~(uint64(1) << uint64(location(_V, 0, span)))
    s1 = uint64(1) << uint64(location(_S, 1, span))
    in_p = uint64(0)
    in_l = uint64(0)
    while True:
        new_l = _backward_word(masks, bounds[2], bounds[3], in_p & harness, flags)
        new_p = _backward_word(masks, bounds[1], bounds[2], ((in_p | new_l) & harness) | s1, flags)
        if new_l == in_l and new_p == in_p:
            break
        in_l = new_l
        in_p = new_p
    _backward_word(masks, bounds[0], bounds[1], in_p & harness, flags)
    return in_p, in_l


@njit(**_JIT)
def address_span(code) -> int:
    """One more than the largest address any instruction uses (at least 2: s0, s1)."""
    span = 2
    for i in range(code.shape[0]):
        op = code[i, 0]
        for f in range(3):
            if ADDRESS_KINDS[op, f] != KIND_NONE and code[i, f + 1] + 1 > span:
                span = code[i, f + 1] + 1
    return span


@njit(**_JIT)
def liveness_buffers(rows: int, span: int) -> tuple[np.ndarray, ...]:
    """(flags, in_p, in_l, cur) for `live_rows` on programs of up to `rows` rows."""
    n = n_locations(span)
    return (
        np.zeros(max(rows, 1), dtype=np.bool_),
        np.zeros(n, dtype=np.bool_),
        np.zeros(n, dtype=np.bool_),
        np.zeros(n, dtype=np.bool_),
    )


@njit(**_JIT)
def live_mask(code, data, bounds) -> np.ndarray:
    """bool[n]: whether each row of the program (code int32[n, 4], data float64[n, 4], bounds
    int64[4]) can influence a prediction (`live_rows` on buffers of its own)."""
    span = address_span(code)
    flags, in_p, in_l, cur = liveness_buffers(code.shape[0], span)
    live_rows(code, data, bounds, span, flags, in_p, in_l, cur)
    return flags[: code.shape[0]]
