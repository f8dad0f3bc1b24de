"""The ops that reduce elements to one number (or one per row or column): dot products, norms,
means and standard deviations. Every sum starts at 0.0 and adds in index order (row-major for
matrices); the standard deviation is the one-pass sqrt(E[x^2] - mean^2), unguarded
(docs/semantics.md#shared-numeric-rules). The ops' arguments are described in `ir.op_kernels`.
"""

from __future__ import annotations

import math

from numba import njit, uint64

from .common import _INLINE, _OP


@njit(**_INLINE)
def _sum(mem, a, n, stride):
    """mem[a] + mem[a + stride] + ... (n terms), from 0.0."""
    acc = 0.0
    for i in range(n):
        acc += mem[a + i * stride]
    return acc


@njit(**_INLINE)
def _sum_squares(mem, a, n, stride):
    """mem[a]^2 + mem[a + stride]^2 + ... (n terms), from 0.0."""
    acc = 0.0
    for i in range(n):
        x = mem[a + i * stride]
        acc += x * x
    return acc


@njit(**_INLINE)
def _std(mem, a, n, count):
    """The one-pass standard deviation of the n = count contiguous values at a."""
    acc = 0.0
    sq = 0.0
    for i in range(n):
        x = mem[a + i]
        acc += x
        sq += x * x
    mean = acc / count
    return math.sqrt(sq / count - mean * mean)


@njit(**_OP)
def vector_inner_product_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    acc = 0.0
    for i in range(uint64(F)):
        acc += mem[a + i] * mem[b + i]
    mem[c] = acc


@njit(**_OP)
def vector_norm_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    mem[c] = math.sqrt(_sum_squares(mem, a, uint64(F), uint64(1)))


@njit(**_OP)
def matrix_norm_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    mem[c] = math.sqrt(_sum_squares(mem, a, uint64(F * F), uint64(1)))


@njit(**_OP)
def matrix_column_norm_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    UF = uint64(F)
    for j in range(UF):
        mem[c + j] = math.sqrt(_sum_squares(mem, a + j, UF, UF))


@njit(**_OP)
def matrix_row_norm_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    UF = uint64(F)
    for i in range(UF):
        mem[c + i] = math.sqrt(_sum_squares(mem, a + i * UF, UF, uint64(1)))


@njit(**_OP)
def vector_mean_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    mem[c] = _sum(mem, a, uint64(F), uint64(1)) / F


@njit(**_OP)
def matrix_mean_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    mem[c] = _sum(mem, a, uint64(F * F), uint64(1)) / (F * F)


@njit(**_OP)
def matrix_row_mean_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    UF = uint64(F)
    for i in range(UF):
        mem[c + i] = _sum(mem, a + i * UF, UF, uint64(1)) / F


@njit(**_OP)
def vector_st_dev_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    mem[c] = _std(mem, a, uint64(F), F)


@njit(**_OP)
def matrix_st_dev_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    mem[c] = _std(mem, a, uint64(F * F), F * F)


@njit(**_OP)
def matrix_row_st_dev_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    UF = uint64(F)
    for i in range(UF):
        mem[c + i] = _std(mem, a + i * UF, UF, F)
