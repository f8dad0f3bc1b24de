"""The shapes the per-op LLVM renderings share (`render.RENDER`): elementwise maps over
chunks of doubles, sums and standard deviations in the interpreter's order, and matrices
walked as lines. Each takes an `Emitter` and writes IR through it.
"""

from __future__ import annotations

from collections.abc import Callable

from ...ir.program import Instruction
from .emitter import Emitter, Index, fconst

ZERO = fconst(0.0)
ONE = fconst(1.0)

BASE = {"v": "%V", "m": "%M"}


def _size(e: Emitter, kind: str) -> int:
    return e.F if kind == "v" else e.F * e.F


# -- shapes shared by many ops ------------------------------------------------------------------
# Elementwise functions take (emitter, operand(s), chunk width) and work on w-chunks or doubles.


def _scalar_binary(instr: str) -> Callable:
    def render(e: Emitter, ins: Instruction) -> None:
        a, b = e.s_load(ins.in1), e.s_load(ins.in2)
        e.s_store(ins.out, e.op(f"{instr} double {a}, {b}"))

    return render


def _scalar_unary(fn: Callable[[Emitter, str, int], str]) -> Callable:
    def render(e: Emitter, ins: Instruction) -> None:
        e.s_store(ins.out, fn(e, e.s_load(ins.in1), 1))

    return render


def _libm(name: str) -> Callable[[Emitter, str, int], str]:
    # #90 = nobuiltin (defined in the runtime): no constant folding with another libm.
    return lambda e, x, w: e.op(f"call double @{name}(double {x}) #90")


def _fabs(e: Emitter, x: str, w: int) -> str:
    return e.intrinsic("fabs", w, x)


def _recip(e: Emitter, x: str, w: int) -> str:
    return e.op(f"fdiv {e.vty(w)} {e.vconst(1.0, w)}, {x}")


def _step(cmp: str) -> Callable[[Emitter, str, int], str]:
    def fn(e: Emitter, x: str, w: int) -> str:
        ty, i1 = e.vty(w), ("i1" if w == 1 else f"<{w} x i1>")
        c = e.op(f"fcmp {cmp} {ty} {x}, {e.vconst(0.0, w)}")
        return e.op(f"select {i1} {c}, {ty} {e.vconst(1.0, w)}, {ty} {e.vconst(0.0, w)}")

    return fn


def _elementwise_unary(kind: str, fn: Callable[[Emitter, str, int], str]) -> Callable:
    def render(e: Emitter, ins: Instruction) -> None:
        src, dst = f"{BASE[kind]}{ins.in1}", f"{BASE[kind]}{ins.out}"
        e.chunks(
            _size(e, kind), None, lambda o, w, _: e.vstore(fn(e, e.vload(src, o, w), w), dst, o, w)
        )

    return render


def _elementwise_binary(kind: str, fn: Callable[[Emitter, str, str, int], str]) -> Callable:
    def render(e: Emitter, ins: Instruction) -> None:
        a, b = f"{BASE[kind]}{ins.in1}", f"{BASE[kind]}{ins.in2}"
        dst = f"{BASE[kind]}{ins.out}"

        def body(o, w, _):
            x, y = e.vload(a, o, w), e.vload(b, o, w)
            e.vstore(fn(e, x, y, w), dst, o, w)

        e.chunks(_size(e, kind), None, body)

    return render


def _arith(instr: str) -> Callable[[Emitter, str, str, int], str]:
    return lambda e, x, y, w: e.op(f"{instr} {e.vty(w)} {x}, {y}")


def _select(cmp: str, lhs: int, rhs: int, yes: int, no: int) -> Callable:
    """With v = (x, y): v[yes] if (v[lhs] cmp v[rhs]) else v[no] (ordered compare: NaN -> no)."""

    def fn(e: Emitter, x: str, y: str, w: int) -> str:
        v, ty = (x, y), e.vty(w)
        c = e.op(f"fcmp {cmp} {ty} {v[lhs]}, {v[rhs]}")
        i1 = "i1" if w == 1 else f"<{w} x i1>"
        return e.op(f"select {i1} {c}, {ty} {v[yes]}, {ty} {v[no]}")

    return fn


def _scalar_pair(fn: Callable[[Emitter, str, str, int], str]) -> Callable:
    def render(e: Emitter, ins: Instruction) -> None:
        e.s_store(ins.out, fn(e, e.s_load(ins.in1), e.s_load(ins.in2), 1))

    return render


