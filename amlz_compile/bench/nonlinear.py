"""Benchmarks on the reference nonlinear integration workload (preset `nonlinear`).

run_integration_test_nonlinear.sh: the damaged NEURAL_NET (its two Gaussian initialisations
removed), memory 5/9/2, F = 4, one task of 1000 training + 100 validation examples, 4x4 matrix
ops, only Setup mutates. The reference C++ does about 18,500 individuals/s (~54 µs each) on one
core of this machine class.
"""

from __future__ import annotations

import numpy as np

from . import _time_per_item, benchmark


def nonlinear_workload(damaged: bool = True):
    """(program, packed tasks, memory) of the preset's search: the (damaged) NEURAL_NET on the
    preset's one search task."""
    from ..backends.packing import pack_tasks
    from ..ir.program import MemorySpec
    from ..search.generator import neural_net_algorithm
    from ..search.presets import get_preset
    from ..tasks import build_tasks

    search = get_preset("nonlinear")["search"]
    tasks = pack_tasks([t for spec in search["search_tasks"] for t in build_tasks(spec)])
    m = search["memory"]
    memory = MemorySpec(m["scalars"], m["vectors"], m["matrices"], features=tasks.features)
    return neural_net_algorithm(damaged=damaged), tasks, memory


@benchmark("interp_us_per_individual_nonlinear")
def interp_us_per_individual_nonlinear(copies: int = 50, repeats: int = 7) -> float:
    """Interpreter µs per full evaluation of the damaged NEURAL_NET on the nonlinear task
    (1000 training steps + 100 validations, every instruction live): a batch of `copies`
    copies (fresh seeds) through the batch kernel, CPU time / copies, median of `repeats`."""
    from ..backends.interp import InterpBackend
    from ..backends.packing import pack_programs

    program, tasks, memory = nonlinear_workload(damaged=True)
    backend = InterpBackend()
    batch = pack_programs([program] * copies)
    seeds = np.arange(copies * len(tasks), dtype=np.uint64).reshape(copies, len(tasks))
    backend.run_batch(batch, tasks, memory, seeds)  # compile (first time) and check
    run = lambda: backend.run_batch(batch, tasks, memory, seeds, check=False)  # noqa: E731
    return round(_time_per_item(run, copies, repeats), 3)


@benchmark("nonlinear_individuals_per_s")
def nonlinear_individuals_per_s(warm_sweeps: int = 2, sweeps: int = 5, seed: int = 1) -> float:
    """Individuals per CPU second of the preset's search (population kernel: mutation, FEC,
    train budget, evaluation) over `sweeps` sweeps after `warm_sweeps`."""
    from ..search.config import SearchConfig
    from ..search.presets import get_preset
    from .evolution import steady_individuals_per_s

    config = SearchConfig.from_dict(get_preset("nonlinear")["search"])
    return steady_individuals_per_s(config, warm_sweeps, sweeps, seed)
