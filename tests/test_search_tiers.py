"""Compiled code as a tier of the search: same individuals on every backend, the tier choice,
resume on another backend, and bounded compiled code (engine recycling counted in engines)."""

from __future__ import annotations

import gc

import numpy as np
import pytest

from amlz_compile.backends.llvm.engine import Engine
from amlz_compile.backends.llvm.threaded import Arena, ThreadedCompiler
from amlz_compile.bench.llvm import paper_tasks
from amlz_compile.ir.ops import Op
from amlz_compile.ir.program import Instruction, Program
from amlz_compile.search import jit_tier
from amlz_compile.search import kernel_layout as KL
from amlz_compile.search.config import ConfigError, SearchConfig
from amlz_compile.search.evolution import RegularizedEvolution
from amlz_compile.search.experiment import resume_search, run_search
from amlz_compile.search.presets import get_preset

BACKENDS = ("interp", "jit", "auto")


def _demo(**changes) -> SearchConfig:
    """The demo search shrunk: P=30, 3 search tasks."""
    cfg = get_preset("demo")["search"]
    cfg.update(population_size=30, tournament_size=5)
    cfg["search_tasks"][0]["num_tasks"] = 3
    cfg.update(changes)
    return SearchConfig.from_dict(cfg)


def _paper_like(**changes) -> SearchConfig:
    """The baseline search (budget, no FEC, no dedup) on random 5/8/15 programs."""
    cfg = get_preset("baseline")["search"]
    cfg.update(population_size=20, setup_size_init=5, predict_size_init=8, learn_size_init=15,
               initial_population="random")  # fmt: skip
    cfg.update(changes)
    return SearchConfig.from_dict(cfg)


def _small_paper_tasks():
    return paper_tasks(n_tasks=3, features=8, n_train=300, n_valid=60)


def _evolve(config, backend, individuals, tasks=None, cheap_compile=False, seed=4):
    evo = RegularizedEvolution(config, tasks=tasks, seed=seed, backend=backend)
    if cheap_compile:  # "auto" then compiles as soon as compiled code runs faster
        evo.fp[KL.FP_COMPILE_US] = 0.0
    evo.init()
    evo.run(max_individuals=individuals)
    return evo


def _trajectory(evo) -> tuple:
    return (evo.pop_code.copy(), evo.pop_data.copy(), evo.pop_sizes.copy(), evo.fitness.copy(),
            evo.counters.copy(), evo.rng.copy(), evo.istate.copy())  # fmt: skip


def _same(a: tuple, b: tuple) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize(
    "make, tasks, cheap",
    [
        (lambda: _demo(), None, False),  # FEC and dedup on
        (lambda: _demo(dedup=False, fitness_combination="median"), None, True),
        (lambda: _paper_like(), _small_paper_tasks, False),  # budget, no FEC, no dedup
        (
            lambda: _paper_like(
                hurdles={"enabled": True, "num_tasks": 1, "percentile": 50.0, "window": 20}
            ),
            _small_paper_tasks,
            True,
        ),  # fmt: skip
    ],
    ids=["demo-fec-dedup", "demo-median", "paper-budget", "paper-hurdles"],
)
def test_every_backend_makes_the_same_individuals(make, tasks, cheap):
    task_list = tasks() if tasks is not None else None
    runs = {b: _evolve(make(), b, 150, task_list, cheap) for b in BACKENDS}
    reference = _trajectory(runs["interp"])
    for b in ("jit", "auto"):
        assert _same(_trajectory(runs[b]), reference), b
    assert runs["interp"].stats()["compiled_evaluations"] == 0
    jit = runs["jit"].stats()
    evaluated = jit["individuals"] - jit["dedup_hits"]
    assert jit["compiled_evaluations"] == evaluated > 0
    assert 0 < jit["compiles"] <= evaluated


def test_migration_and_evaluation_of_given_programs_agree_across_backends():
    a = _evolve(_demo(), "interp", 60)
    b = _evolve(_demo(), "jit", 60)
    programs = a.population_programs()[:7]
    assert np.array_equal(a.evaluate(programs), b.evaluate(programs))
    assert np.array_equal(a.immigrate(programs[:3]), b.immigrate(programs[:3]))
    a.run(max_individuals=60)
    b.run(max_individuals=60)
    assert _same(_trajectory(a), _trajectory(b))


def test_auto_keeps_tiny_work_in_the_interpreter():
    evo = _evolve(_demo(), "auto", 150)
    assert evo.stats()["compiled_evaluations"] == 0 and evo.stats()["compiles"] == 0


def test_auto_compiles_large_work_and_rents_before_buying():
    tasks = paper_tasks(n_tasks=4, features=16, n_train=8000, n_valid=1000)
    big = RegularizedEvolution(_paper_like(), tasks=tasks, seed=4, backend="auto")
    big.fp[KL.FP_COMPILE_US] = 100.0  # rent 0.8 ms: keys seen twice are compiled
    big.init()
    big.run(max_individuals=40)
    s = big.stats()
    assert s["compiled_evaluations"] > 0 and s["compiles"] > 0
    # with compiling priced out of reach, auto never compiles; jit always does
    never = RegularizedEvolution(_paper_like(), tasks=tasks, seed=4, backend="auto")
    never.fp[KL.FP_COMPILE_US] = 1e15
    never.init()
    never.run(max_individuals=40)
    assert never.stats()["compiles"] == 0
    assert _same(_trajectory(never), _trajectory(big))


