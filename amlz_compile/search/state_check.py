"""Checks of what a checkpoint holds (config, flow, evolution states, migrations still to come)
before the driver or compiled code touches it.

The search kernel indexes its arrays without bounds checks, so a damaged or crafted checkpoint
must not reach it: every array has the shape and kind of the state a population of this config
would write, every op and address is inside the table and the memory, every index inside its
array, and the caches' linked lists end. A state that fails is refused with `CheckpointError`
naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from ..ir.ops import ADDRESS_KINDS, NUM_OPS
from ..ir.program import ADDRESS_LIMIT, MemorySpec, Program
from ..limits import check_allocation
from .checkpoint import CheckpointError
from .fec import CAPACITY, FORGET, FREE, HEAD, LRU_FIELDS, MASK, SIZE, TAIL

if TYPE_CHECKING:
    from .experiment_config import ExperimentConfig

MAX_ROWS = 3 * ADDRESS_LIMIT  # three components of at most 65536 instructions


def _array(state: Mapping, key: str, kinds: str) -> np.ndarray:
    if key not in state:
        raise CheckpointError(f"evolution state lacks {key!r}")
    arr = np.asarray(state[key])
    if arr.dtype.kind not in kinds:
        raise CheckpointError(f"evolution state {key!r} has dtype {arr.dtype}, expected {kinds}")
    return arr


def _shaped(state: Mapping, key: str, kinds: str, shape: tuple[int, ...]) -> np.ndarray:
    arr = _array(state, key, kinds)
    if arr.shape != shape:
        raise CheckpointError(f"evolution state {key!r} has shape {arr.shape}, expected {shape}")
    return arr


def _in_range(key: str, arr: np.ndarray, lo: int, hi: int) -> None:
    """Every value in [lo, hi)."""
    if arr.size and (arr.min() < lo or arr.max() >= hi):
        raise CheckpointError(f"evolution state {key!r} holds values outside [{lo}, {hi})")


def check_scalars(state: object) -> None:
    """The evolution state's plain numbers: version, seed, flags, counts and seconds, each a
    number of the right kind (counts and seconds >= 0)."""
    if not isinstance(state, Mapping):
        raise CheckpointError(f"evolution state is {state!r:.60}, expected a mapping")
    for key, kinds in (("version", "iu"), ("seed", "iu"), ("initialized", "iub"),
                       ("elapsed", "iuf"), ("run_individuals", "iu"),
                       ("run_seconds", "iuf")):  # fmt: skip
        value = _shaped(state, key, kinds, ())
        if not (np.isfinite(value) and value >= 0):
            raise CheckpointError(f"evolution state {key!r} is {value}, expected a number >= 0")


def check_population(state: Mapping, population: int, memory: MemorySpec) -> int:
    """Validate the programs of a state; returns its row count."""
    rows = int(_shaped(state, "rows", "iu", ()))
    if not 1 <= rows <= MAX_ROWS:
        raise CheckpointError(f"evolution state 'rows' is {rows}, expected 1..{MAX_ROWS}")
    check_allocation(population * rows * 4 * 12, "the checkpoint's population")
    code = _shaped(state, "pop_code", "iu", (population, rows, 4))
    _shaped(state, "pop_data", "f", (population, rows, 4))
    sizes = _shaped(state, "pop_sizes", "iu", (population, 3))
    _in_range("pop_sizes", sizes, 0, rows + 1)
    if (sizes.sum(axis=1) > rows).any():
        raise CheckpointError("evolution state 'pop_sizes' exceed the stored rows")
    ops = code[:, :, 0]
    _in_range("pop_code (ops)", ops, 0, NUM_OPS)
    limits = np.array([ADDRESS_LIMIT, memory.scalars, memory.vectors, memory.matrices])
    bound = limits[ADDRESS_KINDS[ops.astype(np.int64)]]
    addresses = code[:, :, 1:].astype(np.int64)
    if (addresses < 0).any() or (addresses >= bound).any():
        raise CheckpointError(
            f"evolution state 'pop_code' addresses memory beyond {memory.scalars} scalars, "
            f"{memory.vectors} vectors, {memory.matrices} matrices"
        )
    _shaped(state, "fitness", "f", (population,))
    return rows


def check_records(state: Mapping, population: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The per-slot FEC records (keys uint64 and task fitnesses float64, population x width)."""
    keys = _shaped(state, "pop_fec_keys", "u", (population, width))
    fits = _shaped(state, "pop_task_fitness", "f", (population, width))
    return keys, fits


