"""Hypothesis strategies for random typed programs, shared by every test module.

`instructions(memory)` draws any of the 65 ops with addresses of the right kinds inside `memory`
and data fields in the ranges the reference draws them (index fields in [0, 1), float32 values);
`extreme=True` adds NaN, +-inf, -0.0, huge and tiny values to the data fields (never to index
fields). Unused fields are left zero, as the reference leaves them. `programs(...)` assembles
Setup / Predict / Learn from such instructions (`programs_with_memory` also returns the memory it
drew); `memory_specs()` draws small memories; `feasible_ops(memory, ops)` lists the ops whose
address kinds exist in a memory (no matrix ops when it has no matrices).
Strategies are cached per argument tuple, so drawing builds no new strategy objects.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st

from amlz_compile.ir.ops import NUM_OPS, OPS
from amlz_compile.ir.program import COMPONENTS, Instruction, MemorySpec, Program
from amlz_compile.tasks import Task

ALL_OPS = tuple(range(NUM_OPS))
INDEX_FIELDS = {57: ("f0",), 58: ("f0", "f1")}  # fields read as a fraction of F

_EXTREME64 = (
    float("nan"),
    float("inf"),
    float("-inf"),
    0.0,
    -0.0,
    1e308,
    -1e308,
    5e-324,
    -2.2250738585072014e-308,
)
_EXTREME32 = (
    float("nan"),
    float("inf"),
    float("-inf"),
    0.0,
    -0.0,
    3.4028234663852886e38,
    -3.4028234663852886e38,
    1.401298464324817e-45,
)


def memory_specs(
    max_scalars: int = 8, max_vectors: int = 6, max_matrices: int = 4, features=(1, 2, 3, 4, 8)
) -> st.SearchStrategy[MemorySpec]:
    """Small memories: 2..max scalars, 1..max vectors, 0..max matrices, F from `features`."""
    return st.builds(
        MemorySpec,
        st.integers(2, max_scalars),
        st.integers(1, max_vectors),
        st.integers(0, max_matrices),
        st.sampled_from(tuple(features)),
    )


_PLAIN64 = st.floats(-10.0, 10.0, allow_nan=False)
_PLAIN32 = st.floats(-10.0, 10.0, width=32)
_ACT = {
    False: _PLAIN64,
    True: st.one_of(_PLAIN64, st.sampled_from(_EXTREME64), st.floats(allow_nan=True)),
}
_VALUE32 = {
    False: _PLAIN32,
    True: st.one_of(_PLAIN32, st.sampled_from(_EXTREME32), st.floats(width=32, allow_nan=True)),
}
_INDEX = st.floats(0.0, 1.0, exclude_max=True, width=32)


def feasible_ops(memory: MemorySpec, ops: Sequence[int] | None = None) -> tuple[int, ...]:
    """The ops of `ops` (default all) whose address kinds all exist in `memory`."""
    chosen = ALL_OPS if ops is None else tuple(int(o) for o in ops)
    out = []
    for op in chosen:
        info = OPS[op]
        kinds = [k for k in (info.in1, info.in2, info.out) if k is not None]
        if all(memory.count(k) > 0 for k in kinds):
            out.append(op)
    return tuple(out)


@lru_cache(maxsize=4096)
def _ints(lo: int, hi: int) -> st.SearchStrategy[int]:
    return st.integers(lo, hi)


@lru_cache(maxsize=1024)
def _feasible(memory: MemorySpec, ops: tuple[int, ...] | None) -> st.SearchStrategy[int]:
    allowed = feasible_ops(memory, ops)
    if not allowed:
        raise ValueError(f"none of the ops {ops} fits memory {memory}")
    return st.sampled_from(allowed)


@st.composite
def _instruction(draw, memory, ops, extreme, reference_outputs) -> Instruction:
    op = draw(_feasible(memory, ops))
    info = OPS[op]
    fields: dict[str, float | int] = {}
    for name in ("in1", "in2", "out"):
        kind = getattr(info, name)
        if kind is None:
            continue
        lo = 1 if (reference_outputs and name == "out" and kind in "sv") else 0
        hi = memory.count(kind) - 1
        fields[name] = draw(_ints(min(lo, hi), hi))
    for name in info.data:
        if name == "act":
            fields[name] = draw(_ACT[extreme])
        elif name in INDEX_FIELDS.get(op, ()):
            fields[name] = draw(_INDEX)
        else:
            fields[name] = draw(_VALUE32[extreme])
    return Instruction(op, **fields)


@lru_cache(maxsize=1024)
def _instructions_cached(memory, ops, extreme, reference_outputs):
    _feasible(memory, ops)  # fail early when no op fits
    return _instruction(memory, ops, extreme, reference_outputs)


def instructions(
    memory: MemorySpec,
    ops: Sequence[int] | None = None,
    extreme: bool = False,
    reference_outputs: bool = False,
) -> st.SearchStrategy[Instruction]:
    """Valid instructions of `ops` (default: all 65) fitting `memory`.

    With `reference_outputs`, output addresses follow the reference's random ranges (scalar and
    vector outputs never write s0 / v0); otherwise any address may be written.
    """
    key = None if ops is None else tuple(int(o) for o in ops)
    return _instructions_cached(memory, key, bool(extreme), bool(reference_outputs))


def _ops_for(ops: Sequence[int] | Mapping[str, Sequence[int]] | None, name: str):
    if ops is not None and isinstance(ops, Mapping):
        ops = ops.get(name, ())  # a component missing from the mapping gets no instructions
    return None if ops is None else tuple(int(o) for o in ops)


def programs(
    memory: MemorySpec | None = None,
    max_sizes: tuple[int, int, int] = (6, 6, 6),
    ops: Sequence[int] | Mapping[str, Sequence[int]] | None = None,
    extreme: bool = False,
    min_sizes: tuple[int, int, int] = (0, 0, 0),
    reference_outputs: bool = False,
) -> st.SearchStrategy[Program]:
    """Random programs; `ops` is one op list for all components or a {component: ops} mapping
    (a component missing from the mapping, or whose ops fit no memory, stays empty).

    Without `memory` a memory is drawn too (use `programs_with_memory` to get it back).
    """
    pairs = programs_with_memory(memory, max_sizes, ops, extreme, min_sizes, reference_outputs)
    return pairs.map(operator.itemgetter(1))


@lru_cache(maxsize=1024)
def _lists(memory, ops, extreme, reference_outputs, lo, hi):
    return st.lists(instructions(memory, ops, extreme, reference_outputs), min_size=lo, max_size=hi)


@st.composite
def _program_with_memory(draw, memory, max_sizes, ops, extreme, min_sizes, reference_outputs):
    mem = memory if memory is not None else draw(memory_specs())
    parts = {}
    for name, lo, hi in zip(COMPONENTS, min_sizes, max_sizes, strict=True):
        comp_ops = _ops_for(ops, name)
        if hi == 0 or (comp_ops is not None and not feasible_ops(mem, comp_ops)):
            parts[name] = []
            continue
        parts[name] = draw(_lists(mem, comp_ops, extreme, reference_outputs, lo, hi))
    return mem, Program(**parts)


def programs_with_memory(
    memory: MemorySpec | None = None,
    max_sizes: tuple[int, int, int] = (6, 6, 6),
    ops: Sequence[int] | Mapping[str, Sequence[int]] | None = None,
    extreme: bool = False,
    min_sizes: tuple[int, int, int] = (0, 0, 0),
    reference_outputs: bool = False,
) -> st.SearchStrategy[tuple[MemorySpec, Program]]:
    """(memory, program) pairs; the program fits the memory."""
    return _program_with_memory(memory, max_sizes, ops, extreme, min_sizes, reference_outputs)


_TASK_VALUES = st.one_of(
    st.floats(-5, 5),
    st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e300, -1e300, 1e-310]),
)


@st.composite
def small_tasks(draw, features: int) -> Task:
    """A tiny task (1-6 train, 1-4 valid, 1-3 epochs, rms or accuracy) with a few extreme
    values (NaN, inf, huge, subnormal) sometimes planted in features and labels."""
    n_train = draw(st.integers(1, 6))
    n_valid = draw(st.integers(1, 4))
    epochs = draw(st.integers(1, 3))
    accuracy = draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    tx = rng.normal(size=(n_train, features)) * draw(st.sampled_from([0.1, 1.0, 100.0]))
    vx = rng.normal(size=(n_valid, features))
    ty, vy = rng.normal(size=n_train), rng.normal(size=n_valid)
    if accuracy:
        ty, vy = (ty > 0).astype(float), (vy > 0).astype(float)
    if draw(st.booleans()):  # a few extreme values in features and labels
        for arr in (tx, vx, ty, vy):
            flat = arr.reshape(-1)
            for _ in range(draw(st.integers(0, 2))):
                flat[draw(st.integers(0, flat.size - 1))] = draw(_TASK_VALUES)
    orders = np.stack([rng.permutation(n_train) for _ in range(epochs)]).astype(np.int32)
    return Task("h", tx, ty, vx, vy, orders, "accuracy" if accuracy else "rms")


def ci_cap(max_examples: int) -> settings:
    """Settings for a slow property: at most `max_examples` under the CI profile, while every
    other profile (dev, long) keeps its own count, so `HYPOTHESIS_PROFILE=long` runs long."""
    if settings.get_current_profile_name() == "ci":
        return settings(max_examples=min(max_examples, settings().max_examples))
    return settings()
