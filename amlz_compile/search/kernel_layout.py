"""The layout of what the search kernels share with Python: counter, parameter and hand-off
indices, the named workspace and the tier state.

The kernels (`search/kernels.py`) and their Python drivers (`evolution.py`, `jit_tier.py`) read
these by name; a kernel keeps no state of its own between calls.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..backends.interp import machine_buffers
from ..backends.llvm.abi import NUM_SLOTS
from ..ir.liveness import n_locations
from .fec import lru_new

FEC_SEED = 235732282  # the reference's fixed fingerprint seed

# numba options of the search's kernels (`kernels.py`, `canonical.py`, `tier_choice.py`)
JIT = {"cache": True, "error_model": "numpy"}
# Numba-IR inlining: no call boundary, so no reference counting of the many arrays passed.
INLINE = {**JIT, "inline": "always"}
# The evaluation of a child allocates nothing: it is compiled without reference counting (every
# read of an array from the workspace tuples and every slice would otherwise cost two atomic
# operations, which measured about a quarter of the search's compiled time).
NO_NRT = {**JIT, "_nrt": False}
NO_NRT_INLINE = {**NO_NRT, "inline": "always"}

# counters
C_INDIVIDUALS, C_STEPS, C_FEC_HITS, C_FEC_MISSES = 0, 1, 2, 3
C_DEDUP_HITS, C_DEDUP_MISSES, C_HURDLE_STOPS, C_FULL_RUNS = 4, 5, 6, 7
NUM_COUNTERS = 8
COUNTER_NAMES = (
    "individuals", "train_steps", "fec_hits", "fec_misses", "dedup_hits", "dedup_misses",
    "hurdle_stops", "full_runs",
)  # fmt: skip

# int parameters
IP_P, IP_T, IP_NTASKS, IP_FEC, IP_FEC_TRAIN, IP_FEC_VALID = 0, 1, 2, 3, 4, 5
IP_DEDUP, IP_HURDLES, IP_HURDLE_TASKS, IP_BUDGET, IP_MEDIAN, IP_ROWS = 6, 7, 8, 9, 10, 11
IP_TIER = 12
# children per lockstep call of a hot kernel (0: this search never batches; `lanes_possible`)
IP_LANES = 13
NUM_IP = 14
# float parameters
FP_MUTATE_PROB, FP_MAX_ABS_ERROR, FP_BUDGET_FACTOR, FP_BASE_SETUP = 0, 1, 2, 3
FP_BASE_TRAIN, FP_PERCENTILE = 4, 5
# the tier cost model (tiering.CostModel, per unit / step in ns, per call / compile in µs)
FP_INTERP_NS_UNIT, FP_INTERP_NS_STEP, FP_JIT_NS_UNIT, FP_JIT_NS_STEP = 6, 7, 8, 9
FP_JIT_US_CALL, FP_COMPILE_US, FP_OPTIMISE_US = 10, 11, 12
# share of a quick kernel's run time that optimised code saves (`jit_tier.fill_cost_model`)
FP_OPTIMISED_SAVING = 13
# share of a single kernel's run time a child saves in a LANES-lane kernel, and the µs one
# lane kernel costs to compile (`jit_tier.fill_cost_model`)
FP_LANE_SAVING, FP_LANES_US = 14, 15
NUM_FP = 16

# ip[IP_TIER]: where full evaluations run (FEC fingerprints are always interpreted)
TIER_INTERP, TIER_JIT, TIER_AUTO = 0, 1, 2
TIER_CODES = {"interp": TIER_INTERP, "jit": TIER_JIT, "auto": TIER_AUTO}
# tr.hand (int64): the hand-off of a child whose compiled code must be compiled first
# (HAND_OPTIMISE: recompiled by the optimising pipeline, its key having become hot;
# HAND_UPGRADE: an interpreter-only state met a child compiled code may run, see
# `InterpTierState`; HAND_LANES: the key's lane kernel is to be compiled, see `TierState`)
HAND_PENDING, HAND_RESUME, HAND_BASE, HAND_OPTIMISE, HAND_UPGRADE, HAND_LANES = 0, 1, 2, 3, 4, 5
# "auto" compiles a key once the interpreter time spent on it reaches RENT_FACTOR compile
# costs (plus one compiled run). Most keys of a search are seen once; waiting for the ones
# that recur kept the same throughput at the paper's scale with a sixth of the compilations
# (docs/benchmarks.md), and every compilation also costs memory the LLVM engine keeps.
RENT_FACTOR = 8.0
# Share of a quickly compiled fused kernel's run time that optimised code saves (measured at
# the paper's scale and on the nonlinear workload: 1.4-1.7x faster).
OPTIMISED_SAVING = 0.3
# tr.counters (int64): tier counters (children evaluated in compiled code, hand-offs to compile,
# children evaluated in a lane kernel, lane kernel calls, lanes rerun alone after a failed
# validation pass)
T_COMPILED_RUNS, T_COMPILE_REQUESTS, T_LANE_RUNS, T_LANE_CALLS, T_LANE_RERUNS = 0, 1, 2, 3, 4
NUM_TIER_COUNTERS = 5
# Lanes: children of one hot canonical Predict/Learn evaluated together in one lockstep kernel
# (`llvm.multi`, given memory), whose independent dependency chains overlap in the core. 4 lanes
# ran a child of the nonlinear workload in 0.39 of a single kernel's time (F = 4), 0.43 at
# F = 8 and 0.77 at F = 16 (benchmark key `nonlinear_lane_us_per_child`); more lanes gained
# nothing (docs/benchmarks.md).
LANES = 4
LANE_CACHE_ENTRIES = 1 << 10
# lane slot of tr.lane_info: queued children, their single kernel, their lane kernel
L_QUEUED, L_SINGLE, L_KERNEL = 0, 1, 2


class Workspace(NamedTuple):
    """Scratch arrays for the kernels (nothing in here survives a call); numba reads the fields
    by name at no cost."""

    scalars: np.ndarray  # evaluation memory (S, V, M) and product scratch (tv, tm)
    vectors: np.ndarray
    matrices: np.ndarray
    tv: np.ndarray
    tm: np.ndarray
    eval_rng: np.ndarray  # evaluation generator
    epoch_loss: np.ndarray
    trace: np.ndarray
    counts: np.ndarray
    child_code: np.ndarray  # the child being made
    child_data: np.ndarray
    child_sizes: np.ndarray
    live_code: np.ndarray  # its live program (`dce`)
    live_data: np.ndarray
    live_bounds: np.ndarray
    live_flags: np.ndarray
    live_sets: np.ndarray  # liveness sets (Predict's and Learn's live-in, working set)
    live_masks: np.ndarray  # per-row liveness masks (`ir.liveness.live_rows_word`)
    task_fitnesses: np.ndarray
    task_keys: np.ndarray  # FEC key per task of the child just evaluated (0: none)
    train_steps: np.ndarray  # budgeted training steps per task
    sort_scratch: np.ndarray
    no_trace: np.ndarray  # an empty trace
    renaming: np.ndarray  # address renaming (structure_key, tier_canonical)
    next_address: np.ndarray  # next canonical address per kind
    machine: tuple  # interpreter buffers (`interp.machine_buffers`)
    canon_code: np.ndarray  # canonical live program (tier_canonical)
    canon_data: np.ndarray
    draws: np.ndarray  # the tournament's draws (population slots)


def workspace(rows: int, span: int, n_tasks: int, F: int, n_scalars: int, n_vectors: int,
              n_matrices: int, max_epochs: int, trace_len: int, matrix_ops: bool = True,
              entry: bool = True, tournament_size: int = 1) -> Workspace:  # fmt: skip
    """A `Workspace` for programs of up to `rows` rows on the given memory and tasks (without
    `matrix_ops`, for programs with no op that has a matrix operand; without `entry`, its
    interpreter not attached yet: `interp.machine_buffers`)."""
    return Workspace(
        scalars=np.zeros(n_scalars),
        vectors=np.zeros((n_vectors, F)),
        matrices=np.zeros((max(n_matrices, 1), F, F)),
        tv=np.zeros(F),
        tm=np.zeros((F, F)),
        eval_rng=np.zeros(1, dtype=np.uint64),
        epoch_loss=np.zeros(max(max_epochs, 1)),
        trace=np.zeros(max(trace_len, 1)),
        counts=np.zeros(3, dtype=np.int64),
        child_code=np.zeros((rows, 4), dtype=np.int32),
        child_data=np.zeros((rows, 4)),
        child_sizes=np.zeros(3, dtype=np.int64),
        live_code=np.zeros((rows, 4), dtype=np.int32),
        live_data=np.zeros((rows, 4)),
        live_bounds=np.zeros(4, dtype=np.int64),
        live_flags=np.zeros(rows, dtype=np.bool_),
        live_sets=np.zeros((3, n_locations(span)), dtype=np.bool_),
        live_masks=np.zeros((rows, 3), dtype=np.uint64),
        task_fitnesses=np.zeros(max(n_tasks, 1)),
        task_keys=np.zeros(max(n_tasks, 1), dtype=np.uint64),
        train_steps=np.zeros(max(n_tasks, 1), dtype=np.int64),
        sort_scratch=np.zeros(max(n_tasks, 1)),
        no_trace=np.zeros(0),
        renaming=np.zeros((3, span), dtype=np.int64),
        next_address=np.zeros(3, dtype=np.int64),
        machine=machine_buffers(
            rows, n_scalars, n_vectors, max(n_matrices, 1), F, matrix_ops, entry
        ),
        canon_code=np.zeros((rows, 4), dtype=np.int32),
        canon_data=np.zeros((rows, 4)),
        draws=np.zeros(max(tournament_size, 1), dtype=np.int64),
    )


class TierState(NamedTuple):
    """State of the tier choice, kept across kernel calls but not part of the search's exact
    state (the tier never changes a result). A search whose children compiled code may run
    carries this one, and its kernel is compiled with the compiled tier (`tier_choice.py`)."""

    cache: tuple  # LRU: tier key of a canonical Predict/Learn -> -(its kernel's address)
    # once compiled, else the interpreter µs spent on it so far
    units: np.ndarray  # work units per op at the search's F
    hand: np.ndarray  # the hand-off, int64[NUM_HAND] (HAND_*)
    counters: np.ndarray  # int64[NUM_TIER_COUNTERS]
    key: np.ndarray  # the current child's tier key and the last compiled child's, uint64[2]
    address: np.ndarray  # its kernel's address and its lane kernel's, int64[2] (0: none)
    block: np.ndarray  # a kernel argument block, int64[NUM_SLOTS]
    block_f: np.ndarray  # the same bytes as float64
    mem: np.ndarray  # the memory after Setup
    scratch: np.ndarray  # kernel scratch (large F)
    # Lanes (`kernels.lanes_flush`): children queued for one lane kernel call, each with its
    # argument block (outputs in its row of lane_loss/lane_counts), memory after Setup and
    # population slot; lane_key is their tier key, lane_info L_QUEUED, L_SINGLE, L_KERNEL.
    lanes: tuple  # LRU: tier key -> -(its lane kernel's address), or its runs that came right
    # after a run of the same key (those a lane kernel would have batched)
    lane_blocks: np.ndarray  # int64[LANES, NUM_SLOTS]
    lane_blocks_f: np.ndarray  # the same bytes as float64
    lane_mem: np.ndarray  # float64[LANES, memory]
    lane_loss: np.ndarray  # float64[LANES, epochs]
    lane_counts: np.ndarray  # int64[LANES, 3]
    lane_slot: np.ndarray  # int64[LANES]
    lane_key: np.ndarray  # uint64[1]
    lane_info: np.ndarray  # int64[3]


class InterpTierState(NamedTuple):
    """The tier state of a search whose children all run in the interpreter: its kernel is
    compiled without the compiled tier, so a run that never compiles a program does not
    compile that code either. Should a child appear that compiled code may run, the kernel
    hands it off with HAND_UPGRADE and the caller switches to a `TierState`
    (`jit_tier.SearchTier.upgrade`)."""

    units: np.ndarray
    hand: np.ndarray
    counters: np.ndarray


NUM_HAND = 6


def tier_state(
    capacity: int, units: np.ndarray, memory_doubles: int, F: int, max_epochs: int = 1
) -> TierState:
    """A fresh `TierState` with a tier cache of `capacity` keys."""
    block = np.zeros(NUM_SLOTS, dtype=np.int64)
    lane_blocks = np.zeros((LANES, NUM_SLOTS), dtype=np.int64)
    lane_loss = np.zeros((LANES, max(max_epochs, 1)))
    lane_counts = np.zeros((LANES, 3), dtype=np.int64)
    return TierState(
        cache=lru_new(capacity, 0),
        units=units,
        hand=np.zeros(NUM_HAND, dtype=np.int64),
        counters=np.zeros(NUM_TIER_COUNTERS, dtype=np.int64),
        key=np.zeros(2, dtype=np.uint64),
        address=np.zeros(2, dtype=np.int64),
        block=block,
        block_f=block.view(np.float64),
        mem=np.zeros(max(memory_doubles, 1)),
        scratch=np.zeros(F + F * F),
        lanes=lru_new(LANE_CACHE_ENTRIES, 0),
        lane_blocks=lane_blocks,
        lane_blocks_f=lane_blocks.view(np.float64),
        lane_mem=np.zeros((LANES, max(memory_doubles, 1))),
        lane_loss=lane_loss,
        lane_counts=lane_counts,
        lane_slot=np.zeros(LANES, dtype=np.int64),
        lane_key=np.zeros(1, dtype=np.uint64),
        lane_info=np.zeros(3, dtype=np.int64),
    )


def interp_tier_state(units: np.ndarray) -> InterpTierState:
    """A fresh `InterpTierState`."""
    return InterpTierState(
        units=units,
        hand=np.zeros(NUM_HAND, dtype=np.int64),
        counters=np.zeros(NUM_TIER_COUNTERS, dtype=np.int64),
    )


def tier_forget(tr: TierState) -> TierState:
    """tr with empty tier and lane caches (when compiled code is freed, no address may
    remain; the search kernel leaves no lane queued between calls)."""
    return tr._replace(
        cache=lru_new(int(tr.cache[1].shape[0]), 0), lanes=lru_new(int(tr.lanes[1].shape[0]), 0)
    )