def check_incoming(incoming: object, population: int, memory: MemorySpec, width: int) -> None:
    """The migrations an island's checkpoint says it has yet to receive: two entries, each an
    emigrant seed and None or 1..population immigrants as row arrays, checked like a population
    (ops, addresses, sizes), with fitnesses and FEC records of `width` tasks."""
    if not isinstance(incoming, list | tuple) or len(incoming) != 2:
        raise CheckpointError(f"island 'incoming' is {incoming!r:.60}, expected two migrations")
    for e, entry in enumerate(incoming):
        where = f"island incoming migration {e}"
        if not isinstance(entry, Mapping) or set(entry) != {"immigrants", "seed"}:
            raise CheckpointError(f"{where} is {entry!r:.60}, expected immigrants and a seed")
        if not (_is_int(entry["seed"]) and 0 <= entry["seed"] < 2**32):
            raise CheckpointError(f"{where} seed is {entry['seed']!r:.60}, expected a uint32")
        rows = entry["immigrants"]
        if rows is None:
            continue
        if not isinstance(rows, list | tuple) or len(rows) != 6:
            raise CheckpointError(f"{where} immigrants are {rows!r:.60}, expected 6 row arrays")
        code, data, sizes, fitness, keys, fits = (np.asarray(a) for a in rows)
        k = len(sizes) if sizes.ndim == 2 else 0
        if not 1 <= k <= population or code.ndim != 3:
            raise CheckpointError(f"{where} holds {k} immigrants, expected 1..{population} rows")
        try:
            as_population = {"rows": np.int64(code.shape[1]), "pop_code": code,
                             "pop_data": data, "pop_sizes": sizes, "fitness": fitness,
                             "pop_fec_keys": keys, "pop_task_fitness": fits}  # fmt: skip
            check_population(as_population, k, memory)
            check_records(as_population, k, width)
        except CheckpointError as exc:
            raise CheckpointError(f"{where}: {exc}") from None


def check_search_state(state: Mapping, like: Mapping, population: int, rows: int) -> None:
    """Validate the generator, counters, hurdles and caches against `like`, the state a fresh
    population of the same config writes (its shapes and its caches' fixed parameters)."""
    _shaped(state, "rng", "u", (1,))
    istate = _shaped(state, "istate", "i", np.shape(like["istate"]))
    if not (0 <= istate[0] < population and 0 <= istate[1] <= rows):
        raise CheckpointError("evolution state 'istate' points outside the population")
    _in_range("counters", _shaped(state, "counters", "i", np.shape(like["counters"])), 0, 2**62)
    window = np.shape(like["hurdle_hist"])
    _shaped(state, "hurdle_hist", "f", window)
    _in_range("hurdle_meta", _shaped(state, "hurdle_meta", "i", (2,)), 0, window[0] + 1)
    _shaped(state, "hurdle_thr", "f", np.shape(like["hurdle_thr"]))
    for prefix in ("dedup", "fec"):
        _check_lru(state, like, prefix)


def _check_lru(state: Mapping, like: Mapping, prefix: str) -> None:
    arrays = {}
    for name in LRU_FIELDS:
        key = f"{prefix}_{name}"
        want = np.asarray(like[key])
        arrays[name] = _shaped(state, key, want.dtype.kind, want.shape)
    meta, fixed = arrays["meta"], np.asarray(like[f"{prefix}_meta"])
    for field in (CAPACITY, MASK, FORGET):
        if meta[field] != fixed[field]:
            raise CheckpointError(f"evolution state '{prefix}_meta' does not match this config")
    cap = int(meta[CAPACITY])
    for field in (HEAD, TAIL, FREE):
        _in_range(f"{prefix}_meta", meta[field : field + 1], -1, cap)
    _in_range(f"{prefix}_meta", meta[SIZE : SIZE + 1], 0, cap + 1)
    for name in ("prev", "next", "table"):
        _in_range(f"{prefix}_{name}", arrays[name], -1, cap)
    if int((arrays["table"] >= 0).sum()) != int(meta[SIZE]):
        raise CheckpointError(f"evolution state '{prefix}_table' does not match its size")
    used = _walk(arrays["next"], int(meta[HEAD]), cap, f"{prefix}_next")
    free = _walk(arrays["next"], int(meta[FREE]), cap, f"{prefix}_next")
    if used != int(meta[SIZE]) or used + free > cap:
        raise CheckpointError(f"evolution state '{prefix}' lists do not match its size")


def _walk(nxt: np.ndarray, node: int, cap: int, key: str) -> int:
    """Length of the list from `node`; a list longer than the cache is a cycle."""
    steps = 0
    while node >= 0:
        steps += 1
        if steps > cap:
            raise CheckpointError(f"evolution state {key!r} holds a cycle")
        node = int(nxt[node])
    return steps


# -- the experiment flow's state ----------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _is_number(value: object) -> bool:
    return _is_int(value) or isinstance(value, float | np.floating)


def _field(where: str, d: Mapping, key: str, ok, expected: str, *, optional: bool = False):
    if key not in d:
        if optional:
            return None
        raise CheckpointError(f"checkpoint {where} lacks {key!r}")
    value = d[key]
    if not ok(value):
        raise CheckpointError(f"checkpoint {where} {key!r} is {value!r:.60}, expected {expected}")
    return value


def _count(value: object) -> bool:
    return _is_int(value) and value >= 0


def _seconds(value: object) -> bool:
    return _is_number(value) and bool(np.isfinite(value)) and value >= 0


