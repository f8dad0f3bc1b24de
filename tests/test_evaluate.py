"""The evaluation protocol: Evaluator, batch kernel vs single runs, seeds, registry, learning.

End-to-end: the linear regressor (the reference LINEAR_ALGORITHM and the README's form) solves
linear tasks; the reference's tuned NeuralNet learns a 2-layer teacher task.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import programs_with_memory

from amlz_compile.algorithms import load_builtin
from amlz_compile.backends.interp import InterpBackend
from amlz_compile.evaluate import (
    EvalResult,
    Evaluator,
    available_backends,
    get_backend,
    predict_trace,
    register_backend,
    task_seeds,
)
from amlz_compile.fitness import task_fitness
from amlz_compile.ir.program import Instruction, MemorySpec, Program, ProgramError
from amlz_compile.rng import SplitMix64
from amlz_compile.tasks import ACCURACY, RMS_ERROR, Task, TaskError, build_tasks

LINEAR = {"kind": "linear", "features": 4, "num_train": 1000, "num_valid": 100, "num_tasks": 10}


def linear_program(lr: float) -> Program:
    """README form: s2 = lr; s1 = dot(v0, v1); s3 = s0 - s1; s4 = s3 * s2; v2 = s4 * v0;
    v1 = v1 + v2."""
    return Program(
        [Instruction(56, out=2, act=lr)],
        [Instruction(27, 0, 1, 1)],
        [Instruction(2, 0, 1, 3), Instruction(3, 3, 2, 4), Instruction(18, 4, 0, 2),
         Instruction(23, 1, 2, 1)],
    )  # fmt: skip


@pytest.fixture(scope="module")
def linear_tasks():
    return build_tasks(LINEAR)


def random_task(rng: np.random.Generator, F: int, eval_type: str, epochs: int) -> Task:
    n, v = int(rng.integers(1, 12)), int(rng.integers(1, 8))
    tx, vx = rng.normal(size=(n, F)), rng.normal(size=(v, F))
    ty, vy = rng.normal(size=n) * 3, rng.normal(size=v) * 3
    if eval_type == ACCURACY:
        ty, vy = (ty > 0).astype(float), (vy > 0).astype(float)
    orders = np.array([rng.permutation(n) if e else np.arange(n) for e in range(epochs)])
    return Task("random", tx, ty, vx, vy, orders, eval_type)


# -- learning ---------------------------------------------------------------------------------


def test_linear_regressor_solves_linear_tasks(linear_tasks):
    """LINEAR_ALGORITHM's rate 0.01 passes 0.9999; the README's 0.001 is too slow for 1000."""
    ev = Evaluator(linear_tasks, MemorySpec(5, 3, 1))
    result = ev.evaluate_detailed(linear_program(0.01), 0)
    assert result.fitness > 0.9999
    assert min(result.per_task) > 0.9998
    assert result.train_steps == 10 * 1000
    slow = ev.evaluate(load_builtin("readme_linear"), 0)
    assert 0.3 < slow < 0.95
    assert ev.evaluate(load_builtin("linear"), 0) == result.fitness


def test_tuned_neural_net_learns_the_two_layer_teacher():
    """The reference's evaluator test setting: NeuralNet(lr 0.036210, init 0.180920 / 0.145231)
    on the default-seeded 2-layer task (F=4, 10000 train, 100 valid). The reference pins
    0.99652964 with its own RNG; here every seed tried exceeds 0.99. (The untuned NEURAL_NET,
    lr 0.01 / scales 0.1, reaches only ~0.75-0.88 on this task with 1000-10000 examples.)"""
    nn = load_builtin("neural_net")
    setup = [
        Instruction(63, out=2, f0=0.0, f1=0.145231),
        Instruction(64, out=0, f0=0.0, f1=0.180920),
        Instruction(56, out=3, act=0.036210),
    ]
    program = nn.replace(setup=setup)
    spec = {"kind": "nonlinear", "features": 4, "num_train": 10000, "num_valid": 100}
    ev = Evaluator(build_tasks(spec), MemorySpec(5, 9, 2))
    fitness = ev.evaluate_batch([program] * 5, list(range(5)))
    assert (fitness > 0.99).all(), fitness


# -- protocol ---------------------------------------------------------------------------------


def test_task_seeds_are_successive_splitmix_draws():
    gen = SplitMix64(42)
    assert task_seeds(42, 3).tolist() == [gen.next_u64() for _ in range(3)]
    ev = Evaluator(build_tasks({**LINEAR, "num_tasks": 3, "num_train": 10}), MemorySpec(5, 3, 1))
    assert ev.seeds(42).tolist() == task_seeds(42, 3).tolist()


def test_random_ops_are_reproducible_per_seed_and_differ_between_seeds(linear_tasks):
    program = Program([Instruction(63, out=1, f0=0.0, f1=0.5)], [Instruction(27, 0, 1, 1)], [])
    ev = Evaluator(linear_tasks[:3], MemorySpec(5, 3, 1))
    a, b, c = ev.evaluate(program, 5), ev.evaluate(program, 5), ev.evaluate(program, 6)
    assert a == b and a != c


def test_evaluate_batch_matches_single_evaluations(linear_tasks):
    progs = [linear_program(lr) for lr in (0.001, 0.01, 0.1, 0.5)]
    ev = Evaluator(linear_tasks[:4], MemorySpec(5, 3, 1))
    batch = ev.evaluate_batch(progs, [3, 4, 5, 6])
    single = [ev.evaluate(p, s) for p, s in zip(progs, [3, 4, 5, 6], strict=True)]
    assert batch.tolist() == single


def test_evaluate_detailed_result(linear_tasks):
    ev = Evaluator(linear_tasks[:2], MemorySpec(5, 3, 1), combination="median")
    res = ev.evaluate_detailed(linear_program(0.01), rng_seed=1)
    assert isinstance(res, EvalResult) and len(res.per_task) == 2
    assert res.fitness == sorted(res.per_task)[1]
    assert ev.evaluate_detailed(linear_program(0.01), seed=1) == res


def test_train_budget_zero_gives_zero(linear_tasks):
    ev = Evaluator(linear_tasks[:3], MemorySpec(5, 3, 1))
    fit, per_task, steps = ev.evaluate_batch_detailed(
        [linear_program(0.01)] * 2, [0, 0], n_train=[[0, 1000, 0], [1000, 1000, 1000]]
    )
    assert per_task[0, 0] == 0.0 and per_task[0, 2] == 0.0 and per_task[0, 1] > 0.999
    assert steps.tolist() == [1000, 3000]


def test_tasks_of_different_feature_sizes_are_grouped():
    rng = np.random.default_rng(0)
    tasks = [random_task(rng, F, RMS_ERROR, 1) for F in (2, 5, 2, 3)]
    program = Program([Instruction(56, out=2, act=0.5)], [Instruction(50, 0, 0, 1)], [])
    ev = Evaluator(tasks, MemorySpec(3, 1, 0))
    per_task = ev.evaluate_detailed(program, 0).per_task
    for t, f in zip(tasks, per_task, strict=True):
        alone = Evaluator([t], MemorySpec(3, 1, 0)).evaluate(program, 0)
        assert f > 0 and alone == f


def test_user_errors_are_clear(linear_tasks):
    with pytest.raises(TaskError):
        Evaluator([], MemorySpec(5, 3, 1))
    with pytest.raises(ValueError, match="combination"):
        Evaluator(linear_tasks, MemorySpec(5, 3, 1), combination="max")
    with pytest.raises(ValueError, match="unknown backend"):
        Evaluator(linear_tasks, MemorySpec(5, 3, 1), backend="nope")
    ev = Evaluator(linear_tasks, MemorySpec(4, 3, 1))
    with pytest.raises(ProgramError, match="s4"):
        ev.evaluate(linear_program(0.01))
    with pytest.raises(ProgramError, match="s4"):
        ev.check(linear_program(0.01))


def test_registry_serves_shared_instances_and_new_backends(linear_tasks):
    assert {"interp", "jit"} <= set(available_backends())
    assert get_backend("interp") is get_backend("interp")

    class PerTask:
        """The interpreter without its batch entry point: exercises the per-task path."""

        name = "interp-per-task"

        def __init__(self):
            self.inner = InterpBackend()

        def run_task(self, *args, **kwargs):
            return self.inner.run_task(*args, **kwargs)

    register_backend("interp-per-task", PerTask)
    progs = [linear_program(lr) for lr in (0.003, 0.03)]
    batch = Evaluator(linear_tasks[:3], MemorySpec(5, 3, 1))
    per_task = Evaluator(linear_tasks[:3], MemorySpec(5, 3, 1), backend="interp-per-task")
    a = batch.evaluate_batch_detailed(progs, [1, 2])
    b = per_task.evaluate_batch_detailed(progs, [1, 2])
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x, y)


def test_predict_trace_layout():
    rng = np.random.default_rng(1)
    task = random_task(rng, 3, RMS_ERROR, 2)
    program = Program([], [Instruction(50, 0, 0, 1)], [])
    trace = predict_trace(program, task)
    N, V = task.num_train, task.num_valid
    assert len(trace) == 2 * (N + V)
    assert trace[:N] == pytest.approx(task.train_x[task.orders[0]].mean(axis=1), rel=1e-12)
    assert trace[N : N + V] == pytest.approx(task.valid_x.mean(axis=1), rel=1e-12)


# -- batch kernel == single runs (pruning changes nothing observable) ---------------------------


@given(
    pair=programs_with_memory(max_sizes=(4, 5, 6), extreme=True),
    seed=st.integers(0, 2**64 - 1),
    task_seed=st.integers(0, 2**32 - 1),
    accuracy=st.booleans(),
    epochs=st.integers(1, 3),
    max_abs_error=st.sampled_from([100.0, 1.0, np.inf]),
)
def test_batch_kernel_agrees_with_run_task(pair, seed, task_seed, accuracy, epochs, max_abs_error):
    memory, program = pair
    rng = np.random.default_rng(task_seed)
    eval_type = ACCURACY if accuracy else RMS_ERROR
    tasks = [random_task(rng, memory.features, eval_type, epochs) for _ in range(2)]
    backend = InterpBackend()
    L = 64
    seeds = np.array([[seed, seed ^ 1]], dtype=np.uint64)
    for prune in (True, False):
        out = backend.run_batch(
            [program], tasks, memory, seeds, max_abs_error=max_abs_error, trace_len=L, prune=prune
        )
        for t, task in enumerate(tasks):
            run = backend.run_task(
                program, task, memory, rng_seed=int(seeds[0, t]), max_abs_error=max_abs_error,
                trace_len=L,
            )  # fmt: skip
            want = task_fitness(
                run.epoch_loss, run.epochs_validated, float(task.num_valid), task.is_accuracy
            )
            assert out.fitness[0, t] == want
            assert out.train_steps[0, t] == run.train_steps
            assert out.trace_counts[0, t] == len(run.trace)
            got_trace = out.traces[0, t, : len(run.trace)]
            assert np.array_equal(got_trace, run.trace, equal_nan=True)
