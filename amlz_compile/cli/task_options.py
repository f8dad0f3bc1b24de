"""The command-line options that describe evaluation tasks, shared by `amlz eval` and
`amlz show --effective` (one declaration each, so both commands read and document them alike)."""

from __future__ import annotations

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
