"""How islands scale: steady individuals/s of several islands on worker processes against one
island, and against independent one-island processes running at the same time (the ceiling).

Workload: the `demo` preset's search (P = 1000, the paper's migration: every 10 sweeps, P/2
migrants each way), islands in `ProcessRunner` workers driven epoch by epoch with migration as
`SearchRun` does (`Archipelago.step`: each worker starts its next epoch at once). Rates are
wall-clock individuals per second over `seconds` after a warm-up epoch (numba's kernels load
from its cache in each process). `AMLZ_BENCH_ISLAND_SECONDS` overrides `seconds`.

A search's speed depends on its trajectory (how often children hit the FEC cache, how long
programs grow: over 8 epochs of 4 islands, FEC hit rates ranged 0.78-0.86 across seeds), so
each arm runs `rounds` times with its own seeds (round r: islands and independent processes
use seeds 100 r + 1, 100 r + 2, ...; the two independent processes different ones) and the
rates are averaged over rounds. `AMLZ_BENCH_ISLAND_ROUNDS` overrides `rounds`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from . import benchmark


def _specs(n: int, first_seed: int = 1) -> list:
    from ..search.islands import IslandSpec
    from ..search.presets import get_preset

    search = get_preset("demo")["search"]
    return [IslandSpec(search, search["search_tasks"], seed=first_seed + i) for i in range(n)]


def archipelago_run(islands: int, workers: int, seconds: float, first_seed: int = 1) -> dict:
    """Steady individuals/s of `islands` islands (seeds first_seed, first_seed + 1, ...) on
    `workers` processes, migrating every 10 sweeps (P/2 migrants), for about `seconds` of wall
    time, and the workers' busy share of that time (evolving and placing immigrants)."""
    from ..rng import SplitMix64
    from ..search.island_runners import ProcessRunner
    from ..search.islands import Archipelago

    runner = ProcessRunner(workers)
    try:
        arch = Archipelago(runner, _specs(islands, first_seed))
        arch.init()
        P = _specs(1)[0].config["population_size"]
        rng = SplitMix64(1)
        start = arch.run_epoch(P)  # warm
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            arch.step(10 * P, P // 2, rng)
        stats = arch.step(10 * P, P // 2, rng, then=False)  # the epoch in flight, counted
        dt = time.perf_counter() - t0
        done = sum(s["individuals"] for s in stats) - sum(s["individuals"] for s in start)
        busy = sum(s["busy_seconds"] for s in stats) - sum(s["busy_seconds"] for s in start)
        return {"rate": done / dt, "busy_share": busy / (min(workers, islands) * dt)}
    finally:
        runner.close()


def archipelago_rate(islands: int, workers: int, seconds: float, first_seed: int = 1) -> float:
    """Steady individuals/s of `archipelago_run`."""
    return archipelago_run(islands, workers, seconds, first_seed)["rate"]


_ONE = """
import sys
from amlz_compile.bench.islands import archipelago_rate
print(archipelago_rate(1, 1, float(sys.argv[1]), int(sys.argv[2])))
"""


def independent_rate(processes: int, seconds: float, first_seed: int = 1) -> float:
    """Sum of the steady individuals/s of `processes` independent one-island processes (seeds
    first_seed, first_seed + 1, ...) run at the same time."""
    env = dict(os.environ)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _ONE, str(seconds), str(first_seed + i)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )  # fmt: skip
        for i in range(processes)
    ]
    return sum(float(p.communicate()[0].strip().splitlines()[-1]) for p in procs)


@benchmark("islands_scaling_demo")
def islands_scaling_demo(seconds: float | None = None, rounds: int | None = None) -> dict:
    """Individuals/s of 1 island, 2 and 4 islands on 2 workers, and 2 independent one-island
    processes at once, averaged over `rounds` seed sets; ratios of the islands to the pair, and
    the islands' workers' busy share of the wall time (what waiting and coordination leave)."""
    s = float(os.environ.get("AMLZ_BENCH_ISLAND_SECONDS", seconds or 20.0))
    n = int(os.environ.get("AMLZ_BENCH_ISLAND_ROUNDS", rounds or 3))
    one = two = four = pair = busy2 = busy4 = 0.0
    for r in range(n):
        seed = 100 * r + 1
        one += archipelago_rate(1, 1, s, seed)
        run2, run4 = archipelago_run(2, 2, s, seed), archipelago_run(4, 2, s, seed)
        two, busy2 = two + run2["rate"], busy2 + run2["busy_share"]
        four, busy4 = four + run4["rate"], busy4 + run4["busy_share"]
        pair += independent_rate(2, s, seed)
    one, two, four, pair = one / n, two / n, four / n, pair / n  # means over the rounds
    return {
        "rounds": n,
        "two_islands_busy_share": round(busy2 / n, 3),
        "four_islands_busy_share": round(busy4 / n, 3),
        "one_island": round(one, 1),
        "two_islands_two_workers": round(two, 1),
        "four_islands_two_workers": round(four, 1),
        "two_independent_processes": round(pair, 1),
        "two_islands_over_one": round(two / one, 3),
        "two_islands_over_independent": round(two / pair, 3),
        "four_islands_over_independent": round(four / pair, 3),
    }
