"""The search's hot loop, compiled: tournament, mutation, dedup, FEC, evaluation, aging.

Python calls `population_kernel` once per sweep (or per remainder of one): it produces children
slot after slot and touches nothing outside the arrays it is given. Per child (reference order
of draws, docs/semantics.md#regularized-evolution): T tournament draws, the mutation draws, then
one evaluation seed per fully evaluated task. Evaluation of a program:

1. train budget: per task, all examples or none (`budget.py`);
2. dead-code removal (liveness over Setup ; (Predict ; Learn)* ; Predict with the generator as a
   pseudo-location, as `passes.liveness`): only live instructions are kept, so the remaining
   program makes bit-identical predictions and runs faster;
3. structural dedup: a 64-bit hash of the live program (+ the budget decisions) looked up in an
   LRU (same hit/forget rules as FEC); a hit returns the cached fitness with no work at all;
4. the tier of the full runs (`tier_choice.tier_choice`, `jit_tier.py`): the interpreter, or
   the compiled kernel of the program's canonical Predict/Learn, called from here (Setup
   interpreted); a kernel not compiled yet is compiled in Python between two calls of the
   population kernel; a child of a hot kernel may wait to run with others in its lane kernel
   (lanes, below: same results);
5. per task (hurdle tasks first, `hurdles.py`): FEC fingerprint (the first examples, generator
   re-seeded with 235732282) looked up in the FEC LRU; on a miss a full run with a seed drawn
   from the search stream; task fitnesses combined by mean or upper median.

Sound dedup: equal keys mean equal live programs up to a renumbering of non-reserved addresses
and the order of commuting operands (up to 64-bit hash collisions, as the reference's FEC),
hence equal behaviour.

Where this differs from the reference (documented choices):
- the dedup cache sits in front of FEC with its own LRU (FEC's capacity and forget_every, or
  100000 / 100 without FEC): a dedup hit neither runs a fingerprint nor counts as an FEC hit;
- a task on which the train budget allows 0 examples gets fitness 0 without a fingerprint run
  (the reference runs the fingerprint, then a 0-step evaluation: same fitness, more steps);
- with hurdles, the fitness of a stopped candidate is what dedup caches for its key.

Training steps of every run (fingerprints included) are added to counters[C_STEPS].

Tuples passed around (all numpy arrays, see `evolution.py` for construction):
pop = (code int32[P,L,4], data float64[P,L,4], sizes int64[P,3], fitness float64[P],
       FEC keys uint64[P,T'] and task fitnesses float64[P,T'] per slot, T' = max(tasks, 1):
       each individual's FEC record, 0 where a task's key is unknown; migrants carry it)
st = (rng uint64[1], istate int64[2] = [slot pointer, longest program], counters int64[NC])
mt = mutation tables (mutate.MutationTables order); ip/fp = int/float parameters (IP_*, FP_*)
tk = packed tasks (backends.packing.PackedTasks field order, minus `features`)
dc, fc = dedup and FEC LRUs (fec.lru_new); hs = hurdle state (hurdles.hurdle_new)
ws = workspace (`kernel_layout.Workspace`); tr = tier state (`kernel_layout.tier_state()`).
The live program and its canonical form are `canonical.py`; the tier choice `tier_choice.py`.
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64
from numba.extending import overload

from ..backends.interp import decode_live_into, run_decoded, run_setup_decoded
from ..backends.llvm import abi
from ..backends.llvm.abi import call_kernel
from ..backends.llvm.codegen import BAILED
from ..fitness import task_fitness
from .budget import budget_train_examples, program_costs
from .canonical import dce, structure_key
from .draws import below, draw_seed
from .fec import fingerprint, lru_contains, lru_get, lru_get_inlined, lru_put, lru_put_inlined
from .hurdles import _before, hurdle_passes, hurdle_record
from .kernel_layout import (
    C_DEDUP_HITS,
    C_DEDUP_MISSES,
    C_FEC_HITS,
    C_FEC_MISSES,
    C_FULL_RUNS,
    C_HURDLE_STOPS,
    C_INDIVIDUALS,
    C_STEPS,
    FEC_SEED,
    FP_BASE_SETUP,
    FP_BASE_TRAIN,
    FP_BUDGET_FACTOR,
    FP_MAX_ABS_ERROR,
    FP_MUTATE_PROB,
    FP_PERCENTILE,
    HAND_BASE,
    HAND_PENDING,
    HAND_RESUME,
    HAND_UPGRADE,
    INLINE,
    IP_BUDGET,
    IP_DEDUP,
    IP_FEC,
    IP_FEC_TRAIN,
    IP_FEC_VALID,
    IP_HURDLE_TASKS,
    IP_HURDLES,
    IP_LANES,
    IP_MEDIAN,
    IP_NTASKS,
    IP_P,
    IP_ROWS,
    IP_T,
    JIT,
    L_KERNEL,
    L_QUEUED,
    L_SINGLE,
    LANES,
    NO_NRT,
    NO_NRT_INLINE,
    T_COMPILE_REQUESTS,
    T_COMPILED_RUNS,
    T_LANE_CALLS,
    T_LANE_RERUNS,
    T_LANE_RUNS,
    InterpTierState,
)
from .mutate import mutate_rows, random_rows
from .tier_choice import (
    CHOOSE_COMPILE_FIRST,
    CHOOSE_COMPILED,
    CHOOSE_INTERP,
    CHOOSE_UPGRADE,
    tier_choice,
)

# -- the interpreter entry -----------------------------------------------------------------------
# The contract's `run_task` decodes the program and allocates its buffers on every call (about a
# microsecond, ~7 calls per individual). The search decodes each live program once with the
# interpreter's `decode_live_into` and runs it per task on preallocated buffers with `run_decoded`
# (in `_run_on_task` below).


# -- evaluation -------------------------------------------------------------------------------


@njit(**NO_NRT_INLINE)
def _run_on_task(ws, tk, t, fingerprinting, seed, steps, n_first, n_valid, mae, n_train):
    """Run the decoded live program on task t; returns (FEC key when `fingerprinting`, else 0,
    task fitness)."""
    train_x, train_y, train_off = tk[0], tk[1], tk[2]
    valid_x, valid_y, valid_off = tk[3], tk[4], tk[5]
    orders, order_off = tk[6], tk[7]
    epoch_loss, trace, counts = ws.epoch_loss, ws.trace, ws.counts
    n_s = ws.scalars.shape[0]
    n_v = ws.vectors.shape[0]
    n_m = ws.matrices.shape[0]
    F = ws.vectors.shape[1]
    N = train_off[t + 1] - train_off[t]
    tx = train_x[train_off[t] : train_off[t + 1]]
    ty = train_y[train_off[t] : train_off[t + 1]]
    vx = valid_x[valid_off[t] : valid_off[t + 1]]
    vy = valid_y[valid_off[t] : valid_off[t + 1]]
    od = orders[order_off[t] : order_off[t + 1], :N]
    is_acc = tk[11][t]
    if fingerprinting:
        tr = trace[: n_first + n_valid]
    else:
        tr = trace[:0]
    run_decoded(ws.machine, n_s, n_v, n_m, F, tx, ty, od, steps, vx, vy, n_valid, is_acc, mae, seed,
                epoch_loss, tr, counts)  # fmt: skip
    key = uint64(0)
    if fingerprinting:
        key = fingerprint(tr, counts[1], counts[0], counts[2], n_first, ty, od[0], vy, n_valid,
                          is_acc, mae, t, n_train)  # fmt: skip
    return key, task_fitness(epoch_loss, counts[0], tk[10][t], is_acc)


@njit(**NO_NRT_INLINE)
def _fill_block(block, block_f, ws, tk, t, n_train, mae, state, mem, scratch):
    """A given-memory kernel's argument block for a run on task t from memory `mem` and
    generator state `state` (every slot but its outputs, epoch_loss and counts)."""
    n_s, n_v = ws.scalars.shape[0], ws.vectors.shape[0]
    F = ws.vectors.shape[1]
    train_x, train_y, train_off = tk[0], tk[1], tk[2]
    valid_x, valid_y, valid_off = tk[3], tk[4], tk[5]
    orders, order_off = tk[6], tk[7]
    N = train_off[t + 1] - train_off[t]
    E = order_off[t + 1] - order_off[t]
    base = mem.ctypes.data
    block[abi.SLOT_ADDR[0]] = base
    block[abi.SLOT_ADDR[1]] = base + 8 * n_s
    block[abi.SLOT_ADDR[2]] = base + 8 * (n_s + n_v * F)
    block[abi.S_TRAIN_X] = train_x.ctypes.data + 8 * F * train_off[t]
    block[abi.S_TRAIN_Y] = train_y.ctypes.data + 8 * train_off[t]
    block[abi.S_ORDERS] = orders.ctypes.data + 4 * N * order_off[t]
    block[abi.S_NUM_TRAIN] = N
    block[abi.S_TOTAL_STEPS] = max(np.int64(0), min(np.int64(n_train), E * N))
    block[abi.S_VALID_X] = valid_x.ctypes.data + 8 * F * valid_off[t]
    block[abi.S_VALID_Y] = valid_y.ctypes.data + 8 * valid_off[t]
    block[abi.S_N_VALID] = valid_off[t + 1] - valid_off[t]
    block[abi.S_IS_ACCURACY] = 1 if tk[11][t] else 0
    block_f[abi.S_MAX_ABS_ERROR] = mae
    block[abi.S_RNG_SEED] = np.int64(state)
    block[abi.S_TRACE] = ws.no_trace.ctypes.data
    block[abi.S_TRACE_LEN] = 0
    block[abi.S_SCRATCH] = scratch.ctypes.data


@njit(**NO_NRT_INLINE)
def _setup_into(ws, tk, seed, mem):
    """Interpret the Setup of the program decoded in ws from `seed` into `mem`; returns the
    generator state after it (what a given-memory kernel continues from)."""
    n_s, n_v, n_m = ws.scalars.shape[0], ws.vectors.shape[0], ws.matrices.shape[0]
    F = ws.vectors.shape[1]
    return run_setup_decoded(ws.machine, n_s, n_v, n_m, F, seed, mem, tk[0], tk[1], tk[6], tk[3],
                             tk[4], ws.epoch_loss, ws.no_trace, ws.counts)  # fmt: skip


@njit(**NO_NRT)
def _run_compiled(ws, tk, t, seed, n_train, mae, address, block, block_f, mem, scratch):
    """Run the canonical live program decoded in ws on task t as `_run_on_task` does, with
    Setup interpreted and Predict/Learn in the given-memory kernel at `address`; returns the
    task fitness (epoch losses and counts land where the interpreter puts them)."""
    epoch_loss, counts = ws.epoch_loss, ws.counts
    state = _setup_into(ws, tk, seed, mem)
    _fill_block(block, block_f, ws, tk, t, n_train, mae, state, mem, scratch)
    block[abi.S_EPOCH_LOSS] = epoch_loss.ctypes.data
    block[abi.S_COUNTS] = counts.ctypes.data
    call_kernel(address, block.ctypes.data)
    return task_fitness(epoch_loss, counts[0], tk[10][t], tk[11][t])


@njit(**NO_NRT)
def _task_fitness(t, ip, fp, tk, fc, st, ws):
    """Fitness of the live program in ws on task t (FEC first when enabled), interpreted."""
    counts = ws.counts
    loss = ws.epoch_loss
    return _task_fitness_on(t, ip, fp, tk, fc, st, ws, 0, counts, loss, loss, loss)


@njit(**NO_NRT)
def _task_fitness_compiled(t, ip, fp, tk, fc, st, ws, address, block, block_f, mem, scratch):
    """`_task_fitness` with the full run in the compiled kernel at `address`."""
    return _task_fitness_on(t, ip, fp, tk, fc, st, ws, address, block, block_f, mem, scratch)


@njit(**NO_NRT)
def _task_fitness_tier_state(t, ip, fp, tk, fc, st, ws, tr, compiled):
    """`_task_fitness`, or `_task_fitness_compiled` with tr's kernel when `compiled`."""
    if compiled:
        return _task_fitness_compiled(t, ip, fp, tk, fc, st, ws, tr.address[0], tr.block,
                                      tr.block_f, tr.mem, tr.scratch)  # fmt: skip
    return _task_fitness(t, ip, fp, tk, fc, st, ws)


