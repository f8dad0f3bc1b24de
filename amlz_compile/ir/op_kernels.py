"""What every op computes, written once: one small numba function per op, as the official C++
executor has one tiny function per op.

Each function runs one decoded instruction on the interpreter's flat memory: `mem` holds
scalars, vectors and matrices (row-major) back to back, `a`, `b`, `c` are the offsets of in1,
in2 and out (unsigned, so indexing needs no negative-index wraparound; a const-set's `c`
already includes the element index), `F` the feature size, `dd[row]` the instruction's data
(act, f0, f1, f2), `rng` the generator state, `tv` / `tm` scratch for products that may alias
their inputs (F and F*F entries). The interpreter's dispatch (`ir.op_dispatch`) is generated
from the op table and calls these by name (`function_name`); constant folding runs the same
functions on one-element memory. What the ops mean, and the choices the reference leaves open
(summation order, NaN in min/max, the one-pass standard deviation), is in docs/semantics.md#ops.

F = 4 gets straight-line code in the ops where it pays: inputs are loaded into locals before
anything is stored, which gives the same results as the element loops (operands either coincide
exactly or do not overlap, and every output element depends only on inputs read before it is
stored) but lets LLVM keep them in registers. It is the same function, for a constant F.
"""

from __future__ import annotations

import math

from numba import njit, uint64

from ..rng import nb_gaussian, nb_uniform
from .ops import OPS, OpInfo

# Numba-IR inlining into the caller: no call boundary, no reference counting of the buffers.
_INLINE = {"cache": True, "error_model": "numpy", "nogil": True, "inline": "always"}


def function_name(info: OpInfo) -> str:
    """The name of op `info`'s function here: its enum name in lower case."""
    return info.name.lower()


@njit(**_INLINE)
def _ld4(mem, a):
    """mem[a:a+4] as a tuple of locals."""
    return mem[a], mem[a + uint64(1)], mem[a + uint64(2)], mem[a + uint64(3)]


@njit(**_INLINE)
def _st4(mem, c, x0, x1, x2, x3):
    """mem[c:c+4] = x0..x3."""
    mem[c] = x0
    mem[c + uint64(1)] = x1
    mem[c + uint64(2)] = x2
    mem[c + uint64(3)] = x3


@njit(**_INLINE)
def _dot4(m0, m1, m2, m3, v0, v1, v2, v3):
    """A row-times-vector product accumulated from 0.0 in index order (as the loops do)."""
    acc = 0.0
    acc += m0 * v0
    acc += m1 * v1
    acc += m2 * v2
    acc += m3 * v3
    return acc


@njit(**_INLINE)
def no_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """NoOp(): nothing (decoding drops it; here so that every op has a function)."""


@njit(**_INLINE)
def scalar_sum_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = in1 + in2"""
    mem[c] = mem[a] + mem[b]


@njit(**_INLINE)
def scalar_diff_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = in1 - in2"""
    mem[c] = mem[a] - mem[b]


@njit(**_INLINE)
def scalar_product_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = in1 * in2"""
    mem[c] = mem[a] * mem[b]


@njit(**_INLINE)
def scalar_division_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = in1 / in2"""
    mem[c] = mem[a] / mem[b]


@njit(**_INLINE)
def scalar_abs_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = abs(in1)"""
    mem[c] = abs(mem[a])


@njit(**_INLINE)
def scalar_reciprocal_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = 1 / in1"""
    mem[c] = 1.0 / mem[a]


@njit(**_INLINE)
def scalar_sin_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = sin(in1)"""
    mem[c] = math.sin(mem[a])


@njit(**_INLINE)
def scalar_cos_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = cos(in1)"""
    mem[c] = math.cos(mem[a])


@njit(**_INLINE)
def scalar_tan_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = tan(in1)"""
    mem[c] = math.tan(mem[a])


@njit(**_INLINE)
def scalar_arcsin_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = arcsin(in1)"""
    mem[c] = math.asin(mem[a])