def _fitness_or_none(value: object) -> bool:
    return value is None or _is_number(value)


def check_flow(flow: object, islands: object, num_islands: int) -> None:
    """Validate the experiment flow's state and the island states' envelope read from a
    checkpoint (types, counters >= 0, one state per island); CheckpointError names the field.
    The evolution states inside are checked when an island takes them (`check_population`)."""
    if not isinstance(flow, Mapping):
        raise CheckpointError(f"checkpoint flow is a {type(flow).__name__}, expected a mapping")
    where = "flow"
    _field(where, flow, "seed", _is_int, "an integer")
    _field(where, flow, "rng", lambda v: _is_int(v) and 0 <= v < 2**64, "a 64-bit state")
    for key in ("experiments", "individuals_done"):
        _field(where, flow, key, _count, "a count >= 0")
    _field(where, flow, "elapsed", _seconds, "seconds >= 0")
    for key in ("best_select", "best_search", "time_to_solution"):
        _field(where, flow, key, _fitness_or_none, "a number or null")
    _field(where, flow, "best_experiment", lambda v: v is None or _count(v), "a count or null")
    _field(where, flow, "best_program", lambda v: v is None or isinstance(v, Program),
           "a program or null")  # fmt: skip
    _field(where, flow, "history", lambda v: isinstance(v, list), "a list")
    _field(where, flow, "finished", lambda v: isinstance(v, bool), "true or false")
    budget = _field(where, flow, "budget", lambda v: isinstance(v, Mapping), "a mapping",
                    optional=True)  # fmt: skip
    if budget is not None:
        _field("flow budget", budget, "time_limit", _fitness_or_none, "seconds or null")
        _field("flow budget", budget, "max_individuals", lambda v: v is None or _count(v),
               "a count or null")  # fmt: skip
    current = _field(where, flow, "current", lambda v: v is None or isinstance(v, Mapping),
                     "a mapping or null")  # fmt: skip
    if current is None:
        return
    where = "flow current experiment"
    _field(where, current, "index", _count, "a count >= 0")
    _field(where, current, "epochs", _count, "a count >= 0")
    _field(where, current, "start_elapsed", _seconds, "seconds >= 0")
    _field(where, current, "task_seed", lambda v: v is None or _is_int(v), "an integer or null")
    _field(where, current, "eager_checked", lambda v: isinstance(v, list), "a list")
    _field(where, current, "search_tasks",
           lambda v: isinstance(v, list) and bool(v) and all(isinstance(t, Mapping) for t in v),
           "a list of task specs")  # fmt: skip
    _field(where, current, "island_seeds",
           lambda v: isinstance(v, list) and len(v) == num_islands and all(map(_is_int, v)),
           f"{num_islands} integer seed(s)")  # fmt: skip
    if not isinstance(islands, list) or len(islands) != num_islands:
        n = len(islands) if isinstance(islands, list) else islands
        raise CheckpointError(f"checkpoint has {n} island states for {num_islands} islands")
    for i, island in enumerate(islands):
        where = f"island {i}"
        if not isinstance(island, Mapping):
            raise CheckpointError(f"checkpoint {where} is {island!r:.60}, expected a mapping")
        _field(where, island, "initialized", lambda v: v is True, "true (a running experiment)")
        _field(where, island, "busy_seconds", _seconds, "seconds >= 0", optional=True)
        evolution = _field(where, island, "evolution", lambda v: isinstance(v, Mapping),
                           "a mapping")  # fmt: skip
        _field(f"{where} evolution", evolution, "initialized",
               lambda v: _is_int(np.asarray(v)[()]) and int(np.asarray(v)) == 1,
               "1 (a running experiment)")  # fmt: skip


def check_contents(ckpt: Mapping) -> tuple[ExperimentConfig, dict, dict]:
    """The config, flow state and flow options of a checkpoint, validated (CheckpointError)."""
    from .config import ConfigError
    from .experiment_config import ExperimentConfig

    try:
        config = ExperimentConfig.from_dict(ckpt["config"])
        flow = ckpt["flow"]
        opts = flow["options"]
    except (ConfigError, KeyError, TypeError) as exc:
        raise CheckpointError(f"checkpoint {ckpt['path']} has an unusable config: {exc}") from exc
    if not isinstance(opts, Mapping):
        raise CheckpointError(f"checkpoint {ckpt['path']} has flow options {opts!r:.60}")
    missing = [k for k in ("islands", "flow", "migrate_every", "migrants") if k not in opts]
    if missing:
        raise CheckpointError(f"checkpoint {ckpt['path']} lacks flow option(s) {missing}")
    islands = opts["islands"]
    if isinstance(islands, bool) or not isinstance(islands, int) or islands < 1:
        raise CheckpointError(f"checkpoint {ckpt['path']} has {islands!r:.60} islands")
    for key in ("migrate_every", "migrants", "patience"):
        value = opts.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise CheckpointError(f"checkpoint {ckpt['path']} has {key} {value!r:.60}")
    check_flow(flow, ckpt["islands"], islands)
    return config, flow, opts
