"""The ops whose output elements combine several input elements by position: outer,
matrix-vector and matrix-matrix products, transposes and broadcasts. Those whose output may
alias an input go through the scratch areas tv / tm (docs/semantics.md#shared-numeric-rules).
The ops' arguments are described in `ir.op_kernels`.
"""

from __future__ import annotations

from numba import njit, uint64

from .common import _OP, _copy, _dot4, _ld4, _mat, _st4, _vec


@njit(**_OP)
def vector_outer_product_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    UF = uint64(F)
    if F == 4:
        x0, x1, x2, x3 = _ld4(mem, a)
        y0, y1, y2, y3 = _ld4(mem, b)
        _st4(mem, c, x0 * y0, x0 * y1, x0 * y2, x0 * y3)
        _st4(mem, c + uint64(4), x1 * y0, x1 * y1, x1 * y2, x1 * y3)
        _st4(mem, c + uint64(8), x2 * y0, x2 * y1, x2 * y2, x2 * y3)
        _st4(mem, c + uint64(12), x3 * y0, x3 * y1, x3 * y2, x3 * y3)
        return
    for i in range(UF):
        s = mem[a + i]
        for j in range(UF):
            mem[c + i * UF + j] = s * mem[b + j]


@njit(**_OP)
def matrix_vector_product_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    UF = uint64(F)
    if F == 4:
        y0, y1, y2, y3 = _ld4(mem, b)
        m0, m1, m2, m3 = _ld4(mem, a)
        r0 = _dot4(m0, m1, m2, m3, y0, y1, y2, y3)
        m0, m1, m2, m3 = _ld4(mem, a + uint64(4))
        r1 = _dot4(m0, m1, m2, m3, y0, y1, y2, y3)
        m0, m1, m2, m3 = _ld4(mem, a + uint64(8))
        r2 = _dot4(m0, m1, m2, m3, y0, y1, y2, y3)
        m0, m1, m2, m3 = _ld4(mem, a + uint64(12))
        r3 = _dot4(m0, m1, m2, m3, y0, y1, y2, y3)
        _st4(mem, c, r0, r1, r2, r3)
        return
    for i in range(UF):
        acc = 0.0
        for j in range(UF):
            acc += mem[a + i * UF + j] * mem[b + j]
        mem[tv + i] = acc
    _copy(mem, tv, c, _vec(F))


@njit(**_OP)
def matrix_matrix_product_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    UF = uint64(F)
    for i in range(UF):
        for j in range(UF):
            acc = 0.0
            for q in range(UF):
                acc += mem[a + i * UF + q] * mem[b + q * UF + j]
            mem[tm + i * UF + j] = acc
    _copy(mem, tm, c, _mat(F))


@njit(**_OP)
def matrix_transpose_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    UF = uint64(F)
    for i in range(UF):
        for j in range(UF):
            mem[tm + i * UF + j] = mem[a + j * UF + i]
    _copy(mem, tm, c, _mat(F))


@njit(**_OP)
def vector_column_broadcast_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    UF = uint64(F)
    for i in range(UF):
        s = mem[a + i]
        for j in range(UF):
            mem[c + i * UF + j] = s


@njit(**_OP)
def vector_row_broadcast_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    UF = uint64(F)
    for i in range(UF):
        for j in range(UF):
            mem[c + i * UF + j] = mem[a + j]