@njit(**_INLINE)
def scalar_arccos_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = arccos(in1)"""
    mem[c] = math.acos(mem[a])


@njit(**_INLINE)
def scalar_arctan_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = arctan(in1)"""
    mem[c] = math.atan(mem[a])


@njit(**_INLINE)
def scalar_exp_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = exp(in1)"""
    mem[c] = math.exp(mem[a])


@njit(**_INLINE)
def scalar_log_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = log(in1)"""
    mem[c] = math.log(mem[a])


@njit(**_INLINE)
def scalar_heavyside_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = heaviside(in1, 1.0)"""
    mem[c] = 1.0 if mem[a] >= 0.0 else 0.0


@njit(**_INLINE)
def vector_heavyside_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = heaviside(in1, 1.0)"""
    UF = uint64(F)
    if F == 4:
        x0, x1, x2, x3 = _ld4(mem, a)
        _st4(
            mem, c, 1.0 if x0 > 0.0 else 0.0, 1.0 if x1 > 0.0 else 0.0,
            1.0 if x2 > 0.0 else 0.0, 1.0 if x3 > 0.0 else 0.0,
        )  # fmt: skip
        return
    for i in range(UF):
        mem[c + i] = 1.0 if mem[a + i] > 0.0 else 0.0


@njit(**_INLINE)
def matrix_heavyside_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = heaviside(in1, 1.0)"""
    UFF = uint64(F * F)
    for i in range(UFF):
        mem[c + i] = 1.0 if mem[a + i] > 0.0 else 0.0


@njit(**_INLINE)
def scalar_vector_product_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = in1 * in2"""
    UF = uint64(F)
    s = mem[a]
    if F == 4:
        y0, y1, y2, y3 = _ld4(mem, b)
        _st4(mem, c, s * y0, s * y1, s * y2, s * y3)
        return
    for i in range(UF):
        mem[c + i] = s * mem[b + i]


@njit(**_INLINE)
def scalar_broadcast_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = bcast(in1)"""
    UF = uint64(F)
    s = mem[a]
    for i in range(UF):
        mem[c + i] = s


@njit(**_INLINE)
def vector_reciprocal_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = 1 / in1"""
    UF = uint64(F)
    for i in range(UF):
        mem[c + i] = 1.0 / mem[a + i]


@njit(**_INLINE)
def vector_norm_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = norm(in1)"""
    UF = uint64(F)
    acc = 0.0
    for i in range(UF):
        acc += mem[a + i] * mem[a + i]
    mem[c] = math.sqrt(acc)


@njit(**_INLINE)
def vector_abs_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = abs(in1)"""
    UF = uint64(F)
    for i in range(UF):
        mem[c + i] = abs(mem[a + i])


@njit(**_INLINE)
def vector_sum_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = in1 + in2"""
    UF = uint64(F)
    if F == 4:
        x0, x1, x2, x3 = _ld4(mem, a)
        y0, y1, y2, y3 = _ld4(mem, b)
        _st4(mem, c, x0 + y0, x1 + y1, x2 + y2, x3 + y3)
        return
    for i in range(UF):
        mem[c + i] = mem[a + i] + mem[b + i]


@njit(**_INLINE)
def vector_diff_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = in1 - in2"""
    UF = uint64(F)
    if F == 4:
        x0, x1, x2, x3 = _ld4(mem, a)
        y0, y1, y2, y3 = _ld4(mem, b)
        _st4(mem, c, x0 - y0, x1 - y1, x2 - y2, x3 - y3)
        return
    for i in range(UF):
        mem[c + i] = mem[a + i] - mem[b + i]


@njit(**_INLINE)
def vector_product_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = in1 * in2"""
    UF = uint64(F)
    if F == 4:
        x0, x1, x2, x3 = _ld4(mem, a)
        y0, y1, y2, y3 = _ld4(mem, b)
        _st4(mem, c, x0 * y0, x1 * y1, x2 * y2, x3 * y3)
        return
    for i in range(UF):
        mem[c + i] = mem[a + i] * mem[b + i]


@njit(**_INLINE)
def vector_division_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = in1 / in2"""
    UF = uint64(F)
    for i in range(UF):
        mem[c + i] = mem[a + i] / mem[b + i]


