"""Instructions, programs (Setup, Predict, Learn) and the memory they run in.

A `Program` stores all instructions as two flat, read-only arrays so that compiled code reads
them without touching Python objects: `code` (int32, one row [op, in1, in2, out] per
instruction) and `data` (float64, one row [act, f0, f1, f2]); `bounds` gives where Setup, Predict
and Learn start and end. `Instruction` and the component tuples are thin, immutable views.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import AmlzError
from ..limits import memory_bytes
from .ops import ADDRESS_KINDS, KIND_LETTERS, MATRIX, NUM_OPS, SCALAR, VECTOR, op_info

COMPONENTS = ("setup", "predict", "learn")

# Reserved addresses (docs/semantics.md#memory).
LABEL_SCALAR = 0  # s0: the label, visible in Learn only (0 during Predict)
PREDICTION_SCALAR = 1  # s1: the prediction, read after every Predict
FEATURES_VECTOR = 0  # v0: the features of the current example

ADDRESS_LIMIT = 65536  # addresses of each kind are 16-bit: 0..65535
MAX_COMPONENT_INSTRUCTIONS = 65536  # per component, as a file may hold (the search's are far fewer)


class ProgramError(AmlzError, ValueError):
    """A program that cannot run in the given memory, or a malformed instruction."""


def f32(x: float) -> float:
    """Round to float32 and back: the reference stores f0..f2 as float32."""
    return float(np.float32(x))


@dataclass(frozen=True)
class MemorySpec:
    """Run-time address counts and the feature size F (any F >= 1)."""

    scalars: int = 20
    vectors: int = 20
    matrices: int = 20
    features: int = 4

    def __post_init__(self) -> None:
        if self.scalars < 2:
            raise ProgramError(f"memory needs at least 2 scalars (s0, s1), got {self.scalars}")
        if self.vectors < 1:
            raise ProgramError(f"memory needs at least 1 vector (v0), got {self.vectors}")
        if self.matrices < 0:
            raise ProgramError(f"matrix count must be >= 0, got {self.matrices}")
        if self.features < 1:
            raise ProgramError(f"feature size F must be >= 1, got {self.features}")

    def count(self, kind: str) -> int:
        """Number of addresses of kind "s", "v" or "m"."""
        return {SCALAR: self.scalars, VECTOR: self.vectors, MATRIX: self.matrices}[kind]

    def with_features(self, features: int) -> MemorySpec:
        return MemorySpec(self.scalars, self.vectors, self.matrices, features)

    @property
    def nbytes(self) -> int:
        """Bytes of one memory of this spec (float64 scalars, vectors and matrices)."""
        return memory_bytes(self.scalars, self.vectors, self.matrices, self.features)


@dataclass(frozen=True)
class Instruction:
    """One instruction: op, addresses and data (act is float64; f0..f2 are float32 values)."""

    op: int
    in1: int = 0
    in2: int = 0
    out: int = 0
    act: float = 0.0
    f0: float = 0.0
    f1: float = 0.0
    f2: float = 0.0

    def __post_init__(self) -> None:
        if not 0 <= int(self.op) < NUM_OPS:
            raise ProgramError(f"unknown op number {self.op} (valid: 0-{NUM_OPS - 1})")
        for name in ("in1", "in2", "out"):
            value = getattr(self, name)
            if not 0 <= int(value) < ADDRESS_LIMIT:
                raise ProgramError(f"address {name}={value} outside 0..65535")
        object.__setattr__(self, "op", int(self.op))
        for name in ("in1", "in2", "out"):
            object.__setattr__(self, name, int(getattr(self, name)))
        object.__setattr__(self, "act", float(self.act))
        for name in ("f0", "f1", "f2"):
            object.__setattr__(self, name, f32(getattr(self, name)))

    @classmethod
    def _trusted(cls, op: int, in1: int, in2: int, out: int, act: float, f0: float, f1: float,
                 f2: float) -> Instruction:  # fmt: skip
        """An instruction from a program's already-checked rows (Python ints, float32-exact
        floats): the same object as the checked constructor builds, without re-checking."""
        ins = object.__new__(cls)
        ins.__dict__.update(op=op, in1=in1, in2=in2, out=out, act=act, f0=f0, f1=f1, f2=f2)
        return ins

    @property
    def info(self):
        return op_info(self.op)

    def row(self) -> tuple[tuple[int, int, int, int], tuple[float, float, float, float]]:
        return (self.op, self.in1, self.in2, self.out), (self.act, self.f0, self.f1, self.f2)

    def approx_equal(self, other: Instruction, tol: float = 1e-5) -> bool:
        """The reference's instruction equality: same op and addresses, data within `tol`."""
        return (
            self.op == other.op
            and (self.in1, self.in2, self.out) == (other.in1, other.in2, other.out)
            and abs(self.act - other.act) < tol
            and all(abs(getattr(self, f) - getattr(other, f)) < tol for f in ("f0", "f1", "f2"))
        )


