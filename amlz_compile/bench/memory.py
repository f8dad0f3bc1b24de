"""Resident memory of a long paper-scale search with the compiled tier: does engine recycling
bound it? (`search_memory_curve_paper`)

Workload: the `baseline` preset's search from random programs of Setup 5 / Predict 8 / Learn
15 instructions (the `tiers` benchmark's "random" population) on `bench.llvm.paper_tasks`,
backend "auto", seed 3, run for `minutes` of wall time (`AMLZ_BENCH_MEMORY_MINUTES`, default
60: the issue's hour); one record a minute of the process's resident memory (VmRSS) and the
tier's counts. The figure of merit is the growth after minute 10.
"""

from __future__ import annotations

import os
import time

from . import benchmark


def resident_mb() -> float:
    """This process's resident set size in MB (Linux /proc; 0.0 where it is not available)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def memory_curve(minutes: float, every: float = 60.0) -> list[dict]:
    """One record per `every` seconds of a `minutes`-long paper-scale search (see above)."""
    from .llvm import paper_random_search

    evo = paper_random_search("auto")
    evo.init()
    t0 = time.perf_counter()
    records = []
    while time.perf_counter() - t0 < minutes * 60:
        evo.run(deadline=time.perf_counter() + every)
        st = evo.stats()
        records.append({
            "minute": round((time.perf_counter() - t0) / 60, 2),
            "rss_mb": round(resident_mb(), 1),
            "individuals": st["individuals"],
            "threaded_compiles": st["threaded_compiles"],
            "optimised_compiles": st["optimised_compiles"],
            "engines": st["engines"],
        })  # fmt: skip
    return records


@benchmark("search_memory_curve_paper")
def search_memory_curve_paper(minutes: float | None = None) -> dict:
    """The curve, and the growth of resident memory after minute 10 (to the curve's end)."""
    m = float(os.environ.get("AMLZ_BENCH_MEMORY_MINUTES", minutes or 60.0))
    curve = memory_curve(m)
    after_ten = [r["rss_mb"] for r in curve if r["minute"] >= 10.0]
    growth = round(after_ten[-1] - after_ten[0], 1) if after_ten else None
    return {"minutes": m, "growth_after_minute_10_mb": growth, "curve": curve}
