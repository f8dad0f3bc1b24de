"""The search's random draws, on top of the project's SplitMix64 (`amlz_compile.rng`).

Evolution (tournaments, mutations, initial programs, evaluation seeds) uses one SplitMix64
stream per population. The reference uses abseil distributions on std::mt19937; we match its
distributions, not its bit stream. Definitions (z = next_u64(state)):

    below(n)        = ((z >> 32) * n) >> 32          integer in [0, n), n < 2**32 (one draw)
    unit_f32()      = (z >> 40) * 2**-24              float32 in [0, 1)   (UniformProbability)
    uniform_f32(lo, hi) = float32(lo + (hi - lo) * unit_f32())   in [lo, hi) for the ranges used
                      here ([0, 1) and [-1, 1): every result is exactly representable)
    open_uniform(lo, hi) = rng.nb_uniform (double, open interval; UniformActivation)
    gaussian()      = rng.nb_gaussian(0, 1) (Box-Muller, two draws)
    seed()          = z (a 64-bit evaluation seed)
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

from ..rng import nb_gaussian, nb_next_u64, nb_uniform

INV_2_24 = 1.0 / 16777216.0


@njit(cache=True, inline="always")
def below(state, n):
    """Uniform integer in [0, n) for 1 <= n < 2**32."""
    z = nb_next_u64(state)
    return np.int64(((z >> uint64(32)) * uint64(n)) >> uint64(32))


@njit(cache=True, inline="always")
def unit_f32(state):
    """Float32-grid uniform in [0, 1), returned as float64."""
    return float(nb_next_u64(state) >> uint64(40)) * INV_2_24


@njit(cache=True, inline="always")
def uniform_f32(state, lo, hi):
    """Uniform float32 in [lo, hi) (as float64)."""
    return float(np.float32(lo + (hi - lo) * unit_f32(state)))


@njit(cache=True, inline="always")
def open_uniform(state, lo, hi):
    """Double in the open interval (lo, hi)."""
    return nb_uniform(state, lo, hi)


@njit(cache=True, inline="always")
def gaussian(state):
    """Standard normal double."""
    return nb_gaussian(state, 0.0, 1.0)


@njit(cache=True, inline="always")
def draw_seed(state):
    """A fresh 64-bit seed for one evaluation's generator."""
    return nb_next_u64(state)
