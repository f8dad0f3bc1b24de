"""Hypothesis: JIT-compiled programs equal the interpreter bit for bit (NaN where it has NaN).

Random typed programs of all 65 ops (extreme data: NaN, inf, huge), random small tasks (NaN,
inf and huge features and labels, regression and accuracy, several epochs, partial budgets):
trace, epoch losses, counts, final memory and fitness must agree exactly. Both backends call
the same libm (`sin`, `exp`, `log`, ... resolved in this process) and the JIT keeps IEEE
operation order (no fast-math, no reassociation, libm calls marked `nobuiltin` so LLVM does not
constant-fold them), so no tolerance is needed. Programs are compiled in batches
(`compile_many`) to keep compile counts modest, in both compilation modes: fused kernels and
driver mode (shared skeleton calling per-program functions).
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from strategies import ci_cap, memory_specs, programs, small_tasks
from test_jit import same

from amlz_compile.backends.interp import (
    InterpBackend,
    decode_into,
    machine_buffers,
    run_setup_decoded,
)
from amlz_compile.backends.llvm import JitBackend, JitCompiler, run_kernel_multi
from amlz_compile.backends.llvm.threaded import ThreadedCompiler
from amlz_compile.fitness import task_fitness
from amlz_compile.ir.program import Program

INTERP = InterpBackend()
MODES = ("fused", "driver")
JITS = {m: JitBackend(JitCompiler(pipeline="light", codegen_opt=0, mode=m)) for m in MODES}


@ci_cap(25)  # each example compiles up to 3 programs
@given(data=st.data(), memory=memory_specs(max_scalars=6, max_vectors=5, max_matrices=3))
def test_jit_equals_interpreter_in_both_modes(data, memory):
    progs = data.draw(
        st.lists(programs(memory, max_sizes=(4, 4, 5), extreme=True), min_size=1, max_size=3)
    )
    task = data.draw(small_tasks(memory.features))
    kw = dict(
        n_train=data.draw(st.sampled_from([None, 0, 1, 4, 9])),
        n_valid=data.draw(st.sampled_from([None, 1, 2])),
        rng_seed=data.draw(st.integers(0, 2**64 - 1)),
        max_abs_error=data.draw(st.sampled_from([100.0, 1.0, 1e300])),
        trace_len=data.draw(st.sampled_from([0, 5, 64])),
        keep_memory=data.draw(st.booleans()),  # False: fitness-only kernels
    )
    for jit in JITS.values():
        jit.prepare(progs, memory, final_memory=kw["keep_memory"])
    divisor = float(task.num_valid)
    for prog, mode in ((p, m) for p in progs for m in MODES):
        got = JITS[mode].run_task(prog, task, memory, **kw)
        assert JITS[mode].kernel(prog, memory, kw["keep_memory"]).mode == mode
        want = INTERP.run_task(prog, task, memory, **kw)
        assert got.epochs_validated == want.epochs_validated
        assert got.train_steps == want.train_steps
        assert same(got.trace, want.trace)
        n = want.epochs_validated
        assert same(got.epoch_loss[:n], want.epoch_loss[:n])
        for field in ("scalars", "vectors", "matrices"):
            assert same(getattr(got, field), getattr(want, field)), field
        fit_got = task_fitness(got.epoch_loss, n, divisor, task.is_accuracy)
        fit_want = task_fitness(want.epoch_loss, n, divisor, task.is_accuracy)
        assert same(fit_got, fit_want)


GIVEN = JitCompiler(pipeline="light", codegen_opt=0, mode="fused")
THREADED = ThreadedCompiler()


@given(data=st.data(), memory=memory_specs(max_scalars=6, max_vectors=5, max_matrices=3))
def test_given_memory_kernel_continues_the_interpreters_setup(data, memory):
    """What the search's compiled tier does: Setup interpreted (memory and generator state
    after it), Predict/Learn compiled as a given-memory kernel, fused or threaded (per-op
    stencils walked by a shared skeleton): the same run, bit for bit."""
    prog = data.draw(programs(memory, max_sizes=(4, 4, 5), extreme=True))
    task = data.draw(small_tasks(memory.features))
    seed = data.draw(st.integers(0, 2**64 - 1))
    n_train = data.draw(st.sampled_from([None, 1, 4, 9]))
    mae = data.draw(st.sampled_from([100.0, 1.0, 1e300]))
    want = INTERP.run_task(prog, task, memory, n_train=n_train, rng_seed=seed, max_abs_error=mae)
    F = memory.features
    nS, nV, nM = memory.scalars, memory.vectors, memory.matrices
    bufs = machine_buffers(len(prog), nS, nV, nM, F)
    decode_into(bufs, prog.code, prog.data, prog.bounds, nS, nV, nM, F, False)
    mem = np.zeros((1, nS + (nV + nM * F) * F))
    state = run_setup_decoded(bufs, nS, nV, nM, F, np.uint64(seed), mem[0], task.train_x,
                              task.train_y, task.orders, task.valid_x, task.valid_y,
                              np.zeros(8), np.zeros(0), np.zeros(3, dtype=np.int64))  # fmt: skip
    rest = Program((), prog.predict, prog.learn)
    kernels = GIVEN.compile_given([rest], memory)
    if THREADED.supports(rest, memory):
        kernels += THREADED.compile_given([rest], memory)
    for kernel in kernels:
        seeds = np.array([state], dtype=np.uint64)
        (got,) = run_kernel_multi(kernel, [task], seeds, n_train=n_train, max_abs_error=mae,
                                  initial_memory=mem)  # fmt: skip
        assert got.epochs_validated == want.epochs_validated
        assert got.train_steps == want.train_steps
        n = want.epochs_validated
        assert same(got.epoch_loss[:n], want.epoch_loss[:n])
