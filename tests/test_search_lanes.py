"""Lanes: children of one hot compiled kernel evaluated together in a lockstep kernel. The
search makes the same individuals as the interpreter's, whatever the queue does (full calls,
early calls when a tournament draws a waiting child, lanes that die or bail out)."""

from __future__ import annotations

import numpy as np
import pytest
from test_search_tiers import _same, _trajectory

from amlz_compile.search import kernel_layout as KL
from amlz_compile.search.config import SearchConfig
from amlz_compile.search.evolution import RegularizedEvolution
from amlz_compile.search.jit_tier import lanes_possible
from amlz_compile.search.presets import get_preset


def _nonlinear(**changes) -> SearchConfig:
    """The nonlinear preset (only Setup mutates, one task), shrunk."""
    cfg = get_preset("nonlinear")["search"]
    cfg["search_tasks"][0].update(num_train=120, num_valid=30)
    cfg.update(population_size=60, tournament_size=6)
    cfg.update(changes)
    return SearchConfig.from_dict(cfg)


def _evolve(config: SearchConfig, backend: str, individuals: int, seed: int = 7):
    evo = RegularizedEvolution(config, seed=seed, backend=backend)
    if backend != "interp":  # compile at once, and a lane kernel for the first compiled key
        evo.fp[KL.FP_COMPILE_US] = 0.0
        evo.fp[KL.FP_LANES_US] = 0.0
    evo.init()
    evo.run(max_individuals=individuals)
    return evo


@pytest.mark.parametrize(
    "changes",
    [
        {},  # P = 60, T = 6: tournaments often draw a waiting child (early, partial calls)
        {"max_abs_error": 3.0},  # lanes that fail training or validation (rerun alone)
        {"population_size": 200, "tournament_size": 2, "fitness_combination": "median"},
    ],
    ids=["small-population", "failing-lanes", "median"],
)
def test_lanes_make_the_same_individuals_as_the_interpreter(changes):
    config = _nonlinear(**changes)
    reference = _evolve(config, "interp", 1500)
    for backend in ("jit", "auto"):
        evo = _evolve(config, backend, 1500)
        assert _same(_trajectory(evo), _trajectory(reference)), backend
        s = evo.stats()
        assert s["lane_compiles"] >= 1 and s["lane_evaluations"] > 1000, backend
        # every call but the last few ran more than one child; none left a child waiting
        assert s["lane_calls"] * 2 <= s["lane_evaluations"] <= s["lane_calls"] * KL.LANES
        assert evo.tier.state.lane_info[KL.L_QUEUED] == 0
    if "max_abs_error" in changes:
        assert s["lane_reruns"] > 0


def test_a_tournament_drawing_a_waiting_child_sees_its_fitness():
    """With 10 draws from 12 slots nearly every tournament draws a waiting child: the queue
    runs before the tournament compares, every time."""
    config = _nonlinear(population_size=12, tournament_size=10)
    reference = _evolve(config, "interp", 400)
    evo = _evolve(config, "jit", 400)
    assert np.array_equal(evo.fitness, reference.fitness)
    assert np.array_equal(evo.pop_data, reference.pop_data)
    s = evo.stats()
    assert s["lane_evaluations"] > 0 and s["lane_evaluations"] < 2.5 * s["lane_calls"]


def test_lanes_only_where_no_child_reads_the_ones_before():
    """FEC, dedup and hurdles read what earlier children left; several tasks and the
    interpreter-only backend have no lanes either."""

    def possible(config, backend="auto"):
        return lanes_possible(RegularizedEvolution(config, backend=backend).ip,
                              RegularizedEvolution(config).memory)  # fmt: skip

    assert possible(_nonlinear())
    assert RegularizedEvolution(_nonlinear()).ip[KL.IP_LANES] == KL.LANES
    assert not possible(_nonlinear(), "interp")
    assert not possible(_nonlinear(dedup=True))
    assert not possible(_nonlinear(fec={"num_train_examples": 10, "num_valid_examples": 10}))
    cfg = get_preset("nonlinear")["search"]
    cfg["search_tasks"][0].update(num_tasks=2, param_seeds=[9000, 9001],
                                  data_seeds=[19000, 19001])  # fmt: skip
    two = SearchConfig.from_dict(cfg)
    assert not possible(two)
    assert RegularizedEvolution(two).ip[KL.IP_LANES] == 0


