"""A tiny LLVM IR text writer: fresh SSA names, blocks, loops that unroll when short, and
explicit vector chunks.

Op templates (`render.py`) and the kernel skeleton (`codegen.py`) write through it. Indices are
either Python ints (compile-time constants, e.g. in unrolled code) or SSA names of i64 values.
Runs of contiguous doubles are processed as `<w x double>` chunks (`chunks`): LLVM's SLP and
loop vectorisers do not re-vectorise the scalar code that SROA makes of small arrays, so the
templates write the vector operations themselves (never with fast-math flags: every lane
computes exactly the interpreter's scalar operation).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable

Index = int | str

# Memory base names a `prefix` renames (multi-task kernels give each task its own memory).
_MEMORY_NAME = re.compile(r"%(S\d+|V\d+|M\d+|TV|TM|RNG)\b")


def fconst(x: float) -> str:
    """A double literal that round-trips exactly (LLVM's hex form)."""
    return f"0x{struct.unpack('<Q', struct.pack('<d', float(x)))[0]:016X}"


class Emitter:
    """Accumulates the body of one LLVM function.

    `F` is the feature size; loops of at most `unroll` iterations are written out straight.
    Memory bases are named `%S<k>` (one double), `%V<k>` (F doubles), `%M<k>` (F*F doubles,
    column-major when `col_major`, else row-major: always address elements through `mat`)
    and `%TV`/`%TM` (scratch for ops whose output may alias an input).
    Vector chunks are `width` doubles wide (default: F up to 16, else 8); loops of at most
    `vunroll` chunks (or matrix lines) are written out straight.
    """

    def __init__(
        self,
        features: int,
        unroll: int = 4,
        col_major: bool = False,
        width: int | None = None,
        vunroll: int = 16,
    ) -> None:
        self.F = features
        self.col_major = col_major
        self.unroll = unroll
        self.width = width if width is not None else (features if features <= 16 else 8)
        self.vunroll = vunroll
        self.lines: list[str] = []
        self.n = 0
        self.cur = "entry"
        self.prefix = ""  # when set, memory names %S<k>.. become %<prefix>S<k>.. (see `emit`)

    # -- names and blocks -------------------------------------------------------------------
    def tmp(self) -> str:
        self.n += 1
        return f"%t{self.n}"

    def label(self, hint: str = "b") -> str:
        self.n += 1
        return f"{hint}{self.n}"

    def emit(self, line: str) -> None:
        if self.prefix:
            line = _MEMORY_NAME.sub(lambda m: f"%{self.prefix}{m.group(1)}", line)
        self.lines.append("  " + line)

    def op(self, rhs: str) -> str:
        """Emit `%t = rhs` and return the new name."""
        t = self.tmp()
        self.emit(f"{t} = {rhs}")
        return t

    def block(self, name: str) -> None:
        self.lines.append(f"{name}:")
        self.cur = name

    def br(self, name: str) -> None:
        self.emit(f"br label %{name}")

    def cbr(self, cond: str, yes: str, no: str) -> None:
        self.emit(f"br i1 {cond}, label %{yes}, label %{no}")

    # -- memory -----------------------------------------------------------------------------
    def index(self, i: Index, scale: int = 1, offset: Index = 0) -> Index:
        """i * scale + offset, folded when both are constants."""
        if isinstance(i, int) and isinstance(offset, int):
            return i * scale + offset
        x = i if scale == 1 else self.op(f"mul nuw nsw i64 {i}, {scale}")
        if offset == 0:
            return x
        return self.op(f"add nuw nsw i64 {x}, {offset}")

    def mat(self, i: Index, j: Index) -> Index:
        """Index of matrix element (row i, column j) in this kernel's layout."""
        if self.col_major:
            return self.index(j, self.F, i)
        return self.index(i, self.F, j)

    def gep(self, base: str, i: Index, ty: str = "double") -> str:
        if i == 0:
            return base
        return self.op(f"getelementptr inbounds {ty}, ptr {base}, i64 {i}")

    def gep_i8(self, base: str, offset: int) -> str:
        """base + offset bytes (plain GEP: may point anywhere, e.g. for prefetches)."""
        if offset == 0:
            return base
        return self.op(f"getelementptr i8, ptr {base}, i64 {offset}")

    def load(self, base: str, i: Index = 0, ty: str = "double") -> str:
        return self.op(f"load {ty}, ptr {self.gep(base, i, ty)}")

    def store(self, value: str, base: str, i: Index = 0, ty: str = "double") -> None:
        self.emit(f"store {ty} {value}, ptr {self.gep(base, i, ty)}")

    def s_load(self, k: int) -> str:
        return self.load(f"%S{k}")

    def s_store(self, k: int, value: str) -> None:
        self.store(value, f"%S{k}")

    # -- vectors ----------------------------------------------------------------------------
    @staticmethod
    def vty(w: int) -> str:
        """The IR type of a chunk of w doubles (a plain double when w == 1)."""
        return "double" if w == 1 else f"<{w} x double>"

    @staticmethod
    def vconst(x: float, w: int) -> str:
        """The constant x in every lane of a w-chunk."""
        return fconst(x) if w == 1 else f"splat (double {fconst(x)})"

    def splat(self, x: str, w: int) -> str:
        """The SSA double x in every lane of a w-chunk."""
        if w == 1:
            return x
        v = self.op(f"insertelement <{w} x double> poison, double {x}, i64 0")
        return self.op(f"shufflevector <{w} x double> {v}, <{w} x double> poison, "
                       f"<{w} x i32> zeroinitializer")  # fmt: skip

    def vload(self, base: str, i: Index, w: int) -> str:
        return self.op(f"load {self.vty(w)}, ptr {self.gep(base, i)}, align 8")

    def vstore(self, value: str, base: str, i: Index, w: int) -> None:
        self.emit(f"store {self.vty(w)} {value}, ptr {self.gep(base, i)}, align 8")

    def intrinsic(self, name: str, w: int, *args: str) -> str:
        """call llvm.<name> on w-chunks (e.g. fabs, sqrt), all arguments of the chunk type."""
        ty = self.vty(w)
        suffix = "f64" if w == 1 else f"v{w}f64"
        return self.op(f"call {ty} @llvm.{name}.{suffix}({', '.join(f'{ty} {a}' for a in args)})")

    def fold_add(self, acc: str, v: str, w: int) -> str:
        """acc + v[0] + v[1] + ... + v[w-1], in this order (an ordered reduction, no reassoc)."""
        if w == 1:
            return self.op(f"fadd double {acc}, {v}")
        return self.op(
            f"call double @llvm.vector.reduce.fadd.v{w}f64(double {acc}, <{w} x double> {v})"
        )

    def widths(self, n: int) -> list[int]:
        """The distinct chunk widths `chunks(n, ...)` uses."""
        W = min(self.width, n)
        return [W] + ([n % W] if n % W else [])

    def chunks(self, n: int, init, step: Callable, start: Index = 0):
        """Fold step(offset, width, acc) over n contiguous doubles from `start`, chunk by chunk
        in order (full chunks of `width`, then the remainder); returns the final acc.

        Up to `vunroll` full chunks are written out straight, more become a loop. `init` is as
        in `reduce` (carried values are doubles).
        """
        W = min(self.width, n)
        full, rem = divmod(n, W)

        def at(c: Index, w: int, acc):
            return step(self.index(c, W, start), w, acc)

        acc = self.reduce(full, init, lambda c, a: at(c, W, a), unroll=self.vunroll)
        if rem:
            acc = at(full, rem, acc)
        return acc

    # -- control flow -----------------------------------------------------------------------
    def loop(self, n: int, body: Callable[[Index], None]) -> None:
        """Run body(i) for i in 0..n-1 (n >= 1): unrolled when n <= unroll, else a loop."""
        self.reduce(n, None, lambda i, acc: body(i))

    def reduce(self, n: int, init, step: Callable, ty: str = "double", unroll: int | None = None):
        """Fold step(i, acc) over i in 0..n-1 starting from `init`; returns the final acc.

        `init` is None (a plain loop), one SSA value, or a tuple of them (several carried
        values; step then takes and returns a tuple), all of IR type `ty`. Unrolled when
        n <= `unroll` (default: the emitter's).
        """
        if n <= (self.unroll if unroll is None else unroll):
            acc = init
            for i in range(n):
                acc = step(i, acc)
            return acc
        inits = () if init is None else (init if isinstance(init, tuple) else (init,))
        pre = self.cur
        body, done = self.label("loop"), self.label("done")
        i, i_next = self.tmp(), self.tmp()
        accs = tuple(self.tmp() for _ in inits)
        self.br(body)
        self.block(body)
        phi_at = len(self.lines)
        self.lines.extend([""] * (1 + len(accs)))
        arg = None if init is None else (accs if isinstance(init, tuple) else accs[0])
        new = step(i, arg)
        news = () if init is None else (new if isinstance(init, tuple) else (new,))
        self.emit(f"{i_next} = add nuw nsw i64 {i}, 1")
        cond = self.op(f"icmp ult i64 {i_next}, {n}")
        self.cbr(cond, body, done)
        latch = self.cur
        self.lines[phi_at] = f"  {i} = phi i64 [0, %{pre}], [{i_next}, %{latch}]"
        for k, (acc, a0, a1) in enumerate(zip(accs, inits, news, strict=True)):
            self.lines[phi_at + 1 + k] = f"  {acc} = phi {ty} [{a0}, %{pre}], [{a1}, %{latch}]"
        self.block(done)
        return new
