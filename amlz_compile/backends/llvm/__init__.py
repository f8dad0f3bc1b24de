"""The LLVM JIT backend: programs -> LLVM IR text -> native kernels through llvmlite.

Public API: `JitBackend` (name "jit", the `Backend` protocol), `JitCompiler` (compile, compile_many,
cache, engine recycling), `default_compiler()`, `Kernel`, `run_kernel`, `kernel_ir` (the IR of
one kernel), `RENDER` (one template per op number) and `runtime_ir()` (the native runtime).
"""

from .backend import NAME, JitBackend, run_kernel
from .codegen import ARGS, kernel_ir
from .engine import Engine, JitCompiler, Kernel, default_compiler, module_ir
from .render import RENDER, const_index
from .runtime import runtime_ir

__all__ = [
    "ARGS",
    "NAME",
    "RENDER",
    "Engine",
    "JitBackend",
    "JitCompiler",
    "Kernel",
    "const_index",
    "default_compiler",
    "kernel_ir",
    "module_ir",
    "run_kernel",
    "runtime_ir",
]
