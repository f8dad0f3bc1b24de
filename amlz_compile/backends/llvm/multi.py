"""Multi-task fused kernels: K tasks of one program in lockstep, in one native function.

One task's training step is a single long dependency chain (ordered sums, the sigmoid's `exp`,
Learn's updates feeding the next Predict), so a single-task kernel is latency-bound while the
core's units idle. The K tasks of an evaluation are independent: this kernel renders every
instruction of Setup/Predict/Learn for task 0, task 1, ... back to back (each task has its own
memory, prefixed `%k<j>.`, its own generator and argument block), so their chains overlap in
the out-of-order core. Arithmetic per task is exactly the single-task kernel's.

The tasks of one call share their shape: num_train, total_steps, n_valid, trace_len and
is_accuracy (read from block 0; the caller groups tasks so). Per-task state without branches
in the hot blocks: an `alive` flag masks trace and epoch-loss stores (a dead task keeps
computing garbage, never written out). A training failure (rare) branches to a cold block that
writes that task's counts and memory exactly as the single kernel leaves them, then marks it
dead. A validation failure would stop that task's validation pass early (its memory then
differs from its partners' lockstep), so the task *bails*: counts[0] = -1 and the caller reruns
it with the single-task kernel. The kernel returns as soon as no task is alive.

ABI: `void @name(ptr %args)`, `%args` = K consecutive argument blocks (`codegen.ARGS`), slots
setup_fn.. unused; memory must fit the stack (`codegen.uses_stack`).
"""

from __future__ import annotations

from ...ir.program import MemorySpec, Program
from .codegen import (
    ARGS,
    NUM_SLOTS,
    PREFETCH_AHEAD,
    SLOT,
    FusedLayout,
    _prefetch_offsets,
    uses_stack,
)
from .emitter import Emitter, fconst
from .render import render_instruction

# Matrices as SSA values (True) or left in stack memory (False): K tasks' matrices never fit
# the register file, and in memory they compile faster (measured: see the runtime README).
PROMOTE_MATRICES = False
BAILED = -1  # counts[0] of a task the caller must rerun alone (validation failure)


