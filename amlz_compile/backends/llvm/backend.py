"""`JitBackend`: the `Backend` protocol on top of compiled kernels (called through ctypes).

Each call fills a small int64 argument block (codegen.ARGS) with pointers to the task's arrays
and to fresh output arrays, and calls the kernel once per task.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...ir.program import MemorySpec, Program, ProgramError
from ..base import TaskRun
from .codegen import NUM_SLOTS, SLOT
from .engine import JitCompiler, Kernel, default_compiler

NAME = "jit"


def _ptr(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def _task_arrays(task) -> tuple[np.ndarray, ...]:
    arrays = (task.train_x, task.train_y, task.orders, task.valid_x, task.valid_y)
    for name, arr, dtype in zip(
        ("train_x", "train_y", "orders", "valid_x", "valid_y"),
        arrays,
        (np.float64, np.float64, np.int32, np.float64, np.float64),
        strict=True,
    ):
        if arr.dtype != dtype or not arr.flags.c_contiguous:
            raise ProgramError(f"task array {name} must be C-contiguous {np.dtype(dtype).name}")
    return arrays


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
    """Run a compiled kernel on one task (duck-typed Task) under the kernel contract."""
    memory = kernel.memory
    F = memory.features
    train_x, train_y, orders, valid_x, valid_y = _task_arrays(task)
    if train_x.shape[1] != F or valid_x.shape[1] != F:
        raise ProgramError(
            f"task {getattr(task, 'name', '?')!r} has {train_x.shape[1]} features but the "
            f"memory spec says F={F}"
        )
    N, E, V = train_x.shape[0], orders.shape[0], valid_x.shape[0]
    total = E * N if n_train is None else max(0, min(int(n_train), E * N))
    nv = V if n_valid is None else max(0, min(int(n_valid), V))
    scalars = np.empty(memory.scalars)
    vectors = np.empty((memory.vectors, F))
    matrices = np.empty((memory.matrices, F, F))
    epoch_loss = np.zeros(E)
    trace = np.empty(max(0, int(trace_len)))
    counts = np.zeros(3, dtype=np.int64)
    scratch = _scratch(F)
    args = np.empty(NUM_SLOTS, dtype=np.int64)
    args[SLOT["scalars"]] = _ptr(scalars)
    args[SLOT["vectors"]] = _ptr(vectors)
    args[SLOT["matrices"]] = _ptr(matrices)
    args[SLOT["train_x"]] = _ptr(train_x)
    args[SLOT["train_y"]] = _ptr(train_y)
    args[SLOT["orders"]] = _ptr(orders)
    args[SLOT["num_train"]] = N
    args[SLOT["total_steps"]] = total
    args[SLOT["valid_x"]] = _ptr(valid_x)
    args[SLOT["valid_y"]] = _ptr(valid_y)
    args[SLOT["n_valid"]] = nv
    args[SLOT["is_accuracy"]] = 1 if task.is_accuracy else 0
    args[SLOT["max_abs_error"]] = np.float64(max_abs_error).view(np.int64)
    args[SLOT["rng_seed"]] = np.uint64(int(rng_seed) & 0xFFFFFFFFFFFFFFFF).view(np.int64)
    args[SLOT["epoch_loss"]] = _ptr(epoch_loss)
    args[SLOT["trace"]] = _ptr(trace)
    args[SLOT["trace_len"]] = trace.shape[0]
    args[SLOT["counts"]] = _ptr(counts)
    args[SLOT["scratch"]] = _ptr(scratch)
    kernel(_ptr(args))
    validated, written, steps = (int(c) for c in counts)
    run = TaskRun(epoch_loss, validated, trace[:written], steps)
    if keep_memory:
        run.scalars, run.vectors, run.matrices = scalars, vectors, matrices
    return run


_scratch_cache: dict[int, np.ndarray] = {}


def _scratch(F: int) -> np.ndarray:
    """Per-F scratch for large-memory kernels (ops whose output may alias an input)."""
    s = _scratch_cache.get(F)
    if s is None:
        s = _scratch_cache[F] = np.empty(F + F * F)
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
