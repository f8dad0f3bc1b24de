"""The override language for experiment configs (`amlz evolve --set key=value` and the named
options): dotted keys into an experiment config dict, JSON values; plus the configs `evolve`
starts from (a preset, a config file or a data file) with the overrides applied."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .config import ConfigError, SearchConfig
from .experiment_config import ExperimentConfig


def parse_value(raw: str) -> Any:
    """A --set value: JSON when it parses (numbers, true/false/null, lists, objects), else text."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw
    except RecursionError:
        raise ConfigError(f"--set value nested too deeply: {raw[:40]}...") from None


def apply_setting(config: dict, assignment: str) -> None:
    """Apply `key=value` to an experiment config dict.

    Keys are dotted paths (`search.population_size`, `search.fec.num_train_examples`,
    `search.search_tasks.0.num_train`); a bare search-config field (`population_size`) means
    `search.<field>`. Unknown keys are reported when the config is validated.
    """
    if "=" not in assignment:
        raise ConfigError(f"--set expects key=value, got {assignment!r}")
    key, raw = assignment.split("=", 1)
    key = key.strip()
    if not key:
        raise ConfigError(f"--set expects key=value, got {assignment!r}")
    parts = key.split(".")
    fields = {f for f in SearchConfig.__dataclass_fields__}
    if parts[0] not in config and parts[0] in fields:
        parts = ["search", *parts]
    target: Any = config
    for depth, part in enumerate(parts[:-1]):
        where = ".".join(parts[: depth + 1])
        if isinstance(target, list):
            if not part.isdigit() or int(part) >= len(target):
                raise ConfigError(f"--set {key}: {where} is not an index of a {len(target)}-list")
            target = target[int(part)]
        elif isinstance(target, dict):
            if target.get(part) is None:
                target[part] = {}
            target = target[part]
        else:
            raise ConfigError(f"--set {key}: {where} is not a mapping")
    last = parts[-1]
    value = parse_value(raw)
    if isinstance(target, list):
        if not last.isdigit() or int(last) >= len(target):
            raise ConfigError(f"--set {key}: {last} is not an index of a {len(target)}-list")
        target[int(last)] = value
    elif isinstance(target, dict):
        target[last] = value
    else:
        raise ConfigError(f"--set {key}: cannot set a field of {type(target).__name__}")


def apply_overrides(base: dict, settings: list[str], named: Mapping[str, Any]) -> ExperimentConfig:
    """`base` with the named options (dotted key -> value; None: not given), then the `--set`
    assignments applied in order, validated."""
    for key, value in named.items():
        if value is not None:
            apply_setting(base, f"{key}={json.dumps(value)}")
    for assignment in settings:
        apply_setting(base, assignment)
    return ExperimentConfig.from_dict(base)


def build_config(
    preset: str | None,
    config_file: Path | None,
    settings: list[str],
    named: Mapping[str, Any],
) -> tuple[ExperimentConfig, str]:
    """The validated ExperimentConfig from a preset or file plus overrides, and its label."""
    from .experiment_config import load_config
    from .presets import get_preset

    if preset and config_file:
        raise ConfigError("give either --preset or --config, not both")
    if config_file is not None:
        base = load_config(str(config_file)).to_dict()
        label = base.get("name") or config_file.stem
    else:
        base = get_preset(preset or "demo")
        label = base.get("name") or preset or "demo"
    return apply_overrides(base, settings, named), str(label)


def build_data_config(
    data: str | os.PathLike,
    target: str | None,
    task: str,
    seed: int,
    preset: str | None,
    config_file: Path | None,
    settings: list[str],
    named: Mapping[str, Any],
) -> tuple[ExperimentConfig, str]:
    """The ExperimentConfig for `evolve --data`: search, select and final tasks from the file,
    then the same overrides as `build_config`."""
    from .data_config import data_file_config

    if preset or config_file:
        raise ConfigError("--data makes its own experiment: give it without --preset/--config "
                          "and adjust it with --set")  # fmt: skip
    base, _ = data_file_config(str(data), target=target, problem=task, seed=seed)
    return apply_overrides(base, settings, named), f"{base['name']}-{Path(data).stem}"
