"""The interpreter's compiled core: decoding a program into rows of flat-memory offsets, and
`_machine`, the whole evaluation as one loop.

`decode` turns a program into rows [op, off_in1, off_in2, off_out] of offsets into one flat
memory [scalars | vectors | matrices | scratch] (dropping dead rows with `prune`, by
`ir.liveness`). `_machine` runs them: one dispatch site (`ir.op_dispatch.run_op`, generated from
the op table, calling each op's function in `ir.op_kernels`; LLVM turns it into one jump table)
plus a small scheduler for Setup / training / validation. Nothing is allocated per instruction
(products that may alias their inputs go through the scratch area at the end of the memory).
Offsets are unsigned inside the loop so that numba emits no negative-index wraparound per memory
access. It runs behind a C entry per specialisation (F = 4 or any F; with every op, or without
the ops that have a matrix operand, for programs that have none), made on first use and called
by address through `call_machine`, so that its code is compiled once per install and never
linked into its callers (see below). The entry points that call it are in `backends.interp`.
"""

from __future__ import annotations

import contextlib
import math
import os
import subprocess
import sys
import threading

import numpy as np
from llvmlite import ir as llvm_ir
from numba import carray, cfunc, literally, njit, types, uint64
from numba.extending import intrinsic, overload

from ..ir.liveness import live_rows, liveness_buffers
from ..ir.numeric import float_bits, nb_float_to_index
from ..ir.op_dispatch import run_op, run_op_without_matrices
from ..ir.ops import ADDRESS_KINDS, KIND_CODES, MATRIX_OPERAND, SCALAR, VECTOR, Op

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
    if prune:
        live_rows(code, data, bounds, liveness_span(nS, nV, nM), keep, in_p, in_l, cur)
    else:
        _keep_all(code, bounds[3], keep)
    return _decode_kept(code, data, bounds, nS, nV, F, keep, dc, dd, nb)


@njit(**_JIT)
def decode_unpruned(code, data, bounds, nS, nV, F, keep, dc, dd, nb):
    """`decode` without `prune`, for a program already cut to its live rows (the search's):
    its compiled code holds no second copy of the liveness analysis, which the search's
    dead-code removal compiles already (docs/benchmarks.md, "Cold start")."""
    _keep_all(code, bounds[3], keep)
    return _decode_kept(code, data, bounds, nS, nV, F, keep, dc, dd, nb)


@njit(**_INLINE)
def _keep_all(code, n, keep):
    for i in range(n):
        keep[i] = code[i, 0] != Op.NO_OP


