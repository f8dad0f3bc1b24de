"""Constant folding and propagation over Setup ; (Predict ; Learn)* with validation Predicts.

A forward dataflow over the same control flow as `liveness` gives, for every instruction, the
value each location holds there in *every* execution, when that value is a known constant:

* memory starts wiped (every element 0.0) before Setup;
* the harness writes s0 <- 0.0 and v0 <- features before Predict, and s0 <- label, v0 <- features
  and (accuracy tasks) s1 <- sigmoid(s1) before Learn, so those are unknown at Learn's entry;
* Predict is entered from Setup, Learn and Predict (validation), Learn from Predict.

Vector and matrix values are tracked only when every element is the same number (the only
constants that do not depend on the feature size F). An address nothing writes therefore reads
0.0 everywhere. A pure instruction whose result is a known constant is replaced by a constant
write: SCALAR_CONST_SET for scalars, and for vectors and matrices a uniform-set with low == high
(draws nothing and writes `low` everywhere) when the value is exactly a float32 (the reference
stores f0 as float32). Uniform-sets with not f0 < f1 are normalised (scalar -> SCALAR_CONST_SET,
vector/matrix -> f1 = f0).

Random ops whose result does not depend on their draws (`kernels._random_constant`:
gaussian(mu, +-0) with mu != -0.0, gaussian(mu, NaN), uniform(lo, inf), uniform(-inf, hi)) are
known constants for their readers; they become constant writes only when the generator is dead
after them (no live random op can run later), since dropping their draws would shift the stream
of a later live one. A write of the value its location already holds in every execution (same
bits, not NaN; e.g. a zero on the zeroed memory in Setup) is removed, under the same condition
for ops that draw.

Values are computed in numba with `error_model="numpy"` by the same formulas and the same libm
calls as the interpreter (IEEE results: x/0 -> +-inf or NaN, log(0) -> -inf, domain errors ->
NaN, exp overflow -> inf), so folded constants are bit-identical to what would have run.
Reductions (sums, norms, means, dot products, standard deviations, matrix products) are folded
only when every summed term is +0.0, +-inf or NaN: otherwise their value depends on F.
min/max are folded only when no NaN and no signed-zero tie is involved (the reference's vector
min/max are Eigen SIMD dependent).
"""

from __future__ import annotations

from ..ir.ops import FOLD_NONE, OPS
from ..ir.program import Program
from .dce import program_of
from .kernels import CONST, _constants, _eval, fold_arrays, writable

#: ops whose result can be folded from constant (uniform) inputs
FOLDABLE = frozenset(info.op.value for info in OPS if info.fold != FOLD_NONE)

__all__ = ["FOLDABLE", "constant_values", "evaluate_op", "fold_constants"]


def evaluate_op(op: int, a: float, b: float = 0.0) -> float | None:
    """The folded value of a pure op on constant (uniform) inputs, or None if not foldable."""
    ok, value = _eval(int(op), float(a), float(b))
    return float(value) if ok else None


def constant_values(program: Program) -> list[float | None]:
    """Per instruction, the value it writes when that is the same in every execution, else None.

    Vector and matrix constants are reported as the single value of all their elements.
    """
    st, val, _, _ = _constants(*writable(program))
    return [float(v) if s == CONST else None for s, v in zip(st, val, strict=True)]


def fold_constants(program: Program) -> Program:
    """Replace pure instructions with constant results by constant writes (see module doc)."""
    if len(program) == 0:
        return program
    code, data, changed = fold_arrays(*writable(program))
    if not changed:
        return program
    return program_of(code, data, program.bounds)
