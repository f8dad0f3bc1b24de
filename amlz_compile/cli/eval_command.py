"""`amlz eval`: an algorithm's fitness and plain metrics on tasks, overall and per task
(`evaluate_program`: the evaluation protocol, no search caches)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ..errors import UsageError
from .choices import BackendChoice
from .program_commands import load_algorithm
from .reporting import user_errors
from .task_options import TaskOptions, with_task_options


@with_task_options
def eval_(
    algo: Annotated[str, typer.Argument(help="Algorithm file, run directory or built-in name.")],
    tasks: Annotated[
        str,
        typer.Option(
            "--tasks",
            "-t",
            help="A task kind (linear, affine, nonlinear, "
            "projected-binary, zeros, ones, increment, ...) or a JSON/TOML task file.",
        ),
    ],
    task_options: TaskOptions = TaskOptions(),
    backend: Annotated[BackendChoice, typer.Option(help="Evaluation backend.")] = (
        BackendChoice.auto
    ),
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """Evaluate an algorithm on tasks: fitness and per-task fitness."""
    with user_errors():
        from ..tasks.spec_input import task_specs

        program, _ = load_algorithm(algo)
        specs = task_specs(tasks, **task_options.spec_options())
        report = evaluate_program(
            program, specs, seed=task_options.seed, backend=backend.value,
            combination=task_options.combination, max_abs_error=task_options.max_abs_error,
        )  # fmt: skip
        if as_json:
            typer.echo(json.dumps(report))
            return
        typer.echo(f"fitness {report['fitness']:.6f} ({report['combination']} over "
                   f"{len(report['per_task'])} task(s), backend {report['backend']})")  # fmt: skip
        from ..metrics import format_metrics

        typer.echo(f"metrics {format_metrics(report['metrics'])} (last epoch's validation)")
        for t in report["per_task"]:
            typer.echo(f"  {t['name']:32s} {t['eval_type']:8s} {t['fitness']:.6f}  "
                       f"{format_metrics(t['metrics']) or 'failed'}")  # fmt: skip


def evaluate_program(
    program,
    specs: list[dict],
    *,
    seed: int = 0,
    backend: str = "interp",
    combination: str = "mean",
    max_abs_error: float = 100.0,
) -> dict:
    """Fitness of `program` on the tasks of `specs` (the evaluation protocol, no search caches)."""
    from ..evaluate import Evaluator, available_backends
    from ..tasks import build_collection

    if backend == "auto" and "auto" not in available_backends():
        backend = "interp"  # no cost model registered: the interpreter is the reference
    tasks = build_collection(specs)
    if not tasks:
        raise UsageError("no tasks to evaluate on (give at least one task spec)")
    F = tasks[0].features
    memory = program.required_memory(F)
    program.check_fits(memory)
    evaluator = Evaluator(
        tasks, memory, backend=backend, combination=combination, max_abs_error=max_abs_error
    )
    detail = evaluator.evaluate_detailed(program, seed)
    fitness, per_task_fit = detail.fitness, detail.per_task
    from ..evaluate import task_seeds as evaluation_task_seeds
    from ..metrics import combine_metrics, task_metrics

    per_task = []
    for i, (t, f, s) in enumerate(
        zip(tasks, per_task_fit, evaluation_task_seeds(seed, len(tasks)), strict=True)
    ):
        m = task_metrics(program, t, memory.with_features(t.features), int(s),
                         max_abs_error=max_abs_error)  # fmt: skip
        per_task.append({"name": t.name, "index": i, "eval_type": t.eval_type,
                         "fitness": float(f), "metrics": m})  # fmt: skip
    return {
        "fitness": float(fitness),
        "metrics": combine_metrics([t["metrics"] for t in per_task]),
        "per_task": per_task,
        "combination": combination,
        "backend": backend,
        "features": F,
        "memory": {
            "scalars": memory.scalars,
            "vectors": memory.vectors,
            "matrices": memory.matrices,
        },  # fmt: skip
        "seed": seed,
    }
