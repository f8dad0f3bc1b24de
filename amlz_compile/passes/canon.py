"""Canonical form: equal programs print equal, and hash to the same `canonical_key`.

Three behaviour-preserving normalisations, applied per component to live code:

1. unused fields zeroed: addresses an op does not read or write, data fields it does not use;
   a uniform-set with not f0 < f1 (a constant, see `ir.ops.uses_uniform_constant`) gets
   f1 = f0, and the scalar one becomes SCALAR_CONST_SET with act = f0;
2. independent instructions in a stable order: a topological sort of each component's
   dependency DAG (read-after-write, write-after-read, write-after-write, per address, and
   every random op after the previous one: the generator pseudo-location) choosing among ready
   instructions by a structural label that does not depend on address names (op, data and the
   labels of the instructions that produced its inputs; then the labels of its consumers);
3. addresses renamed in order of first use per kind (Setup, Predict, Learn; in1, in2, out),
   except the reserved s0, s1 and v0. All other addresses start zeroed and are never touched by
   the harness, so any bijection between them preserves behaviour; first-use numbering never
   uses a larger address than the original, so the result fits any memory the original fits.
   The addresses of one kind that no instruction writes (partial writes count) hold 0.0 in
   every element all the time, so they all get one name.

The ordering is a heuristic canonical form (graph canonisation in general is not attempted):
two programs with the same key always behave identically; two equivalent programs may still get
different keys in rare symmetric cases (e.g. two identical constants feeding different uses).
The hot part (`kernels._canonicalise`) runs in numba so that a key costs microseconds.
"""

from __future__ import annotations

import hashlib

import numpy as np

from ..ir.program import Program
from .dce import program_of
from .kernels import _canonicalise, writable


def canonical_arrays(
    program: Program, *, dce: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The canonical (code, data, bounds) of `program` (dead code removed unless dce=False)."""
    return _canonicalise(*writable(program), dce)


def canonicalize(program: Program, *, dce: bool = True) -> Program:
    """The canonical form of `program` as a Program (see the module docstring)."""
    code, data, bounds = _canonicalise(*writable(program), dce)
    return program_of(code, data, bounds)


def key_of_arrays(code: np.ndarray, data: np.ndarray, bounds: np.ndarray) -> str:
    """blake2b (128-bit) hex digest of canonical arrays (int64 bounds, int32 code, f64 data)."""
    h = hashlib.blake2b(bounds.astype(np.int64, copy=False), digest_size=16)
    h.update(np.ascontiguousarray(code, dtype=np.int32))
    h.update(np.ascontiguousarray(data, dtype=np.float64))
    return h.hexdigest()