@njit(**_INLINE)
def vector_inner_product_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = dot(in1, in2)"""
    UF = uint64(F)
    acc = 0.0
    for i in range(UF):
        acc += mem[a + i] * mem[b + i]
    mem[c] = acc


@njit(**_INLINE)
def vector_outer_product_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = outer(in1, in2)"""
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


@njit(**_INLINE)
def scalar_matrix_product_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = in1 * in2"""
    UFF = uint64(F * F)
    s = mem[a]
    for i in range(UFF):
        mem[c + i] = s * mem[b + i]


@njit(**_INLINE)
def matrix_reciprocal_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = 1 / in1"""
    UFF = uint64(F * F)
    for i in range(UFF):
        mem[c + i] = 1.0 / mem[a + i]


@njit(**_INLINE)
def matrix_vector_product_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = dot(in1, in2)"""
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
    for i in range(UF):
        mem[c + i] = mem[tv + i]


@njit(**_INLINE)
def vector_column_broadcast_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = bcast(in1, axis=0)"""
    UF = uint64(F)
    for i in range(UF):
        s = mem[a + i]
        for j in range(UF):
            mem[c + i * UF + j] = s


@njit(**_INLINE)
def vector_row_broadcast_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = bcast(in1, axis=1)"""
    UF = uint64(F)
    for i in range(UF):
        for j in range(UF):
            mem[c + i * UF + j] = mem[a + j]


@njit(**_INLINE)
def matrix_norm_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = norm(in1)"""
    UFF = uint64(F * F)
    acc = 0.0
    for i in range(UFF):
        acc += mem[a + i] * mem[a + i]
    mem[c] = math.sqrt(acc)


@njit(**_INLINE)
def matrix_column_norm_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = norm(in1, axis=0)"""
    UF = uint64(F)
    for j in range(UF):
        acc = 0.0
        for i in range(UF):
            acc += mem[a + i * UF + j] * mem[a + i * UF + j]
        mem[c + j] = math.sqrt(acc)


@njit(**_INLINE)
def matrix_row_norm_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = norm(in1, axis=1)"""
    UF = uint64(F)
    for i in range(UF):
        acc = 0.0
        for j in range(UF):
            acc += mem[a + i * UF + j] * mem[a + i * UF + j]
        mem[c + i] = math.sqrt(acc)


@njit(**_INLINE)
def matrix_transpose_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = transpose(in1)"""
    UFF = uint64(F * F)
    UF = uint64(F)
    for i in range(UF):
        for j in range(UF):
            mem[tm + i * UF + j] = mem[a + j * UF + i]
    for i in range(UFF):
        mem[c + i] = mem[tm + i]


@njit(**_INLINE)
def matrix_abs_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = abs(in1)"""
    UFF = uint64(F * F)
    for i in range(UFF):
        mem[c + i] = abs(mem[a + i])


@njit(**_INLINE)
def matrix_sum_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = in1 + in2"""
    UFF = uint64(F * F)
    if F == 4:
        for i in range(uint64(0), uint64(16), uint64(4)):
            x0, x1, x2, x3 = _ld4(mem, a + i)
            y0, y1, y2, y3 = _ld4(mem, b + i)
            _st4(mem, c + i, x0 + y0, x1 + y1, x2 + y2, x3 + y3)
        return
    for i in range(UFF):
        mem[c + i] = mem[a + i] + mem[b + i]


@njit(**_INLINE)
def matrix_diff_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = in1 - in2"""
    UFF = uint64(F * F)
    if F == 4:
        for i in range(uint64(0), uint64(16), uint64(4)):
            x0, x1, x2, x3 = _ld4(mem, a + i)
            y0, y1, y2, y3 = _ld4(mem, b + i)
            _st4(mem, c + i, x0 - y0, x1 - y1, x2 - y2, x3 - y3)
        return
    for i in range(UFF):
        mem[c + i] = mem[a + i] - mem[b + i]


