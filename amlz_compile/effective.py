"""The effective program: what an evolved program does on given tasks, for reading.

APPROXIMATE, unlike `passes.simplify` (exact: same predictions bit for bit, on every task). The
view starts from the exact passes (constant folding and dead-code removal, keeping the
program's own address names and order) and then, on the tasks given:

1. inputs known to be 0 or 1 (`known_inputs`: never-written memory, the constant written last
   in the same component, Setup's not yet written memory) are shown as the literal, and
   results they determine for finite values become constants: `x * 0`, `dot(x, 0)`, `0 / x`
   -> 0; self-cancelling arithmetic too: `x - x` -> 0, `x / x` -> 1 (none of these hold for
   inf or NaN: `s2 - s2` is NaN when s2 is inf);
2. copies (`x + 0`, `x - 0`, `x * 1`, `x / 1`, `max(x, x)`) print as `y = x`; in the program
   they become `y = x + z` (z never written: the IR has no copy op), later reads of y in the
   component read x instead, and `x = x` goes;
3. instructions whose removal leaves the fitness within `tolerance` of the ORIGINAL program's
   are dropped, greedily in program order (each removal followed by the exact passes again),
   until no single removal passes.

Every rewrite of steps 1-2 is kept only if the fitness stays within the tolerance too, so the
effective program's fitness on the given tasks (and seed) is within `tolerance` of the
original's; on other tasks it may differ. The view stays out of `simplify`, canonical keys and
checkpoints, which remain exact (docs/semantics.md#the-effective-program).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import UsageError
from .evaluate import Evaluator
from .ir.ops import DATA_OP, UNIFORM_SET, Op
from .ir.program import ADDRESS_LIMIT, COMPONENTS, Instruction, MemorySpec, Program
from .ir.text import SECTION_NAMES, format_program
from .ir.text_instruction import format_instruction
from .passes import fold_constants, live_mask
from .tasks import Task, build_collection

DEFAULT_TOLERANCE = 1e-9

#: The header's note on what makes the view approximate.
APPROXIMATE_NOTE = (
    "approximate: never-written memory reads 0; x - x = 0, x / x = 1, x * 0 = 0 and x + 0 = x "
    "as for finite x (s2 - s2 is NaN, not 0, when s2 is inf); instructions dropped while the "
    "fitness stays within the tolerance of the original's on the tasks given"
)

_RESERVED = {("s", 0), ("s", 1), ("v", 0)}  # written by the harness
_SUM = {Op.SCALAR_SUM_OP, Op.VECTOR_SUM_OP, Op.MATRIX_SUM_OP}
_DIFF = {Op.SCALAR_DIFF_OP, Op.VECTOR_DIFF_OP, Op.MATRIX_DIFF_OP}
_DIV = {Op.SCALAR_DIVISION_OP, Op.VECTOR_DIVISION_OP, Op.MATRIX_DIVISION_OP}
_ELEMENTWISE_PRODUCT = {
    Op.SCALAR_PRODUCT_OP, Op.VECTOR_PRODUCT_OP, Op.MATRIX_PRODUCT_OP,
    Op.SCALAR_VECTOR_PRODUCT_OP, Op.SCALAR_MATRIX_PRODUCT_OP,
}  # fmt: skip
# zero when either input is zero (the other finite)
_ZERO_ABSORBING = _ELEMENTWISE_PRODUCT | {
    Op.VECTOR_INNER_PRODUCT_OP, Op.VECTOR_OUTER_PRODUCT_OP, Op.MATRIX_VECTOR_PRODUCT_OP,
    Op.MATRIX_MATRIX_PRODUCT_OP,
}  # fmt: skip
_MINMAX = {
    Op.SCALAR_MIN_OP, Op.VECTOR_MIN_OP, Op.MATRIX_MIN_OP,
    Op.SCALAR_MAX_OP, Op.VECTOR_MAX_OP, Op.MATRIX_MAX_OP,
}  # fmt: skip
_CONST_OPS = {"s": Op.SCALAR_CONST_SET_OP, "v": Op.VECTOR_UNIFORM_SET_OP,
              "m": Op.MATRIX_UNIFORM_SET_OP}  # fmt: skip
_SHAPE = {"v": "n_features", "m": "(n_features, n_features)"}

DEAD = "dead code"
REDUNDANT = "redundant write"
FOLDED = "constant (exact fold)"
NO_EFFECT = "no effect on fitness"


@dataclass(frozen=True)
class Change:
    """One instruction of the original program the view drops or rewrites.

    `component` and `index` give its place in the original program, `before` its text there,
    `after` its rendered form in the effective program (None when dropped), `reason` why (the
    steps in order, e.g. "x - x = 0 (approx.); dead code").
    """

    component: str
    index: int
    before: str
    after: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"component": self.component, "index": self.index, "before": self.before,
                "after": self.after, "reason": self.reason}  # fmt: skip


@dataclass(frozen=True)
class EffectiveView:
    """The effective program of `original` on some tasks (see the module docstring).

    `program` is a real program (evaluate or export it); `text` is the readable rendering with
    its header (literal zeros and identities shown as copies: not parseable as a program);
    `diff` is a unified diff of the rendered `against` program to the effective one.
    """

    original: Program
    program: Program
    text: str
    diff: str
    dropped: tuple[Change, ...]
    rewritten: tuple[Change, ...]
    fitness_before: float
    fitness_after: float
    tolerance: float
    tasks: tuple[str, ...]
    seed: int
    backend: str
    combination: str
    against: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: what an experiment stores next to its results."""
        from .ir.serialize import program_to_dict

        return {
            "approximate": True,
            "note": APPROXIMATE_NOTE,
            "tolerance": self.tolerance,
            "tasks": list(self.tasks),
            "seed": self.seed,
            "backend": self.backend,
            "combination": self.combination,
            "fitness_before": _json_float(self.fitness_before),
            "fitness_after": _json_float(self.fitness_after),
            "size_before": len(self.original),
            "size_after": len(self.program),
            "program": program_to_dict(self.program),
            "program_text": format_program(self.program),
            "text": self.text,
            "against": self.against,
            "diff": self.diff,
            "dropped": [c.to_dict() for c in self.dropped],
            "rewritten": [c.to_dict() for c in self.rewritten],
        }