def task_fitness_tiered(t, ip, fp, tk, fc, st, ws, tr, compiled):
    """Fitness of the live program in ws on task t, its full run compiled when `compiled` (only
    ever with a `TierState`); an `InterpTierState` kernel compiles only the interpreted path."""
    if isinstance(tr, InterpTierState):
        return _task_fitness(t, ip, fp, tk, fc, st, ws)
    return _task_fitness_tier_state(t, ip, fp, tk, fc, st, ws, tr, compiled)


@overload(task_fitness_tiered, inline="always")
def _task_fitness_tiered_typed(t, ip, fp, tk, fc, st, ws, tr, compiled):
    if getattr(tr, "instance_class", None) is InterpTierState:
        return lambda t, ip, fp, tk, fc, st, ws, tr, compiled: _task_fitness(
            t, ip, fp, tk, fc, st, ws
        )
    return lambda t, ip, fp, tk, fc, st, ws, tr, compiled: _task_fitness_tier_state(
        t, ip, fp, tk, fc, st, ws, tr, compiled
    )


@njit(**NO_NRT_INLINE)
def _task_fitness_on(t, ip, fp, tk, fc, st, ws, address, block, block_f, mem, scratch):
    """Fitness of the live program in ws on task t (FEC first when enabled); its full run in
    the compiled kernel at `address` when that is not 0. (Two callers, so that interpreted
    evaluations pass none of the compiled tier's buffers: arguments cost on every call.)"""
    counters = st[2]
    n_train = ws.train_steps[t]
    if n_train <= 0:
        return 0.0
    counts = ws.counts
    train_off, valid_off = tk[2], tk[5]
    N = train_off[t + 1] - train_off[t]
    n_valid_all = valid_off[t + 1] - valid_off[t]
    mae = fp[FP_MAX_ABS_ERROR]
    fec = ip[IP_FEC] != 0
    key = uint64(0)
    n_first = min(ip[IP_FEC_TRAIN], N)
    nv = min(ip[IP_FEC_VALID], n_valid_all)
    if fec:
        key, _ = _run_on_task(ws, tk, t, True, uint64(FEC_SEED), ip[IP_FEC_TRAIN], n_first, nv,
                              mae, n_train)  # fmt: skip
        counters[C_STEPS] += counts[2]
        ws.task_keys[t] = key
        hit, value = lru_get_inlined(fc, key)
        if hit:
            counters[C_FEC_HITS] += 1
            return value
        counters[C_FEC_MISSES] += 1
    seed = draw_seed(st[0])
    if address != 0 and tk[6].shape[1] == N:
        f = _run_compiled(ws, tk, t, seed, n_train, mae, address, block, block_f, mem,
                          scratch)  # fmt: skip
    else:  # (a task whose epoch orders are narrower than the packed rows: interpreted)
        _, f = _run_on_task(ws, tk, t, False, seed, n_train, n_first, n_valid_all, mae, n_train)
    counters[C_STEPS] += counts[2]
    counters[C_FULL_RUNS] += 1
    if fec:
        lru_put_inlined(fc, key, f)
    return f