def test_a_search_compiled_code_cannot_serve_gets_an_interpreter_only_kernel():
    """The tier state (and so the kernel compiled) follows whether `choose_tier` could ever pick
    compiled code: the demo's programs are too small for its tasks under "auto"."""
    assert RegularizedEvolution(_demo(), seed=1, backend="auto").tier.interp_only
    assert RegularizedEvolution(_demo(), seed=1, backend="interp").tier.interp_only
    assert not RegularizedEvolution(_demo(), seed=1, backend="jit").tier.interp_only
    # components that may grow without limit, or paper-scale tasks: compiled code may serve
    growing = _demo(allowed_mutation_types=["insert_instruction", "alter_param"])
    assert not RegularizedEvolution(growing, seed=1, backend="auto").tier.interp_only
    capped = _demo(allowed_mutation_types=["insert_instruction"], mutate_learn_size_max=9,
                   mutate_setup_size_max=11, mutate_predict_size_max=3)  # fmt: skip
    assert RegularizedEvolution(capped, seed=1, backend="auto").tier.interp_only
    paper = RegularizedEvolution(_paper_like(), tasks=_small_paper_tasks(), backend="auto")
    assert not paper.tier.interp_only


def test_an_interpreter_only_search_upgrades_for_a_program_compiled_code_may_run():
    """A given program far larger than the search makes (here 300 Learn rows) hands the
    interpreter-only kernel off to the compiled tier's state, with no change to any result."""
    big = Program(
        [],
        [Instruction(Op.VECTOR_INNER_PRODUCT_OP, 1, 0, 1)],  # s1 = v1 . v0
        [Instruction(Op.VECTOR_SUM_OP, 1, 0, 1)] * 300,  # v1 = v1 + v0, 300 times
    )
    runs = {b: _evolve(_demo(), b, 60) for b in ("interp", "auto")}
    auto = runs["auto"]
    assert auto.tier.interp_only
    fitness = {b: evo.evaluate([big]) for b, evo in runs.items()}
    assert not auto.tier.interp_only
    assert np.array_equal(fitness["auto"], fitness["interp"])
    for evo in runs.values():
        evo.run(max_individuals=60)
    assert _same(_trajectory(auto), _trajectory(runs["interp"]))


def test_unknown_backend_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown backend 'llvm'"):
        RegularizedEvolution(_demo(), seed=1, backend="llvm")


def test_tier_choice_is_reported_per_island_in_progress():
    events = []
    cfg = get_preset("demo")
    cfg["search"].update(population_size=20, tournament_size=4)
    cfg["search"]["search_tasks"][0]["num_tasks"] = 2
    cfg.update(max_experiments=1, sufficient_fitness=None)
    run_search(cfg, seed=3, max_individuals=200, backend="jit", on_event=events.append)
    progress = [e for e in events if e.kind == "progress"]
    stats = progress[-1].islands[0].stats
    assert stats["backend"] == "jit" and stats["compiled_evaluations"] > 0
    assert stats["compiles"] > 0 and stats["compile_seconds"] > 0


def _small_experiment(experiments: int = 1) -> dict:
    cfg = get_preset("demo")
    s = cfg["search"]
    s.update(population_size=20, tournament_size=4)
    s["search_tasks"][0]["num_tasks"] = 2
    cfg["select_tasks"][0].update(num_tasks=2, num_train=100, num_valid=50)
    cfg["final_tasks"][0].update(num_tasks=2, num_train=100, num_valid=50)
    cfg.update(max_experiments=experiments, sufficient_fitness=None)
    return cfg


@pytest.mark.parametrize("flow, islands", [("reference", 1), ("fast", 1), ("reference", 2)])
def test_runs_agree_across_backends(flow, islands):
    results = [
        run_search(
            _small_experiment(),
            seed=21,
            flow=flow,
            islands=islands,
            backend=b,
            max_individuals=400 * islands,
            runner="local",
        )  # fmt: skip
        for b in BACKENDS
    ]
    first = results[0]
    for r in results[1:]:
        assert r.best_program == first.best_program
        assert r.individuals == first.individuals
        assert (r.select_fitness, r.final_fitness) == (first.select_fitness, first.final_fitness)


def test_resume_on_another_backend_continues_exactly(tmp_path):
    total = 600
    reference = run_search(_small_experiment(), seed=5, max_individuals=total, backend="interp")
    run_search(_small_experiment(), seed=5, max_individuals=200, backend="interp",
               checkpoint_dir=tmp_path, checkpoint_every_s=None)  # fmt: skip
    resumed = resume_search(tmp_path, max_individuals=total, backend="jit")
    assert resumed.best_program == reference.best_program
    assert resumed.individuals == reference.individuals
    assert resumed.select_fitness == reference.select_fitness


def _alive_engines(kind=Engine) -> int:
    gc.collect()
    return sum(isinstance(o, kind) for o in gc.get_objects())


def test_engine_recycling_bounds_compiled_code(monkeypatch):
    """Many compilations through few engines (threaded kernels: arenas): old engines and arenas
    are freed, not accumulated."""
    monkeypatch.setattr(jit_tier, "SEARCH_RECYCLE_PROGRAMS", 8)
    before, arenas = _alive_engines(), _alive_engines(Arena)
    evo = _evolve(_demo(dedup=False), "jit", 300)
    tier = evo.tier
    assert tier.compiles > 40 and tier.engines >= tier.compiles // 8
    if ThreadedCompiler.available():  # (x86-64) the quick tier is threaded
        assert tier.threaded_compiles > 40
    assert tier.live_kernels <= 8 + 8  # the newest engine of each compiler
    assert _alive_engines() - before <= 2  # (the threaded stencils' engine, the optimising one)
    assert _alive_engines(Arena) - arenas <= 1
    reference = _evolve(_demo(dedup=False), "interp", 300)
    assert _same(_trajectory(evo), _trajectory(reference))