def _json_float(x: float) -> float | str:
    return x if math.isfinite(x) else repr(x)


# -- memory facts -----------------------------------------------------------------------------


def _instructions(program: Program) -> list[Instruction]:
    return [ins for name in COMPONENTS for ins in program.component(name)]


def never_written(program: Program) -> Callable[[tuple[str, int]], bool]:
    """A test of (kind, address): no instruction writes it and the harness does not (it reads
    0.0 in every element all the time)."""
    written = {(ins.info.out, ins.out) for ins in _instructions(program) if ins.info.out}
    return lambda loc: loc not in written and loc not in _RESERVED


def _setup_ones(program: Program) -> set[tuple[str, int]]:
    """Scalars that hold exactly 1.0 wherever they are read: written once, by `s = 1.0` in
    Setup, and not read in Setup before that."""
    writers: dict[tuple[str, int], list[int]] = {}
    flat = _instructions(program)
    for i, ins in enumerate(flat):
        if ins.info.out:
            writers.setdefault((ins.info.out, ins.out), []).append(i)
    n_setup = program.sizes()[0]
    ones = set()
    for loc, rows in writers.items():
        if len(rows) != 1 or loc in _RESERVED or rows[0] >= n_setup:
            continue
        ins = flat[rows[0]]
        if ins.op != Op.SCALAR_CONST_SET_OP or ins.act != 1.0:
            continue
        if any(loc in _reads(flat[j]) for j in range(rows[0] + 1)):
            continue
        ones.add(loc)
    return ones


def _reads(ins: Instruction) -> list[tuple[str, int]]:
    info = ins.info
    return [(k, a) for k, a in ((info.in1, ins.in1), (info.in2, ins.in2)) if k is not None]


