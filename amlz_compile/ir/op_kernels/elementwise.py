"""The elementwise ops: one scalar function per meaning (`operator.add`, `math.sin`,
`heaviside_gt`, ...), applied to scalars directly and to vectors and matrices element by element
(`_map1`, `_map2`, `_scale`), so e.g. SCALAR_SUM, VECTOR_SUM and MATRIX_SUM share one
definition of a sum.

`MEANING` pairs each op with its element function; the op table's operand kinds say how it is
applied, and `_op_function` makes the op's function from the two. The ops' arguments are
described in `ir.op_kernels`. With F = 4 the maps go four elements at a time through locals
(see `common`).
"""

from __future__ import annotations

import math
import operator

from numba import njit, uint64
from numba.extending import register_jitable

from ..ops import OPS, SCALAR, Op
from .common import _INLINE, _OP, _count, _ld4, _st4, _vec, is_matrix_op, op_function

# -- what one element computes, besides Python's own operators and math functions: plain
# functions numba compiles where they are called and LLVM inlines. The op functions below capture
# them, and numba's cache keys a captured plain function by its name (a captured compiled
# function would make every process miss the cache) -------------------------------------------


@register_jitable
def reciprocal(x):
    return 1.0 / x


@register_jitable
def heaviside_ge(x):
    """The scalar heaviside: 1 for x >= 0 (NaN gives 0)."""
    return 1.0 if x >= 0.0 else 0.0


@register_jitable
def heaviside_gt(x):
    """The vector and matrix heaviside: 1 for x > 0 (NaN gives 0)."""
    return 1.0 if x > 0.0 else 0.0


@register_jitable
def std_min(x, y):
    """The scalar min, std::min(x, y): a NaN in either gives x."""
    return y if y < x else x


@register_jitable
def std_max(x, y):
    """The scalar max, std::max(x, y): a NaN in either gives x."""
    return y if x < y else x


@register_jitable
def elementwise_min(x, y):
    """The vector and matrix min: a NaN in either gives y."""
    return x if x < y else y


@register_jitable
def elementwise_max(x, y):
    """The vector and matrix max: a NaN in either gives y."""
    return x if x > y else y


# -- applying it to n elements (n = F for vectors, F * F for matrices) ----------------------------


@njit(**_INLINE)
def _map1(mem, a, c, n, F, f):
    """mem[c + i] = f(mem[a + i]) for i < n."""
    if F == 4:
        for i in range(uint64(0), n, uint64(4)):
            x0, x1, x2, x3 = _ld4(mem, a + i)
            _st4(mem, c + i, f(x0), f(x1), f(x2), f(x3))
        return
    for i in range(n):
        mem[c + i] = f(mem[a + i])


@njit(**_INLINE)
def _map2(mem, a, b, c, n, F, f):
    """mem[c + i] = f(mem[a + i], mem[b + i]) for i < n."""
    if F == 4:
        for i in range(uint64(0), n, uint64(4)):
            x0, x1, x2, x3 = _ld4(mem, a + i)
            y0, y1, y2, y3 = _ld4(mem, b + i)
            _st4(mem, c + i, f(x0, y0), f(x1, y1), f(x2, y2), f(x3, y3))
        return
    for i in range(n):
        mem[c + i] = f(mem[a + i], mem[b + i])


@njit(**_INLINE)
def _scale(mem, a, b, c, n, F, f):
    """mem[c + i] = f(s, mem[b + i]) for i < n, s the scalar at a."""
    s = mem[a]
    if F == 4:
        for i in range(uint64(0), n, uint64(4)):
            y0, y1, y2, y3 = _ld4(mem, b + i)
            _st4(mem, c + i, f(s, y0), f(s, y1), f(s, y2), f(s, y3))
        return
    for i in range(n):
        mem[c + i] = f(s, mem[b + i])


# -- each op's element function, and the op functions made from them -------------------------

MEANING = {
    **dict.fromkeys((Op.SCALAR_SUM_OP, Op.VECTOR_SUM_OP, Op.MATRIX_SUM_OP), operator.add),
    **dict.fromkeys((Op.SCALAR_DIFF_OP, Op.VECTOR_DIFF_OP, Op.MATRIX_DIFF_OP), operator.sub),
    **dict.fromkeys(
        (Op.SCALAR_PRODUCT_OP, Op.VECTOR_PRODUCT_OP, Op.MATRIX_PRODUCT_OP), operator.mul
    ),
    **dict.fromkeys((Op.SCALAR_VECTOR_PRODUCT_OP, Op.SCALAR_MATRIX_PRODUCT_OP), operator.mul),
    **dict.fromkeys(
        (Op.SCALAR_DIVISION_OP, Op.VECTOR_DIVISION_OP, Op.MATRIX_DIVISION_OP), operator.truediv
    ),
    **dict.fromkeys((Op.SCALAR_ABS_OP, Op.VECTOR_ABS_OP, Op.MATRIX_ABS_OP), abs),
    **dict.fromkeys(
        (Op.SCALAR_RECIPROCAL_OP, Op.VECTOR_RECIPROCAL_OP, Op.MATRIX_RECIPROCAL_OP), reciprocal
    ),
    Op.SCALAR_SIN_OP: math.sin,
    Op.SCALAR_COS_OP: math.cos,
    Op.SCALAR_TAN_OP: math.tan,
    Op.SCALAR_ARCSIN_OP: math.asin,
    Op.SCALAR_ARCCOS_OP: math.acos,
    Op.SCALAR_ARCTAN_OP: math.atan,
    Op.SCALAR_EXP_OP: math.exp,
    Op.SCALAR_LOG_OP: math.log,
    Op.SCALAR_HEAVYSIDE_OP: heaviside_ge,
    **dict.fromkeys((Op.VECTOR_HEAVYSIDE_OP, Op.MATRIX_HEAVYSIDE_OP), heaviside_gt),
    Op.SCALAR_MIN_OP: std_min,
    **dict.fromkeys((Op.VECTOR_MIN_OP, Op.MATRIX_MIN_OP), elementwise_min),
    Op.SCALAR_MAX_OP: std_max,
    **dict.fromkeys((Op.VECTOR_MAX_OP, Op.MATRIX_MAX_OP), elementwise_max),
}


def _op_function(op: Op, f):
    """Op `op`'s function applying `f` as its operand kinds say: to scalars, to each element of
    vectors or matrices, or a scalar to each element (`_scale`)."""
    info = OPS[op]
    matrix = is_matrix_op(op)
    if info.out == SCALAR and info.arity == 1:

        def body(mem, a, b, c, F, dd, row, rng, tv, tm):
            mem[c] = f(mem[a])

    elif info.out == SCALAR:

        def body(mem, a, b, c, F, dd, row, rng, tv, tm):
            mem[c] = f(mem[a], mem[b])

    elif info.in1 == SCALAR:

        def body(mem, a, b, c, F, dd, row, rng, tv, tm):
            _scale(mem, a, b, c, _count(F, matrix), F, f)

    elif info.arity == 1:

        def body(mem, a, b, c, F, dd, row, rng, tv, tm):
            _map1(mem, a, c, _count(F, matrix), F, f)

    else:

        def body(mem, a, b, c, F, dd, row, rng, tv, tm):
            _map2(mem, a, b, c, _count(F, matrix), F, f)

    return op_function(op, body)


# Each op's function under its name (`op_kernels.function_name`), as the dispatch imports it.
globals().update({OPS[op].name.lower(): _op_function(op, f) for op, f in MEANING.items()})


@njit(**_OP)
def scalar_broadcast_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    s = mem[a]
    for i in range(_vec(F)):
        mem[c + i] = s
