"""One LLVM IR template per op, keyed by op number (the tinygrad-renderer pattern).

`RENDER[op](e, ins)` writes the IR of one instruction through an `Emitter`. Semantics are the
interpreter's (`backends/interp.py`), operation for operation, so results agree bit for bit:
sums accumulate from 0.0 in index order (row-major), std is the one-pass sqrt(E[x^2] - mean^2),
scalar min/max follow std::min/std::max, vector/matrix min = a if a < b else b (max: a > b),
heaviside is >= 0 for scalars and > 0 otherwise, const-set indices are computed at compile time
(`const_index`), products that may alias an input go through the `%TV`/`%TM` scratch, and
random ops call the runtime's SplitMix64 (`amlz_rng_uniform`, `amlz_rng_gaussian`).

Vector and matrix ops are written as explicit `<w x double>` operations on chunks of contiguous
memory (`Emitter.chunks`), because LLVM does not re-vectorise the scalar code SROA makes of small
arrays. Lanes never change the interpreter's arithmetic: elementwise ops are lane-wise; sums
that run along contiguous memory use the ordered `llvm.vector.reduce.fadd` (no reassoc flag:
strictly left to right); sums that run across contiguous lines (matrix-vector and matrix
products, row sums of a column-major matrix, ...) keep one accumulator lane per output element
and add the lines in index order. No fast-math flags anywhere (no FMA contraction).
"""

from __future__ import annotations

from collections.abc import Callable

from ...ir.ops import Op, float_to_index, uses_uniform_constant
from ...ir.program import Instruction
from .emitter import Emitter, fconst
from .render_shapes import (
    BASE,
    ZERO,
    _across,
    _along,
    _arith,
    _elementwise_binary,
    _elementwise_unary,
    _fabs,
    _finish_std,
    _libm,
    _line,
    _mat_fold,
    _recip,
    _scalar_binary,
    _scalar_pair,
    _scalar_unary,
    _scale,
    _select,
    _single_chunk,
    _size,
    _splats,
    _sqrt,
    _square,
    _std_step,
    _step,
    _vstd,
    _vsum,
)

# libm functions called by the templates (the same symbols numba's math module calls).
LIBM = {
    Op.SCALAR_SIN_OP: "sin", Op.SCALAR_COS_OP: "cos", Op.SCALAR_TAN_OP: "tan",
    Op.SCALAR_ARCSIN_OP: "asin", Op.SCALAR_ARCCOS_OP: "acos", Op.SCALAR_ARCTAN_OP: "atan",
    Op.SCALAR_EXP_OP: "exp", Op.SCALAR_LOG_OP: "log",
}  # fmt: skip

# FloatToIndex, the rule of `ir.ops` (the element a const-set writes).
const_index = float_to_index


# -- ops with their own shape -------------------------------------------------------------------


def _r_noop(e: Emitter, ins: Instruction) -> None:
    pass


def _r_broadcast(e: Emitter, ins: Instruction) -> None:
    s = _splats(e, e.s_load(ins.in1), e.F)
    e.chunks(e.F, None, lambda o, w, _: e.vstore(s[w], f"%V{ins.out}", o, w))


def _r_vnorm(e: Emitter, ins: Instruction) -> None:
    e.s_store(ins.out, _sqrt(e, _vsum(e, f"%V{ins.in1}", e.F, True)))


def _r_dot(e: Emitter, ins: Instruction) -> None:
    a, b = f"%V{ins.in1}", f"%V{ins.in2}"

    def step(o, w, acc):
        p = e.op(f"fmul {e.vty(w)} {e.vload(a, o, w)}, {e.vload(b, o, w)}")
        return e.fold_add(acc, p, w)

    e.s_store(ins.out, e.chunks(e.F, ZERO, step))


def _r_outer(e: Emitter, ins: Instruction) -> None:
    """M(i, j) = a_i * b_j: column j = a * b_j (column-major) or row i = a_i * b (row-major)."""
    a, b, dst = f"%V{ins.in1}", f"%V{ins.in2}", f"%M{ins.out}"
    whole, scaled = (a, b) if e.col_major else (b, a)

    def line(k):
        s = _splats(e, e.load(scaled, k), e.F)

        def chunk(o, w, _):
            x = e.vload(whole, o, w)
            lhs, rhs = (x, s[w]) if e.col_major else (s[w], x)  # a's element first
            e.vstore(e.op(f"fmul {e.vty(w)} {lhs}, {rhs}"), dst, e.index(k, e.F, o), w)

        e.chunks(e.F, None, chunk)

    _along(e, line)


