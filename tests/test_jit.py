"""The LLVM JIT: every op agrees bit for bit with the interpreter; cache, batches, recycling."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

from amlz_compile.backends.interp import InterpBackend
from amlz_compile.backends.llvm import (
    RENDER,
    JitBackend,
    JitCompiler,
    codegen,
    const_index,
    kernel_ir,
    run_kernel,
)
from amlz_compile.backends.llvm.codegen import uses_stack
from amlz_compile.ir.ops import NUM_OPS, OPS
from amlz_compile.ir.program import Instruction, MemorySpec, Program, ProgramError
from amlz_compile.tasks import Task

FEATURES = (1, 3, 4, 16, 20)  # 20: vector chunks of 8 + a remainder of 4, chunk loops
INTERP = InterpBackend()


def make_task(F: int, n_train=3, n_valid=2, epochs=2, accuracy=False, seed=0, scale=1.0) -> Task:
    rng = np.random.default_rng(seed)
    tx = rng.normal(size=(n_train, F)) * scale
    vx = rng.normal(size=(n_valid, F)) * scale
    w = rng.normal(size=F)
    ty, vy = tx @ w, vx @ w
    if accuracy:
        ty, vy = (ty > 0).astype(float), (vy > 0).astype(float)
    orders = np.stack([rng.permutation(n_train) for _ in range(epochs)]).astype(np.int32)
    return Task("t", tx, ty, vx, vy, orders, "accuracy" if accuracy else "rms")


def fill_setup(memory: MemorySpec) -> list[Instruction]:
    """Setup that puts random values (some negative, some > 1) at every address.

    Vectors are drawn; matrices are outer products of them (few random draws keep compiles
    cheap; the random matrix ops are tested as ops themselves).
    """
    setup = [Instruction(62, out=k, f0=0.3, f1=1.5) for k in range(memory.scalars)]
    setup += [Instruction(63, out=k, f0=-0.2, f1=2.0) for k in range(memory.vectors)]
    nv = memory.vectors
    setup += [Instruction(28, k % nv, (k + 1) % nv, k) for k in range(memory.matrices)]
    return setup


def variants(op: int) -> list[Instruction]:
    """Instructions of `op`: distinct addresses and fully aliased ones, data edge cases."""
    info = OPS[op]
    if info.is_data_op:
        data = {
            56: [dict(act=-0.75), dict(act=3.5e10)],
            57: [dict(f0=0.0, f1=-1.5), dict(f0=0.999, f1=2.0), dict(f0=0.37, f1=0.5)],
            58: [dict(f0=0.0, f1=0.999, f2=-1.0), dict(f0=0.6, f1=0.3, f2=4.0)],
        }.get(op, [dict(f0=-0.5, f1=0.75), dict(f0=0.6, f1=0.2), dict(f0=1.0, f1=1.0)])
        return [Instruction(op, out=2, **d) for d in data]
    return [Instruction(op, in1=1, in2=2, out=3), Instruction(op, in1=2, in2=2, out=2)]


def op_programs(op: int, memory: MemorySpec) -> list[Program]:
    setup = fill_setup(memory)
    return [Program(setup, [ins, Instruction(27, 1, 2, 1)], [ins]) for ins in variants(op)]


def same(a, b) -> bool:
    if a is None or b is None:  # memory not asked for: absent on both sides
        return a is None and b is None
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


def assert_runs_equal(jit_run, ref_run) -> None:
    assert jit_run.epochs_validated == ref_run.epochs_validated
    assert jit_run.train_steps == ref_run.train_steps
    assert same(jit_run.trace, ref_run.trace)
    n = ref_run.epochs_validated
    assert same(jit_run.epoch_loss[:n], ref_run.epoch_loss[:n])
    for field in ("scalars", "vectors", "matrices"):
        assert same(getattr(jit_run, field), getattr(ref_run, field)), field


@pytest.fixture(scope="module", params=["fused", "driver"])
def backend(request):
    """Cheap compilation (light IR pipeline, fast instruction selection) for the many programs,
    in each compilation mode (fused kernels; driver skeleton + per-program functions)."""
    return JitBackend(JitCompiler(pipeline="light", codegen_opt=0, mode=request.param))


def test_every_op_has_a_template():
    assert sorted(RENDER) == list(range(NUM_OPS))


@pytest.mark.parametrize("F", FEATURES)
def test_every_op_agrees_with_the_interpreter(backend, F):
    memory = MemorySpec(5, 4, 4, F)
    task = make_task(F)
    programs = [p for op in range(NUM_OPS) for p in op_programs(op, memory)]
    backend.prepare(programs, memory, final_memory=True)  # one batch of modules
    for prog in programs:
        kw = dict(rng_seed=12345, trace_len=64, keep_memory=True, max_abs_error=1e300)
        got = backend.run_task(prog, task, memory, **kw)
        want = INTERP.run_task(prog, task, memory, **kw)
        assert_runs_equal(got, want)


def test_fitness_only_kernels_agree_and_refuse_memory():
    """Fused kernels without final memory (what evaluations run): every op, losses, traces and
    counts equal the interpreter's; asking them for memory is a clear error."""
    F = 3
    memory = MemorySpec(5, 4, 4, F)
    backend = JitBackend(JitCompiler(pipeline="light", codegen_opt=0, mode="fused"))
    task = make_task(F)
    programs = [op_programs(op, memory)[1] for op in range(NUM_OPS)]
    kernels = backend.prepare(programs, memory)  # fitness-only by default
    assert not any(k.final_memory for k in kernels)
    for prog in programs:
        kw = dict(rng_seed=77, trace_len=64, max_abs_error=1e300)
        got = backend.run_task(prog, task, memory, **kw)
        assert got.matrices is None
        assert_runs_equal(got, INTERP.run_task(prog, task, memory, **kw))
    assert backend.compiler.compiled == len(set(programs))  # all from the prepared batch
    with pytest.raises(ValueError, match="final memory"):
        run_kernel(kernels[0], task, keep_memory=True)


