"""The elementwise ops: one scalar function per meaning (`add`, `sin`, `heaviside_gt`, ...),
applied to scalars directly and to vectors and matrices element by element (`_map1`, `_map2`,
`_scale`), so e.g. SCALAR_SUM, VECTOR_SUM and MATRIX_SUM share one definition of a sum.

The ops' arguments are described in `ir.op_kernels`. With F = 4 the maps go four elements at a
time through locals (see `common`).
"""

from __future__ import annotations

import math

from numba import njit, uint64

from .common import _INLINE, _OP, _ld4, _mat, _st4, _vec

# -- what one element computes --------------------------------------------------------------


@njit(**_INLINE)
def add(x, y):
    return x + y


@njit(**_INLINE)
def sub(x, y):
    return x - y


@njit(**_INLINE)
def mul(x, y):
    return x * y


@njit(**_INLINE)
def div(x, y):
    return x / y


@njit(**_INLINE)
def absolute(x):
    return abs(x)


@njit(**_INLINE)
def reciprocal(x):
    return 1.0 / x


@njit(**_INLINE)
def heaviside_ge(x):
    """The scalar heaviside: 1 for x >= 0 (NaN gives 0)."""
    return 1.0 if x >= 0.0 else 0.0


@njit(**_INLINE)
def heaviside_gt(x):
    """The vector and matrix heaviside: 1 for x > 0 (NaN gives 0)."""
    return 1.0 if x > 0.0 else 0.0


@njit(**_INLINE)
def std_min(x, y):
    """The scalar min, std::min(x, y): a NaN in either gives x."""
    return y if y < x else x


@njit(**_INLINE)
def std_max(x, y):
    """The scalar max, std::max(x, y): a NaN in either gives x."""
    return y if x < y else x


@njit(**_INLINE)
def elementwise_min(x, y):
    """The vector and matrix min: a NaN in either gives y."""
    return x if x < y else y


@njit(**_INLINE)
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
def _scale(mem, a, b, c, n, F):
    """mem[c + i] = s * mem[b + i] for i < n, s the scalar at a."""
    s = mem[a]
    if F == 4:
        for i in range(uint64(0), n, uint64(4)):
            y0, y1, y2, y3 = _ld4(mem, b + i)
            _st4(mem, c + i, s * y0, s * y1, s * y2, s * y3)
        return
    for i in range(n):
        mem[c + i] = s * mem[b + i]


# -- scalar ops ------------------------------------------------------------------------------


@njit(**_OP)
def scalar_sum_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    mem[c] = add(mem[a], mem[b])


@njit(**_OP)
def scalar_diff_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    mem[c] = sub(mem[a], mem[b])


@njit(**_OP)
def scalar_product_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    mem[c] = mul(mem[a], mem[b])


@njit(**_OP)
def scalar_division_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    mem[c] = div(mem[a], mem[b])


@njit(**_OP)
def scalar_abs_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    mem[c] = absolute(mem[a])


@njit(**_OP)
def scalar_reciprocal_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    mem[c] = reciprocal(mem[a])


@njit(**_OP)
def scalar_sin_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    mem[c] = math.sin(mem[a])


@njit(**_OP)
def scalar_cos_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    mem[c] = math.cos(mem[a])


@njit(**_OP)
def scalar_tan_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    mem[c] = math.tan(mem[a])


@njit(**_OP)
def scalar_arcsin_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    mem[c] = math.asin(mem[a])


@njit(**_OP)
def scalar_arccos_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    mem[c] = math.acos(mem[a])


@njit(**_OP)
def scalar_arctan_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    mem[c] = math.atan(mem[a])


@njit(**_OP)
def scalar_exp_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    mem[c] = math.exp(mem[a])


@njit(**_OP)
def scalar_log_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    mem[c] = math.log(mem[a])


@njit(**_OP)
def scalar_heavyside_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    mem[c] = heaviside_ge(mem[a])


@njit(**_OP)
def scalar_min_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    mem[c] = std_min(mem[a], mem[b])


@njit(**_OP)
def scalar_max_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    mem[c] = std_max(mem[a], mem[b])


# -- vector ops ------------------------------------------------------------------------------


@njit(**_OP)
def vector_heavyside_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    _map1(mem, a, c, _vec(F), F, heaviside_gt)


@njit(**_OP)
def scalar_vector_product_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    _scale(mem, a, b, c, _vec(F), F)


@njit(**_OP)
def scalar_broadcast_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    s = mem[a]
    for i in range(_vec(F)):
        mem[c + i] = s


@njit(**_OP)
def vector_reciprocal_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    _map1(mem, a, c, _vec(F), F, reciprocal)


@njit(**_OP)
def vector_abs_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    _map1(mem, a, c, _vec(F), F, absolute)


@njit(**_OP)
def vector_sum_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    _map2(mem, a, b, c, _vec(F), F, add)


@njit(**_OP)
def vector_diff_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    _map2(mem, a, b, c, _vec(F), F, sub)


@njit(**_OP)
def vector_product_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    _map2(mem, a, b, c, _vec(F), F, mul)


@njit(**_OP)
def vector_division_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    _map2(mem, a, b, c, _vec(F), F, div)


@njit(**_OP)
def vector_min_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    _map2(mem, a, b, c, _vec(F), F, elementwise_min)


@njit(**_OP)
def vector_max_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    _map2(mem, a, b, c, _vec(F), F, elementwise_max)


# -- matrix ops ------------------------------------------------------------------------------


@njit(**_OP)
def matrix_heavyside_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    _map1(mem, a, c, _mat(F), F, heaviside_gt)


@njit(**_OP)
def scalar_matrix_product_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    _scale(mem, a, b, c, _mat(F), F)


@njit(**_OP)
def matrix_reciprocal_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    _map1(mem, a, c, _mat(F), F, reciprocal)


@njit(**_OP)
def matrix_abs_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    _map1(mem, a, c, _mat(F), F, absolute)


@njit(**_OP)
def matrix_sum_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    _map2(mem, a, b, c, _mat(F), F, add)


@njit(**_OP)
def matrix_diff_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    _map2(mem, a, b, c, _mat(F), F, sub)


@njit(**_OP)
def matrix_product_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    _map2(mem, a, b, c, _mat(F), F, mul)


@njit(**_OP)
def matrix_division_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    _map2(mem, a, b, c, _mat(F), F, div)


@njit(**_OP)
def matrix_min_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    _map2(mem, a, b, c, _mat(F), F, elementwise_min)


@njit(**_OP)
def matrix_max_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    _map2(mem, a, b, c, _mat(F), F, elementwise_max)
