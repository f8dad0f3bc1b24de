"""Program -> native task kernels in LLVM IR text (the full task-kernel contract).

One *skeleton* (`skeleton_ir`) implements `backends/__init__.py`'s contract exactly as the
interpreter's `_run` does: wipe, seed, Setup, epochs of training steps (sigmoid into s1 for
accuracy tasks, fail on NaN or |err| > max), validation (loss sums, NaN on a failed pass), trace,
counts. It takes one pointer to an argument block of 8-byte slots (layout `ARGS`, documented in
`amlz_compile/runtime/README.md`). What differs between compilation modes is a `Layout`: where
memory lives and how a component (Setup, Predict, Learn) runs. Two layouts exist:

- fused (`kernel_ir`, this module): one kernel per program, its instructions inlined into the
  skeleton, so the optimiser sees the whole loop (best run time, costly to compile);
- driver (`driver.py`): one skeleton per memory spec calling each program's Setup/Predict/Learn
  functions through pointers in the argument block (cheap to compile per program).

Fused memory lives in `alloca`s (one per scalar, vector and matrix address, so the optimiser
keeps scalars and short vectors in registers; matrices column-major so that matrix-vector
products, outer products and matrix products vectorise without reordering any sum) when it is
small, and directly in the caller's arrays (row-major) when it is large (big F); the final
memory is always left in the caller's arrays, row-major.
"""

from __future__ import annotations

from typing import Protocol

from ...ir.program import MemorySpec, Program
from .emitter import Emitter, fconst
from .render import render_instruction

# Argument block: one 8-byte slot each, in this order (pointers, i64 counts, one double).
ARGS = (
    ("scalars", "ptr"),  # float64[nS]           in/out: final memory
    ("vectors", "ptr"),  # float64[nV, F]
    ("matrices", "ptr"),  # float64[nM, F, F]
    ("train_x", "ptr"),  # float64[N, F]
    ("train_y", "ptr"),  # float64[N]
    ("orders", "ptr"),  # int32[E, N]
    ("num_train", "i64"),  # N
    ("total_steps", "i64"),  # min(n_train_steps, E*N), clamped by the caller
    ("valid_x", "ptr"),  # float64[V, F]
    ("valid_y", "ptr"),  # float64[V]
    ("n_valid", "i64"),  # <= V, clamped by the caller
    ("is_accuracy", "i64"),  # 0 or 1
    ("max_abs_error", "double"),
    ("rng_seed", "i64"),  # uint64 bits
    ("epoch_loss", "ptr"),  # float64[E]              out
    ("trace", "ptr"),  # float64[T]                out
    ("trace_len", "i64"),  # T
    ("counts", "ptr"),  # int64[3]                  out: epochs_validated, trace_written, steps
    ("scratch", "ptr"),  # large-memory kernels only: float64[Kernel.scratch_doubles]
    ("setup_fn", "ptr"),  # driver kernels only: void(ptr block) per component, or null
    ("predict_fn", "ptr"),
    ("learn_fn", "ptr"),
)
SLOT = {name: k for k, (name, _) in enumerate(ARGS)}
NUM_SLOTS = len(ARGS)
COMPONENTS = ("setup", "predict", "learn")

# Memory (vectors + matrices + scratch) up to this many bytes lives on the kernel's stack.
STACK_LIMIT_BYTES = 128 * 1024

# External functions the kernels call (the runtime declares log, cos, exp and llvm.sqrt).
DECLARATIONS = """\
declare double @sin(double)
declare double @tan(double)
declare double @asin(double)
declare double @acos(double)
declare double @atan(double)
declare double @llvm.fabs.f64(double)
declare void @llvm.memset.p0.i64(ptr, i8, i64, i1)
declare void @llvm.memcpy.p0.p0.i64(ptr, ptr, i64, i1)
"""


# Training/validation examples are prefetched this many steps ahead, at most this many bytes
# of each feature row (a longer row streams on the hardware prefetcher).
PREFETCH_AHEAD = 8
PREFETCH_ROW_BYTES = 512


def _prefetch_offsets(F: int) -> list[int]:
    """Byte offsets whose cache lines cover a row's first PREFETCH_ROW_BYTES (rows may start
    anywhere in a line, hence the last byte)."""
    n = min(F * 8, PREFETCH_ROW_BYTES)
    return sorted(set(range(0, n, 64)) | {n - 1})


def uses_stack(memory: MemorySpec) -> bool:
    """Whether the kernel keeps memory in allocas (True) or in the caller's arrays."""
    F = memory.features
    doubles = memory.vectors * F + memory.matrices * F * F + F + F * F
    return doubles * 8 <= STACK_LIMIT_BYTES


