"""The project's random generator: SplitMix64, one 64-bit state, identical in every backend.

Random ops inside algorithms draw from this stream; `runtime/` provides the same functions to
JIT-compiled code and the NumPy export renders them in pure Python, so every backend produces the
same values bit for bit (the transcendental calls are libm's `log`, `cos` and `sqrt` everywhere).

Definition (all arithmetic modulo 2**64):
    next(state):  state += 0x9E3779B97F4A7C15; z = state
                  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
                  z = (z ^ (z >> 27)) * 0x94D049BB133111EB
                  return z ^ (z >> 31)
    unit(z)       = (z >> 11) * 2**-53                      in [0, 1)
    open_unit(z)  = ((z >> 11) + 0.5) * 2**-53              in (0, 1)
    uniform(lo, hi): lo if not lo < hi (no draw: the reference's abseil rule),
                     else lo + (hi - lo) * open_unit(next())
    gaussian(mu, sigma): u1 = open_unit(next()); u2 = unit(next())
                     mu + sigma * (sqrt(-2 log u1) * cos(2 pi u2))       (Box-Muller, 2 draws)
Vector and matrix fills draw element by element in index / row-major order.
An evaluation of one (algorithm, task) pair starts from state = its seed.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, uint64

MASK64 = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15
MUL1 = 0xBF58476D1CE4E5B9
MUL2 = 0x94D049BB133111EB
TWO_PI = 6.283185307179586
INV_2_53 = 1.0 / 9007199254740992.0


class SplitMix64:
    """Pure-Python mirror of the generator (used by the export and by tests)."""

    def __init__(self, seed: int) -> None:
        self.state = int(seed) & MASK64

    def next_u64(self) -> int:
        self.state = (self.state + GAMMA) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * MUL1) & MASK64
        z = ((z ^ (z >> 27)) * MUL2) & MASK64
        return z ^ (z >> 31)

    def unit(self) -> float:
        return (self.next_u64() >> 11) * INV_2_53

    def open_unit(self) -> float:
        return ((self.next_u64() >> 11) + 0.5) * INV_2_53

    def uniform(self, lo: float, hi: float) -> float:
        if not lo < hi:
            return lo
        return lo + (hi - lo) * self.open_unit()

    def gaussian(self, mu: float, sigma: float) -> float:
        u1 = self.open_unit()
        u2 = self.unit()
        return mu + sigma * (math.sqrt(-2.0 * math.log(u1)) * math.cos(TWO_PI * u2))


# -- numba versions: the state lives in a one-element uint64 array ---------------------------


@njit(cache=True, inline="always")
def nb_next_u64(state):
    s = state[0] + uint64(GAMMA)
    state[0] = s
    z = s
    z = (z ^ (z >> uint64(30))) * uint64(MUL1)
    z = (z ^ (z >> uint64(27))) * uint64(MUL2)
    return z ^ (z >> uint64(31))


@njit(cache=True, inline="always")
def nb_unit(state):
    return float(nb_next_u64(state) >> uint64(11)) * INV_2_53


@njit(cache=True, inline="always")
def nb_open_unit(state):
    return (float(nb_next_u64(state) >> uint64(11)) + 0.5) * INV_2_53


@njit(cache=True)
def nb_uniform(state, lo, hi):
    if not lo < hi:
        return lo
    return lo + (hi - lo) * nb_open_unit(state)


@njit(cache=True)
def nb_gaussian(state, mu, sigma):
    u1 = nb_open_unit(state)
    u2 = nb_unit(state)
    return mu + sigma * (math.sqrt(-2.0 * math.log(u1)) * math.cos(TWO_PI * u2))


def new_state(seed: int) -> np.ndarray:
    """A numba generator state array for `seed`."""
    return np.array([int(seed) & MASK64], dtype=np.uint64)
