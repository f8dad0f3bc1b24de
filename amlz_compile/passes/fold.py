"""Constant folding and propagation over Setup ; (Predict ; Learn)* with validation Predicts.

A forward dataflow over the same control flow as `liveness` gives, for every instruction, the
value each location holds there in *every* execution, when that value is a known constant:

* memory starts wiped (every element 0.0) before Setup;
* the harness writes s0 <- 0.0 and v0 <- features before Predict, and s0 <- label, v0 <- features
  and (accuracy tasks) s1 <- sigmoid(s1) before Learn, so those are unknown at Learn's entry;
* Predict is entered from Setup, Learn and Predict (validation), Learn from Predict.

Vector and matrix values are tracked only when every element is the same number (the only
constants that do not depend on the feature size F). A pure instruction whose result is a known
constant is replaced by a constant write: SCALAR_CONST_SET (56) for scalars, and for vectors and
matrices a uniform-set with low == high (60/61; draws nothing and writes `low` everywhere) when
the value is exactly a float32 (the reference stores f0 as float32). Random ops are never folded;
uniform-sets with not f0 < f1 are normalised (scalar -> 56, vector/matrix -> f1 = f0).

Values are computed with Python float arithmetic and libm (`math`), as the interpreter computes
them, with IEEE results where Python would raise (x/0 -> +-inf or NaN, log(0) -> -inf, domain
errors -> NaN, exp overflow -> inf). Reductions (sums, norms, means, dot products) are never
folded: their rounding depends on F and summation order. min/max are folded only when no NaN
and no signed-zero tie is involved (the reference's vector min/max are Eigen SIMD dependent).
"""

from __future__ import annotations

import math

import numpy as np

from ..ir.ops import OPS, uses_uniform_constant
from ..ir.program import Program, f32

_TOP = "top"  # no execution reaches here yet (only during the fixed-point iteration)
_NAC = "nac"  # not a constant

_INF = math.inf
_NAN = math.nan


