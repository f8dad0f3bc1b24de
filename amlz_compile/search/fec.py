"""Functional-equivalence cache and the LRU cache it shares with structural dedup
(docs/semantics.md#functional-equivalence-cache).

The LRU is a set of flat arrays (so compiled code uses it without Python and a checkpoint saves
it exactly, LRU order included): a linear-probing hash table from 64-bit keys to nodes and a
doubly linked recency list of nodes holding (key, value, hit count). Semantics follow the
reference: a hit moves the entry to the front and increments its count (1 on insertion); when
`forget_every` != 0 and the count reaches it the entry is erased (this hit still returns the
value); an insertion beyond `capacity` evicts the least recently used entry. Key 0 is reserved.

The FEC key of one (program, task) evaluation folds, starting from 42, every recorded training
error, every recorded validation error, the task index and the budgeted training count into a
64-bit hash (`mix`, a multiply-xorshift step; the reference uses its HashCombine — only the
collision behaviour of the two differ). Errors are hashed exactly (±0.0 -> 0, else their bits).
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

from ..ir.numeric import float_bits

# meta fields
HEAD, TAIL, SIZE, CAPACITY, FREE, MASK, FORGET = 0, 1, 2, 3, 4, 5, 6
META_LEN = 7

MIX_MUL = 0x9E3779B97F4A7C15
FINAL_MUL1 = 0xBF58476D1CE4E5B9
FINAL_MUL2 = 0x94D049BB133111EB
HASH_START = 42

_JIT = {"cache": True}
_INLINE = {"cache": True, "inline": "always"}
# The LRU's entry points are compiled once and called: inlined at numba's level into each of
# their ~10 call sites in the search kernel, they were typed and lowered again at each, a large
# part of a cold start's compile time. They allocate nothing, so they run without reference
# counting. The FEC lookup of every task of every child, the hot path, calls the inlined twins
# (`*_inlined`): a call there slowed the demo search
# (docs/benchmarks.md#two-cores-for-the-search-kernel-4-dec-2026).
_LRU_ENTRY = {"cache": True, "_nrt": False}


# -- hashing ---------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def mix(h, v):
    """Fold the 64-bit value v into hash h."""
    h = (h ^ v) * uint64(MIX_MUL)
    return h ^ (h >> uint64(32))


@njit(cache=True, inline="always")
def double_bits(x):
    """The hashed form of a double: 0 for +-0.0, else its IEEE bits (x + 0.0 maps -0.0 to +0.0
    and leaves every other value, NaN payloads aside, unchanged)."""
    return uint64(float_bits(x + 0.0))


@njit(cache=True, inline="always")
def finalize(h):
    """SplitMix64's finaliser; never returns 0 (the empty-slot key)."""
    h = (h ^ (h >> uint64(30))) * uint64(FINAL_MUL1)
    h = (h ^ (h >> uint64(27))) * uint64(FINAL_MUL2)
    h = h ^ (h >> uint64(31))
    if h == uint64(0):
        h = uint64(1)
    return h


# -- the LRU -----------------------------------------------------------------------------------


def lru_new(capacity: int, forget_every: int = 0) -> tuple:
    """Empty cache arrays: (meta, keys, vals, counts, prev, next, table)."""
    if capacity < 1:
        raise ValueError(f"cache capacity must be >= 1, got {capacity}")
    tsize = 1
    while tsize < 2 * capacity:
        tsize *= 2
    meta = np.zeros(META_LEN, dtype=np.int64)
    meta[HEAD] = meta[TAIL] = -1
    meta[CAPACITY] = capacity
    meta[FREE] = 0
    meta[MASK] = tsize - 1
    meta[FORGET] = forget_every
    nxt = np.arange(1, capacity + 1, dtype=np.int64)
    nxt[-1] = -1
    return (
        meta,
        np.zeros(capacity, dtype=np.uint64),
        np.zeros(capacity, dtype=np.float64),
        np.zeros(capacity, dtype=np.int64),
        np.full(capacity, -1, dtype=np.int64),
        nxt,
        np.full(tsize, -1, dtype=np.int64),
    )


LRU_FIELDS = ("meta", "keys", "vals", "counts", "prev", "next", "table")


@njit(**_INLINE)
def _find_slot(c, key):
    """Table slot holding key, or -1."""
    meta, keys, table = c[0], c[1], c[6]
    mask = uint64(meta[MASK])
    i = np.int64(key & mask)
    while True:
        node = table[i]
        if node < 0:
            return -1
        if keys[node] == key:
            return i
        i = (i + 1) & meta[MASK]


@njit(**_INLINE)
def _unlink(c, node):
    meta, prev, nxt = c[0], c[4], c[5]
    p = prev[node]
    n = nxt[node]
    if p >= 0:
        nxt[p] = n
    else:
        meta[HEAD] = n
    if n >= 0:
        prev[n] = p
    else:
        meta[TAIL] = p


@njit(**_INLINE)
def _push_front(c, node):
    meta, prev, nxt = c[0], c[4], c[5]
    prev[node] = -1
    nxt[node] = meta[HEAD]
    if meta[HEAD] >= 0:
        prev[meta[HEAD]] = node
    meta[HEAD] = node
    if meta[TAIL] < 0:
        meta[TAIL] = node


@njit(**_INLINE)
def _table_delete(c, i):
    """Backward-shift deletion at table slot i (keeps probe chains intact)."""
    meta, keys, table = c[0], c[1], c[6]
    mask = meta[MASK]
    j = i
    while True:
        j = (j + 1) & mask
        node = table[j]
        if node < 0:
            break
        k = np.int64(keys[node] & uint64(mask))
        if (j > i and (k <= i or k > j)) or (j < i and (k <= i and k > j)):
            table[i] = node
            i = j
    table[i] = -1