class Layout(Protocol):
    """Where a kernel's memory lives and how it runs a component (the skeleton's hooks).

    `memory` defines `%S<k>`, `%V<k>`, `%M<k>`, `%TV`, `%TM` and `%RNG` (pointers); `wipe`
    zeroes the memory; `run` executes one component; `results` copies the final memory to the
    caller's arrays (slots scalars, vectors, matrices, row-major). `calls_components`: the
    skeleton loads the component-function slots (driver layouts).
    """

    calls_components: bool

    def memory(self, e: Emitter, arg: dict[str, str]) -> None: ...

    def wipe(self, e: Emitter, arg: dict[str, str]) -> None: ...

    def run(self, e: Emitter, arg: dict[str, str], component: str) -> None: ...

    def results(self, e: Emitter, arg: dict[str, str]) -> None: ...


def skeleton_ir(name: str, e: Emitter, layout: Layout) -> str:
    """The kernel function `name`: the task-kernel contract around `layout`'s hooks."""
    arg = {}
    for k, (slot, ty) in enumerate(ARGS):
        if k < SLOT["setup_fn"] or layout.calls_components:
            arg[slot] = e.load(e.gep("%args", k, "i64"), 0, ty)
    layout.memory(e, arg)
    loop_vars = {}
    for var, ty in (("rem", "i64"), ("ep", "i64"), ("k", "i64"), ("tw", "i64"), ("steps", "i64"),
                    ("vi", "i64"), ("loss", "double")):  # fmt: skip
        loop_vars[var] = f"%{var}.p"
        e.emit(f"%{var}.p = alloca {ty}")

    # wipe, seed, zero the counters
    layout.wipe(e, arg)
    e.store(arg["rng_seed"], "%RNG", 0, "i64")
    for var in ("ep", "tw", "steps"):
        e.emit(f"store i64 0, ptr {loop_vars[var]}")
    is_acc = e.op(f"icmp ne i64 {arg['is_accuracy']}, 0")
    max_err = arg["max_abs_error"]
    F = e.F

    def load_features(src: str, row: str) -> None:
        xrow = e.op(f"getelementptr inbounds double, ptr {src}, i64 {e.index(row, F)}")
        e.chunks(F, None, lambda o, w, _: e.vstore(e.vload(xrow, o, w), "%V0", o, w))

    def prefetch_example(xs: str, ys: str, row: str) -> None:
        """Ask for example `row`'s features and label PREFETCH_AHEAD steps early: a step's
        feature loads start its dependency chain, so a cache miss there costs its full latency
        (plain GEPs: a prefetch of any address is harmless)."""
        xrow = e.op(f"getelementptr i8, ptr {xs}, i64 {e.index(row, F * 8)}")
        for off in _prefetch_offsets(F):
            e.emit(f"call void @llvm.prefetch.p0(ptr {e.gep_i8(xrow, off)}, i32 0, i32 3, i32 1)")
        yp = e.op(f"getelementptr double, ptr {ys}, i64 {row}")
        e.emit(f"call void @llvm.prefetch.p0(ptr {yp}, i32 0, i32 3, i32 1)")

    def write_trace(value: str) -> None:
        tw = e.load(loop_vars["tw"], 0, "i64")
        room = e.op(f"icmp slt i64 {tw}, {arg['trace_len']}")
        yes, after = e.label("trace"), e.label("traced")
        e.cbr(room, yes, after)
        e.block(yes)
        e.store(value, arg["trace"], tw)
        e.store(e.op(f"add i64 {tw}, 1"), loop_vars["tw"], 0, "i64")
        e.br(after)
        e.block(after)

    def sigmoid(x: str) -> str:
        return e.op(f"call double @amlz_sigmoid(double {x})")

    finish, setup_lbl = "finish", "setup"
    has_steps = e.op(f"icmp sgt i64 {arg['total_steps']}, 0")
    e.cbr(has_steps, setup_lbl, finish)

    # -- Setup, then epochs ---------------------------------------------------------------------
    e.block(setup_lbl)
    layout.run(e, arg, "setup")
    e.store(arg["total_steps"], loop_vars["rem"], 0, "i64")
    e.br("epoch")

    e.block("epoch")
    rem = e.load(loop_vars["rem"], 0, "i64")
    e.cbr(e.op(f"icmp sgt i64 {rem}, 0"), "epoch_body", finish)
    e.block("epoch_body")
    ep = e.load(loop_vars["ep"], 0, "i64")
    N = arg["num_train"]
    short = e.op(f"icmp slt i64 {rem}, {N}")
    n_this = e.op(f"select i1 {short}, i64 {rem}, i64 {N}")
    order_row = e.op(
        f"getelementptr inbounds i32, ptr {arg['orders']}, i64 {e.op(f'mul i64 {ep}, {N}')}"
    )
    e.store("0", loop_vars["k"], 0, "i64")
    e.br("train")

    # training step
    e.block("train")
    k = e.load(loop_vars["k"], 0, "i64")
    e.cbr(e.op(f"icmp slt i64 {k}, {n_this}"), "train_step", "train_done")
    e.block("train_step")
    idx = e.op(f"sext i32 {e.load(order_row, k, 'i32')} to i64")
    ahead = e.op(f"add i64 {k}, {PREFETCH_AHEAD}")
    k_ahead = e.op(f"select i1 {e.op(f'icmp slt i64 {ahead}, {n_this}')}, i64 {ahead}, i64 {k}")
    idx_ahead = e.op(f"sext i32 {e.load(order_row, k_ahead, 'i32')} to i64")
    prefetch_example(arg["train_x"], arg["train_y"], idx_ahead)
    steps = e.load(loop_vars["steps"], 0, "i64")
    e.store(e.op(f"add i64 {steps}, 1"), loop_vars["steps"], 0, "i64")
    load_features(arg["train_x"], idx)
    e.s_store(0, fconst(0.0))
    layout.run(e, arg, "predict")
    e.cbr(is_acc, "train_sig", "train_check")
    e.block("train_sig")
    e.s_store(1, sigmoid(e.s_load(1)))
    e.br("train_check")
    e.block("train_check")
    s1 = e.s_load(1)
    write_trace(s1)
    y = e.load(arg["train_y"], idx)
    err = e.op(f"call double @llvm.fabs.f64(double {e.op(f'fsub double {y}, {s1}')})")
    e.cbr(e.op(f"fcmp ugt double {err}, {max_err}"), finish, "learn")
    e.block("learn")
    load_features(arg["train_x"], idx)
    e.s_store(0, y)
    layout.run(e, arg, "learn")
    e.store(e.op(f"add i64 {k}, 1"), loop_vars["k"], 0, "i64")
    e.br("train")

    # validation
    e.block("train_done")
    e.store(e.op(f"sub i64 {rem}, {N}"), loop_vars["rem"], 0, "i64")
    e.store(fconst(0.0), loop_vars["loss"])
    e.store("0", loop_vars["vi"], 0, "i64")
    e.br("valid")
    e.block("valid")
    vi = e.load(loop_vars["vi"], 0, "i64")
    e.cbr(e.op(f"icmp slt i64 {vi}, {arg['n_valid']}"), "valid_step", "valid_done")
    e.block("valid_step")
    prefetch_example(arg["valid_x"], arg["valid_y"], e.op(f"add i64 {vi}, {PREFETCH_AHEAD}"))
    load_features(arg["valid_x"], vi)
    e.s_store(0, fconst(0.0))
    layout.run(e, arg, "predict")
    s1 = e.s_load(1)
    write_trace(s1)
    y = e.load(arg["valid_y"], vi)
    e.cbr(is_acc, "valid_acc", "valid_rms")
    e.block("valid_acc")
    p = sigmoid(s1)
    same = e.op(
        f"icmp eq i1 {e.op(f'fcmp ogt double {y}, 0.5')}, {e.op(f'fcmp ogt double {p}, 0.5')}"
    )
    acc_err = e.op(f"select i1 {same}, double {fconst(0.0)}, double {fconst(1.0)}")
    e.br("valid_add")
    e.block("valid_rms")
    rms_err = e.op(f"fsub double {y}, {s1}")
    rms_sq = e.op(f"fmul double {rms_err}, {rms_err}")
    e.br("valid_add")
    e.block("valid_add")
    verr = e.op(f"phi double [{acc_err}, %valid_acc], [{rms_err}, %valid_rms]")
    vsq = e.op(f"phi double [{acc_err}, %valid_acc], [{rms_sq}, %valid_rms]")
    bad = e.op(f"fcmp ugt double {e.op(f'call double @llvm.fabs.f64(double {verr})')}, {max_err}")
    e.cbr(bad, "valid_fail", "valid_ok")
    e.block("valid_fail")
    e.store(fconst(float("nan")), loop_vars["loss"])
    e.br("valid_done")
    e.block("valid_ok")
    loss = e.load(loop_vars["loss"])
    e.store(e.op(f"fadd double {loss}, {vsq}"), loop_vars["loss"])
    e.store(e.op(f"add i64 {vi}, 1"), loop_vars["vi"], 0, "i64")
    e.br("valid")
    e.block("valid_done")
    e.store(e.load(loop_vars["loss"]), arg["epoch_loss"], ep)
    e.store(e.op(f"add i64 {ep}, 1"), loop_vars["ep"], 0, "i64")
    e.br("epoch")

    # -- results --------------------------------------------------------------------------------
    e.block(finish)
    for slot, var in enumerate(("ep", "tw", "steps")):
        e.store(e.load(loop_vars[var], 0, "i64"), arg["counts"], slot, "i64")
    layout.results(e, arg)
    e.emit("ret void")

    body = "\n".join(e.lines)
    return f"define void @{name}(ptr noalias readonly %args) {{\nentry:\n{body}\n}}\n"


