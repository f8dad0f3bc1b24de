"""Disk cache of generated tasks: one `.npz` per task, keyed by spec, seeds and generator version.

Default directory `~/.cache/amlz_compile/tasks`; `$AMLZ_CACHE_DIR/tasks` when AMLZ_CACHE_DIR is
set. Writes are atomic (`atomic`: a temporary file in the same directory, renamed into place), so
concurrent builders never see half a file. A file that cannot be read or does
not match its key is rebuilt; a directory that cannot be written only disables caching (warning).
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np

from ..atomic import atomic_file
from .spec import TaskSpec
from .synthetic import TaskData

# Bump whenever a generator's output for the same spec and seeds changes.
GENERATOR_VERSION = 1
CACHE_ENV = "AMLZ_CACHE_DIR"
_ARRAYS = ("train_x", "train_y", "valid_x", "valid_y", "orders")
_META_ARRAY = "meta__"


def default_cache_dir() -> Path:
    """`$AMLZ_CACHE_DIR/tasks` if set, else `~/.cache/amlz_compile/tasks`."""
    root = os.environ.get(CACHE_ENV)
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "amlz_compile"
    return base / "tasks"


def cache_key(spec: TaskSpec, data_seed: int, param_seed: int, source_id: str = "") -> str:
    """sha256 of the spec (without count and seed lists), this task's seeds, the data source
    identity and the generator version."""
    d = spec.to_dict()
    for k in ("num_tasks", "data_seeds", "param_seeds", "name"):
        d.pop(k, None)
    payload = json.dumps(
        {
            "spec": d,
            "data_seed": int(data_seed),
            "param_seed": int(param_seed),
            "source": source_id,
            "version": GENERATOR_VERSION,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def cache_file(cache_dir: str | os.PathLike, spec: TaskSpec, key: str) -> Path:
    return Path(cache_dir) / f"{spec.kind}-{key[:40]}.npz"


def load_cached(path: Path, key: str) -> tuple[TaskData, np.ndarray] | None:
    """(data, orders) from `path`, or None when absent, unreadable or for another key."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["key"]) != key:
                return None
            arrays = {name: np.array(z[name]) for name in _ARRAYS}
            meta = json.loads(str(z["meta_json"]))
            for name in z.files:
                if name.startswith(_META_ARRAY):
                    meta[name[len(_META_ARRAY) :]] = np.array(z[name])
    except Exception:  # noqa: BLE001 - any corrupt file is simply rebuilt
        return None
    data = TaskData(
        arrays["train_x"], arrays["train_y"], arrays["valid_x"], arrays["valid_y"], meta
    )
    return data, arrays["orders"]


def store(path: Path, key: str, data: TaskData, orders: np.ndarray) -> None:
    """Write atomically; problems writing only warn (the task is still usable)."""
    meta_json = {k: v for k, v in data.meta.items() if not isinstance(v, np.ndarray)}
    meta_arrays = {_META_ARRAY + k: v for k, v in data.meta.items() if isinstance(v, np.ndarray)}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_file(path, "wb") as fh:
            np.savez(
                fh,
                key=np.array(key),
                meta_json=np.array(json.dumps(meta_json)),
                train_x=data.train_x,
                train_y=data.train_y,
                valid_x=data.valid_x,
                valid_y=data.valid_y,
                orders=orders,
                **meta_arrays,
            )
    except (OSError, TypeError, ValueError) as exc:
        warnings.warn(f"task cache: cannot write {path}: {exc}", RuntimeWarning, stacklevel=3)
