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


def _recorded_run(path, waiting: bool, monkeypatch) -> tuple[list, dict]:
    """A small demo run recorded as the CLI records it; with `waiting`, a warm-up helper (a real
    process that only sleeps) is still compiling the passes as far as the recorder can tell."""
    from amlz_compile.cli_progress import Display, RunRecorder
    from amlz_compile.rundir import RunDir
    from amlz_compile.search import run as run_module
    from amlz_compile.search import warm_up
    from amlz_compile.search.experiment import run_search

    run = RunDir.create(path)
    recorder = RunRecorder(run, Display("quiet"), {"seed": 2})
    held: list[int] = []

    def on_event(event):
        recorder(event)
        held.append(len(recorder._pending))

    # No real warm-up helper: with a cold numba cache one would be compiling during the run
    # and hold bests back in the run that is meant not to wait.
    monkeypatch.setattr(warm_up, "helpers_allowed", lambda: False)
    helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        if waiting:  # (the helper is done when the run waits for it, before its selection)
            monkeypatch.setattr(warm_up, "_HELPER", [helper])
            monkeypatch.setattr(warm_up, "_later_kernels_cached", lambda: False)
            monkeypatch.setattr(run_module, "wait_for_warm_up", lambda: helper.kill())
        run_search("demo", seed=2, max_individuals=3000, on_event=on_event, flow="fast")
    finally:
        helper.kill()
        helper.wait()
        run.close()
    best = json.loads((path / "best.json").read_text())
    program = {c: best[c] for c in ("setup", "predict", "learn")}
    files = {"hof": run.hall_of_fame(), "best": program, "stage": best["meta"]["stage"]}
    return held, files


def test_search_bests_wait_for_the_helper_and_are_recorded_in_order(tmp_path, monkeypatch):
    """While the warm-up helper compiles the passes, the CLI's recorder holds the search bests
    back (the search goes on) and records them, in order, at the next event that is not
    progress: the hall of fame and best.* end as when nothing waited."""
    held_now, now = _recorded_run(tmp_path / "now", False, monkeypatch)
    held_later, later = _recorded_run(tmp_path / "later", True, monkeypatch)
    assert max(held_now) == 0
    assert max(held_later) >= 2 and held_later[-1] == 0

    def strip(hof):
        return [{k: e[k] for k in ("size", "fitness", "canonical_key", "program")} for e in hof]

    assert strip(later["hof"]) == strip(now["hof"]) and len(now["hof"]) >= 2
    assert later["best"] == now["best"] and later["stage"] == now["stage"]


def test_the_run_waits_for_a_compiling_helper_at_most_its_timeout(monkeypatch):
    """`wait_for_warm_up` returns once the helper has exited, or after its timeout with the
    helper still running (a hung helper never stops a run)."""
    from amlz_compile.search import warm_up

    quick = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1)"])
    monkeypatch.setattr(warm_up, "_HELPER", [quick])
    warm_up.wait_for_warm_up(timeout=120)
    assert quick.poll() == 0
    hung = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        monkeypatch.setattr(warm_up, "_HELPER", [hung])
        warm_up.wait_for_warm_up(timeout=0.5)
        assert hung.poll() is None
    finally:
        hung.kill()
        hung.wait()


def test_the_helper_reads_the_part_types_as_data():
    """The helper gets `_evolve_child`'s types as JSON (no pickle: reading it runs no code) and
    rebuilds exactly the types the kernel passes; anything else is refused."""
    import pytest

    from amlz_compile.search.config import SearchConfig
    from amlz_compile.search.evolution import RegularizedEvolution
    from amlz_compile.search.kernel_compile import (
        describe_signature,
        part_signatures,
        read_signature,
    )
    from amlz_compile.search.presets import get_preset

    base = get_preset("demo")["search"]
    base.update(population_size=20, tournament_size=3)
    evo = RegularizedEvolution(SearchConfig.from_dict(base), seed=3)
    args = (0, 0, None, None, None, None, None, evo.pop, *evo._args())
    signature = part_signatures(args)["_evolve_child"]
    text = describe_signature(signature)
    assert json.loads(text)[0][0] == "array"
    assert read_signature(text) == signature
    for bad in ('[["number", "pyobject"]]', '[["array", "float64", 1, "Z", false, true]]',
                '[["code", "os.system"]]'):  # fmt: skip
        with pytest.raises(ValueError):
            read_signature(bad)
