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
The state is three arrays: hist float64[window], meta int64[2] (next write position, fill) and
thr float64[1] (the current threshold, recomputed at every record).
"""

from __future__ import annotations

import numpy as np
from numba import njit


def hurdle_new(window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Empty hurdle state (hist, meta, thr)."""
    return (
        np.zeros(window, dtype=np.float64),
        np.zeros(2, dtype=np.int64),
        np.zeros(1, dtype=np.float64),
    )


@njit(cache=True)
def percentile_lower(values, n, percentile):
    """Lower nearest-rank percentile of values[:n] (n >= 1)."""
    s = np.sort(values[:n])
    rank = int(np.floor(percentile / 100.0 * (n - 1)))
    return s[rank]


@njit(cache=True)
def hurdle_record(hist, meta, thr, value, percentile):
    """Add one hurdle-stage fitness to the moving window and refresh the threshold."""
    w = hist.shape[0]
    hist[meta[0]] = value
    meta[0] = (meta[0] + 1) % w
    if meta[1] < w:
        meta[1] += 1
    thr[0] = percentile_lower(hist, meta[1], percentile)


@njit(cache=True)
def hurdle_active(hist, meta):
    """True once the window is full."""
    return meta[1] >= hist.shape[0]


@njit(cache=True)
def hurdle_passes(hist, meta, thr, value):
    """Whether a candidate with hurdle-stage fitness `value` goes on to the other tasks."""
    if meta[1] < hist.shape[0]:
        return True
    return value >= thr[0]
