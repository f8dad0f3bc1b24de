"""Task seeds: HashCombine/HashMix, default seed lists, seed assignment and randomisation.

See docs/semantics.md#tasks. `hash_combine` is the reference's 64-bit mix, bit for bit.
`mt19937(seed)` is numpy's MT19937 bit generator seeded like `std::mt19937(seed)` (init_genrand),
so its raw 32-bit stream equals the C++ one; `uniform_int` maps that stream to integers with
abseil's `uniform_int_distribution` algorithm (Lemire multiply with rejection), so the seeds
drawn by `randomize_task_seeds` and the class pairs of projected tasks are the reference's
values, not just values from the same distribution.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.random.bit_generator import ISeedSequence

from .base import TaskError

if TYPE_CHECKING:  # pragma: no cover
    from .spec import TaskSpec

MASK32 = (1 << 32) - 1
MASK64 = (1 << 64) - 1
HASH_MIX_START = 42
_GOLDEN = 0x9E3779B9

# The reference's defaults, used when a spec's list is empty.
DEFAULT_PARAM_SEEDS: tuple[int, ...] = (1001, 1012, 1010, 1000, 1006, 1008, 1007, 1003)
DEFAULT_DATA_SEEDS: tuple[int, ...] = (11001, 11012, 11010, 11000, 11006, 11008, 11007, 11003)

# The reference's `RandomizeTaskSeeds` salts.
PARAM_SEED_SALT = 85652777
DATA_SEED_SALT = 38272328

# UniformRandomSeed(): uint32 in the open interval (1, 2**32 - 1).
MIN_RANDOM_SEED = 2
MAX_RANDOM_SEED = (1 << 32) - 2


def hash_combine(seed: int, value: int) -> int:
    """The reference's 64-bit HashCombine; integers hash to themselves."""
    a = _GOLDEN
    b = int(seed) & MASK64
    c = int(value) & MASK64
    for shift_a, shift_b, shift_c in ((43, 9, 8), (38, 23, 5), (35, 49, 11), (12, 18, 22)):
        a = (a - b - c) & MASK64
        a ^= c >> shift_a
        b = (b - c - a) & MASK64
        b ^= (a << shift_b) & MASK64
        c = (c - a - b) & MASK64
        c ^= b >> shift_c
    return c


def hash_mix(values: Iterable[int], bits: int = 32) -> int:
    """HashMix: fold `values` into 42 with `hash_combine`, truncated to `bits` (32 for seeds)."""
    h = HASH_MIX_START
    for v in values:
        h = hash_combine(h, v)
    return h & ((1 << bits) - 1)


class _NoEntropy(ISeedSequence):
    """A seed sequence that skips numpy's (slow) SeedSequence; `_legacy_seeding` follows."""

    def generate_state(self, n_words: int, dtype=np.uint32) -> np.ndarray:
        return np.zeros(n_words, dtype=dtype)


_NO_ENTROPY = _NoEntropy()


def mt19937(seed: int) -> np.random.MT19937:
    """An MT19937 bit generator seeded exactly like `std::mt19937(seed)` (uint32 seed)."""
    seed = int(seed) & MASK32
    try:
        bitgen = np.random.MT19937(_NO_ENTROPY)
        bitgen._legacy_seeding(seed)  # init_genrand, as RandomState(seed) does; ~10x faster
    except (AttributeError, TypeError):  # pragma: no cover - future numpy without the helper
        state = np.random.RandomState(seed).get_state(legacy=False)
        bitgen = np.random.MT19937()
        bitgen.state = {"bit_generator": "MT19937", "state": state["state"]}
    return bitgen


def uniform_int(bitgen: np.random.MT19937, lo: int, hi_inclusive: int) -> int:
    """abseil `uniform_int_distribution<uint32/int32>` on a 32-bit engine: [lo, hi_inclusive]."""
    r = (int(hi_inclusive) - int(lo)) & MASK32
    bits = int(bitgen.random_raw())
    lim = (r + 1) & MASK32
    if r & lim == 0:  # power-of-two range (including the full 32 bits)
        return int(lo) + (bits & r)
    product = bits * lim
    if product & MASK32 < lim:
        threshold = (MASK32 - lim + 1) % lim
        while product & MASK32 < threshold:
            bits = int(bitgen.random_raw())
            product = bits * lim
    return int(lo) + (product >> 32)


def uniform_integer(bitgen: np.random.MT19937, lo: int, hi: int) -> int:
    """The reference's `UniformInteger(lo, hi)`: an integer in [lo, hi); needs lo < hi."""
    if not lo < hi:
        raise TaskError(f"empty integer range [{lo}, {hi})")
    return uniform_int(bitgen, lo, hi - 1)


def uniform_random_seed(bitgen: np.random.MT19937) -> int:
    """The reference's `UniformRandomSeed()`: uint32 in [2, 2**32 - 2]."""
    return uniform_int(bitgen, MIN_RANDOM_SEED, MAX_RANDOM_SEED)


def assign_seeds(given: Sequence[int], num_tasks: int, defaults: Sequence[int]) -> list[int]:
    """Seeds of tasks 0..num_tasks-1: list[i] while it lasts, then previous + 1 (mod 2**32).

    An empty `given` uses `defaults`. With the default lists and more than 10 tasks, task 10
    gets the seeds of task 4 (1005 + 1 = 1006 = list[4]) and so on: identical tasks repeat, as
    in the reference (section 10 item 13).
    """
    source = list(given) if len(given) else list(defaults)
    seeds: list[int] = []
    for i in range(num_tasks):
        seeds.append(int(source[i]) & MASK32 if i < len(source) else (seeds[-1] + 1) & MASK32)
    return seeds


def task_seeds(spec: TaskSpec) -> list[tuple[int, int]]:
    """(data_seed, param_seed) of every task of `spec`, in order."""
    data = assign_seeds(spec.data_seeds, spec.num_tasks, DEFAULT_DATA_SEEDS)
    param = assign_seeds(spec.param_seeds, spec.num_tasks, DEFAULT_PARAM_SEEDS)
    return list(zip(data, param, strict=True))


def randomize_task_seeds(specs: Sequence[TaskSpec], seed: int) -> list[TaskSpec]:
    """`RandomizeTaskSeeds`: new specs whose seed lists are drawn from `seed`.

    Param seeds come from mt19937(HashMix(85652777, seed)), data seeds from
    mt19937(HashMix(38272328, seed)); each spec in order takes `num_tasks` draws of each,
    replacing any seeds it had. Draws are bit-exact with the reference (std::mt19937 stream,
    abseil's integer mapping).
    """
    import dataclasses

    param_gen = mt19937(hash_mix([PARAM_SEED_SALT, seed]))
    data_gen = mt19937(hash_mix([DATA_SEED_SALT, seed]))
    out = []
    for spec in specs:
        params = tuple(uniform_random_seed(param_gen) for _ in range(spec.num_tasks))
        datas = tuple(uniform_random_seed(data_gen) for _ in range(spec.num_tasks))
        out.append(dataclasses.replace(spec, param_seeds=params, data_seeds=datas))
    return out
