"""Calling a compiled kernel from numba code: the argument-block slots as constants, and an
intrinsic that calls a kernel by its address (the search calls its kernels this way, with no
Python between children; see `search/kernels.py`)."""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from .codegen import NUM_SLOTS, SLOT

# Slot numbers of the argument block (codegen.ARGS), as plain ints for compiled code.
SLOT_ADDR = tuple(SLOT[name] for name in ("scalars", "vectors", "matrices"))
S_TRAIN_X, S_TRAIN_Y, S_ORDERS = SLOT["train_x"], SLOT["train_y"], SLOT["orders"]
S_NUM_TRAIN, S_TOTAL_STEPS = SLOT["num_train"], SLOT["total_steps"]
S_VALID_X, S_VALID_Y, S_N_VALID = SLOT["valid_x"], SLOT["valid_y"], SLOT["n_valid"]
S_IS_ACCURACY, S_MAX_ABS_ERROR = SLOT["is_accuracy"], SLOT["max_abs_error"]
S_RNG_SEED = SLOT["rng_seed"]
S_EPOCH_LOSS, S_TRACE, S_TRACE_LEN = SLOT["epoch_loss"], SLOT["trace"], SLOT["trace_len"]
S_COUNTS, S_SCRATCH = SLOT["counts"], SLOT["scratch"]

__all__ = ["NUM_SLOTS", "SLOT_ADDR", "call_kernel"]


@intrinsic
def call_kernel(typingctx, address, block):
    """call_kernel(address, block): run the kernel at `address` (int64, from `Kernel.address`)
    on the argument block at address `block` (int64). The caller keeps the kernel (its engine)
    and every array the block points to alive for the call."""
    sig = types.void(types.int64, types.int64)

    def codegen(context, builder, signature, args):
        ptr = ir.IntType(8).as_pointer()
        fn = builder.inttoptr(args[0], ir.FunctionType(ir.VoidType(), [ptr]).as_pointer())
        builder.call(fn, [builder.inttoptr(args[1], ptr)])
        return context.get_dummy_value()

    return sig, codegen