@njit(**_INLINE)
def matrix_product_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = in1 * in2"""
    UFF = uint64(F * F)
    if F == 4:
        for i in range(uint64(0), uint64(16), uint64(4)):
            x0, x1, x2, x3 = _ld4(mem, a + i)
            y0, y1, y2, y3 = _ld4(mem, b + i)
            _st4(mem, c + i, x0 * y0, x1 * y1, x2 * y2, x3 * y3)
        return
    for i in range(UFF):
        mem[c + i] = mem[a + i] * mem[b + i]


@njit(**_INLINE)
def matrix_division_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = in1 / in2"""
    UFF = uint64(F * F)
    for i in range(UFF):
        mem[c + i] = mem[a + i] / mem[b + i]


@njit(**_INLINE)
def matrix_matrix_product_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = matmul(in1, in2)"""
    UFF = uint64(F * F)
    UF = uint64(F)
    for i in range(UF):
        for j in range(UF):
            acc = 0.0
            for q in range(UF):
                acc += mem[a + i * UF + q] * mem[b + q * UF + j]
            mem[tm + i * UF + j] = acc
    for i in range(UFF):
        mem[c + i] = mem[tm + i]


@njit(**_INLINE)
def scalar_min_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = minimum(in1, in2)"""
    x = mem[a]
    y = mem[b]
    mem[c] = y if y < x else x


@njit(**_INLINE)
def vector_min_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = minimum(in1, in2)"""
    UF = uint64(F)
    for i in range(UF):
        x = mem[a + i]
        y = mem[b + i]
        mem[c + i] = x if x < y else y


@njit(**_INLINE)
def matrix_min_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = minimum(in1, in2)"""
    UFF = uint64(F * F)
    for i in range(UFF):
        x = mem[a + i]
        y = mem[b + i]
        mem[c + i] = x if x < y else y


@njit(**_INLINE)
def scalar_max_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = maximum(in1, in2)"""
    x = mem[a]
    y = mem[b]
    mem[c] = y if x < y else x


@njit(**_INLINE)
def vector_max_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = maximum(in1, in2)"""
    UF = uint64(F)
    if F == 4:
        x0, x1, x2, x3 = _ld4(mem, a)
        y0, y1, y2, y3 = _ld4(mem, b)
        _st4(
            mem, c, x0 if x0 > y0 else y0, x1 if x1 > y1 else y1,
            x2 if x2 > y2 else y2, x3 if x3 > y3 else y3,
        )  # fmt: skip
        return
    for i in range(UF):
        x = mem[a + i]
        y = mem[b + i]
        mem[c + i] = x if x > y else y


@njit(**_INLINE)
def matrix_max_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = maximum(in1, in2)"""
    UFF = uint64(F * F)
    for i in range(UFF):
        x = mem[a + i]
        y = mem[b + i]
        mem[c + i] = x if x > y else y


@njit(**_INLINE)
def vector_mean_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = mean(in1)"""
    UF = uint64(F)
    acc = 0.0
    for i in range(UF):
        acc += mem[a + i]
    mem[c] = acc / F


@njit(**_INLINE)
def matrix_mean_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = mean(in1)"""
    UFF = uint64(F * F)
    FF = F * F
    acc = 0.0
    for i in range(UFF):
        acc += mem[a + i]
    mem[c] = acc / FF


@njit(**_INLINE)
def matrix_row_mean_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = mean(in1, axis=1)"""
    UF = uint64(F)
    for i in range(UF):
        acc = 0.0
        for j in range(UF):
            acc += mem[a + i * UF + j]
        mem[c + i] = acc / F


@njit(**_INLINE)
def matrix_row_st_dev_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = std(in1, axis=1)"""
    UF = uint64(F)
    for i in range(UF):
        acc = 0.0
        sq = 0.0
        for j in range(UF):
            x = mem[a + i * UF + j]
            acc += x
            sq += x * x
        mean = acc / F
        mem[c + i] = math.sqrt(sq / F - mean * mean)


@njit(**_INLINE)
def vector_st_dev_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = std(in1)"""
    UF = uint64(F)
    acc = 0.0
    sq = 0.0
    for i in range(UF):
        x = mem[a + i]
        acc += x
        sq += x * x
    mean = acc / F
    mem[c] = math.sqrt(sq / F - mean * mean)


