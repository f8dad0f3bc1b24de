"""Driver mode: one skeleton per memory spec, three tiny functions per program.

The driver (`driver_ir`) is the task-kernel skeleton of `codegen.py` compiled once per memory
spec; it keeps the whole memory in one *block* of doubles (`BlockLayout`: generator state,
scalars, vectors, matrices row-major, scratch) and runs a component by calling
`void fn(ptr block)` through the argument block's `setup_fn` / `predict_fn` / `learn_fn` slots
(a null slot = an empty component, skipped). Per program only those functions are emitted
(`program_ir`: the op templates of `render.py`, addressing the block through GEPs), which is
what makes compiling many small programs cheap: the skeleton, ~330 lines of IR, is not
repeated per program.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ...ir.program import MemorySpec, Program, ProgramError
from .codegen import STACK_LIMIT_BYTES, skeleton_ir
from .emitter import Emitter
from .render import render_instruction

ALIGN = 4  # doubles: vectors, matrices and scratch start on 32-byte boundaries


def _up(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


@dataclass(frozen=True)
class BlockLayout:
    """Offsets (in doubles) of everything in a driver's memory block.

    [0] generator state (i64) | scalars | vectors | matrices (row-major) | TV | TM; vectors,
    matrices and scratch start on multiples of `ALIGN` doubles.
    """

    features: int
    scalars: int
    vectors: int
    matrices: int
    scratch_tv: int
    scratch_tm: int
    doubles: int

    @classmethod
    @lru_cache(maxsize=64)
    def of(cls, memory: MemorySpec) -> BlockLayout:
        F = memory.features
        s = 1
        v = _up(s + memory.scalars)
        m = _up(v + memory.vectors * F)
        tv = _up(m + memory.matrices * F * F)
        tm = _up(tv + F)
        return cls(F, s, v, m, tv, tm, tm + F * F)

    @property
    def on_stack(self) -> bool:
        """Small blocks live on the driver's stack; large ones in the caller's scratch slot."""
        return self.doubles * 8 <= STACK_LIMIT_BYTES

    def offset(self, name: str) -> int:
        """Offset of `%S<k>`, `%V<k>`, `%M<k>`, `%TV`, `%TM` or `%RNG` (name without `%`)."""
        if name == "RNG":
            return 0
        if name == "TV":
            return self.scratch_tv
        if name == "TM":
            return self.scratch_tm
        k = int(name[1:])
        F = self.features
        return {"S": self.scalars + k, "V": self.vectors + k * F, "M": self.matrices + k * F * F}[
            name[0]
        ]


def _define(e: Emitter, block: str, layout: BlockLayout, name: str) -> None:
    e.emit(f"%{name} = getelementptr inbounds double, ptr {block}, i64 {layout.offset(name)}")


class DriverLayout:
    """The skeleton's hooks for a driver: memory in one block, components called by pointer."""

    calls_components = True

    def __init__(self, memory: MemorySpec) -> None:
        self.spec = memory
        self.block = BlockLayout.of(memory)

    def memory(self, e: Emitter, arg: dict[str, str]) -> None:
        b = self.block
        if b.on_stack:
            e.emit(f"%BLK = alloca [{b.doubles} x double], align 32")
            base = "%BLK"
        else:
            base = arg["scratch"]
        self.base = base
        names = [f"S{k}" for k in range(self.spec.scalars)]
        names += [f"V{k}" for k in range(self.spec.vectors)]
        names += [f"M{k}" for k in range(self.spec.matrices)]
        for name in ["RNG", *names]:
            _define(e, base, b, name)

    def wipe(self, e: Emitter, arg: dict[str, str]) -> None:
        b = self.block
        nbytes = (b.scratch_tv - b.scalars) * 8  # scalars .. end of matrices (padding included)
        e.emit(f"call void @llvm.memset.p0.i64(ptr %S0, i8 0, i64 {nbytes}, i1 false)")

    def run(self, e: Emitter, arg: dict[str, str], component: str) -> None:
        fn = arg[f"{component}_fn"]
        call, after = e.label(f"call_{component}"), e.label(f"ran_{component}")
        e.cbr(e.op(f"icmp ne ptr {fn}, null"), call, after)
        e.block(call)
        e.emit(f"call void {fn}(ptr {self.base})")
        e.br(after)
        e.block(after)

    def results(self, e: Emitter, arg: dict[str, str]) -> None:
        F, spec = self.spec.features, self.spec
        for dst, src, n in ((arg["scalars"], "%S0", spec.scalars),
                            (arg["vectors"], "%V0", spec.vectors * F),
                            (arg["matrices"], "%M0", spec.matrices * F * F)):  # fmt: skip
            if n:
                e.emit(f"call void @llvm.memcpy.p0.p0.i64(ptr {dst}, ptr {src}, i64 {n * 8}, i1 0)")


def driver_ir(memory: MemorySpec, name: str, unroll: int = 4) -> str:
    """The LLVM IR text of the driver kernel `name` for `memory` (no runtime, no declarations)."""
    return skeleton_ir(name, Emitter(memory.features, unroll), [DriverLayout(memory)])


_NAMES = re.compile(r"%(RNG|TV|TM|[SVM]\d+)\b")


def component_ir(instructions, memory: MemorySpec, name: str, unroll: int = 4) -> str:
    """`define void @name(ptr %mem)`: the instructions over a driver's memory block.

    Raises ProgramError if an address is out of range: the addresses the body uses are checked
    against `memory` as their block offsets are written.
    """
    e = Emitter(memory.features, unroll, width=1)
    for ins in instructions:
        render_instruction(e, ins)
    body = "\n".join(e.lines)
    layout = BlockLayout.of(memory)
    limit = {"S": memory.scalars, "V": memory.vectors, "M": memory.matrices}
    head = []
    for used in sorted(set(_NAMES.findall(body))):
        if used[0] in limit and len(used) > 1 and int(used[1:]) >= limit[used[0]]:
            kind = used[0].lower()
            raise ProgramError(
                f"{kind}{used[1:]} is out of range (memory has {limit[used[0]]} {kind}-addresses)"
            )
        offset = layout.offset(used)
        head.append(f"  %{used} = getelementptr inbounds double, ptr %mem, i64 {offset}")
    return "\n".join(
        [f"define void @{name}(ptr noalias %mem) {{", "entry:", *head, body, "  ret void", "}", ""]
    )


def program_ir(
    program: Program, memory: MemorySpec, prefix: str, unroll: int = 4
) -> tuple[str, tuple[str | None, str | None, str | None]]:
    """The component functions of one program (empty components get none: a null slot).

    Returns the IR text and the function names for (setup, predict, learn), None where empty.
    """
    parts, names = [], []
    for component, instructions in program.components().items():
        if len(instructions) == 0:
            names.append(None)
            continue
        name = f"{prefix}_{component[0]}"
        try:
            parts.append(component_ir(instructions, memory, name, unroll))
        except ProgramError:
            program.check_fits(memory)  # raises the error naming component and position
            raise
        names.append(name)
    return "".join(parts), tuple(names)  # type: ignore[return-value]