Known = Mapping[tuple[str, int], float]


def _written_constant(ins: Instruction) -> float | None:
    """The value a constant write stores in every element (None: not a full constant write)."""
    if ins.op == Op.SCALAR_CONST_SET_OP:
        return ins.act
    if UNIFORM_SET[ins.op] and not ins.f0 < ins.f1:
        return ins.f0
    return None


def known_inputs(program: Program) -> list[dict[tuple[str, int], float]]:
    """Per instruction (Setup, Predict, Learn order), its inputs whose value there is known:
    never-written memory (0); the last write before it in its component, if a constant write
    (a component is straight-line code); in Setup, what Setup has not written yet (memory is
    wiped before Setup: 0); after Setup, the scalars `_setup_ones` finds (1)."""
    zero, ones = never_written(program), _setup_ones(program)
    result = []
    for name in COMPONENTS:
        last: dict[tuple[str, int], float | None] = {}
        for ins in program.component(name):
            known = {}
            for loc in _reads(ins):
                if zero(loc):
                    known[loc] = 0.0
                elif loc in last:
                    if last[loc] is not None:
                        known[loc] = last[loc]
                elif name == "setup":
                    known[loc] = 0.0
                elif loc in ones:
                    known[loc] = 1.0
            result.append(known)
            if ins.info.out:
                last[(ins.info.out, ins.out)] = _written_constant(ins)
    return result


# -- rendering --------------------------------------------------------------------------------


def render_instruction(
    ins: Instruction,
    known: Known | None = None,
) -> str:
    """The readable form of one instruction: inputs known (`known_inputs`) to be 0 or 1 as the
    literal, a constant vector/matrix write as `full(...)`, copies (`copy_source`) as `y = x`."""
    info = ins.info
    out = f"{info.out}{ins.out}" if info.out else ""
    if info.op in (Op.VECTOR_UNIFORM_SET_OP, Op.MATRIX_UNIFORM_SET_OP) and not ins.f0 < ins.f1:
        return f"{out} = full({_SHAPE[info.out]}, {_number(ins.f0)})"
    if DATA_OP[ins.op] or info.arity == 0:
        return format_instruction(ins)
    names = {}
    for field in ("in1", "in2"):
        kind = getattr(info, field)
        if kind is not None:
            loc = (kind, getattr(ins, field))
            value = (known or {}).get(loc)
            names[field] = "0" if value == 0.0 else "1" if value == 1.0 else f"{kind}{loc[1]}"
    source = copy_source(ins, known or {})
    if source is not None:
        return f"{out} = {source[0]}{source[1]}"
    if info.op in _DIFF and names["in1"] == "0":
        return f"{out} = -{names['in2']}"
    return info.text.format(out=out, **names)


def copy_source(ins: Instruction, known: Known) -> tuple[str, int] | None:
    """The location an instruction copies, given its known inputs: `x + 0`, `x - 0`, `x * 1`,
    `x / 1`, `min(x, x)` (None when it is not such a copy)."""
    info = ins.info
    reads = _reads(ins)
    if len(reads) != 2:
        return None
    a, b = (known.get(loc) for loc in reads)
    op = info.op
    source = None
    if op in _SUM:
        source = reads[0] if b == 0.0 else reads[1] if a == 0.0 else None
    elif op in _DIFF or op in _DIV:
        source = reads[0] if b == (0.0 if op in _DIFF else 1.0) else None
    elif op in _ELEMENTWISE_PRODUCT:
        source = reads[1] if a == 1.0 else reads[0] if b == 1.0 else None
    elif op in _MINMAX and reads[0] == reads[1]:
        source = reads[0]
    return source if source is not None and source[0] == info.out else None


def _number(value: float) -> str:
    return format_instruction(Instruction(Op.SCALAR_CONST_SET_OP, act=float(value))).split(
        " = ", 1
    )[1]


