"""Versioned search checkpoints, written atomically so a crash never leaves a broken file.

A checkpoint is one JSON document: a header `{"format": "amlz-checkpoint", "version": 1}`, the
run's config, the experiment-flow state and every island's `get_state()`. Values that JSON cannot
hold exactly (numpy arrays and scalars, tuples, non-string dict keys, Programs, bytes) are tagged
so that `load` gives back equal objects, bit for bit: floats use Python's shortest round-trip
repr, so a resumed search continues exactly where it stopped.
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import json
import math
import os
import pickle
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from ..ir.program import Program

FORMAT = "amlz-checkpoint"
VERSION = 1
CHECKPOINT_NAME = "checkpoint.json"


class CheckpointError(RuntimeError):
    """A checkpoint that is missing, unreadable, corrupt or of an unsupported version."""


# -- exact JSON encoding --------------------------------------------------------------------


def _float(x: float) -> Any:
    if math.isfinite(x):
        return x
    return {"__float__": repr(x)}  # nan, inf, -inf


def encode(obj: Any) -> Any:
    """Turn `obj` into plain JSON values; `decode` inverts it exactly."""
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, int) and not isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, float) and not isinstance(obj, np.floating):
        return _float(float(obj))
    if isinstance(obj, np.generic):
        return {"__npscalar__": obj.dtype.str, "b64": base64.b64encode(obj.tobytes()).decode()}
    if isinstance(obj, np.ndarray):
        arr = np.ascontiguousarray(obj)
        if arr.dtype.hasobject:
            return {"__ndarray_obj__": [encode(x) for x in arr.ravel()], "shape": list(arr.shape)}
        return {
            "__ndarray__": arr.dtype.str,
            "shape": list(arr.shape),
            "b64": base64.b64encode(arr.tobytes()).decode(),
        }
    if isinstance(obj, Program):
        return {"__program__": [encode(obj.code), encode(obj.data), [int(b) for b in obj.bounds]]}
    if isinstance(obj, bytes | bytearray):
        return {"__bytes__": base64.b64encode(bytes(obj)).decode()}
    if isinstance(obj, tuple):
        return {"__tuple__": [encode(x) for x in obj]}
    if isinstance(obj, list):
        return [encode(x) for x in obj]
    if isinstance(obj, dict):
        plain = type(obj) is dict and all(
            isinstance(k, str) and not k.startswith("__") for k in obj
        )
        if plain:
            return {k: encode(v) for k, v in obj.items()}
        tag = "__odict__" if isinstance(obj, OrderedDict) else "__dict__"
        return {tag: [[encode(k), encode(v)] for k, v in obj.items()]}
    if isinstance(obj, set | frozenset):
        items = sorted(obj, key=repr)
        return {"__set__": [encode(x) for x in items], "frozen": isinstance(obj, frozenset)}
    if hasattr(obj, "to_dict") and hasattr(type(obj), "from_dict"):
        cls = type(obj)
        return {"__obj__": f"{cls.__module__}:{cls.__qualname__}", "state": encode(obj.to_dict())}
    # Last resort: anything picklable survives, though not human-readable.
    return {"__pickle__": base64.b64encode(pickle.dumps(obj, protocol=4)).decode()}


def decode(obj: Any) -> Any:
    """Inverse of `encode`."""
    if isinstance(obj, list):
        return [decode(x) for x in obj]
    if not isinstance(obj, dict):
        return obj
    if len(obj) >= 1:
        if "__float__" in obj:
            return float(obj["__float__"])
        if "__npscalar__" in obj:
            return np.frombuffer(base64.b64decode(obj["b64"]), dtype=obj["__npscalar__"])[0]
        if "__ndarray__" in obj:
            raw = base64.b64decode(obj["b64"])
            arr = np.frombuffer(raw, dtype=obj["__ndarray__"]).reshape(obj["shape"])
            return arr.copy()
        if "__ndarray_obj__" in obj:
            items = [decode(x) for x in obj["__ndarray_obj__"]]
            arr = np.empty(len(items), dtype=object)
            arr[:] = items
            return arr.reshape(obj["shape"])
        if "__program__" in obj:
            code, data, bounds = obj["__program__"]
            return Program.from_arrays(decode(code), decode(data), bounds)
        if "__bytes__" in obj:
            return base64.b64decode(obj["__bytes__"])
        if "__tuple__" in obj:
            return tuple(decode(x) for x in obj["__tuple__"])
        if "__dict__" in obj:
            return {decode(k): decode(v) for k, v in obj["__dict__"]}
        if "__odict__" in obj:
            return OrderedDict((decode(k), decode(v)) for k, v in obj["__odict__"])
        if "__set__" in obj:
            items = [decode(x) for x in obj["__set__"]]
            return frozenset(items) if obj.get("frozen") else set(items)
        if "__obj__" in obj:
            module, _, qualname = obj["__obj__"].partition(":")
            target: Any = importlib.import_module(module)
            for part in qualname.split("."):
                target = getattr(target, part)
            return target.from_dict(decode(obj["state"]))
        if "__pickle__" in obj:
            return pickle.loads(base64.b64decode(obj["__pickle__"]))
    return {k: decode(v) for k, v in obj.items()}


# -- files ----------------------------------------------------------------------------------


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write `text` to `path` so readers see the old file or the complete new one, never half.

    The text goes to a temporary file in the same directory, is fsynced, then `os.replace`d over
    the target; the previous file stays intact until the new one is complete.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def save_checkpoint(path: str | os.PathLike, config: dict, flow: dict, islands: list[dict]) -> Path:
    """Write a checkpoint atomically; `path` may be a file or a directory (then checkpoint.json)."""
    path = Path(path)
    if path.is_dir() or path.suffix == "":
        path = path / CHECKPOINT_NAME
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "config": encode(config),
        "flow": encode(flow),
        "islands": [encode(s) for s in islands],
    }
    atomic_write_text(path, json.dumps(doc, separators=(",", ":")))
    return path


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read a checkpoint: a dict with `config`, `flow` and `islands` (decoded).

    Raises CheckpointError for a missing, unreadable, corrupt or wrong-version file.
    """
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    if not path.exists():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"cannot read checkpoint {path}: {exc}") from exc
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"checkpoint {path} is corrupt (not valid JSON: {exc})") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an amlz checkpoint (missing format {FORMAT!r})")
    version = doc.get("version")
    if version != VERSION:
        raise CheckpointError(
            f"checkpoint {path} has version {version!r}; this amlz-compile reads version {VERSION}"
        )
    missing = [k for k in ("config", "flow", "islands") if k not in doc]
    if missing:
        raise CheckpointError(f"checkpoint {path} is corrupt: missing {', '.join(missing)}")
    try:
        return {
            "format": FORMAT,
            "version": VERSION,
            "path": str(path),
            "config": decode(doc["config"]),
            "flow": decode(doc["flow"]),
            "islands": [decode(s) for s in doc["islands"]],
        }
    except Exception as exc:  # a tampered or truncated payload
        raise CheckpointError(f"checkpoint {path} is corrupt: {exc}") from exc
