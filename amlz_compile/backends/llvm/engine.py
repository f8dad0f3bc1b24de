"""MCJIT engines, the compiled-kernel cache and batch compilation.

Facts this module is built around (measured on this machine class, llvmlite 0.50 / LLVM 22):
- emitting IR text and parsing it is far cheaper than llvmlite.ir builders;
- each execution engine owns its TargetMachine (sharing one between engines segfaulted);
- MCJIT never frees code added to an engine, so the compiler *recycles* engines: after
  `recycle_programs` kernels (or `recycle_bytes` of IR) a fresh engine takes new work; the old
  engine is freed when the last `Kernel` that references it is gone;
- many kernels in one module amortise the fixed cost of a module (`compile_many`).

Optimisation: the IR pipeline (`pipeline`: "light" = always-inline + SROA + instcombine +
simplifycfg, or LLVM's "O1".."O3") and the machine-code level (`codegen_opt`). The default
"auto" uses light/codegen 0 for F <= 4 (programs that are cheap to run: compile cost dominates)
and O3/codegen 2 above. Measured (CPU ms, machine load average 7-10, so ~4x inflated):
demo programs (F = 4, 64 per module) compile in 10.7 ms (light/cg0), 27 (light/cg2), 30-57 (O1),
46-64 (O2/O3); NEURAL_NET at F = 16 compiles in 110 ms (light/cg2) vs 480 ms (O3/cg2) and runs
the paper workload in 135 ms vs 46 ms (`llvm_bench.optimisation_grid` re-measures).
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
from .runtime import runtime_ir

KERNEL_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_void_p)

PIPELINES = ("light", "O1", "O2", "O3")
DEFAULT_PIPELINE = "auto"
DEFAULT_CODEGEN_OPT = 2
# "auto": cheap compilation where programs are cheap to run (small F), full optimisation where
# run time dominates (measured: see llvm_bench.optimisation_grid and the module docstring).
AUTO_SMALL_F = 4
AUTO_SMALL = ("light", 0)
AUTO_LARGE = ("O3", 2)
DEFAULT_RECYCLE_PROGRAMS = 2000
DEFAULT_RECYCLE_BYTES = 256 * 1024 * 1024
DEFAULT_BATCH = 256

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

    def __init__(self, pipeline: str = "light", codegen_opt: int = DEFAULT_CODEGEN_OPT):
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
        self.engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), self.target_machine)
        self.programs = 0
        self.ir_bytes = 0

    def add_ir(self, text: str, names: Sequence[str]) -> list[int]:
        """Parse, optimise and JIT one module; return the addresses of `names`."""
        module = llvm.parse_assembly(text)
        module.triple = self.target_machine.triple
        module.data_layout = str(self.target_machine.target_data)
        module.verify()
        self.optimise(module)
        self.engine.add_module(module)
        self.engine.finalize_object()
        self.programs += len(names)
        self.ir_bytes += len(text)
        return [self.engine.get_function_address(n) for n in names]

    def optimise(self, module) -> None:
        """Run the IR pipeline: "light" = inline the runtime, SROA (memory to registers),
        instcombine, simplifycfg; "O1".."O3" = LLVM's standard pipelines."""
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
    """A compiled program: call it with the address of an argument block (see codegen.ARGS)."""

    name: str
    memory: MemorySpec
    address: int
    engine: Engine = field(repr=False)  # keeps the engine (and so the code) alive
    cfunc: object = field(repr=False, default=None)

    on_stack: bool = True  # memory in allocas (else the kernel needs the scratch slot)

    def __post_init__(self) -> None:
        self.cfunc = KERNEL_TYPE(self.address)

    def __call__(self, args_address: int) -> None:
        self.cfunc(args_address)


def module_ir(bodies: Sequence[str]) -> str:
    """One module: the runtime, the external declarations and the kernel functions."""
    return "\n".join([runtime_ir(), DECLARATIONS, *bodies])


class JitCompiler:
    """Compiles programs to kernels, caches them by (program, memory) and recycles engines.

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
    ) -> None:
        if pipeline != "auto" and pipeline not in PIPELINES:
            raise ValueError(
                f"unknown optimisation pipeline {pipeline!r} (choose from auto, {PIPELINES})"
            )
        self.pipeline = pipeline
        self.codegen_opt = codegen_opt
        self.recycle_programs = recycle_programs
        self.recycle_bytes = recycle_bytes
        self.unroll = unroll
        self.batch = batch
        self._lock = threading.RLock()
        self._cache: dict[tuple[Program, MemorySpec], Kernel] = {}
        self._engines: dict[tuple[str, int], Engine] = {}
        self._names = itertools.count()
        self.engines_created = 0
        self.compiled = 0
        self.hits = 0

    def settings(self, memory: MemorySpec) -> tuple[str, int]:
        """(IR pipeline, codegen level) used for kernels of this memory spec."""
        if self.pipeline == "auto":
            pipeline, cg = AUTO_SMALL if memory.features <= AUTO_SMALL_F else AUTO_LARGE
        else:
            pipeline, cg = self.pipeline, DEFAULT_CODEGEN_OPT
        return pipeline, (cg if self.codegen_opt is None else self.codegen_opt)

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
                self._cache = {k: v for k, v in self._cache.items() if v.engine is not old}
            e = self._engines[key] = Engine(*key)
            self.engines_created += 1
            return e

    def recycle(self) -> None:
        """Drop every engine and the whole cache (code is freed when no Kernel refers to it)."""
        with self._lock:
            self._cache.clear()
            self._engines.clear()

    # -- compiling ----------------------------------------------------------------------------
    def cached(self, program: Program, memory: MemorySpec) -> Kernel | None:
        """The cached kernel for (program, memory), or None."""
        return self._cache.get((program, memory))

    def compile(self, program: Program, memory: MemorySpec) -> Kernel:
        """The kernel of one program (compiled now unless cached)."""
        return self.compile_many([program], memory)[0]

    def compile_many(self, programs: Sequence[Program], memory: MemorySpec) -> list[Kernel]:
        """Kernels for many programs; the uncached ones are compiled in shared modules."""
        with self._lock:
            out: list[Kernel | None] = []
            todo: dict[Program, list[int]] = {}
            for pos, prog in enumerate(programs):
                hit = self._cache.get((prog, memory))
                if hit is not None:
                    self.hits += 1
                else:
                    todo.setdefault(prog, []).append(pos)
                out.append(hit)
            pending = list(todo)
            while pending:
                engine = self.engine(memory)
                room = max(1, min(self.batch, self.recycle_programs - engine.programs))
                chunk, pending = pending[:room], pending[room:]
                names = [f"amlz_k{next(self._names)}" for _ in chunk]
                bodies = [
                    kernel_ir(p, memory, n, self.unroll) for p, n in zip(chunk, names, strict=True)
                ]
                addresses = engine.add_ir(module_ir(bodies), names)
                for prog, name, addr in zip(chunk, names, addresses, strict=True):
                    kernel = Kernel(name, memory, addr, engine, on_stack=uses_stack(memory))
                    self._cache[(prog, memory)] = kernel
                    self.compiled += 1
                    for pos in todo[prog]:
                        out[pos] = kernel
            return out  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self._cache)


_default: JitCompiler | None = None
_default_lock = threading.Lock()


def default_compiler() -> JitCompiler:
    """The process-wide compiler (one long-lived engine, recycled as it fills)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = JitCompiler()
        return _default