@pytest.mark.parametrize("F", (2, 5, 20))
def test_every_op_agrees_in_the_row_major_layout(monkeypatch, F):
    """Memory in the caller's arrays, row-major (big F in production; forced here at small F
    by a zero stack limit): the other branch of every layout-dependent template."""
    monkeypatch.setattr(codegen, "STACK_LIMIT_BYTES", 0)
    memory = MemorySpec(5, 4, 4, F)
    assert not uses_stack(memory)
    backend = JitBackend(JitCompiler(pipeline="light", codegen_opt=0))
    task = make_task(F)
    programs = [p for op in range(NUM_OPS) for p in op_programs(op, memory)]
    backend.prepare(programs, memory, final_memory=True)
    for prog in programs:
        kw = dict(rng_seed=777, trace_len=64, keep_memory=True, max_abs_error=1e300)
        assert_runs_equal(
            backend.run_task(prog, task, memory, **kw), INTERP.run_task(prog, task, memory, **kw)
        )


def _agree_fully_optimised(memory: MemorySpec, ops, variants=(0, 1)) -> None:
    backend = JitBackend(JitCompiler())
    assert backend.compiler.settings(memory) == ("O3", 2)
    task = make_task(memory.features)
    programs = [op_programs(op, memory)[v] for op in ops for v in variants]
    backend.prepare(programs, memory, final_memory=True)
    for prog in programs:
        kw = dict(rng_seed=5, trace_len=64, keep_memory=True, max_abs_error=1e300)
        assert_runs_equal(
            backend.run_task(prog, task, memory, **kw), INTERP.run_task(prog, task, memory, **kw)
        )


