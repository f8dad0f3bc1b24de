"""`JitCompiler`: programs to callable kernels through MCJIT engines (`engine.Engine`), with the
compile modes (fused, driver, lockstep multi-kernels), pipelines chosen by F, batching, a cache
by program, and recycling of engines so that compiled code stays bounded.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence

from ...ir.program import MemorySpec, Program
from .codegen import kernel_ir, uses_stack
from .driver import BlockLayout, driver_ir, program_ir
from .engine import (
    AUTO_LARGE,
    AUTO_SMALL,
    AUTO_SMALL_F,
    DEFAULT_BATCH,
    DEFAULT_CODEGEN_OPT,
    DEFAULT_MODE,
    DEFAULT_PIPELINE,
    DEFAULT_RECYCLE_BYTES,
    DEFAULT_RECYCLE_PROGRAMS,
    DRIVER_PROGRAMS,
    DRIVER_PROGRAMS_LARGE,
    DRIVER_RECYCLE,
    DRIVER_SKELETON,
    KERNEL_TYPE,
    MODES,
    MULTI_LARGE,
    MULTI_SMALL,
    PIPELINES,
    Driver,
    Engine,
    Kernel,
    link_runtime,
    linked_module_ir,
    module_ir,
)
from .multi import multi_kernel_ir


def _scratch_doubles(memory: MemorySpec, mode: str) -> int:
    if mode == "driver":
        block = BlockLayout.of(memory)
        return 0 if block.on_stack else block.doubles
    F = memory.features
    return 0 if uses_stack(memory) else F + F * F


class JitCompiler:
    """Compiles programs to kernels, caches them by (program, memory) and recycles engines.

    `mode` picks how a program becomes native code: "fused" (one kernel per program with the
    task loop inlined: fastest to run, ~10 ms to compile at F = 4), "driver" (a skeleton
    compiled once per memory spec calls each program's Setup/Predict/Learn functions, compiled
    cheaply: ~1 ms per program or less in batches, a little slower to run), or "auto" (driver
    where programs are cheap to run, F <= AUTO_SMALL_F; fused above, where run time dominates).
    `pipeline` / `codegen_opt` override the IR pipeline and codegen level of the program code
    (and of the driver skeleton); "auto" picks per mode and F (see `settings`).

    The cache key is the exact program (its arrays) plus the memory spec: a renamed but
    equivalent program would leave its results at other addresses, so callers that want
    structural dedup compile the canonical form (`passes.simplify`), whose arrays coincide.
    """

    def __init__(
        self,
        pipeline: str = DEFAULT_PIPELINE,
        codegen_opt: int | None = None,
        recycle_programs: int = DEFAULT_RECYCLE_PROGRAMS,
        recycle_bytes: int = DEFAULT_RECYCLE_BYTES,
        unroll: int = 4,
        batch: int = DEFAULT_BATCH,
        mode: str = DEFAULT_MODE,
        verify: bool = True,
        keep_ir: bool = True,
    ) -> None:
        if pipeline != "auto" and pipeline not in PIPELINES:
            raise ValueError(
                f"unknown optimisation pipeline {pipeline!r} (choose from auto, {PIPELINES})"
            )
        if mode != "auto" and mode not in MODES:
            raise ValueError(f"unknown compilation mode {mode!r} (choose from auto, {MODES})")
        self.pipeline = pipeline
        self.codegen_opt = codegen_opt
        self.recycle_programs = recycle_programs
        self.recycle_bytes = recycle_bytes
        self.unroll = unroll
        self.batch = batch
        self.mode = mode
        self.verify = verify
        self.keep_ir = keep_ir  # False: program engines free each module's IR (Engine.keep_ir)
        self._lock = threading.RLock()
        self._cache: dict[tuple[Program, MemorySpec, bool], Kernel] = {}
        self._multi: dict[tuple[Program, MemorySpec, tuple], Kernel] = {}
        self._given: dict[tuple[Program, MemorySpec], Kernel] = {}
        self._engines: dict[tuple[str, int], Engine] = {}
        self._drivers: dict[MemorySpec, Driver] = {}
        self._driver_engine: Engine | None = None
        self._names = itertools.count()
        self.engines_created = 0  # engines for program code (driver skeletons have their own)
        self.drivers_compiled = 0
        self.compiled = 0
        self.hits = 0

    def mode_for(self, memory: MemorySpec) -> str:
        """ "fused" or "driver": how programs of this memory spec are compiled."""
        if self.mode != "auto":
            return self.mode
        return "driver" if memory.features <= AUTO_SMALL_F else "fused"

    def settings(self, memory: MemorySpec) -> tuple[str, int]:
        """(IR pipeline, codegen level) used for the program code of this memory spec."""
        if self.pipeline == "auto":
            small = memory.features <= AUTO_SMALL_F
            if self.mode_for(memory) == "driver":
                pipeline, cg = DRIVER_PROGRAMS if small else DRIVER_PROGRAMS_LARGE
            else:
                pipeline, cg = AUTO_SMALL if small else AUTO_LARGE
        else:
            pipeline, cg = self.pipeline, DEFAULT_CODEGEN_OPT
        return pipeline, (cg if self.codegen_opt is None else self.codegen_opt)

    def driver_settings(self) -> tuple[str, int]:
        """(IR pipeline, codegen level) of driver skeletons (compiled once per memory spec)."""
        if self.pipeline == "auto" and self.codegen_opt is None:
            return DRIVER_SKELETON
        pipeline = DRIVER_SKELETON[0] if self.pipeline == "auto" else self.pipeline
        return pipeline, (DRIVER_SKELETON[1] if self.codegen_opt is None else self.codegen_opt)

    # -- engines ------------------------------------------------------------------------------
    def engine(self, memory: MemorySpec) -> Engine:
        """The engine new code for `memory` goes into (a fresh one once the current is full)."""
        key = self.settings(memory)
        e = self._engines.get(key)
        if e is None or e.programs >= self.recycle_programs or e.ir_bytes >= self.recycle_bytes:
            e = self._new_engine(key)
        return e

    def _new_engine(self, key: tuple[str, int]) -> Engine:
        with self._lock:
            old = self._engines.get(key)
            if old is not None:
                self._cache = {
                    k: v
                    for k, v in self._cache.items()
                    if v.engine is not old and v.program_engine is not old
                }
                self._multi = {k: v for k, v in self._multi.items() if v.engine is not old}
                self._given = {k: v for k, v in self._given.items() if v.engine is not old}
            e = self._engines[key] = Engine(*key, keep_ir=self.keep_ir)
            self.engines_created += 1
            return e

    def recycle(self) -> None:
        """Drop every engine, driver and the whole cache (code is freed when no Kernel refers
        to it)."""
        with self._lock:
            self._cache.clear()
            self._multi.clear()
            self._given.clear()
            self._engines.clear()
            self._drivers.clear()
            self._driver_engine = None

    def driver(self, memory: MemorySpec) -> Driver:
        """The driver skeleton for `memory` (compiled on first use, then cached)."""
        with self._lock:
            d = self._drivers.get(memory)
            if d is not None:
                return d
            e = self._driver_engine
            if e is None or e.programs >= DRIVER_RECYCLE:
                e = self._driver_engine = Engine(*self.driver_settings())
            name = f"amlz_driver{next(self._names)}"
            (address,) = e.add_ir(
                module_ir([driver_ir(memory, name, self.unroll)]), [name], verify=self.verify
            )
            d = Driver(name, address, e, KERNEL_TYPE(address), _scratch_doubles(memory, "driver"))
            self._drivers[memory] = d
            self.drivers_compiled += 1
            return d

    # -- compiling ----------------------------------------------------------------------------
    def _writes_memory(self, memory: MemorySpec, final_memory: bool) -> bool:
        """Whether the kernel compiled for this request writes its final memory: driver kernels
        always do (one kernel serves both requests)."""
        return bool(final_memory) or self.mode_for(memory) == "driver"

    def cached(
        self, program: Program, memory: MemorySpec, final_memory: bool = True
    ) -> Kernel | None:
        """The cached kernel for (program, memory, final_memory), or None."""
        return self._cache.get((program, memory, self._writes_memory(memory, final_memory)))

    def compile(self, program: Program, memory: MemorySpec, final_memory: bool = True) -> Kernel:
        """The kernel of one program (compiled now unless cached). `final_memory=False`: a
        fitness-only fused kernel (no final memory written: faster to run, and ~2x faster to
        compile at F = 16); driver kernels ignore it."""
        return self.compile_many([program], memory, final_memory)[0]

    def compile_many(
        self, programs: Sequence[Program], memory: MemorySpec, final_memory: bool = True
    ) -> list[Kernel]:
        """Kernels for many programs; the uncached ones are compiled in shared modules."""
        with self._lock:
            final = self._writes_memory(memory, final_memory)
            out: list[Kernel | None] = []
            todo: dict[Program, list[int]] = {}
            for pos, prog in enumerate(programs):
                hit = self._cache.get((prog, memory, final))
                if hit is not None:
                    self.hits += 1
                else:
                    todo.setdefault(prog, []).append(pos)
                out.append(hit)
            pending = list(todo)
            driver = self.mode_for(memory) == "driver"
            while pending:
                engine = self.engine(memory)
                room = max(1, min(self.batch, self.recycle_programs - engine.programs))
                chunk, pending = pending[:room], pending[room:]
                if driver:
                    built = self._build_driver(chunk, memory, engine)
                else:
                    built = self._build_fused(chunk, memory, engine, final)
                for prog, kernel in zip(chunk, built, strict=True):
                    self._cache[(prog, memory, final)] = kernel
                    self.compiled += 1
                    for pos in todo[prog]:
                        out[pos] = kernel
            return out  # type: ignore[return-value]

    def given_cached(self, program: Program, memory: MemorySpec) -> Kernel | None:
        """The cached given-memory kernel of `program`, or None."""
        return self._given.get((program, memory))

    def compile_given(self, programs: Sequence[Program], memory: MemorySpec) -> list[Kernel]:
        """Fitness-only fused kernels that start from the caller's memory and generator state
        (`codegen.kernel_ir(given_memory=True)`: Setup ran elsewhere), the uncached ones in
        shared modules; cached by (program, memory) and dropped with their engine."""
        with self._lock:
            todo = [p for p in dict.fromkeys(programs) if (p, memory) not in self._given]
            self.hits += len(programs) - len(todo)
            while todo:
                engine = self.engine(memory)
                room = max(1, min(self.batch, self.recycle_programs - engine.programs))
                chunk, todo = todo[:room], todo[room:]
                built = self._build_fused(chunk, memory, engine, False, given_memory=True)
                for prog, kernel in zip(chunk, built, strict=True):
                    self._given[(prog, memory)] = kernel
                    self.compiled += 1
            return [self._given[(p, memory)] for p in programs]

    def multi_settings(self, memory: MemorySpec) -> tuple[str, int]:
        """(IR pipeline, codegen level) of multi-task kernels (always fused)."""
        if self.pipeline == "auto":
            pipeline, cg = MULTI_SMALL if memory.features <= AUTO_SMALL_F else MULTI_LARGE
        else:
            pipeline, cg = self.pipeline, DEFAULT_CODEGEN_OPT
        return pipeline, (cg if self.codegen_opt is None else self.codegen_opt)

    def compile_multi(
        self, program: Program, memory: MemorySpec, tasks: int, final_memory: bool = True
    ) -> Kernel:
        """The kernel running `tasks` tasks of `program` in lockstep (`multi.py`; cached by
        program, memory, task count and `final_memory`). Memory must fit the stack
        (`codegen.uses_stack`). `final_memory=False`: a fitness-only kernel (no final memory
        written; faster to run and to compile)."""
        return self.compile_many_multi([program], memory, tasks, final_memory)[0]

    def compile_many_multi(
        self,
        programs: Sequence[Program],
        memory: MemorySpec,
        tasks: int,
        final_memory: bool = True,
        given_memory: bool = False,
    ) -> list[Kernel]:
        """`compile_multi` for many programs, the uncached ones in shared modules.
        `given_memory=True`: each task starts from the caller's memory and generator state, as
        `codegen.kernel_ir(given_memory=True)` (the search's lanes, `search/kernels.py`)."""
        K, final, given = int(tasks), bool(final_memory), bool(given_memory)
        key = (K, final, given)
        with self._lock:
            todo = [p for p in dict.fromkeys(programs) if (p, memory, key) not in self._multi]
            self.hits += len(programs) - len(todo)
            settings = self.multi_settings(memory)
            while todo:
                e = self._engines.get(settings)
                full = e is not None and (
                    e.programs >= self.recycle_programs or e.ir_bytes >= self.recycle_bytes
                )
                if e is None or full:
                    e = self._new_engine(settings)
                room = max(1, min(self.batch, self.recycle_programs - e.programs))
                chunk, todo = todo[:room], todo[room:]
                names = [f"amlz_m{next(self._names)}" for _ in chunk]
                bodies = [
                    multi_kernel_ir(
                        p, memory, n, K, self.unroll, final_memory=final, given_memory=given
                    )
                    for p, n in zip(chunk, names, strict=True)
                ]
                addresses = e.add_ir(module_ir(bodies), names, verify=self.verify)
                for prog, name, address in zip(chunk, names, addresses, strict=True):
                    self._multi[(prog, memory, key)] = Kernel(
                        name, memory, address, e, mode="multi", tasks=K, final_memory=final,
                        given_memory=given,
                    )  # fmt: skip
                    self.compiled += 1
            return [self._multi[(p, memory, key)] for p in programs]

    def _build_fused(
        self,
        chunk: Sequence[Program],
        memory: MemorySpec,
        engine: Engine,
        final_memory: bool,
        given_memory: bool = False,
    ) -> list[Kernel]:
        names = [f"amlz_k{next(self._names)}" for _ in chunk]
        bodies = [
            kernel_ir(
                p, memory, n, self.unroll, final_memory=final_memory, given_memory=given_memory
            )  # fmt: skip
            for p, n in zip(chunk, names, strict=True)
        ]
        addresses = engine.add_ir(module_ir(bodies), names, verify=self.verify)
        scratch = _scratch_doubles(memory, "fused")
        return [
            Kernel(
                name,
                memory,
                addr,
                engine,
                scratch_doubles=scratch,
                final_memory=final_memory,
                given_memory=given_memory,
            )  # fmt: skip
            for name, addr in zip(names, addresses, strict=True)
        ]

    def _build_driver(
        self, chunk: Sequence[Program], memory: MemorySpec, engine: Engine
    ) -> list[Kernel]:
        driver = self.driver(memory)
        link_runtime()
        prefixes = [f"amlz_p{next(self._names)}" for _ in chunk]
        bodies, fn_names = [], []
        for prog, prefix in zip(chunk, prefixes, strict=True):
            text, names = program_ir(prog, memory, prefix, self.unroll)
            bodies.append(text)
            fn_names.append(names)
        wanted = [n for names in fn_names for n in names if n is not None]
        addresses = iter(
            engine.add_ir(linked_module_ir(bodies), wanted, programs=len(chunk), verify=self.verify)
        )
        kernels = []
        for prefix, names in zip(prefixes, fn_names, strict=True):
            fns = tuple(0 if n is None else next(addresses) for n in names)
            kernels.append(
                Kernel(
                    prefix,
                    memory,
                    driver.address,
                    driver.engine,
                    driver.cfunc,
                    driver.scratch_doubles,
                    "driver",
                    fns,
                    engine,
                )  # fmt: skip
            )
        return kernels

    def __len__(self) -> int:
        return len(self._cache) + len(self._given)


_default: JitCompiler | None = None
_default_lock = threading.Lock()


def default_compiler() -> JitCompiler:
    """The process-wide compiler (one long-lived engine, recycled as it fills)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = JitCompiler()
        return _default
