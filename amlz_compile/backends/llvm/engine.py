"""MCJIT engines, the compiled-kernel cache and batch compilation.

Facts this module is built around (measured on this machine class, llvmlite 0.50 / LLVM 22):
- emitting IR text and parsing it is far cheaper than llvmlite.ir builders;
- each execution engine owns its TargetMachine (sharing one between engines segfaulted);
- MCJIT never frees code added to an engine, so the compiler *recycles* engines: after
  `recycle_programs` kernels (or `recycle_bytes` of IR) a fresh engine takes new work; the old
  engine is freed when the last `Kernel` that references it is gone;
- a module has a fixed cost (~1 ms: MCJIT's code generation set-up, relocation, memory
  mapping; ~2 ms more when it carries the runtime): many programs in one module amortise it
  (`compile_many`), and driver-mode program modules link to one shared runtime instead;
- `module.verify()` costs ~2-3 % of a compile: kept on (`JitCompiler(verify=False)` skips it).

Compilation modes (`JitCompiler.mode`): "fused" (one kernel per program: the task loop with the
program inlined, `codegen.kernel_ir`), "driver" (a skeleton per memory spec calling each
program's component functions, `driver.py`) and "auto" (driver for F <= AUTO_SMALL_F, fused
above). Optimisation: the IR pipeline ("none"; "light" = always-inline + SROA + instcombine +
simplifycfg; LLVM's "O1".."O3") and the machine-code level (`codegen_opt`). "auto" settings:
driver program functions none/codegen 0 (light/2 above F = 4, when driver mode is forced there),
driver skeletons O3/2 (once per memory spec), fused kernels light/0 for F <= 4 and O3/2 above.
Their compile and run costs: docs/benchmarks.md#jit-kernels-and-the-runtime. Multi-task kernels
(`compile_multi`: K tasks in lockstep, `multi.py`) are fused kernels with MULTI_* settings;
`run_blocks` is the native loop that calls a kernel on many argument blocks in one call.
"""

from __future__ import annotations

import ctypes
import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import llvmlite.binding as llvm

from ...ir.program import MemorySpec, Program
from .codegen import DECLARATIONS, kernel_ir, uses_stack
from .driver import BlockLayout, driver_ir, program_ir
from .multi import multi_kernel_ir
from .runtime import EXPORT_PREFIX, SIGNATURES, exported_runtime_ir, linked_prelude, runtime_ir

KERNEL_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_void_p)

PIPELINES = ("none", "light", "O1", "O2", "O3")
MODES = ("fused", "driver")
DEFAULT_PIPELINE = "auto"
DEFAULT_CODEGEN_OPT = 2
# "auto": cheap compilation where programs are cheap to run (small F), full optimisation where
# run time dominates (measured: amlz_compile.bench.llvm.optimisation_grid, module docstring).
AUTO_SMALL_F = 4
AUTO_SMALL = ("light", 0)
AUTO_LARGE = ("O3", 2)
# Driver mode: the per-program functions get no IR passes and fast instruction selection for
# F <= AUTO_SMALL_F, and light/codegen 2 above (docs/benchmarks.md#jit-kernels-and-the-runtime);
# the driver skeleton, compiled once per memory spec, gets the full pipeline.
# Multi-task kernels (several tasks in lockstep, `multi.py`): fused, optimised like fused ones.
MULTI_SMALL = ("light", 0)
MULTI_LARGE = ("O3", 2)
DRIVER_PROGRAMS = ("none", 0)
DRIVER_PROGRAMS_LARGE = ("light", 2)
DRIVER_SKELETON = ("O3", 2)
DEFAULT_RECYCLE_PROGRAMS = 2000
DEFAULT_RECYCLE_BYTES = 256 * 1024 * 1024
DEFAULT_BATCH = 256
DEFAULT_MODE = "auto"
DRIVER_RECYCLE = 64  # driver skeletons per driver engine before a fresh one

_init_lock = threading.Lock()
_initialised = False


def _init_llvm() -> None:
    global _initialised
    with _init_lock:
        if not _initialised:
            llvm.initialize_native_target()
            llvm.initialize_native_asmprinter()
            _initialised = True