@pytest.mark.parametrize("F,accuracy", [(4, False), (4, True), (16, True)])
def test_default_driver_settings_agree_too(F, accuracy):
    """Driver mode with default settings: O3 skeleton; program functions with no IR passes at
    codegen 0 (F <= 4, the default there) or light/codegen 2 (larger F, forced driver mode)."""
    backend = JitBackend(JitCompiler(mode="driver"))
    memory = MemorySpec(5, 4, 4, F)
    assert backend.compiler.settings(memory) == (("none", 0) if F <= 4 else ("light", 2))
    task = make_task(F, accuracy=accuracy)
    programs = [op_programs(op, memory)[1] for op in (6, 14, 28, 31, 43, 53, 59, 61, 63)]
    backend.prepare(programs, memory, final_memory=True)
    for prog in programs:
        kw = dict(rng_seed=5, trace_len=64, keep_memory=True, max_abs_error=1e300)
        assert_runs_equal(
            backend.run_task(prog, task, memory, **kw), INTERP.run_task(prog, task, memory, **kw)
        )


def test_fully_optimised_kernels_agree_too():
    """The O3 pipeline (used for F > 4 by default): its optimisations of the vector templates
    (SROA into vector registers, instcombine) must keep every value exact. Every template shape
    at F = 6 (compiling all 65 ops at O3 takes a minute: see the slow test below), the
    layout-dependent ones at F = 16 (one 16-lane chunk per line)."""
    shapes = (16, 17, 19, 21, 22, 23, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 39, 43, 45, 49,
              50, 51, 52, 53, 54, 55, 57, 58, 61, 64)  # fmt: skip
    _agree_fully_optimised(MemorySpec(5, 4, 4, 6), shapes, variants=(1,))
    _agree_fully_optimised(MemorySpec(5, 4, 4, 16), (17, 27, 28, 31, 33, 35, 36, 43, 53, 55), (1,))


@pytest.mark.slow
def test_fully_optimised_kernels_agree_on_every_op_at_16():
    _agree_fully_optimised(MemorySpec(5, 4, 4, 16), range(NUM_OPS))


def test_large_memory_kernels_use_the_callers_arrays_and_agree(backend):
    """Row-major, in place in the caller's arrays (memory too big for the stack)."""
    memory = MemorySpec(4, 3, 3, 80)  # > 128 KiB of matrices: in-place kernel
    assert not uses_stack(memory)
    task = make_task(80, n_train=2, n_valid=2, epochs=1)
    ops = (28, 31, 37, 43, 53, 55, 64, 61, 35)
    programs = [op_programs(op, memory)[1] for op in ops]
    backend.prepare(programs, memory, final_memory=True)
    for prog in programs:
        kw = dict(rng_seed=3, trace_len=16, keep_memory=True, max_abs_error=1e300)
        assert_runs_equal(
            backend.run_task(prog, task, memory, **kw), INTERP.run_task(prog, task, memory, **kw)
        )


def test_const_index_matches_the_reference_rule():
    assert const_index(2.5 / 4, 4) == 2
    assert const_index(0.999999, 4) == 3
    assert const_index(1.0, 4) == 3
    assert const_index(-0.1, 4) == 0
    assert const_index(float("nan"), 4) == 0
    assert [const_index((i + 0.5) / 7, 7) for i in range(7)] == list(range(7))


def test_linear_regressor_learns_and_matches_pinned_interpreter(backend):
    prog = Program(
        [Instruction(56, out=2, act=0.01)],
        [Instruction(27, 1, 0, 1)],
        [Instruction(2, 0, 1, 3), Instruction(3, 2, 3, 3), Instruction(18, 3, 0, 2),
         Instruction(23, 1, 2, 1)],
    )  # fmt: skip
    memory = MemorySpec(4, 3, 1, 4)
    task = make_task(4, n_train=200, n_valid=50, epochs=3)
    got = backend.run_task(prog, task, memory, trace_len=10_000)
    want = INTERP.run_task(prog, task, memory, trace_len=10_000)
    assert got.epochs_validated == 3 and got.train_steps == 600
    assert len(got.trace) == 3 * 250
    assert same(got.trace, want.trace) and same(got.epoch_loss, want.epoch_loss)
    assert got.epoch_loss[2] < got.epoch_loss[0]  # it learns


