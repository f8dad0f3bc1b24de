"""The time-to-solution benchmark's definitions (no timing is asserted)."""

from amlz_compile.bench.flow import (
    NONLINEAR_SOLVED,
    baseline_select_fitness,
    seconds_to_solution,
)
from amlz_compile.passes import simplify_program
from amlz_compile.search.experiment import run_search
from amlz_compile.search.presets import get_preset


def test_intact_network_is_the_bar_the_damaged_one_misses():
    intact = baseline_select_fitness("nonlinear", "neural_net")
    damaged = baseline_select_fitness("nonlinear", "damaged_neural_net")
    assert 0.5 < damaged < intact < 1.0


def test_fast_flow_repairs_the_damaged_network_and_stops_early():
    threshold = max(baseline_select_fitness("nonlinear", "neural_net"), NONLINEAR_SOLVED)
    cfg = get_preset("nonlinear")
    cfg["sufficient_fitness"] = threshold
    result = run_search(cfg, seed=2, flow="fast", time_limit=120)
    assert result.stopped == "sufficient_fitness"
    assert result.select_fitness > threshold
    assert result.time_to_solution is not None
    # Stopped long before the reference budget (10^8 steps = 100,000 full evaluations).
    assert result.individuals < 50_000
    live_setup = {ins.op for ins in simplify_program(result.best_program).setup}
    assert {63, 64} <= live_setup  # both Gaussian initialisations (vector, matrix) came back


def test_seeds_run_in_parallel_workers_and_each_reports_its_time():
    threshold = baseline_select_fitness("nonlinear", "neural_net")
    times = seconds_to_solution(
        "nonlinear", [1, 2], flow="fast", cap=120, sufficient_fitness=threshold, jobs=2
    )
    assert len(times) == 2 and all(t is not None and t > 0 for t in times)
