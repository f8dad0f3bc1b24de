"""The command-line options that describe evaluation tasks, shared by `amlz eval` and
`amlz show --effective`: declared once here and added to each command by `with_task_options`,
which hands them to the command as one `TaskOptions`."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Annotated

import typer

Features = Annotated[int | None, typer.Option(help="Task feature size F.")]
NumTasks = Annotated[int | None, typer.Option(help="Number of tasks.")]
Train = Annotated[int | None, typer.Option(help="Training examples per task.")]
Valid = Annotated[int | None, typer.Option(help="Validation examples per task.")]
Epochs = Annotated[int | None, typer.Option(help="Training epochs.")]
AlgorithmSeed = Annotated[int, typer.Option(help="Seed of the algorithm's random ops.")]
DataSeed = Annotated[
    int | None, typer.Option(help="First data seed of the tasks (default: the reference's).")
]
Dataset = Annotated[
    str | None, typer.Option(help="projected-binary data: digits, cifar10, mnist, npz, csv.")
]
DatasetPath = Annotated[str | None, typer.Option(help="Dataset file or directory.")]
EvalType = Annotated[str | None, typer.Option(help="rms or accuracy.")]
Combination = Annotated[str, typer.Option(help="Task fitness combination: mean or median.")]
MaxAbsError = Annotated[float, typer.Option(help="Early-stop error bound.")]

# The shared options, by parameter name, in the order `--help` lists them.
_OPTION_TYPES = {
    "features": Features,
    "num_tasks": NumTasks,
    "train": Train,
    "valid": Valid,
    "epochs": Epochs,
    "seed": AlgorithmSeed,
    "data_seed": DataSeed,
    "dataset": Dataset,
    "path": DatasetPath,
    "eval_type": EvalType,
    "combination": Combination,
    "max_abs_error": MaxAbsError,
}
# The ones that describe tasks (`tasks.spec_input.task_specs` keywords); the rest say how an
# algorithm runs on them.
_SPEC_OPTIONS = ("features", "num_tasks", "train", "valid", "epochs", "data_seed", "dataset",
                 "path", "eval_type")  # fmt: skip


@dataclass(frozen=True)
class TaskOptions:
    """The shared task options of one command line (defaults: the commands' defaults)."""

    features: int | None = None
    num_tasks: int | None = None
    train: int | None = None
    valid: int | None = None
    epochs: int | None = None
    seed: int = 0
    data_seed: int | None = None
    dataset: str | None = None
    path: str | None = None
    eval_type: str | None = None
    combination: str = "mean"
    max_abs_error: float = 100.0

    def spec_options(self) -> dict:
        """The keywords of `task_specs` these options give."""
        return {name: getattr(self, name) for name in _SPEC_OPTIONS}

    def given(self) -> list[str]:
        """The flags given with a value other than their default (e.g. `--num-tasks`)."""
        default = TaskOptions()
        return [f"--{f.name.replace('_', '-')}" for f in fields(self)
                if getattr(self, f.name) != getattr(default, f.name)]  # fmt: skip


def with_task_options(command: Callable) -> Callable:
    """`command` (which takes `task_options: TaskOptions`) as a Typer command with each shared
    task option as its own command-line option, gathered into one `TaskOptions` when called."""
    signature = inspect.signature(command, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "task_options"]
    defaults = TaskOptions()
    shared = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=kind,
                          default=getattr(defaults, name))
        for name, kind in _OPTION_TYPES.items()
    ]  # fmt: skip

    @functools.wraps(command)
    def run(*args, **kwargs):
        options = TaskOptions(**{name: kwargs.pop(name) for name in _OPTION_TYPES})
        return command(*args, task_options=options, **kwargs)

    run.__signature__ = signature.replace(parameters=own + shared)
    run.__annotations__ = {p.name: p.annotation for p in own + shared}
    del run.__wrapped__  # Typer reads the signature above, not the wrapped function's
    return run