def _r_matvec(e: Emitter, ins: Instruction) -> None:
    """out_i = 0.0 + M(i,0) v_0 + M(i,1) v_1 + ... (in j order)."""
    m, v, F = f"%M{ins.in1}", f"%V{ins.in2}", e.F
    if e.col_major:
        # sweep the columns: lane i accumulates M(i, j) * v_j for j = 0, 1, ...
        direct = ins.out != ins.in2 or _single_chunk(e)
        dst = f"%V{ins.out}" if direct else "%TV"

        def step(j, o, w, acc):
            p = e.op(
                f"fmul {e.vty(w)} {e.vload(m, e.index(j, F, o), w)}, {e.splat(e.load(v, j), w)}"
            )
            return e.op(f"fadd {e.vty(w)} {acc}, {p}")

        _across(e, 0.0, step, lambda o, w, acc: e.vstore(acc, dst, o, w))
        if not direct:
            e.chunks(F, None, lambda o, w, _: e.vstore(e.vload("%TV", o, w), f"%V{ins.out}", o, w))
        return

    # row-major: one ordered dot product per row (into TV: out may alias v)
    def row(i):
        def step(o, w, acc):
            x = e.vload(m, e.index(i, F, o), w)
            return e.fold_add(acc, e.op(f"fmul {e.vty(w)} {x}, {e.vload(v, o, w)}"), w)

        e.store(e.chunks(F, ZERO, step), "%TV", i)

    _along(e, row)
    e.chunks(F, None, lambda o, w, _: e.vstore(e.vload("%TV", o, w), f"%V{ins.out}", o, w))


def _r_bcast_matrix(axis: int) -> Callable:
    """32: M[i][j] = v_i (every column is v); 33: M[i][j] = v_j (every row is v)."""

    def render(e: Emitter, ins: Instruction) -> None:
        src, dst, F = f"%V{ins.in1}", f"%M{ins.out}", e.F
        if (axis == 0) == e.col_major:  # every line is v

            def line(k):
                e.chunks(
                    F, None, lambda o, w, _: e.vstore(e.vload(src, o, w), dst, e.index(k, F, o), w)
                )

        else:  # line k is v_k everywhere

            def line(k):
                s = _splats(e, e.load(src, k), F)
                e.chunks(F, None, lambda o, w, _: e.vstore(s[w], dst, e.index(k, F, o), w))

        _along(e, line)

    return render


def _square_add(e: Emitter, base: str):
    def step(k, acc):
        x = e.load(base, k)
        return e.op(f"fadd double {acc}, {e.op(f'fmul double {x}, {x}')}")

    return step


def _plain_add(e: Emitter, base: str):
    return lambda k, acc: e.op(f"fadd double {acc}, {e.load(base, k)}")


def _r_mnorm(e: Emitter, ins: Instruction) -> None:
    src = f"%M{ins.in1}"
    if e.col_major:
        total = _mat_fold(e, ZERO, _square_add(e, src))
    else:
        total = _vsum(e, src, e.F * e.F, True)
    e.s_store(ins.out, _sqrt(e, total))


def _row_col_op(rows: bool, scalar: Callable, sweep: tuple) -> Callable:
    """A per-row (rows=True) or per-column matrix reduction into a vector.

    When the reduced dimension lies along lines, `scalar(e, base, start) -> double` reduces one
    line in order; otherwise `sweep = (init, step(x, w, acc), finish(w, acc))` sweeps the lines
    in order with vector accumulators.
    """
    init, step, finish = sweep

    def render(e: Emitter, ins: Instruction) -> None:
        src, dst, F = f"%M{ins.in1}", f"%V{ins.out}", e.F
        if rows != e.col_major:  # the reduced index runs along each line

            def line(k):
                e.store(scalar(e, src, _line(e, k)), dst, k)

            _along(e, line)
        else:
            _across(
                e,
                init,
                lambda k, o, w, acc: step(e, e.vload(src, e.index(k, F, o), w), w, acc),
                lambda o, w, acc: e.vstore(finish(e, w, acc), dst, o, w),
            )

    return render


def _sweep_sum(square: bool) -> Callable:
    def step(e: Emitter, x: str, w: int, acc: str) -> str:
        return e.op(f"fadd {e.vty(w)} {acc}, {_square(e, x, w) if square else x}")

    return step


