"""Multi-task fused kernels: K tasks of one program in lockstep, in one native function.

One task's training step is a single long dependency chain (ordered sums, the sigmoid's `exp`,
Learn's updates feeding the next Predict), so a single-task kernel is latency-bound while the
core's units idle. The K tasks of an evaluation are independent: a lockstep kernel renders
every instruction of Setup/Predict/Learn for task 0, task 1, ... back to back (each task has
its own memory, renamed `%k<j>.S<k>`..., its own generator and argument block), so their
chains overlap in the out-of-order core. Arithmetic per task is exactly the single-task
kernel's. The skeleton is the single kernel's (`codegen.skeleton_ir` given K layouts), which
also states the lockstep rules: alive flags, cold failure paths, bail-out (`BAILED`) on a
failed validation pass.

ABI: `void @name(ptr %args)`, `%args` = K consecutive argument blocks (`codegen.ARGS`), slots
setup_fn.. unused; the tasks share num_train, total_steps, n_valid, trace_len and is_accuracy
(read from block 0); memory must fit the stack (`codegen.uses_stack`).
"""

from __future__ import annotations

from ...ir.program import MemorySpec, Program
from .codegen import FusedLayout, skeleton_ir, uses_stack
from .emitter import Emitter

# Matrices as SSA values (True) or left in stack memory (False): K tasks' matrices never fit
# the register file, and in memory they compile faster
# (docs/benchmarks.md#jit-kernels-and-the-runtime).
PROMOTE_MATRICES = False


def multi_kernel_ir(
    program: Program,
    memory: MemorySpec,
    name: str,
    tasks: int,
    unroll: int = 4,
    promote_matrices: bool = PROMOTE_MATRICES,
    final_memory: bool = True,
    given_memory: bool = False,
) -> str:
    """The LLVM IR of the K-task lockstep kernel `name` (no runtime, no declarations).

    `final_memory=False` makes a fitness-only kernel: counts, epoch losses and traces as
    always, but the final memory is not written out, so values the next step overwrites
    (Learn's temporaries) need no store at all, and the kernel compiles ~2.5x faster.
    `promote_matrices=False` keeps the matrices in stack memory (SROA leaves them) instead of
    SSA values the register allocator spills anyway (see PROMOTE_MATRICES)."""
    program.check_fits(memory)
    if not uses_stack(memory):
        raise ValueError("multi-task kernels need memory that fits the stack (uses_stack)")
    if tasks < 1:
        raise ValueError(f"a multi-task kernel runs at least one task, got {tasks}")
    e = Emitter(memory.features, unroll, col_major=True)
    layouts = [
        FusedLayout(program, memory, promote_matrices, final_memory, given_memory)
        for _ in range(tasks)
    ]
    return skeleton_ir(name, e, layouts)
