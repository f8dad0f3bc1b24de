"""The evaluation protocol: one program on a list of tasks -> one fitness, for every backend.

Every backend runs the task-kernel contract (`backends/__init__.py`); the task fitness (best
validation epoch) and the combination over tasks (mean, or the reference's upper median) always
come from `fitness.py`. Backends are looked up by name in a small registry ("interp" built in,
"jit" loaded on first use; others call `register_backend`).

Per-task random seeds: the evaluation seed s feeds a SplitMix64 generator (`amlz_compile.rng`);
task t (its position in the evaluator's list) gets that generator's (t+1)-th output, i.e. one
draw per task in order. So evaluations with the same seed are reproducible and tasks get
independent streams for their random ops.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .backends.base import Backend
from .errors import UsageError
from .fitness import COMBINATIONS, combine, task_fitness
from .ir.program import MemorySpec, Program
from .limits import check_allocation
from .rng import MASK64, SplitMix64
from .tasks.base import Task, TaskError

# -- backend registry -------------------------------------------------------------------------

_FACTORIES: dict[str, Callable[[], Backend]] = {}
_INSTANCES: dict[str, Backend] = {}


def register_backend(name: str, factory: Callable[[], Backend]) -> None:
    """Make `get_backend(name)` build its backend with `factory()` (replaces an earlier one)."""
    _FACTORIES[name] = factory
    _INSTANCES.pop(name, None)


def _interp_factory() -> Backend:
    from .backends.interp import InterpBackend

    return InterpBackend()


def _jit_factory() -> Backend:
    from .backends.llvm import JitBackend

    return JitBackend()


class AutoBackend:
    """The tiered backend: per program, the cost model of `tiering` picks interp or JIT.

    Only the choice lives here; each chosen program runs on the shared "interp" or "jit"
    backend, so results are those of that backend (and the two agree bit for bit).
    """

    name = "auto"

    def choose(self, program: Program, memory: MemorySpec, tasks, n_train=None) -> str:
        """ "interp" or "jit" for one evaluation of `program` on `tasks`, estimated on its live
        instructions (only they run, in either tier)."""
        from .backends.llvm import default_compiler
        from .tiering import Workload, choose_tier

        live = _live_part(program)
        cached = default_compiler().cached(program, memory, final_memory=False) is not None
        work = Workload.of_tasks(tasks, n_train)
        return choose_tier(live, memory, work, mode="auto", cached=cached)


def _live_part(program: Program) -> Program:
    """The instructions of `program` that can influence a prediction (`ir.liveness`: the
    interpreter's own pruning, small to compile, unlike the passes' full simplification)."""
    from .ir.liveness import live_mask

    code = np.require(program.code, np.int32, ["C", "W"])
    data = np.require(program.data, np.float64, ["C", "W"])
    bounds = np.require(program.bounds, np.int64, ["C", "W"])
    keep = live_mask(code, data, bounds)
    if keep.all():
        return program
    sizes = [int(keep[bounds[k] : bounds[k + 1]].sum()) for k in range(3)]
    return Program.from_arrays(code[keep], data[keep], np.cumsum([0, *sizes]))


register_backend("interp", _interp_factory)
register_backend("jit", _jit_factory)
register_backend("auto", AutoBackend)


def available_backends() -> tuple[str, ...]:
    """Names `get_backend` accepts."""
    return tuple(sorted(_FACTORIES))


def get_backend(name: str | Backend) -> Backend:
    """The backend registered as `name` (one shared instance per name); objects pass through."""
    if not isinstance(name, str):
        return name
    if name not in _FACTORIES:
        raise ValueError(f"unknown backend {name!r} (available: {', '.join(available_backends())})")
    if name not in _INSTANCES:
        _INSTANCES[name] = _FACTORIES[name]()
    return _INSTANCES[name]


# -- seeds ------------------------------------------------------------------------------------


def task_seeds(seed: int, n_tasks: int) -> np.ndarray:
    """uint64[n_tasks]: successive SplitMix64 outputs from state `seed` (one draw per task)."""
    gen = SplitMix64(int(seed) & MASK64)
    return np.array([gen.next_u64() for _ in range(n_tasks)], dtype=np.uint64)


# -- evaluator --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvalResult:
    """Combined fitness, the fitness of every task (evaluator order), training steps run."""

    fitness: float
    per_task: list[float]
    train_steps: int


def _check_tasks(tasks: Sequence[Task]) -> list[Task]:
    tasks = list(tasks)
    if not tasks:
        raise TaskError("an evaluator needs at least one task")
    for t in tasks:
        if not isinstance(t, Task):
            raise TaskError(f"expected a Task, got {type(t).__name__}")
    return tasks


class Evaluator:
    """Evaluates programs on a fixed list of tasks (docs/semantics.md#fitness).

    `memory` gives the address counts; its feature size is taken from the tasks (tasks of
    different feature sizes are evaluated in groups, each with its own F). `combination` is
    "mean" (reference default) or "median" (upper middle). Programs that do not fit the memory
    raise ProgramError.
    """

    def __init__(
        self,
        tasks: Sequence[Task],
        memory: MemorySpec,
        *,
        backend: str | Backend = "interp",
        combination: str = "mean",
        max_abs_error: float = 100.0,
    ) -> None:
        self.tasks = _check_tasks(tasks)
        if combination not in COMBINATIONS:
            raise ValueError(f"unknown fitness combination {combination!r} (use {COMBINATIONS})")
        self.combination = combination
        self.max_abs_error = float(max_abs_error)
        if not self.max_abs_error > 0:  # NaN fails too
            raise UsageError(
                f"max_abs_error must be > 0 (inf: never stop early), got {max_abs_error}"
            )
        self.backend = get_backend(backend)
        self.backend_name = getattr(self.backend, "name", str(backend))
        widths = sorted({t.features for t in self.tasks})
        self.memory = memory.with_features(self.tasks[0].features)
        self._memories = {F: memory.with_features(F) for F in widths}
        check_allocation(
            sum(self._memories[t.features].nbytes for t in self.tasks),
            f"one memory per task ({memory.scalars} scalars, {memory.vectors} vectors, "
            f"{memory.matrices} matrices at F={widths[-1]}, {len(self.tasks)} tasks)",
        )
        # Task positions per feature size, and packed task arrays for batch-capable backends.
        self._groups = {F: [i for i, t in enumerate(self.tasks) if t.features == F] for F in widths}
        self._packed: dict[int, object] = {}

    def __len__(self) -> int:
        return len(self.tasks)

    def check(self, program: Program) -> None:
        """Raise ProgramError when `program` addresses memory the evaluator does not have."""
        program.check_fits(self.memory)

    def seeds(self, seed: int) -> np.ndarray:
        """The per-task generator seeds for evaluation seed `seed` (see the module docstring)."""
        return task_seeds(seed, len(self.tasks))

    # -- single program ---------------------------------------------------------------------
    def evaluate(self, program: Program, rng_seed: int = 0, *, seed: int | None = None) -> float:
        """Combined fitness of `program` (seed: `rng_seed`, or its alias `seed`)."""
        return self.evaluate_detailed(program, rng_seed, seed=seed).fitness

    def evaluate_detailed(
        self, program: Program, rng_seed: int = 0, *, seed: int | None = None
    ) -> EvalResult:
        """Combined fitness, per-task fitnesses and training steps of `program`."""
        s = rng_seed if seed is None else seed
        fitness, per_task, steps = self.evaluate_batch_detailed([program], [s])
        return EvalResult(float(fitness[0]), [float(f) for f in per_task[0]], int(steps[0]))

    # -- batches ----------------------------------------------------------------------------
    def evaluate_batch(self, programs: Sequence[Program], seeds) -> np.ndarray:
        """float64[P]: the combined fitness of each program with its evaluation seed."""
        return self.evaluate_batch_detailed(programs, seeds)[0]

    def evaluate_batch_detailed(
        self, programs: Sequence[Program], seeds, *, n_train=None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(fitness[P], per_task[P, T], train_steps[P]) for programs with evaluation seeds.

        `seeds` is one evaluation seed per program (or one for all). `n_train` optionally
        overrides the training steps per (program, task) (broadcast to [P, T]; 0 = not run,
        task fitness 0), e.g. for a train budget.
        """
        programs = list(programs)
        P, T = len(programs), len(self.tasks)
        seed_list = np.broadcast_to(np.asarray(seeds, dtype=object), (P,))
        task_seed = np.zeros((P, T), dtype=np.uint64)
        for p in range(P):
            task_seed[p] = self.seeds(int(seed_list[p]))
        budget = None
        if n_train is not None:
            budget = np.ascontiguousarray(np.broadcast_to(np.asarray(n_train), (P, T)))
        per_task = np.zeros((P, T))
        steps = np.zeros((P, T), dtype=np.int64)
        if P:
            for F, idx in self._groups.items():
                memory = self._memories[F]
                cols = np.array(idx)
                sub_budget = None if budget is None else budget[:, cols]
                f, s = self._run_group(programs, F, idx, memory, task_seed[:, cols], sub_budget)
                per_task[:, cols] = f
                steps[:, cols] = s
        fitness = np.array([combine(row, self.combination) for row in per_task])
        return fitness.reshape(P), per_task, steps.sum(axis=1)

    def _run_group(self, programs, F, idx, memory, seeds, budget, backend=None):
        tasks = [self.tasks[i] for i in idx]
        backend = self.backend if backend is None else backend
        if isinstance(backend, AutoBackend):
            return self._run_auto(backend, programs, F, idx, memory, seeds, budget)
        run_batch = getattr(backend, "run_batch", None)
        if run_batch is not None:
            if F not in self._packed:
                from .backends.packing import pack_tasks

                self._packed[F] = pack_tasks(tasks)
            out = run_batch(
                programs,
                self._packed[F],
                memory,
                seeds,
                n_train=budget,
                max_abs_error=self.max_abs_error,
            )
            return out.fitness, out.train_steps
        for prog in programs:
            prog.check_fits(memory)
        fit = np.zeros((len(programs), len(tasks)))
        steps = np.zeros((len(programs), len(tasks)), dtype=np.int64)
        run_tasks = getattr(backend, "run_tasks", None)  # all of a program's tasks at once
        for p, prog in enumerate(programs):
            if run_tasks is not None:
                budgets = None if budget is None else [int(b) for b in budget[p]]
                seeds_p = [int(s) for s in seeds[p]]
                runs = run_tasks(prog, tasks, memory, rng_seeds=seeds_p, n_train=budgets,
                                 max_abs_error=self.max_abs_error)  # fmt: skip
            for t, task in enumerate(tasks):
                n = None if budget is None else int(budget[p, t])
                if run_tasks is not None:
                    run = runs[t]
                else:
                    run = backend.run_task(
                        prog,
                        task,
                        memory,
                        n_train=n,
                        rng_seed=int(seeds[p, t]),
                        max_abs_error=self.max_abs_error,
                    )
                fit[p, t] = task_fitness(
                    run.epoch_loss, run.epochs_validated, float(task.num_valid), task.is_accuracy
                )
                steps[p, t] = run.train_steps
        return fit, steps

    def _run_auto(self, auto, programs, F, idx, memory, seeds, budget):
        """Split the programs by the tier the cost model picks, run each part on its backend."""
        tasks = [self.tasks[i] for i in idx]
        n_train = None if budget is None else int(np.max(budget))
        tiers = [auto.choose(p, memory, tasks, n_train) for p in programs]
        fit = np.zeros((len(programs), len(tasks)))
        steps = np.zeros((len(programs), len(tasks)), dtype=np.int64)
        for tier in ("interp", "jit"):
            rows = [k for k, t in enumerate(tiers) if t == tier]
            if not rows:
                continue
            sub_budget = None if budget is None else budget[rows]
            f, s = self._run_group(
                [programs[k] for k in rows], F, idx, memory, seeds[rows], sub_budget,
                backend=get_backend(tier),
            )  # fmt: skip
            fit[rows], steps[rows] = f, s
        return fit, steps


# -- per-example predictions ------------------------------------------------------------------


def predict_trace(
    program: Program,
    task: Task,
    memory: MemorySpec | None = None,
    *,
    backend: str | Backend = "interp",
    rng_seed: int = 0,
    n_train: int | None = None,
    n_valid: int | None = None,
    max_abs_error: float = 100.0,
) -> np.ndarray:
    """Every prediction (s1) of one run of `program` on `task`, in execution order.

    Per epoch: the s1 of each training step (after the sigmoid for accuracy tasks; a failing
    step is included and ends the run), then of each validation Predict. `memory` defaults to
    the smallest that fits the program; its F is taken from the task. `rng_seed` is the task's
    generator seed itself (no per-task derivation).
    """
    if memory is None:
        memory = program.required_memory(task.features)
    memory = memory.with_features(task.features)
    steps = task.max_train_examples if n_train is None else max(int(n_train), 0)
    valid = task.num_valid if n_valid is None else max(int(n_valid), 0)
    epochs = -(-min(steps, task.max_train_examples) // task.num_train)
    run = get_backend(backend).run_task(
        program,
        task,
        memory,
        n_train=steps,
        n_valid=valid,
        rng_seed=rng_seed,
        max_abs_error=max_abs_error,
        trace_len=min(steps, task.max_train_examples) + epochs * min(valid, task.num_valid),
    )
    return run.trace
