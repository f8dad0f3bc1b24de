"""`JitBackend`: the `Backend` protocol on top of compiled kernels (called through ctypes).

Each call fills a small int64 argument block (codegen.ARGS) with pointers to the task's arrays
and to fresh output arrays (and, for driver-mode kernels, the program's component functions),
and calls the kernel once per task.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import struct
import threading
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import numpy as np

from ...ir.program import MemorySpec, Program, ProgramError
from ..base import RunOptions, TaskRun
from .codegen import BAILED, NUM_SLOTS, SLOT, uses_stack
from .compiler import JitCompiler, default_compiler
from .engine import Kernel, run_blocks

NAME = "jit"


def _ptr(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def _buffer_ptr(a: np.ndarray) -> int:
    """The address of a fresh, writable, contiguous array (faster than `_ptr`: a call's
    fixed cost matters when its tasks are small)."""
    return ctypes.addressof(ctypes.c_char.from_buffer(a))


def _seed_bits(rng_seeds: Sequence[int]) -> np.ndarray:
    """The seeds as uint64 bit patterns in int64 (negative ints wrap, as the contract says)."""
    try:
        return np.array(rng_seeds, dtype=np.uint64).view(np.int64)
    except OverflowError:  # a negative seed (or one beyond 64 bits): mask each
        return np.array([int(x) & 0xFFFFFFFFFFFFFFFF for x in rng_seeds],
                        dtype=np.uint64).view(np.int64)  # fmt: skip


_TASK_SLOTS = ("train_x", "train_y", "orders", "valid_x", "valid_y")
_task_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _task_info(task) -> tuple:
    """(argument block with the task's slots filled, N, E, V, F_train, F_valid), cached per
    task (its arrays are frozen)."""
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
    info = (args, task.train_x.shape[0], task.orders.shape[0], task.valid_x.shape[0],
            task.train_x.shape[1], task.valid_x.shape[1])  # fmt: skip
    with contextlib.suppress(TypeError):
        _task_cache[task] = (info, task.train_x)
    return info


_FITNESS_ONLY = ("keep_memory needs a kernel that writes its final memory (this one was "
                 "compiled fitness-only: final_memory=False)")  # fmt: skip


def _task_template(task) -> np.ndarray:
    """An argument block with the task's slots filled (cached per task)."""
    return _task_info(task)[0]


@functools.lru_cache(maxsize=64)
def _double_bits(x: float) -> int:
    return struct.unpack("<q", struct.pack("<d", x))[0]


def run_kernel(kernel: Kernel, task, **options) -> TaskRun:
    """Run a compiled kernel on one task (duck-typed Task) under the kernel contract; `options`
    are the fields of `RunOptions`.

    The argument block and all outputs live in one fresh buffer (args | counts | epoch_loss |
    trace | memory), so a call costs one allocation and one pointer lookup besides the native
    call.
    """
    o = RunOptions(**options)
    n_train, n_valid, trace_len, keep_memory = o.n_train, o.n_valid, o.trace_len, o.keep_memory
    rng_seed, max_abs_error = o.rng_seed, o.max_abs_error
    memory = kernel.memory
    F = memory.features
    if keep_memory and not kernel.final_memory:
        raise ValueError(_FITNESS_ONLY)
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


def _check_features(task, F: int) -> None:
    _, _, _, _, f_train, f_valid = _task_info(task)
    if f_train != F or f_valid != F:
        raise ProgramError(
            f"task {getattr(task, 'name', '?')!r} has {f_train} features but the "
            f"memory spec says F={F}"
        )


def _shape(task, n_train, n_valid, trace_len) -> tuple[int, int, int, int, int]:
    """(N, E, total_steps, n_valid, trace_len) of one run, clamped as the contract says."""
    _, N, E, V, _, _ = _task_info(task)
    total = E * N if n_train is None else max(0, min(int(n_train), E * N))
    nv = V if n_valid is None else max(0, min(int(n_valid), V))
    return N, E, total, nv, (int(trace_len) if trace_len > 0 else 0)


def lockstep_key(task, n_train=None, n_valid=None, trace_len: int = 0) -> tuple:
    """Tasks with equal keys can share a multi-task kernel call (`run_kernel_multi`)."""
    N, _, total, nv, T = _shape(task, n_train, n_valid, trace_len)
    return (N, total, nv, T, bool(task.is_accuracy), task.train_x.shape[1])


def run_kernel_multi(
    kernel: Kernel,
    tasks: Sequence,
    rng_seeds: Sequence[int],
    single: Kernel | None = None,
    *,
    n_train: int | None | Sequence[int | None] = None,
    n_valid: int | None = None,
    max_abs_error: float = 100.0,
    trace_len: int = 0,
    keep_memory: bool = False,
    initial_memory: np.ndarray | None = None,
) -> list[TaskRun]:
    """Run several tasks in one foreign call; results exactly as `run_kernel` per task.

    `n_train` is one budget for all tasks or one per task (as `run_kernel`'s).
    `kernel` is either a multi-task kernel (mode "multi", `kernel.tasks` == len(tasks), tasks
    of one `lockstep_key`) or a single-task kernel, then called on each task in turn by the
    native loop `engine.run_blocks` (no per-task Python call). One buffer holds the argument
    blocks, then each task's outputs (counts | epoch_loss | trace | memory). A task that
    bailed out of a lockstep run (a failed validation pass, see `multi.py`) is rerun alone
    with `single`, the program's single-task kernel.
    `initial_memory` (float64[K, scalars + vectors*F + matrices*F*F], each row the flat
    row-major memory) goes with a given-memory kernel (`kernel.given_memory`): task j starts
    from row j and generator state rng_seeds[j].
    """
    memory = kernel.memory
    F = memory.features
    K = len(tasks)
    lockstep = kernel.mode == "multi"
    if lockstep and kernel.tasks != K:
        raise ValueError(f"kernel runs {kernel.tasks} tasks in lockstep, got {K}")
    if keep_memory and not kernel.final_memory:
        raise ValueError(_FITNESS_ONLY)
    if (initial_memory is not None) != kernel.given_memory:
        raise ValueError("initial_memory goes with (and only with) a given-memory kernel")
    if K == 0:
        return []
    budgets = list(n_train) if isinstance(n_train, Sequence | np.ndarray) else [n_train] * K
    plan = _plan(memory, tasks, budgets, n_valid, trace_len, max_abs_error, lockstep)
    nS, nV, nM = memory.scalars, memory.vectors * F, memory.matrices * F * F
    raw = np.zeros(plan.size)
    base = _buffer_ptr(raw)
    blocks = raw[: K * NUM_SLOTS].view(np.int64).reshape(K, NUM_SLOTS)
    np.multiply(plan.pointers, base, out=blocks)  # buffer-relative addresses made absolute
    blocks += plan.template
    blocks[:, 13] = _seed_bits(rng_seeds)
    if kernel.scratch_doubles:
        blocks[:, 18] = _ptr(_scratch(kernel.scratch_doubles))
    if kernel.mode == "driver":
        blocks[:, 19:22] = kernel.fns
    if initial_memory is not None:
        n_mem = nS + nV + nM
        if initial_memory.shape != (K, n_mem):
            raise ValueError(f"initial_memory must have shape ({K}, {n_mem})")
        for j, (o, e, t) in enumerate(zip(plan.offsets, plan.E, plan.T, strict=True)):
            o_s = o + 3 + e + t
            raw[o_s : o_s + n_mem] = initial_memory[j]
    if lockstep:
        kernel(base)
    else:
        run_blocks()(kernel.address, base, K, NUM_SLOTS * 8)
    runs = []
    counts = raw.view(np.int64)[plan.counts].tolist()
    for j, (o, e, t, (validated, written, steps)) in enumerate(
        zip(plan.offsets, plan.E, plan.T, counts, strict=True)
    ):
        if validated == BAILED:
            if single is None:
                raise ValueError("a lockstep task bailed out and no single-task kernel was given")
            if initial_memory is not None:  # (the single kernel starts from the same memory)
                runs += run_kernel_multi(single, [tasks[j]], [rng_seeds[j]], n_train=budgets[j],
                                         n_valid=n_valid, max_abs_error=max_abs_error,
                                         trace_len=trace_len, keep_memory=keep_memory,
                                         initial_memory=initial_memory[j : j + 1])  # fmt: skip
                continue
            runs.append(
                run_kernel(single, tasks[j], n_train=budgets[j], n_valid=n_valid,
                           rng_seed=rng_seeds[j], max_abs_error=max_abs_error,
                           trace_len=trace_len, keep_memory=keep_memory)
            )  # fmt: skip
            continue
        o_loss = o + 3
        run = TaskRun(raw[o_loss : o_loss + e], validated, raw[o_loss + e : o_loss + e + written],
                      steps)  # fmt: skip
        if keep_memory:
            o_s = o_loss + e + t
            run.scalars = raw[o_s : o_s + nS]
            run.vectors = raw[o_s + nS : o_s + nS + nV].reshape(memory.vectors, F)
            run.matrices = raw[o_s + nS + nV : o_s + nS + nV + nM].reshape(memory.matrices, F, F)
        runs.append(run)
    return runs


_COUNTS = np.arange(3)
_PTR_COLS = np.array([SLOT[n] for n in ("scalars", "vectors", "matrices", "epoch_loss", "trace",
                                         "counts")])  # fmt: skip
_PLAN_LIMIT = 256
_plans: dict[tuple, _Plan] = {}


@dataclass(frozen=True)
class _Plan:
    """The buffer layout of one `run_kernel_multi` call, cached by (memory, tasks, budgets, ...):
    argument blocks with buffer-relative addresses, the output offsets of each task."""

    tasks: tuple  # the task objects (identity checked on a hit)
    template: np.ndarray  # int64[K, NUM_SLOTS]; _PTR_COLS relative to the buffer start
    pointers: np.ndarray  # int64[K, NUM_SLOTS]: 1 in the _PTR_COLS, else 0
    size: int  # doubles in the buffer
    offsets: list[int]  # each task's outputs: counts | epoch_loss | trace | memory
    E: list[int]
    T: list[int]
    counts: np.ndarray  # int64[K, 3]: buffer indices of each task's counts


def _plan(memory, tasks, budgets, n_valid, trace_len, max_abs_error, lockstep) -> _Plan:
    key = (memory, tuple(map(id, tasks)), tuple(budgets), n_valid, trace_len,
           float(max_abs_error), lockstep)  # fmt: skip
    hit = _plans.get(key)
    if hit is not None and all(a is b for a, b in zip(hit.tasks, tasks, strict=True)):
        return hit
    F, K = memory.features, len(tasks)
    shapes = []
    for task, budget in zip(tasks, budgets, strict=True):
        _check_features(task, F)
        shapes.append(_shape(task, budget, n_valid, trace_len))
    if lockstep:
        keys = {lockstep_key(t, b, n_valid, trace_len) for t, b in zip(tasks, budgets, strict=True)}
        if len(keys) > 1:
            raise ValueError("tasks run in lockstep must share num_train, steps, n_valid, "
                             "trace length and task type")  # fmt: skip
    nS, nV, nM = memory.scalars, memory.vectors * F, memory.matrices * F * F
    shape = np.array(shapes, dtype=np.int64).reshape(K, 5)  # N, E, total, n_valid, T
    E, T = shape[:, 1], shape[:, 4]
    sizes = 3 + E + T + (nS + nV + nM)
    offsets = K * NUM_SLOTS + np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    blocks = np.zeros((K, NUM_SLOTS), dtype=np.int64)
    blocks[:] = [_task_template(task) for task in tasks]
    at = 8 * offsets  # byte offsets: counts | epoch_loss | trace | memory
    o_s = at + 8 * (3 + E + T)
    blocks[:, 0], blocks[:, 1], blocks[:, 2] = o_s, o_s + 8 * nS, o_s + 8 * (nS + nV)
    blocks[:, 7], blocks[:, 10] = shape[:, 2], shape[:, 3]
    blocks[:, 12] = _double_bits(float(max_abs_error))
    blocks[:, 14], blocks[:, 15], blocks[:, 16], blocks[:, 17] = at + 24, at + 24 + 8 * E, T, at
    pointers = np.zeros((K, NUM_SLOTS), dtype=np.int64)
    pointers[:, _PTR_COLS] = 1
    plan = _Plan(tuple(tasks), blocks, pointers, K * NUM_SLOTS + int(sizes.sum()),
                 offsets.tolist(), E.tolist(), T.tolist(), offsets[:, None] + _COUNTS)  # fmt: skip
    if len(_plans) >= _PLAN_LIMIT:
        _plans.clear()
    _plans[key] = plan
    return plan


_scratch_local = threading.local()


def _scratch(n: int) -> np.ndarray:
    """`n` doubles of scratch for large-memory kernels (one per size and thread: a kernel call
    uses it for its duration)."""
    cache = getattr(_scratch_local, "cache", None)
    if cache is None:
        cache = _scratch_local.cache = {}
    s = cache.get(n)
    if s is None:
        s = cache[n] = np.empty(n)
    return s


_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _pool(threads: int) -> ThreadPoolExecutor:
    """A process-wide pool of `threads` workers (kernel calls release the GIL)."""
    with _pools_lock:
        pool = _pools.get(threads)
        if pool is None:
            pool = _pools[threads] = ThreadPoolExecutor(threads, thread_name_prefix="amlz-jit")
        return pool


# Tasks per lockstep group (multi-task kernels): 2-3 gain most at the paper scale, 4 never more
# (docs/benchmarks.md#jit-kernels-and-the-runtime).
LOCKSTEP_K = 2
# "auto" lockstep is rent-or-buy: a program's multi-task kernel costs about K single compiles
# (~0.3 s each at F = 16, O3), worth ~5M task-steps of saving, so it is built only once the
# program has already run this many task-steps (training + validation) through run_tasks:
# the search evaluates most programs once or a few times, and must not pay it.
LOCKSTEP_AFTER_STEPS = 5_000_000
_SEEN_LIMIT = 4096


class JitBackend:
    """Runs programs as native code compiled through llvmlite (see `compiler.JitCompiler`).

    `lockstep`: tasks per multi-task kernel in `run_tasks` (an int; 1 = never), or "auto":
    LOCKSTEP_K for fused-mode memory specs that fit the stack, once a program has run
    LOCKSTEP_AFTER_STEPS task-steps (the search evaluates most programs once or a few times
    on small tasks: there the extra compilation would dominate).
    `threads`: `run_tasks` spreads one evaluation's tasks over this many threads (kernel calls
    release the GIL). 1 (default) suits searches, whose workers already fill the cores; more
    cuts the latency of one large evaluation. Results are the same either way.
    """

    name = NAME

    def __init__(
        self, compiler: JitCompiler | None = None, lockstep: int | str = "auto", threads: int = 1
    ) -> None:
        self.compiler = compiler if compiler is not None else default_compiler()
        if lockstep != "auto" and (not isinstance(lockstep, int) or lockstep < 1):
            raise ValueError(f"lockstep must be 'auto' or a task count >= 1, got {lockstep!r}")
        if not isinstance(threads, int) or threads < 1:
            raise ValueError(f"threads must be a thread count >= 1, got {threads!r}")
        self.lockstep = lockstep
        self.threads = threads
        self._seen: dict[tuple[Program, MemorySpec], int] = {}

    def kernel(self, program: Program, memory: MemorySpec, final_memory: bool = True) -> Kernel:
        hit = self.compiler.cached(program, memory, final_memory)  # no lock on the hot path
        return hit if hit is not None else self.compiler.compile(program, memory, final_memory)

    def prepare(
        self, programs: Sequence[Program], memory: MemorySpec, final_memory: bool = False
    ) -> list[Kernel]:
        """Compile many programs in shared modules ahead of running them (by default the
        fitness-only kernels `run_tasks` uses when the final memory is not asked for)."""
        return self.compiler.compile_many(programs, memory, final_memory)

    def run_task(self, program: Program, task, memory: MemorySpec, **options) -> TaskRun:
        """Run `program` on `task` once as compiled code; `options` are the fields of
        `RunOptions`."""
        o = RunOptions(**options)
        return run_kernel(
            self.kernel(program, memory, final_memory=o.keep_memory), task, **asdict(o)
        )

    def lockstep_for(
        self, program: Program, memory: MemorySpec, work: int | Callable[[], int] = 0
    ) -> int:
        """Tasks per lockstep group `run_tasks` uses for this program now (1 = none); `work`
        (task-steps about to run, or a function computing them) counts towards "auto"'s
        LOCKSTEP_AFTER_STEPS."""
        if self.lockstep != "auto":
            return self.lockstep if uses_stack(memory) else 1
        if self.compiler.mode_for(memory) != "fused" or not uses_stack(memory):
            return 1
        key = (program, memory)
        if len(self._seen) >= _SEEN_LIMIT and key not in self._seen:
            self._seen.clear()
        done = self._seen.get(key, 0)
        self._seen[key] = done + (work() if callable(work) else work)
        return LOCKSTEP_K if done >= LOCKSTEP_AFTER_STEPS else 1

    def run_tasks(
        self,
        program: Program,
        tasks: Sequence,
        memory: MemorySpec,
        *,
        rng_seeds: Sequence[int] | None = None,
        n_train: int | None | Sequence[int | None] = None,
        n_valid: int | None = None,
        max_abs_error: float = 100.0,
        trace_len: int = 0,
        keep_memory: bool = False,
    ) -> list[TaskRun]:
        """`run_task` on each task (seeds and budgets per task), results identical.

        Tasks of one shape (`lockstep_key`) run in groups of `lockstep_for` tasks through a
        multi-task kernel (fitness-only unless `keep_memory`); the rest run one after another
        in a single foreign call. With `threads` > 1 each thread takes an equal share of every
        shape's tasks and runs it so.
        """
        n = len(tasks)
        seeds = list(rng_seeds) if rng_seeds is not None else [0] * n
        budgets = list(n_train) if isinstance(n_train, Sequence | np.ndarray) else [n_train] * n
        if len(seeds) != n or len(budgets) != n:
            raise ValueError(f"run_tasks: {n} tasks but {len(seeds)} seeds, {len(budgets)} budgets")
        single = self.kernel(program, memory, final_memory=keep_memory)
        kw = dict(n_valid=n_valid, max_abs_error=max_abs_error, trace_len=trace_len,
                  keep_memory=keep_memory)  # fmt: skip
        runs: list[TaskRun | None] = [None] * n

        def work() -> int:  # task-steps (training + validation) of this call
            steps = 0
            for task, budget in zip(tasks, budgets, strict=True):
                N, _, total, nv, _ = _shape(task, budget, n_valid, trace_len)
                steps += total + nv * -(-total // max(N, 1))
            return steps

        K = self.lockstep_for(program, memory, work) if n > 1 else 1
        T = min(self.threads, n)
        if K <= 1 and T <= 1:  # the common case: every task in one foreign call
            return run_kernel_multi(single, tasks, seeds, n_train=budgets, **kw)
        if K > 1:
            for task in tasks:
                _check_features(task, memory.features)

        def multi() -> Kernel:  # compiled (once, cached) only if some group fills a kernel
            # fitness-only kernels unless the caller wants the final memory
            return self.compiler.compile_multi(program, memory, K, final_memory=keep_memory)

        def share(members: list[int]) -> None:
            """Run tasks `members` (one thread's share): lockstep groups of K tasks of one
            shape, then the rest one after another in one foreign call."""
            rest = members
            if K > 1:
                groups: dict[tuple, list[int]] = {}
                for i in members:
                    key = lockstep_key(tasks[i], budgets[i], n_valid, trace_len)
                    groups.setdefault(key, []).append(i)
                rest = []
                for group in groups.values():
                    full = len(group) - len(group) % K
                    rest += group[full:]
                    for g in range(0, full, K):
                        chunk = group[g : g + K]
                        total = _shape(tasks[chunk[0]], budgets[chunk[0]], n_valid, trace_len)[2]
                        out = run_kernel_multi(multi(), [tasks[i] for i in chunk],
                                               [seeds[i] for i in chunk], single, n_train=total,
                                               **kw)  # fmt: skip
                        for i, run in zip(chunk, out, strict=True):
                            runs[i] = run
                rest.sort()
            if rest:
                out = run_kernel_multi(single, [tasks[i] for i in rest], [seeds[i] for i in rest],
                                       n_train=[budgets[i] for i in rest], **kw)  # fmt: skip
                for i, run in zip(rest, out, strict=True):
                    runs[i] = run

        if T <= 1:
            share(list(range(n)))
        else:  # every thread gets an equal share of each shape's tasks
            by_shape: dict[tuple, list[int]] = {}
            for i, task in enumerate(tasks):
                key = lockstep_key(task, budgets[i], n_valid, trace_len)
                by_shape.setdefault(key, []).append(i)
            shares: list[list[int]] = [[] for _ in range(T)]
            turn = 0
            for members in by_shape.values():
                for i in members:
                    shares[turn % T].append(i)
                    turn += 1
            futures = [_pool(T - 1).submit(share, sorted(m)) for m in shares[1:]]
            share(sorted(shares[0]))
            for f in futures:
                f.result()
        return runs  # type: ignore[return-value]
