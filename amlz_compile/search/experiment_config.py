"""The configuration of a whole run: the search config plus the driver's select and final tasks
and stop rules (`ExperimentConfig`), read from a dict, a preset name or a .json/.toml file."""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import ConfigError, SearchConfig
from .presets import get_preset

_TOP_KEYS = (
    "name",
    "description",
    "search",
    "select_tasks",
    "final_tasks",
    "sufficient_fitness",
    "max_experiments",
    "randomize_task_seeds",
    "seed",
)


@dataclass(frozen=True)
class ExperimentConfig:
    """A whole run: the search config plus the driver's select/final tasks and stop rules."""

    search: SearchConfig
    select_tasks: tuple[dict, ...]
    final_tasks: tuple[dict, ...]
    sufficient_fitness: float | None = None
    max_experiments: int = 1
    randomize_task_seeds: bool = False
    name: str | None = None
    description: str = ""
    seed: int | None = None  # the seed the reference script uses, when there is one

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ExperimentConfig:
        """Validate an experiment config dict (see `presets`); ConfigError names what is wrong."""
        from ..tasks.base import TaskError
        from ..tasks.spec import TaskSpec

        if not isinstance(d, Mapping):
            raise ConfigError(f"an experiment config must be a mapping, got {type(d).__name__}")
        unknown = [k for k in d if k not in _TOP_KEYS]
        if unknown:
            raise ConfigError(
                f"unknown experiment key(s) {unknown} (valid keys: {', '.join(_TOP_KEYS)})"
            )
        if "search" not in d:
            raise ConfigError("an experiment config needs 'search' (a search config mapping)")
        search = d["search"]
        if not isinstance(search, SearchConfig | Mapping):
            raise ConfigError(f"'search' must be a mapping, got {type(search).__name__}")
        if not isinstance(search, SearchConfig):
            search = SearchConfig.from_dict(dict(search))
        if not search.search_tasks:
            raise ConfigError("search.search_tasks is empty: give at least one task spec")
        lists = {}
        defaults = {"select_tasks": search.search_tasks}
        if d.get("select_tasks") is not None:
            defaults["final_tasks"] = d["select_tasks"]
        else:
            defaults["final_tasks"] = search.search_tasks
        for key in ("select_tasks", "final_tasks"):
            value = d.get(key)
            if value is None:
                value = defaults[key]
            if isinstance(value, Mapping):
                value = [value]
            if not isinstance(value, list | tuple):
                raise ConfigError(f"{key} must be a list of task specs, got {value!r}")
            try:
                lists[key] = tuple(TaskSpec.from_dict(t).to_dict() for t in value)
            except TaskError as exc:
                raise ConfigError(f"{key}: {exc}") from exc
            if not lists[key]:
                raise ConfigError(f"{key} is empty: give at least one task spec")
        try:
            for t in search.search_tasks:
                TaskSpec.from_dict(t)
        except TaskError as exc:
            raise ConfigError(f"search.search_tasks: {exc}") from exc
        suff = d.get("sufficient_fitness")
        if suff is not None:
            if isinstance(suff, bool) or not isinstance(suff, int | float) or math.isnan(suff):
                raise ConfigError(f"sufficient_fitness must be a number or null, got {suff!r}")
            suff = float(suff)
        max_exp = d.get("max_experiments", 1)
        if isinstance(max_exp, bool) or not isinstance(max_exp, int) or max_exp < 0:
            raise ConfigError(f"max_experiments must be an integer >= 0, got {max_exp!r}")
        rand = d.get("randomize_task_seeds", False)
        if not isinstance(rand, bool):
            raise ConfigError(f"randomize_task_seeds must be true or false, got {rand!r}")
        name = d.get("name")
        if name is not None and not isinstance(name, str):
            raise ConfigError(f"name must be a string or null, got {name!r}")
        seed = d.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ConfigError(f"seed must be an integer or null, got {seed!r}")
        return cls(
            search=search,
            select_tasks=lists["select_tasks"],
            final_tasks=lists["final_tasks"],
            sufficient_fitness=suff,
            max_experiments=max_exp,
            randomize_task_seeds=rand,
            name=name,
            description=str(d.get("description", "")),
            seed=seed,
        )

    def with_absolute_paths(self, base: str | os.PathLike | None = None) -> ExperimentConfig:
        """The same config with every relative data path (a task spec's `path`, or a `dataset`
        given as a file) made absolute against `base` (default: the current directory), so a
        run directory's config.json works from anywhere (`amlz resume` from another place)."""

        def fix(spec: dict) -> dict:
            spec = dict(spec)
            for key in ("path", "dataset"):
                value = spec.get(key)
                if not isinstance(value, str) or not value:
                    continue
                if key == "dataset" and os.path.splitext(value)[1].lower() not in (".npz", ".csv"):
                    continue  # a source name (digits, mnist, ...), not a file
                value = os.path.expanduser(value)
                if not os.path.isabs(value):
                    spec[key] = os.path.abspath(os.path.join(base or os.getcwd(), value))
            return spec

        search = self.search.replace(search_tasks=tuple(fix(t) for t in self.search.search_tasks))
        return dataclasses.replace(
            self,
            search=search,
            select_tasks=tuple(fix(t) for t in self.select_tasks),
            final_tasks=tuple(fix(t) for t in self.final_tasks),
        )

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "search": self.search.to_dict(),
            "select_tasks": [dict(t) for t in self.select_tasks],
            "final_tasks": [dict(t) for t in self.final_tasks],
            "sufficient_fitness": self.sufficient_fitness,
            "max_experiments": self.max_experiments,
            "randomize_task_seeds": self.randomize_task_seeds,
            "seed": self.seed,
        }


def load_config(config: ExperimentConfig | Mapping | str | os.PathLike) -> ExperimentConfig:
    """An ExperimentConfig from itself, a dict, a preset name or a .json/.toml file."""
    if isinstance(config, ExperimentConfig):
        return config
    if isinstance(config, Mapping):
        return ExperimentConfig.from_dict(config)
    if isinstance(config, os.PathLike):
        return load_config_file(config)
    if isinstance(config, str):
        path = Path(config)
        if path.suffix.lower() in (".json", ".toml") or path.exists() or os.sep in config:
            return load_config_file(path)
        return ExperimentConfig.from_dict(get_preset(config))
    raise ConfigError(f"expected a config, a preset name or a path, got {type(config).__name__}")


def load_config_file(path: str | os.PathLike) -> ExperimentConfig:
    """An ExperimentConfig from a .json or .toml file, or from a run directory's config.json;
    relative data paths in it are taken relative to the current directory."""
    path = Path(path)
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ConfigError(f"{path} is a directory, not a config file (.json or .toml)")
        path = path / "config.json"
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() == ".toml":
            import tomllib

            data = tomllib.loads(text)
        else:
            data = json.loads(text)
    except ValueError as exc:  # json, tomllib and UTF-8 decode errors are ValueErrors
        raise ConfigError(f"cannot parse config file {path}: {exc}") from exc
    except RecursionError:
        raise ConfigError(f"cannot parse config file {path}: nested too deeply") from None
    return ExperimentConfig.from_dict(data)
