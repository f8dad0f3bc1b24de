"""One fitness code for every backend (docs/semantics.md#fitness).

Kernels report per-epoch validation loss sums; these functions turn them into a task fitness
(best epoch; RMS squashed by 1 - (2/pi) atan(rmse); accuracy = 1 - error rate) and combine task
fitnesses (mean, or the reference's upper median).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

MEAN = "mean"
MEDIAN = "median"
COMBINATIONS = (MEAN, MEDIAN)


@njit(cache=True)
def flip_and_squash(rmse):
    """1 - (2/pi) atan(rmse); 0 for NaN or inf."""
    if math.isnan(rmse) or math.isinf(rmse):
        return 0.0
    return 1.0 - 0.63661977236758138243 * math.atan(rmse)


@njit(cache=True)
def epoch_fitness(loss, valid_divisor, is_accuracy):
    """Fitness of one validation pass from its loss sum (NaN = failed pass = 0)."""
    if math.isnan(loss):
        return 0.0
    mean = loss / valid_divisor
    if is_accuracy:
        return 1.0 - mean
    return flip_and_squash(math.sqrt(mean))


@njit(cache=True)
def task_fitness(epoch_loss, epochs_validated, valid_divisor, is_accuracy):
    """The best fitness over the validated epochs; 0 when none was validated."""
    best = 0.0
    for e in range(epochs_validated):
        f = epoch_fitness(epoch_loss[e], valid_divisor, is_accuracy)
        if f > best:
            best = f
    return best


def combine(fitnesses, mode: str = MEAN) -> float:
    """Mean, or the reference's median: the element at index n//2 after sorting (upper middle)."""
    values = np.asarray(fitnesses, dtype=np.float64)
    if values.size == 0:
        raise ValueError("cannot combine an empty list of task fitnesses")
    if mode == MEAN:
        return float(values.mean())
    if mode == MEDIAN:
        return float(np.sort(values)[values.size // 2])
    raise ValueError(f"unknown fitness combination {mode!r} (choose from {COMBINATIONS})")
