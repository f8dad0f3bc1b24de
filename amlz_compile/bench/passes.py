"""Benchmarks of the passes (registered in `amlz_compile.bench`)."""

from __future__ import annotations

import statistics
import time

from ..passes.simplify import canonical_key, simplify
from . import benchmark, random_demo_programs

N_PROGRAMS = 2000


@benchmark("dce_removed_fraction_demo")
def dce_removed_fraction_demo(n_programs: int = N_PROGRAMS, seed: int = 0) -> float:
    """Fraction of instructions `simplify` removes from random 20-instruction demo programs.

    Setup 10 / Predict 2 / Learn 8 instructions of `DEMO_OPS` in memory 4/3/1 (the reference
    demo's initial random programs), folding on; instruction counts summed over the programs.
    """
    programs = random_demo_programs(n_programs, seed=seed)
    before = sum(len(p) for p in programs)
    after = sum(simplify(p).size_after for p in programs)
    return round(1.0 - after / before, 4)


def _us_per_program(fn, programs, repeats: int = 5) -> float:
    fn(programs[0])  # compile / load the numba cache
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for p in programs:
            fn(p)
        times.append((time.perf_counter() - t0) / len(programs) * 1e6)
    return round(statistics.median(times), 2)


@benchmark("canonical_key_us_demo")
def canonical_key_us_demo(n_programs: int = N_PROGRAMS) -> float:
    """Wall µs per `canonical_key` (fold, DCE, canonical order and names, blake2b) of a random
    20-instruction demo program; median over 5 passes over the programs."""
    return _us_per_program(canonical_key, random_demo_programs(n_programs, seed=1))


@benchmark("simplify_us_demo")
def simplify_us_demo(n_programs: int = N_PROGRAMS) -> float:
    """Wall µs per `simplify` (returning a Program) of a random 20-instruction demo program."""
    return _us_per_program(simplify, random_demo_programs(n_programs, seed=2))