def _sweep_std(e: Emitter, x: str, w: int, accs: tuple) -> tuple:
    total, squares = accs
    ty = e.vty(w)
    return e.op(f"fadd {ty} {total}, {x}"), e.op(f"fadd {ty} {squares}, {_square(e, x, w)}")


def _mean_of(e: Emitter, total: str, w: int) -> str:
    return e.op(f"fdiv {e.vty(w)} {total}, {e.vconst(float(e.F), w)}")


_r_col_norm = _row_col_op(
    False,
    lambda e, src, start: _sqrt(e, _vsum(e, src, e.F, True, start)),
    (0.0, _sweep_sum(True), lambda e, w, acc: _sqrt(e, acc, w)),
)
_r_row_norm = _row_col_op(
    True,
    lambda e, src, start: _sqrt(e, _vsum(e, src, e.F, True, start)),
    (0.0, _sweep_sum(True), lambda e, w, acc: _sqrt(e, acc, w)),
)
_r_row_mean = _row_col_op(
    True,
    lambda e, src, start: _mean_of(e, _vsum(e, src, e.F, False, start), 1),
    (0.0, _sweep_sum(False), lambda e, w, acc: _mean_of(e, acc, w)),
)
_r_row_std = _row_col_op(
    True,
    lambda e, src, start: _vstd(e, src, e.F, start),
    ((0.0, 0.0), _sweep_std, lambda e, w, accs: _finish_std(e, *accs, e.F, w)),
)


def _copy_from_tm(e: Emitter, out: int) -> None:
    e.chunks(e.F * e.F, None, lambda o, w, _: e.vstore(e.vload("%TM", o, w), f"%M{out}", o, w))


def _r_transpose(e: Emitter, ins: Instruction) -> None:
    src, F = f"%M{ins.in1}", e.F
    dst = "%TM" if ins.out == ins.in1 else f"%M{ins.out}"
    e.loop(F, lambda i: e.loop(F, lambda j: e.store(e.load(src, e.mat(j, i)), dst, e.mat(i, j))))
    if dst == "%TM":
        _copy_from_tm(e, ins.out)


def _r_matmul(e: Emitter, ins: Instruction) -> None:
    """C(i, j) = 0.0 + A(i,0) B(0,j) + A(i,1) B(1,j) + ... (in q order, per element).

    Column-major: column j of C sweeps the columns q of A scaled by B(q, j); row-major: row i
    of C sweeps the rows q of B scaled by A(i, q). Lanes keep the interpreter's order.
    """
    a, b, F = f"%M{ins.in1}", f"%M{ins.in2}", e.F
    direct = ins.out not in (ins.in1, ins.in2)
    dst = f"%M{ins.out}" if direct else "%TM"
    # column-major: line q of A, scalar B(q, k); row-major: A(k, q) scalar, line q of B
    whole, scaled = (a, b) if e.col_major else (b, a)

    def line(k):  # output line k (column k or row k)
        def chunk(o, w, _):
            def step(q, acc):
                x = e.vload(whole, e.index(q, F, o), w)
                s = e.splat(e.load(scaled, e.index(k, F, q)), w)
                lhs, rhs = (x, s) if e.col_major else (s, x)  # A's element first
                return e.op(f"fadd {e.vty(w)} {acc}, {e.op(f'fmul {e.vty(w)} {lhs}, {rhs}')}")

            acc = e.reduce(F, e.vconst(0.0, w), step, ty=e.vty(w), unroll=e.vunroll)
            e.vstore(acc, dst, e.index(k, F, o), w)

        e.chunks(F, None, chunk)

    e.reduce(F, None, lambda k, _: line(k))  # output lines: a loop beyond `unroll`
    if not direct:
        _copy_from_tm(e, ins.out)


def _r_vmean(e: Emitter, ins: Instruction) -> None:
    total = _vsum(e, f"%V{ins.in1}", e.F, False)
    e.s_store(ins.out, e.op(f"fdiv double {total}, {fconst(float(e.F))}"))


def _r_mmean(e: Emitter, ins: Instruction) -> None:
    src = f"%M{ins.in1}"
    if e.col_major:
        total = _mat_fold(e, ZERO, _plain_add(e, src))
    else:
        total = _vsum(e, src, e.F * e.F, False)
    e.s_store(ins.out, e.op(f"fdiv double {total}, {fconst(float(e.F * e.F))}"))


