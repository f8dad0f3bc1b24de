"""The ops that read no memory: NO_OP, the const-set ops (a data field into an element) and
the uniform- and gaussian-set ops (draws from the generator, in index order).

One function per op; the arguments are described in `ir.op_kernels`.
"""

from __future__ import annotations

from numba import njit

from ...rng import nb_gaussian, nb_uniform
from .common import _INLINE, _OP, _mat, _vec


@njit(**_INLINE)
def _draws(mem, c, n, rng, p, q, draw):
    """mem[c + i] = draw(rng, p, q) for i < n, in index order."""
    for i in range(n):
        mem[c + i] = draw(rng, p, q)


@njit(**_OP)
def no_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """NoOp(): nothing (decoding drops it; here so that every op has a function)."""


@njit(**_OP)
def scalar_const_set_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = act"""
    mem[c] = dd[row, 0]


@njit(**_OP)
def vector_const_set_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out[f0] = f1"""
    mem[c] = dd[row, 2]  # c includes the element index


@njit(**_OP)
def matrix_const_set_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out[f0, f1] = f2"""
    mem[c] = dd[row, 3]


@njit(**_OP)
def scalar_uniform_set_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = uniform(f0, f1)"""
    mem[c] = nb_uniform(rng, dd[row, 1], dd[row, 2])


@njit(**_OP)
def vector_uniform_set_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = uniform(f0, f1, n_features)"""
    _draws(mem, c, _vec(F), rng, dd[row, 1], dd[row, 2], nb_uniform)


@njit(**_OP)
def matrix_uniform_set_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = uniform(f0, f1, (n_features, n_features))"""
    _draws(mem, c, _mat(F), rng, dd[row, 1], dd[row, 2], nb_uniform)


@njit(**_OP)
def scalar_gaussian_set_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = gaussian(f0, f1)"""
    mem[c] = nb_gaussian(rng, dd[row, 1], dd[row, 2])


@njit(**_OP)
def vector_gaussian_set_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = gaussian(f0, f1, n_features)"""
    _draws(mem, c, _vec(F), rng, dd[row, 1], dd[row, 2], nb_gaussian)


@njit(**_OP)
def matrix_gaussian_set_op(mem, a, b, c, F, dd, row, rng, tv, tm):
    """out = gaussian(f0, f1, (n_features, n_features))"""
    _draws(mem, c, _mat(F), rng, dd[row, 1], dd[row, 2], nb_gaussian)
