"""Islands: the same results in-process and in worker processes; migration moves programs."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from amlz_compile.rng import SplitMix64
from amlz_compile.search.checkpoint import CheckpointError
from amlz_compile.search.island_runners import (
    LocalRunner,
    ProcessRunner,
    RayRunner,
    make_runner,
)
from amlz_compile.search.islands import (
    Archipelago,
    Island,
    IslandError,
    IslandSpec,
    draw_seed,
    sample_without_replacement,
)
from amlz_compile.search.mutate import rows_program
from amlz_compile.search.presets import get_preset


def small_search(population: int = 20, tasks: int = 2) -> dict:
    cfg = get_preset("demo")["search"]
    cfg["population_size"] = population
    cfg["tournament_size"] = 4
    cfg["search_tasks"][0]["num_tasks"] = tasks
    return cfg


def specs(n: int, budget: int = 30_000) -> list[IslandSpec]:
    cfg = small_search()
    return [IslandSpec(cfg, cfg["search_tasks"], seed=100 + i, max_train_steps=budget)
            for i in range(n)]  # fmt: skip


def drive(runner, n_islands: int = 3, migrants: int = 5) -> tuple[list[dict], tuple]:
    """Epochs with migration until every budget is used; returns island states and best."""
    arch = Archipelago(runner, specs(n_islands))
    arch.init()
    rng = SplitMix64(7)
    epochs = 0
    while not all(s["done"] for s in arch.step(40, migrants, rng)):
        epochs += 1
    assert epochs >= 3 and not arch.in_flight
    states = arch.get_states()
    best = arch.best()
    arch.drop()
    return states, best


def assert_same_states(a: list[dict], b: list[dict]) -> None:
    assert len(a) == len(b)
    for sa, sb in zip(a, b, strict=True):
        ea, eb = sa["evolution"], sb["evolution"]
        assert ea.keys() == eb.keys()
        for key in ea:
            if key in ("elapsed", "run_seconds"):
                continue
            assert np.array_equal(np.asarray(ea[key]), np.asarray(eb[key])), key


@pytest.fixture(scope="module")
def local_result():
    runner = LocalRunner()
    try:
        return drive(runner)
    finally:
        runner.close()


def test_same_seed_same_run(local_result):
    runner = LocalRunner()
    try:
        states, best = drive(runner)
    finally:
        runner.close()
    assert_same_states(states, local_result[0])
    assert best[0] == local_result[1][0] and best[1:] == local_result[1][1:]


def test_process_workers_give_the_local_result(local_result):
    runner = ProcessRunner(2)
    try:
        states, best = drive(runner)
    finally:
        runner.close()
    assert_same_states(states, local_result[0])
    assert best[1] == local_result[1][1] and best[2] == local_result[1][2]


def test_migration_brings_programs_from_other_islands():
    """Epoch t's emigrants arrive at the start of epoch t + 2 (the lag lets workers run ahead),
    drawn from the other islands' populations, with the fitness they earned there."""
    runner = LocalRunner()
    try:
        arch = Archipelago(runner, specs(3))
        arch.init()
        rng = SplitMix64(1)
        arch.step(20, 5, rng, then=False)
        evos = [runner.host.islands[i].evolution for i in range(3)]

        def populations():
            return [dict(zip(e.population_programs(), e.fitness, strict=True)) for e in evos]

        before = populations()
        arch.step(0, 5, rng, then=False)  # epoch 1: nothing arrives yet
        assert populations() == before
        arch.step(0, 5, rng, then=False)  # epoch 2: epoch 0's emigrants arrive
        after = populations()
        for i in range(3):
            new = set(after[i]) - set(before[i])
            others = {p: f for j in range(3) if j != i for p, f in before[j].items()}
            assert 1 <= len(new) <= 5
            assert new <= set(others)
            assert all(after[i][p] == others[p] for p in new)
        # the population size is unchanged and stats still count individuals
        assert all(s["population_size"] == 20 for s in arch.stats())
    finally:
        runner.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_running_ahead_changes_nothing(workers):
    """Workers that begin their next epoch before `step` returns (then=True) compute exactly
    what islands stepped one epoch at a time compute; readers wait for no epoch in flight."""
    runners = make_runner("process", workers), LocalRunner()
    try:
        archs = [Archipelago(r, specs(3, budget=None)) for r in runners]
        rngs = [SplitMix64(5), SplitMix64(5)]
        for a in archs:
            a.init()
        for _ in range(4):
            ahead = archs[0].step(40, 6, rngs[0])
            at_rest = archs[1].step(40, 6, rngs[1], then=False)
            assert [(s["individuals"], s["best_fitness"]) for s in ahead] == [
                (s["individuals"], s["best_fitness"]) for s in at_rest
            ]
        assert archs[0].in_flight and not archs[1].in_flight
        with pytest.raises(IslandError, match="in flight"):
            archs[0].get_states()
        archs[0].step(40, 6, rngs[0], then=False)
        archs[1].step(40, 6, rngs[1], then=False)
        assert rngs[0].state == rngs[1].state
        assert_same_states(archs[0].get_states(), archs[1].get_states())
    finally:
        for r in runners:
            r.close()