def render_program(program: Program) -> list[str]:
    """The rendered lines of a whole program (`def Setup():` and indented instructions)."""
    known = iter(known_inputs(program))
    lines = []
    for name in COMPONENTS:
        lines.append(f"def {SECTION_NAMES[name]}():")
        lines.extend(f"  {render_instruction(ins, next(known))}" for ins in program.component(name))
    return lines


# -- the steps of the view --------------------------------------------------------------------


@dataclass(frozen=True)
class _Work:
    """The current program, the original row each of its rows comes from, and the steps that
    changed each original row (by original row number)."""

    program: Program
    origin: tuple[int, ...]
    history: Mapping[int, tuple[str, ...]]

    def noted(self, notes: Mapping[int, str]) -> dict[int, tuple[str, ...]]:
        """The history plus one note per current row (`notes` by current row)."""
        history = dict(self.history)
        for row, note in notes.items():
            key = self.origin[row]
            history[key] = history.get(key, ()) + (note,)
        return history


def _keep(program: Program, mask: np.ndarray) -> Program:
    b = program.bounds.tolist()
    sizes = [int(mask[b[k] : b[k + 1]].sum()) for k in range(3)]
    return Program.from_arrays(program.code[mask], program.data[mask], np.cumsum([0, *sizes]))


def _exact(work: _Work) -> _Work:
    """The exact passes (constant folding, dead-code removal) to a fixed point, keeping address
    names and order (no canonical renaming), with what they did to each row."""
    program, origin, history = work.program, work.origin, dict(work.history)
    while True:
        folded = fold_constants(program)
        notes = {}
        if folded is not program:
            changed = np.any(folded.code != program.code, axis=1) | np.any(
                folded.data.view(np.int64) != program.data.view(np.int64), axis=1
            )
            for r in np.flatnonzero(changed).tolist():
                notes[r] = REDUNDANT if folded.code[r, 0] == Op.NO_OP else FOLDED
        mask = live_mask(folded)
        for r in np.flatnonzero(~mask).tolist():
            if r not in notes:
                notes[r] = "no-op" if folded.code[r, 0] == Op.NO_OP else DEAD
        history = _Work(program, origin, history).noted(notes)
        if folded is program and mask.all():
            return _Work(program, origin, history)
        program = _keep(folded, mask)
        origin = tuple(o for o, m in zip(origin, mask.tolist(), strict=True) if m)


def _const(kind: str, out: int, value: float) -> Instruction:
    if kind == "s":
        return Instruction(_CONST_OPS[kind], out=out, act=value)
    return Instruction(_CONST_OPS[kind], out=out, f0=value, f1=value)


def rewrite(ins: Instruction, known: Known) -> tuple[Instruction, str] | None:
    """The approximate constant an instruction computes for finite inputs (and the rule), or
    None: `x - x` -> 0, `x / x` -> 1, a product with never-written memory or `0 / x` -> 0."""
    info = ins.info
    op = info.op
    reads = _reads(ins)
    if op in _DIFF and ins.in1 == ins.in2:
        return _const(info.out, ins.out, 0.0), "x - x = 0 (approx.)"
    if op in _DIV and ins.in1 == ins.in2:
        return _const(info.out, ins.out, 1.0), "x / x = 1 (approx.)"
    if op in _ZERO_ABSORBING and any(known.get(loc) == 0.0 for loc in reads):
        return _const(info.out, ins.out, 0.0), "x * 0 = 0 (approx.)"
    if op in _DIV and known.get(reads[0]) == 0.0:
        return _const(info.out, ins.out, 0.0), "0 / x = 0 (approx.)"
    return None


def _replaced(work: _Work, rewrites: Mapping[int, tuple[Instruction | None, str]]) -> _Work:
    """Rows replaced by their rewrites (None: removed), then the exact passes."""
    code, data = work.program.code.copy(), work.program.data.copy()
    keep = np.ones(len(work.program), dtype=bool)
    for row, (ins, _) in rewrites.items():
        if ins is None:
            keep[row] = False
        else:
            code[row], data[row] = ins.row()
    program = _keep(Program.from_arrays(code, data, work.program.bounds), keep)
    history = work.noted({row: reason for row, (_, reason) in rewrites.items()})
    origin = tuple(o for o, k in zip(work.origin, keep.tolist(), strict=True) if k)
    return _exact(_Work(program, origin, history))


