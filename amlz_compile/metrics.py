"""Plain metrics of a program on tasks: RMSE and R^2 for regression, accuracy for classification.

Fitness is what the search optimises (RMS error squashed to (0, 1], or accuracy, best epoch);
people read RMSE, R^2 and accuracy. `plain_metrics` runs the program on each task exactly as
an evaluation does (same per-task generator seeds as `Evaluator` for a given evaluation seed),
takes the validation predictions after the last training epoch, and averages per-task metrics.
RMSE is in the task's label units (standardised units for tasks made from a user's table, whose
estimators report RMSE in the user's units); R^2 does not depend on the units. A task whose
run stopped early (a NaN or an error above `max_abs_error`) counts in `failed_tasks` and not in
the means.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .evaluate import predict_trace, task_seeds
from .ir.program import MemorySpec, Program
from .tasks.base import Task


def task_metrics(program: Program, task: Task, memory: MemorySpec, rng_seed: int, *,
                 max_abs_error: float = 100.0) -> dict | None:  # fmt: skip
    """RMSE and R^2, or accuracy, of one task's last validation pass (None if it failed)."""
    trace = predict_trace(program, task, memory, rng_seed=rng_seed, max_abs_error=max_abs_error)
    expected = task.epochs * (task.num_train + task.num_valid)
    if len(trace) < expected:
        return None
    pred = np.asarray(trace[-task.num_valid :], dtype=np.float64)
    y = task.valid_y
    if task.is_accuracy:
        return {"accuracy": float(np.mean((pred > 0) == (y > 0.5)))}
    with np.errstate(all="ignore"):
        sse = float(np.sum((y - pred) ** 2))
        sst = float(np.sum((y - y.mean()) ** 2))
    if not math.isfinite(sse):
        return None
    return {
        "rmse": math.sqrt(sse / len(y)),
        "r2": 1.0 - sse / sst if sst > 0 else float(sse == 0),
    }


def plain_metrics(
    program: Program,
    tasks: Sequence[Task],
    memory: MemorySpec,
    seed: int,
    *,
    max_abs_error: float = 100.0,
) -> dict:
    """Mean per-task metrics over `tasks` with evaluation seed `seed`:
    {"rmse", "r2"} for RMS tasks and/or {"accuracy"} for accuracy tasks, "tasks" (how many
    were measured) and "failed_tasks"."""
    seeds = task_seeds(seed, len(tasks))
    per_task = [
        task_metrics(
            program,
            task,
            memory.with_features(task.features),
            int(s),
            max_abs_error=max_abs_error,
        )  # fmt: skip
        for task, s in zip(tasks, seeds, strict=True)
    ]
    return combine_metrics(per_task)


def combine_metrics(per_task: Sequence[dict | None]) -> dict:
    """The mean of each metric over the tasks that have it, with "tasks" (measured) and
    "failed_tasks" (None entries: runs that stopped early)."""
    found: dict[str, list[float]] = {}
    failed = 0
    for m in per_task:
        if m is None:
            failed += 1
            continue
        for key, value in m.items():
            found.setdefault(key, []).append(value)
    out: dict = {key: float(np.mean(values)) for key, values in found.items()}
    out["tasks"] = len(per_task) - failed
    out["failed_tasks"] = failed
    return out


def format_metrics(metrics: dict | None) -> str:
    """'RMSE 0.41  R^2 0.83' / 'accuracy 0.95' for summaries ('' when there are none)."""
    if not metrics:
        return ""
    parts = []
    if "rmse" in metrics:
        parts.append(f"RMSE {metrics['rmse']:.4g}")
    if "r2" in metrics:
        parts.append(f"R^2 {metrics['r2']:.4f}")
    if "accuracy" in metrics:
        parts.append(f"accuracy {metrics['accuracy']:.4f}")
    if metrics.get("failed_tasks"):
        parts.append(f"({metrics['failed_tasks']} task(s) failed)")
    return "  ".join(parts)
