"""The ops that read no memory: NO_OP, the const-set ops (a data field into an element) and
the uniform- and gaussian-set ops (draws from the generator, in index order).

One function per op, made from the op table's facts (which data field, which output kind); the
arguments are described in `ir.op_kernels`.
"""

from __future__ import annotations

from numba import njit

from ...rng import nb_gaussian, nb_uniform
from ..ops import DATA_FIELD_NAMES, OPS, SCALAR, Op
from .common import _INLINE, _OP, _count, is_matrix_op, op_function


@njit(**_INLINE)
def _draws(mem, c, n, rng, p, q, draw):
    """mem[c + i] = draw(rng, p, q) for i < n, in index order."""
    for i in range(n):
        mem[c + i] = draw(rng, p, q)


@njit(**_OP)
def no_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """NoOp(): nothing (decoding drops it; here so that every op has a function)."""


def _const_set_op(op: Op):
    """A const-set op's function: its last data field into its output (`c` includes the
    element index of a vector or matrix one)."""
    column = DATA_FIELD_NAMES.index(OPS[op].data[-1])

    def body(mem, a, b, c, F, dd, row, rng, tv, tm):
        mem[c] = dd[row, column]

    return op_function(op, body)


def _draw_op(op: Op, gaussian: bool):
    """A random-set op's function: a draw (gaussian(f0, f1), else uniform(f0, f1)) into each
    element of its output. The closure captures the flag, not the draw: numba's cache cannot
    key a captured compiled function."""
    info = OPS[op]
    matrix = is_matrix_op(op)
    if info.out == SCALAR:

        def body(mem, a, b, c, F, dd, row, rng, tv, tm):
            p, q = dd[row, 1], dd[row, 2]
            mem[c] = nb_gaussian(rng, p, q) if gaussian else nb_uniform(rng, p, q)

    elif gaussian:

        def body(mem, a, b, c, F, dd, row, rng, tv, tm):
            _draws(mem, c, _count(F, matrix), rng, dd[row, 1], dd[row, 2], nb_gaussian)

    else:

        def body(mem, a, b, c, F, dd, row, rng, tv, tm):
            _draws(mem, c, _count(F, matrix), rng, dd[row, 1], dd[row, 2], nb_uniform)

    return op_function(op, body)


_CONST_SETS = (Op.SCALAR_CONST_SET_OP, Op.VECTOR_CONST_SET_OP, Op.MATRIX_CONST_SET_OP)
_UNIFORM_SETS = (Op.SCALAR_UNIFORM_SET_OP, Op.VECTOR_UNIFORM_SET_OP, Op.MATRIX_UNIFORM_SET_OP)
_GAUSSIAN_SETS = (Op.SCALAR_GAUSSIAN_SET_OP, Op.VECTOR_GAUSSIAN_SET_OP, Op.MATRIX_GAUSSIAN_SET_OP)

# Each op's function under its name (`op_kernels.function_name`), as the dispatch imports it.
globals().update(
    {OPS[op].name.lower(): _const_set_op(op) for op in _CONST_SETS}
    | {OPS[op].name.lower(): _draw_op(op, gaussian=False) for op in _UNIFORM_SETS}
    | {OPS[op].name.lower(): _draw_op(op, gaussian=True) for op in _GAUSSIAN_SETS}
)