def stepped(runner, n: int, epochs: int, seed: int) -> tuple[Archipelago, SplitMix64]:
    """n unbudgeted islands after `epochs` epochs at rest (40 individuals, 6 migrants)."""
    arch = Archipelago(runner, specs(n, budget=None))
    arch.init()
    rng = SplitMix64(seed)
    for _ in range(epochs):
        arch.step(40, 6, rng, then=False)
    return arch, rng


def test_resume_mid_migration_is_exact():
    """A state saved between epochs carries the migrations still to come (`incoming`); islands
    restored from it continue exactly as the ones that never stopped."""
    runner, resumed_runner = LocalRunner(), LocalRunner()
    try:
        arch, rng = stepped(runner, 3, 3, seed=9)
        states, rng_state = arch.get_states(), rng.state
        assert all(len(s["incoming"]) == 2 for s in states)
        assert any(m["immigrants"] is not None for s in states for m in s["incoming"])
        resumed = Archipelago(resumed_runner, specs(3, budget=None))
        resumed.set_states(states)
        rng2 = SplitMix64(0)
        rng2.state = rng_state
        for _ in range(3):
            arch.step(40, 6, rng)
            resumed.step(40, 6, rng2)
        arch.step(40, 6, rng, then=False)
        resumed.step(40, 6, rng2, then=False)
        assert_same_states(arch.get_states(), resumed.get_states())
    finally:
        runner.close()
        resumed_runner.close()


def test_incoming_migrants_are_checked_on_resume():
    """Immigrants a checkpoint says are still to come are checked like a population: bad ops,
    shapes or seeds are refused with CheckpointError naming the migration."""
    runner = LocalRunner()
    try:
        states = stepped(runner, 2, 2, seed=4)[0].get_states()
        island = Island(specs(1, budget=None)[0])
        island.set_state(states[0])  # as saved: accepted
        rows = list(states[0]["incoming"][0]["immigrants"])
        rows[0] = rows[0].copy()
        rows[0][0, 0, 0] = 999  # no such op
        bad = dict(states[0], incoming=[{"immigrants": tuple(rows), "seed": 1},
                                        states[0]["incoming"][1]])  # fmt: skip
        with pytest.raises(CheckpointError, match="incoming migration 0.*ops"):
            island.set_state(bad)
        bad = dict(states[0], incoming=[{"immigrants": None, "seed": -1}] * 2)
        with pytest.raises(CheckpointError, match="seed"):
            island.set_state(bad)
        bad = dict(states[0], incoming=[{"immigrants": tuple(rows[:3]), "seed": 1}] * 2)
        with pytest.raises(CheckpointError, match="6 row arrays"):
            island.set_state(bad)
    finally:
        runner.close()


