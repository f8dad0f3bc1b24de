"""Islands as Ray actors on a real local Ray instance give the in-process result, bit for bit."""

from __future__ import annotations

import pytest

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'amlz-compile[ray]')")

import numpy as np  # noqa: E402

from amlz_compile.rng import SplitMix64  # noqa: E402
from amlz_compile.search.experiment import run_search  # noqa: E402
from amlz_compile.search.island_runners import LocalRunner, RayRunner, _pythonpath  # noqa: E402
from amlz_compile.search.islands import Archipelago, IslandError, IslandSpec  # noqa: E402
from amlz_compile.search.presets import get_preset  # noqa: E402

pytestmark = pytest.mark.ray


def tiny(experiments: int = 1) -> dict:
    cfg = get_preset("demo")
    s = cfg["search"]
    s.update(population_size=20, tournament_size=4, max_train_steps=20 * 7 * 2 * 110)
    s["search_tasks"][0]["num_tasks"] = 2
    cfg["select_tasks"][0].update(num_tasks=3, num_train=100, num_valid=50)
    cfg["final_tasks"][0].update(num_tasks=3, num_train=100, num_valid=50)
    cfg.update(max_experiments=experiments, sufficient_fitness=None)
    return cfg


def drive(runner) -> tuple[list[dict], tuple]:
    """Three islands with migration until their budgets are used; states and best."""
    search = tiny()["search"]
    specs = [IslandSpec(search, search["search_tasks"], seed=100 + i, max_train_steps=30_000)
             for i in range(3)]  # fmt: skip
    arch = Archipelago(runner, specs)
    arch.init()
    rng = SplitMix64(7)
    while not all(s["done"] for s in arch.step(40, 5, rng)):
        pass  # each Ray actor begins its next epoch before step returns
    return arch.get_states(), arch.best()


def assert_same_states(a: list[dict], b: list[dict]) -> None:
    assert len(a) == len(b)
    for sa, sb in zip(a, b, strict=True):
        ea, eb = sa["evolution"], sb["evolution"]
        for key in ea:
            if key not in ("elapsed", "run_seconds"):
                assert np.array_equal(np.asarray(ea[key]), np.asarray(eb[key])), key


@pytest.fixture(scope="module")
def local_ray():
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        runtime_env={"env_vars": {"PYTHONPATH": _pythonpath()}},
        log_to_driver=False,
    )
    try:
        yield
    finally:
        ray.shutdown()


def test_ray_actors_match_local_islands(local_ray):
    runner = RayRunner(2)
    try:
        states, best = drive(runner)
    finally:
        runner.close()
    assert ray.is_initialized()  # the runner leaves an instance it did not start running
    local = LocalRunner()
    try:
        want_states, want_best = drive(local)
    finally:
        local.close()
    assert_same_states(states, want_states)
    assert best[0] == want_best[0] and best[1] == want_best[1] and best[2] == want_best[2]


def test_more_workers_than_ray_cpus_is_a_clear_error(local_ray):
    with pytest.raises(IslandError, match="Ray has 2 CPUs but 3 workers"):
        RayRunner(3)
    assert ray.is_initialized()


def test_run_search_on_ray_matches_local(local_ray):
    cfg = tiny(experiments=1)
    kwargs = dict(seed=4, islands=2, migrate_every=40, migrants=5)
    on_ray = run_search(cfg, runner="ray", workers=2, **kwargs)
    local = run_search(cfg, runner="local", **kwargs)
    assert on_ray.best_program == local.best_program
    assert on_ray.select_fitness == local.select_fitness
    assert on_ray.final_fitness == local.final_fitness
    assert on_ray.individuals == local.individuals
