"""How islands scale: steady individuals/s of several islands on worker processes against one
island, and against independent one-island processes running at the same time (the ceiling).

Workload: the `demo` preset's search (P = 1000, the paper's migration: every 10 sweeps, P/2
migrants each way), islands in `ProcessRunner` workers driven epoch by epoch with migration as
`SearchRun` does (`Archipelago.step`: each worker starts its next epoch at once). Rates are
wall-clock individuals per second over `seconds` (default 15) after a warm-up epoch (numba's
kernels load from its cache in each process). `AMLZ_BENCH_ISLAND_SECONDS` overrides `seconds`.

A search's speed depends on its trajectory (how often children hit the FEC cache, how long
programs grow): one seed set's 4 islands ran at 0.72 of the pair, others at 0.89-1.10. So each
arm runs `rounds` times (default 8) with its own seeds (round r: islands and independent
processes use seeds 100 r + 1, 100 r + 2, ...; the two independent processes different ones),
the rates are averaged over rounds, and each arm reports its work per individual (train steps,
FEC hit rate) and its workers' busy share, which separate what migration does to the
trajectory from what coordination costs. `AMLZ_BENCH_ISLAND_ROUNDS` overrides `rounds`.
"""

from __future__ import annotations

import json
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


_WORK = ("individuals", "train_steps", "fec_hits", "fec_misses", "busy_seconds")


def archipelago_run(islands: int, workers: int, seconds: float, first_seed: int = 1) -> dict:
    """Steady individuals/s of `islands` islands (seeds first_seed, first_seed + 1, ...) on
    `workers` processes, migrating every 10 sweeps (P/2 migrants), for about `seconds` of wall
    time; with the work behind it (`_work`: train steps, FEC hits and misses, busy seconds)."""
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
        work = {k: sum(s[k] for s in stats) - sum(s[k] for s in start) for k in _WORK}
        return {"rate": work["individuals"] / dt, "wall": dt, "cores": min(workers, islands),
                **work}  # fmt: skip
    finally:
        runner.close()


_ONE = """
import json, sys
from amlz_compile.bench.islands import archipelago_run
print(json.dumps(archipelago_run(1, 1, float(sys.argv[1]), int(sys.argv[2]))))
"""


def independent_run(processes: int, seconds: float, first_seed: int = 1) -> dict:
    """`processes` independent one-island processes (seeds first_seed, first_seed + 1, ...)
    run at the same time: the sum of their individuals/s and of their work."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _ONE, str(seconds), str(first_seed + i)],
            stdout=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )  # fmt: skip
        for i in range(processes)
    ]
    runs = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    out = {k: sum(r[k] for r in runs) for k in ("rate", "cores", *_WORK)}
    out["wall"] = max(r["wall"] for r in runs)
    return out


def _work(runs: list[dict]) -> dict:
    """What an arm's rounds did per individual: the search's work (train steps, FEC hit rate:
    they follow the trajectory, which migration changes) and the workers' share of the wall
    time spent evolving (what coordination and waiting leave)."""
    total = {k: sum(r[k] for r in runs) for k in ("wall", "cores", *_WORK)}
    fec = total["fec_hits"] + total["fec_misses"]
    cores_wall = sum(r["wall"] * r["cores"] for r in runs)
    return {
        "train_steps_per_individual": round(total["train_steps"] / total["individuals"], 1),
        "fec_hit_rate": round(total["fec_hits"] / fec, 3) if fec else None,
        "busy_share": round(total["busy_seconds"] / cores_wall, 3),
        "train_steps_per_busy_s": round(total["train_steps"] / total["busy_seconds"]),
    }


@benchmark("islands_scaling_demo")
def islands_scaling_demo(seconds: float | None = None, rounds: int | None = None) -> dict:
    """Individuals/s of 1 island, 2 and 4 islands on 2 workers, and 2 independent one-island
    processes at once, averaged over `rounds` seed sets; ratios of the islands to the pair (over
    all rounds and per round), and each arm's work per individual and busy share (`_work`)."""
    s = float(os.environ.get("AMLZ_BENCH_ISLAND_SECONDS", seconds or 15.0))
    n = int(os.environ.get("AMLZ_BENCH_ISLAND_ROUNDS", rounds or 8))
    arms: dict[str, list[dict]] = {"one": [], "two": [], "four": [], "pair": []}
    for r in range(n):
        seed = 100 * r + 1
        arms["one"].append(archipelago_run(1, 1, s, seed))
        arms["two"].append(archipelago_run(2, 2, s, seed))
        arms["four"].append(archipelago_run(4, 2, s, seed))
        arms["pair"].append(independent_run(2, s, seed))
    mean = {arm: sum(r["rate"] for r in runs) / n for arm, runs in arms.items()}
    pair = [r["rate"] for r in arms["pair"]]
    return {
        "rounds": n,
        "one_island": round(mean["one"], 1),
        "two_islands_two_workers": round(mean["two"], 1),
        "four_islands_two_workers": round(mean["four"], 1),
        "two_independent_processes": round(mean["pair"], 1),
        "two_islands_over_one": round(mean["two"] / mean["one"], 3),
        "two_islands_over_independent": round(mean["two"] / mean["pair"], 3),
        "four_islands_over_independent": round(mean["four"] / mean["pair"], 3),
        "two_islands_over_independent_per_round": [
            round(r["rate"] / p, 3) for r, p in zip(arms["two"], pair, strict=True)
        ],
        "four_islands_over_independent_per_round": [
            round(r["rate"] / p, 3) for r, p in zip(arms["four"], pair, strict=True)
        ],
        "work": {arm: _work(runs) for arm, runs in arms.items()},
    }
