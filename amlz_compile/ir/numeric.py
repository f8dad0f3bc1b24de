"""The numeric rules shared by every backend, each written once in Python and compiled by numba.

`float_to_index` is the reference's FloatToIndex (the element a const-set op writes);
`draws` / `uses_uniform_constant` say whether an instruction consumes the generator stream
(docs/semantics.md#shared-numeric-rules). The `nb_*` twins are the same functions compiled by numba,
for kernels; importing this module imports numba, so light modules import `ir.ops` instead.
`float_bits` reads a double's IEEE bits in compiled code (hashing, argument blocks).
"""

from __future__ import annotations

from llvmlite import ir as llvm_ir
from numba import njit, types
from numba.extending import intrinsic

from .ops import draws, float_to_index, uses_uniform_constant

_NB = {"cache": True, "error_model": "numpy", "inline": "always"}
nb_float_to_index = njit(**_NB)(float_to_index)
nb_draws = njit(**_NB)(draws)
nb_uses_uniform_constant = njit(**_NB)(uses_uniform_constant)


@intrinsic
def float_bits(typingctx, x):
    """The IEEE bits of float64 `x` as an int64: a bitcast, which allocates nothing, so code
    compiled without reference counting may use it (`uint64(...)` of it keeps the bits)."""
    sig = types.int64(types.float64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llvm_ir.IntType(64))

    return sig, codegen