def same(a: float, b: float) -> bool:
    """Bitwise-level equality that matters here: equal numbers with equal sign, or both NaN."""
    if a != a:
        return b != b
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def _div(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0.0:
            return _NAN
        return math.copysign(_INF, a) * math.copysign(1.0, b)


def _call(fn, a: float, on_error: float) -> float:
    try:
        return fn(a)
    except (ValueError, OverflowError):
        return on_error


def _log(a: float) -> float:
    if a == 0.0:
        return -_INF
    if a != a or a < 0.0:
        return _NAN
    return math.log(a)


def _exp(a: float) -> float:
    try:
        return math.exp(a)
    except OverflowError:
        return _INF


def _heaviside_ge(a: float) -> float:
    return 1.0 if a >= 0.0 else 0.0


def _heaviside_gt(a: float) -> float:
    return 1.0 if a > 0.0 else 0.0


def _safe_minmax(a: float, b: float) -> bool:
    return a == a and b == b and (a != b or same(a, b))


def _min(a: float, b: float):
    return (b if b < a else a) if _safe_minmax(a, b) else None


def _max(a: float, b: float):
    return (b if a < b else a) if _safe_minmax(a, b) else None


_UNARY = {
    5: abs,
    6: lambda a: _div(1.0, a),
    7: lambda a: _call(math.sin, a, _NAN),
    8: lambda a: _call(math.cos, a, _NAN),
    9: lambda a: _call(math.tan, a, _NAN),
    10: lambda a: _call(math.asin, a, _NAN),
    11: lambda a: _call(math.acos, a, _NAN),
    12: math.atan,
    13: _exp,
    14: _log,
    15: _heaviside_ge,
    16: _heaviside_gt,
    17: _heaviside_gt,
    19: lambda a: a,  # broadcast: a uniform vector
    20: lambda a: _div(1.0, a),
    22: abs,
    30: lambda a: _div(1.0, a),
    32: lambda a: a,  # column broadcast of a uniform vector: a uniform matrix
    33: lambda a: a,
    37: lambda a: a,  # transpose of a uniform matrix
    38: abs,
}

_BINARY = {
    1: lambda a, b: a + b,
    2: lambda a, b: a - b,
    3: lambda a, b: a * b,
    4: _div,
    18: lambda a, b: a * b,
    23: lambda a, b: a + b,
    24: lambda a, b: a - b,
    25: lambda a, b: a * b,
    26: _div,
    28: lambda a, b: a * b,  # outer product of uniform vectors
    29: lambda a, b: a * b,
    39: lambda a, b: a + b,
    40: lambda a, b: a - b,
    41: lambda a, b: a * b,
    42: _div,
    44: _min,
    45: _min,
    46: _min,
    47: _max,
    48: _max,
    49: _max,
}

#: ops whose result can be folded from constant inputs
FOLDABLE = frozenset(_UNARY) | frozenset(_BINARY)


def evaluate_op(op: int, a: float, b: float = 0.0) -> float | None:
    """The folded value of a pure op on constant (uniform) inputs, or None if not foldable."""
    fn = _UNARY.get(op)
    if fn is not None:
        return float(fn(a))
    fn = _BINARY.get(op)
    if fn is not None:
        r = fn(a, b)
        return None if r is None else float(r)
    return None


def _meet(x, y):
    if x is _TOP:
        return y
    if y is _TOP:
        return x
    if x is _NAC or y is _NAC:
        return _NAC
    return x if same(x, y) else _NAC


def _result(op: int, ins: tuple, row_data, state: dict):
    """Value written to the output location by one instruction, given the state before it."""
    info = OPS[op]
    act, f0, f1, f2 = row_data
    if op == 56:
        return act
    if op in (59, 60, 61):
        return f0 if uses_uniform_constant(op, f0, f1) else _NAC
    if op in (62, 63, 64):
        return _NAC
    if op in (57, 58):
        old = state[(info.out, ins[3])]
        if old is _TOP or old is _NAC:
            return old
        return old if same(old, f1 if op == 57 else f2) else _NAC
    a = state[(info.in1, ins[1])]
    b = state[(info.in2, ins[2])] if info.in2 is not None else 0.0
    if a is _TOP or b is _TOP:
        return _TOP
    if a is _NAC or b is _NAC or op not in FOLDABLE:
        return _NAC
    r = evaluate_op(op, a, b)
    return _NAC if r is None else r


def _run(rows: list, state: dict, values: list | None) -> dict:
    """Forward through one component; optionally record each instruction's written value."""
    state = dict(state)
    for op, ins, row_data in rows:
        out_kind = OPS[op].out
        if out_kind is None:
            if values is not None:
                values.append(None)
            continue
        r = _result(op, ins, row_data, state)
        state[(out_kind, ins[3])] = r
        if values is not None:
            values.append(r)
    return state


def _locations(program: Program) -> list:
    locs = {("s", 0), ("s", 1), ("v", 0)}
    for row in program.code:
        info = OPS[int(row[0])]
        for kind, addr in ((info.in1, row[1]), (info.in2, row[2]), (info.out, row[3])):
            if kind is not None:
                locs.add((kind, int(addr)))
    return sorted(locs)


def constant_values(program: Program) -> list:
    """Per instruction, the value it writes when that is the same in every execution, else None.

    Vector and matrix constants are reported as the single value of all their elements.
    """
    locs = _locations(program)
    b = [int(x) for x in program.bounds]
    rows = [
        (int(c[0]), tuple(int(x) for x in c), tuple(float(x) for x in d))
        for c, d in zip(program.code, program.data, strict=True)
    ]
    setup, predict, learn = rows[b[0] : b[1]], rows[b[1] : b[2]], rows[b[2] : b[3]]

    setup_out = _run(setup, {loc: 0.0 for loc in locs}, None)
    p_out = {loc: _TOP for loc in locs}
    l_out = {loc: _TOP for loc in locs}
    while True:
        p_in = {loc: _meet(_meet(setup_out[loc], p_out[loc]), l_out[loc]) for loc in locs}
        p_in[("s", 0)] = 0.0
        p_in[("v", 0)] = _NAC
        new_p = _run(predict, p_in, None)
        l_in = dict(new_p)
        l_in[("s", 0)] = l_in[("s", 1)] = l_in[("v", 0)] = _NAC
        new_l = _run(learn, l_in, None)
        if all(same_value(new_p[k], p_out[k]) and same_value(new_l[k], l_out[k]) for k in locs):
            break
        p_out, l_out = new_p, new_l

    values: list = []
    _run(setup, {loc: 0.0 for loc in locs}, values)
    _run(predict, p_in, values)
    _run(learn, l_in, values)
    return [None if (v is _NAC or v is _TOP) else v for v in values]


def same_value(x, y) -> bool:
    if isinstance(x, str) or isinstance(y, str):
        return x is y
    return same(x, y)


def _is_f32(c: float) -> bool:
    return c != c or same(f32(c), c)


def fold_constants(program: Program) -> Program:
    """Replace pure instructions with constant results by constant writes (see module doc)."""
    if len(program) == 0:
        return program
    values = constant_values(program)
    code = np.array(program.code)
    data = np.array(program.data)
    changed = False
    for i, v in enumerate(values):
        op = int(code[i, 0])
        if op in (59, 60, 61) and uses_uniform_constant(op, data[i, 1], data[i, 2]):
            if op == 59:
                code[i], data[i] = (56, 0, 0, code[i, 3]), (data[i, 1], 0.0, 0.0, 0.0)
                changed = True
            elif not same(data[i, 2], data[i, 1]):
                data[i, 2] = data[i, 1]
                changed = True
            continue
        if v is None or op not in FOLDABLE:
            continue
        kind = OPS[op].out
        if kind == "s":
            code[i], data[i] = (56, 0, 0, code[i, 3]), (v, 0.0, 0.0, 0.0)
            changed = True
        elif _is_f32(v):
            new_op = 60 if kind == "v" else 61
            code[i], data[i] = (new_op, 0, 0, code[i, 3]), (0.0, v, v, 0.0)
            changed = True
    if not changed:
        return program
    return Program.from_arrays(code, data, program.bounds)