@njit(**_INLINE)
def _erase_slot(c, i):
    meta, nxt, table = c[0], c[5], c[6]
    node = table[i]
    _table_delete(c, i)
    _unlink(c, node)
    nxt[node] = meta[FREE]
    meta[FREE] = node
    meta[SIZE] -= 1


def _lru_get(c, key):
    """(hit, value); a hit counts, moves to the front, and may be forgotten."""
    i = _find_slot(c, key)
    if i < 0:
        return False, 0.0
    meta, vals, counts, table = c[0], c[2], c[3], c[6]
    node = table[i]
    value = vals[node]
    counts[node] += 1
    _unlink(c, node)
    _push_front(c, node)
    forget = meta[FORGET]
    if forget != 0 and counts[node] >= forget:
        _erase_slot(c, i)
    return True, value


@njit(**_LRU_ENTRY)
def lru_contains(c, key):
    """Whether key is cached (changes nothing: no count, no move, no forgetting)."""
    return _find_slot(c, key) >= 0


@njit(**_LRU_ENTRY)
def lru_count(c, key):
    """How often key was found since it was put (0 when not cached); changes nothing."""
    i = _find_slot(c, key)
    return 0 if i < 0 else c[3][c[6][i]]


@njit(**_LRU_ENTRY)
def lru_set(c, key, value):
    """Replace the value of a cached key in place (no count, no move); False if not cached."""
    i = _find_slot(c, key)
    if i < 0:
        return False
    c[2][c[6][i]] = value
    return True


def _lru_put(c, key, value):
    """Insert (or overwrite) key at the front with count 1, evicting the LRU entry if full."""
    meta, keys, vals, counts, nxt, table = c[0], c[1], c[2], c[3], c[5], c[6]
    i = _find_slot(c, key)
    if i >= 0:
        _erase_slot(c, i)
    if meta[SIZE] >= meta[CAPACITY]:
        tail = meta[TAIL]
        _erase_slot(c, _find_slot(c, keys[tail]))
    node = meta[FREE]
    meta[FREE] = nxt[node]
    keys[node] = key
    vals[node] = value
    counts[node] = 1
    _push_front(c, node)
    mask = meta[MASK]
    j = np.int64(key & uint64(mask))
    while table[j] >= 0:
        j = (j + 1) & mask
    table[j] = node
    meta[SIZE] += 1


lru_get = njit(**_LRU_ENTRY)(_lru_get)
lru_put = njit(**_LRU_ENTRY)(_lru_put)
lru_get_inlined = njit(**_INLINE)(_lru_get)
lru_put_inlined = njit(**_INLINE)(_lru_put)


@njit(**_JIT)
def lru_order(c):
    """Keys from most to least recently used."""
    meta, keys, nxt = c[0], c[1], c[5]
    out = np.empty(meta[SIZE], dtype=np.uint64)
    node = meta[HEAD]
    k = 0
    while node >= 0:
        out[k] = keys[node]
        k += 1
        node = nxt[node]
    return out


class LRUCache:
    """Python face of the compiled LRU (tests, tools); `arrays` is what compiled code uses."""

    def __init__(self, capacity: int, forget_every: int = 0) -> None:
        self.arrays = lru_new(capacity, forget_every)

    def get(self, key: int) -> float | None:
        hit, value = lru_get(self.arrays, np.uint64(key))
        return float(value) if hit else None

    def put(self, key: int, value: float) -> None:
        if key == 0:
            raise ValueError("key 0 is reserved")
        lru_put(self.arrays, np.uint64(key), float(value))

    def keys(self) -> list[int]:
        """Most recently used first."""
        return [int(k) for k in lru_order(self.arrays)]

    def count(self, key: int) -> int:
        i = _find_slot(self.arrays, np.uint64(key))
        return 0 if i < 0 else int(self.arrays[3][self.arrays[6][i]])

    def __len__(self) -> int:
        return int(self.arrays[0][SIZE])

    def __contains__(self, key: int) -> bool:
        return _find_slot(self.arrays, np.uint64(key)) >= 0


# -- the FEC fingerprint ------------------------------------------------------------------------


@njit(**_JIT)
def fingerprint(trace, written, epochs_validated, train_steps, n_first, train_y, order0, valid_y,
                n_valid, is_accuracy, max_abs_error, task_index, n_train):  # fmt: skip
    """FEC key of one fingerprint run from its prediction trace.

    The trace holds the s1 of the first epoch's `n_first` training steps (after the sigmoid for
    accuracy tasks), then of the first validation pass. Recorded training errors are |y - s1|
    up to (excluding) a failing step; validation errors are |y - s1| (RMS; a NaN or too large
    one ends the list unrecorded) or the 0/1 misclassification (accuracy); a failed training
    run records no validation errors.
    """
    h = uint64(HASH_START)
    if epochs_validated == 0:
        n_rec = min(train_steps - 1, written)
    else:
        n_rec = min(n_first, written)
    for k in range(n_rec):
        h = mix(h, double_bits(abs(train_y[order0[k]] - trace[k])))
    if epochs_validated > 0:
        for k in range(min(n_valid, written - n_first)):
            s1 = trace[n_first + k]
            y = valid_y[k]
            if is_accuracy:
                p = 1.0 / (1.0 + np.exp(-s1))
                e = 0.0 if (y > 0.5) == (p > 0.5) else 1.0
            else:
                e = abs(y - s1)
                if not e <= max_abs_error:
                    break
            h = mix(h, double_bits(e))
    h = mix(h, uint64(task_index))
    h = mix(h, uint64(n_train))
    return finalize(h)