@njit(**NO_NRT_INLINE)
def _combine(values, n, median, scratch):
    """Mean, or upper median (np.sort's order, NaN last: an insertion sort in `scratch`, which
    allocates nothing, so it runs without reference counting)."""
    if median:
        for i in range(n):
            x = values[i]
            k = i
            while k > 0 and _before(x, scratch[k - 1]):
                scratch[k] = scratch[k - 1]
                k -= 1
            scratch[k] = x
        return scratch[n // 2]
    total = 0.0
    for i in range(n):
        total += values[i]
    return total / n


@njit(**NO_NRT)
def _hurdle_stage(hist, hmeta, hthr, hsrt, fits, first, median, scratch, percentile):
    """Combined fitness of the hurdle tasks, whether it passes, and its record in the window."""
    h = _combine(fits, first, median, scratch)
    passed = hurdle_passes(hist, hmeta, hthr, h)
    hurdle_record(hist, hmeta, hthr, hsrt, h, percentile)
    return passed, h


@njit(**NO_NRT)
def _prepare(code, data, sizes, ip, fp, mt, tk, dc, st, ws, tr):
    """Train budget, dead-code removal, the tier choice and the dedup lookup of the program in
    a row buffer, then (on a miss) decoding of its live rows. Returns (dedup hit, its fitness,
    dedup key, the tier choice); with CHOOSE_COMPILE_FIRST nothing of the search's state has
    changed yet, so the caller can compile and ask again."""
    keys = ws.task_keys
    for t in range(keys.shape[0]):
        keys[t] = 0
    n_tasks = ip[IP_NTASKS]
    ntrain = ws.train_steps
    max_train = tk[8]
    if ip[IP_BUDGET] != 0:
        sc, tc = program_costs(code, sizes)
        for t in range(n_tasks):
            ntrain[t] = budget_train_examples(sc, tc, max_train[t], fp[FP_BASE_SETUP],
                                              fp[FP_BASE_TRAIN], fp[FP_BUDGET_FACTOR])  # fmt: skip
    else:
        for t in range(n_tasks):
            ntrain[t] = max_train[t]
    addr = mt[2]
    dce(code, data, sizes, max(addr[0], addr[1], addr[2], 2), ws)
    counters = st[2]
    dedup = ip[IP_DEDUP] != 0
    key = uint64(0)
    if dedup:
        key = structure_key(ws.live_code, ws.live_data, ws.live_bounds, ntrain, n_tasks,
                            ip[IP_BUDGET] != 0, ws.renaming, ws.next_address)  # fmt: skip
        hit, value = lru_get(dc, key)  # (a miss changes nothing)
        if hit:
            counters[C_DEDUP_HITS] += 1
            return True, value, key, CHOOSE_INTERP
    choice = tier_choice(ip, fp, tk, ws, tr)
    if choice >= CHOOSE_COMPILE_FIRST:  # (a hand-off: CHOOSE_COMPILE_FIRST or CHOOSE_UPGRADE)
        return False, 0.0, key, choice
    if dedup:
        counters[C_DEDUP_MISSES] += 1
    n_s, n_v = ws.scalars.shape[0], ws.vectors.shape[0]
    F = ws.vectors.shape[1]
    rows, row_data = ws.live_code, ws.live_data
    if choice == CHOOSE_COMPILED:  # FEC fingerprints and Setup run on the canonical program
        rows, row_data = ws.canon_code, ws.canon_data
        tr.counters[T_COMPILED_RUNS] += 1
    decode_live_into(ws.machine, rows, row_data, ws.live_bounds, n_s, n_v, F)
    return False, 0.0, key, choice


@njit(**NO_NRT)
def _dedup_put(dc, key, f):
    lru_put(dc, key, f)


@njit(**NO_NRT)
def _task_fitnesses(ip, fp, tk, fc, hs, st, ws, tr, compiled):
    """The live program's fitness over the tasks (hurdle tasks first, FEC per task), its full
    runs compiled when `compiled`. (The loop runs without reference counting: in counted code
    each call's tuples of arrays, e.g. those the tier's dispatch passes on, cost atomic
    operations per task.)"""
    counters = st[2]
    fits, scratch = ws.task_fitnesses, ws.sort_scratch
    n_tasks = ip[IP_NTASKS]
    median = ip[IP_MEDIAN] != 0
    first = n_tasks
    if ip[IP_HURDLES] != 0:
        first = min(ip[IP_HURDLE_TASKS], n_tasks)
    for t in range(n_tasks):
        fits[t] = task_fitness_tiered(t, ip, fp, tk, fc, st, ws, tr, compiled)
        if t == first - 1 and first < n_tasks:
            passed, h = _hurdle_stage(hs[0], hs[1], hs[2], hs[3], fits, first, median, scratch,
                                      fp[FP_PERCENTILE])  # fmt: skip
            if not passed:
                counters[C_HURDLE_STOPS] += 1
                return h * first / n_tasks
    return _combine(fits, n_tasks, median, scratch)


# -- lanes: children of one hot kernel in one lockstep call ---------------------------------
# With ip[IP_LANES] (no FEC, no dedup, no hurdles, one task: nothing a child's evaluation
# reads depends on the children before it, except the tournament), a child whose compiled
# kernel has a lane kernel is not run at once: it draws its seed and runs Setup, takes its
# slot with its fitness pending, and waits in tr's queue. The queue runs (`_lanes_flush`) when
# LANES children wait, before a tournament draws a waiting child's slot (or a child is to take
# one), and before the kernel returns. Same draws in the same order, same fitnesses (the
# lockstep kernel does each lane's arithmetic exactly as the single kernel): the same search.


@njit(**NO_NRT_INLINE)
def _lane_outputs(tr, j):
    """Lane j's block writes its epoch losses and counts into its rows of tr's arrays (set on
    every use: addresses are never kept across calls)."""
    tr.lane_blocks[j, abi.S_EPOCH_LOSS] = tr.lane_loss[j].ctypes.data
    tr.lane_blocks[j, abi.S_COUNTS] = tr.lane_counts[j].ctypes.data


@njit(**NO_NRT)
def _lanes_take(ip, fp, tk, st, ws, tr):
    """Queue the child decoded in ws (canonical, compiled) for its key's lane kernel; False
    (nothing changed) when it cannot wait: no lane kernel, no training, or other children of
    another key waiting."""
    info = tr.lane_info
    q = info[L_QUEUED]
    n_train = ws.train_steps[0]
    if ip[IP_LANES] <= 1 or tr.address[1] == 0 or n_train <= 0:
        return False
    if q > 0 and tr.lane_key[0] != tr.key[0]:
        return False
    if q == 0:
        tr.lane_key[0] = tr.key[0]
        info[L_SINGLE] = tr.address[0]
        info[L_KERNEL] = tr.address[1]
    seed = draw_seed(st[0])
    mem = tr.lane_mem[q]
    state = _setup_into(ws, tk, seed, mem)
    _fill_block(tr.lane_blocks[q], tr.lane_blocks_f[q], ws, tk, 0, n_train, fp[FP_MAX_ABS_ERROR],
                state, mem, tr.scratch)  # fmt: skip
    _lane_outputs(tr, q)
    tr.lane_slot[q] = st[1][0]
    info[L_QUEUED] = q + 1
    return True


@njit(**NO_NRT)
def _lanes_flush(ip, tk, st, ws, tr, fitness):
    """Evaluate the queued children (LANES or more than one: the lane kernel, its spare lanes
    repeating lane 0; one, or a lane that bailed out of lockstep: the single kernel) and set
    their slots' fitnesses as `_task_fitnesses` would."""
    info = tr.lane_info
    q = info[L_QUEUED]
    if q == 0:
        return
    info[L_QUEUED] = 0
    blocks = tr.lane_blocks
    base = blocks.ctypes.data
    row = 8 * blocks.shape[1]
    if q > 1:
        for j in range(q, blocks.shape[0]):
            for k in range(blocks.shape[1]):
                blocks[j, k] = blocks[0, k]
            _lane_outputs(tr, j)
        call_kernel(info[L_KERNEL], base)
        tr.counters[T_LANE_CALLS] += 1
        tr.counters[T_LANE_RUNS] += q
    counters = st[2]
    fits = ws.task_fitnesses
    for j in range(q):
        counts = tr.lane_counts[j]
        if q == 1 or counts[0] == BAILED:
            tr.counters[T_LANE_RERUNS] += q > 1
            call_kernel(info[L_SINGLE], base + j * row)
        fits[0] = task_fitness(tr.lane_loss[j], counts[0], tk[10][0], tk[11][0])
        counters[C_STEPS] += counts[2]
        counters[C_FULL_RUNS] += 1
        fitness[tr.lane_slot[j]] = _combine(fits, 1, ip[IP_MEDIAN] != 0, ws.sort_scratch)


@njit(**INLINE)
def _lanes_drawn(tr, draws, T, slot):
    """Whether a tournament's draws, or the slot the next child takes (a call may make more
    children than there are slots), include a queued child's slot."""
    q = tr.lane_info[L_QUEUED]
    for j in range(q):
        queued = tr.lane_slot[j]
        if queued == slot:
            return True
        for i in range(T):
            if draws[i] == queued:
                return True
    return False


def lanes_take(ip, fp, tk, st, ws, tr):
    """`_lanes_take`; False for an `InterpTierState` (no compiled tier, no lanes)."""
    if isinstance(tr, InterpTierState):
        return False
    return _lanes_take(ip, fp, tk, st, ws, tr)


def lanes_flush(ip, tk, st, ws, tr, fitness):
    """`_lanes_flush`; nothing for an `InterpTierState`."""
    if not isinstance(tr, InterpTierState):
        _lanes_flush(ip, tk, st, ws, tr, fitness)


def lanes_drawn(tr, draws, T, slot):
    """`_lanes_drawn`; False for an `InterpTierState`."""
    return False if isinstance(tr, InterpTierState) else _lanes_drawn(tr, draws, T, slot)


def lanes_full(tr):
    """Whether LANES children are queued; False for an `InterpTierState`."""
    return False if isinstance(tr, InterpTierState) else tr.lane_info[L_QUEUED] >= LANES


def _interp(tr) -> bool:
    return getattr(tr, "instance_class", None) is InterpTierState


@overload(lanes_take, inline="always")
def _lanes_take_typed(ip, fp, tk, st, ws, tr):
    if _interp(tr):
        return lambda ip, fp, tk, st, ws, tr: False
    return lambda ip, fp, tk, st, ws, tr: _lanes_take(ip, fp, tk, st, ws, tr)


@overload(lanes_flush, inline="always")
def _lanes_flush_typed(ip, tk, st, ws, tr, fitness):
    if _interp(tr):
        return lambda ip, tk, st, ws, tr, fitness: None
    return lambda ip, tk, st, ws, tr, fitness: _lanes_flush(ip, tk, st, ws, tr, fitness)


@overload(lanes_drawn, inline="always")
def _lanes_drawn_typed(tr, draws, T, slot):
    if _interp(tr):
        return lambda tr, draws, T, slot: False
    return lambda tr, draws, T, slot: _lanes_drawn(tr, draws, T, slot)


@overload(lanes_full, inline="always")
def _lanes_full_typed(tr):
    if _interp(tr):
        return lambda tr: False
    return lambda tr: tr.lane_info[L_QUEUED] >= LANES


@njit(**INLINE)
def evaluate_rows(code, data, sizes, ip, fp, mt, tk, dc, fc, hs, st, ws, tr, may_wait):
    """Search fitness of the program in a row buffer (budget, DCE, dedup, hurdles, FEC), and
    whether it waits in the lane queue instead (`may_wait`: its fitness is then set when the
    queue runs, see the lanes above).

    When its full evaluation is to run compiled code not compiled yet, returns -1.0 with
    tr.hand[HAND_PENDING] set and nothing else changed (see `population_kernel`). The work per
    child and per task runs in functions compiled without reference counting (`_prepare`,
    `_task_fitnesses`, `_dedup_put`).
    """
    hit, f, key, choice = _prepare(code, data, sizes, ip, fp, mt, tk, dc, st, ws, tr)
    if choice == CHOOSE_UPGRADE:
        tr.hand[HAND_PENDING] = 1
        tr.hand[HAND_UPGRADE] = 1
        return -1.0, False
    if choice == CHOOSE_COMPILE_FIRST:
        tr.hand[HAND_PENDING] = 1
        tr.counters[T_COMPILE_REQUESTS] += 1
        return -1.0, False
    if hit:
        return f, False
    if may_wait and choice == CHOOSE_COMPILED and lanes_take(ip, fp, tk, st, ws, tr):
        return 0.0, True
    f = _task_fitnesses(ip, fp, tk, fc, hs, st, ws, tr, choice == CHOOSE_COMPILED)
    if ip[IP_DEDUP] != 0:
        _dedup_put(dc, key, f)
    return f, False


# -- population kernels -----------------------------------------------------------------------

MODE_EVOLVE, MODE_INIT, MODE_PLACE, MODE_EVALUATE = 0, 1, 2, 3


@njit(**INLINE)
def draw_tournament(rng, P, T, draws):
    """T uniform draws of a slot, with replacement."""
    for i in range(T):
        draws[i] = below(rng, P)


@njit(**INLINE)
def tournament_winner(fitness, draws, T):
    """The first drawn maximum."""
    best = draws[0]
    bf = fitness[best]
    for i in range(1, T):
        j = draws[i]
        if fitness[j] > bf:
            best = j
            bf = fitness[j]
    return best


@njit(**JIT)
def tournament(fitness, P, T, rng):
    """T uniform draws with replacement; the first drawn maximum wins. (The population kernel
    draws and compares in two steps, `draw_tournament` and `tournament_winner`, so that waiting
    children can be evaluated in between.)"""
    draws = np.empty(T, dtype=np.int64)
    draw_tournament(rng, P, T, draws)
    return tournament_winner(fitness, draws, T)


@njit(**INLINE)
def _copy_in(src_code, src_data, src_sizes, j, code, data, sizes):
    n = src_sizes[j, 0] + src_sizes[j, 1] + src_sizes[j, 2]
    for r in range(n):
        for q in range(4):
            code[r, q] = src_code[j, r, q]
            data[r, q] = src_data[j, r, q]
    for c in range(3):
        sizes[c] = src_sizes[j, c]


@njit(**NO_NRT)
def _evolve_child(pc, pd, ps, fitness, draws, T, code, data, sizes, ops, n_ops, addr, smin, smax,
                  types, mutate_prob, rng):  # fmt: skip
    """The tournament's winner among `draws`, copied into the row buffer, Mutate(1) (no
    reference counting: the mutation code reads many arrays)."""
    parent = tournament_winner(fitness, draws, T)
    _copy_in(pc, pd, ps, parent, code, data, sizes)
    mutate_rows(1, code, data, sizes, ops, n_ops, addr, smin, smax, types, mutate_prob, rng)


@njit(**NO_NRT)
def _record(pkeys, pfits, slot, keys, fits, j, n_tasks):
    """Slot `slot`'s FEC record (key and fitness per task) from row j of keys/fits."""
    for t in range(n_tasks):
        pkeys[slot, t] = keys[j, t]
        pfits[slot, t] = fits[j, t] if keys[j, t] != 0 else 0.0


@njit(**NO_NRT)
def _learn_fingerprints(fc, keys, fits, j, n_tasks):
    """Enter candidate j's known FEC keys with their task fitnesses into the FEC cache (keys
    it holds already keep their entry, recency and count)."""
    for t in range(n_tasks):
        key = keys[j, t]
        if key != 0 and not lru_contains(fc, key):
            lru_put(fc, key, fits[j, t])


@njit(**NO_NRT)
def population_kernel(mode, n, ccode, cdata, csizes, cfit, crec, pop, ip, fp, mt, tk, dc, fc, hs,
                      st, ws, tr):  # fmt: skip
    """The one compiled entry point (one copy of the evaluation code). Modes:

    MODE_EVOLVE: make up to n children (tournament, Mutate(1), evaluate, replace the oldest);
      stops early when the longest program could no longer grow by one row (the caller
      enlarges the buffers and calls again). Returns the number made.
    MODE_INIT: reference Init() of slots 0..P-1 from the template ccode[0]/cdata[0]/csizes[0]
      (randomised when n != 0, i.e. RANDOM_ALGORITHM), Mutate(0), evaluate. Returns P.
    MODE_PLACE: put the candidates into the oldest slots (they become the youngest), evaluated
      when n != 0, else with fitness cfit and FEC records crec (their known FEC keys enter the
      FEC cache, `_learn_fingerprints`). Returns the count; their fitnesses go to cfit.
    MODE_EVALUATE: fitness of the candidates into cfit, nothing placed.

    Hand-off (tr.hand): when a child's full evaluation is to run compiled code that does not
    exist yet, the kernel stops before evaluating it, with HAND_PENDING set, and returns its
    index j (in MODE_EVOLVE: the children made so far); the child stays in ws (canonical form
    in ws.canon_code/ws.canon_data) and nothing of the search's state has changed for it. The
    caller compiles its kernel (`jit_tier.SearchTier.compile_pending`), sets HAND_RESUME (and,
    except in MODE_EVOLVE, HAND_BASE = j) and calls again with the same mode: the kernel
    evaluates that child first (in MODE_EVOLVE as the first of n), without making it again.
    With an `InterpTierState`, a child compiled code may run is handed off the same way with
    HAND_UPGRADE also set: the caller passes a `TierState` from then on.
    Children waiting in the lane queue are evaluated before any return, so the caller always
    sees every child it was told of with its fitness.
    """
    rng, istate, counters = st
    P = ip[IP_P]
    T = ip[IP_T]
    rows = ip[IP_ROWS]
    ops, n_ops, addr, smin, smax, types = mt
    pc, pd, ps, fitness, pkeys, pfits = pop
    ckeys, cfits = crec
    n_tasks = ip[IP_NTASKS]
    code, data, sizes = ws.child_code, ws.child_data, ws.child_sizes
    fits = ws.task_fitnesses
    task_keys = ws.task_keys.reshape((1, ws.task_keys.shape[0]))
    task_fits = fits.reshape((1, fits.shape[0]))
    hand = tr.hand
    resume = hand[HAND_RESUME] != 0
    hand[HAND_RESUME] = 0
    hand[HAND_PENDING] = 0
    start = 0
    if mode != MODE_EVOLVE and resume:
        start = hand[HAND_BASE]
    if mode == MODE_EVOLVE:
        count = n
    elif mode == MODE_INIT:
        count = P
    else:
        count = csizes.shape[0]
    for j in range(start, count):
        if not (resume and j == start):  # (a resumed child is in ws already)
            if mode == MODE_EVOLVE:
                if istate[1] + 2 > rows:
                    lanes_flush(ip, tk, st, ws, tr, fitness)
                    return j
                draws = ws.draws
                draw_tournament(rng, P, T, draws)
                if lanes_drawn(tr, draws, T, istate[0]):
                    lanes_flush(ip, tk, st, ws, tr, fitness)
                _evolve_child(pc, pd, ps, fitness, draws, T, code, data, sizes, ops, n_ops, addr,
                              smin, smax, types, fp[FP_MUTATE_PROB], rng)  # fmt: skip
            elif mode == MODE_INIT:
                _copy_in(ccode, cdata, csizes, 0, code, data, sizes)
                if n != 0:
                    random_rows(code, data, sizes, ops, n_ops, addr, rng)
                mutate_rows(0, code, data, sizes, ops, n_ops, addr, smin, smax, types,
                            fp[FP_MUTATE_PROB], rng)  # fmt: skip
            else:
                _copy_in(ccode, cdata, csizes, j, code, data, sizes)
        carried = mode == MODE_PLACE and n == 0
        waits = False
        if carried:
            f = cfit[j]
            _learn_fingerprints(fc, ckeys, cfits, j, n_tasks)
        else:
            f, waits = evaluate_rows(code, data, sizes, ip, fp, mt, tk, dc, fc, hs, st, ws, tr,
                                     mode == MODE_EVOLVE)  # fmt: skip
            if hand[HAND_PENDING] != 0:
                lanes_flush(ip, tk, st, ws, tr, fitness)
                return j
        if mode == MODE_EVALUATE:
            cfit[j] = f
            continue
        if mode == MODE_PLACE:
            cfit[j] = f
        slot = istate[0]
        if mode == MODE_INIT:
            slot = j
        total = sizes[0] + sizes[1] + sizes[2]
        for r in range(total):
            for q in range(4):
                pc[slot, r, q] = code[r, q]
                pd[slot, r, q] = data[r, q]
        for c in range(3):
            ps[slot, c] = sizes[c]
        fitness[slot] = f
        if carried:
            _record(pkeys, pfits, slot, ckeys, cfits, j, n_tasks)
        else:
            _record(pkeys, pfits, slot, task_keys, task_fits, 0, n_tasks)
        if total > istate[1]:
            istate[1] = total
        if mode == MODE_INIT:
            istate[0] = 0
        else:
            istate[0] = (slot + 1) % P
        if mode != MODE_PLACE:
            counters[C_INDIVIDUALS] += 1
        if waits and lanes_full(tr):
            lanes_flush(ip, tk, st, ws, tr, fitness)
    lanes_flush(ip, tk, st, ws, tr, fitness)
    return count
