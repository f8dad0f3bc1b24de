"""One LLVM IR template per op, keyed by op number (the tinygrad-renderer pattern).

`RENDER[op](e, ins)` writes the IR of one instruction through an `Emitter`. Semantics are the
interpreter's (`backends/interp.py`), operation for operation, so results agree bit for bit:
sums accumulate from 0.0 in index order (row-major), std is the one-pass sqrt(E[x^2] - mean^2),
scalar min/max follow std::min/std::max, vector/matrix min = a if a < b else b (max: a > b),
heaviside is >= 0 for scalars and > 0 otherwise, const-set indices are computed at compile time
(`const_index`), products that may alias an input go through the `%TV`/`%TM` scratch, and
random ops call the runtime's SplitMix64 (`amlz_rng_uniform`, `amlz_rng_gaussian`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ...ir.ops import uses_uniform_constant
from ...ir.program import Instruction
from .emitter import Emitter, fconst

ZERO = fconst(0.0)
ONE = fconst(1.0)

# libm functions called by the templates (the same symbols numba's math module calls).
LIBM = {7: "sin", 8: "cos", 9: "tan", 10: "asin", 11: "acos", 12: "atan", 13: "exp", 14: "log"}

BASE = {"v": "%V", "m": "%M"}


def const_index(f: float, features: int) -> int:
    """FloatToIndex: trunc(float32(F) * float32(f)) clamped to [0, F-1] (NaN -> 0)."""
    p = np.float32(features) * np.float32(f)
    if not p >= 0.0:
        return 0
    if p >= features:
        return features - 1
    return int(p)


def _size(e: Emitter, kind: str) -> int:
    return e.F if kind == "v" else e.F * e.F


# -- shapes shared by many ops ------------------------------------------------------------------


def _scalar_binary(instr: str) -> Callable:
    def render(e: Emitter, ins: Instruction) -> None:
        a, b = e.s_load(ins.in1), e.s_load(ins.in2)
        e.s_store(ins.out, e.op(f"{instr} double {a}, {b}"))

    return render


def _scalar_unary(fn: Callable[[Emitter, str], str]) -> Callable:
    def render(e: Emitter, ins: Instruction) -> None:
        e.s_store(ins.out, fn(e, e.s_load(ins.in1)))

    return render


def _libm(name: str) -> Callable[[Emitter, str], str]:
    # #90 = nobuiltin (defined in the runtime): no constant folding with another libm.
    return lambda e, x: e.op(f"call double @{name}(double {x}) #90")


def _fabs(e: Emitter, x: str) -> str:
    return e.op(f"call double @llvm.fabs.f64(double {x})")


def _recip(e: Emitter, x: str) -> str:
    return e.op(f"fdiv double {ONE}, {x}")


def _step(cmp: str) -> Callable[[Emitter, str], str]:
    def fn(e: Emitter, x: str) -> str:
        c = e.op(f"fcmp {cmp} double {x}, {ZERO}")
        return e.op(f"select i1 {c}, double {ONE}, double {ZERO}")

    return fn


def _elementwise_unary(kind: str, fn: Callable[[Emitter, str], str]) -> Callable:
    def render(e: Emitter, ins: Instruction) -> None:
        src, dst = f"{BASE[kind]}{ins.in1}", f"{BASE[kind]}{ins.out}"
        e.loop(_size(e, kind), lambda i: e.store(fn(e, e.load(src, i)), dst, i))

    return render


def _elementwise_binary(kind: str, fn: Callable[[Emitter, str, str], str]) -> Callable:
    def render(e: Emitter, ins: Instruction) -> None:
        a, b = f"{BASE[kind]}{ins.in1}", f"{BASE[kind]}{ins.in2}"
        dst = f"{BASE[kind]}{ins.out}"

        def body(i):
            x, y = e.load(a, i), e.load(b, i)
            e.store(fn(e, x, y), dst, i)

        e.loop(_size(e, kind), body)

    return render


def _arith(instr: str) -> Callable[[Emitter, str, str], str]:
    return lambda e, x, y: e.op(f"{instr} double {x}, {y}")


def _select(cmp: str, lhs: int, rhs: int, yes: int, no: int) -> Callable:
    """With v = (x, y): v[yes] if (v[lhs] cmp v[rhs]) else v[no] (ordered compare: NaN -> no)."""

    def fn(e: Emitter, x: str, y: str) -> str:
        v = (x, y)
        c = e.op(f"fcmp {cmp} double {v[lhs]}, {v[rhs]}")
        return e.op(f"select i1 {c}, double {v[yes]}, double {v[no]}")

    return fn


def _scalar_pair(fn: Callable[[Emitter, str, str], str]) -> Callable:
    def render(e: Emitter, ins: Instruction) -> None:
        e.s_store(ins.out, fn(e, e.s_load(ins.in1), e.s_load(ins.in2)))

    return render


def _scale(kind: str) -> Callable:
    """out = S[in1] * X[in2] elementwise (ops 18, 29)."""

    def render(e: Emitter, ins: Instruction) -> None:
        s = e.s_load(ins.in1)
        src, dst = f"{BASE[kind]}{ins.in2}", f"{BASE[kind]}{ins.out}"
        e.loop(
            _size(e, kind), lambda i: e.store(e.op(f"fmul double {s}, {e.load(src, i)}"), dst, i)
        )

    return render


def _sum(e: Emitter, base: str, n: int, square: bool, idx: Callable = lambda k: k) -> str:
    """0.0 + x_0 + x_1 + ... (or of squares) over base[idx(k)], k < n, in order."""

    def step(k, acc):
        x = e.load(base, idx(k))
        if square:
            x = e.op(f"fmul double {x}, {x}")
        return e.op(f"fadd double {acc}, {x}")

    return e.reduce(n, ZERO, step)


def _mat_fold(e: Emitter, init, step: Callable):
    """Fold step(element_index, acc) over a matrix in row-major order (i outer, j inner)."""
    F = e.F
    return e.reduce(F, init, lambda i, acc: e.reduce(F, acc, lambda j, a: step(e.mat(i, j), a)))


def _sqrt(e: Emitter, x: str) -> str:
    return e.op(f"call double @llvm.sqrt.f64(double {x})")


def _std_step(e: Emitter, base: str):
    def step(k, accs):
        total, squares = accs
        x = e.load(base, k)
        total = e.op(f"fadd double {total}, {x}")
        sq = e.op(f"fmul double {x}, {x}")
        return total, e.op(f"fadd double {squares}, {sq}")

    return step


def _finish_std(e: Emitter, total: str, squares: str, n: int) -> str:
    nn = fconst(float(n))
    mean = e.op(f"fdiv double {total}, {nn}")
    msq = e.op(f"fdiv double {squares}, {nn}")
    m2 = e.op(f"fmul double {mean}, {mean}")
    return _sqrt(e, e.op(f"fsub double {msq}, {m2}"))


def _one_pass_std(e: Emitter, base: str, n: int, idx: Callable = lambda k: k) -> str:
    """sqrt(sq/n - mean*mean) with sum and sum of squares accumulated together, in order."""
    step = _std_step(e, base)
    total, squares = e.reduce(n, (ZERO, ZERO), lambda k, accs: step(idx(k), accs))
    return _finish_std(e, total, squares, n)


# -- ops with their own shape -------------------------------------------------------------------


def _r_noop(e: Emitter, ins: Instruction) -> None:
    pass


def _r_broadcast(e: Emitter, ins: Instruction) -> None:
    s = e.s_load(ins.in1)
    e.loop(e.F, lambda i: e.store(s, f"%V{ins.out}", i))


def _r_vnorm(e: Emitter, ins: Instruction) -> None:
    e.s_store(ins.out, _sqrt(e, _sum(e, f"%V{ins.in1}", e.F, True)))


def _r_dot(e: Emitter, ins: Instruction) -> None:
    a, b = f"%V{ins.in1}", f"%V{ins.in2}"

    def step(i, acc):
        p = e.op(f"fmul double {e.load(a, i)}, {e.load(b, i)}")
        return e.op(f"fadd double {acc}, {p}")

    e.s_store(ins.out, e.reduce(e.F, ZERO, step))


def _r_outer(e: Emitter, ins: Instruction) -> None:
    a, b, dst, F = f"%V{ins.in1}", f"%V{ins.in2}", f"%M{ins.out}", e.F

    def cell(i, j, x, y):
        e.store(e.op(f"fmul double {x}, {y}"), dst, e.mat(i, j))

    if e.col_major:  # column j = a * b_j: contiguous stores

        def col(j):
            y = e.load(b, j)
            e.loop(F, lambda i: cell(i, j, e.load(a, i), y))

        e.loop(F, col)
    else:

        def row(i):
            x = e.load(a, i)
            e.loop(F, lambda j: cell(i, j, x, e.load(b, j)))

        e.loop(F, row)


def _r_matvec(e: Emitter, ins: Instruction) -> None:
    m, v, F = f"%M{ins.in1}", f"%V{ins.in2}", e.F
    if e.col_major:
        # column sweep: TV[i] accumulates M[i][j] * v[j] for j = 0, 1, ... (each row's sum in
        # the interpreter's order) while the loop over i runs over contiguous memory.
        e.loop(F, lambda i: e.store(ZERO, "%TV", i))

        def col(j):
            y = e.load(v, j)

            def row(i):
                p = e.op(f"fmul double {e.load(m, e.mat(i, j))}, {y}")
                e.store(e.op(f"fadd double {e.load('%TV', i)}, {p}"), "%TV", i)

            e.loop(F, row)

        e.loop(F, col)
    else:

        def row(i):
            def step(j, acc):
                p = e.op(f"fmul double {e.load(m, e.mat(i, j))}, {e.load(v, j)}")
                return e.op(f"fadd double {acc}, {p}")

            e.store(e.reduce(F, ZERO, step), "%TV", i)

        e.loop(F, row)
    e.loop(F, lambda i: e.store(e.load("%TV", i), f"%V{ins.out}", i))


def _r_bcast_matrix(axis: int) -> Callable:
    """32: M[i][j] = v_i (every column is v); 33: M[i][j] = v_j (every row is v)."""

    def render(e: Emitter, ins: Instruction) -> None:
        src, dst, F = f"%V{ins.in1}", f"%M{ins.out}", e.F
        if axis == 0:

            def row(i):
                x = e.load(src, i)
                e.loop(F, lambda j: e.store(x, dst, e.mat(i, j)))

        else:

            def row(i):
                e.loop(F, lambda j: e.store(e.load(src, j), dst, e.mat(i, j)))

        e.loop(F, row)

    return render


def _square_add(e: Emitter, base: str):
    def step(k, acc):
        x = e.load(base, k)
        return e.op(f"fadd double {acc}, {e.op(f'fmul double {x}, {x}')}")

    return step


def _plain_add(e: Emitter, base: str):
    return lambda k, acc: e.op(f"fadd double {acc}, {e.load(base, k)}")


def _r_mnorm(e: Emitter, ins: Instruction) -> None:
    e.s_store(ins.out, _sqrt(e, _mat_fold(e, ZERO, _square_add(e, f"%M{ins.in1}"))))


def _r_col_norm(e: Emitter, ins: Instruction) -> None:
    src, F = f"%M{ins.in1}", e.F

    def col(j):
        total = _sum(e, src, F, True, lambda i: e.mat(i, j))
        e.store(_sqrt(e, total), f"%V{ins.out}", j)

    e.loop(F, col)


def _r_row_norm(e: Emitter, ins: Instruction) -> None:
    src, F = f"%M{ins.in1}", e.F

    def row(i):
        total = _sum(e, src, F, True, lambda j: e.mat(i, j))
        e.store(_sqrt(e, total), f"%V{ins.out}", i)

    e.loop(F, row)


def _copy_from_tm(e: Emitter, out: int) -> None:
    e.loop(e.F * e.F, lambda k: e.store(e.load("%TM", k), f"%M{out}", k))


def _r_transpose(e: Emitter, ins: Instruction) -> None:
    src, F = f"%M{ins.in1}", e.F
    dst = "%TM" if ins.out == ins.in1 else f"%M{ins.out}"
    e.loop(F, lambda i: e.loop(F, lambda j: e.store(e.load(src, e.mat(j, i)), dst, e.mat(i, j))))
    if dst == "%TM":
        _copy_from_tm(e, ins.out)


def _r_matmul(e: Emitter, ins: Instruction) -> None:
    a, b, F = f"%M{ins.in1}", f"%M{ins.in2}", e.F
    if e.col_major:
        # TM(i, j) accumulates A(i, q) * B(q, j) for q = 0, 1, ... (the interpreter's order per
        # element); the innermost loop runs down contiguous columns.
        e.loop(F * F, lambda k: e.store(ZERO, "%TM", k))

        def col(j):
            def term(q):
                y = e.load(b, e.mat(q, j))

                def row(i):
                    p = e.op(f"fmul double {e.load(a, e.mat(i, q))}, {y}")
                    at = e.mat(i, j)
                    e.store(e.op(f"fadd double {e.load('%TM', at)}, {p}"), "%TM", at)

                e.loop(F, row)

            e.loop(F, term)

        e.loop(F, col)
    else:

        def cell(i, j):
            def step(q, acc):
                x = e.load(a, e.mat(i, q))
                y = e.load(b, e.mat(q, j))
                return e.op(f"fadd double {acc}, {e.op(f'fmul double {x}, {y}')}")

            e.store(e.reduce(F, ZERO, step), "%TM", e.mat(i, j))

        e.loop(F, lambda i: e.loop(F, lambda j: cell(i, j)))
    _copy_from_tm(e, ins.out)


def _r_vmean(e: Emitter, ins: Instruction) -> None:
    total = _sum(e, f"%V{ins.in1}", e.F, False)
    e.s_store(ins.out, e.op(f"fdiv double {total}, {fconst(float(e.F))}"))


def _r_mmean(e: Emitter, ins: Instruction) -> None:
    total = _mat_fold(e, ZERO, _plain_add(e, f"%M{ins.in1}"))
    e.s_store(ins.out, e.op(f"fdiv double {total}, {fconst(float(e.F * e.F))}"))


def _r_row_mean(e: Emitter, ins: Instruction) -> None:
    src, F = f"%M{ins.in1}", e.F

    def row(i):
        total = _sum(e, src, F, False, lambda j: e.mat(i, j))
        e.store(e.op(f"fdiv double {total}, {fconst(float(F))}"), f"%V{ins.out}", i)

    e.loop(F, row)


def _r_row_std(e: Emitter, ins: Instruction) -> None:
    src, F = f"%M{ins.in1}", e.F

    def row(i):
        e.store(_one_pass_std(e, src, F, lambda j: e.mat(i, j)), f"%V{ins.out}", i)

    e.loop(F, row)


def _r_vstd(e: Emitter, ins: Instruction) -> None:
    e.s_store(ins.out, _one_pass_std(e, f"%V{ins.in1}", e.F))


def _r_mstd(e: Emitter, ins: Instruction) -> None:
    total, squares = _mat_fold(e, (ZERO, ZERO), _std_step(e, f"%M{ins.in1}"))
    e.s_store(ins.out, _finish_std(e, total, squares, e.F * e.F))


def _r_const_scalar(e: Emitter, ins: Instruction) -> None:
    e.s_store(ins.out, fconst(ins.act))


def _r_const_vector(e: Emitter, ins: Instruction) -> None:
    e.store(fconst(ins.f1), f"%V{ins.out}", const_index(ins.f0, e.F))


def _r_const_matrix(e: Emitter, ins: Instruction) -> None:
    i, j = const_index(ins.f0, e.F), const_index(ins.f1, e.F)
    e.store(fconst(ins.f2), f"%M{ins.out}", e.mat(i, j))


def _random(kind: str, dist: str) -> Callable:
    """Ops 59-64: draw each element in index / row-major order (uniform: constant low >= high)."""

    def render(e: Emitter, ins: Instruction) -> None:
        lo, hi = fconst(ins.f0), fconst(ins.f1)
        constant = dist == "uniform" and uses_uniform_constant(int(ins.op), ins.f0, ins.f1)

        def value() -> str:
            if constant:
                return lo
            return e.op(f"call double @amlz_rng_{dist}(ptr %RNG, double {lo}, double {hi})")

        if kind == "s":
            e.s_store(ins.out, value())
            return
        # A draw inlines ~20 instructions and two libm calls: keep draws in real loops.
        unroll, e.unroll = e.unroll, (e.unroll if constant else 1)
        if kind == "v":
            e.loop(e.F, lambda i: e.store(value(), f"%V{ins.out}", i))
        else:  # row-major draw order whatever the layout
            dst = f"%M{ins.out}"
            e.loop(e.F, lambda i: e.loop(e.F, lambda j: e.store(value(), dst, e.mat(i, j))))
        e.unroll = unroll

    return render


RENDER: dict[int, Callable[[Emitter, Instruction], None]] = {
    0: _r_noop,
    1: _scalar_binary("fadd"),
    2: _scalar_binary("fsub"),
    3: _scalar_binary("fmul"),
    4: _scalar_binary("fdiv"),
    5: _scalar_unary(_fabs),
    6: _scalar_unary(_recip),
    **{op: _scalar_unary(_libm(name)) for op, name in LIBM.items()},
    15: _scalar_unary(_step("oge")),
    16: _elementwise_unary("v", _step("ogt")),
    17: _elementwise_unary("m", _step("ogt")),
    18: _scale("v"),
    19: _r_broadcast,
    20: _elementwise_unary("v", _recip),
    21: _r_vnorm,
    22: _elementwise_unary("v", _fabs),
    23: _elementwise_binary("v", _arith("fadd")),
    24: _elementwise_binary("v", _arith("fsub")),
    25: _elementwise_binary("v", _arith("fmul")),
    26: _elementwise_binary("v", _arith("fdiv")),
    27: _r_dot,
    28: _r_outer,
    29: _scale("m"),
    30: _elementwise_unary("m", _recip),
    31: _r_matvec,
    32: _r_bcast_matrix(0),
    33: _r_bcast_matrix(1),
    34: _r_mnorm,
    35: _r_col_norm,
    36: _r_row_norm,
    37: _r_transpose,
    38: _elementwise_unary("m", _fabs),
    39: _elementwise_binary("m", _arith("fadd")),
    40: _elementwise_binary("m", _arith("fsub")),
    41: _elementwise_binary("m", _arith("fmul")),
    42: _elementwise_binary("m", _arith("fdiv")),
    43: _r_matmul,
    # min/max NaN rules: scalar = std::min/std::max (y < x ? y : x, x < y ? y : x);
    # vector/matrix: x < y ? x : y and x > y ? x : y.
    44: _scalar_pair(_select("olt", 1, 0, 1, 0)),
    45: _elementwise_binary("v", _select("olt", 0, 1, 0, 1)),
    46: _elementwise_binary("m", _select("olt", 0, 1, 0, 1)),
    47: _scalar_pair(_select("olt", 0, 1, 1, 0)),
    48: _elementwise_binary("v", _select("ogt", 0, 1, 0, 1)),
    49: _elementwise_binary("m", _select("ogt", 0, 1, 0, 1)),
    50: _r_vmean,
    51: _r_mmean,
    52: _r_row_mean,
    53: _r_row_std,
    54: _r_vstd,
    55: _r_mstd,
    56: _r_const_scalar,
    57: _r_const_vector,
    58: _r_const_matrix,
    59: _random("s", "uniform"),
    60: _random("v", "uniform"),
    61: _random("m", "uniform"),
    62: _random("s", "gaussian"),
    63: _random("v", "gaussian"),
    64: _random("m", "gaussian"),
}


def render_instruction(e: Emitter, ins: Instruction) -> None:
    """Write one instruction's IR; a clear error for an op without a template."""
    try:
        fn = RENDER[int(ins.op)]
    except KeyError:
        raise NotImplementedError(f"the LLVM backend has no template for op {ins.op}") from None
    fn(e, ins)
