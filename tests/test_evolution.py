"""Regularized evolution: tournament and aging, evaluation (DCE soundness, dedup, FEC, hurdles,
train budget, median), exact resume, migration, and a small demo search that improves."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from amlz_compile.backends.interp import run_task
from amlz_compile.fitness import combine, task_fitness
from amlz_compile.ir.liveness import fits_word, live_rows, live_rows_word, liveness_buffers
from amlz_compile.ir.ops import DEMO_OPS, Op
from amlz_compile.ir.program import Instruction, MemorySpec, Program
from amlz_compile.passes.liveness import live_mask
from amlz_compile.rng import SplitMix64, new_state
from amlz_compile.search import canonical as Canon
from amlz_compile.search import kernels as K
from amlz_compile.search.budget import train_examples
from amlz_compile.search.checkpoint import CheckpointError
from amlz_compile.search.config import SearchConfig
from amlz_compile.search.evolution import RegularizedEvolution
from amlz_compile.search.generator import linear_algorithm, neural_net_algorithm
from amlz_compile.search.hurdles import (
    hurdle_new,
    hurdle_record,
    hurdle_restore,
    percentile_lower,
)
from amlz_compile.search.presets import get_preset
from amlz_compile.tasks import build_collection
from tests.strategies import ci_cap, programs

MEM = {"scalars": 4, "vectors": 3, "matrices": 1}


def linear_tasks(n=3, train=40, valid=20, features=4):
    spec = {"kind": "linear", "features": features, "num_train": train, "num_valid": valid,
            "num_tasks": n, "eval_type": "rms"}  # fmt: skip
    return build_collection([spec])


TASKS = linear_tasks()


def config(**kw) -> SearchConfig:
    base = dict(
        setup_ops=DEMO_OPS, predict_ops=DEMO_OPS, learn_ops=DEMO_OPS,
        setup_size_init=4, predict_size_init=2, learn_size_init=4,
        initial_population="random", population_size=30, tournament_size=5,
        mutate_prob=0.9, memory=MEM, fec={"num_train_examples": 10, "num_valid_examples": 10},
    )  # fmt: skip
    base.update(kw)
    return SearchConfig(**base)


def reference_fitness(program: Program, tasks, combination="mean", seed=0) -> float:
    """Straight through the task kernel: no DCE, no caches."""
    fits = []
    for t in tasks:
        mem = MemorySpec(4, 3, 1, t.features)
        S, V, M = np.zeros(mem.scalars), np.zeros((mem.vectors, t.features)), np.zeros(
            (mem.matrices, t.features, t.features))  # fmt: skip
        loss, counts = np.zeros(t.epochs), np.zeros(3, dtype=np.int64)
        # (writable copies: one compiled signature of run_task for every call in this file)
        code, data, bounds = program.code.copy(), program.data.copy(), program.bounds.copy()
        run_task(code, data, bounds, S, V, M, t.train_x, t.train_y,
                 t.orders, t.max_train_examples, t.valid_x, t.valid_y, t.num_valid,
                 t.is_accuracy, 100.0, np.uint64(seed), loss, np.zeros(0), counts)  # fmt: skip
        fits.append(task_fitness(loss, counts[0], float(t.num_valid), t.is_accuracy))
    return combine(fits, combination)


# -- tournament and aging ---------------------------------------------------------------------


def test_tournament_matches_a_plain_model_and_keeps_the_first_maximum():
    fitness = np.array([0.1, 0.5, 0.5, 0.2, 0.5, 0.0])
    for seed in range(50):
        state = new_state(seed)
        got = K.tournament(fitness, 6, 4, state)
        g = SplitMix64(seed)
        draws = [((g.next_u64() >> 32) * 6) >> 32 for _ in range(4)]
        best = draws[0]
        for d in draws[1:]:
            if fitness[d] > fitness[best]:
                best = d
        assert got == best
    flat = np.zeros(6)
    g = SplitMix64(3)
    assert K.tournament(flat, 6, 10, new_state(3)) == ((g.next_u64() >> 32) * 6) >> 32


def test_children_replace_the_oldest_slot_in_cyclic_order():
    evo = RegularizedEvolution(config(), TASKS, seed=1)
    evo.init()
    assert evo.istate[0] == 0 and evo.stats()["individuals"] == 30
    before = evo.pop_code.copy(), evo.fitness.copy()
    made = evo._kernel(K.MODE_EVOLVE, 3, *evo._none, evo._nofit)
    assert made == 3 and evo.istate[0] == 3
    assert np.array_equal(evo.pop_code[3:], before[0][3:])
    assert np.array_equal(evo.fitness[3:], before[1][3:])
    evo.immigrate([linear_algorithm((4, 2, 4))] * 2)
    assert evo.istate[0] == 5 and evo.program(3) == linear_algorithm((4, 2, 4))
    evo.run(max_individuals=1)  # whole sweeps only
    assert evo.stats()["individuals"] == 63 and evo.istate[0] == 5


def test_run_needs_a_limit_and_stops_at_sweep_boundaries():
    evo = RegularizedEvolution(config(), TASKS, seed=2)
    evo.init()
    with pytest.raises(ValueError):
        evo.run()
    steps0 = evo.stats()["train_steps"]
    s = evo.run(max_train_steps=1)
    assert s["individuals"] == 60 and s["train_steps"] > steps0
    assert evo.run(max_train_steps=0)["individuals"] == 60


# -- evaluation -------------------------------------------------------------------------------


def test_linear_algorithm_fitness_equals_the_kernel_reference():
    prog = linear_algorithm((4, 2, 4))
    want = reference_fitness(prog, TASKS)
    for kw in ({}, {"fec": None, "dedup": False}):
        evo = RegularizedEvolution(config(**kw), TASKS, seed=0)
        assert evo.evaluate(prog) == want
        assert evo.evaluate(prog) == want  # cache hit, same value
    assert want > 0.4  # 40 SGD steps at lr 0.01 only start to fit


@ci_cap(25)
@given(programs(MemorySpec(4, 3, 1, 4), ops=DEMO_OPS))
def test_dead_code_removal_keeps_fitness_exactly(prog):
    evo = RegularizedEvolution(config(fec=None, dedup=False), TASKS, seed=0)
    assert evo.evaluate(prog) == reference_fitness(prog, TASKS)


@ci_cap(25)
@given(programs(MemorySpec(4, 3, 2, 4)), st.integers(0, 2**32))
def test_dead_code_removal_keeps_predictions_with_random_ops(prog, seed):
    t = TASKS[0]
    rows = len(prog) + 2
    evo = RegularizedEvolution(config(memory={"scalars": 4, "vectors": 3, "matrices": 2}), TASKS)
    ws = evo.ws
    code = np.zeros((rows, 4), dtype=np.int32)
    data = np.zeros((rows, 4))
    code[: len(prog)], data[: len(prog)] = prog.code, prog.data
    sizes = np.array(prog.sizes(), dtype=np.int64)
    Canon.dce(code, data, sizes, 4, ws)
    n = ws.live_bounds[3]
    live = (ws.live_code[:n].copy(), ws.live_data[:n].copy(), ws.live_bounds.copy())
    # the search keeps exactly the rows the passes' liveness calls live
    assert np.array_equal(live[0], prog.code[live_mask(prog)])
    traces = []
    for c, d, b in ((prog.code, prog.data, prog.bounds), live):
        S, V, M = np.zeros(4), np.zeros((3, 4)), np.zeros((2, 4, 4))
        trace, counts = np.full(120, np.nan), np.zeros(3, dtype=np.int64)
        run_task(c.copy(), d.copy(), b.copy(), S, V, M, t.train_x, t.train_y, t.orders, 40,
                 t.valid_x, t.valid_y, 20, False, 100.0, np.uint64(seed), np.zeros(1), trace,
                 counts)  # fmt: skip
        traces.append((trace.tobytes(), counts.tolist()))
    assert traces[0] == traces[1]


@ci_cap(50)
@given(programs(MemorySpec(7, 6, 6, 4), max_sizes=(12, 12, 12)), st.sampled_from([7, 12, 21]))
def test_one_word_liveness_marks_the_rows_live_rows_marks(prog, span):
    # (span 21: the generator is bit 63, the last that fits)
    n = len(prog)
    bounds = np.array(prog.bounds, dtype=np.int64)
    want, in_p, in_l, cur = liveness_buffers(n, span)
    live_rows(prog.code, prog.data, bounds, span, want, in_p, in_l, cur)
    got = np.zeros(max(n, 1), dtype=np.bool_)
    assert fits_word(span)
    live_rows_word(prog.code, prog.data, bounds, span, got, np.zeros((n, 3), dtype=np.uint64))
    assert np.array_equal(got[:n], want[:n])
    assert not fits_word(22)


def test_median_combination_is_the_upper_middle():
    prog = linear_algorithm((4, 2, 4))
    tasks = linear_tasks(4)
    evo = RegularizedEvolution(config(fitness_combination="median", fec=None), tasks, seed=0)
    assert evo.evaluate(prog) == reference_fitness(prog, tasks, "median")


def test_identical_population_hits_fec_and_dedup():
    fec = {"num_train_examples": 10, "num_valid_examples": 10, "forget_every": 5}
    c = config(initial_population="no_op", mutate_prob=0.0, dedup=False, fec=fec)
    evo = RegularizedEvolution(c, TASKS, seed=0)
    s = evo.init()
    # per task: miss, then 4 hits, the 4th of which forgets the entry; 30 evaluations = 6 cycles
    assert (s["fec_misses"], s["fec_hits"]) == (3 * 6, 3 * 24)
    evo = RegularizedEvolution(c.replace(dedup=True), TASKS, seed=0)
    s = evo.init()
    # dedup absorbs the repeats; each dedup miss after the first is an FEC hit
    assert s["dedup_misses"] == 6 and s["dedup_hits"] == 24
    # (the FEC entry is forgotten after its own 5th use too)
    assert (s["fec_misses"], s["fec_hits"]) == (3 * 2, 3 * 4)


def test_fingerprint_steps_are_counted():
    c = config(initial_population="linear", mutate_prob=0.0, dedup=False)
    evo = RegularizedEvolution(c, TASKS, seed=0)
    s = evo.init()
    # first individual: 3 fingerprints (10 steps) + 3 full runs (40 steps); then FEC hits
    assert s["train_steps"] == 3 * 10 + 3 * 40 + 29 * 3 * 10


def test_hurdles_stop_bad_candidates_early():
    tasks = linear_tasks(4)
    kw = dict(population_size=40, fec=None, dedup=False)
    plain = RegularizedEvolution(config(**kw), tasks, seed=5)
    plain.init()
    plain.run(max_individuals=120)
    hurdled = RegularizedEvolution(
        config(hurdles={"enabled": True, "window": 20, "num_tasks": 1}, **kw), tasks, seed=5
    )
    hurdled.init()
    hurdled.run(max_individuals=120)
    s, p = hurdled.stats(), plain.stats()
    assert s["hurdle_stops"] > 30
    assert s["full_runs"] < p["full_runs"] - 60
    assert s["hurdle_threshold"] is not None


def test_budget_gives_no_training_to_over_cost_programs():
    c = config(train_budget={"baseline": "neural_net", "threshold_factor": 2.0}, fec=None,
               memory={"scalars": 5, "vectors": 9, "matrices": 2})  # fmt: skip
    heavy = Program([], [Instruction(64, out=0, f0=0, f1=1)] * 20, [Instruction(1, 1, 1, 1)])
    assert train_examples(heavy, c, 40) == 0
    assert train_examples(neural_net_algorithm((4, 2, 4)), c, 40) == 40
    assert train_examples(linear_algorithm((4, 2, 4)), c, 40) == 40
    evo = RegularizedEvolution(c, TASKS, seed=0)
    assert evo.evaluate(heavy) == 0.0 and evo.stats()["train_steps"] == 0
    assert evo.evaluate(linear_algorithm((4, 2, 4))) == reference_fitness(
        linear_algorithm((4, 2, 4)), TASKS
    )


# -- resume and migration -----------------------------------------------------------------------


def _roundtrip(state: dict) -> dict:
    buf = io.BytesIO()
    np.savez(buf, **state)
    buf.seek(0)
    with np.load(buf) as z:
        return {k: z[k] for k in z.files}


@pytest.mark.parametrize("extra", [{}, {"hurdles": {"enabled": True, "window": 10}}])
def test_state_round_trip_continues_bit_exactly(extra):
    c = config(**extra)
    a = RegularizedEvolution(c, TASKS, seed=11)
    a.init()
    a.run(max_individuals=90)
    b = RegularizedEvolution(c, TASKS, seed=11)
    b.init()
    b.run(max_individuals=30)
    resumed = RegularizedEvolution(c, TASKS, seed=999)
    resumed.set_state(_roundtrip(b.get_state()))
    resumed.run(max_individuals=60)
    assert np.array_equal(resumed.fitness, a.fitness)
    assert np.array_equal(resumed.pop_code, a.pop_code)
    assert resumed.pop_data.tobytes() == a.pop_data.tobytes()
    sa, sr = a.stats(), resumed.stats()
    for key in ("individuals", "train_steps", "fec_hits", "dedup_hits", "hurdle_stops"):
        assert sa[key] == sr[key]


def _damaged_states(state: dict) -> dict[str, dict]:
    """One crafted variant of a real state per check the loader makes."""

    def variant(**changes):
        out = {k: np.array(v, copy=True) for k, v in state.items()}
        for key, edit in changes.items():
            edit(out, key)
        return out

    def put(index, value):
        def edit(out, key):
            out[key][index] = value

        return edit

    def replace(value):
        def edit(out, key):
            out[key] = np.asarray(value)

        return edit

    rows = int(state["rows"])
    cycle = state["fec_next"].copy()
    cycle[0], cycle[1] = 1, 0
    return {
        "address beyond the memory": variant(pop_code=put((0, 0, 3), 60000)),
        "negative address": variant(pop_code=put((1, 0, 1), -1)),
        "op outside the table": variant(pop_code=put((2, 0, 0), 99)),
        "sizes beyond the rows": variant(pop_sizes=put((0, 0), rows + 1)),
        "rows too many": variant(rows=replace(10**7)),
        "wrong population shape": variant(fitness=replace(np.zeros(3))),
        "istate outside": variant(istate=put(0, 10**6)),
        "object dtype": variant(pop_data=replace(np.zeros((2, 2), dtype=object))),
        "cache index outside": variant(fec_table=put(0, 10**9)),
        "cache cycle": variant(fec_next=replace(cycle), fec_meta=put(4, 0)),
        "cache capacity changed": variant(fec_meta=put(3, 5)),
        "hurdle index outside": variant(hurdle_meta=put(1, 10**6)),
    }


def test_damaged_states_are_refused_before_the_kernel_runs():
    evo = RegularizedEvolution(config(), TASKS, seed=3)
    evo.init()
    evo.run(max_individuals=40)
    state = _roundtrip(evo.get_state())
    for name, bad in _damaged_states(state).items():
        fresh = RegularizedEvolution(config(), TASKS, seed=3)
        with pytest.raises(CheckpointError):
            fresh.set_state(bad)
            pytest.fail(f"accepted a state with {name}")
    fresh = RegularizedEvolution(config(), TASKS, seed=3)
    fresh.set_state(state)  # the real one loads
    fresh.run(max_individuals=10)


def test_emigrants_and_immigrants():
    evo = RegularizedEvolution(config(), TASKS, seed=4)
    evo.init()
    out = evo.emigrants(5, SplitMix64(1))
    assert len(out) == 5 and all(p in evo.population_programs() for p in out)
    assert evo.emigrants(3, 7) == evo.emigrants(3, 7)
    slot = int(evo.istate[0])
    fits = evo.immigrate([linear_algorithm((4, 2, 4))])
    assert fits[0] == reference_fitness(linear_algorithm((4, 2, 4)), TASKS)
    assert evo.fitness[slot] == fits[0] and evo.program(slot) == linear_algorithm((4, 2, 4))
    evo.immigrate([Program()], fitnesses=[0.25])
    assert evo.fitness[slot + 1] == 0.25


def test_small_demo_search_improves():
    tasks = linear_tasks(5, 100, 100)
    evo = RegularizedEvolution(config(population_size=100, tournament_size=10,
                                      setup_size_init=10, predict_size_init=2,
                                      learn_size_init=8), tasks, seed=3)  # fmt: skip
    s0 = evo.init()
    s1 = evo.run(max_individuals=1500)
    assert s1["best_fitness"] > s0["best_fitness"]
    assert s1["mean_fitness"] > s0["mean_fitness"] + 0.02
    assert s1["dedup_hits"] > 0 and s1["fec_hits"] > 0


def _key(evo, prog):
    ws = evo.ws
    rows = len(prog) + 2
    code = np.zeros((rows, 4), dtype=np.int32)
    data = np.zeros((rows, 4))
    code[: len(prog)], data[: len(prog)] = prog.code, prog.data
    Canon.dce(code, data, np.array(prog.sizes(), dtype=np.int64), 4, ws)
    return int(
        Canon.structure_key(
            ws.live_code,
            ws.live_data,
            ws.live_bounds,
            ws.train_steps,
            3,
            False,
            ws.renaming,
            ws.next_address,
        )
    )


def _permute(prog, perm_s, perm_v):
    from amlz_compile.ir.ops import OPS

    def ren(kind, a):
        return {"s": perm_s, "v": perm_v}.get(kind, {}).get(a, a)

    def one(ins):
        info = OPS[ins.op]
        return Instruction(ins.op, ren(info.in1, ins.in1), ren(info.in2, ins.in2),
                           ren(info.out, ins.out), ins.act, ins.f0, ins.f1, ins.f2)  # fmt: skip

    return Program(*[[one(i) for i in c] for c in (prog.setup, prog.predict, prog.learn)])


@ci_cap(25)
@given(programs(MemorySpec(4, 3, 1, 4), ops=DEMO_OPS))
def test_structure_key_is_invariant_under_renaming_and_sound(prog):
    evo = RegularizedEvolution(config(fec=None, dedup=False), TASKS, seed=0)
    other = _permute(prog, {2: 3, 3: 2}, {1: 2, 2: 1})
    assert _key(evo, prog) == _key(evo, other)
    assert reference_fitness(prog, TASKS) == reference_fitness(other, TASKS)


def test_structure_key_sorts_commuting_operands_only():
    evo = RegularizedEvolution(config(fec=None, dedup=False), TASKS, seed=0)
    learn = [Instruction(2, 0, 1, 2)]  # s2 = s0 - s1

    def key(op, a, b):
        return _key(evo, Program([], [Instruction(op, a, b, 1)], learn))

    assert key(1, 2, 1) == key(1, 1, 2)  # s1 = s2 + s1 == s1 = s1 + s2
    assert key(2, 2, 1) != key(2, 1, 2)  # a difference does not commute


@given(
    values=st.lists(
        st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, -0.0, 0.5, float("nan")])),
        min_size=1,
        max_size=60,
    ),
    window=st.integers(1, 12),
    percentile=st.sampled_from([0.0, 25.0, 50.0, 75.0, 100.0]),
)
def test_hurdle_window_threshold_is_the_sorted_windows_percentile(values, window, percentile):
    """The incrementally sorted window gives np.sort's lower nearest-rank percentile, and a
    state restored from its checkpointed arrays continues identically."""
    hist, meta, thr, srt = hurdle_new(window)
    for k, v in enumerate(values):
        hurdle_record(hist, meta, thr, srt, v, percentile)
        n = int(meta[1])
        expected = percentile_lower(hist, n, percentile)
        assert thr[0] == expected or (np.isnan(thr[0]) and np.isnan(expected))
        if k == len(values) // 2:
            hist, meta, thr, srt = hurdle_restore(hist.copy(), meta.copy(), thr.copy())


def test_a_search_without_matrix_ops_admits_a_program_with_them():
    """The demo's search makes no program with a matrix op, so its interpreter is compiled
    without them; a given program that has one switches it to the full interpreter first, and
    gets the fitness a search with matrix ops among its own gives it."""
    matrix_program = Program(
        [Instruction(Op.MATRIX_GAUSSIAN_SET_OP, out=0, f0=0.0, f1=1.0)],
        [
            Instruction(Op.MATRIX_VECTOR_PRODUCT_OP, 0, 0, 1),  # v1 = m0 v0
            Instruction(Op.VECTOR_INNER_PRODUCT_OP, 1, 0, 1),  # s1 = v1 . v0
        ],
        [],
    )
    base = get_preset("demo")["search"]
    base.update(population_size=20, tournament_size=3)
    lean = RegularizedEvolution(SearchConfig.from_dict(base), seed=4, backend="interp")
    with_matrices = dict(base, setup_ops=[*base["setup_ops"], "MATRIX_GAUSSIAN_SET_OP"])
    full = RegularizedEvolution(SearchConfig.from_dict(with_matrices), seed=4, backend="interp")
    assert not lean._matrix_ops and full._matrix_ops
    fitness = lean.evaluate(matrix_program)
    assert lean._matrix_ops
    assert fitness == full.evaluate(matrix_program)
    # (what skipping the matrix ops would give: a different fitness)
    skipped = Program([], [Instruction(Op.VECTOR_INNER_PRODUCT_OP, 1, 0, 1)], [])
    assert fitness != RegularizedEvolution(SearchConfig.from_dict(base), seed=4).evaluate(skipped)


def test_the_kernel_compiled_before_the_first_call_is_the_one_called():
    """A search compiles its kernel before its first call (while a helper process may compile
    the interpreter): for exactly the argument types the call then has, so nothing compiles
    twice, and the interpreter is attached by then."""
    from amlz_compile.backends.interp import machine_attached

    evo = RegularizedEvolution(_demo_search_config(), seed=3)
    assert not machine_attached(evo.ws.machine)
    before = set(K.population_kernel.overloads)
    evo.init()
    added = set(K.population_kernel.overloads) - before
    assert machine_attached(evo.ws.machine)
    assert len(added) <= 1  # (none when an earlier test compiled the same types)
    evo.run(max_individuals=2 * evo.P)
    assert set(K.population_kernel.overloads) - before == added


def _demo_search_config() -> SearchConfig:
    base = get_preset("demo")["search"]
    base.update(population_size=20, tournament_size=3)
    return SearchConfig.from_dict(base)
