"""The reference interpreter: numba entry points that run programs under the task-kernel
contract, and the `Backend` face of them.

`run_task` implements the contract of `backends/__init__.py` exactly (same argument order);
`run_batch` evaluates many programs x many tasks in one compiled call; `decode_into` +
`run_decoded` (buffers from `machine_buffers`) run one decoded program on task after task, which
is what the search kernel calls; `execute_instruction` runs one instruction on given memory (for
per-op tests). All decode the program and run the one compiled loop of `interp_machine`. What
the ops compute is in docs/semantics.md#op-table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit, uint64

from ..fitness import task_fitness
from ..ir.liveness import n_locations
from ..ir.ops import ADDRESS_KINDS
from ..ir.program import MemorySpec, Program, ProgramError
from ..rng import MASK64
from .base import RunOptions, TaskRun
from .interp_machine import (
    B_ENTRY,
    call_machine,
    decode,
    decode_buffers,
    decode_unpruned,
    liveness_span,
    machine_address,
    machine_block,
    memory_size,
    uses_matrix_ops,
)
from .packing import PackedPrograms, PackedTasks, pack_programs, pack_tasks

NAME = "interp"

_JIT = {"cache": True, "error_model": "numpy", "nogil": True}
# Numba-IR inlining into the caller: no call boundary (no reference counting of the buffers).
_INLINE = {**_JIT, "inline": "always"}

KINDS = ADDRESS_KINDS


# -- the decoded-program entry (what the search's compiled loop calls) --------------------------
# `run_task` decodes the program and allocates its memory on every call. A caller that runs one
# program on many tasks (the search kernel) decodes it once into preallocated buffers with
# `decode_into`, then calls `run_decoded` per task. Both inline into compiled callers.


def machine_buffers(
    rows: int,
    n_scalars: int,
    n_vectors: int,
    n_matrices: int,
    F: int,
    matrix_ops: bool = True,
    entry: bool = True,
) -> tuple:
    """Buffers for `decode_into` / `run_decoded`: programs of up to `rows` instructions on
    memory n_scalars / n_vectors / n_matrices of feature size F (a tuple of arrays; opaque; they
    hold the address of the machine's entry for F, valid in this process only). Without
    `matrix_ops` they may only run programs that have no op with a matrix operand. With `entry`
    False the machine is not compiled or loaded yet: `attach_machine` before any run."""
    n_loc = n_locations(liveness_span(n_scalars, n_vectors, n_matrices))
    return (
        np.zeros(max(rows, 1), dtype=np.bool_),  # 0 keep
        np.zeros(n_loc, dtype=np.bool_),  # 1 liveness: Predict's live-in
        np.zeros(n_loc, dtype=np.bool_),  # 2 liveness: Learn's live-in
        np.zeros(n_loc, dtype=np.bool_),  # 3 liveness: working set
        np.zeros((max(rows, 1), 4), dtype=np.int64),  # 4 decoded rows
        np.zeros((max(rows, 1), 4)),  # 5 decoded data
        np.zeros(4, dtype=np.int64),  # 6 decoded component bounds
        np.zeros(memory_size(n_scalars, n_vectors, n_matrices, F)),  # 7 flat memory
        np.zeros(1, dtype=np.uint64),  # 8 generator state
        machine_block(F, matrix_ops, entry),  # 9 the machine's argument block, with its entry
    )


def machine_attached(bufs: tuple) -> bool:
    """Whether `machine_buffers` have their machine's entry (see `attach_machine`)."""
    return bool(bufs[9][B_ENTRY] != 0)


def attach_machine(bufs: tuple, F: int, matrix_ops: bool = True) -> None:
    """Give buffers made with `entry=False` their machine's entry (as `machine_buffers` would
    have, with the same F and matrix_ops)."""
    bufs[9][B_ENTRY] = machine_address(F, matrix_ops)


@njit(**_INLINE)
def decode_into(bufs, code, data, bounds, nS, nV, nM, F, prune):
    """Decode a program (code int32[n, 4], data float64[n, 4], bounds int64[4]) into `bufs`
    (from `machine_buffers` with the same memory and at least n rows); returns the number of
    decoded rows. With `prune`, instructions that cannot reach a prediction are dropped."""
    return decode(
        code, data, bounds, nS, nV, nM, F, prune, bufs[0], bufs[1], bufs[2], bufs[3],
        bufs[4], bufs[5], bufs[6],
    )  # fmt: skip


@njit(**_INLINE)
def decode_live_into(bufs, code, data, bounds, nS, nV, F):
    """`decode_into` without pruning, for a program that holds only live rows already."""
    return decode_unpruned(code, data, bounds, nS, nV, F, bufs[0], bufs[4], bufs[5], bufs[6])


@njit(**_INLINE)
def run_decoded(
    bufs, nS, nV, nM, F, train_x, train_y, orders, n_train_steps, valid_x, valid_y, n_valid,
    is_accuracy, max_abs_error, rng_seed, epoch_loss, trace, counts,
):  # fmt: skip
    """Run the program last decoded into `bufs` on one task: the task-kernel contract of
    `backends/__init__.py` from train_x on (zeroed memory, generator seeded with rng_seed), with
    the final memory left in the buffers instead of copied out."""
    rng = bufs[8]
    rng[0] = uint64(rng_seed)
    total = min(np.int64(n_train_steps), np.int64(orders.shape[0] * train_x.shape[0]))
    call_machine(
        bufs[9], bufs[4], bufs[5], bufs[6], bufs[7], nS, F, nS + nV * F + nM * F * F, train_x,
        train_y, orders, total, valid_x, valid_y, n_valid, is_accuracy, max_abs_error, rng,
        epoch_loss, trace, counts, False,
    )  # fmt: skip


@njit(**_INLINE)
def run_setup_decoded(bufs, nS, nV, nM, F, rng_seed, out, train_x, train_y, orders, valid_x,
                      valid_y, epoch_loss, trace, counts):  # fmt: skip
    """Run only the Setup of the program last decoded into `bufs` from zeroed memory and the
    generator seeded with rng_seed, as `run_decoded` starts a task; the memory after Setup goes
    to `out` (flat: scalars, vectors, matrices row-major) and the generator state is returned:
    what a given-memory kernel (`llvm.codegen.kernel_ir`) continues from. The task arrays are
    any task's (Setup reads none of them; they only give the machine its argument types)."""
    rng = bufs[8]
    rng[0] = uint64(rng_seed)
    mem = bufs[7]
    mem[:] = 0.0
    call_machine(
        bufs[9], bufs[4], bufs[5], bufs[6], mem, nS, F, nS + nV * F + nM * F * F, train_x,
        train_y, orders, 0, valid_x, valid_y, 0, False, 100.0, rng, epoch_loss, trace, counts,
        True,
    )  # fmt: skip
    for i in range(out.shape[0]):
        out[i] = mem[i]
    return rng[0]


@njit(**_JIT)
def _copy_in(mem, scalars, vectors, matrices):
    nS = scalars.shape[0]
    nV = vectors.shape[0]
    F = vectors.shape[1]
    for i in range(nS):
        mem[i] = scalars[i]
    for v in range(nV):
        for i in range(F):
            mem[nS + v * F + i] = vectors[v, i]
    base = nS + nV * F
    for m in range(matrices.shape[0]):
        for i in range(F):
            for j in range(F):
                mem[base + (m * F + i) * F + j] = matrices[m, i, j]


@njit(**_JIT)
def _copy_out(mem, scalars, vectors, matrices):
    nS = scalars.shape[0]
    nV = vectors.shape[0]
    F = vectors.shape[1]
    for i in range(nS):
        scalars[i] = mem[i]
    for v in range(nV):
        for i in range(F):
            vectors[v, i] = mem[nS + v * F + i]
    base = nS + nV * F
    for m in range(matrices.shape[0]):
        for i in range(F):
            for j in range(F):
                matrices[m, i, j] = mem[base + (m * F + i) * F + j]


def _program_array(a, dtype) -> np.ndarray:
    """A program array as the decoder is compiled for: C-contiguous and writable (a copy of a
    read-only one, such as a `Program`'s), so every caller shares one compilation."""
    return np.require(a, dtype=dtype, requirements=["C", "W"])


def run_task(
    code,
    data,
    bounds,
    scalars,
    vectors,
    matrices,
    train_x,
    train_y,
    orders,
    n_train_steps,
    valid_x,
    valid_y,
    n_valid,
    is_accuracy,
    max_abs_error,
    rng_seed,
    epoch_loss,
    trace,
    counts,
) -> None:
    """The task kernel of `backends/__init__.py`, argument for argument.

    Every instruction runs (no pruning), so the final memory left in scalars/vectors/matrices
    is the reference's. Inputs are converted to the contract's types (the machine reads them by
    address); the outputs must have them already (ValueError otherwise).
    """
    for name, out, dtype in (("epoch_loss", epoch_loss, np.float64), ("trace", trace, np.float64),
                             ("counts", counts, np.int64)):  # fmt: skip
        if out.dtype != dtype or not out.flags.c_contiguous or not out.flags.writeable:
            raise ValueError(
                f"run_task: {name} must be a writable contiguous {dtype.__name__} array"
            )
    f64 = np.float64
    program = (_program_array(code, np.int32), _program_array(data, f64),
               _program_array(bounds, np.int64))  # fmt: skip
    task = tuple(np.ascontiguousarray(a, f64) for a in (train_x, train_y, valid_x, valid_y))
    steps = (np.ascontiguousarray(orders, np.int32), n_train_steps, n_valid)
    options = (is_accuracy, max_abs_error, rng_seed)
    block = machine_block(vectors.shape[1], uses_matrix_ops(program[0][:, 0]))
    _run_task(block, program, (scalars, vectors, matrices), task, steps, options,
              (epoch_loss, trace, counts))  # fmt: skip


@njit(**_JIT)
def _run_task(block, program, memory, task, steps, options, outputs):
    """`run_task` with the machine's argument block, its arguments grouped: the program (code,
    data, bounds), the memory (scalars, vectors, matrices), the task's examples (train_x,
    train_y, valid_x, valid_y), the steps (orders, n_train_steps, n_valid), the options
    (is_accuracy, max_abs_error, rng_seed) and the outputs (epoch_loss, trace, counts)."""
    code, data, bounds = program
    scalars, vectors, matrices = memory
    train_x, train_y, valid_x, valid_y = task
    orders, n_train_steps, n_valid = steps
    is_accuracy, max_abs_error, rng_seed = options
    epoch_loss, trace, counts = outputs
    nS = scalars.shape[0]
    nV = vectors.shape[0]
    nM = matrices.shape[0]
    F = vectors.shape[1]
    rng = np.empty(1, dtype=np.uint64)
    rng[0] = uint64(rng_seed)
    keep, in_p, in_l, cur, dc, dd, nb = decode_buffers(code.shape[0], nS, nV, nM)
    decode(code, data, bounds, nS, nV, nM, F, False, keep, in_p, in_l, cur, dc, dd, nb)
    mem = np.zeros(memory_size(nS, nV, nM, F))
    total = min(np.int64(n_train_steps), np.int64(orders.shape[0] * train_x.shape[0]))
    call_machine(
        block, dc, dd, nb, mem, nS, F, nS + nV * F + nM * F * F, train_x, train_y, orders, total,
        valid_x, valid_y, n_valid, is_accuracy, max_abs_error, rng, epoch_loss, trace, counts,
        False,
    )  # fmt: skip
    _copy_out(mem, scalars, vectors, matrices)


def execute_instruction(code_row, data_row, scalars, vectors, matrices, F, rng_state) -> None:
    """Run one instruction (code_row int32[4], data_row float64[4]) on the given memory.

    The memory is used as given (not wiped) and updated in place; random ops advance
    `rng_state` (uint64[1]). `F` must equal vectors.shape[1].
    """
    if rng_state.dtype != np.uint64 or not rng_state.flags.writeable:
        raise ValueError("execute_instruction: rng_state must be a writable uint64 array")
    block = machine_block(F, uses_matrix_ops(np.asarray(code_row)[:1]))
    _execute_instruction(block, code_row, data_row, scalars, vectors, matrices, F, rng_state)


@njit(**_JIT)
def _execute_instruction(block, code_row, data_row, scalars, vectors, matrices, F, rng_state):
    """`execute_instruction` with the machine's argument block."""
    nS = scalars.shape[0]
    nV = vectors.shape[0]
    nM = matrices.shape[0]
    code = np.empty((1, 4), dtype=np.int32)
    data = np.empty((1, 4))
    for q in range(4):
        code[0, q] = code_row[q]
        data[0, q] = data_row[q]
    bounds = np.array([0, 1, 1, 1], dtype=np.int64)
    keep, in_p, in_l, cur, dc, dd, nb = decode_buffers(1, nS, nV, nM)
    decode(code, data, bounds, nS, nV, nM, F, False, keep, in_p, in_l, cur, dc, dd, nb)
    mem = np.zeros(memory_size(nS, nV, nM, F))
    _copy_in(mem, scalars, vectors, matrices)
    x = np.zeros((1, F))
    y = np.zeros(1)
    orders = np.zeros((1, 1), dtype=np.int32)
    counts = np.zeros(3, dtype=np.int64)
    call_machine(
        block, dc, dd, nb, mem, nS, F, nS + nV * F + nM * F * F, x, y, orders, 0, x, y, 0, False,
        100.0, rng_state, np.zeros(1), np.zeros(0), counts, True,
    )  # fmt: skip
    _copy_out(mem, scalars, vectors, matrices)


@njit(**_JIT)
def run_batch(
    block,
    codes,
    datas,
    prog_bounds,
    n_scalars,
    n_vectors,
    n_matrices,
    features,
    train_x,
    train_y,
    train_off,
    valid_x,
    valid_y,
    valid_off,
    orders,
    order_off,
    n_train_steps,
    n_valid,
    valid_divisor,
    is_accuracy,
    max_abs_error,
    seeds,
    prune,
    fitness,
    train_steps,
    traces,
    trace_counts,
):
    """Evaluate P programs on T tasks in one call (see `packing` for the packed layouts), the
    machine through the argument block `block` (`interp_machine.machine_block` of this F).

    Program p is rows prog_bounds[p, 0]..prog_bounds[p, 3] of (codes, datas), its components
    split at prog_bounds[p, 1:3]. Task t is rows train_off[t]..train_off[t+1] of train_x/train_y
    (its epochs' orders are rows order_off[t]..order_off[t+1] of orders, first N_t columns),
    rows valid_off[t]..valid_off[t+1] of valid_x/valid_y. Per (p, t): the generator starts at
    seeds[p, t], training runs n_train_steps[p, t] steps, validation n_valid[t] examples, and
    the task fitness (fitness.task_fitness with valid_divisor[t]) goes to fitness[p, t], the
    training steps run to train_steps[p, t], the first traces.shape[2] predictions to
    traces[p, t] and their number to trace_counts[p, t]. With `prune`, instructions that cannot
    reach a prediction are skipped (results are identical; see `decode`).
    """
    P = prog_bounds.shape[0]
    T = train_off.shape[0] - 1
    F = features
    nS = n_scalars
    nV = n_vectors
    nM = n_matrices
    max_rows = 1
    for p in range(P):
        max_rows = max(max_rows, prog_bounds[p, 3] - prog_bounds[p, 0])
    keep, in_p, in_l, cur, dc, dd, nb = decode_buffers(max_rows, nS, nV, nM)
    mem = np.zeros(memory_size(nS, nV, nM, F))
    scratch = nS + nV * F + nM * F * F
    rng = np.zeros(1, dtype=np.uint64)
    counts = np.zeros(3, dtype=np.int64)
    max_epochs = 1
    for t in range(T):
        max_epochs = max(max_epochs, order_off[t + 1] - order_off[t])
    epoch_loss = np.zeros(max_epochs)
    bounds = np.zeros(4, dtype=np.int64)
    for p in range(P):
        base = prog_bounds[p, 0]
        for q in range(4):
            bounds[q] = prog_bounds[p, q] - base
        decode(
            codes[base : prog_bounds[p, 3]], datas[base : prog_bounds[p, 3]], bounds, nS, nV, nM,
            F, prune, keep, in_p, in_l, cur, dc, dd, nb,
        )  # fmt: skip
        for t in range(T):
            N = train_off[t + 1] - train_off[t]
            rng[0] = seeds[p, t]
            total = min(n_train_steps[p, t], (order_off[t + 1] - order_off[t]) * N)
            v0, v1 = valid_off[t], valid_off[t + 1]
            call_machine(
                block, dc, dd, nb, mem, nS, F, scratch, train_x[train_off[t] : train_off[t + 1]],
                train_y[train_off[t] : train_off[t + 1]], orders[order_off[t] : order_off[t + 1]],
                total, valid_x[v0:v1], valid_y[v0:v1], n_valid[t], is_accuracy[t], max_abs_error,
                rng, epoch_loss, traces[p, t], counts, False,
            )  # fmt: skip
            fitness[p, t] = task_fitness(epoch_loss, counts[0], valid_divisor[t], is_accuracy[t])
            train_steps[p, t] = counts[2]
            trace_counts[p, t] = counts[1]


# -- Python side ------------------------------------------------------------------------------


def check_packed_fits(programs: PackedPrograms, memory: MemorySpec, source=None) -> None:
    """Raise ProgramError if any packed program addresses memory outside `memory`.

    Vectorised over all rows; on a violation the offending program (from `source`, if given) is
    re-checked with `Program.check_fits` for a message naming the instruction.
    """
    codes = programs.codes
    if codes.shape[0] == 0:
        return
    ops = codes[:, 0].astype(np.int64)
    if ops.min() < 0 or ops.max() >= len(KINDS):
        raise ProgramError(f"op number outside 0-{len(KINDS) - 1}")
    limits = np.array([1 << 62, memory.scalars, memory.vectors, memory.matrices], dtype=np.int64)
    kinds = KINDS[ops]  # [R, 3]
    addrs = codes[:, 1:4].astype(np.int64)
    bad = np.any((addrs >= limits[kinds]) | (addrs < 0), axis=1)
    if not bad.any():
        return
    row = int(np.argmax(bad))
    p = int(np.searchsorted(programs.bounds[:, 3], row, side="right"))
    if source is not None:
        source[p].check_fits(memory)
    op = int(ops[row])
    raise ProgramError(
        f"program {p}: instruction row {row - int(programs.bounds[p, 0])} (op {op}) addresses "
        f"memory outside {memory}"
    )


@dataclass
class BatchRun:
    """Per (program, task) outcomes of one `run_batch` call."""

    fitness: np.ndarray  # float64[P, T]
    train_steps: np.ndarray  # int64[P, T]
    traces: np.ndarray  # float64[P, T, L]
    trace_counts: np.ndarray  # int64[P, T]


def _as_u64(values) -> np.ndarray:
    """Seeds (ints of any size, numpy integers) as uint64, taken modulo 2**64."""
    arr = np.asarray(values)
    if arr.dtype == np.uint64:
        return arr
    if arr.dtype.kind in "iu":
        return arr.astype(np.uint64)
    return np.vectorize(lambda s: int(s) & MASK64, otypes=[np.uint64])(arr)


def _as_pt(values, P: int, T: int, dtype, default) -> np.ndarray:
    """Broadcast None / scalar / [T] / [P, T] values to a C-contiguous [P, T] array."""
    if values is None:
        values = default
    arr = np.asarray(values)
    if arr.shape == (P, T) and arr.dtype == dtype and arr.flags.c_contiguous:
        return arr  # the common case, without broadcast_to's cost (read only by the kernel)
    if arr.ndim == 0:
        return np.full((P, T), arr, dtype=dtype)
    return np.ascontiguousarray(np.broadcast_to(arr, (P, T)), dtype=dtype)


class InterpBackend:
    """The numba interpreter behind the `Backend` protocol, plus a batch entry point."""

    name = NAME

    def run_task(self, program: Program, task, memory: MemorySpec, **options) -> TaskRun:
        """Run `program` on `task` once (Setup, training epochs, validations); `options` are
        the fields of `RunOptions`."""
        o = RunOptions(**options)
        n_train, n_valid, trace_len, keep_memory = o.n_train, o.n_valid, o.trace_len, o.keep_memory
        rng_seed, max_abs_error = o.rng_seed, o.max_abs_error
        F = int(task.train_x.shape[1])
        if memory.features != F:
            raise ValueError(f"memory has F={memory.features} but task {task.name!r} has F={F}")
        program.check_fits(memory)
        n_train = task.max_train_examples if n_train is None else int(n_train)
        n_valid = task.num_valid if n_valid is None else int(n_valid)
        scalars = np.zeros(memory.scalars)
        vectors = np.zeros((memory.vectors, F))
        matrices = np.zeros((memory.matrices, F, F))
        epoch_loss = np.zeros(task.orders.shape[0])
        trace = np.zeros(max(int(trace_len), 0))
        counts = np.zeros(3, dtype=np.int64)
        run_task(
            np.ascontiguousarray(program.code, dtype=np.int32),
            np.ascontiguousarray(program.data, dtype=np.float64),
            np.ascontiguousarray(program.bounds, dtype=np.int64),
            scalars, vectors, matrices,
            task.train_x, task.train_y, task.orders, np.int64(max(n_train, 0)),
            task.valid_x, task.valid_y, np.int64(max(n_valid, 0)),
            bool(task.is_accuracy), float(max_abs_error), np.uint64(int(rng_seed) & MASK64),
            epoch_loss, trace, counts,
        )  # fmt: skip
        return TaskRun(
            epoch_loss=epoch_loss,
            epochs_validated=int(counts[0]),
            trace=trace[: counts[1]].copy(),
            train_steps=int(counts[2]),
            scalars=scalars if keep_memory else None,
            vectors=vectors if keep_memory else None,
            matrices=matrices if keep_memory else None,
        )

    def run_batch(
        self,
        programs: PackedPrograms | Sequence[Program],
        tasks: PackedTasks | Sequence,
        memory: MemorySpec,
        seeds,
        *,
        n_train=None,
        max_abs_error: float = 100.0,
        trace_len: int = 0,
        check: bool = True,
        prune: bool = True,
    ) -> BatchRun:
        """Evaluate every program on every task in one compiled call.

        `seeds` and `n_train` broadcast to [P, T] (n_train defaults to each task's full
        N * E; 0 means the task is not run, fitness 0). With `check`, programs are verified to
        fit `memory` first (ProgramError otherwise). With `prune` (default), instructions that
        cannot reach a prediction are skipped; fitness, steps and traces are unchanged.
        """
        source = None
        if not isinstance(programs, PackedPrograms):
            source = list(programs)
            programs = pack_programs(source)
        if not isinstance(tasks, PackedTasks):
            tasks = pack_tasks(tasks)
        if memory.features != tasks.features:
            raise ValueError(
                f"memory has F={memory.features} but the tasks have F={tasks.features}"
            )
        if check:
            check_packed_fits(programs, memory, source)
        P, T = len(programs), len(tasks)
        seeds = _as_pt(_as_u64(seeds), P, T, np.uint64, 0)
        steps_budget = _as_pt(n_train, P, T, np.int64, tasks.max_train)
        L = max(int(trace_len), 0)
        fitness = np.zeros((P, T))
        train_steps = np.zeros((P, T), dtype=np.int64)
        traces = np.zeros((P, T, L))
        trace_counts = np.zeros((P, T), dtype=np.int64)
        if P:
            run_batch(
                machine_block(tasks.features, uses_matrix_ops(programs.codes[:, 0])),
                programs.codes, programs.datas, programs.bounds,
                np.int64(memory.scalars), np.int64(memory.vectors), np.int64(memory.matrices),
                np.int64(tasks.features),
                tasks.train_x, tasks.train_y, tasks.train_off,
                tasks.valid_x, tasks.valid_y, tasks.valid_off,
                tasks.orders, tasks.order_off,
                steps_budget, tasks.num_valid, tasks.valid_divisor, tasks.is_accuracy,
                float(max_abs_error), seeds, bool(prune),
                fitness, train_steps, traces, trace_counts,
            )  # fmt: skip
        return BatchRun(fitness, train_steps, traces, trace_counts)
