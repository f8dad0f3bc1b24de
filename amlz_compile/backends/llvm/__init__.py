"""The LLVM JIT backend: programs -> LLVM IR text -> native kernels through llvmlite.

Public API: `JitBackend` (name "jit", the `Backend` protocol), `JitCompiler` (compile, compile_many,
cache, engine recycling; `mode` "fused" | "driver" | "auto"), `default_compiler()`, `Kernel`,
`run_kernel`, `kernel_ir` (the IR of one fused kernel), `driver_ir` / `program_ir` (driver mode:
the shared skeleton and one program's component functions), `RENDER` (one template per op
number) and `runtime_ir()` (the native runtime).
"""

from .backend import NAME, JitBackend, run_kernel
from .codegen import ARGS, kernel_ir
from .driver import BlockLayout, driver_ir, program_ir
from .engine import MODES, Engine, JitCompiler, Kernel, default_compiler, module_ir
from .render import RENDER, const_index
from .runtime import runtime_ir

__all__ = [
    "ARGS",
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
    "module_ir",
    "program_ir",
    "run_kernel",
    "runtime_ir",
]