def _without(work: _Work, row: int) -> _Work:
    return _replaced(work, {row: (None, NO_EFFECT)})


def _self_copy(ins: Instruction, known: Known) -> tuple[None, str] | None:
    """(None, rule) for an instruction that renders as `x = x` (`x = x + 0`, `x = x * 1`, ...:
    it changes nothing, a -0.0 apart), else None."""
    if copy_source(ins, known) == (ins.info.out, ins.out):
        return None, SELF_COPY
    return None


COPY = "copy: x + 0 = x, x * 1 = x (approx.)"
SELF_COPY = "no-op: x = x + 0, x = x * 1 (approx.)"
PROPAGATED = "copy propagated (approx.)"
_SUM_OF = {"s": Op.SCALAR_SUM_OP, "v": Op.VECTOR_SUM_OP, "m": Op.MATRIX_SUM_OP}


def _free_zero(program: Program, memory: MemorySpec) -> dict[str, int]:
    """Per kind, the first never-written address inside `memory` (if any)."""
    zero = never_written(program)
    free = {}
    for kind in ("s", "v", "m"):
        for a in range(min(memory.count(kind), ADDRESS_LIMIT)):
            if zero((kind, a)):
                free[kind] = a
                break
    return free


def _as_copy(ins: Instruction, known: Known, zero, free) -> tuple[Instruction, str] | None:
    """A copy whose no-op operand is a written constant (`x * 1`, `x + 0` with the 0 written
    earlier) as `x + z`, z never-written: the constant's writer may then be dead."""
    source = copy_source(ins, known)
    kind = ins.info.out
    if source is None or kind not in free:
        return None
    if ins.info.op in _SUM and any(zero(loc) for loc in _reads(ins)):
        return None  # already in this form
    return Instruction(_SUM_OF[kind], in1=source[1], in2=free[kind], out=ins.out), COPY


def _propagations(program: Program, zero) -> dict[int, tuple[Instruction, str]]:
    """Reads of y after `y = x + z` (z never-written) in the same component, x unchanged in
    between, read x instead (then the copy may be dead)."""
    found = {}
    row = 0
    for name in COMPONENTS:
        copies: dict[tuple[str, int], tuple[str, int]] = {}
        for ins in program.component(name):
            fields = {}
            for field in ("in1", "in2"):
                kind = getattr(ins.info, field)
                loc = (kind, getattr(ins, field))
                if kind is not None and loc in copies:
                    fields[field] = copies[loc][1]
            if fields:
                new = Instruction(ins.op, fields.get("in1", ins.in1), fields.get("in2", ins.in2),
                                  ins.out, ins.act, ins.f0, ins.f1, ins.f2)  # fmt: skip
                found[row] = (new, PROPAGATED)
            out = (ins.info.out, ins.out)
            if ins.info.out:
                copies = {y: x for y, x in copies.items() if out not in (x, y)}
                reads = _reads(ins)
                if ins.info.op in _SUM and len(reads) == 2:
                    z = [loc for loc in reads if zero(loc)]
                    x = [loc for loc in reads if not zero(loc)]
                    if len(z) == 1 and len(x) == 1 and x[0] != out:
                        copies[out] = x[0]
            row += 1
    return found