NO_OP = Instruction(0)


def _rows(instructions: Iterable[Instruction]) -> tuple[np.ndarray, np.ndarray]:
    items = list(instructions)
    code = np.zeros((len(items), 4), dtype=np.int32)
    data = np.zeros((len(items), 4), dtype=np.float64)
    for k, ins in enumerate(items):
        if not isinstance(ins, Instruction):
            raise ProgramError(f"expected an Instruction, got {type(ins).__name__}")
        code[k], data[k] = ins.row()
    return code, data


class Program:
    """An algorithm: Setup, Predict and Learn, stored as flat read-only arrays.

    Equal programs (same instructions, bit for bit) compare and hash equal.
    """

    __slots__ = ("code", "data", "bounds", "_hash", "_parts")

    def __init__(
        self,
        setup: Sequence[Instruction] = (),
        predict: Sequence[Instruction] = (),
        learn: Sequence[Instruction] = (),
    ) -> None:
        parts = [_rows(setup), _rows(predict), _rows(learn)]
        sizes = [len(c) for c, _ in parts]
        code = np.concatenate([c for c, _ in parts]).reshape(-1, 4).astype(np.int32)
        data = np.concatenate([d for _, d in parts]).reshape(-1, 4).astype(np.float64)
        bounds = np.array(
            [0, sizes[0], sizes[0] + sizes[1], sizes[0] + sizes[1] + sizes[2]], dtype=np.int64
        )
        self._init_arrays(code, data, bounds)

    def _init_arrays(self, code: np.ndarray, data: np.ndarray, bounds: np.ndarray) -> None:
        for arr in (code, data, bounds):
            arr.flags.writeable = False
        self.code, self.data, self.bounds = code, data, bounds
        self._hash = hash((code.tobytes(), data.tobytes(), bounds.tobytes()))
        self._parts: tuple[tuple[Instruction, ...], ...] | None = None  # built on first use

    @classmethod
    def from_arrays(cls, code: np.ndarray, data: np.ndarray, bounds: Sequence[int]) -> Program:
        """Build from flat arrays (copied), checking shapes and op numbers."""
        code = np.array(code, dtype=np.int32).reshape(-1, 4)
        data = np.array(data, dtype=np.float64).reshape(-1, 4)
        bounds = np.array(bounds, dtype=np.int64)
        if len(code) != len(data):
            raise ProgramError("code and data arrays differ in length")
        if bounds.shape != (4,) or bounds[0] != 0 or bounds[3] != len(code):
            raise ProgramError(f"bad component bounds {bounds.tolist()} for {len(code)} rows")
        if np.any(np.diff(bounds) < 0):
            raise ProgramError(f"component bounds must not decrease: {bounds.tolist()}")
        if len(code) and (code[:, 0].min() < 0 or code[:, 0].max() >= NUM_OPS):
            raise ProgramError("op number outside 0-64")
        if len(code) and (code[:, 1:].min() < 0 or code[:, 1:].max() >= ADDRESS_LIMIT):
            row = int(np.argmax(np.any((code[:, 1:] < 0) | (code[:, 1:] >= ADDRESS_LIMIT), axis=1)))
            raise ProgramError(f"row {row}: address outside 0..65535 in {code[row].tolist()}")
        data[:, 1:] = data[:, 1:].astype(np.float32)
        self = cls.__new__(cls)
        self._init_arrays(code, data, bounds)
        return self

    # -- views ------------------------------------------------------------------------------
    def _component(self, k: int) -> tuple[Instruction, ...]:
        if self._parts is None:  # the rows are read-only and were checked when built
            rows = [
                Instruction._trusted(*c, *d)
                for c, d in zip(self.code.tolist(), self.data.tolist(), strict=True)
            ]
            b = self.bounds.tolist()
            self._parts = tuple(tuple(rows[b[j] : b[j + 1]]) for j in range(3))
        return self._parts[k]

    @property
    def setup(self) -> tuple[Instruction, ...]:
        return self._component(0)

    @property
    def predict(self) -> tuple[Instruction, ...]:
        return self._component(1)

    @property
    def learn(self) -> tuple[Instruction, ...]:
        return self._component(2)

    def component(self, name: str) -> tuple[Instruction, ...]:
        """Setup, Predict or Learn by name."""
        return self._component(COMPONENTS.index(name))

    def components(self) -> dict[str, tuple[Instruction, ...]]:
        return {name: self._component(k) for k, name in enumerate(COMPONENTS)}

    def replace(self, **parts: Sequence[Instruction]) -> Program:
        """A copy with some components replaced, e.g. `p.replace(learn=[...])`."""
        unknown = set(parts) - set(COMPONENTS)
        if unknown:
            raise ProgramError(f"unknown component(s) {sorted(unknown)}")
        new = {name: parts.get(name, self.component(name)) for name in COMPONENTS}
        return Program(**new)

    def sizes(self) -> tuple[int, int, int]:
        b = self.bounds
        return int(b[1] - b[0]), int(b[2] - b[1]), int(b[3] - b[2])

    def __len__(self) -> int:
        return int(self.bounds[3])

    # -- memory -----------------------------------------------------------------------------
    def required_memory(self, features: int = 4) -> MemorySpec:
        """The smallest memory this program's addresses fit (at least s0, s1, v0)."""
        need = [0, 2, 1, 0]  # by kind code: unused, s, v, m
        if len(self.code):
            kinds = ADDRESS_KINDS[self.code[:, 0]]
            addrs = self.code[:, 1:4]
            for code in (1, 2, 3):
                used = addrs[kinds == code]
                if used.size:
                    need[code] = max(need[code], int(used.max()) + 1)
        return MemorySpec(need[1], need[2], need[3], features)

    def check_fits(self, memory: MemorySpec) -> None:
        """Raise ProgramError naming the first instruction whose address is out of range."""
        if not len(self.code):
            return
        # limits by kind code; an unused field (code 0) never exceeds its limit
        limits = np.array([1 << 62, memory.scalars, memory.vectors, memory.matrices])
        bad = self.code[:, 1:4] >= limits[ADDRESS_KINDS[self.code[:, 0]]]
        if not bad.any():
            return
        row, field = divmod(int(np.argmax(bad.ravel())), 3)  # the first in program order
        k = int(np.searchsorted(self.bounds[1:], row, side="right"))
        info = op_info(int(self.code[row, 0]))
        kind = KIND_LETTERS[int(ADDRESS_KINDS[info.op, field])]
        addr = int(self.code[row, 1 + field])
        raise ProgramError(
            f"{COMPONENTS[k]} instruction {row - int(self.bounds[k])} ({info.name}): {kind}{addr} "
            f"is out of range (memory has {memory.count(kind)} {kind}-addresses)"
        )

    # -- identity ---------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Program):
            return NotImplemented
        return (
            np.array_equal(self.bounds, other.bounds)
            and np.array_equal(self.code, other.code)
            and self.data.tobytes() == other.data.tobytes()
        )

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        s, p, lrn = self.sizes()
        return f"Program(setup={s}, predict={p}, learn={lrn})"

    def __str__(self) -> str:
        """The readable text form (`def Setup(): ...`), what `print(program)` shows."""
        from .text import format_program

        return format_program(self)

    def __reduce__(self):
        return (Program.from_arrays, (self.code, self.data, self.bounds))
