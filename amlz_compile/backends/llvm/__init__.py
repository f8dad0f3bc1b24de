"""The LLVM JIT backend: programs -> LLVM IR text -> native kernels through llvmlite.

Public API: `JitBackend` (name "jit", the `Backend` protocol), `JitCompiler` (compile, compile_many,
cache, engine recycling; `mode` "fused" | "driver" | "auto"), `default_compiler()`, `Kernel`,
`run_kernel`, `kernel_ir` (the IR of one fused kernel), `multi_kernel_ir` / `run_kernel_multi` /
`JitBackend.run_tasks` (K tasks in lockstep in one kernel; `run_blocks`: many tasks per call),
`driver_ir` / `program_ir` (driver mode: the shared skeleton and one program's component
functions), `RENDER` (one template per op number) and `runtime_ir()` (the native runtime).
"""

from .backend import LOCKSTEP_K, NAME, JitBackend, lockstep_key, run_kernel, run_kernel_multi
from .codegen import ARGS, kernel_ir
from .compiler import JitCompiler, default_compiler
from .driver import BlockLayout, driver_ir, program_ir
from .engine import MODES, Engine, Kernel, module_ir, run_blocks
from .multi import multi_kernel_ir
from .render import RENDER, const_index
from .runtime import runtime_ir

__all__ = [
    "ARGS",
    "LOCKSTEP_K",
    "MODES",
    "BlockLayout",
    "NAME",
    "RENDER",
    "Engine",
    "JitBackend",
    "JitCompiler",
    "Kernel",
    "const_index",
    "default_compiler",
    "driver_ir",
    "kernel_ir",
    "lockstep_key",
    "module_ir",
    "multi_kernel_ir",
    "program_ir",
    "run_blocks",
    "run_kernel",
    "run_kernel_multi",
    "runtime_ir",
]
