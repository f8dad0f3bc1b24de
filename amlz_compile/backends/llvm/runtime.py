"""The native runtime (SplitMix64 generator, sigmoid) as LLVM IR text, shipped in the package.

The single source is the repository's `runtime/amlz_runtime.ll` (shipped in the wheel as
`amlz_compile/runtime/`); `runtime/README.md` states the ABI.
Fused kernels and driver skeletons paste the runtime into their module (the optimiser inlines
it). Driver-mode program modules, compiled by the hundred with no IR passes, instead *declare*
the entry points they call (`linked_prelude`): one exported copy of the runtime, compiled once
per process (`exported_runtime_ir`), is registered under the entry points' names
(`engine.link_runtime`), which saves parsing and compiling the runtime in every module.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

RUNTIME_FILE = "amlz_runtime.ll"

# Entry points the runtime defines (all `internal alwaysinline`), with their LLVM signatures.
SIGNATURES = {
    "amlz_rng_next": ("i64", "ptr"),
    "amlz_rng_unit": ("double", "ptr"),
    "amlz_rng_open_unit": ("double", "ptr"),
    "amlz_rng_uniform": ("double", "ptr", "double", "double"),
    "amlz_rng_gaussian": ("double", "ptr", "double", "double"),
    "amlz_sigmoid": ("double", "double"),
}
ENTRY_POINTS = tuple(SIGNATURES)
EXPORT_PREFIX = "amlz_export_"

# What a module that does not paste the runtime needs: the libm attribute group (#90 =
# nobuiltin, see the runtime's header), the libm functions, and the entry points as externals.
_LIBM_DECLARATIONS = """\
attributes #90 = { nobuiltin nounwind }
declare double @log(double)
declare double @cos(double)
declare double @exp(double)
declare double @llvm.sqrt.f64(double)
"""


@cache
def runtime_path() -> Traversable:
    """Where `amlz_runtime.ll` is: in the installed package (the wheel maps the repository's
    top-level `runtime/` to `amlz_compile/runtime/`), else in the `runtime/` folder beside the
    package of a source checkout (an editable install, or the checkout on PYTHONPATH)."""
    installed = resources.files("amlz_compile").joinpath("runtime", RUNTIME_FILE)
    if installed.is_file():
        return installed
    checkout = Path(__file__).resolve().parents[3] / "runtime" / RUNTIME_FILE
    if checkout.is_file():
        return checkout
    raise FileNotFoundError(f"{RUNTIME_FILE} is in neither {installed} nor {checkout}")


@cache
def runtime_ir() -> str:
    """The runtime's LLVM IR text."""
    return runtime_path().read_text(encoding="utf-8")


@cache
def exported_runtime_ir() -> str:
    """The runtime plus one external wrapper `@amlz_export_<name>` per entry point."""
    parts = [runtime_ir()]
    for name, (ret, *params) in SIGNATURES.items():
        formals = ", ".join(f"{ty} %a{k}" for k, ty in enumerate(params))
        parts.append(
            f"define {ret} @{EXPORT_PREFIX}{name[5:]}({formals}) {{\n"
            f"  %r = call {ret} @{name}({formals})\n  ret {ret} %r\n}}\n"
        )
    return "\n".join(parts)


@cache
def linked_prelude() -> str:
    """Declarations for a module that calls the runtime without pasting it (see the module
    docstring): the libm attribute group and functions, and the entry points as externals."""
    decls = [
        f"declare {ret} @{name}({', '.join(params)})" for name, (ret, *params) in SIGNATURES.items()
    ]
    return _LIBM_DECLARATIONS + "\n".join(decls) + "\n"
