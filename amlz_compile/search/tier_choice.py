"""Where a child's full evaluation runs: the interpreter or compiled code (docs/search-tiers.md).

`choose_tier` estimates both from the live program's work (`tiering.CostModel` figures passed in
the float parameters) and decides rent-or-buy per canonical Predict/Learn; `tier_remember`
records a kernel compiled for the handed-off child. Nothing here changes a search's results.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .canonical import tier_canonical
from .fec import lru_count, lru_get, lru_put, lru_set
from .kernel_layout import (
    FP_COMPILE_US,
    FP_INTERP_NS_STEP,
    FP_INTERP_NS_UNIT,
    FP_JIT_NS_STEP,
    FP_JIT_NS_UNIT,
    FP_JIT_US_CALL,
    FP_OPTIMISE_US,
    FP_OPTIMISED_SAVING,
    HAND_OPTIMISE,
    INLINE,
    IP_NTASKS,
    IP_TIER,
    JIT,
    NO_NRT,
    RENT_FACTOR,
    TIER_AUTO,
    TIER_INTERP,
    TIER_JIT,
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


CHOOSE_INTERP, CHOOSE_COMPILED, CHOOSE_COMPILE_FIRST = 0, 1, 2


@njit(**NO_NRT)
def choose_tier(ip, fp, tk, ws, tr):
    """Where the live program in ws runs its full evaluation: CHOOSE_INTERP, CHOOSE_COMPILED
    (its kernel's address in tr[5]) or CHOOSE_COMPILE_FIRST (the caller compiles its kernel
    and asks again). Also puts its canonical form in ws.canon_code/ws.canon_data and its tier
    key in tr[4].
    Changes nothing the search's results depend on.

    "jit" always runs compiled code. "auto" is rent-or-buy per tier key: compiled once the
    interpreter time spent on the key, this evaluation included, reaches RENT_FACTOR compile
    costs plus a compiled run; then compiled whenever compiled code is the cheaper run. Both tier up
    the same way: a key whose runs would have paid for optimised code (fp[FP_OPTIMISED_SAVING] of
    each run against FP_OPTIMISE_US) is recompiled once by the optimising pipeline."""
    tier = ip[IP_TIER]
    if tier == TIER_INTERP:
        return CHOOSE_INTERP
    # (the live code has the canonical form's ops: the estimate comes first, so work too small
    # for compiled code costs no canonical form and no cache lookup)
    interp, jit = tier_costs(
        ws.live_code, ws.live_bounds, tr[1], ws.train_steps, tk, ip[IP_NTASKS], fp
    )
    if tier == TIER_AUTO and not jit < interp:
        return CHOOSE_INTERP
    key = tier_canonical(
        ws.live_code, ws.live_data, ws.live_bounds, ws.renaming, ws.next_address, ws.canon_code,
        ws.canon_data,
    )  # fmt: skip
    tr[4][0] = key
    cache = tr[0]
    hit, value = lru_get(cache, key)
    if hit and value < 0.0:
        runs = lru_count(cache, key)
        saving = fp[FP_OPTIMISED_SAVING] * jit
        if runs * saving >= fp[FP_OPTIMISE_US] and (runs - 1) * saving < fp[FP_OPTIMISE_US]:
            tr[2][HAND_OPTIMISE] = 1
            return CHOOSE_COMPILE_FIRST
        tr[5][0] = np.int64(-value)
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
    """Remember the compiled kernel of the handed-off child's tier key (tr[4]). An optimised
    kernel replaces the quick one in place (its run count goes on, so it tiers up once)."""
    if not (optimised and lru_set(tr[0], tr[4][0], -float(address))):
        lru_put(tr[0], tr[4][0], -float(address))
