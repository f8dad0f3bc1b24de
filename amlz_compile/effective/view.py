"""The effective-program view itself: `effective_program` runs the steps on the tasks given and
returns an `EffectiveView` (the program, its reading text with a header, the diff and the
changes); see the package docstring for what it does and why it is approximate."""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import UsageError
from ..evaluate import Evaluator
from ..ir.program import COMPONENTS, MemorySpec, Program
from ..ir.text import SECTION_NAMES, format_program
from ..ir.text_instruction import format_instruction
from ..tasks import Task, build_collection
from .memory import all_instructions, known_inputs
from .render import render_instruction, render_program
from .steps import DEAD, Work, algebra, drop, exact

DEFAULT_TOLERANCE = 1e-9

#: The header's note on what makes the view approximate.
APPROXIMATE_NOTE = (
    "approximate: never-written memory reads 0; x - x = 0, x / x = 1, x * 0 = 0 and x + 0 = x "
    "as for finite x (s2 - s2 is NaN, not 0, when s2 is inf); instructions dropped while the "
    "fitness stays within the tolerance of the original's on the tasks given"
)


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
    """The effective program of `original` on some tasks (see the package docstring).

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
        from ..ir.serialize import program_to_dict

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


def _task_list(tasks: Any) -> list[Task]:
    from ..tasks import TaskSpec

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
    see the package docstring. `program` is not modified. The fitness is the evaluation
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
    # one more address of each kind: a never-written one for `rules.as_copy` (unused: all zeros)
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

    work = exact(Work(program, tuple(range(len(program))), {}))
    for _ in range(len(work.program) + 2):  # until a round changes nothing (a bound for safety)
        start = work.program
        work = drop(algebra(work, ok, memory), ok)
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


def _changes(original: Program, work: Work) -> tuple[tuple[Change, ...], tuple[Change, ...]]:
    places = [(name, k, ins) for name in COMPONENTS
              for k, ins in enumerate(original.component(name))]  # fmt: skip
    final = {o: row for row, o in enumerate(work.origin)}
    known = known_inputs(work.program)
    flat = all_instructions(work.program)
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