def multi_kernel_ir(
    program: Program,
    memory: MemorySpec,
    name: str,
    tasks: int,
    unroll: int = 4,
    promote_matrices: bool = PROMOTE_MATRICES,
    final_memory: bool = True,
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
    return _skeleton(name, e, program, memory, tasks, promote_matrices, final_memory)


def _skeleton(
    name: str,
    e: Emitter,
    program: Program,
    memory: MemorySpec,
    K: int,
    promote_matrices: bool,
    final_memory: bool,
) -> str:
    F = e.F
    J = range(K)
    pre = [f"k{j}." for j in J]
    layouts = [FusedLayout(program, memory, promote_matrices, final_memory) for _ in J]
    comps = program.components()

    def each(j: int):
        e.prefix = pre[j]

    def shared():
        e.prefix = ""

    args = []
    for j in J:
        a = {}
        for k, (slot, ty) in enumerate(ARGS):
            if k < SLOT["setup_fn"]:
                a[slot] = e.load(e.gep("%args", j * NUM_SLOTS + k, "i64"), 0, ty)
        args.append(a)
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
        e.emit(f"{alive[j]} = alloca i1")
        e.emit(f"{loss[j]} = alloca double")
    e.emit("%sink = alloca double")  # target of masked stores (dead tasks)

    for j in J:
        each(j)
        layouts[j].wipe(e, args[j])
        e.store(args[j]["rng_seed"], "%RNG", 0, "i64")
        shared()
        e.emit(f"store i1 true, ptr {alive[j]}")
    for v in ("ep", "tw", "steps"):
        e.emit(f"store i64 0, ptr {var[v]}")
    e.emit(f"store i64 {K}, ptr {var['n_alive']}")
    a0 = args[0]
    is_acc = e.op(f"icmp ne i64 {a0['is_accuracy']}, 0")
    N, T = a0["num_train"], a0["trace_len"]

    def run(component: str) -> None:
        for ins in comps[component]:
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

    def masked(j: int, ok: str, base: str, i: str) -> str:
        """&base[i] if task j is alive, else the sink."""
        return e.op(f"select i1 {ok}, ptr {e.gep(base, i)}, ptr %sink")

    def write_traces(values: list[str], oks: list[str]) -> None:
        tw = e.load(var["tw"], 0, "i64")
        room = e.op(f"icmp slt i64 {tw}, {T}")
        yes, after = e.label("trace"), e.label("traced")
        e.cbr(room, yes, after)
        e.block(yes)
        for j in J:
            e.store(values[j], masked(j, oks[j], args[j]["trace"], tw))
        e.store(e.op(f"add i64 {tw}, 1"), var["tw"], 0, "i64")
        e.br(after)
        e.block(after)

    def alive_flags() -> list[str]:
        return [e.load(alive[j], 0, "i1") for j in J]

    def write_counts(j: int) -> None:
        for slot, v in enumerate(("ep", "tw", "steps")):
            e.store(e.load(var[v], 0, "i64"), args[j]["counts"], slot, "i64")

    def kill(j: int) -> None:
        e.emit(f"store i1 false, ptr {alive[j]}")
        n = e.load(var["n_alive"], 0, "i64")
        e.store(e.op(f"sub i64 {n}, 1"), var["n_alive"], 0, "i64")

    def cold(tag: str, flags: list[str], on_fail, resume: str) -> None:
        """Branch to a cold path when any flag is set: on_fail(j) for each flagged task, then
        `finish` if no task is left alive, else `resume`."""
        anyf = flags[0]
        for f in flags[1:]:
            anyf = e.op(f"or i1 {anyf}, {f}")
        cold_lbl = f"{tag}_cold"
        e.cbr(anyf, cold_lbl, resume)
        e.block(cold_lbl)
        for j in J:
            yes, nxt = f"{tag}_t{j}", f"{tag}_n{j}"
            e.cbr(flags[j], yes, nxt)
            e.block(yes)
            on_fail(j)
            e.br(nxt)
            e.block(nxt)
        n = e.load(var["n_alive"], 0, "i64")
        e.cbr(e.op(f"icmp eq i64 {n}, 0"), "finish", resume)

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
        fails.append(e.op(f"and i1 {bad}, {oks[j]}"))

    def results(j: int) -> None:
        each(j)
        layouts[j].results(e, args[j])
        shared()

    def die(j: int) -> None:  # the single kernel's `finish` for task j, now
        write_counts(j)
        results(j)
        kill(j)

    cold("tfail", fails, die, "learn")
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
        vfails.append(e.op(f"and i1 {bad}, {oks[j]}"))

    def bail(j: int) -> None:  # its pass would stop early: the caller reruns it alone
        e.store(str(BAILED), args[j]["counts"], 0, "i64")
        kill(j)

    cold("vfail", vfails, bail, "valid_ok")
    e.block("valid_ok")
    for j in J:
        e.store(e.op(f"fadd double {e.load(loss[j])}, {vsq[j]}"), loss[j])
    e.store(e.op(f"add i64 {vi}, 1"), var["vi"], 0, "i64")
    e.br("valid")
    e.block("valid_done")
    oks = alive_flags()
    for j in J:
        e.store(e.load(loss[j]), masked(j, oks[j], args[j]["epoch_loss"], ep))
    e.store(e.op(f"add i64 {ep}, 1"), var["ep"], 0, "i64")
    e.br("epoch")

    # -- results of the tasks still alive -----------------------------------------------------
    e.block("finish")
    oks = alive_flags()
    for j in J:
        yes, nxt = f"out_t{j}", f"out_n{j}"
        e.cbr(oks[j], yes, nxt)
        e.block(yes)
        write_counts(j)
        results(j)
        e.br(nxt)
        e.block(nxt)
    e.emit("ret void")

    body = "\n".join(e.lines)
    return f"define void @{name}(ptr noalias readonly %args) {{\nentry:\n{body}\n}}\n"
