"""Task specs as a user gives them on the command line: a task kind with options (features,
sizes, dataset, ...) or a JSON/TOML file holding a spec, a list of them or `{"tasks": [...]}`,
the options then overriding every spec's fields."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .base import TaskError


def task_specs(
    tasks: str,
    *,
    features: int | None,
    num_tasks: int | None,
    train: int | None,
    valid: int | None,
    epochs: int | None,
    dataset: str | None,
    path: str | None,
    eval_type: str | None,
    data_seed: int | None,
) -> list[dict]:
    """Task spec dicts from a kind name (with options) or a JSON/TOML file of specs."""
    overrides = {
        "features": features,
        "num_tasks": num_tasks,
        "num_train": train,
        "num_valid": valid,
        "epochs": epochs,
        "dataset": dataset,
        "path": path,
        "eval_type": eval_type,
        "data_seeds": [data_seed] if data_seed is not None else None,
    }
    file = Path(tasks)
    if file.is_file() or file.suffix.lower() in (".json", ".toml"):
        if not file.is_file():
            raise TaskError(f"task file {file} does not exist")
        text = file.read_text(encoding="utf-8")
        try:
            if file.suffix.lower() == ".toml":
                import tomllib

                doc: Any = tomllib.loads(text)
            else:
                doc = json.loads(text)
        except ValueError as exc:
            raise TaskError(f"cannot parse task file {file}: {exc}") from exc
        except RecursionError:
            raise TaskError(f"cannot parse task file {file}: nested too deeply") from None
        if isinstance(doc, dict) and "tasks" in doc:
            doc = doc["tasks"]
        specs = [doc] if isinstance(doc, dict) else doc
        if not isinstance(specs, list) or not all(isinstance(s, dict) for s in specs):
            raise TaskError(f"{file} must hold a task spec, a list of them or {{'tasks': [...]}}")
        if not specs:
            raise TaskError(f"{file} holds no task specs (give at least one)")
        return [{**s, **{k: v for k, v in overrides.items() if v is not None}} for s in specs]
    kind = tasks.strip().lower().replace("-", "_")
    spec: dict[str, Any] = {"kind": kind, "features": 4, "num_train": 1000, "num_valid": 100,
                            "num_tasks": 10}  # fmt: skip
    if kind in ("projected_binary", "projected"):
        spec.update({"kind": "projected_binary", "features": 16, "num_train": 200,
                     "num_valid": 100, "num_tasks": 1, "dataset": "digits"})  # fmt: skip
    spec.update({k: v for k, v in overrides.items() if v is not None})
    return [spec]