@pytest.mark.parametrize("accuracy", [False, True])
def test_early_stop_budget_and_partial_validation(backend, accuracy):
    # s1 = s1 * 3 + s0... grows until the error limit stops training in a later epoch.
    prog = Program(
        [Instruction(56, out=3, act=1.7)],
        [Instruction(3, 1, 3, 1), Instruction(50, 0, 0, 2), Instruction(1, 1, 2, 1)],
        [Instruction(1, 1, 0, 1)],
    )
    memory = MemorySpec(4, 2, 0, 3)
    task = make_task(3, n_train=5, n_valid=4, epochs=4, accuracy=accuracy, seed=4)
    for n_train, n_valid, max_err in [(None, None, 100.0), (7, 2, 100.0), (0, None, 1.0),
                                      (20, 3, 5.0), (13, None, 0.5)]:  # fmt: skip
        kw = dict(n_train=n_train, n_valid=n_valid, max_abs_error=max_err, trace_len=7,
                  keep_memory=True)  # fmt: skip
        assert_runs_equal(backend.run_task(prog, task, memory, **kw),
                          INTERP.run_task(prog, task, memory, **kw))  # fmt: skip


def test_cache_hit_returns_the_same_kernel():
    compiler = JitCompiler(pipeline="light", codegen_opt=0)
    memory = MemorySpec(5, 4, 4, 4)
    prog = op_programs(23, memory)[0]
    k1 = compiler.compile(prog, memory)
    k2 = compiler.compile(Program.from_arrays(prog.code, prog.data, prog.bounds), memory)
    assert k1 is k2 and compiler.compiled == 1 and compiler.hits == 1
    k3 = compiler.compile(prog, memory.with_features(3))  # another F: another kernel
    assert k3 is not k1 and compiler.compiled == 2


def test_compile_many_batches_and_dedups():
    compiler = JitCompiler(batch=8, pipeline="light", codegen_opt=0)
    memory = MemorySpec(5, 4, 4, 3)
    programs = [op_programs(op, memory)[0] for op in range(NUM_OPS)]
    kernels = compiler.compile_many(programs + programs[:5], memory)
    assert compiler.compiled == NUM_OPS and compiler.hits == 0
    assert kernels[NUM_OPS] is kernels[0]
    assert len({k.name for k in kernels}) == NUM_OPS
    assert compiler.engines_created == 1


def test_engine_recycling_frees_old_code_and_keeps_results_right():
    compiler = JitCompiler(recycle_programs=10, batch=4, pipeline="light", codegen_opt=0)
    backend = JitBackend(compiler)
    memory = MemorySpec(5, 4, 4, 4)
    task = make_task(4)
    programs = [op_programs(op, memory)[0] for op in range(25)]
    first = compiler.compile(programs[0], memory)
    first_engine = weakref.ref(first.engine)
    kernels = compiler.compile_many(programs, memory)
    assert compiler.engines_created == 3  # 25 programs at most 10 per engine
    assert kernels[0] is first  # still cached in the first engine
    compiler.compile_many(programs[:3], memory)  # recycled engine forgot them: compiled anew
    assert compiler.engines_created >= 3 and compiler.compiled == 28
    for prog in programs:  # results are right across engines
        kw = dict(rng_seed=9, trace_len=32, keep_memory=True, max_abs_error=1e300)
        assert_runs_equal(backend.run_task(prog, task, memory, **kw),
                          INTERP.run_task(prog, task, memory, **kw))  # fmt: skip
    del first, kernels
    compiler.recycle()
    gc.collect()
    assert first_engine() is None  # no kernel refers to it: its code was freed


def test_errors_are_clear(backend):
    memory = MemorySpec(2, 1, 0, 4)
    with pytest.raises(ProgramError, match="out of range"):
        backend.run_task(Program([], [Instruction(1, 0, 5, 1)], []), make_task(4), memory)
    with pytest.raises(ProgramError, match="features"):
        backend.run_task(Program(), make_task(3), memory)


