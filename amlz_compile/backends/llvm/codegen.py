"""Program -> native task kernels in LLVM IR text (the full task-kernel contract).

One *skeleton* (`skeleton_ir`) implements `backends/__init__.py`'s contract exactly as the
interpreter's `_machine` does: wipe, seed, Setup, epochs of training steps (sigmoid into s1 for
accuracy tasks, fail on NaN or |err| > max), validation (loss sums, NaN on a failed pass), trace,
counts. It takes one pointer to an argument block of 8-byte slots (layout `ARGS`, documented in
`runtime/README.md`). What differs between compilation modes is a `Layout`: where memory
lives and how a component (Setup, Predict, Learn) runs. Two layouts exist:

- fused (`kernel_ir`, this module): one kernel per program, its instructions inlined into the
  skeleton, so the optimiser sees the whole loop (best run time, costly to compile);
- driver (`driver.py`): one skeleton per memory spec calling each program's Setup/Predict/Learn
  functions through pointers in the argument block (cheap to compile per program).

Given K fused layouts, the same skeleton runs K tasks in lockstep (`multi.py`), one block each.

Fused memory lives in `alloca`s (one per scalar, vector and matrix address, so the optimiser
keeps scalars and short vectors in registers; matrices column-major so that matrix-vector
products, outer products and matrix products vectorise without reordering any sum) when it is
small, and directly in the caller's arrays (row-major) when it is large (big F); the final
memory is left in the caller's arrays, row-major (unless the kernel is fitness-only).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


BAILED = -1  # counts[0] of a lockstep task the caller must rerun alone (validation failure)


def skeleton_ir(name: str, e: Emitter, layouts: Sequence[Layout], params: str = "") -> str:
    """The kernel function `name`: the task-kernel contract for len(layouts) tasks, each with
    its own argument block (consecutive in `%args`) and memory (`layouts[j]`' hooks).
    `params`: more formal parameters after `%args` (text starting with ", "), for the hooks.

    One layout is the single-task kernel (fused or driver). Several run in lockstep (K tasks
    of one shape and one program, fused layouts whose memory the emitter renames per task,
    `%k<j>.S<k>`...: `multi.py`): every instruction is emitted for task 0, 1, ... back to back
    so that their dependency chains overlap; per task the arithmetic is exactly the single
    kernel's. Lockstep needs per-task state without branches in the hot blocks: an `alive`
    flag masks trace and epoch-loss stores (a dead task keeps computing garbage, never written
    out); a training failure branches to a cold block that writes that task's counts and memory
    as the single kernel's `finish` would, then marks it dead; a validation failure would end
    that task's pass early (its memory then leaves the lockstep), so the task *bails*:
    counts[0] = BAILED and the caller reruns it alone. The kernel returns once no task is alive.
    """
    K = len(layouts)
    J = range(K)
    lockstep = K > 1
    prefixes = [f"k{j}." if lockstep else "" for j in J]

    def each(j: int) -> None:  # memory names %S<k>, ... address task j's memory
        e.prefix = prefixes[j]

    def shared() -> None:
        e.prefix = ""

    args: list[dict[str, str]] = []
    for j in J:
        arg = {}
        for k, (slot, ty) in enumerate(ARGS):
            if k < SLOT["setup_fn"] or layouts[j].calls_components:
                arg[slot] = e.load(e.gep("%args", j * NUM_SLOTS + k, "i64"), 0, ty)
        args.append(arg)
    for j in J:
        each(j)
        layouts[j].memory(e, args[j])
    shared()
    var = {}
    for v, ty in (("rem", "i64"), ("ep", "i64"), ("k", "i64"), ("tw", "i64"), ("steps", "i64"),
                  ("vi", "i64"), ("n_alive", "i64")):  # fmt: skip
        var[v] = f"%{v}.p"
        e.emit(f"%{v}.p = alloca {ty}")
    alive = [f"%alive{j}.p" for j in J]
    loss = [f"%loss{j}.p" for j in J]
    for j in J:
        e.emit(f"{loss[j]} = alloca double")
        if lockstep:
            e.emit(f"{alive[j]} = alloca i1")
    if lockstep:
        e.emit("%sink = alloca double")  # target of masked stores (dead tasks)

    # wipe, seed, zero the counters
    for j in J:
        each(j)
        layouts[j].wipe(e, args[j])
        e.store(args[j]["rng_seed"], "%RNG", 0, "i64")
        shared()
        if lockstep:
            e.emit(f"store i1 true, ptr {alive[j]}")
    for v in ("ep", "tw", "steps"):
        e.emit(f"store i64 0, ptr {var[v]}")
    e.emit(f"store i64 {K}, ptr {var['n_alive']}")
    a0 = args[0]  # the shape every task shares
    is_acc = e.op(f"icmp ne i64 {a0['is_accuracy']}, 0")
    N, T = a0["num_train"], a0["trace_len"]
    F = e.F

    def run(component: str) -> None:
        if not lockstep:
            layouts[0].run(e, args[0], component)
            return
        for ins in layouts[0].components[component]:  # type: ignore[attr-defined]
            for j in J:
                each(j)
                render_instruction(e, ins)
        shared()

    def load_features(j: int, src: str, row: str) -> None:
        xrow = e.op(f"getelementptr inbounds double, ptr {src}, i64 {e.index(row, F)}")
        each(j)
        e.chunks(F, None, lambda o, w, _: e.vstore(e.vload(xrow, o, w), "%V0", o, w))
        shared()

    def prefetch(xs: str, ys: str, row: str) -> None:
        """Ask for example `row`'s features and label PREFETCH_AHEAD steps early: a step's
        feature loads start its dependency chain, so a cache miss there costs its full latency
        (plain GEPs: a prefetch of any address is harmless)."""
        xrow = e.op(f"getelementptr i8, ptr {xs}, i64 {e.index(row, F * 8)}")
        for off in _prefetch_offsets(F):
            e.emit(f"call void @llvm.prefetch.p0(ptr {e.gep_i8(xrow, off)}, i32 0, i32 3, i32 1)")
        yp = e.op(f"getelementptr double, ptr {ys}, i64 {row}")
        e.emit(f"call void @llvm.prefetch.p0(ptr {yp}, i32 0, i32 3, i32 1)")

    def s_load(j: int, k: int) -> str:
        each(j)
        x = e.s_load(k)
        shared()
        return x

    def s_store(j: int, k: int, x: str) -> None:
        each(j)
        e.s_store(k, x)
        shared()

    def target(j: int, ok: str | None, base: str, i: str) -> str:
        """&base[i], or the sink when task j is dead (lockstep)."""
        if ok is None:
            return e.gep(base, i)
        return e.op(f"select i1 {ok}, ptr {e.gep(base, i)}, ptr %sink")

    def alive_flags() -> list[str | None]:
        return [e.load(alive[j], 0, "i1") for j in J] if lockstep else [None]

    def write_traces(values: list[str], oks: list[str | None]) -> None:
        tw = e.load(var["tw"], 0, "i64")
        room = e.op(f"icmp slt i64 {tw}, {T}")
        yes, after = e.label("trace"), e.label("traced")
        e.cbr(room, yes, after)
        e.block(yes)
        for j in J:
            e.store(values[j], target(j, oks[j], args[j]["trace"], tw))
        e.store(e.op(f"add i64 {tw}, 1"), var["tw"], 0, "i64")
        e.br(after)
        e.block(after)

    def write_counts(j: int) -> None:
        for slot, v in enumerate(("ep", "tw", "steps")):
            e.store(e.load(var[v], 0, "i64"), args[j]["counts"], slot, "i64")

    def results(j: int) -> None:
        write_counts(j)
        each(j)
        layouts[j].results(e, args[j])
        shared()

    def kill(j: int) -> None:
        e.emit(f"store i1 false, ptr {alive[j]}")
        n = e.load(var["n_alive"], 0, "i64")
        e.store(e.op(f"sub i64 {n}, 1"), var["n_alive"], 0, "i64")

    def when(flag: str, yes: str, after: str, body: Callable[[], object]) -> None:
        """body() in block `yes`, run only when `flag` is set; code continues at `after`."""
        e.cbr(flag, yes, after)
        e.block(yes)
        body()
        e.br(after)
        e.block(after)

    def on_failure(tag: str, flags: list[str], on_fail, resume: str) -> None:
        """Continue at `resume` unless a flag is set. Single task: a failure is the end (its
        `finish`). Lockstep: a cold path runs on_fail(j) for each flagged task, then `finish`
        if no task is left alive, else `resume`."""
        if not lockstep:
            e.cbr(flags[0], on_fail(0), resume)
            return
        anyf = flags[0]
        for f in flags[1:]:
            anyf = e.op(f"or i1 {anyf}, {f}")
        cold_lbl = f"{tag}_cold"
        e.cbr(anyf, cold_lbl, resume)
        e.block(cold_lbl)
        for j in J:
            when(flags[j], f"{tag}_t{j}", f"{tag}_n{j}", lambda j=j: on_fail(j))
        n = e.load(var["n_alive"], 0, "i64")
        e.cbr(e.op(f"icmp eq i64 {n}, 0"), "finish", resume)

    def failed(bad: str, ok: str | None) -> str:
        return bad if ok is None else e.op(f"and i1 {bad}, {ok}")

    def sigmoid(x: str) -> str:
        return e.op(f"call double @amlz_sigmoid(double {x})")

    e.cbr(e.op(f"icmp sgt i64 {a0['total_steps']}, 0"), "setup", "finish")

    # -- Setup, then epochs ---------------------------------------------------------------------
    e.block("setup")
    run("setup")
    e.store(a0["total_steps"], var["rem"], 0, "i64")
    e.br("epoch")

    e.block("epoch")
    rem = e.load(var["rem"], 0, "i64")
    e.cbr(e.op(f"icmp sgt i64 {rem}, 0"), "epoch_body", "finish")
    e.block("epoch_body")
    ep = e.load(var["ep"], 0, "i64")
    short = e.op(f"icmp slt i64 {rem}, {N}")
    n_this = e.op(f"select i1 {short}, i64 {rem}, i64 {N}")
    row0 = e.op(f"mul i64 {ep}, {N}")
    order_rows = [
        e.op(f"getelementptr inbounds i32, ptr {args[j]['orders']}, i64 {row0}") for j in J
    ]
    e.store("0", var["k"], 0, "i64")
    e.br("train")

    # training step (all tasks)
    e.block("train")
    k = e.load(var["k"], 0, "i64")
    e.cbr(e.op(f"icmp slt i64 {k}, {n_this}"), "train_step", "train_done")
    e.block("train_step")
    ahead = e.op(f"add i64 {k}, {PREFETCH_AHEAD}")
    k_ahead = e.op(f"select i1 {e.op(f'icmp slt i64 {ahead}, {n_this}')}, i64 {ahead}, i64 {k}")
    steps = e.load(var["steps"], 0, "i64")
    e.store(e.op(f"add i64 {steps}, 1"), var["steps"], 0, "i64")
    idx = []
    for j in J:
        idx.append(e.op(f"sext i32 {e.load(order_rows[j], k, 'i32')} to i64"))
        ia = e.op(f"sext i32 {e.load(order_rows[j], k_ahead, 'i32')} to i64")
        prefetch(args[j]["train_x"], args[j]["train_y"], ia)
    for j in J:
        load_features(j, args[j]["train_x"], idx[j])
        s_store(j, 0, fconst(0.0))
    run("predict")
    e.cbr(is_acc, "train_sig", "train_check")
    e.block("train_sig")
    for j in J:
        s_store(j, 1, sigmoid(s_load(j, 1)))
    e.br("train_check")
    e.block("train_check")
    oks = alive_flags()
    s1 = [s_load(j, 1) for j in J]
    write_traces(s1, oks)
    ys, fails = [], []
    for j in J:
        y = e.load(args[j]["train_y"], idx[j])
        ys.append(y)
        err = e.op(f"call double @llvm.fabs.f64(double {e.op(f'fsub double {y}, {s1[j]}')})")
        bad = e.op(f"fcmp ugt double {err}, {args[j]['max_abs_error']}")
        fails.append(failed(bad, oks[j]))

    def die(j: int) -> str:  # the single kernel's `finish` for task j, now
        if not lockstep:
            return "finish"
        results(j)
        kill(j)
        return ""

    on_failure("tfail", fails, die, "learn")
    e.block("learn")
    for j in J:
        load_features(j, args[j]["train_x"], idx[j])
        s_store(j, 0, ys[j])
    run("learn")
    e.store(e.op(f"add i64 {k}, 1"), var["k"], 0, "i64")
    e.br("train")

    # validation (all tasks)
    e.block("train_done")
    e.store(e.op(f"sub i64 {rem}, {N}"), var["rem"], 0, "i64")
    for j in J:
        e.store(fconst(0.0), loss[j])
    e.store("0", var["vi"], 0, "i64")
    e.br("valid")
    e.block("valid")
    vi = e.load(var["vi"], 0, "i64")
    e.cbr(e.op(f"icmp slt i64 {vi}, {a0['n_valid']}"), "valid_step", "valid_done")
    e.block("valid_step")
    vahead = e.op(f"add i64 {vi}, {PREFETCH_AHEAD}")
    for j in J:
        prefetch(args[j]["valid_x"], args[j]["valid_y"], vahead)
    for j in J:
        load_features(j, args[j]["valid_x"], vi)
        s_store(j, 0, fconst(0.0))
    run("predict")
    oks = alive_flags()
    s1 = [s_load(j, 1) for j in J]
    write_traces(s1, oks)
    ys = [e.load(args[j]["valid_y"], vi) for j in J]
    e.cbr(is_acc, "valid_acc", "valid_rms")
    e.block("valid_acc")
    acc_err = []
    for j in J:
        p = sigmoid(s1[j])
        same = e.op(
            f"icmp eq i1 {e.op(f'fcmp ogt double {ys[j]}, 0.5')}, "
            f"{e.op(f'fcmp ogt double {p}, 0.5')}"
        )
        acc_err.append(e.op(f"select i1 {same}, double {fconst(0.0)}, double {fconst(1.0)}"))
    e.br("valid_add")
    e.block("valid_rms")
    rms_err, rms_sq = [], []
    for j in J:
        r = e.op(f"fsub double {ys[j]}, {s1[j]}")
        rms_err.append(r)
        rms_sq.append(e.op(f"fmul double {r}, {r}"))
    e.br("valid_add")
    e.block("valid_add")
    verrs, vsq, vfails = [], [], []
    for j in J:
        verrs.append(e.op(f"phi double [{acc_err[j]}, %valid_acc], [{rms_err[j]}, %valid_rms]"))
        vsq.append(e.op(f"phi double [{acc_err[j]}, %valid_acc], [{rms_sq[j]}, %valid_rms]"))
    for j in J:
        absv = e.op(f"call double @llvm.fabs.f64(double {verrs[j]})")
        bad = e.op(f"fcmp ugt double {absv}, {args[j]['max_abs_error']}")
        vfails.append(failed(bad, oks[j]))

    def bail(j: int) -> str:
        """Single task: the pass fails (NaN loss) and ends. Lockstep: the pass would end early
        for this task only, so it bails out: the caller reruns it alone."""
        if not lockstep:
            e.block("valid_fail")
            e.store(fconst(float("nan")), loss[0])
            e.br("valid_done")
            return "valid_fail"
        e.store(str(BAILED), args[j]["counts"], 0, "i64")
        kill(j)
        return ""

    if lockstep:
        on_failure("vfail", vfails, bail, "valid_ok")
    else:
        e.cbr(vfails[0], "valid_fail", "valid_ok")
        bail(0)
    e.block("valid_ok")
    for j in J:
        e.store(e.op(f"fadd double {e.load(loss[j])}, {vsq[j]}"), loss[j])
    e.store(e.op(f"add i64 {vi}, 1"), var["vi"], 0, "i64")
    e.br("valid")
    e.block("valid_done")
    oks = alive_flags()
    for j in J:
        e.store(e.load(loss[j]), target(j, oks[j], args[j]["epoch_loss"], ep))
    e.store(e.op(f"add i64 {ep}, 1"), var["ep"], 0, "i64")
    e.br("epoch")

    # -- results of the tasks still alive -----------------------------------------------------
    e.block("finish")
    oks = alive_flags()
    for j in J:
        if oks[j] is None:
            results(j)
        else:
            when(oks[j], f"out_t{j}", f"out_n{j}", lambda j=j: results(j))
    e.emit("ret void")

    body = "\n".join(e.lines)
    return f"define void @{name}(ptr noalias readonly %args{params}) {{\nentry:\n{body}\n}}\n"


class FusedLayout:
    """One program inlined: memory in allocas (small) or the caller's arrays (large)."""

    calls_components = False

    def __init__(
        self,
        program: Program,
        memory: MemorySpec,
        promote_matrices: bool = True,
        final_memory: bool = True,
        given_memory: bool = False,
    ) -> None:
        self.components = program.components()
        self.final_memory = final_memory  # False: `results` writes nothing (fitness-only)
        # True: `wipe` loads the caller's memory arrays instead of zeroing (see kernel_ir)
        self.given_memory = given_memory
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
        if self.given_memory:
            self._load(e, arg)
            return
        for k in range(self.spec.scalars):
            e.s_store(k, fconst(0.0))
        for base, nbytes in self.bases:
            e.emit(f"call void @llvm.memset.p0.i64(ptr {base}, i8 0, i64 {nbytes}, i1 false)")

    def _load(self, e: Emitter, arg: dict[str, str]) -> None:
        """Memory from the caller's arrays (row-major), the inverse of `results`; large memory
        already lives there."""
        F = self.spec.features
        for k in range(self.spec.scalars):
            e.s_store(k, e.load(arg["scalars"], k))
        if not self.stack:
            return
        for k in range(self.spec.vectors):
            src = e.gep(arg["vectors"], k * F)
            e.emit(f"call void @llvm.memcpy.p0.p0.i64(ptr %V{k}, ptr {src}, i64 {F * 8}, i1 false)")
        for k in range(self.spec.matrices):  # row-major from the caller -> column-major here
            src = e.gep(arg["matrices"], k * F * F)
            dst = "%TM" if self.promote_matrices else f"%M{k}"
            e.loop(
                F,
                lambda i, dst=dst, src=src: e.loop(
                    F, lambda j: e.store(e.load(src, e.index(i, F, j)), dst, e.mat(i, j))
                ),
            )
            if self.promote_matrices:
                e.chunks(
                    F * F,
                    None,
                    lambda o, w, _, k=k: e.vstore(e.vload("%TM", o, w), f"%M{k}", o, w),
                )

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
    program: Program,
    memory: MemorySpec,
    name: str,
    unroll: int = 4,
    final_memory: bool = True,
    given_memory: bool = False,
) -> str:
    """The LLVM IR text of the fused kernel function `name` (no runtime, no declarations).

    `final_memory=False`: a fitness-only kernel that leaves the caller's memory arrays alone
    (stack memory only: nothing then reads the memory after the last step, so the optimiser
    drops the stores of values the next step overwrites).
    `given_memory=True`: the run starts from the memory in the caller's arrays (slots scalars,
    vectors, matrices; row-major) instead of zeroed memory, and slot rng_seed is the generator
    state itself: a caller that ran Setup elsewhere (the search interprets it, see
    `search/jit_tier.py`) passes its memory and generator state after Setup, and compiles only
    Predict and Learn (the program's Setup should be empty: it would run again)."""
    program.check_fits(memory)
    e = Emitter(memory.features, unroll, col_major=uses_stack(memory))
    layout = FusedLayout(program, memory, final_memory=final_memory, given_memory=given_memory)
    return skeleton_ir(name, e, [layout])