def test_migration_as_rows_is_migration_of_programs():
    """Emigrants travel as row arrays; the result is exactly that of moving Program objects with
    their fitnesses (the paper's migration: each island draws from the others' emigrants, in
    island order), placed two epochs later."""
    runners = LocalRunner(), LocalRunner()
    try:
        archs = [Archipelago(r, specs(3)) for r in runners]
        for a in archs:
            a.init()
            a.run_epoch(40)
        rng = SplitMix64(3)
        for _ in range(3):  # epoch 0 picks emigrants, epoch 2 places them
            archs[0].step(0, 6, rng, then=False)
        rng = SplitMix64(3)  # the same migration with Programs, as the coordinator draws it
        evos = [runners[1].host.islands[i].evolution for i in range(3)]
        seeds = [draw_seed(rng) for _ in range(3)]
        [draw_seed(rng) for _ in range(3)]  # epoch 1's emigrant seeds
        sent = []
        for i in range(3):
            slots = evos[i]._emigrant_slots(6, SplitMix64(seeds[i]))
            sent.append([(evos[i].program(s), evos[i].fitness[s], evos[i].pop_fec_keys[s].copy(),
                          evos[i].pop_task_fitness[s].copy()) for s in slots])  # fmt: skip
        for i in range(3):
            pool = [pf for j in range(3) if j != i for pf in sent[j]]
            chosen = sample_without_replacement(pool, 6, rng)
            programs, fitnesses, keys, task_fitness = zip(*chosen, strict=True)
            evos[i].immigrate(programs, fitnesses, np.array(keys), np.array(task_fitness))
        for a in archs:
            a.run_epoch(40)
        assert_same_states(archs[0].get_states(), archs[1].get_states())
    finally:
        for r in runners:
            r.close()


def test_migrants_fec_records_enter_the_receiving_cache():
    """A migrant's FEC record (key and fitness per task) enters the receiving island's FEC
    cache: the migrant evaluated there hits on every task and gets the fitness it carried."""
    a, b = (Island(spec) for spec in specs(2, budget=None))
    for island in (a, b):
        island.init()
        island.run_epoch(60)
    rows = a.emigrants(8, 5)
    code, data, sizes, fitness, keys, task_fitness = rows
    n_tasks = len(b.evolution.tasks)
    assert keys.shape == (8, n_tasks) and (keys != 0).all()
    b.immigrate(rows)
    before = b.evolution.stats()
    programs = [rows_program(code[i], data[i], sizes[i]) for i in range(8)]
    got = b.evolution.evaluate(programs)
    after = b.evolution.stats()
    assert after["fec_hits"] - before["fec_hits"] == 8 * n_tasks
    assert after["fec_misses"] == before["fec_misses"]
    assert np.array_equal(got, fitness)


def test_states_without_fec_records_resume_with_none_known():
    """An evolution state written before FEC records existed loads with every key unknown;
    records of the wrong shape are refused, naming the field."""
    island = Island(specs(1, budget=None)[0])
    island.init()
    state = island.evolution.get_state()
    assert (state["pop_fec_keys"] != 0).any()
    old = {k: v for k, v in state.items() if k not in ("pop_fec_keys", "pop_task_fitness")}
    island.evolution.set_state(old)
    assert not island.evolution.pop_fec_keys.any()
    bad = dict(state, pop_fec_keys=state["pop_fec_keys"][:, :1])
    with pytest.raises(CheckpointError, match="pop_fec_keys"):
        island.evolution.set_state(bad)


def test_single_island_does_not_migrate():
    runner = LocalRunner()
    try:
        arch = Archipelago(runner, specs(1))
        arch.init()
        rng = SplitMix64(3)
        state = rng.state
        arch.step(20, 5, rng)
        assert rng.state == state
        assert not arch.in_flight  # one island never runs ahead: nothing to wait for
    finally:
        runner.close()


@given(st.integers(1, 30), st.integers(0, 30), st.integers(0, 2**64 - 1))
def test_sample_without_replacement(n, k, seed):
    k = min(k, n)
    items = list(range(n))
    a = sample_without_replacement(items, k, SplitMix64(seed))
    b = sample_without_replacement(items, k, SplitMix64(seed))
    assert a == b and len(a) == k and len(set(a)) == k and set(a) <= set(items)
    assert items == list(range(n))  # the input is not modified


def test_worker_errors_are_reported():
    runner = ProcessRunner(1)
    try:
        with pytest.raises(IslandError, match="no island 4"):
            runner.call([(4, "stats", ())])
        # the worker survives an error and keeps serving
        assert isinstance(runner.call([(0, "ping", ())])[0], int)
    finally:
        runner.close()


def test_unknown_runner_and_bad_workers():
    with pytest.raises(IslandError, match="unknown island runner 'mpi'"):
        make_runner("mpi")
    with pytest.raises(IslandError, match="workers must be >= 1"):
        ProcessRunner(0)


def test_missing_ray_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` raise ImportError
    with pytest.raises(IslandError, match=r"pip install 'amlz-compile\[ray\]'"):
        RayRunner(1)
