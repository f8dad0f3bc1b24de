"""Where a child's full evaluation runs: the interpreter or compiled code (docs/search-tiers.md).

`choose_tier` estimates both from the live program's work (`tiering.CostModel` figures passed in
the float parameters) and decides rent-or-buy per canonical Predict/Learn; `tier_remember`
records a kernel compiled for the handed-off child. Nothing here changes a search's results.

The search kernel asks `tier_choice`, which is `choose_tier` for a `TierState` and a few lines
for an `InterpTierState` (a search whose children compiled code can never run, by
`compiled_tier_possible`): the choice between them is made when the kernel is typed, so an
interpreter-only kernel compiles none of the compiled tier's code.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.extending import overload

from .canonical import tier_canonical
from .fec import lru_count, lru_get, lru_put, lru_set
from .kernel_layout import (
    FP_COMPILE_US,
    FP_INTERP_NS_STEP,
    FP_INTERP_NS_UNIT,
    FP_JIT_NS_STEP,
    FP_JIT_NS_UNIT,
    FP_JIT_US_CALL,
    FP_LANE_SAVING,
    FP_LANES_US,
    FP_OPTIMISE_US,
    FP_OPTIMISED_SAVING,
    HAND_LANES,
    HAND_OPTIMISE,
    INLINE,
    IP_LANES,
    IP_NTASKS,
    IP_TIER,
    JIT,
    NO_NRT,
    RENT_FACTOR,
    TIER_AUTO,
    TIER_INTERP,
    TIER_JIT,
    InterpTierState,
)


@njit(**INLINE)
def tier_costs(cc, lb, units, ntrain, tk, n_tasks, fp):
    """Estimated µs of the full evaluation of the live program (rows cc, bounds lb) in the
    interpreter and in compiled code (Setup interpreted, Predict/Learn compiled, one call per
    task), per the tiering.CostModel constants in fp."""
    su = 0.0
    pu = 0.0
    lu = 0.0
    for i in range(lb[0], lb[1]):
        su += units[cc[i, 0]]
    for i in range(lb[1], lb[2]):
        pu += units[cc[i, 0]]
    for i in range(lb[2], lb[3]):
        lu += units[cc[i, 0]]
    run_units = 0.0
    setup_units = 0.0
    steps = 0.0
    calls = 0.0
    train_off, valid_off = tk[2], tk[5]
    for t in range(n_tasks):
        n = ntrain[t]
        if n <= 0:
            continue
        N = train_off[t + 1] - train_off[t]
        n_valid = ((n + N - 1) // N) * (valid_off[t + 1] - valid_off[t])
        run_units += n * (pu + lu) + n_valid * pu
        setup_units += su
        steps += n + n_valid
        calls += 1.0
    interp_units = run_units + setup_units
    interp = (interp_units * fp[FP_INTERP_NS_UNIT] + steps * fp[FP_INTERP_NS_STEP]) / 1e3
    jit = (run_units * fp[FP_JIT_NS_UNIT] + steps * fp[FP_JIT_NS_STEP]
           + setup_units * fp[FP_INTERP_NS_UNIT]) / 1e3 + calls * fp[FP_JIT_US_CALL]  # fmt: skip
    return interp, jit


# (choices from CHOOSE_COMPILE_FIRST on are hand-offs: the kernel stops before the child)
CHOOSE_INTERP, CHOOSE_COMPILED, CHOOSE_COMPILE_FIRST, CHOOSE_UPGRADE = 0, 1, 2, 3


@njit(**NO_NRT)
def choose_tier(ip, fp, tk, ws, tr):
    """Where the live program in ws runs its full evaluation: CHOOSE_INTERP, CHOOSE_COMPILED
    (its kernel's address in tr.address) or CHOOSE_COMPILE_FIRST (the caller compiles its
    kernel and asks again). Also puts its canonical form in ws.canon_code/ws.canon_data and its
    tier key in tr.key.
    Changes nothing the search's results depend on.

    "jit" always runs compiled code. "auto" is rent-or-buy per tier key: compiled once the
    interpreter time spent on the key, this evaluation included, reaches RENT_FACTOR compile
    costs plus a compiled run; then compiled whenever compiled code is the cheaper run. Both tier up
    the same way: a key whose runs would have paid for optimised code (fp[FP_OPTIMISED_SAVING] of
    each run against FP_OPTIMISE_US) is recompiled once by the optimising pipeline. Where the
    search batches children (ip[IP_LANES]), a compiled key whose runs right after a run of the
    same key (those a lane kernel batches) would have paid for a lane kernel
    (fp[FP_LANE_SAVING] of each such run against FP_LANES_US) gets one; its address goes to
    tr.address[1] (0 when the key has none)."""
    tier = ip[IP_TIER]
    if tier == TIER_INTERP:
        return CHOOSE_INTERP
    # (the live code has the canonical form's ops: the estimate comes first, so work too small
    # for compiled code costs no canonical form and no cache lookup)
    interp, jit = tier_costs(
        ws.live_code, ws.live_bounds, tr.units, ws.train_steps, tk, ip[IP_NTASKS], fp
    )
    if tier == TIER_AUTO and not jit < interp:
        return CHOOSE_INTERP
    key = tier_canonical(
        ws.live_code, ws.live_data, ws.live_bounds, ws.renaming, ws.next_address, ws.canon_code,
        ws.canon_data,
    )  # fmt: skip
    tr.key[0] = key
    cache = tr.cache
    hit, value = lru_get(cache, key)
    if hit and value < 0.0:
        runs = lru_count(cache, key)
        saving = fp[FP_OPTIMISED_SAVING] * jit
        if runs * saving >= fp[FP_OPTIMISE_US] and (runs - 1) * saving < fp[FP_OPTIMISE_US]:
            tr.hand[HAND_OPTIMISE] = 1
            return CHOOSE_COMPILE_FIRST
        tr.address[0] = np.int64(-value)
        tr.address[1] = 0
        if ip[IP_LANES] > 1:
            previous = tr.key[1]
            tr.key[1] = key
            lane_hit, lane_value = lru_get(tr.lanes, key)
            if lane_hit and lane_value < 0.0:
                tr.address[1] = np.int64(-lane_value)
            elif key == previous:  # (a run a lane kernel would have batched)
                batched = (lane_value if lane_hit else 0.0) + 1.0
                if batched * fp[FP_LANE_SAVING] * jit >= fp[FP_LANES_US]:
                    tr.hand[HAND_LANES] = 1
                    return CHOOSE_COMPILE_FIRST
                lru_put(tr.lanes, key, batched)
        return CHOOSE_COMPILED
    if tier == TIER_JIT:
        return CHOOSE_COMPILE_FIRST
    spent = (value if hit else 0.0) + interp
    if spent >= RENT_FACTOR * fp[FP_COMPILE_US] + jit:
        return CHOOSE_COMPILE_FIRST
    lru_put(cache, key, spent)
    return CHOOSE_INTERP


@njit(**JIT)
def tier_remember(tr, address, optimised):
    """Remember the compiled kernel of the handed-off child's tier key (tr.key). An optimised
    kernel replaces the quick one in place (its run count goes on, so it tiers up once)."""
    if not (optimised and lru_set(tr.cache, tr.key[0], -float(address))):
        lru_put(tr.cache, tr.key[0], -float(address))


@njit(**JIT)
def lanes_remember(tr, address):
    """Remember the lane kernel (`kernel_layout.LANES` children in lockstep) of the handed-off
    child's tier key."""
    lru_put(tr.lanes, tr.key[0], -float(address))