def _algebra(work: _Work, ok: Callable[[Program], bool], memory: MemorySpec) -> _Work:
    """Apply the approximate rewrites whose result keeps the fitness: all at once if that does,
    else one at a time in program order (a rejected one is not tried again)."""
    rejected: set[tuple[int, str]] = set()
    for _ in range(4 * len(work.program) + 8):  # each kept step shrinks or simplifies
        known = known_inputs(work.program)
        zero, free = never_written(work.program), _free_zero(work.program, memory)
        propagate = _propagations(work.program, zero)
        todo: dict[int, tuple[Instruction | None, str]] = {}
        for row, ins in enumerate(_instructions(work.program)):
            rules = (rewrite(ins, known[row]), _self_copy(ins, known[row]), propagate.get(row),
                     _as_copy(ins, known[row], zero, free))  # fmt: skip
            for found in rules:
                if found is not None and (work.origin[row], found[1]) not in rejected:
                    todo[row] = found
                    break
        if not todo:
            return work
        candidate = _replaced(work, todo)
        if ok(candidate.program):
            work = candidate
            continue
        for row in sorted(todo):
            candidate = _replaced(work, {row: todo[row]})
            if ok(candidate.program):
                work = candidate
                break
            rejected.add((work.origin[row], todo[row][1]))
        else:
            return work
    return work


def _drop(work: _Work, ok: Callable[[Program], bool]) -> _Work:
    """Greedy: remove each instruction in program order, keep a removal that keeps the fitness,
    repeat the passes until one removes nothing."""
    changed = True
    while changed:
        changed = False
        row = 0
        while row < len(work.program):
            here = work.origin[row]
            candidate = _without(work, row)
            if ok(candidate.program):
                work, changed = candidate, True
                row = sum(1 for o in work.origin if o < here)
            else:
                row += 1
    return work


# -- the view ---------------------------------------------------------------------------------


def _task_list(tasks: Any) -> list[Task]:
    from .tasks import TaskSpec

    if isinstance(tasks, Task | TaskSpec | Mapping):
        tasks = [tasks]
    items = list(tasks)
    if not items:
        raise UsageError("the effective program needs at least one task (or task spec)")
    if all(isinstance(t, Task) for t in items):
        return items
    if any(isinstance(t, Task) for t in items):
        raise UsageError("give tasks or task specs, not a mix of both")
    return build_collection(items)


def describe_tasks(tasks: Sequence[Task]) -> tuple[str, ...]:
    """One label per run of alike tasks, e.g. `linear x3 (F=8, train 1000, valid 100, rms)`."""
    groups: list[list] = []
    for t in tasks:
        key = (t.name.split("#", 1)[0], t.features, t.num_train, t.num_valid, t.epochs,
               t.eval_type)  # fmt: skip
        if groups and groups[-1][0] == key:
            groups[-1][1] += 1
        else:
            groups.append([key, 1])
    labels = []
    for (name, F, train, valid, epochs, eval_type), n in groups:
        more = f", {epochs} epochs" if epochs != 1 else ""
        labels.append(f"{name} x{n} (F={F}, train {train}, valid {valid}{more}, {eval_type})")
    return tuple(labels)


def _close(value: float, target: float, tolerance: float) -> bool:
    if math.isnan(value) or math.isnan(target):
        return math.isnan(value) and math.isnan(target)
    return abs(value - target) <= tolerance


