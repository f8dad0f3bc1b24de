"""Hurdles (paper S3, after So et al. 2019; not in the reference code).

A candidate is first evaluated on the first `num_tasks` search tasks ("hurdle tasks"). Their
combined fitness h is compared with the `percentile`-th percentile of the last `window` values of
h recorded for evaluated candidates (cache hits are not recorded, so the window holds recent
*distinct* evaluations, as the paper's "unique accuracies"). When the window is full and
h < threshold the evaluation stops and the candidate's fitness is h * num_tasks / D: the tasks it
was not evaluated on count as the paper's minimum fitness a_min = 0, so a stopped candidate never
looks better than its evaluated part. Otherwise it is evaluated on all D tasks as usual.

Percentile: the value at rank floor(percentile/100 * (n-1)) of the sorted window (lower
nearest-rank; the 75th percentile of 100 values is the 75th smallest, index 74).
The state is four arrays: hist float64[window] (the window in arrival order), meta int64[2] (next
write position, fill), thr float64[1] (the current threshold, recomputed at every record) and
srt float64[window] (the window sorted, rebuilt from hist on restore, so checkpoints keep three).
"""

from __future__ import annotations

import numpy as np
from numba import njit


def hurdle_new(window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Empty hurdle state (hist, meta, thr, srt)."""
    return (
        np.zeros(window, dtype=np.float64),
        np.zeros(2, dtype=np.int64),
        np.zeros(1, dtype=np.float64),
        np.zeros(window, dtype=np.float64),
    )


def hurdle_restore(
    hist: np.ndarray, meta: np.ndarray, thr: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The full state from the checkpointed (hist, meta, thr): srt is rebuilt from the window."""
    hist = np.array(hist, dtype=np.float64)
    meta = np.array(meta, dtype=np.int64)
    srt = np.zeros_like(hist)
    n = int(meta[1])
    srt[:n] = np.sort(hist[:n])
    return hist, meta, np.array(thr, dtype=np.float64), srt


@njit(cache=True)
def percentile_lower(values, n, percentile):
    """Lower nearest-rank percentile of values[:n] (n >= 1)."""
    s = np.sort(values[:n])
    rank = int(np.floor(percentile / 100.0 * (n - 1)))
    return s[rank]


@njit(cache=True, _nrt=False)
def _before(a, b):
    """a sorts before b in np.sort's order (NaN last)."""
    return a < b or (b != b and a == a)


@njit(cache=True, _nrt=False)
def hurdle_record(hist, meta, thr, srt, value, percentile):
    """Add one hurdle-stage fitness to the moving window and refresh the threshold.

    srt[:fill] is the window in np.sort's order, kept by one removal and one insertion per
    record (no allocation, O(window)), so the threshold equals `percentile_lower(hist, ...)`."""
    w = hist.shape[0]
    n = meta[1]
    if n == w:  # the window is full: the value at the write position leaves it
        old = hist[meta[0]]
        i = 0
        while i < n - 1 and not (srt[i] == old or (old != old and srt[i] != srt[i])):
            i += 1
        for j in range(i, n - 1):
            srt[j] = srt[j + 1]
        n -= 1
    hist[meta[0]] = value
    meta[0] = (meta[0] + 1) % w
    k = n
    while k > 0 and _before(value, srt[k - 1]):
        srt[k] = srt[k - 1]
        k -= 1
    srt[k] = value
    n += 1
    meta[1] = n
    thr[0] = srt[int(np.floor(percentile / 100.0 * (n - 1)))]


@njit(cache=True, _nrt=False)
def hurdle_active(hist, meta):
    """True once the window is full."""
    return meta[1] >= hist.shape[0]


@njit(cache=True, _nrt=False)
def hurdle_passes(hist, meta, thr, value):
    """Whether a candidate with hurdle-stage fitness `value` goes on to the other tasks."""
    if meta[1] < hist.shape[0]:
        return True
    return value >= thr[0]