class Engine:
    """One MCJIT execution engine with its own TargetMachine and pass pipeline."""

    _ids = itertools.count()

    def __init__(
        self, pipeline: str = "light", codegen_opt: int = DEFAULT_CODEGEN_OPT, keep_ir: bool = True
    ):
        if pipeline not in PIPELINES:
            raise ValueError(
                f"unknown optimisation pipeline {pipeline!r} (choose from {PIPELINES})"
            )
        _init_llvm()
        self.id = next(self._ids)
        target = llvm.Target.from_default_triple()
        self.target_machine = target.create_target_machine(
            cpu=llvm.get_host_cpu_name(),
            features=llvm.get_host_cpu_features().flatten(),
            opt=codegen_opt,
            jit=True,
        )
        self.pipeline = pipeline
        # False: each module's IR is removed from the engine and freed once its code is
        # finalised (the code stays: MCJIT's memory manager owns it). An engine otherwise keeps
        # every module's IR, ~150 KB per fused paper-scale kernel against ~40 KB of code.
        self.keep_ir = keep_ir
        self.engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), self.target_machine)
        self.programs = 0
        self.ir_bytes = 0

    def add_ir(
        self, text: str, names: Sequence[str], programs: int | None = None, verify: bool = True
    ) -> list[int]:
        """Parse, optimise and JIT one module; return the addresses of `names`.

        `programs` (default: one per name) counts towards recycling; `verify` runs LLVM's IR
        verifier (cheap next to code generation, and it turns an emitter bug into a clear error
        instead of a crash).
        """
        module = llvm.parse_assembly(text)
        module.triple = self.target_machine.triple
        module.data_layout = str(self.target_machine.target_data)
        if verify:
            module.verify()
        if self.pipeline != "none":
            self.optimise(module)
        self.engine.add_module(module)
        self.engine.finalize_object()
        self.programs += len(names) if programs is None else programs
        self.ir_bytes += len(text)
        addresses = [self.engine.get_function_address(n) for n in names]
        if not self.keep_ir:
            self.engine.remove_module(module)
            module.close()
        return addresses

    def optimise(self, module) -> None:
        """Run the IR pipeline: "none" = nothing; "light" = inline the runtime, SROA (memory to
        registers), instcombine, simplifycfg; "O1".."O3" = LLVM's standard pipelines."""
        if self.pipeline == "light":
            pto = llvm.create_pipeline_tuning_options(speed_level=0)
            pb = llvm.create_pass_builder(self.target_machine, pto)
            mpm = llvm.create_new_module_pass_manager()
            mpm.add_always_inliner_pass()
            mpm.add_sroa_pass()
            mpm.add_instruction_combine_pass()
            mpm.add_simplify_cfg_pass()
            mpm.run(module, pb)
        else:
            pto = llvm.create_pipeline_tuning_options(speed_level=int(self.pipeline[1]))
            pb = llvm.create_pass_builder(self.target_machine, pto)
            pb.getModulePassManager().run(module, pb)


@dataclass(eq=False)
class Kernel:
    """A compiled program: call it with the address of an argument block (see codegen.ARGS).

    Fused kernels are the program; driver kernels are the shared driver plus the program's
    component functions (`fns`: addresses for the setup_fn/predict_fn/learn_fn slots, 0 for an
    empty component). `scratch_doubles` > 0: the caller passes that much scratch (slot scratch).
    """

    name: str
    memory: MemorySpec
    address: int
    engine: Engine = field(repr=False)  # keeps the engine (and so the code) alive
    cfunc: object = field(repr=False, default=None)
    scratch_doubles: int = 0
    mode: str = "fused"
    fns: tuple[int, int, int] = (0, 0, 0)
    program_engine: Engine | None = field(repr=False, default=None)  # driver: the functions'
    tasks: int = 1  # mode "multi": tasks run in lockstep per call (K argument blocks)
    final_memory: bool = True  # False: a fitness-only kernel (writes no final memory)
    given_memory: bool = False  # True: starts from the caller's memory (codegen.kernel_ir)

    def __post_init__(self) -> None:
        if self.cfunc is None:
            self.cfunc = KERNEL_TYPE(self.address)

    @property
    def on_stack(self) -> bool:
        """Whether the kernel runs without caller scratch (its memory fits its stack)."""
        return self.scratch_doubles == 0

    def __call__(self, args_address: int) -> None:
        self.cfunc(args_address)


