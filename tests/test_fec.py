"""FEC and the LRU cache it shares with structural dedup
(docs/semantics.md#functional-equivalence-cache)."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from amlz_compile.search.fec import HASH_START, LRUCache, finalize, fingerprint, mix


class ModelLRU:
    """The reference semantics, written plainly: count 1 on insert, hit moves to front and
    counts, erase when count reaches forget_every, evict least recently used beyond capacity."""

    def __init__(self, capacity, forget_every):
        self.capacity, self.forget = capacity, forget_every
        self.d: OrderedDict[int, list] = OrderedDict()  # last = most recent

    def get(self, key):
        if key not in self.d:
            return None
        entry = self.d.pop(key)
        entry[1] += 1
        self.d[key] = entry
        if self.forget and entry[1] >= self.forget:
            del self.d[key]
        return entry[0]

    def put(self, key, value):
        self.d.pop(key, None)
        if len(self.d) >= self.capacity:
            self.d.popitem(last=False)
        self.d[key] = [value, 1]

    def order(self):
        return list(reversed(self.d))


def test_lru_evicts_least_recently_used():
    c = LRUCache(3)
    for k in (5, 6, 7):
        c.put(k, float(k))
    assert c.keys() == [7, 6, 5]
    assert c.get(5) == 5.0  # 5 becomes the most recent
    c.put(8, 8.0)  # evicts 6
    assert c.keys() == [8, 5, 7] and 6 not in c and c.get(6) is None


def test_forget_every_serves_forget_minus_one_hits():
    c = LRUCache(10, forget_every=4)
    c.put(9, 0.5)
    assert [c.get(9) for _ in range(4)] == [0.5, 0.5, 0.5, None]
    assert 9 not in c and len(c) == 0


def test_forget_zero_never_forgets():
    c = LRUCache(10, forget_every=0)
    c.put(9, 0.5)
    assert all(c.get(9) == 0.5 for _ in range(500)) and c.count(9) == 501


@given(
    st.integers(1, 6),
    st.sampled_from([0, 2, 3, 5]),
    st.lists(st.tuples(st.booleans(), st.integers(1, 12), st.floats(0, 1)), max_size=200),
)
def test_lru_matches_the_reference_model(capacity, forget, ops):
    c = LRUCache(capacity, forget)
    m = ModelLRU(capacity, forget)
    for is_put, key, value in ops:
        if is_put:
            c.put(key, value)
            m.put(key, value)
        else:
            assert c.get(key) == m.get(key)
        assert c.keys() == m.order()


@given(st.lists(st.integers(1, 2**64 - 1), min_size=1, max_size=300, unique=True))
def test_lru_table_survives_colliding_deletions(keys):
    # Keys sharing low bits probe the same chain; deletions must keep the chain findable.
    c = LRUCache(8)
    m = ModelLRU(8, 0)
    for k in keys:
        k = (k << 20) & (2**64 - 1) or 1
        c.put(k, 1.0)
        m.put(k, 1.0)
    assert c.keys() == m.order()
    assert all(k in c for k in m.order())


def _fp(trace, written, epochs, steps, n_first=3, n_valid=2, task=0, n_train=100, acc=False):
    ty = np.array([1.0, 2.0, 3.0])
    vy = np.array([1.0, 0.0])
    order = np.arange(3, dtype=np.int32)
    return int(fingerprint(np.array(trace, dtype=np.float64), written, epochs, steps, n_first,
                           ty, order, vy, n_valid, acc, 100.0, task, n_train))  # fmt: skip


def test_fingerprint_hashes_errors_task_and_budget():
    base = _fp([1.0, 2.0, 3.0, 1.0, 0.0], 5, 1, 3)
    assert base == _fp([1.0, 2.0, 3.0, 1.0, 0.0], 5, 1, 3)
    # errors, not predictions: y - d and y + d give the same key
    assert _fp([0.0, 2.0, 3.0, 1.0, 0.0], 5, 1, 3) == _fp([2.0, 2.0, 3.0, 1.0, 0.0], 5, 1, 3)
    assert base != _fp([1.0, 2.0, 3.5, 1.0, 0.0], 5, 1, 3)
    assert base != _fp([1.0, 2.0, 3.0, 1.0, 0.0], 5, 1, 3, task=1)
    assert base != _fp([1.0, 2.0, 3.0, 1.0, 0.0], 5, 1, 3, n_train=0)
    # +0.0 and -0.0 errors hash alike
    assert _fp([1.0, 2.0, 3.0, 1.0, 0.0], 5, 1, 3) == _fp([1.0, 2.0, 3.0, 1.0, -0.0], 5, 1, 3)


def test_fingerprint_of_a_failed_training_run_stops_before_the_failing_step():
    # training failed at step 2 (the trace holds the failing prediction): only step 1 recorded
    h = _fp([1.0, 500.0], 2, 0, 2)
    u = np.uint64
    expected = u(HASH_START)
    for v in (0, 0, 100):  # the one recorded error |1 - 1| = 0, task 0, n_train 100
        expected = u(mix(expected, u(v)))
    assert h == int(finalize(expected))
    assert h == _fp([1.0, 700.0], 2, 0, 2)


def test_fingerprint_accuracy_validation_uses_misclassification():
    # validation predictions 5 and 0.1 vs labels 1, 0: both logits > 0 -> errors 0, 1
    a = _fp([1.0, 2.0, 3.0, 5.0, 0.1], 5, 1, 3, acc=True)
    b = _fp([1.0, 2.0, 3.0, 9.0, 0.2], 5, 1, 3, acc=True)
    assert a == b
