"""The interpreter's compiled core: decoding a program into rows of flat-memory offsets, and
`_machine`, the whole evaluation as one loop.

`decode` turns a program into rows [op, off_in1, off_in2, off_out] of offsets into one flat
memory [scalars | vectors | matrices | scratch] (dropping dead rows with `prune`, by
`ir.liveness`). `_machine` runs them: one dispatch site (`ir.op_dispatch.run_op`, generated from
the op table, calling each op's function in `ir.op_kernels`; LLVM turns it into one jump table)
plus a small scheduler for Setup / training / validation. Nothing is allocated per instruction
(products that may alias their inputs go through the scratch area at the end of the memory).
Offsets are unsigned inside the loop so that numba emits no negative-index wraparound per memory
access. The entry points that call it are in `backends.interp`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import literally, njit, uint64

from ..ir.liveness import live_rows, liveness_buffers
from ..ir.numeric import nb_float_to_index
from ..ir.op_dispatch import run_op
from ..ir.ops import ADDRESS_KINDS, KIND_CODES, SCALAR, VECTOR, Op

_JIT = {"cache": True, "error_model": "numpy", "nogil": True}
# The evaluation loop allocates nothing, so it runs without reference counting: no atomic
# increments per call for every array argument.
_JIT_NO_NRT = {**_JIT, "_nrt": False}
# Numba-IR inlining into the caller: no call boundary (no reference counting of the buffers).
_INLINE = {**_JIT, "inline": "always"}

_SCALAR = KIND_CODES[SCALAR]
_VECTOR = KIND_CODES[VECTOR]


@njit(**_JIT)
def _sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


@njit(**_JIT)
def _offset(kind, addr, nS, nV, F):
    """Offset of an address in the flat memory [scalars | vectors | matrices | scratch]."""
    if kind == _SCALAR:
        return addr
    if kind == _VECTOR:
        return nS + addr * F
    return nS + nV * F + addr * F * F


@njit(**_JIT)
def decode(code, data, bounds, nS, nV, nM, F, prune, keep, in_p, in_l, cur, dc, dd, nb):
    """Translate a program into rows [op, off_in1, off_in2, off_out] of flat-memory offsets.

    Const-set offsets include the element index. NO_OPs are always dropped; with `prune`, so is
    every instruction that can never reach a prediction (`ir.liveness`), which changes no
    prediction, fitness or random draw, only the final memory. Fills dc, dd and the new
    component bounds nb; returns the number of rows.
    """
    n = bounds[3]
    if prune:
        live_rows(code, data, bounds, liveness_span(nS, nV, nM), keep, in_p, in_l, cur)
    else:
        for i in range(n):
            keep[i] = code[i, 0] != Op.NO_OP
    m = 0
    for part in range(3):
        nb[part] = m
        for i in range(bounds[part], bounds[part + 1]):
            if not keep[i]:
                continue
            op = code[i, 0]
            dc[m, 0] = op
            dc[m, 1] = _offset(ADDRESS_KINDS[op, 0], code[i, 1], nS, nV, F)
            dc[m, 2] = _offset(ADDRESS_KINDS[op, 1], code[i, 2], nS, nV, F)
            dc[m, 3] = _offset(ADDRESS_KINDS[op, 2], code[i, 3], nS, nV, F)
            if op == Op.VECTOR_CONST_SET_OP:
                dc[m, 3] += nb_float_to_index(data[i, 1], F)
            elif op == Op.MATRIX_CONST_SET_OP:
                dc[m, 3] += nb_float_to_index(data[i, 1], F) * F + nb_float_to_index(data[i, 2], F)
            for q in range(4):
                dd[m, q] = data[i, q]
            m += 1
    nb[3] = m
    return m


@njit(**_JIT_NO_NRT)
def _machine(
    dc,
    dd,
    nb,
    mem,
    nS,
    F,
    scratch,
    train_x,
    train_y,
    orders,
    total,
    valid_x,
    valid_y,
    n_valid,
    is_accuracy,
    max_abs_error,
    rng,
    epoch_loss,
    trace,
    counts,
    setup_only,
):
    """The whole evaluation as one loop: an instruction dispatch plus a small scheduler.

    Runs decoded rows (dc, dd, component bounds nb) on the flat memory `mem` (scalars at 0,
    v0 at nS, scratch for aliasing products at `scratch`: F then F*F entries) for `total`
    training steps (already clipped to E * N); the generator state is `rng`. With `setup_only`
    it runs Setup on the memory as given (no wipe) and stops: the per-op test hook. One dispatch
    site and no calls per component keep it fast.
    """
    # Memory offsets are unsigned: indexing then needs no negative-index wraparound.
    UF = uint64(F)
    uS = uint64(nS)
    N = train_x.shape[0]
    T = trace.shape[0]
    tv = uint64(scratch)
    tm = uint64(scratch + F)
    counts[0] = 0
    counts[1] = 0
    counts[2] = 0
    if not setup_only:
        mem[:] = 0.0
        if total <= 0:
            return
    n_valid = min(n_valid, valid_x.shape[0])
    # Scheduler state. phase: 0 Setup, 1 training Predict, 2 Learn, 3 validation Predict.
    phase = 0
    pc = uint64(nb[0])
    end = uint64(nb[1])
    remaining = total
    n = min(N, remaining)  # training steps in this epoch
    epoch = 0
    k = 0  # training step within the epoch
    vk = 0  # validation example
    training = True
    idx = uint64(0)
    loss = 0.0
    written = 0
    steps = 0
    while True:
        if pc < end:
            row = pc
            op = dc[row, 0]
            a = uint64(dc[row, 1])
            b = uint64(dc[row, 2])
            c = uint64(dc[row, 3])
            pc += uint64(1)
            run_op(op, mem, a, b, c, F, dd, row, rng, tv, tm)
            continue
        # A component finished: bookkeeping for it, then schedule the next one.
        if phase == 1:
            if is_accuracy:
                mem[1] = _sigmoid(mem[1])
            s1 = mem[1]
            if written < T:
                trace[written] = s1
                written += 1
            y = train_y[idx]
            if not abs(y - s1) <= max_abs_error:
                break  # early stop: the epochs validated so far are kept
            for i in range(UF):
                mem[uS + i] = train_x[idx, i]
            mem[0] = y
            phase = 2
            pc = uint64(nb[2])
            end = uint64(nb[3])
            continue
        if phase == 0:
            if setup_only:
                break
        elif phase == 2:
            k += 1
        else:
            s1 = mem[1]
            if written < T:
                trace[written] = s1
                written += 1
            y = valid_y[vk]
            if is_accuracy:
                err = 0.0 if (y > 0.5) == (_sigmoid(s1) > 0.5) else 1.0
                sq = err
            else:
                err = y - s1
                sq = err * err
            if abs(err) <= max_abs_error:
                loss += sq
                vk += 1
            else:
                loss = np.nan
                vk = n_valid
        done = False
        while True:
            if training:
                if k < n:
                    idx = uint64(orders[epoch, k])
                    steps += 1
                    for i in range(UF):
                        mem[uS + i] = train_x[idx, i]
                    mem[0] = 0.0
                    phase = 1
                    break
                training = False
                remaining -= N
                loss = 0.0
                vk = 0
            if vk < n_valid:
                for i in range(UF):
                    mem[uS + i] = valid_x[vk, i]
                mem[0] = 0.0
                phase = 3
                break
            epoch_loss[epoch] = loss
            epoch += 1
            if remaining <= 0:
                done = True
                break
            n = min(N, remaining)
            k = 0
            training = True
        if done:
            break
        pc = uint64(nb[1])
        end = uint64(nb[2])
    counts[0] = epoch
    counts[1] = written
    counts[2] = steps


# F = 4 (the paper's small tasks) has a dedicated compilation of `_machine` in which F is a
# compile-time constant: loops over F unroll and the ops' F = 4 paths (`ir.op_kernels`) apply.


@njit(**_JIT_NO_NRT)
def _machine_const_f(
    dc, dd, nb, mem, nS, F, scratch, train_x, train_y, orders, total, valid_x, valid_y, n_valid,
    is_accuracy, max_abs_error, rng, epoch_loss, trace, counts, setup_only,
):  # fmt: skip
    """`_machine` compiled for the literal value of F."""
    _machine(
        dc, dd, nb, mem, nS, literally(F), scratch, train_x, train_y, orders, total, valid_x,
        valid_y, n_valid, is_accuracy, max_abs_error, rng, epoch_loss, trace, counts, setup_only,
    )  # fmt: skip


@njit(**_JIT_NO_NRT)
def run_machine(
    dc, dd, nb, mem, nS, F, scratch, train_x, train_y, orders, total, valid_x, valid_y, n_valid,
    is_accuracy, max_abs_error, rng, epoch_loss, trace, counts, setup_only,
):  # fmt: skip
    """`_machine`, through its constant-F compilation when F is 4."""
    if F == 4:
        _machine_const_f(
            dc, dd, nb, mem, nS, 4, scratch, train_x, train_y, orders, total, valid_x, valid_y,
            n_valid, is_accuracy, max_abs_error, rng, epoch_loss, trace, counts, setup_only,
        )  # fmt: skip
    else:
        _machine(
            dc, dd, nb, mem, nS, F, scratch, train_x, train_y, orders, total, valid_x, valid_y,
            n_valid, is_accuracy, max_abs_error, rng, epoch_loss, trace, counts, setup_only,
        )  # fmt: skip


@njit(**_INLINE)
def any_layout(orders):
    """The epoch orders as a view numba types as any-layout ('A'), as the search's per-task
    slices are: every caller then shares one compilation of `_machine` instead of one per
    layout (each costs seconds on a cold start)."""
    return orders[:, : orders.shape[1]]


@njit(**_JIT)
def memory_size(nS, nV, nM, F):
    """Flat memory length: scalars, vectors, matrices, then F + F*F scratch."""
    return nS + nV * F + nM * F * F + F + F * F


@njit(**_JIT)
def liveness_span(nS, nV, nM):
    """The liveness span of a memory of nS scalars, nV vectors, nM matrices."""
    return max(nS, nV, nM, 2)


@njit(**_JIT)
def decode_buffers(n_rows, nS, nV, nM):
    keep, in_p, in_l, cur = liveness_buffers(n_rows, liveness_span(nS, nV, nM))
    dc = np.zeros((max(n_rows, 1), 4), dtype=np.int64)
    dd = np.zeros((max(n_rows, 1), 4))
    nb = np.zeros(4, dtype=np.int64)
    return keep, in_p, in_l, cur, dc, dd, nb