@njit(**NO_NRT)
def interp_only_choice(ip, fp, tk, ws, tr):
    """`choose_tier` for an `InterpTierState`: CHOOSE_INTERP, or CHOOSE_UPGRADE where
    `choose_tier` could choose compiled code (the caller then switches to a `TierState` and
    asks again), so both make the same choices."""
    tier = ip[IP_TIER]
    if tier == TIER_INTERP:
        return CHOOSE_INTERP
    if tier == TIER_AUTO:
        interp, jit = tier_costs(
            ws.live_code, ws.live_bounds, tr.units, ws.train_steps, tk, ip[IP_NTASKS], fp
        )
        if not jit < interp:
            return CHOOSE_INTERP
    return CHOOSE_UPGRADE


def tier_choice(ip, fp, tk, ws, tr):
    """The tier choice for the state tr has: `interp_only_choice` or `choose_tier`. In
    compiled code the choice of function is made by tr's type, at compile time."""
    if isinstance(tr, InterpTierState):
        return interp_only_choice(ip, fp, tk, ws, tr)
    return choose_tier(ip, fp, tk, ws, tr)


@overload(tier_choice, inline="always")
def _tier_choice_typed(ip, fp, tk, ws, tr):
    if getattr(tr, "instance_class", None) is InterpTierState:
        return lambda ip, fp, tk, ws, tr: interp_only_choice(ip, fp, tk, ws, tr)
    return lambda ip, fp, tk, ws, tr: choose_tier(ip, fp, tk, ws, tr)


def compiled_tier_possible(ip, fp, tk, units, ops, n_ops, template_ops, size_bounds) -> bool:
    """Whether `choose_tier` could ever choose compiled code for a child of this search:
    always under "jit", never under "interp"; under "auto" when `tier_costs` finds compiled
    code cheaper for the costliest program the search can make (every row of a component its
    costliest op: allowed `ops[c, :n_ops[c]]` or the template's `template_ops[c]`; components
    of `size_bounds`, None where unbounded) on any one task with its full training budget.
    The compiled tier's advantage grows with the work, so no smaller program, budget or set of
    tasks can have it when this one has not (a child beyond these bounds, e.g. an immigrant,
    is still caught: `interp_only_choice` asks for an upgrade)."""
    tier = int(ip[IP_TIER])
    if tier != TIER_AUTO:
        return tier == TIER_JIT
    grows = (
        fp[FP_JIT_NS_UNIT] <= fp[FP_INTERP_NS_UNIT] and fp[FP_JIT_NS_STEP] <= fp[FP_INTERP_NS_STEP]
    )
    if not grows or any(b is None for b in size_bounds):
        return True
    rows = []
    for c in range(3):
        candidates = [int(o) for o in ops[c, : n_ops[c]]] + [int(o) for o in template_ops[c]]
        worst = max(candidates, key=lambda o: units[o]) if candidates else 0
        rows += [worst] * int(size_bounds[c])
    cc = np.zeros((max(len(rows), 1), 4), dtype=np.int32)
    cc[: len(rows), 0] = rows
    lb = np.cumsum([0, *size_bounds]).astype(np.int64)
    n_tasks = int(ip[IP_NTASKS])
    for t in range(n_tasks):  # (a budget may leave any subset of tasks, each one alone)
        ntrain = np.zeros(max(n_tasks, 1), dtype=np.int64)
        ntrain[t] = tk[8][t]
        interp, jit = tier_costs.py_func(cc, lb, units, ntrain, tk, n_tasks, fp)
        if jit < interp:
            return True
    return False