def _splats(e: Emitter, x: str, n: int) -> dict[int, str]:
    """x splatted to every chunk width that `chunks(n, ...)` uses (made before any loop)."""
    return {w: e.splat(x, w) for w in e.widths(n)}


def _scale(kind: str) -> Callable:
    """out = S[in1] * X[in2] elementwise (SCALAR_VECTOR_PRODUCT, SCALAR_MATRIX_PRODUCT)."""

    def render(e: Emitter, ins: Instruction) -> None:
        n = _size(e, kind)
        s = _splats(e, e.s_load(ins.in1), n)
        src, dst = f"{BASE[kind]}{ins.in2}", f"{BASE[kind]}{ins.out}"

        def body(o, w, _):
            e.vstore(e.op(f"fmul {e.vty(w)} {s[w]}, {e.vload(src, o, w)}"), dst, o, w)

        e.chunks(n, None, body)

    return render


def _square(e: Emitter, x: str, w: int) -> str:
    return e.op(f"fmul {e.vty(w)} {x}, {x}")


def _vsum(e: Emitter, base: str, n: int, square: bool, start: Index = 0) -> str:
    """0.0 + x_0 + x_1 + ... (or of squares) over n contiguous doubles, in order."""

    def step(o, w, acc):
        x = e.vload(base, o, w)
        return e.fold_add(acc, _square(e, x, w) if square else x, w)

    return e.chunks(n, ZERO, step, start)


def _sum(e: Emitter, base: str, n: int, square: bool, idx: Callable = lambda k: k) -> str:
    """0.0 + x_0 + x_1 + ... (or of squares) over base[idx(k)], k < n, in order (scalar)."""

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


def _sqrt(e: Emitter, x: str, w: int = 1) -> str:
    return e.intrinsic("sqrt", w, x)


def _std_step(e: Emitter, base: str):
    def step(k, accs):
        total, squares = accs
        x = e.load(base, k)
        total = e.op(f"fadd double {total}, {x}")
        sq = e.op(f"fmul double {x}, {x}")
        return total, e.op(f"fadd double {squares}, {sq}")

    return step


def _finish_std(e: Emitter, total: str, squares: str, n: int, w: int = 1) -> str:
    ty, nn = e.vty(w), e.vconst(float(n), w)
    mean = e.op(f"fdiv {ty} {total}, {nn}")
    msq = e.op(f"fdiv {ty} {squares}, {nn}")
    m2 = e.op(f"fmul {ty} {mean}, {mean}")
    return _sqrt(e, e.op(f"fsub {ty} {msq}, {m2}"), w)


def _vstd(e: Emitter, base: str, n: int, start: Index = 0) -> str:
    """sqrt(sq/n - mean*mean) of n contiguous doubles; both sums in order (independent chains,
    so accumulating them separately gives the interpreter's interleaved values)."""

    def step(o, w, accs):
        total, squares = accs
        x = e.vload(base, o, w)
        return e.fold_add(total, x, w), e.fold_add(squares, _square(e, x, w), w)

    total, squares = e.chunks(n, (ZERO, ZERO), step, start)
    return _finish_std(e, total, squares, n)


# -- matrices as lines ----------------------------------------------------------------------------
# A matrix is F contiguous "lines" of F doubles: columns when column-major, rows when row-major.
# Ops that work along lines use ordered reductions or whole-chunk stores; ops that work across
# lines sweep the lines in index order with one vector accumulator per chunk, so every lane adds
# its terms in the interpreter's order.


def _line(e: Emitter, k: Index) -> Index:
    return e.index(k, e.F)


def _along(e: Emitter, body: Callable[[Index], None]) -> None:
    """body(k) for every line k (written out straight up to `vunroll` lines)."""
    e.reduce(e.F, None, lambda k, _: body(k), unroll=e.vunroll)


def _across(e: Emitter, init: float | tuple, step: Callable, finish: Callable) -> None:
    """For every chunk (o, w) of a line: acc = init in every lane; acc = step(k, o, w, acc) for
    lines k = 0, 1, ...; then finish(o, w, acc). Tuples of inits carry several accumulators."""
    F = e.F

    def chunk(o, w, _):
        if isinstance(init, tuple):
            acc = tuple(e.vconst(x, w) for x in init)
        else:
            acc = e.vconst(init, w)
        acc = e.reduce(F, acc, lambda k, a: step(k, o, w, a), ty=e.vty(w), unroll=e.vunroll)
        finish(o, w, acc)

    e.chunks(F, None, chunk)


def _single_chunk(e: Emitter) -> bool:
    return e.widths(e.F) == [e.F]