def test_a_state_taken_between_lane_calls_resumes_exactly_on_another_backend():
    """The kernel returns with no child waiting, so a state taken after any call continues
    exactly, with or without lanes."""
    config = _nonlinear()
    reference = _evolve(config, "interp", 1200)
    first = _evolve(config, "jit", 480)  # (whole sweeps of 60)
    assert first.stats()["lane_evaluations"] > 0
    for backend in ("interp", "auto"):
        second = RegularizedEvolution(config, seed=7, backend=backend)
        second.fp[KL.FP_COMPILE_US] = second.fp[KL.FP_LANES_US] = 0.0
        second.set_state(first.get_state())
        second.run(max_individuals=720)
        assert _same(_trajectory(second), _trajectory(reference)), backend


def test_islands_with_lanes_agree_across_backends(monkeypatch):
    from amlz_compile.search import jit_tier
    from amlz_compile.search.experiment import run_search

    monkeypatch.setattr(jit_tier, "lane_saving", lambda features: 1e12)  # lanes at once
    cfg = get_preset("nonlinear")
    cfg["search"]["search_tasks"][0].update(num_train=120, num_valid=30)
    cfg["search"].update(population_size=40, tournament_size=5)
    for key in ("select_tasks", "final_tasks"):
        cfg[key][0].update(num_train=120, num_valid=30)
    events = []
    results = [
        run_search(
            cfg,
            seed=3,
            islands=2,
            backend=b,
            max_individuals=1200,
            runner="local",
            on_event=events.append if b == "jit" else None,
        )  # fmt: skip
        for b in ("interp", "jit")
    ]
    assert results[0].best_program == results[1].best_program
    assert results[0].individuals == results[1].individuals
    assert results[0].select_fitness == results[1].select_fitness
    last = [e for e in events if e.kind == "progress"][-1]
    assert all(isl.stats["lane_evaluations"] > 0 for isl in last.islands)


@pytest.mark.parametrize("P, mutate_prob, seed", [(2, 1.0, 3), (4, 0.9, 3), (4, 0.9, 6)])
def test_a_call_making_more_children_than_slots_runs_the_queue_before_a_slot_is_reused(
    P, mutate_prob, seed
):
    """A kernel call may make more children than the population has slots; a child must not
    take the slot of a child still waiting (found by review: the waiting child's fitness was
    written over the new one's; these seeds showed it, among 6 per setting)."""
    from amlz_compile.bench.llvm import paper_tasks
    from amlz_compile.search import kernels as K

    tasks = paper_tasks(n_tasks=1, features=8, n_train=100, n_valid=20)
    cfg = get_preset("baseline")["search"]
    cfg.update(
        population_size=P,
        tournament_size=2,
        setup_size_init=5,
        predict_size_init=8,
        learn_size_init=15,
        initial_population="random",
        mutate_prob=mutate_prob,
    )
    config = SearchConfig.from_dict(cfg)
    runs = []
    for backend in ("interp", "jit"):
        evo = RegularizedEvolution(config, tasks=tasks, seed=seed, backend=backend)
        evo.fp[KL.FP_COMPILE_US] = evo.fp[KL.FP_LANES_US] = 0.0
        evo.init()
        evo.run(max_individuals=200)
        for _ in range(40):
            evo._kernel(K.MODE_EVOLVE, 6 * P, *evo._none, evo._nofit)
        runs.append(evo)
    assert _same(_trajectory(runs[1]), _trajectory(runs[0]))
    assert runs[1].stats()["lane_evaluations"] > 0