@njit(**_INLINE)
def matrix_st_dev_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = std(in1)"""
    UFF = uint64(F * F)
    FF = F * F
    acc = 0.0
    sq = 0.0
    for i in range(UFF):
        x = mem[a + i]
        acc += x
        sq += x * x
    mean = acc / FF
    mem[c] = math.sqrt(sq / FF - mean * mean)


@njit(**_INLINE)
def scalar_const_set_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = act"""
    mem[c] = dd[row, 0]


@njit(**_INLINE)
def vector_const_set_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out[f0] = f1"""
    mem[c] = dd[row, 2]  # c includes the element index


@njit(**_INLINE)
def matrix_const_set_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out[f0, f1] = f2"""
    mem[c] = dd[row, 3]


@njit(**_INLINE)
def scalar_uniform_set_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = uniform(f0, f1)"""
    mem[c] = nb_uniform(rng, dd[row, 1], dd[row, 2])


@njit(**_INLINE)
def vector_uniform_set_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = uniform(f0, f1, n_features)"""
    UF = uint64(F)
    lo_ = dd[row, 1]
    hi_ = dd[row, 2]
    for i in range(UF):
        mem[c + i] = nb_uniform(rng, lo_, hi_)


@njit(**_INLINE)
def matrix_uniform_set_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = uniform(f0, f1, (n_features, n_features))"""
    UFF = uint64(F * F)
    lo_ = dd[row, 1]
    hi_ = dd[row, 2]
    for i in range(UFF):
        mem[c + i] = nb_uniform(rng, lo_, hi_)


@njit(**_INLINE)
def scalar_gaussian_set_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = gaussian(f0, f1)"""
    mem[c] = nb_gaussian(rng, dd[row, 1], dd[row, 2])


@njit(**_INLINE)
def vector_gaussian_set_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = gaussian(f0, f1, n_features)"""
    UF = uint64(F)
    mu = dd[row, 1]
    sigma = dd[row, 2]
    for i in range(UF):
        mem[c + i] = nb_gaussian(rng, mu, sigma)


@njit(**_INLINE)
def matrix_gaussian_set_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = gaussian(f0, f1, (n_features, n_features))"""
    UFF = uint64(F * F)
    mu = dd[row, 1]
    sigma = dd[row, 2]
    for i in range(UFF):
        mem[c + i] = nb_gaussian(rng, mu, sigma)


def dispatch_source() -> str:
    """The text of `ir/op_dispatch.py`: one `if` chain over the op table calling each op's
    function (numba cannot call through a run-time table of functions fast; LLVM turns the
    chain into one jump table). `python -m amlz_compile.ir.op_kernels` rewrites the file; a
    test checks that it is current."""
    names = [function_name(info) for info in OPS]
    lines = [
        '"""Generated from the op table by `python -m amlz_compile.ir.op_kernels`; do not edit.',
        "",
        "`run_op` runs one decoded instruction: the interpreter's single dispatch site.",
        '"""',
        "",
        "from numba import njit",
        "",
        "from .op_kernels import (",
        *(f"    {name}," for name in sorted(names)),
        ")",
        "from .ops import Op",
        "",
        "",
        '@njit(cache=True, error_model="numpy", nogil=True, inline="always")',
        "def run_op(op, mem, a, b, c, F, dd, row, rng, tv, tm):",
        '    """Run op `op` (see `op_kernels` for the arguments)."""',
    ]
    for i, (info, name) in enumerate(zip(OPS, names, strict=True)):
        keyword = "if" if i == 0 else "elif"
        lines.append(f"    {keyword} op == Op.{info.name}:")
        lines.append(f"        {name}(mem, a, b, c, F, dd, row, rng, tv, tm)")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    from pathlib import Path

    Path(__file__).with_name("op_dispatch.py").write_text(dispatch_source(), encoding="utf-8")
