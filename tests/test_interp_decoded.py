"""The interpreter's decoded-program entry (`machine_buffers`, `decode_into`, `run_decoded`,
what the search kernel calls) against the task-kernel contract (`run_task`), and pinned
evaluations of the reference NEURAL_NET workloads (demo-style linear and the nonlinear preset).

Random typed programs of all 65 ops with extreme data, random small tasks (NaN / inf / huge
values, regression and accuracy, several epochs, partial budgets), F drawn both equal to the
specialised F = 4 and not.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from strategies import memory_specs, programs, small_tasks

from amlz_compile.backends import interp_machine
from amlz_compile.backends.interp import (
    InterpBackend,
    attach_machine,
    decode_into,
    decode_live_into,
    machine_attached,
    machine_buffers,
    run_decoded,
)
from amlz_compile.backends.interp_machine import B_ENTRY, prefetch_machine, uses_matrix_ops
from amlz_compile.backends.packing import pack_programs, pack_tasks
from amlz_compile.ir.ops import MATRIX_OPERAND, Op
from amlz_compile.ir.program import Program


def _same(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


@st.composite
def _cases(draw):
    memory = draw(memory_specs(features=(1, 3, 4, 5)))
    program = draw(programs(memory, extreme=True))
    task = draw(small_tasks(memory.features))
    steps = draw(st.integers(0, task.max_train_examples + 2))
    seed = draw(st.integers(0, 2**64 - 1))
    return memory, program, task, steps, seed


def _run_decoded(memory, program, task, steps, seed, prune, trace_len, matrix_ops=True):
    F = memory.features
    bufs = machine_buffers(
        len(program), memory.scalars, memory.vectors, memory.matrices, F, matrix_ops
    )
    epoch_loss = np.zeros(task.orders.shape[0])
    trace = np.zeros(trace_len)
    counts = np.zeros(3, dtype=np.int64)
    decode_into(bufs, program.code, program.data, program.bounds, memory.scalars,
                memory.vectors, memory.matrices, F, prune)  # fmt: skip
    run_decoded(bufs, memory.scalars, memory.vectors, memory.matrices, F, task.train_x,
                task.train_y, task.orders, steps, task.valid_x, task.valid_y, task.num_valid,
                task.is_accuracy, 100.0, np.uint64(seed), epoch_loss, trace, counts)  # fmt: skip
    return bufs, epoch_loss, trace, counts


@given(_cases(), st.booleans())
def test_run_decoded_matches_the_task_kernel(case, prune):
    """Same losses, trace and counts as `run_task`; unpruned, the same final memory too."""
    memory, program, task, steps, seed = case
    ref = InterpBackend().run_task(program, task, memory, n_train=steps, rng_seed=seed,
                                   trace_len=64, keep_memory=True)  # fmt: skip
    bufs, epoch_loss, trace, counts = _run_decoded(memory, program, task, steps, seed, prune, 64)
    assert _same(epoch_loss, ref.epoch_loss)
    assert counts[0] == ref.epochs_validated and counts[2] == ref.train_steps
    assert _same(trace[: counts[1]], ref.trace)
    if not prune:
        nS, nV, nM, F = memory.scalars, memory.vectors, memory.matrices, memory.features
        mem = bufs[7]
        assert _same(mem[:nS], ref.scalars)
        assert _same(mem[nS : nS + nV * F].reshape(nV, F), ref.vectors)
        assert _same(mem[nS + nV * F : nS + nV * F + nM * F * F].reshape(nM, F, F), ref.matrices)


def _without_matrix_ops(program: Program) -> Program:
    """The program with every op that has a matrix operand replaced by NO_OP."""
    code, data = program.code.copy(), program.data.copy()
    rows = MATRIX_OPERAND[code[:, 0]]
    code[rows] = 0
    data[rows] = 0.0
    return Program.from_arrays(code, data, program.bounds)


@given(_cases(), st.booleans())
def test_the_machine_without_matrix_ops_runs_programs_without_them_exactly(case, prune):
    """The interpreter compiled without the matrix ops (`interp_machine.uses_matrix_ops`) gives
    bit-identical losses, trace, counts and memory on programs that have none."""
    memory, program, task, steps, seed = case
    program = _without_matrix_ops(program)
    assert not uses_matrix_ops(program.code[:, 0])
    full = _run_decoded(memory, program, task, steps, seed, prune, 64)
    lean = _run_decoded(memory, program, task, steps, seed, prune, 64, matrix_ops=False)
    assert full[0][9][B_ENTRY] != lean[0][9][B_ENTRY]  # (two machines)
    assert all(_same(a, b) for a, b in zip(full[1:], lean[1:], strict=True))
    assert _same(full[0][7], lean[0][7])


def test_uses_matrix_ops_reads_the_op_table():
    assert not uses_matrix_ops(np.array([Op.SCALAR_SUM_OP, Op.VECTOR_INNER_PRODUCT_OP]))
    assert uses_matrix_ops(np.array([Op.SCALAR_SUM_OP, Op.MATRIX_VECTOR_PRODUCT_OP]))
    assert uses_matrix_ops(np.array([Op.MATRIX_GAUSSIAN_SET_OP]))
    assert uses_matrix_ops(np.array([99]))  # (unknown: the full machine, which checks)
    assert not uses_matrix_ops(np.zeros(0, dtype=np.int32))


@given(_cases())
def test_decoding_without_the_pruning_path_gives_the_unpruned_rows(case):
    """`decode_live_into` (the search's decode, compiled without liveness) writes the same
    rows, data, bounds and count as `decode_into` without pruning."""
    memory, program, _, _, _ = case
    m, F = memory, memory.features
    out = []
    for live in (False, True):
        bufs = machine_buffers(len(program), m.scalars, m.vectors, m.matrices, F, entry=False)
        if live:
            n = decode_live_into(bufs, program.code, program.data, program.bounds, m.scalars,
                                 m.vectors, F)  # fmt: skip
        else:
            n = decode_into(bufs, program.code, program.data, program.bounds, m.scalars,
                            m.vectors, m.matrices, F, False)  # fmt: skip
        out.append((n, bufs[4][:n].copy(), bufs[5][:n].copy(), bufs[6].copy()))
    assert out[0][0] == out[1][0]
    for a, b in zip(out[0][1:], out[1][1:], strict=True):
        assert _same(a, b)


@given(_cases())
def test_buffers_are_reusable(case):
    """A second program decoded into used buffers runs as if the buffers were fresh."""
    memory, program, task, steps, seed = case
    F = memory.features
    bufs = machine_buffers(len(program), memory.scalars, memory.vectors, memory.matrices, F)
    bufs[7][:] = np.nan  # dirty memory and decode rows from an earlier run
    bufs[4][:] = 1
    fresh = _run_decoded(memory, program, task, steps, seed, True, 16)
    out = (np.zeros(task.orders.shape[0]), np.zeros(16), np.zeros(3, dtype=np.int64))
    decode_into(bufs, program.code, program.data, program.bounds, memory.scalars,
                memory.vectors, memory.matrices, F, True)  # fmt: skip
    run_decoded(bufs, memory.scalars, memory.vectors, memory.matrices, F, task.train_x,
                task.train_y, task.orders, steps, task.valid_x, task.valid_y, task.num_valid,
                task.is_accuracy, 100.0, np.uint64(seed), *out)  # fmt: skip
    for a, b in zip(out, fresh[1:], strict=True):
        assert _same(a, b)


@given(_cases(), st.integers(1, 5))
def test_orders_with_a_row_stride(case, extra):
    """Epoch orders given as the first columns of wider rows (as the search passes its packed
    orders) run as the same orders made contiguous."""
    memory, program, task, steps, seed = case
    orders = task.orders
    wide = np.full((orders.shape[0], orders.shape[1] + extra), 10**6, dtype=np.int32)
    wide[:, : orders.shape[1]] = orders
    view = wide[:, : orders.shape[1]]
    assert not view.flags.c_contiguous or orders.shape[0] == 1
    got = []
    for od in (view, np.ascontiguousarray(orders)):
        bufs, epoch_loss, trace, counts = _run_decoded_orders(memory, program, task, od, steps,
                                                              seed)  # fmt: skip
        got.append((epoch_loss, trace[: counts[1]], counts))
    for a, b in zip(*got, strict=True):
        assert _same(a, b)


def _run_decoded_orders(memory, program, task, orders, steps, seed):
    F = memory.features
    bufs = machine_buffers(len(program), memory.scalars, memory.vectors, memory.matrices, F)
    out = (np.zeros(orders.shape[0]), np.zeros(32), np.zeros(3, dtype=np.int64))
    decode_into(bufs, program.code, program.data, program.bounds, memory.scalars,
                memory.vectors, memory.matrices, F, True)  # fmt: skip
    run_decoded(bufs, memory.scalars, memory.vectors, memory.matrices, F, task.train_x,
                task.train_y, orders, steps, task.valid_x, task.valid_y, task.num_valid,
                task.is_accuracy, 100.0, np.uint64(seed), *out)  # fmt: skip
    return (bufs, *out)


def _neural_net_fitness(damaged: bool, seeds) -> list[float]:
    from amlz_compile.bench.nonlinear import nonlinear_workload

    program, tasks_, memory = nonlinear_workload(damaged=damaged)
    seeds = np.array(seeds, dtype=np.uint64).reshape(-1, 1)
    run = InterpBackend().run_batch([program] * len(seeds), tasks_, memory, seeds)
    assert (run.train_steps == 1000).all()
    return run.fitness[:, 0].tolist()


def test_nonlinear_neural_net_fitness_is_pinned():
    """The nonlinear preset's workload (1000 training steps of 4x4 matrix ops): values
    recorded before the interpreter's speed work; any change in evaluation shows here."""
    assert _neural_net_fitness(False, [0, 1, 2]) == [
        0.9584284411929912,
        0.7751421548723036,
        0.921491637493991,
    ]
    assert _neural_net_fitness(True, [0, 5]) == [0.7167526938729201, 0.7167526938729201]


def test_demo_batch_fitness_is_pinned():
    """Random demo programs on the demo's 10 linear tasks, through the batch kernel (pruned):
    the sum of fitnesses recorded before the interpreter's speed work."""
    from amlz_compile.bench import demo_setup

    backend, memory, tasks_, programs_ = demo_setup(300)
    seeds = np.arange(300 * len(tasks_), dtype=np.uint64).reshape(300, len(tasks_))
    run = backend.run_batch(pack_programs(programs_), tasks_, memory, seeds)
    assert float(np.nansum(run.fitness)) == 773.1626026142667
    again = backend.run_batch(programs_[:20], pack_tasks(_demo_tasks()), memory, seeds[:20],
                              prune=False)  # fmt: skip
    assert _same(again.fitness, run.fitness[:20])


def _demo_tasks():
    from amlz_compile.bench import demo_tasks

    return demo_tasks()


def test_buffers_made_without_their_machine_get_it_attached():
    """`machine_buffers(entry=False)` defer the machine (a search attaches it after compiling
    its kernel); `attach_machine` gives them the entry `machine_buffers` would have."""
    lazy = machine_buffers(4, 4, 3, 1, 4, matrix_ops=False, entry=False)
    assert not machine_attached(lazy)
    attach_machine(lazy, 4, matrix_ops=False)
    eager = machine_buffers(4, 4, 3, 1, 4, matrix_ops=False)
    assert machine_attached(lazy) and lazy[9][B_ENTRY] == eager[9][B_ENTRY]
    # a machine this process has loaded is never fetched by a helper
    prefetch_machine(4, matrix_ops=False)
    assert (True, False) not in interp_machine._PREFETCHES