def _r_vstd(e: Emitter, ins: Instruction) -> None:
    e.s_store(ins.out, _vstd(e, f"%V{ins.in1}", e.F))


def _r_mstd(e: Emitter, ins: Instruction) -> None:
    src, FF = f"%M{ins.in1}", e.F * e.F
    if e.col_major:
        total, squares = _mat_fold(e, (ZERO, ZERO), _std_step(e, src))
        e.s_store(ins.out, _finish_std(e, total, squares, FF))
    else:
        e.s_store(ins.out, _vstd(e, src, FF))


def _r_const_scalar(e: Emitter, ins: Instruction) -> None:
    e.s_store(ins.out, fconst(ins.act))


def _r_const_vector(e: Emitter, ins: Instruction) -> None:
    e.store(fconst(ins.f1), f"%V{ins.out}", const_index(ins.f0, e.F))


def _r_const_matrix(e: Emitter, ins: Instruction) -> None:
    i, j = const_index(ins.f0, e.F), const_index(ins.f1, e.F)
    e.store(fconst(ins.f2), f"%M{ins.out}", e.mat(i, j))


def _random(kind: str, dist: str) -> Callable:
    """The uniform- and gaussian-set ops: draw each element in index / row-major order
    (uniform: constant when low >= high)."""

    def render(e: Emitter, ins: Instruction) -> None:
        lo, hi = fconst(ins.f0), fconst(ins.f1)
        constant = dist == "uniform" and uses_uniform_constant(int(ins.op), ins.f0, ins.f1)
        if constant:  # no draws: fill with lo
            n = _size(e, kind) if kind != "s" else 1
            if kind == "s":
                e.s_store(ins.out, lo)
            else:
                base = f"{BASE[kind]}{ins.out}"
                e.chunks(n, None, lambda o, w, _: e.vstore(e.vconst(ins.f0, w), base, o, w))
            return

        def value() -> str:
            return e.op(f"call double @amlz_rng_{dist}(ptr %RNG, double {lo}, double {hi})")

        if kind == "s":
            e.s_store(ins.out, value())
            return
        # A draw inlines ~20 instructions and two libm calls: keep draws in real loops. They
        # fill the scratch, copied out in whole chunks, so that the destination is only ever
        # addressed at constant offsets (which lets SROA keep it in registers).
        unroll, e.unroll = e.unroll, 1
        if kind == "v":
            e.loop(e.F, lambda i: e.store(value(), "%TV", i))
        else:  # row-major draw order whatever the layout
            e.loop(e.F, lambda i: e.loop(e.F, lambda j: e.store(value(), "%TM", e.mat(i, j))))
        e.unroll = unroll
        scratch, dst = ("%TV", f"%V{ins.out}") if kind == "v" else ("%TM", f"%M{ins.out}")
        e.chunks(_size(e, kind), None, lambda o, w, _: e.vstore(e.vload(scratch, o, w), dst, o, w))

    return render


