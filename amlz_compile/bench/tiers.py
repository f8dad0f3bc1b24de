"""Benchmarks of the search's evaluation tiers: each workload searched interpreter-only and with
the compiled tier ("auto"), in the same process, same seed and individual count.

Rates are per CPU second of the whole process (`time.process_time`: compile threads would
count), measured over `RegularizedEvolution.run` after `init` (numba's kernels compiled before).

- "paper": the `baseline` preset's search (NN ops, train budget, no FEC, no dedup, P = 100,
  seed 3) on 10 projected-binary-shaped tasks of 8000 training / 1000 validation examples at
  F = 16 (`bench.llvm.paper_tasks`: standardised Gaussian features, labels from a random
  hyperplane), from the preset's empty programs (3000 individuals) and from random programs of
  Setup 5 / Predict 8 / Learn 15 instructions (1500 individuals; a population that has grown).
- "nonlinear": the `nonlinear` preset's whole search (its 10^8 training steps, reference flow).
"""

from __future__ import annotations

import time
from functools import cache

from . import benchmark

PAPER_ARMS = ("interp", "auto")


def _search(config, tasks, backend: str, seed: int, **limits) -> dict:
    from ..search.evolution import RegularizedEvolution

    evo = RegularizedEvolution(config, tasks=tasks, seed=seed, backend=backend)
    evo.init()
    before = evo.stats()
    t0 = time.process_time()
    after = evo.run(**limits)
    seconds = time.process_time() - t0
    individuals = after["individuals"] - before["individuals"]
    steps = after["train_steps"] - before["train_steps"]
    return {
        "cpu_seconds": round(seconds, 3),
        "individuals_per_s": round(individuals / seconds, 2),
        "train_steps_per_s": round(steps / seconds, 1),
        "compile_seconds": round(after["compile_seconds"] - before["compile_seconds"], 3),
        "compile_fraction": round(
            (after["compile_seconds"] - before["compile_seconds"]) / seconds, 4
        ),
        "compiles": after["compiles"] - before["compiles"],
        "optimised_compiles": after["optimised_compiles"] - before["optimised_compiles"],
        "threaded_compiles": after["threaded_compiles"] - before["threaded_compiles"],
        "compiled_share": round(
            (after["compiled_evaluations"] - before["compiled_evaluations"]) / individuals, 4
        ),
    }


@cache
def paper_searches() -> dict:
    """Both populations, both arms (see the module docstring)."""
    from ..search.config import SearchConfig
    from ..search.presets import get_preset
    from .llvm import paper_tasks

    tasks = paper_tasks()
    out = {}
    for population, individuals, changes in (
        ("empty", 3000, {}),
        ("random", 1500, {"setup_size_init": 5, "predict_size_init": 8, "learn_size_init": 15,
                          "initial_population": "random"}),
    ):  # fmt: skip
        search = get_preset("baseline")["search"]
        search.update(changes)
        config = SearchConfig.from_dict(search)
        arms = {b: _search(config, tasks, b, 3, max_individuals=individuals) for b in PAPER_ARMS}
        arms["ratio_train_steps_per_s"] = round(
            arms["auto"]["train_steps_per_s"] / arms["interp"]["train_steps_per_s"], 3
        )
        out[population] = arms
    return out


def _paper_key(field: str) -> dict:
    return {
        population: {arm: runs[arm][field] for arm in PAPER_ARMS}
        for population, runs in paper_searches().items()
    }


@benchmark("baseline_paper_individuals_per_s")
def baseline_paper_individuals_per_s() -> dict:
    """Individuals per CPU second, per population and arm."""
    return _paper_key("individuals_per_s")


@benchmark("baseline_paper_train_steps_per_s")
def baseline_paper_train_steps_per_s() -> dict:
    """Training steps per CPU second, per population and arm, and the auto/interp ratio."""
    out = _paper_key("train_steps_per_s")
    for population, runs in paper_searches().items():
        out[population]["ratio"] = runs["ratio_train_steps_per_s"]
    return out


@benchmark("search_compile_fraction")
def search_compile_fraction() -> dict:
    """Share of the compiled-tier search's CPU time spent compiling, with the compile count,
    the share of individuals evaluated in compiled code, per population."""
    fields = ("compile_fraction", "compile_seconds", "compiles", "optimised_compiles",
              "threaded_compiles", "compiled_share")  # fmt: skip
    return {
        population: {k: runs["auto"][k] for k in fields}
        for population, runs in paper_searches().items()
    }


@benchmark("nonlinear_seconds_whole_run")
def nonlinear_seconds_whole_run() -> dict:
    """CPU seconds of the `nonlinear` preset's whole search (10^8 training steps, reference
    flow, its seed), interpreter-only and auto, and their ratio."""
    from ..search.config import SearchConfig
    from ..search.presets import get_preset

    preset = get_preset("nonlinear")
    config = SearchConfig.from_dict(preset["search"])
    out = {}
    for backend in PAPER_ARMS:
        run = _search(config, None, backend, preset["seed"],
                      max_train_steps=config.max_train_steps)  # fmt: skip
        out[backend] = run["cpu_seconds"]
    out["ratio"] = round(out["auto"] / out["interp"], 3)
    return out
