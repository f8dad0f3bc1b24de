"""Turn TaskSpecs into Tasks: seeds per task, the kind's generator, epoch orders, the cache."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence

from ..limits import check_allocation
from .base import Task, TaskError
from .cache import cache_file, cache_key, default_cache_dir, load_cached, store
from .datasets import source_fingerprint
from .orders import epoch_orders
from .projected import make_projected
from .seeds import task_seeds
from .spec import TaskSpec
from .synthetic import GENERATORS, TaskData

_ALL_GENERATORS = {**GENERATORS, "projected_binary": make_projected}


def as_spec(spec: TaskSpec | Mapping) -> TaskSpec:
    """A TaskSpec from a spec or its dict form."""
    if isinstance(spec, TaskSpec):
        return spec
    return TaskSpec.from_dict(spec)


def generate(spec: TaskSpec, data_seed: int, param_seed: int) -> TaskData:
    """The arrays of one task of `spec` with the given seeds (no cache, no orders)."""
    return _ALL_GENERATORS[spec.kind](spec, data_seed, param_seed)


def build_task(
    spec: TaskSpec | Mapping,
    data_seed: int,
    param_seed: int,
    *,
    index: int = 0,
    number: int = 0,
    cache: bool = False,
    cache_dir: str | os.PathLike | None = None,
) -> Task:
    """One task of `spec` with explicit seeds; `number` is its position within the spec."""
    spec = as_spec(spec)
    data = orders = None
    path = key = None
    if cache:
        source = (
            source_fingerprint(spec.dataset, spec.path, spec.split)
            if spec.kind == "projected_binary"
            else ""
        )
        key = cache_key(spec, data_seed, param_seed, source)
        path = cache_file(cache_dir if cache_dir is not None else default_cache_dir(), spec, key)
        hit = load_cached(path, key)
        if hit is not None:
            data, orders = hit
    fresh = data is None
    if fresh:
        data = generate(spec, data_seed, param_seed)
        orders = epoch_orders(spec.num_train, spec.epochs, data_seed)
    meta = {"kind": spec.kind, "spec_task": number, **data.meta}
    label = spec.name or spec.kind
    try:
        task = Task(
            name=f"{label}#{number}",
            train_x=data.train_x,
            train_y=data.train_y,
            valid_x=data.valid_x,
            valid_y=data.valid_y,
            orders=orders,
            eval_type=spec.eval_type,
            index=index,
            data_seed=data_seed,
            param_seed=param_seed,
            meta=meta,
        )
    except TaskError:
        if fresh:
            raise
        # A cached file with inconsistent arrays: rebuild it.
        return _rebuild(spec, data_seed, param_seed, index, number, path, key)
    if cache and fresh:
        store(path, key, data, task.orders)
    return task


def _rebuild(spec, data_seed, param_seed, index, number, path, key) -> Task:
    with contextlib.suppress(OSError):
        path.unlink()
    return build_task(
        spec, data_seed, param_seed, index=index, number=number, cache=True, cache_dir=path.parent
    )


def build_tasks(
    spec: TaskSpec | Mapping,
    start_index: int = 0,
    *,
    cache: bool = False,
    cache_dir: str | os.PathLike | None = None,
) -> list[Task]:
    """The `num_tasks` tasks of `spec`, with indices start_index, start_index + 1, ..."""
    spec = as_spec(spec)
    check_allocation(spec.estimated_bytes(), _describe([spec]))
    return [
        build_task(spec, d, p, index=start_index + i, number=i, cache=cache, cache_dir=cache_dir)
        for i, (d, p) in enumerate(task_seeds(spec))
    ]


def build_collection(
    specs: Sequence[TaskSpec | Mapping],
    *,
    cache: bool = False,
    cache_dir: str | os.PathLike | None = None,
) -> list[Task]:
    """The tasks of every spec in order; `index` runs across the whole collection."""
    if isinstance(specs, TaskSpec | Mapping):
        specs = [specs]
    specs = [as_spec(s) for s in specs]
    check_allocation(sum(s.estimated_bytes() for s in specs), _describe(specs))
    tasks: list[Task] = []
    for spec in specs:
        tasks.extend(build_tasks(spec, len(tasks), cache=cache, cache_dir=cache_dir))
    return tasks


def _describe(specs: Sequence[TaskSpec]) -> str:
    """`the task data (10 linear tasks, F=4, 100 train + 100 valid)` for limit messages."""
    parts = [
        f"{s.num_tasks} {s.kind} task(s), F={s.features}, {s.num_train} train + "
        f"{s.num_valid} valid" + (f", {s.epochs} epochs" if s.epochs > 1 else "")
        for s in specs
    ]
    return "the task data (" + "; ".join(parts) + ")"
