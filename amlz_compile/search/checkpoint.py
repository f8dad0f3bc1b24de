"""Versioned search checkpoints: data only, written atomically, the previous one kept.

A checkpoint is one JSON document: a header `{"format": "amlz-checkpoint", "version": 2}`, the
run's config, the experiment-flow state and every island's `get_state()`. Values that JSON cannot
hold exactly (numpy arrays and scalars, tuples, non-string dict keys, Programs, bytes) are tagged
so that `load` gives back equal objects, bit for bit: floats use Python's shortest round-trip
repr, so a resumed search continues exactly where it stopped.

Loading never executes code: the tags name data types only (no pickle, no import by name), and
arrays may only hold numbers, booleans or strings. A file with any other tag is refused.
Each save moves the last checkpoint to `checkpoint.prev.json` first, so a damaged last file
falls back to the one before it (with a warning). Version 1 files (the same tags, which could
also name objects to import or pickles; such files are refused) load unchanged.
"""

from __future__ import annotations

import base64
import json
import math
import os
import warnings
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_write_text
from ..errors import AmlzError
from ..ir.program import Program

FORMAT = "amlz-checkpoint"
VERSION = 2
READABLE_VERSIONS = (1, 2)
CHECKPOINT_NAME = "checkpoint.json"
PREVIOUS_NAME = "checkpoint.prev.json"
# dtype kinds an encoded array may have: booleans, integers, floats, complex, bytes, text
_ARRAY_KINDS = frozenset("biufcSU")
_TAGS = frozenset(("__float__", "__npscalar__", "__ndarray__", "__ndarray_obj__", "__program__",
                   "__bytes__", "__tuple__", "__dict__", "__odict__", "__set__"))  # fmt: skip


class CheckpointError(AmlzError, RuntimeError):
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
    raise TypeError(
        f"cannot write a {type(obj).__name__} into a checkpoint: checkpoints hold data only "
        "(numbers, strings, lists, dicts, tuples, sets, numpy arrays, Programs, bytes)"
    )


def _dtype(name: Any) -> np.dtype:
    """The dtype named in a file, if it is one an array of data may have."""
    if not isinstance(name, str):
        raise ValueError(f"array dtype {name!r} is not a dtype string")
    dtype = np.dtype(name)
    if dtype.kind not in _ARRAY_KINDS or dtype.fields is not None:
        raise ValueError(f"array dtype {name!r} is not a plain numeric or text type")
    return dtype


def _native(arr: np.ndarray) -> np.ndarray:
    """`arr` in this machine's byte order (compiled code reads native numbers only); a file
    from a machine of the other byte order keeps its values."""
    if arr.dtype.isnative:
        return arr
    return arr.astype(arr.dtype.newbyteorder("="))


def decode(obj: Any) -> Any:
    """Inverse of `encode`. Tags name data types only; a dict with a key that starts with `__`
    but is not one of our tags is refused (`encode` writes such keys in tagged form, so the
    file was not written by it)."""
    if isinstance(obj, list):
        return [decode(x) for x in obj]
    if not isinstance(obj, dict):
        return obj
    if len(obj) >= 1:
        if "__float__" in obj:
            return float(obj["__float__"])
        if "__npscalar__" in obj:
            dtype = _dtype(obj["__npscalar__"])
            return _native(np.frombuffer(base64.b64decode(obj["b64"]), dtype=dtype))[0]
        if "__ndarray__" in obj:
            raw = base64.b64decode(obj["b64"])
            arr = np.frombuffer(raw, dtype=_dtype(obj["__ndarray__"])).reshape(obj["shape"])
            return _native(arr).copy()
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
        foreign = [k for k in obj if isinstance(k, str) and k.startswith("__") and k not in _TAGS]
        if foreign:
            raise ValueError(
                f"unknown tag {foreign[0]!r}: checkpoints hold data only (objects to import "
                "or pickles are refused, never run)"
            )
    return {k: decode(v) for k, v in obj.items()}


# -- files ----------------------------------------------------------------------------------


def _previous(path: Path) -> Path:
    return path.with_name(
        PREVIOUS_NAME if path.name == CHECKPOINT_NAME else f"{path.stem}.prev.json"
    )


def save_checkpoint(path: str | os.PathLike, config: dict, flow: dict, islands: list[dict]) -> Path:
    """Write a checkpoint atomically; `path` may be a file or a directory (then checkpoint.json).
    The checkpoint it replaces becomes the previous one (`checkpoint.prev.json`)."""
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
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(doc, separators=(",", ":")), keep_previous=_previous(path))
    return path


class _Damaged(CheckpointError):
    """A checkpoint file that exists but cannot be read back (the previous one may serve)."""


def _read(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _Damaged(f"cannot read checkpoint {path}: {exc}") from exc
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise _Damaged(f"checkpoint {path} is corrupt (not valid JSON: {exc})") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an amlz checkpoint (missing format {FORMAT!r})")
    version = doc.get("version")
    if version not in READABLE_VERSIONS:
        raise CheckpointError(
            f"checkpoint {path} has version {version!r}; this amlz-compile reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))} (a newer amlz-compile wrote it?)"
        )
    missing = [k for k in ("config", "flow", "islands") if k not in doc]
    if missing:
        raise _Damaged(f"checkpoint {path} is corrupt: missing {', '.join(missing)}")
    try:
        if not isinstance(doc["islands"], list):
            raise ValueError("islands is not a list")
        return {
            "format": FORMAT,
            "version": VERSION,  # version 1 reads unchanged: the same tags and layout
            "path": str(path),
            "config": decode(doc["config"]),
            "flow": decode(doc["flow"]),
            "islands": [decode(s) for s in doc["islands"]],
        }
    except Exception as exc:  # a tampered or truncated payload
        raise _Damaged(f"checkpoint {path} is corrupt: {exc}") from exc


def _read_checked(path: Path, check: Callable[[dict], Any] | None) -> dict:
    """`_read`, then `check` on the result: a file that reads but fails it is damaged too."""
    ckpt = _read(path)
    if check is not None:
        try:
            check(ckpt)
        except CheckpointError as exc:
            raise _Damaged(f"checkpoint {path} is invalid: {exc}") from exc
    return ckpt


def load_checkpoint(path: str | os.PathLike, check: Callable[[dict], Any] | None = None) -> dict:
    """Read a checkpoint: a dict with `config`, `flow` and `islands` (decoded).

    `check` (raising CheckpointError) validates what was read. A last checkpoint that is
    missing, damaged or fails `check` while the previous one (`checkpoint.prev.json`) reads and
    passes falls back to that one with a warning. Raises CheckpointError for a missing,
    unreadable, corrupt, foreign, wrong-version or invalid file.
    """
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    previous = _previous(path)
    if not path.exists():
        if not previous.exists():
            raise CheckpointError(f"no checkpoint at {path}")
        warnings.warn(f"no checkpoint at {path}; using the previous one, {previous}", stacklevel=2)
        return _read_checked(previous, check)
    try:
        return _read_checked(path, check)
    except _Damaged as exc:
        if not previous.exists():
            raise
        try:
            ckpt = _read_checked(previous, check)
        except CheckpointError:
            raise exc from None
        warnings.warn(f"{exc}; resuming from the previous checkpoint, {previous}", stacklevel=2)
        return ckpt
