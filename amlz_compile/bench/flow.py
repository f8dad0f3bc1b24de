"""Time-to-solution benchmarks of the search flow (registered in `amlz_compile.bench`).

`demo_seconds_to_solution`: for each seed, the seconds until the best select fitness of the demo
preset (run_demo.sh) goes above 0.9999, measured like the reference driver (the experiment that
finds it runs to the end of its budget before it is selected), on one core.
`nonlinear_seconds_to_solution`: the same for the nonlinear integration test, whose run ends
after its single experiment; its time is the whole run's (the reference flow spends the whole
10^8-step budget, as the C++ figure of 6.2 s does). The `_fast` variants use the fast flow (dedup,
select as soon as a population's best reaches the threshold). The nonlinear preset has no
threshold of its own; its goal is to rediscover the two Gaussian initialisations, so
`nonlinear_seconds_to_solution_fast` counts it solved when the repaired network's select fitness
is above both the intact NEURAL_NET's on the same task (`baseline_select_fitness`, the mean over
five evaluation seeds: 0.875) and NONLINEAR_SOLVED = 0.99. In our runs a repair that brings back
only one of the two initialisations scored 0.937; those above 0.99 had both.

Environment: AMLZ_BENCH_SEEDS (default 10) seeds 1..N; AMLZ_BENCH_CAP seconds per run (default
600; a run that does not solve in time reports null); AMLZ_BENCH_JOBS (default 1) runs that many
seeds at once in worker processes, one per core (each run is still single-threaded).
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from functools import partial

from ..algorithms import load_builtin
from ..search.experiment import evaluate_on, load_config, run_search
from ..search.presets import get_preset
from . import benchmark

NONLINEAR_SOLVED = 0.99


def _seeds() -> list[int]:
    return list(range(1, int(os.environ.get("AMLZ_BENCH_SEEDS", "10")) + 1))


def _cap() -> float:
    return float(os.environ.get("AMLZ_BENCH_CAP", "600"))


def _jobs() -> int:
    return max(1, int(os.environ.get("AMLZ_BENCH_JOBS", "1")))


def _warm(preset: str) -> None:
    """Compile (or load from numba's cache) everything the runs use, outside the timings."""
    cfg = get_preset(preset)
    s = cfg["search"]
    s["population_size"] = min(s["population_size"], 20)
    s["max_train_steps"] = 1
    cfg["max_experiments"] = 1
    run_search(cfg, seed=1)


def baseline_select_fitness(preset: str, algorithm: str, seeds: range = range(1, 6)) -> float:
    """Mean select fitness of a built-in algorithm on a preset's select tasks (5 eval seeds)."""
    cfg = load_config(get_preset(preset))
    specs = [dict(t) for t in cfg.select_tasks]
    fits = [
        evaluate_on(load_builtin(algorithm), specs, cfg.search.memory, s, backend="interp")
        for s in seeds
    ]
    return sum(fits) / len(fits)


def seconds_to_solution(
    preset: str,
    seeds: list[int],
    *,
    flow: str = "reference",
    cap: float = 600.0,
    sufficient_fitness: float | None = None,
    jobs: int = 1,
) -> list[float | None]:
    """Time to solution per seed (None = not solved within `cap` seconds); `jobs` > 1 runs
    seeds in parallel worker processes (each warmed up before its runs are timed)."""
    run = partial(_one_seed, preset, flow=flow, cap=cap, sufficient_fitness=sufficient_fitness)
    if jobs <= 1 or len(seeds) <= 1:
        _warm(preset)
        return [run(seed) for seed in seeds]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_warm, initargs=(preset,)) as pool:
        return list(pool.map(run, seeds))


def _one_seed(
    preset: str, seed: int, *, flow: str, cap: float, sufficient_fitness: float | None
) -> float | None:
    cfg = get_preset(preset)
    if sufficient_fitness is not None:
        cfg["sufficient_fitness"] = sufficient_fitness
    result = run_search(cfg, seed=seed, time_limit=cap, flow=flow)
    if cfg["sufficient_fitness"] is None:
        return round(result.elapsed, 3)
    tts = result.time_to_solution
    return None if tts is None else round(tts, 3)


@benchmark("demo_seconds_to_solution")
def demo_seconds_to_solution() -> list[float | None]:
    return seconds_to_solution("demo", _seeds(), cap=_cap(), jobs=_jobs())


@benchmark("demo_seconds_to_solution_fast")
def demo_seconds_to_solution_fast() -> list[float | None]:
    return seconds_to_solution("demo", _seeds(), flow="fast", cap=_cap(), jobs=_jobs())


@benchmark("nonlinear_seconds_to_solution")
def nonlinear_seconds_to_solution() -> list[float | None]:
    return seconds_to_solution("nonlinear", _seeds()[:3], cap=_cap(), jobs=_jobs())


@benchmark("nonlinear_seconds_to_solution_fast")
def nonlinear_seconds_to_solution_fast() -> list[float | None]:
    """Fast flow until the repaired network beats the intact NEURAL_NET and 0.99 on the select
    task (both Gaussian initialisations back)."""
    threshold = max(baseline_select_fitness("nonlinear", "neural_net"), NONLINEAR_SOLVED)
    return seconds_to_solution(
        "nonlinear",
        _seeds()[:3],
        flow="fast",
        cap=_cap(),
        sufficient_fitness=threshold,
        jobs=_jobs(),
    )
