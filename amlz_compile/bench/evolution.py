"""Search benchmarks: steady-state individuals/s of one population on the reference demo.

The demo (run_demo.sh, docs/semantics.md#presets): 10 linear tasks, F = 4, 100 + 100 examples,
P = 1000, T = 10, FEC 10 + 10, the six demo ops, random initial programs 10/2/8, memory 4/3/1,
mutations [ALTER_PARAM, RANDOMIZE_INSTRUCTION, RANDOMIZE_COMPONENT_FUNCTION], mutate_prob 0.9.
The reference C++ does about 38,700 individuals/s on one core of this machine class.
"""

from __future__ import annotations

import time

from . import benchmark


def demo_individuals_per_s(
    dedup: bool = True,
    warm_sweeps: int = 5,
    sweeps: int = 20,
    seed: int = 1,
    hurdles: bool = False,
) -> float:
    """Individuals per CPU second over `sweeps` sweeps after `warm_sweeps` (steady state:
    caches filled, population past its random start). Compilation happens before timing."""
    from ..search.config import HurdleConfig, demo_config

    config = demo_config(dedup=dedup, hurdles=HurdleConfig(enabled=hurdles))
    return steady_individuals_per_s(config, warm_sweeps, sweeps, seed)


def steady_individuals_per_s(config, warm_sweeps: int, sweeps: int, seed: int) -> float:
    """Individuals per CPU second of one population of `config` over `sweeps` sweeps, after
    init and `warm_sweeps` untimed sweeps (which also compile or load the kernels)."""
    from ..search.evolution import RegularizedEvolution

    evo = RegularizedEvolution(config, seed=seed)
    evo.init()
    evo.run(max_individuals=warm_sweeps * evo.P)
    n0 = evo.stats()["individuals"]
    t0 = time.process_time()
    evo.run(max_individuals=sweeps * evo.P)
    dt = time.process_time() - t0
    return round((evo.stats()["individuals"] - n0) / dt, 1)


@benchmark("demo_individuals_per_s")
def _demo() -> float:
    return demo_individuals_per_s(dedup=True)


@benchmark("demo_individuals_per_s_no_dedup")
def _demo_no_dedup() -> float:
    return demo_individuals_per_s(dedup=False)


@benchmark("demo_individuals_per_s_fast")
def _demo_fast() -> float:
    """The fast flow's search settings: dedup and hurdles (first task, 75th percentile)."""
    return demo_individuals_per_s(dedup=True, hurdles=True)
