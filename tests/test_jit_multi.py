"""Multi-task (lockstep) JIT kernels and `JitBackend.run_tasks`: every task's results equal
the interpreter's bit for bit, whatever its partners do (fail early, bail out of a failed
validation pass, draw other random numbers)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import ci_cap, memory_specs, programs
from strategies import small_tasks as random_tasks
from test_jit import assert_runs_equal, make_task, op_programs

from amlz_compile.backends.interp import InterpBackend
from amlz_compile.backends.llvm import JitBackend, JitCompiler
from amlz_compile.backends.llvm import backend as backend_module
from amlz_compile.backends.llvm.backend import lockstep_key, run_kernel_multi
from amlz_compile.backends.llvm.multi import multi_kernel_ir
from amlz_compile.ir.ops import NUM_OPS
from amlz_compile.ir.program import Instruction, MemorySpec, Program
from amlz_compile.tasks import Task

INTERP = InterpBackend()
LOCKSTEP2 = None  # one cheap K = 2 backend shared by the hypothesis examples


def cheap(lockstep) -> JitBackend:
    return JitBackend(JitCompiler(pipeline="light", codegen_opt=0, mode="fused"), lockstep=lockstep)


def reference(prog, tasks, memory, seeds, budgets=None, **kw):
    budgets = budgets if budgets is not None else [None] * len(tasks)
    return [
        INTERP.run_task(prog, t, memory, rng_seed=s, n_train=b, **kw)
        for t, s, b in zip(tasks, seeds, budgets, strict=True)
    ]


@pytest.mark.parametrize("F, variants, keep", [(3, 2, True), (16, 1, True), (3, 1, False)])
def test_every_op_agrees_in_lockstep(F, variants, keep):
    """Two tasks (different data, orders and seeds) per kernel, every op (and, at F = 3,
    its aliased variant); keep=False runs the fitness-only kernels (no final memory)."""
    memory = MemorySpec(5, 4, 4, F)
    backend = cheap(2)
    tasks = [make_task(F, seed=s) for s in (0, 1)]
    kw = dict(trace_len=64, keep_memory=keep, max_abs_error=1e300)
    progs = [p for op in range(NUM_OPS) for p in op_programs(op, memory)[:variants]]
    backend.compiler.compile_many_multi(progs, memory, 2, final_memory=keep)  # one module
    for prog in progs:
        got = backend.run_tasks(prog, tasks, memory, rng_seeds=[11, 2**64 - 3], **kw)
        assert backend.compiler._multi  # a lockstep kernel ran
        for g, w in zip(got, reference(prog, tasks, memory, [11, 2**64 - 3], **kw), strict=True):
            assert_runs_equal(g, w)


def _scaled(task: Task, scale: float, name: str) -> Task:
    return Task(name, task.train_x * scale, task.train_y, task.valid_x * scale, task.valid_y,
                task.orders, task.eval_type)  # fmt: skip


def test_partners_fail_early_bail_out_and_continue():
    """Task 0 fails in training (huge features), task 2 fails validation only (huge validation
    features: bails out and reruns alone), tasks 1 and 3 run to the end; K = 2 and 4."""
    F = 4
    memory = MemorySpec(4, 3, 1, F)
    prog = Program(
        [Instruction(63, out=1, f0=0.0, f1=0.5), Instruction(56, out=3, act=0.05)],
        [Instruction(27, 0, 1, 1)],  # s1 = v0 . v1
        # LMS: v1 += 0.05 * (s0 - s1) * v0
        [Instruction(2, 0, 1, 2), Instruction(3, 3, 2, 2), Instruction(18, 2, 0, 2),
         Instruction(23, 1, 2, 1)],
    )  # fmt: skip
    base = make_task(F, n_train=5, n_valid=3, epochs=3, seed=4)
    huge_valid = Task("v", base.train_x, base.train_y, base.valid_x * 1e3, base.valid_y,
                      base.orders, base.eval_type)  # fmt: skip
    tasks = [_scaled(base, 1e4, "a"), base, huge_valid, make_task(F, 5, 3, 3, seed=9)]
    seeds = [1, 2, 3, 4]
    kw = dict(trace_len=40, keep_memory=True, max_abs_error=50.0)
    want = reference(prog, tasks, memory, seeds, **kw)
    assert want[0].train_steps == 1 and want[1].train_steps == 15
    assert want[2].train_steps == 15 and np.isnan(want[2].epoch_loss).all()
    fitness_only = reference(prog, tasks, memory, seeds, **{**kw, "keep_memory": False})
    for K in (2, 4):
        backend = cheap(K)
        got = backend.run_tasks(prog, tasks, memory, rng_seeds=seeds, **kw)
        for g, w in zip(got, want, strict=True):
            assert_runs_equal(g, w)
        got = backend.run_tasks(prog, tasks, memory, rng_seeds=seeds,
                                **{**kw, "keep_memory": False})  # fmt: skip
        assert not backend.compiler._multi[(prog, memory, (K, False, False))].final_memory
        for g, w in zip(got, fitness_only, strict=True):
            assert_runs_equal(g, w)


def test_given_memory_lanes_agree_with_the_single_given_kernel():
    """The search's lanes: one task, four starting memories and generator states in one
    given-memory lockstep kernel, exactly as the single given-memory kernel runs each; lane 1
    fails training (huge weights), lane 2 fails only validation (bails out, rerun alone from
    its own memory)."""
    F = 4
    memory = MemorySpec(4, 3, 1, F)
    rest = Program(
        [],
        [Instruction(27, 0, 1, 1)],  # s1 = v0 . v1
        [Instruction(2, 0, 1, 2), Instruction(3, 3, 2, 2), Instruction(18, 2, 0, 2),
         Instruction(23, 1, 2, 1)],  # LMS: v1 += s3 * (s0 - s1) * v0
    )  # fmt: skip
    base = make_task(F, n_train=6, n_valid=4, epochs=2, seed=3)
    task = Task("t", base.train_x, base.train_y, base.valid_x * 40.0, base.valid_y, base.orders,
                base.eval_type)  # fmt: skip
    n_mem = memory.scalars + memory.vectors * F + memory.matrices * F * F
    start = np.zeros((4, n_mem))
    start[:, 3] = [0.0, 0.05, 0.0, 0.01]  # learning rate s3
    start[:, memory.scalars + F : memory.scalars + 2 * F] = [[0.01] * F, [1e4] * F, [0.5] * F,
                                                             [-0.2] * F]  # v1  # fmt: skip
    seeds = [1, 2**64 - 1, 3, 4]
    compiler = JitCompiler(pipeline="light", codegen_opt=0)
    single = compiler.compile_given([rest], memory)[0]
    lanes = compiler.compile_many_multi([rest], memory, 4, final_memory=False,
                                        given_memory=True)[0]  # fmt: skip
    assert lanes.given_memory and lanes.tasks == 4
    kw = dict(trace_len=0, max_abs_error=30.0)
    want = [
        run_kernel_multi(single, [task], [s], initial_memory=start[j : j + 1], **kw)[0]
        for j, s in enumerate(seeds)
    ]
    assert want[1].train_steps == 1 and want[0].train_steps == want[2].train_steps == 12
    assert np.isnan(want[2].epoch_loss).all() and not np.isnan(want[0].epoch_loss).any()
    got = run_kernel_multi(lanes, [task] * 4, seeds, single, initial_memory=start, **kw)
    for g, w in zip(got, want, strict=True):
        assert_runs_equal(g, w)


def test_fitness_only_kernel_refuses_to_return_memory():
    F = 3
    memory = MemorySpec(2, 2, 1, F)
    prog = Program([], [Instruction(27, 0, 0, 1)], [])
    compiler = JitCompiler(pipeline="light", codegen_opt=0)
    kernel = compiler.compile_multi(prog, memory, 2, final_memory=False)
    assert kernel is not compiler.compile_multi(prog, memory, 2)  # cached apart
    tasks = [make_task(F, seed=s) for s in (0, 1)]
    with pytest.raises(ValueError, match="final memory"):
        run_kernel_multi(kernel, tasks, [0, 0], compiler.compile(prog, memory), keep_memory=True)


def test_multi_kernel_rejects_mixed_shapes_and_large_memory():
    F = 3
    memory = MemorySpec(2, 2, 1, F)
    prog = Program([], [Instruction(27, 0, 0, 1)], [])
    compiler = JitCompiler(pipeline="light", codegen_opt=0)
    kernel = compiler.compile_multi(prog, memory, 2)
    a, b = make_task(F, n_train=3), make_task(F, n_train=4)
    assert lockstep_key(a) != lockstep_key(b)
    with pytest.raises(ValueError, match="lockstep"):
        run_kernel_multi(kernel, [a, b], [0, 0], compiler.compile(prog, memory))
    with pytest.raises(ValueError, match="stack"):
        multi_kernel_ir(prog, MemorySpec(2, 2, 40, 64), "k", 2)


def test_auto_lockstep_starts_after_enough_work(monkeypatch):
    monkeypatch.setattr(backend_module, "LOCKSTEP_AFTER_STEPS", 40)
    memory = MemorySpec(4, 3, 1, 8)  # fused mode (F > 4)
    prog = Program([], [Instruction(27, 0, 0, 1)], [])
    backend = JitBackend(JitCompiler(pipeline="light", codegen_opt=0))
    tasks = [make_task(8, seed=s) for s in range(3)]  # 3 x (6 + 2 x 2) = 30 task-steps
    runs = []
    for _ in range(4):
        runs.append(backend.run_tasks(prog, tasks, memory, rng_seeds=[5, 6, 7], keep_memory=True))
        if len(runs) == 2:
            assert not backend.compiler._multi  # 30 task-steps so far: not yet
    assert backend.compiler._multi  # the later runs used a lockstep kernel
    for run in runs[1:]:
        for g, w in zip(run, runs[0], strict=True):
            assert_runs_equal(g, w)


@ci_cap(20)  # each example compiles a lockstep kernel
@given(data=st.data(), memory=memory_specs(max_scalars=6, max_vectors=5, max_matrices=3))
def test_run_tasks_equals_interpreter(data, memory):
    """Random programs (all ops, extreme data) on 2-4 tasks of one shape (random data, NaN/inf,
    regression or accuracy) plus one of another shape: lockstep groups, the sequential rest."""
    prog = data.draw(programs(memory, max_sizes=(4, 4, 5), extreme=True))
    shape_seed = data.draw(st.integers(0, 2**16))
    group = []
    for _ in range(data.draw(st.integers(2, 4))):
        group.append(data.draw(random_tasks(memory.features)))
    # give the group one shape: the first task's, other data
    first = group[0]
    N, V, E = first.train_x.shape[0], first.valid_x.shape[0], first.orders.shape[0]
    rng = np.random.default_rng(shape_seed)
    same_shape = [first]
    for t in group[1:]:
        tx = np.resize(t.train_x, (N, memory.features)) * rng.choice([1.0, 1e3])
        vx = np.resize(t.valid_x, (V, memory.features))
        ty, vy = np.resize(t.train_y, N), np.resize(t.valid_y, V)
        if first.is_accuracy:
            ty, vy = (ty > 0).astype(float), (vy > 0).astype(float)
        orders = np.stack([rng.permutation(N) for _ in range(E)]).astype(np.int32)
        same_shape.append(Task("s", tx, ty, vx, vy, orders, first.eval_type))
    other = data.draw(random_tasks(memory.features))
    tasks = [*same_shape, other]
    seeds = [data.draw(st.integers(0, 2**64 - 1)) for _ in tasks]
    budget = data.draw(st.sampled_from([None, 0, 1, 4, 9]))
    kw = dict(
        n_valid=data.draw(st.sampled_from([None, 1, 2])),
        max_abs_error=data.draw(st.sampled_from([100.0, 1.0, 1e300])),
        trace_len=data.draw(st.sampled_from([0, 5, 64])),
        keep_memory=data.draw(st.booleans()),  # False: fitness-only lockstep kernels
    )
    global LOCKSTEP2
    LOCKSTEP2 = LOCKSTEP2 or cheap(2)
    backend = LOCKSTEP2
    if data.draw(st.booleans()):  # the same kernels, the tasks spread over two threads
        backend = JitBackend(LOCKSTEP2.compiler, lockstep=2, threads=2)
    got = backend.run_tasks(prog, tasks, memory, rng_seeds=seeds, n_train=budget, **kw)
    want = reference(prog, tasks, memory, seeds, [budget] * len(tasks), **kw)
    for g, w in zip(got, want, strict=True):
        assert_runs_equal(g, w)


@pytest.mark.parametrize("lockstep", [1, 2])
def test_threads_share_the_tasks_and_agree(lockstep):
    """Seven tasks of two shapes over two and three threads: every run equals the
    interpreter's, in the caller's task order."""
    F = 4
    memory = MemorySpec(4, 3, 1, F)
    prog = Program(
        [Instruction(63, out=1, f0=0.0, f1=0.5), Instruction(56, out=3, act=0.05)],
        [Instruction(27, 0, 1, 1)],
        [Instruction(2, 0, 1, 2), Instruction(3, 3, 2, 2), Instruction(18, 2, 0, 2),
         Instruction(23, 1, 2, 1)],
    )  # fmt: skip
    tasks = [make_task(F, n_train=5 + (s % 2), seed=s) for s in range(7)]
    seeds = list(range(100, 107))
    for keep in (True, False):
        kw = dict(trace_len=8, keep_memory=keep)
        want = reference(prog, tasks, memory, seeds, **kw)
        compiler = JitCompiler(pipeline="light", codegen_opt=0, mode="fused")
        for threads in (2, 3):
            backend = JitBackend(compiler, lockstep=lockstep, threads=threads)
            got = backend.run_tasks(prog, tasks, memory, rng_seeds=seeds, **kw)
            for g, w in zip(got, want, strict=True):
                assert_runs_equal(g, w)


def test_threads_must_be_a_positive_count():
    with pytest.raises(ValueError, match="threads"):
        JitBackend(JitCompiler(), threads=0)


def test_no_lockstep_kernel_without_a_full_group():
    """Lockstep 2 on tasks of two different shapes: nothing fills a kernel, so none is
    compiled (it would cost about a single kernel's compile for nothing)."""
    F = 3
    memory = MemorySpec(2, 2, 1, F)
    prog = Program([], [Instruction(27, 0, 0, 1)], [])
    backend = JitBackend(JitCompiler(pipeline="light", codegen_opt=0, mode="fused"), lockstep=2)
    tasks = [make_task(F, n_train=3, seed=1), make_task(F, n_train=4, seed=2)]
    got = backend.run_tasks(prog, tasks, memory, rng_seeds=[1, 2])
    assert not backend.compiler._multi
    for g, w in zip(got, reference(prog, tasks, memory, [1, 2]), strict=True):
        assert_runs_equal(g, w)
