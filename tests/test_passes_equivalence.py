"""Simplified programs behave exactly like the originals: same predictions, same fitness.

Random programs over all 65 ops (extreme constants included) and small random tasks, run by the
reference interpreter for several epochs, regression and accuracy: the trace of every prediction
(NaN where NaN, signs of zeros included) and the per-epoch validation losses are identical for
the program, its dead-code-free form, its folded form and its full simplification. One property
draws its data fields from a few values that collide on purpose (0.0, -0.0, 0.5, +-inf, NaN), so
that writes of the value a location already holds, random ops whose result does not depend on
their draws (gaussian(mu, 0), uniform(lo, inf)) and reads of addresses nothing writes are common.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from amlz_compile.backends.interp import InterpBackend
from amlz_compile.fitness import task_fitness
from amlz_compile.ir.ops import OPS, Op
from amlz_compile.ir.program import Instruction, MemorySpec, Program
from amlz_compile.passes import (
    canonical_key,
    canonicalize,
    eliminate_dead_code,
    fold_constants,
    simplify,
)
from amlz_compile.tasks.base import ACCURACY, RMS_ERROR, Task
from tests.strategies import memory_specs, programs_with_memory

BACKEND = InterpBackend()


@st.composite
def tasks_for(draw, features: int) -> Task:
    """A small task of width `features`: 1-5 training examples, 1-3 validation, 1-3 epochs."""
    n_train = draw(st.integers(1, 5))
    n_valid = draw(st.integers(1, 3))
    epochs = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    eval_type = draw(st.sampled_from((RMS_ERROR, ACCURACY)))
    rng = np.random.default_rng(seed)
    scale = draw(st.sampled_from((0.1, 1.0, 10.0)))
    tx = rng.normal(0.0, scale, (n_train, features))
    vx = rng.normal(0.0, scale, (n_valid, features))
    if eval_type == ACCURACY:
        ty = (rng.random(n_train) > 0.5).astype(float)
        vy = (rng.random(n_valid) > 0.5).astype(float)
    else:
        ty = rng.normal(0.0, 1.0, n_train)
        vy = rng.normal(0.0, 1.0, n_valid)
    orders = np.stack([rng.permutation(n_train) for _ in range(epochs)])
    orders[0] = np.arange(n_train)
    return Task("random", tx, ty, vx, vy, orders, eval_type)


def run(program: Program, task: Task, memory: MemorySpec, seed: int):
    trace_len = task.max_train_examples + task.epochs * task.num_valid
    return BACKEND.run_task(program, task, memory, rng_seed=seed, trace_len=trace_len)


def assert_same_run(a, b, task: Task) -> None:
    assert a.epochs_validated == b.epochs_validated
    assert a.train_steps == b.train_steps
    assert np.array_equal(a.trace, b.trace, equal_nan=True), (a.trace, b.trace)
    # signs of zeros and infinities too (only NaN payloads may differ)
    assert np.array_equal(
        np.signbit(a.trace) | np.isnan(a.trace), np.signbit(b.trace) | np.isnan(b.trace)
    )
    assert np.array_equal(a.epoch_loss, b.epoch_loss, equal_nan=True)
    fa = task_fitness(a.epoch_loss, a.epochs_validated, task.num_valid, task.is_accuracy)
    fb = task_fitness(b.epoch_loss, b.epochs_validated, task.num_valid, task.is_accuracy)
    assert fa == fb


def _check(pair, data) -> None:
    memory, program = pair
    task = data.draw(tasks_for(memory.features))
    seed = data.draw(st.integers(0, 2**64 - 1))
    reference = run(program, task, memory, seed)
    result = simplify(program)
    simple = result.program
    simple.check_fits(memory)  # renaming never needs more memory
    assert result.size_after <= result.size_before == len(program)
    for variant in (
        eliminate_dead_code(program),
        fold_constants(program),
        canonicalize(program),
        simple,
    ):
        assert_same_run(reference, run(variant, task, memory, seed), task)
    # simplification is idempotent and the key is a function of the simplified program
    assert simplify(simple).program == simple
    assert canonical_key(simple) == canonical_key(program)


@given(programs_with_memory(max_sizes=(6, 6, 6), extreme=True), st.data())
def test_simplified_programs_predict_identically_all_ops(pair, data):
    _check(pair, data)


CONSTANT_HEAVY = tuple(range(56, 65)) + (1, 3, 4, 13, 18, 19, 23, 26, 27, 29, 31, 41, 47)


@given(st.data())
def test_simplified_programs_predict_identically_constants_and_random_ops(data):
    """Many constant and random ops in a tight memory: folding, partial writes, the stream."""
    memory = data.draw(memory_specs(max_scalars=4, max_vectors=3, max_matrices=2))
    extreme = data.draw(st.booleans())
    pair = data.draw(
        programs_with_memory(memory, max_sizes=(8, 6, 8), ops=CONSTANT_HEAVY, extreme=extreme)
    )
    _check(pair, data)


DEMO = {"setup": (56,), "predict": (27, 2, 3, 18, 23), "learn": (56, 27, 2, 3, 18, 23)}


@given(
    programs_with_memory(
        memory=MemorySpec(4, 3, 1, 4), max_sizes=(10, 2, 8), ops=DEMO, min_sizes=(0, 1, 1)
    ),
    st.data(),
)
def test_simplified_programs_predict_identically_demo_space(pair, data):
    _check(pair, data)


#: data values that make constants collide: equal and opposite zeros, infinities, NaN
POOL = (0.0, -0.0, 0.5, 0.25, -1.0, float("inf"), float("-inf"), float("nan"))
POOL_OPS = (56, 57, 58, 59, 60, 61, 62, 63, 64, 1, 2, 3, 4, 18, 19, 23, 24, 27, 29, 39, 47, 50)


@st.composite
def pooled_programs(draw) -> tuple[MemorySpec, Program]:
    """Programs over POOL_OPS in a small memory (addresses of every kind often left unwritten),
    their data fields drawn from POOL (index fields of the const-sets from [0, 1))."""
    memory = draw(memory_specs(max_scalars=5, max_vectors=4, max_matrices=2))
    ops = [op for op in POOL_OPS if all(
        memory.count(k) > 0 for k in (OPS[op].in1, OPS[op].in2, OPS[op].out) if k is not None
    )]  # fmt: skip
    parts = {}
    for name, most in (("setup", 6), ("predict", 5), ("learn", 5)):
        rows = []
        for _ in range(draw(st.integers(0, most))):
            op = draw(st.sampled_from(ops))
            info = OPS[op]
            fields = {}
            for field in ("in1", "in2", "out"):
                kind = getattr(info, field)
                if kind is not None:
                    fields[field] = draw(st.integers(0, memory.count(kind) - 1))
            for field in info.data:
                index = (op == Op.VECTOR_CONST_SET_OP and field == "f0") or (
                    op == Op.MATRIX_CONST_SET_OP and field in ("f0", "f1")
                )
                pool = st.sampled_from((0.0, 0.3, 0.7)) if index else st.sampled_from(POOL)
                fields[field] = draw(pool)
            rows.append(Instruction(op, **fields))
        parts[name] = rows
    return memory, Program(**parts)


@given(pooled_programs(), st.data())
def test_simplified_programs_predict_identically_colliding_constants(pair, data):
    _check(pair, data)


@given(programs_with_memory(max_sizes=(6, 6, 6), extreme=True), st.data())
def test_zero_writes_at_the_start_of_setup_change_nothing(pair, data):
    """Memory is zeroed before Setup, so writing zeros first is redundant: the simplified
    program and the key do not change (one address of every kind, reserved ones included)."""
    memory, program = pair
    kind = data.draw(st.sampled_from("svm" if memory.matrices else "sv"))
    address = data.draw(st.integers(0, memory.count(kind) - 1))
    zero = {
        "s": Instruction(56, out=address, act=0.0),
        "v": Instruction(60, out=address, f0=0.0, f1=0.0),
        "m": Instruction(61, out=address, f0=0.0, f1=0.0),
    }[kind]
    padded = program.replace(setup=[zero, *program.setup])
    assert simplify(padded).program == simplify(program).program
    assert canonical_key(padded) == canonical_key(program)