@dataclass(eq=False)
class Driver:
    """A compiled driver skeleton for one memory spec (shared by its programs' kernels)."""

    name: str
    address: int
    engine: Engine = field(repr=False)
    cfunc: object = field(repr=False)
    scratch_doubles: int


def module_ir(bodies: Sequence[str]) -> str:
    """One module: the runtime, the external declarations and the kernel functions."""
    return "\n".join([runtime_ir(), DECLARATIONS, *bodies])


def linked_module_ir(bodies: Sequence[str]) -> str:
    """A module that calls the process's shared runtime (`link_runtime`) instead of a copy."""
    return "\n".join([linked_prelude(), DECLARATIONS, *bodies])


_runtime_lock = threading.Lock()
_runtime_engine: Engine | None = None


def link_runtime() -> None:
    """Compile the exported runtime once per process and register its entry points as symbols
    (`llvm.add_symbol`), so modules that only declare them (`linked_module_ir`) resolve."""
    global _runtime_engine
    with _runtime_lock:
        if _runtime_engine is not None:
            return
        engine = Engine("O2", 2)
        names = [EXPORT_PREFIX + name[5:] for name in SIGNATURES]
        for name, address in zip(SIGNATURES, engine.add_ir(exported_runtime_ir(), names),
                                 strict=True):  # fmt: skip
            llvm.add_symbol(name, address)
        _runtime_engine = engine  # kept for the life of the process


_RUN_BLOCKS_IR = """\
define void @amlz_run_blocks(ptr %fn, ptr %blocks, i64 %n, i64 %stride) {
entry:
  %any = icmp sgt i64 %n, 0
  br i1 %any, label %loop, label %done
loop:
  %i = phi i64 [0, %entry], [%next, %loop]
  %off = mul i64 %i, %stride
  %block = getelementptr i8, ptr %blocks, i64 %off
  call void %fn(ptr %block)
  %next = add i64 %i, 1
  %more = icmp slt i64 %next, %n
  br i1 %more, label %loop, label %done
done:
  ret void
}
"""
RUN_BLOCKS_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
                                   ctypes.c_int64)  # fmt: skip
_run_blocks = None


def run_blocks():
    """The native loop `run_blocks(kernel_address, blocks, n, stride_bytes)`: calls a kernel
    on n argument blocks in one foreign call (compiled once per process)."""
    global _run_blocks
    if _run_blocks is not None:
        return _run_blocks[0]
    with _runtime_lock:
        if _run_blocks is None:
            engine = Engine("none", 2)
            (address,) = engine.add_ir(_RUN_BLOCKS_IR, ["amlz_run_blocks"])
            _run_blocks = (RUN_BLOCKS_TYPE(address), engine)
        return _run_blocks[0]


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
        self._multi: dict[tuple[Program, MemorySpec, int, bool], Kernel] = {}
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
    ) -> list[Kernel]:
        """`compile_multi` for many programs, the uncached ones in shared modules."""
        K, final = int(tasks), bool(final_memory)
        with self._lock:
            todo = [p for p in dict.fromkeys(programs) if (p, memory, K, final) not in self._multi]
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
                    multi_kernel_ir(p, memory, n, K, self.unroll, final_memory=final)
                    for p, n in zip(chunk, names, strict=True)
                ]
                addresses = e.add_ir(module_ir(bodies), names, verify=self.verify)
                for prog, name, address in zip(chunk, names, addresses, strict=True):
                    self._multi[(prog, memory, K, final)] = Kernel(
                        name, memory, address, e, mode="multi", tasks=K, final_memory=final
                    )
                    self.compiled += 1
            return [self._multi[(p, memory, K, final)] for p in programs]

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