def test_auto_mode_uses_the_driver_for_small_f_and_fused_kernels_above():
    compiler = JitCompiler()
    assert compiler.mode_for(MemorySpec(4, 3, 1, 4)) == "driver"
    assert compiler.settings(MemorySpec(4, 3, 1, 4)) == ("none", 0)
    assert compiler.mode_for(MemorySpec(5, 9, 2, 16)) == "fused"
    assert JitCompiler(mode="fused").mode_for(MemorySpec(4, 3, 1, 4)) == "fused"
    with pytest.raises(ValueError, match="mode"):
        JitCompiler(mode="inline")


def test_driver_is_compiled_once_per_memory_spec_and_shared():
    compiler = JitCompiler(pipeline="light", codegen_opt=0, mode="driver")
    memory = MemorySpec(5, 4, 4, 4)
    programs = [op_programs(op, memory)[0] for op in (1, 23, 43)]
    only_predict = Program([], [Instruction(27, 1, 2, 1)], [])  # empty Setup and Learn
    kernels = compiler.compile_many([*programs, only_predict], memory)
    assert compiler.drivers_compiled == 1
    assert len({k.address for k in kernels}) == 1  # one driver ...
    assert len({k.fns for k in kernels}) == 4  # ... called with each program's functions
    assert kernels[-1].fns[0] == 0 and kernels[-1].fns[2] == 0 and kernels[-1].fns[1] != 0
    compiler.compile(programs[0], memory.with_features(3))
    assert compiler.drivers_compiled == 2
    task = make_task(4)
    kw = dict(rng_seed=1, trace_len=16, keep_memory=True)
    assert_runs_equal(run_kernel(kernels[-1], task, **kw),
                      INTERP.run_task(only_predict, task, memory, **kw))  # fmt: skip


def test_driver_mode_reruns_after_recycling():
    compiler = JitCompiler(pipeline="light", codegen_opt=0, mode="driver")
    backend = JitBackend(compiler)
    memory = MemorySpec(5, 4, 4, 4)
    prog = op_programs(63, memory)[0]  # a random op: the runtime linked into program modules
    task = make_task(4)
    kw = dict(rng_seed=4, trace_len=16, keep_memory=True)
    first = backend.run_task(prog, task, memory, **kw)
    compiler.recycle()
    assert_runs_equal(backend.run_task(prog, task, memory, **kw), first)
    assert_runs_equal(first, INTERP.run_task(prog, task, memory, **kw))


def test_kernel_ir_is_text_with_constants_baked_in():
    memory = MemorySpec(4, 3, 1, 4)
    text = kernel_ir(Program([Instruction(56, out=2, act=0.5)]), memory, "k")
    assert text.startswith("define void @k(") and "0x3FE0000000000000" in text


def test_tiering_cost_model_picks_by_work():
    from amlz_compile.tiering import Workload, choose_tier, instruction_units

    assert instruction_units(1, 16) == 1 and instruction_units(23, 16) == 16
    assert instruction_units(31, 16) == 256 and instruction_units(43, 16) == 4096
    small = Program([Instruction(56, out=2, act=0.1)], [Instruction(27, 1, 0, 1)], [])
    demo = Workload((100,) * 10, (100,) * 10)
    assert choose_tier(small, MemorySpec(4, 3, 1, 4), demo) == "interp"
    assert choose_tier(small, MemorySpec(4, 3, 1, 4), demo, mode="jit") == "jit"
    heavy = Program([], [Instruction(31, 0, 0, 1)], [Instruction(28, 0, 0, 1)] * 4)
    paper = Workload((8000,) * 10, (1000,) * 10)
    memory = MemorySpec(5, 9, 2, 16)
    assert choose_tier(heavy, memory, paper, cached=True) == "jit"
    assert choose_tier(heavy, memory, paper, mode="interp") == "interp"
    task = make_task(4, n_train=10, n_valid=5, epochs=3)
    assert Workload.of_tasks([task], n_train=12) == Workload((12,), (10,))
    with pytest.raises(ValueError, match="tier"):
        choose_tier(small, memory, paper, mode="fast")
