"""MCJIT engines and compiled kernels (the compiler that fills them is `compiler.JitCompiler`).

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

from ...ir.program import MemorySpec
from .codegen import DECLARATIONS
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
