"""The search kernel's cold compile on two cores (`search.kernel_compile`): the parts compiled
apart are compiled for exactly the types the kernel then passes them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

# In a fresh process with an empty numba cache: a small demo search's first kernel call.
_COLD_SEARCH = """
import json
from amlz_compile.search import kernels as K
from amlz_compile.search.config import SearchConfig
from amlz_compile.search.evolution import RegularizedEvolution
from amlz_compile.search.presets import get_preset

base = get_preset("demo")["search"]
base.update(population_size=20, tournament_size=3)
evo = RegularizedEvolution(SearchConfig.from_dict(base), seed=3)
evo.init()
out = {}
for name in ("_evolve_child", "_prepare", "_task_fitnesses"):
    d = getattr(K, name)
    out[name] = {"overloads": len(d.overloads), "hits": sum(d.stats.cache_hits.values()),
                 "misses": sum(d.stats.cache_misses.values())}
print(json.dumps(out))
"""


def test_a_cold_compile_uses_the_predicted_part_types(tmp_path):
    """With an empty numba cache, the helper compiles `_evolve_child` for the types
    `part_signatures` reads off the kernel's arguments: the kernel then loads it from the cache
    (one hit, no compile here). `_prepare` and `_task_fitnesses`, compiled here first for
    theirs, are not compiled a second time by the kernel (a wrong guess would add an
    overload)."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"), AMLZ_WARM_UP="1")
    run = subprocess.run(
        [sys.executable, "-c", _COLD_SEARCH], env=env, capture_output=True, text=True,
        timeout=1800,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    parts = json.loads(run.stdout.strip().splitlines()[-1])
    if (os.cpu_count() or 1) >= 2:  # (one core: no helper, everything compiles here)
        assert parts["_evolve_child"] == {"overloads": 1, "hits": 1, "misses": 0}
    for name in ("_prepare", "_task_fitnesses"):
        assert parts[name] == {"overloads": 1, "hits": 0, "misses": 1}
