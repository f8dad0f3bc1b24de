"""Mutations with the reference's exact semantics, compiled by numba
(docs/semantics.md#mutations).

A program under mutation is a row buffer: `code` int32[L, 4] ([op, in1, in2, out]), `data`
float64[L, 4] ([act, f0, f1, f2], f's on the float32 grid) and `sizes` int64[3]; Setup occupies
rows [0, s), Predict [s, s+p), Learn [s+p, s+p+l). L must leave room for one insertion.

Parameters travel as small arrays (built by `MutationTables.from_config`):
`ops` int32[3, K] / `n_ops` int64[3] (allowed ops per component, duplicates allowed),
`addr` int64[3] (scalar, vector, matrix address counts), `smin`/`smax` int64[3] (size limits),
`types` int64[m] (allowed mutation types, reference numbers) and `mutate_prob`.

Draw order per mutation: mutate-prob draw (skipped when mutate_prob >= 1),
action index, component index (not for IDENTITY / RANDOMIZE_ALGORITHM), then the action's draws.
`mutate(program, config, rng)` is a thin Python wrapper for tests and tools.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from ..ir.ops import ADDRESS_KINDS, GAUSSIAN_SET, KIND_CODES, MATRIX, OPS, Op
from ..ir.program import Program
from ..rng import new_state
from .config import SearchConfig
from .draws import below, gaussian, open_uniform, uniform_f32, unit_f32

# Per op: the category of its parameters (0 NO_OP, 1 one input, 2 two inputs, 3 data op).
CATEGORY = np.array(
    [0 if i.op == Op.NO_OP else 3 if i.is_data_op else i.arity for i in OPS], dtype=np.int64
)
CATEGORY.flags.writeable = False
_MATRIX = KIND_CODES[MATRIX]

SIGN_FLIP_PROB = 0.1  # the reference's kSignFlipProb

_JIT = {"cache": True, "error_model": "numpy"}


# -- addresses and instructions ------------------------------------------------------------------


@njit(**_JIT)
def _in_addr(state, kind, addr):
    """Input address of kind code `kind`: uniform in [0, count); `addr` holds the scalar,
    vector and matrix counts."""
    return below(state, addr[kind - 1])


@njit(**_JIT)
def _out_addr(state, kind, addr):
    """Output address: scalars and vectors from [1, count) (s0 / v0 are reserved), matrices
    from [0, count)."""
    if kind == _MATRIX:
        return below(state, addr[kind - 1])
    return 1 + below(state, addr[kind - 1] - 1)


@njit(**_JIT)
def randomize_params(code, data, k, op, addr, state):
    """Set row k to `op` with fresh random parameters (reference SetOpAndRandomizeParams)."""
    code[k, 0] = op
    code[k, 1] = 0
    code[k, 2] = 0
    code[k, 3] = 0
    data[k, 0] = 0.0
    data[k, 1] = 0.0
    data[k, 2] = 0.0
    data[k, 3] = 0.0
    cat = CATEGORY[op]
    if cat == 0:
        return
    if cat == 3:
        code[k, 3] = _out_addr(state, ADDRESS_KINDS[op, 2], addr)
        if op == Op.SCALAR_CONST_SET_OP:
            data[k, 0] = open_uniform(state, -1.0, 1.0)
        elif op == Op.VECTOR_CONST_SET_OP:
            data[k, 1] = uniform_f32(state, 0.0, 1.0)
            data[k, 2] = uniform_f32(state, -1.0, 1.0)
        elif op == Op.MATRIX_CONST_SET_OP:
            data[k, 1] = uniform_f32(state, 0.0, 1.0)
            data[k, 2] = uniform_f32(state, 0.0, 1.0)
            data[k, 3] = uniform_f32(state, -1.0, 1.0)
        elif GAUSSIAN_SET[op]:
            data[k, 1] = uniform_f32(state, -1.0, 1.0)
            data[k, 2] = uniform_f32(state, 0.0, 1.0)
        else:  # uniform-sets: unsorted bounds
            data[k, 1] = uniform_f32(state, -1.0, 1.0)
            data[k, 2] = uniform_f32(state, -1.0, 1.0)
        return
    code[k, 1] = _in_addr(state, ADDRESS_KINDS[op, 0], addr)
    if cat == 2:
        code[k, 2] = _in_addr(state, ADDRESS_KINDS[op, 1], addr)
    code[k, 3] = _out_addr(state, ADDRESS_KINDS[op, 2], addr)


@njit(**_JIT)
def _lognormal(state, x):
    """x * e^{N(0,1)} keeping the sign: sign(x) exp(ln|x| + N(0,1)); 0 becomes -0.0."""
    g = gaussian(state)
    s = 1.0 if x > 0.0 else -1.0
    return s * math.exp(math.log(abs(x)) + g)


@njit(**_JIT)
def _flip_or_scale(state, x):
    """With probability 0.1 negate (one UniformProbability draw), else log-normal factor."""
    if unit_f32(state) < SIGN_FLIP_PROB:
        return -x
    return _lognormal(state, x)


@njit(**_JIT)
def _f32(x):
    return float(np.float32(x))


@njit(**_JIT)
def alter_data(code, data, k, state):
    """The reference AlterData on a data op (docs/semantics.md#mutations)."""
    op = code[k, 0]
    if op == Op.SCALAR_CONST_SET_OP:
        data[k, 0] = _flip_or_scale(state, data[k, 0])
    elif op == Op.VECTOR_CONST_SET_OP:
        if below(state, 2) == 0:
            data[k, 1] = uniform_f32(state, 0.0, 1.0)
        else:
            data[k, 2] = _f32(_flip_or_scale(state, data[k, 2]))
    elif op == Op.MATRIX_CONST_SET_OP:
        c = below(state, 3)
        if c == 0:
            data[k, 1] = uniform_f32(state, 0.0, 1.0)
        elif c == 1:
            data[k, 2] = uniform_f32(state, 0.0, 1.0)
        else:
            data[k, 3] = _f32(_flip_or_scale(state, data[k, 3]))
    elif GAUSSIAN_SET[op]:
        if below(state, 2) == 0:
            data[k, 1] = _f32(_flip_or_scale(state, data[k, 1]))
        else:
            data[k, 2] = _f32(_lognormal(state, data[k, 2]))
    else:  # uniform-sets: alter low or high, then sort
        if below(state, 2) == 0:
            data[k, 1] = _f32(_flip_or_scale(state, data[k, 1]))
        else:
            data[k, 2] = _f32(_flip_or_scale(state, data[k, 2]))
        lo = data[k, 1]
        hi = data[k, 2]
        if hi < lo:
            data[k, 1] = hi
            data[k, 2] = lo


@njit(**_JIT)
def alter_param(code, data, k, addr, state):
    """The reference AlterParam on row k (docs/semantics.md#mutations); NO_OP is left
    unchanged."""
    op = code[k, 0]
    cat = CATEGORY[op]
    if cat == 0:
        return
    if cat == 3:
        if below(state, 2) == 0:
            code[k, 3] = _out_addr(state, ADDRESS_KINDS[op, 2], addr)
        else:
            alter_data(code, data, k, state)
    elif cat == 1:
        if below(state, 2) == 0:
            code[k, 1] = _in_addr(state, ADDRESS_KINDS[op, 0], addr)
        else:
            code[k, 3] = _out_addr(state, ADDRESS_KINDS[op, 2], addr)
    else:
        c = below(state, 3)
        if c == 0:
            code[k, 1] = _in_addr(state, ADDRESS_KINDS[op, 0], addr)
        elif c == 1:
            code[k, 2] = _in_addr(state, ADDRESS_KINDS[op, 1], addr)
        else:
            code[k, 3] = _out_addr(state, ADDRESS_KINDS[op, 2], addr)


# -- component functions ---------------------------------------------------------------------


@njit(**_JIT)
def comp_start(sizes, c):
    start = 0
    for j in range(c):
        start += sizes[j]
    return start


@njit(**_JIT)
def insert_row(code, data, sizes, c, pos):
    """Open a row at position `pos` of component c (rows after it shift down by one)."""
    total = sizes[0] + sizes[1] + sizes[2]
    at = comp_start(sizes, c) + pos
    for r in range(total, at, -1):
        for q in range(4):
            code[r, q] = code[r - 1, q]
            data[r, q] = data[r - 1, q]
    sizes[c] += 1
    return at


@njit(**_JIT)
def remove_row(code, data, sizes, c, pos):
    """Delete the row at position `pos` of component c."""
    total = sizes[0] + sizes[1] + sizes[2]
    at = comp_start(sizes, c) + pos
    for r in range(at, total - 1):
        for q in range(4):
            code[r, q] = code[r + 1, q]
            data[r, q] = data[r + 1, q]
    sizes[c] -= 1


@njit(**_JIT)
def draw_op(state, ops, n_ops, c):
    return ops[c, below(state, n_ops[c])]


@njit(**_JIT)
def random_component(state, n_ops):
    """Uniform choice among the components with a non-empty op list (-1 if none)."""
    n = 0
    for c in range(3):
        if n_ops[c] > 0:
            n += 1
    if n == 0:
        return -1
    pick = below(state, n)
    for c in range(3):
        if n_ops[c] > 0:
            if pick == 0:
                return c
            pick -= 1
    return -1


@njit(**_JIT)
def randomize_component(code, data, sizes, c, ops, n_ops, addr, state):
    """Re-randomise every instruction of component c (size unchanged): op, then parameters."""
    start = comp_start(sizes, c)
    for k in range(start, start + sizes[c]):
        op = draw_op(state, ops, n_ops, c)
        randomize_params(code, data, k, op, addr, state)


@njit(**_JIT)
def mutate_impl(code, data, sizes, ops, n_ops, addr, smin, smax, types, state):
    """One mutation action (reference MutateImpl)."""
    action = types[below(state, types.shape[0])]
    if action == 3:  # IDENTITY
        return
    if action == 7:  # RANDOMIZE_ALGORITHM
        for c in range(3):
            if n_ops[c] > 0:
                randomize_component(code, data, sizes, c, ops, n_ops, addr, state)
        return
    c = random_component(state, n_ops)
    if c < 0:
        return
    size = sizes[c]
    if action == 0:  # ALTER_PARAM
        if size > 0:
            k = comp_start(sizes, c) + below(state, size)
            alter_param(code, data, k, addr, state)
    elif action == 1:  # RANDOMIZE_INSTRUCTION
        if size > 0:
            k = comp_start(sizes, c) + below(state, size)
            op = draw_op(state, ops, n_ops, c)
            randomize_params(code, data, k, op, addr, state)
    elif action == 2:  # RANDOMIZE_COMPONENT_FUNCTION
        randomize_component(code, data, sizes, c, ops, n_ops, addr, state)
    elif action == 4:  # INSERT_INSTRUCTION: only while size < max - 1 (max 0 = unlimited)
        if smax[c] > 0 and size >= smax[c] - 1:
            return
        op = draw_op(state, ops, n_ops, c)
        pos = below(state, size + 1)
        k = insert_row(code, data, sizes, c, pos)
        randomize_params(code, data, k, op, addr, state)
    elif action == 5:  # REMOVE_INSTRUCTION
        if size <= smin[c]:
            return
        remove_row(code, data, sizes, c, below(state, size))
    elif action == 6:  # TRADE_INSTRUCTION: insert then remove, no limits
        op = draw_op(state, ops, n_ops, c)
        pos = below(state, size + 1)
        k = insert_row(code, data, sizes, c, pos)
        randomize_params(code, data, k, op, addr, state)
        remove_row(code, data, sizes, c, below(state, size + 1))


@njit(**_JIT)
def mutate_rows(num, code, data, sizes, ops, n_ops, addr, smin, smax, types, mutate_prob, state):
    """Reference Mutate(num, ·) in place: with probability mutate_prob (one draw unless
    mutate_prob >= 1) apply `num` actions; Mutate(0) still makes the draw. Returns whether the
    actions were applied."""
    if mutate_prob >= 1.0 or unit_f32(state) < mutate_prob:
        for _ in range(num):
            mutate_impl(code, data, sizes, ops, n_ops, addr, smin, smax, types, state)
        return True
    return False


@njit(**_JIT)
def random_rows(code, data, sizes, ops, n_ops, addr, state):
    """Reference RANDOM_ALGORITHM from a NO_OP start: randomise Setup, Predict, Learn in order
    (components with no allowed ops stay as they are)."""
    for c in range(3):
        if n_ops[c] > 0:
            randomize_component(code, data, sizes, c, ops, n_ops, addr, state)


# -- Python side -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MutationTables:
    """The mutation parameters of a config as the arrays the compiled code reads."""

    ops: np.ndarray  # int32[3, K]
    n_ops: np.ndarray  # int64[3]
    addr: np.ndarray  # int64[3]
    smin: np.ndarray  # int64[3]
    smax: np.ndarray  # int64[3]
    types: np.ndarray  # int64[m]
    mutate_prob: float

    @classmethod
    def from_config(cls, config: SearchConfig) -> MutationTables:
        lists = config.ops
        k = max(1, max(len(o) for o in lists))
        ops = np.zeros((3, k), dtype=np.int32)
        for c, o in enumerate(lists):
            ops[c, : len(o)] = o
        m = config.memory
        return cls(
            ops=ops,
            n_ops=np.array([len(o) for o in lists], dtype=np.int64),
            addr=np.array([m.scalars, m.vectors, max(m.matrices, 1)], dtype=np.int64),
            smin=np.array(config.size_min, dtype=np.int64),
            smax=np.array(config.size_max, dtype=np.int64),
            types=np.array(config.mutation_numbers, dtype=np.int64),
            mutate_prob=float(config.mutate_prob),
        )


def program_rows(program: Program, capacity: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A program as a writable row buffer with at least `capacity` rows."""
    n = len(program)
    rows = max(capacity, n + 1)
    code = np.zeros((rows, 4), dtype=np.int32)
    data = np.zeros((rows, 4), dtype=np.float64)
    code[:n] = program.code
    data[:n] = program.data
    return code, data, np.array(program.sizes(), dtype=np.int64)


def rows_program(code: np.ndarray, data: np.ndarray, sizes: np.ndarray) -> Program:
    """The Program held by a row buffer."""
    s, p, lrn = (int(x) for x in sizes)
    n = s + p + lrn
    return Program.from_arrays(code[:n], data[:n], [0, s, s + p, n])


def mutate(
    program: Program,
    config: SearchConfig,
    rng: np.ndarray | int,
    num_mutations: int = 1,
) -> Program:
    """Reference `Mutate(num_mutations, program)`: the (possibly unchanged) child.

    `rng` is a generator state array (`amlz_compile.rng.new_state`), advanced in place, or an
    int seed.
    """
    state = new_state(rng) if isinstance(rng, int) else rng
    t = MutationTables.from_config(config)
    code, data, sizes = program_rows(program, len(program) + num_mutations + 1)
    mutate_rows(num_mutations, code, data, sizes, t.ops, t.n_ops, t.addr, t.smin, t.smax,
                t.types, t.mutate_prob, state)  # fmt: skip
    return rows_program(code, data, sizes)