RENDER: dict[int, Callable[[Emitter, Instruction], None]] = {
    Op.NO_OP: _r_noop,
    Op.SCALAR_SUM_OP: _scalar_binary("fadd"),
    Op.SCALAR_DIFF_OP: _scalar_binary("fsub"),
    Op.SCALAR_PRODUCT_OP: _scalar_binary("fmul"),
    Op.SCALAR_DIVISION_OP: _scalar_binary("fdiv"),
    Op.SCALAR_ABS_OP: _scalar_unary(_fabs),
    Op.SCALAR_RECIPROCAL_OP: _scalar_unary(_recip),
    **{op: _scalar_unary(_libm(name)) for op, name in LIBM.items()},
    Op.SCALAR_HEAVYSIDE_OP: _scalar_unary(_step("oge")),
    Op.VECTOR_HEAVYSIDE_OP: _elementwise_unary("v", _step("ogt")),
    Op.MATRIX_HEAVYSIDE_OP: _elementwise_unary("m", _step("ogt")),
    Op.SCALAR_VECTOR_PRODUCT_OP: _scale("v"),
    Op.SCALAR_BROADCAST_OP: _r_broadcast,
    Op.VECTOR_RECIPROCAL_OP: _elementwise_unary("v", _recip),
    Op.VECTOR_NORM_OP: _r_vnorm,
    Op.VECTOR_ABS_OP: _elementwise_unary("v", _fabs),
    Op.VECTOR_SUM_OP: _elementwise_binary("v", _arith("fadd")),
    Op.VECTOR_DIFF_OP: _elementwise_binary("v", _arith("fsub")),
    Op.VECTOR_PRODUCT_OP: _elementwise_binary("v", _arith("fmul")),
    Op.VECTOR_DIVISION_OP: _elementwise_binary("v", _arith("fdiv")),
    Op.VECTOR_INNER_PRODUCT_OP: _r_dot,
    Op.VECTOR_OUTER_PRODUCT_OP: _r_outer,
    Op.SCALAR_MATRIX_PRODUCT_OP: _scale("m"),
    Op.MATRIX_RECIPROCAL_OP: _elementwise_unary("m", _recip),
    Op.MATRIX_VECTOR_PRODUCT_OP: _r_matvec,
    Op.VECTOR_COLUMN_BROADCAST_OP: _r_bcast_matrix(0),
    Op.VECTOR_ROW_BROADCAST_OP: _r_bcast_matrix(1),
    Op.MATRIX_NORM_OP: _r_mnorm,
    Op.MATRIX_COLUMN_NORM_OP: _r_col_norm,
    Op.MATRIX_ROW_NORM_OP: _r_row_norm,
    Op.MATRIX_TRANSPOSE_OP: _r_transpose,
    Op.MATRIX_ABS_OP: _elementwise_unary("m", _fabs),
    Op.MATRIX_SUM_OP: _elementwise_binary("m", _arith("fadd")),
    Op.MATRIX_DIFF_OP: _elementwise_binary("m", _arith("fsub")),
    Op.MATRIX_PRODUCT_OP: _elementwise_binary("m", _arith("fmul")),
    Op.MATRIX_DIVISION_OP: _elementwise_binary("m", _arith("fdiv")),
    Op.MATRIX_MATRIX_PRODUCT_OP: _r_matmul,
    # min/max NaN rules: scalar = std::min/std::max (y < x ? y : x, x < y ? y : x);
    # vector/matrix: x < y ? x : y and x > y ? x : y.
    Op.SCALAR_MIN_OP: _scalar_pair(_select("olt", 1, 0, 1, 0)),
    Op.VECTOR_MIN_OP: _elementwise_binary("v", _select("olt", 0, 1, 0, 1)),
    Op.MATRIX_MIN_OP: _elementwise_binary("m", _select("olt", 0, 1, 0, 1)),
    Op.SCALAR_MAX_OP: _scalar_pair(_select("olt", 0, 1, 1, 0)),
    Op.VECTOR_MAX_OP: _elementwise_binary("v", _select("ogt", 0, 1, 0, 1)),
    Op.MATRIX_MAX_OP: _elementwise_binary("m", _select("ogt", 0, 1, 0, 1)),
    Op.VECTOR_MEAN_OP: _r_vmean,
    Op.MATRIX_MEAN_OP: _r_mmean,
    Op.MATRIX_ROW_MEAN_OP: _r_row_mean,
    Op.MATRIX_ROW_ST_DEV_OP: _r_row_std,
    Op.VECTOR_ST_DEV_OP: _r_vstd,
    Op.MATRIX_ST_DEV_OP: _r_mstd,
    Op.SCALAR_CONST_SET_OP: _r_const_scalar,
    Op.VECTOR_CONST_SET_OP: _r_const_vector,
    Op.MATRIX_CONST_SET_OP: _r_const_matrix,
    Op.SCALAR_UNIFORM_SET_OP: _random("s", "uniform"),
    Op.VECTOR_UNIFORM_SET_OP: _random("v", "uniform"),
    Op.MATRIX_UNIFORM_SET_OP: _random("m", "uniform"),
    Op.SCALAR_GAUSSIAN_SET_OP: _random("s", "gaussian"),
    Op.VECTOR_GAUSSIAN_SET_OP: _random("v", "gaussian"),
    Op.MATRIX_GAUSSIAN_SET_OP: _random("m", "gaussian"),
}


def render_instruction(e: Emitter, ins: Instruction) -> None:
    """Write one instruction's IR; a clear error for an op without a template."""
    try:
        fn = RENDER[int(ins.op)]
    except KeyError:
        raise NotImplementedError(f"the LLVM backend has no template for op {ins.op}") from None
    fn(e, ins)
