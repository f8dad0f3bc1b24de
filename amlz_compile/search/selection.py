"""The select and final evaluations: a candidate program evaluated on freshly built tasks
(no FEC, no train budget) with the evaluation seed the driver hands out; plus the task-seed
randomisation and the memory such an evaluation holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..ir.program import MemorySpec, Program

if TYPE_CHECKING:
    from .experiment_config import ExperimentConfig


def build_tasks(specs: list[dict]):
    """The task collection of task spec dicts (built anew: the caches of the search stay out)."""
    from ..tasks.build import build_collection

    return build_collection([dict(t) for t in specs])


def randomized(specs: tuple[dict, ...] | list[dict], seed: int) -> list[dict]:
    """Task spec dicts with new data seeds drawn from `seed` (`randomize_task_seeds`)."""
    from ..tasks.seeds import randomize_task_seeds
    from ..tasks.spec import TaskSpec

    return [s.to_dict() for s in randomize_task_seeds([TaskSpec.from_dict(t) for t in specs], seed)]


def evaluate_on(
    program: Program,
    specs: list[dict],
    memory: MemorySpec,
    seed: int,
    *,
    backend: str,
    max_abs_error: float = 100.0,
) -> float:
    """Mean fitness of `program` on freshly built tasks (no FEC, no budget): select and final.
    `memory` gives the address counts; the feature size is the tasks'."""
    from ..evaluate import Evaluator

    tasks = build_tasks(specs)
    evaluator = Evaluator(
        tasks,
        memory.with_features(tasks[0].features),
        backend=backend,
        combination="mean",
        max_abs_error=max_abs_error,
    )
    return float(evaluator.evaluate(program, seed))


def metrics_on(
    program: Program,
    specs: list[dict],
    memory: MemorySpec,
    seed: int,
    *,
    max_abs_error: float = 100.0,
) -> dict:
    """Plain metrics (RMSE/R^2 or accuracy, `metrics.plain_metrics`) of `program` on freshly
    built tasks with the evaluation seed `evaluate_on` used."""
    from ..metrics import plain_metrics

    tasks = build_tasks(specs)
    memory = memory.with_features(tasks[0].features)
    return plain_metrics(program, tasks, memory, seed, max_abs_error=max_abs_error)


def final_evaluation(program: Program, config: ExperimentConfig, seed: int) -> tuple[float, dict]:
    """The run's last step: the fitness (`evaluate_on`) and the plain metrics (`metrics_on`)
    of the winning program on the config's final tasks with evaluation seed `seed`."""
    search = config.search
    specs = [dict(t) for t in config.final_tasks]
    fitness = evaluate_on(program, specs, search.memory, seed, backend=search.backend,
                          max_abs_error=search.max_abs_error)  # fmt: skip
    metrics = metrics_on(program, specs, search.memory, seed, max_abs_error=search.max_abs_error)
    return fitness, metrics


def evaluation_bytes(specs: tuple[dict, ...], memory: MemorySpec) -> int:
    """Bytes a select or final evaluation on `specs` holds: the task data and one memory per
    task at the tasks' largest feature size."""
    from ..tasks.spec import TaskSpec

    parsed = [TaskSpec.from_dict(dict(t)) for t in specs]
    features = max(spec.features for spec in parsed)
    per_task = memory.with_features(features).nbytes
    return sum(spec.estimated_bytes() + spec.num_tasks * per_task for spec in parsed)