class FusedLayout:
    """One program inlined: memory in allocas (small) or the caller's arrays (large)."""

    calls_components = False

    def __init__(
        self,
        program: Program,
        memory: MemorySpec,
        promote_matrices: bool = True,
        final_memory: bool = True,
    ) -> None:
        self.components = program.components()
        self.final_memory = final_memory  # False: `results` writes nothing (fitness-only)
        self.spec = memory
        self.stack = uses_stack(memory)
        # False: the results copy indexes %M<k> dynamically, so SROA leaves matrices in memory
        self.promote_matrices = promote_matrices
        self.bases: list[tuple[str, int]] = []

    def memory(self, e: Emitter, arg: dict[str, str]) -> None:
        F, nS, nV, nM = self.spec.features, self.spec.scalars, self.spec.vectors, self.spec.matrices
        vbytes, mbytes = F * 8, F * F * 8
        for k in range(nS):
            e.emit(f"%S{k} = alloca double")
        e.emit("%RNG = alloca i64")
        if self.stack:
            for k in range(nV):
                e.emit(f"%V{k} = alloca [{F} x double], align 64")
            for k in range(nM):
                e.emit(f"%M{k} = alloca [{F * F} x double], align 64")
            e.emit(f"%TV = alloca [{F} x double], align 64")
            e.emit(f"%TM = alloca [{F * F} x double], align 64")
            self.bases = [(f"%V{k}", vbytes) for k in range(nV)]
            self.bases += [(f"%M{k}", mbytes) for k in range(nM)]
        else:
            vectors, matrices = arg["vectors"], arg["matrices"]
            for k in range(nV):
                e.emit(f"%V{k} = getelementptr inbounds double, ptr {vectors}, i64 {k * F}")
            for k in range(nM):
                e.emit(f"%M{k} = getelementptr inbounds double, ptr {matrices}, i64 {k * F * F}")
            e.emit(f"%TV = getelementptr inbounds double, ptr {arg['scratch']}, i64 0")
            e.emit(f"%TM = getelementptr inbounds double, ptr {arg['scratch']}, i64 {F}")
            self.bases = [(vectors, nV * vbytes)] if nV else []
            self.bases += [(matrices, nM * mbytes)] if nM else []

    def wipe(self, e: Emitter, arg: dict[str, str]) -> None:
        for k in range(self.spec.scalars):
            e.s_store(k, fconst(0.0))
        for base, nbytes in self.bases:
            e.emit(f"call void @llvm.memset.p0.i64(ptr {base}, i8 0, i64 {nbytes}, i1 false)")

    def run(self, e: Emitter, arg: dict[str, str], component: str) -> None:
        for ins in self.components[component]:
            render_instruction(e, ins)

    def results(self, e: Emitter, arg: dict[str, str]) -> None:
        if not self.final_memory:
            return
        F = self.spec.features
        for k in range(self.spec.scalars):
            e.store(e.s_load(k), arg["scalars"], k)
        if not self.stack:
            return
        for k in range(self.spec.vectors):
            dst = e.gep(arg["vectors"], k * F)
            e.emit(f"call void @llvm.memcpy.p0.p0.i64(ptr {dst}, ptr %V{k}, i64 {F * 8}, i1 false)")
        for k in range(self.spec.matrices):  # column-major on the stack -> row-major for the caller
            # (through the scratch: %M<k> itself is only addressed at constant offsets)
            src = "%TM" if self.promote_matrices else f"%M{k}"
            if self.promote_matrices:
                e.chunks(
                    F * F,
                    None,
                    lambda o, w, _, k=k, src=src: e.vstore(e.vload(f"%M{k}", o, w), src, o, w),
                )
            dst = e.gep(arg["matrices"], k * F * F)
            e.loop(
                F,
                lambda i, dst=dst, src=src: e.loop(
                    F, lambda j: e.store(e.load(src, e.mat(i, j)), dst, e.index(i, F, j))
                ),
            )


def kernel_ir(
    program: Program, memory: MemorySpec, name: str, unroll: int = 4, final_memory: bool = True
) -> str:
    """The LLVM IR text of the fused kernel function `name` (no runtime, no declarations).

    `final_memory=False`: a fitness-only kernel that leaves the caller's memory arrays alone
    (stack memory only: nothing then reads the memory after the last step, so the optimiser
    drops the stores of values the next step overwrites)."""
    program.check_fits(memory)
    e = Emitter(memory.features, unroll, col_major=uses_stack(memory))
    layout = FusedLayout(program, memory, final_memory=final_memory)
    return skeleton_ir(name, e, layout)