def effective_program(
    program: Program,
    tasks: Any,
    tolerance: float = DEFAULT_TOLERANCE,
    *,
    against: Program | None = None,
    against_label: str | None = None,
    seed: int = 0,
    backend: str = "interp",
    combination: str = "mean",
    max_abs_error: float = 100.0,
) -> EffectiveView:
    """The effective program of `program` on `tasks` (Task objects, task specs or spec dicts):
    see the module docstring. `program` is not modified. The fitness is the evaluation
    protocol's (`evaluate.Evaluator`) with evaluation seed `seed`; every kept step keeps it
    within `tolerance` (absolute) of the original's. `against` (default: the empty program) is
    the starting program the diff compares with."""
    if not isinstance(program, Program):
        raise UsageError(f"expected a Program, got {type(program).__name__}")
    tolerance = float(tolerance)
    if not (tolerance >= 0 and math.isfinite(tolerance)):
        raise UsageError(f"the tolerance must be a finite number >= 0, got {tolerance}")
    task_list = _task_list(tasks)
    need = program.required_memory(task_list[0].features)
    # one more address of each kind: a never-written one for `_as_copy` (unused: all zeros)
    memory = MemorySpec(need.scalars + 1, need.vectors + 1, need.matrices + 1, need.features)
    evaluator = Evaluator(task_list, memory, backend=backend, combination=combination,
                          max_abs_error=max_abs_error)  # fmt: skip
    cache: dict[Program, float] = {}

    def fitness(p: Program) -> float:
        if p not in cache:
            cache[p] = evaluator.evaluate(p, seed)
        return cache[p]

    before = fitness(program)

    def ok(p: Program) -> bool:
        return _close(fitness(p), before, tolerance)

    work = _exact(_Work(program, tuple(range(len(program))), {}))
    for _ in range(len(work.program) + 2):  # until a round changes nothing (a bound for safety)
        start = work.program
        work = _drop(_algebra(work, ok, memory), ok)
        if work.program == start:
            break
    after = fitness(work.program)
    dropped, rewritten = _changes(program, work)
    labels = describe_tasks(task_list)
    against = Program() if against is None else against
    against_label = against_label or ("the empty program" if len(against) == 0 else "given")
    lines = render_program(work.program)
    header = _header(program, work.program, labels, tolerance, before, after, seed,
                     evaluator.backend_name, combination, dropped, rewritten)  # fmt: skip
    notes = _change_lines("dropped", dropped) + _change_lines("rewritten", rewritten)
    text = "\n".join([*header, *lines, *notes]) + "\n"
    diff = "\n".join(
        difflib.unified_diff(render_program(against), lines, f"against: {against_label}",
                             "effective", n=max(len(lines), len(against) + 3), lineterm="")
    )  # fmt: skip
    return EffectiveView(
        original=program, program=work.program, text=text, diff=diff + "\n" if diff else "",
        dropped=dropped, rewritten=rewritten, fitness_before=before, fitness_after=after,
        tolerance=tolerance, tasks=labels, seed=int(seed), backend=evaluator.backend_name,
        combination=combination, against=against_label,
    )  # fmt: skip


def _changes(original: Program, work: _Work) -> tuple[tuple[Change, ...], tuple[Change, ...]]:
    places = [(name, k, ins) for name in COMPONENTS
              for k, ins in enumerate(original.component(name))]  # fmt: skip
    final = {o: row for row, o in enumerate(work.origin)}
    known = known_inputs(work.program)
    flat = _instructions(work.program)
    dropped, rewritten = [], []
    for i, (name, k, ins) in enumerate(places):
        reasons = "; ".join(work.history.get(i, ()))
        if i not in final:
            dropped.append(Change(name, k, format_instruction(ins), None, reasons or DEAD))
        elif reasons:
            after = render_instruction(flat[final[i]], known[final[i]])
            rewritten.append(Change(name, k, format_instruction(ins), after, reasons))
    return tuple(dropped), tuple(rewritten)


def _header(original, effective, labels, tolerance, before, after, seed, backend, combination,
            dropped, rewritten) -> list[str]:  # fmt: skip
    return [
        "# effective program: APPROXIMATE, for reading (not an exact simplification)",
        "#   never-written memory reads as 0; x - x = 0, x / x = 1, x * 0 = 0 and x + 0 = x as",
        "#   for finite x (s2 - s2 is NaN, not 0, when s2 is inf); instructions dropped while",
        f"#   the {combination} fitness stays within {tolerance:g} of the original's on the tasks",
        f"# tasks: {'; '.join(labels)}; seed {seed}, backend {backend}",
        f"# fitness: original {before!r}, effective {after!r} "
        f"(difference {abs(after - before):.3g})",
        f"# instructions: original {len(original)}, effective {len(effective)} "
        f"({len(dropped)} dropped, {len(rewritten)} rewritten)",
    ]


def _change_lines(title: str, changes: Sequence[Change]) -> list[str]:
    if not changes:
        return []
    lines = [f"# {title}:"]
    for c in changes:
        where = f"{SECTION_NAMES[c.component]} {c.index}"
        now = f" -> {c.after}" if c.after is not None else ""
        lines.append(f"#   {where}: {c.before}{now}  ({c.reason})")
    return lines
