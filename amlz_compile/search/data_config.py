"""The experiment config for a search on a user's table (`tasks.tabular.DataTasks`).

Defaults follow the paper's baseline search space (S10: Setup initialises, Predict has matrix,
vector and scalar arithmetic, Learn can build outer-product updates) with memory 5/9/2, and a
warm start from the reference's linear SGD learner, so a small budget starts from a working
learner instead of from empty programs. `ops="linear"` restricts every component to the demo's
six ops (the space in which linear regression is rediscovered); a dict gives each component's
list. The run has no `sufficient_fitness` and no experiment limit: it ends at the caller's
time or individual budget.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..ir.program import Program
from ..ir.serialize import program_to_dict
from ..tasks.tabular import DataTasks
from .config import ConfigError
from .presets import (
    BASELINE_LEARN_OPS,
    BASELINE_MUTATE_SIZES,
    BASELINE_PREDICT_OPS,
    BASELINE_SETUP_OPS,
    DEMO_OPS,
)

OP_SETS: dict[str, dict[str, list[str]]] = {
    "baseline": {
        "setup": BASELINE_SETUP_OPS,
        "predict": BASELINE_PREDICT_OPS,
        "learn": BASELINE_LEARN_OPS,
    },
    "linear": {"setup": DEMO_OPS, "predict": DEMO_OPS, "learn": DEMO_OPS},
}
INITIAL_BUILTINS = ("linear", "neural_net", "random", "no_op")
# Instruction counts a population starts with (padded with no-ops around a built-in).
_INIT_SIZES = {
    "linear": (1, 1, 4),
    "neural_net": (3, 5, 11),
    "random": (2, 3, 6),
    "no_op": (1, 1, 1),
}
_MAX_TRAIN_STEPS = 10**15  # a data search ends at its time or individual budget


def resolve_ops(ops: str | Mapping[str, Sequence[str]]) -> dict[str, list]:
    """Per-component op lists from an op-set name ('baseline', 'linear') or a dict with keys
    setup/predict/learn (op names or numbers)."""
    if isinstance(ops, str):
        if ops not in OP_SETS:
            raise ConfigError(f"unknown op set {ops!r} (choose from {', '.join(OP_SETS)})")
        return {k: list(v) for k, v in OP_SETS[ops].items()}
    if isinstance(ops, Mapping):
        unknown = set(ops) - {"setup", "predict", "learn"}
        if unknown:
            raise ConfigError(f"ops keys are setup, predict, learn; unknown: {sorted(unknown)}")
        return {k: list(ops.get(k, [])) for k in ("setup", "predict", "learn")}
    raise ConfigError(f"ops must be an op-set name or a dict of op lists, got {ops!r}")


def data_experiment_config(
    tasks: DataTasks,
    *,
    population_size: int = 100,
    tournament_size: int = 10,
    mutate_prob: float = 0.9,
    ops: str | Mapping[str, Sequence[str]] = "baseline",
    initial: str | Program = "linear",
    backend: str = "auto",
    name: str = "data",
) -> dict[str, Any]:
    """An experiment config dict (accepted by `run_search`) whose search, select and final
    tasks are those of `tasks`. `initial` is a built-in start (INITIAL_BUILTINS) or a Program
    every individual starts as (a warm start from any algorithm)."""
    start: dict[str, Any] = {"initial_population": initial}
    if isinstance(initial, Program):
        start = {"initial_population": "no_op", "initial_program": program_to_dict(initial)}
        sizes = initial.sizes()
    elif initial not in INITIAL_BUILTINS:
        raise ConfigError(
            f"initial must be a built-in start ({', '.join(INITIAL_BUILTINS)}) or a Program, "
            f"got {initial!r}"
        )
    else:
        sizes = _INIT_SIZES[initial]
    op_lists = resolve_ops(ops)
    # The functional-equivalence cache fingerprints a program on the first examples of every
    # search task: at most 10 of each, and no more than the smallest task has.
    fec_train = min([10] + [len(t["fixed"]["train_labels"]) for t in tasks.search])
    fec_valid = min([10] + [len(t["fixed"]["valid_labels"]) for t in tasks.search])
    setup, predict, learn = (max(k, 1) for k in sizes)
    return {
        "name": name,
        "description": f"{tasks.problem} on user data: {len(tasks.search)} search tasks, "
        f"select and final splits held out",
        "search": {
            "setup_ops": op_lists["setup"],
            "predict_ops": op_lists["predict"],
            "learn_ops": op_lists["learn"],
            "setup_size_init": setup,
            "predict_size_init": predict,
            "learn_size_init": learn,
            **BASELINE_MUTATE_SIZES,
            **start,
            "population_size": population_size,
            "tournament_size": min(tournament_size, population_size),
            "mutate_prob": mutate_prob,
            "allowed_mutation_types": [
                "alter_param",
                "randomize_instruction",
                "insert_instruction",
                "remove_instruction",
            ],
            "max_train_steps": _MAX_TRAIN_STEPS,
            "fec": {"num_train_examples": fec_train, "num_valid_examples": fec_valid},
            "fitness_combination": "mean",
            "memory": {"scalars": 5, "vectors": 9, "matrices": 2},
            "search_tasks": tasks.search,
            "dedup": True,
            "backend": backend,
            "progress_every": 10000,
        },
        "select_tasks": tasks.select,
        "final_tasks": tasks.final,
        "sufficient_fitness": None,
        "max_experiments": 0,
        "randomize_task_seeds": False,
    }


def data_file_config(
    path: str,
    *,
    target: str | int | None = None,
    problem: str | None = None,
    seed: int = 0,
) -> tuple[dict[str, Any], DataTasks]:
    """The experiment config for a .csv/.npz table (`tasks.table_file.load_table`): search,
    select and final tasks all come from the file (split with `seed`); `problem` is
    'regression' or 'classification' (None: inferred from the target column)."""
    from ..tasks.table_file import load_table
    from ..tasks.tabular import PROBLEMS, infer_problem, tasks_from_data

    table = load_table(path, target)
    if problem is None or problem == "auto":
        problem = infer_problem(table.y)
    if problem not in PROBLEMS:
        raise ConfigError(f"task must be one of {', '.join(PROBLEMS)} or auto, got {problem!r}")
    tasks = tasks_from_data(table.x, table.y, problem, seed=seed)
    cfg = data_experiment_config(tasks, name=f"data-{problem}")
    cfg["description"] = (
        f"{problem} on {path} (target {table.target_name!r}, {table.x.shape[0]} rows, "
        f"{table.x.shape[1]} features): {len(tasks.search)} search tasks, select and final "
        "splits held out"
    )
    return cfg, tasks


def _source(spec: Mapping[str, Any]) -> str:
    """Where a task spec's data comes from, for comparing search with select/final."""
    kind = str(spec.get("kind", "?"))
    if kind == "fixed":
        return "embedded data"
    where = [str(spec[k]) for k in ("dataset", "path") if spec.get(k)]
    return kind + (f" ({', '.join(where)})" if where else "")


def mixed_data_note(config: Any) -> str | None:
    """A sentence when the select or final tasks draw on other data than the search tasks
    (e.g. search tasks moved to a CSV with `--set` while select/final stay on digits)."""
    d = config.to_dict() if hasattr(config, "to_dict") else dict(config)
    search = sorted({_source(t) for t in d["search"]["search_tasks"]})
    notes = []
    for key in ("select_tasks", "final_tasks"):
        other = sorted({_source(t) for t in d[key]})
        if other != search:
            notes.append(f"{key.split('_')[0]} tasks use {'; '.join(other)}")
    if not notes:
        return None
    return f"the search tasks use {'; '.join(search)} but the " + " and the ".join(notes)
