"""Helpers the op functions share: numba options, element counts, copies and F = 4 loads and
stores.

F = 4 gets straight-line code in the ops where it pays: inputs are loaded into locals before
anything is stored, which gives the same results as the element loops (operands either coincide
exactly or do not overlap, and every output element depends only on inputs read before it is
stored) but lets LLVM keep them in registers. It is the same op function, for a constant F.
"""

from __future__ import annotations

from numba import njit, uint64

from ..ops import MATRIX, OPS, Op

# Numba-IR inlining into the caller: no call boundary, no reference counting of the buffers.
_INLINE = {"cache": True, "error_model": "numpy", "nogil": True, "inline": "always"}
# The op functions are compiled on their own and called from the dispatch, where LLVM inlines
# them: inlining 65 of them into the machine at numba's IR level instead cost over twice the
# compile time for the same speed (docs/benchmarks.md).
_OP = {"cache": True, "error_model": "numpy", "nogil": True, "_nrt": False}


def op_function(op: Op, body):
    """`body` (a closure over constants and plain functions) compiled as op `op`'s function:
    named after the op, so numba's cache keeps one file per op and tracebacks name it."""
    body.__name__ = body.__qualname__ = OPS[op].name.lower()
    return njit(**_OP)(body)


def is_matrix_op(op: Op) -> bool:
    """Whether op `op`'s output is a matrix (its element count F * F, else F)."""
    return OPS[op].out == MATRIX


@njit(**_INLINE)
def _count(F, matrix):
    """The element count of a vector (F) or, with `matrix`, of a matrix (F * F)."""
    return uint64(F * F) if matrix else uint64(F)


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
def _vec(F):
    """The element count of a vector."""
    return uint64(F)


@njit(**_INLINE)
def _mat(F):
    """The element count of a matrix."""
    return uint64(F * F)


@njit(**_INLINE)
def _copy(mem, src, dst, n):
    """mem[dst + i] = mem[src + i] for i < n (a result computed in scratch, to its output)."""
    for i in range(n):
        mem[dst + i] = mem[src + i]
