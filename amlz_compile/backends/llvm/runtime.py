"""The native runtime (SplitMix64 generator, sigmoid) as LLVM IR text, shipped in the package.

The single source is `amlz_compile/runtime/amlz_runtime.ll`; its README states the ABI.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

RUNTIME_FILE = "amlz_runtime.ll"

# Entry points the runtime defines (all `internal alwaysinline`).
ENTRY_POINTS = (
    "amlz_rng_next",
    "amlz_rng_unit",
    "amlz_rng_open_unit",
    "amlz_rng_uniform",
    "amlz_rng_gaussian",
    "amlz_sigmoid",
)


@cache
def runtime_ir() -> str:
    """The runtime's LLVM IR text."""
    return resources.files("amlz_compile").joinpath("runtime", RUNTIME_FILE).read_text()
