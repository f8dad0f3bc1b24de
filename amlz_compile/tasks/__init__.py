"""Task generators and datasets (docs/semantics.md#tasks).

`TaskSpec` says what to make; `build_tasks` / `build_collection` make `Task`s (optionally
through the disk cache); `describe_task_kinds` lists the kinds and data sources.
"""

from .base import ACCURACY, RMS_ERROR, Task, TaskError
from .build import build_collection, build_task, build_tasks, generate
from .cache import GENERATOR_VERSION, default_cache_dir
from .datasets import LabelledData, load_labelled
from .kinds import KINDS, SOURCES, describe_task_kinds
from .orders import epoch_orders
from .seeds import (
    DEFAULT_DATA_SEEDS,
    DEFAULT_PARAM_SEEDS,
    assign_seeds,
    hash_combine,
    hash_mix,
    randomize_task_seeds,
    task_seeds,
)
from .spec import TaskSpec

__all__ = [
    "ACCURACY",
    "DEFAULT_DATA_SEEDS",
    "DEFAULT_PARAM_SEEDS",
    "GENERATOR_VERSION",
    "KINDS",
    "RMS_ERROR",
    "SOURCES",
    "LabelledData",
    "Task",
    "TaskError",
    "TaskSpec",
    "assign_seeds",
    "build_collection",
    "build_task",
    "build_tasks",
    "default_cache_dir",
    "describe_task_kinds",
    "epoch_orders",
    "generate",
    "hash_combine",
    "hash_mix",
    "load_labelled",
    "randomize_task_seeds",
    "task_seeds",
]
