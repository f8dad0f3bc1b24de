"""Canonical form: equal programs print equal, and hash to the same `canonical_key`.

Three behaviour-preserving normalisations, applied per component to live code:

1. unused fields zeroed: addresses an op does not read or write, data fields it does not use;
   a uniform-set with not f0 < f1 (a constant, see `ir.ops.uses_uniform_constant`) gets
   f1 = f0, and the scalar one becomes SCALAR_CONST_SET with act = f0;
2. independent instructions in a stable order: a topological sort of each component's
   dependency DAG (read-after-write, write-after-read, write-after-write, per address, and
   every random op after the previous one: the generator pseudo-location) choosing among ready
   instructions by a structural label that does not depend on address names (op, data and the
   labels of the instructions that produced its inputs; then the labels of its consumers);
3. addresses renamed in order of first use per kind (Setup, Predict, Learn; in1, in2, out),
   except the reserved s0, s1 and v0. All other addresses start zeroed and are never touched by
   the harness, so any bijection between them preserves behaviour; first-use numbering never
   uses a larger address than the original, so the result fits any memory the original fits.
   The addresses of one kind that no instruction writes (partial writes count) hold 0.0 in
   every element all the time, so they all get one name.

The ordering is a heuristic canonical form (graph canonisation in general is not attempted):
two programs with the same key always behave identically; two equivalent programs may still get
different keys in rare symmetric cases (e.g. two identical constants feeding different uses).
The hot part (`_canonicalise`) runs in numba so that a key costs microseconds.
"""

from __future__ import annotations

import hashlib

import numpy as np
from numba import njit, uint64

from ..ir.liveness import address_span, location, rng_location
from ..ir.numeric import nb_draws
from ..ir.ops import ADDRESS_KINDS, DATA_FIELDS, KIND_NONE, PARTIAL_WRITE, UNIFORM_SET, Op
from ..ir.program import Program
from .arrays import compact_arrays, program_of, writable
from .liveness import _liveness

# -- the compiled core ----------------------------------------------------------------------

_NO_OP = int(Op.NO_OP)  # numba compares arrays with ints, not with IntEnum members

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
def _shares(x, y):
    """Whether a location of x (its entries >= 0; -1 = none) is also in y."""
    for a in range(x.shape[0]):
        if x[a] >= 0:
            for b in range(y.shape[0]):
                if y[b] == x[a]:
                    return True
    return False


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
            # read-after-write, write-after-write, write-after-read
            if (
                _shares(writes[i], reads[j])
                or _shares(writes[i], writes[j])
                or _shares(reads[i], writes[j])
            ):
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
        keep = code[:, 0] != _NO_OP
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


# -- the Python face -----------------------------------------------------------------------


def canonical_arrays(
    program: Program, *, dce: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The canonical (code, data, bounds) of `program` (dead code removed unless dce=False)."""
    return _canonicalise(*writable(program), dce)


def canonicalize(program: Program, *, dce: bool = True) -> Program:
    """The canonical form of `program` as a Program (see the module docstring)."""
    code, data, bounds = _canonicalise(*writable(program), dce)
    return program_of(code, data, bounds)


def key_of_arrays(code: np.ndarray, data: np.ndarray, bounds: np.ndarray) -> str:
    """blake2b (128-bit) hex digest of canonical arrays (int64 bounds, int32 code, f64 data)."""
    h = hashlib.blake2b(bounds.astype(np.int64, copy=False), digest_size=16)
    h.update(np.ascontiguousarray(code, dtype=np.int32))
    h.update(np.ascontiguousarray(data, dtype=np.float64))
    return h.hexdigest()