@njit(**_INLINE)
def _decode_kept(code, data, bounds, nS, nV, F, keep, dc, dd, nb):
    """`decode`'s translation of the rows `keep` marks."""
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
    matrices,
):
    """The whole evaluation as one loop: an instruction dispatch plus a small scheduler.

    Runs decoded rows (dc, dd, component bounds nb) on the flat memory `mem` (scalars at 0,
    v0 at nS, scratch for aliasing products at `scratch`: F then F*F entries) for `total`
    training steps (already clipped to E * N); the generator state is `rng`. With `setup_only`
    it runs Setup on the memory as given (no wipe) and stops: the per-op test hook. One dispatch
    site and no calls per component keep it fast. `matrices` (a compile-time constant) False
    compiles it without the ops that have a matrix operand, for programs that have none.
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
            run_op_for(matrices, op, mem, a, b, c, F, dd, row, rng, tv, tm)
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
    is_accuracy, max_abs_error, rng, epoch_loss, trace, counts, setup_only, matrices,
):  # fmt: skip
    """`_machine` compiled for the literal values of F and `matrices`."""
    _machine(
        dc, dd, nb, mem, nS, literally(F), scratch, train_x, train_y, orders, total, valid_x,
        valid_y, n_valid, is_accuracy, max_abs_error, rng, epoch_loss, trace, counts, setup_only,
        literally(matrices),
    )  # fmt: skip


@njit(**_JIT_NO_NRT)
def _machine_any_f(
    dc, dd, nb, mem, nS, F, scratch, train_x, train_y, orders, total, valid_x, valid_y, n_valid,
    is_accuracy, max_abs_error, rng, epoch_loss, trace, counts, setup_only, matrices,
):  # fmt: skip
    """`_machine` compiled for the literal value of `matrices`."""
    _machine(
        dc, dd, nb, mem, nS, F, scratch, train_x, train_y, orders, total, valid_x, valid_y,
        n_valid, is_accuracy, max_abs_error, rng, epoch_loss, trace, counts, setup_only,
        literally(matrices),
    )  # fmt: skip


def run_op_for(matrices, op, mem, a, b, c, F, dd, row, rng, tv, tm):
    """`run_op`, or `run_op_without_matrices` when `matrices` is False; in compiled code the
    choice is made at compile time (`matrices` a literal), so the other is not compiled."""
    run = run_op if matrices else run_op_without_matrices
    run(op, mem, a, b, c, F, dd, row, rng, tv, tm)


@overload(run_op_for, inline="always", prefer_literal=True)
def _run_op_for_typed(matrices, op, mem, a, b, c, F, dd, row, rng, tv, tm):
    if getattr(matrices, "literal_value", True):  # (not a literal: every op)
        return lambda matrices, op, mem, a, b, c, F, dd, row, rng, tv, tm: run_op(
            op, mem, a, b, c, F, dd, row, rng, tv, tm
        )
    return lambda matrices, op, mem, a, b, c, F, dd, row, rng, tv, tm: run_op_without_matrices(
        op, mem, a, b, c, F, dd, row, rng, tv, tm
    )


# -- the machine's entry: one C function per specialisation, called by address -----------------
# Every caller runs the machine through a C function (`numba.cfunc`) that takes one argument,
# the address of an argument block (int64 slots below: array addresses, sizes, scalars). Its
# callers then link none of its code: numba would otherwise link the machine into every
# compiled function that calls it, directly or not, and optimise it again in each (the search
# kernel's call tree held it six times: minutes of a cold start), and compile it again for every
# layout of arguments (read-only task arrays, literal flags). The C functions are made when first
# needed (`machine_address`), so a run compiles only the specialisation its F and ops use.

(
    B_DC, B_ROWS, B_DD, B_NB, B_MEM, B_MEM_LEN, B_NS, B_F, B_SCRATCH, B_TRAIN_X, B_N_TRAIN,
    B_TRAIN_Y, B_ORDERS, B_EPOCHS, B_ORDER_STRIDE, B_TOTAL, B_VALID_X, B_N_VALID_ROWS, B_VALID_Y,
    B_N_VALID, B_IS_ACCURACY, B_MAX_ABS_ERROR, B_RNG, B_EPOCH_LOSS, B_N_EPOCH_LOSS, B_TRACE,
    B_TRACE_LEN, B_COUNTS, B_SETUP_ONLY, B_ENTRY,
) = range(30)  # fmt: skip
BLOCK_SLOTS = 30


@intrinsic
def _pointer(typingctx, address, dtype):
    """The int64 `address` as a pointer to `dtype` (a numpy scalar type)."""
    ty = dtype.instance_type
    sig = types.CPointer(ty)(types.int64, dtype)

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], context.get_value_type(types.CPointer(ty)))

    return sig, codegen


@intrinsic
def _call_entry(typingctx, address, block):
    """Call the machine entry at `address` (int64) on the argument block at `block` (int64)."""
    sig = types.void(types.int64, types.int64)

    def codegen(context, builder, signature, args):
        i64 = llvm_ir.IntType(64)
        fn = builder.inttoptr(args[0], llvm_ir.FunctionType(llvm_ir.VoidType(), [i64]).as_pointer())
        builder.call(fn, [args[1]])
        return context.get_dummy_value()

    return sig, codegen


@njit(**_INLINE)
def call_machine(
    block, dc, dd, nb, mem, nS, F, scratch, train_x, train_y, orders, total, valid_x, valid_y,
    n_valid, is_accuracy, max_abs_error, rng, epoch_loss, trace, counts, setup_only,
):  # fmt: skip
    """Run `_machine` (arguments as `_machine`'s) through the entry whose address is in
    block[B_ENTRY] (`machine_address` of this F), with `block` (int64[BLOCK_SLOTS]) as its
    argument block. The arrays must be C-contiguous, except `orders`, whose rows only need be
    (any row stride: the search passes a slice of its packed orders)."""
    block[B_DC] = dc.ctypes.data
    block[B_ROWS] = dc.shape[0]
    block[B_DD] = dd.ctypes.data
    block[B_NB] = nb.ctypes.data
    block[B_MEM] = mem.ctypes.data
    block[B_MEM_LEN] = mem.shape[0]
    block[B_NS] = nS
    block[B_F] = F
    block[B_SCRATCH] = scratch
    block[B_TRAIN_X] = train_x.ctypes.data
    block[B_N_TRAIN] = train_x.shape[0]
    block[B_TRAIN_Y] = train_y.ctypes.data
    block[B_ORDERS] = orders.ctypes.data
    block[B_EPOCHS] = orders.shape[0]
    block[B_ORDER_STRIDE] = orders.strides[0] // 4 if orders.shape[0] > 1 else orders.shape[1]
    block[B_TOTAL] = total
    block[B_VALID_X] = valid_x.ctypes.data
    block[B_N_VALID_ROWS] = valid_x.shape[0]
    block[B_VALID_Y] = valid_y.ctypes.data
    block[B_N_VALID] = n_valid
    block[B_IS_ACCURACY] = 1 if is_accuracy else 0
    block[B_MAX_ABS_ERROR] = float_bits(max_abs_error)
    block[B_RNG] = rng.ctypes.data
    block[B_EPOCH_LOSS] = epoch_loss.ctypes.data
    block[B_N_EPOCH_LOSS] = epoch_loss.shape[0]
    block[B_TRACE] = trace.ctypes.data
    block[B_TRACE_LEN] = trace.shape[0]
    block[B_COUNTS] = counts.ctypes.data
    block[B_SETUP_ONLY] = 1 if setup_only else 0
    _call_entry(block[B_ENTRY], block.ctypes.data)


@njit(**_INLINE)
def _arguments(address):
    """The arguments of `_machine` from the argument block at `address`."""
    b = carray(_pointer(address, np.int64), (BLOCK_SLOTS,))
    bf = carray(_pointer(address, np.float64), (BLOCK_SLOTS,))
    rows = b[B_ROWS]
    F = b[B_F]
    return (
        carray(_pointer(b[B_DC], np.int64), (rows, 4)),
        carray(_pointer(b[B_DD], np.float64), (rows, 4)),
        carray(_pointer(b[B_NB], np.int64), (4,)),
        carray(_pointer(b[B_MEM], np.float64), (b[B_MEM_LEN],)),
        b[B_NS],
        F,
        b[B_SCRATCH],
        carray(_pointer(b[B_TRAIN_X], np.float64), (b[B_N_TRAIN], F)),
        carray(_pointer(b[B_TRAIN_Y], np.float64), (b[B_N_TRAIN],)),
        carray(_pointer(b[B_ORDERS], np.int32), (b[B_EPOCHS], b[B_ORDER_STRIDE])),
        b[B_TOTAL],
        carray(_pointer(b[B_VALID_X], np.float64), (b[B_N_VALID_ROWS], F)),
        carray(_pointer(b[B_VALID_Y], np.float64), (b[B_N_VALID_ROWS],)),
        b[B_N_VALID],
        b[B_IS_ACCURACY] != 0,
        bf[B_MAX_ABS_ERROR],
        carray(_pointer(b[B_RNG], np.uint64), (1,)),
        carray(_pointer(b[B_EPOCH_LOSS], np.float64), (b[B_N_EPOCH_LOSS],)),
        carray(_pointer(b[B_TRACE], np.float64), (b[B_TRACE_LEN],)),
        carray(_pointer(b[B_COUNTS], np.int64), (3,)),
        b[B_SETUP_ONLY] != 0,
    )


def _entry_any(address):
    """The machine for any F, on the argument block at `address`."""
    a = _arguments(address)
    _machine_any_f(
        a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13],
        a[14], a[15], a[16], a[17], a[18], a[19], a[20], True,
    )  # fmt: skip


def _entry_f4(address):
    """The machine for F = 4 (F a compile-time constant), on the argument block at `address`."""
    a = _arguments(address)
    _machine_const_f(
        a[0], a[1], a[2], a[3], a[4], 4, a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13],
        a[14], a[15], a[16], a[17], a[18], a[19], a[20], True,
    )  # fmt: skip


def _entry_any_no_matrix_ops(address):
    """`_entry_any` without the ops that have a matrix operand."""
    a = _arguments(address)
    _machine_any_f(
        a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13],
        a[14], a[15], a[16], a[17], a[18], a[19], a[20], False,
    )  # fmt: skip


def _entry_f4_no_matrix_ops(address):
    """`_entry_f4` without the ops that have a matrix operand."""
    a = _arguments(address)
    _machine_const_f(
        a[0], a[1], a[2], a[3], a[4], 4, a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13],
        a[14], a[15], a[16], a[17], a[18], a[19], a[20], False,
    )  # fmt: skip


_ENTRY_SIG = types.void(types.int64)
# (F = 4, matrix ops) -> the entry's Python function
_ENTRY_FUNCTIONS = {
    (False, True): _entry_any,
    (True, True): _entry_f4,
    (False, False): _entry_any_no_matrix_ops,
    (True, False): _entry_f4_no_matrix_ops,
}
_ENTRIES: dict[tuple[bool, bool], object] = {}
_ENTRIES_LOCK = threading.Lock()


def machine_address(F: int, matrix_ops: bool = True) -> int:
    """Address of the machine's entry for feature size F (compiled, or loaded from numba's
    cache, on first use: the F = 4 specialisation or the one for any F), with or without the
    ops that have a matrix operand (`ops.MATRIX_OPERAND`; without them it must only run
    programs that have none: `uses_matrix_ops`). Waits for a `prefetch_machine` of it first."""
    key = (int(F) == 4, bool(matrix_ops))
    with _ENTRIES_LOCK:
        entry = _ENTRIES.get(key)
        if entry is None:
            helper = _PREFETCHES.pop(key, None)
            if helper is not None:
                helper.wait()  # (then its compilation loads from numba's cache)
            entry = cfunc(_ENTRY_SIG, cache=True, error_model="numpy")(_ENTRY_FUNCTIONS[key])
            _ENTRIES[key] = entry
    return entry.address


# A machine not in numba's cache yet can be compiled by a helper process while this one compiles
# something else (the search kernel): on a cold start that takes the machine off the critical
# path on a machine with a second core. The helper writes numba's cache; `machine_address` waits
# for it, then loads.
_PREFETCHES: dict[tuple[bool, bool], subprocess.Popen] = {}


def _cached(key: tuple[bool, bool]) -> bool:
    """Whether numba's cache holds a current compilation of the machine entry `key` (an
    unreadable cache counts as none)."""
    try:
        from numba.core.caching import FunctionCache

        return bool(FunctionCache(_ENTRY_FUNCTIONS[key])._cache_file._load_index())
    except Exception:  # noqa: BLE001 (numba's private cache API: any failure means "no")
        return False


def prefetch_machine(F: int, matrix_ops: bool = True) -> None:
    """Start compiling the machine entry `machine_address(F, matrix_ops)` in a helper process
    when this process has not loaded it and numba's cache does not hold it; else nothing."""
    key = (int(F) == 4, bool(matrix_ops))
    with _ENTRIES_LOCK:
        if key in _ENTRIES or key in _PREFETCHES or _cached(key):
            return
        code = (
            "from amlz_compile.backends.interp_machine import machine_address; "
            f"machine_address({int(F)}, {bool(matrix_ops)})"
        )
        with contextlib.suppress(OSError):
            _PREFETCHES[key] = subprocess.Popen(
                [sys.executable, "-c", code],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=helper_env(),
            )


def helper_env() -> dict:
    """The environment of a helper process: this one's, with this package importable."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


def uses_matrix_ops(ops: np.ndarray) -> bool:
    """Whether any of the op numbers `ops` has a matrix operand (a number out of range counts as
    one: it meets the full machine's checks)."""
    ops = np.asarray(ops).ravel()
    if ops.size == 0:
        return False
    inside = (ops >= 0) & (ops < MATRIX_OPERAND.shape[0])
    return bool(not inside.all() or MATRIX_OPERAND[ops[inside]].any())


def machine_block(F: int, matrix_ops: bool = True, entry: bool = True) -> np.ndarray:
    """A fresh argument block for `call_machine`, its entry set for feature size F (with or
    without the matrix ops: `machine_address`); with `entry` False, not yet (0: the caller
    sets it before any call)."""
    block = np.zeros(BLOCK_SLOTS, dtype=np.int64)
    if entry:
        block[B_ENTRY] = machine_address(F, matrix_ops)
    return block


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
