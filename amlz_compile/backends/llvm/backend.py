"""`JitBackend`: the `Backend` protocol on top of compiled kernels (called through ctypes).

Each call fills a small int64 argument block (codegen.ARGS) with pointers to the task's arrays
and to fresh output arrays (and, for driver-mode kernels, the program's component functions),
and calls the kernel once per task.
"""

from __future__ import annotations

import contextlib
import functools
import struct
import weakref
from collections.abc import Sequence

import numpy as np

from ...ir.program import MemorySpec, Program, ProgramError
from ..base import TaskRun
from .codegen import NUM_SLOTS, SLOT
from .engine import JitCompiler, Kernel, default_compiler

NAME = "jit"


def _ptr(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


_TASK_SLOTS = ("train_x", "train_y", "orders", "valid_x", "valid_y")
_task_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _task_template(task) -> np.ndarray:
    """An argument block with the task's slots filled (cached per task: its arrays are frozen)."""
    try:
        hit = _task_cache.get(task)
    except TypeError:  # not weak-referenceable: no caching
        hit = None
    if hit is not None and hit[1] is task.train_x:
        return hit[0]
    args = np.zeros(NUM_SLOTS, dtype=np.int64)
    for name, dtype in zip(_TASK_SLOTS, (np.float64, np.float64, np.int32, np.float64, np.float64),
                           strict=True):  # fmt: skip
        arr = getattr(task, name)
        if arr.dtype != dtype or not arr.flags.c_contiguous:
            raise ProgramError(f"task array {name} must be C-contiguous {np.dtype(dtype).name}")
        args[SLOT[name]] = _ptr(arr)
    args[SLOT["num_train"]] = task.train_x.shape[0]
    args[SLOT["is_accuracy"]] = 1 if task.is_accuracy else 0
    with contextlib.suppress(TypeError):
        _task_cache[task] = (args, task.train_x)
    return args


@functools.lru_cache(maxsize=64)
def _double_bits(x: float) -> int:
    return struct.unpack("<q", struct.pack("<d", x))[0]


def run_kernel(
    kernel: Kernel,
    task,
    *,
    n_train: int | None = None,
    n_valid: int | None = None,
    rng_seed: int = 0,
    max_abs_error: float = 100.0,
    trace_len: int = 0,
    keep_memory: bool = False,
) -> TaskRun:
    """Run a compiled kernel on one task (duck-typed Task) under the kernel contract.

    The argument block and all outputs live in one fresh buffer (args | counts | epoch_loss |
    trace | memory), so a call costs one allocation and one pointer lookup besides the native
    call.
    """
    memory = kernel.memory
    F = memory.features
    train_x, valid_x = task.train_x, task.valid_x
    if train_x.shape[1] != F or valid_x.shape[1] != F:
        raise ProgramError(
            f"task {getattr(task, 'name', '?')!r} has {train_x.shape[1]} features but the "
            f"memory spec says F={F}"
        )
    template = _task_template(task)
    N, E, V = train_x.shape[0], task.orders.shape[0], valid_x.shape[0]
    total = E * N if n_train is None else max(0, min(int(n_train), E * N))
    nv = V if n_valid is None else max(0, min(int(n_valid), V))
    T = max(0, int(trace_len))
    nS, nV, nM = memory.scalars, memory.vectors * F, memory.matrices * F * F
    o_loss = NUM_SLOTS + 3  # the argument block comes first, then counts
    o_trace = o_loss + E
    o_s = o_trace + T
    o_v = o_s + nS
    o_m = o_v + nV
    raw = np.zeros(o_m + nM)
    base = _ptr(raw)
    args = raw[:NUM_SLOTS].view(np.int64)
    args[:] = template
    args[0:3] = (base + 8 * o_s, base + 8 * o_v, base + 8 * o_m)  # scalars, vectors, matrices
    args[7] = total
    args[10] = nv
    seed = int(rng_seed) & 0xFFFFFFFFFFFFFFFF
    args[12:14] = (_double_bits(float(max_abs_error)), seed - (1 << 64) if seed >> 63 else seed)
    # epoch_loss, trace, trace_len, counts (int64 bits in the 3 doubles after the block)
    args[14:18] = (base + 8 * o_loss, base + 8 * o_trace, T, base + 8 * NUM_SLOTS)
    if kernel.scratch_doubles:
        args[18] = _ptr(_scratch(kernel.scratch_doubles))
    if kernel.mode == "driver":
        args[19:22] = kernel.fns
    kernel(base)
    buf = raw
    validated, written, steps = buf[NUM_SLOTS : NUM_SLOTS + 3].view(np.int64).tolist()
    run = TaskRun(buf[o_loss:o_trace], validated, buf[o_trace : o_trace + written], steps)
    if keep_memory:
        run.scalars = buf[o_s:o_v]
        run.vectors = buf[o_v:o_m].reshape(memory.vectors, F)
        run.matrices = buf[o_m:].reshape(memory.matrices, F, F)
    return run


_scratch_cache: dict[int, np.ndarray] = {}


def _scratch(n: int) -> np.ndarray:
    """`n` doubles of scratch for large-memory kernels (shared per size: one call at a time)."""
    s = _scratch_cache.get(n)
    if s is None:
        s = _scratch_cache[n] = np.empty(n)
    return s


class JitBackend:
    """Runs programs as native code compiled through llvmlite (see `engine.JitCompiler`)."""

    name = NAME

    def __init__(self, compiler: JitCompiler | None = None) -> None:
        self.compiler = compiler if compiler is not None else default_compiler()

    def kernel(self, program: Program, memory: MemorySpec) -> Kernel:
        return self.compiler.compile(program, memory)

    def prepare(self, programs: Sequence[Program], memory: MemorySpec) -> list[Kernel]:
        """Compile many programs in shared modules ahead of running them."""
        return self.compiler.compile_many(programs, memory)

    def run_task(
        self,
        program: Program,
        task,
        memory: MemorySpec,
        *,
        n_train: int | None = None,
        n_valid: int | None = None,
        rng_seed: int = 0,
        max_abs_error: float = 100.0,
        trace_len: int = 0,
        keep_memory: bool = False,
    ) -> TaskRun:
        return run_kernel(
            self.kernel(program, memory),
            task,
            n_train=n_train,
            n_valid=n_valid,
            rng_seed=rng_seed,
            max_abs_error=max_abs_error,
            trace_len=trace_len,
            keep_memory=keep_memory,
        )

    def run_tasks(
        self,
        program: Program,
        tasks: Sequence,
        memory: MemorySpec,
        *,
        rng_seeds: Sequence[int] | None = None,
        **kwargs,
    ) -> list[TaskRun]:
        """`run_task` over several tasks with one kernel lookup (seeds per task, default 0)."""
        kernel = self.kernel(program, memory)
        seeds = rng_seeds if rng_seeds is not None else [0] * len(tasks)
        return [
            run_kernel(kernel, t, rng_seed=s, **kwargs) for t, s in zip(tasks, seeds, strict=True)
        ]
