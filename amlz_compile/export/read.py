"""Reading an export as data: its literal constants (FORMAT_VERSION, METADATA, ALGORITHM_JSON,
SELF_TESTS) parsed with `ast`, never imported or run, and each self-test case validated so that
the interpreter and the estimators can run it."""

from __future__ import annotations

import ast
import base64
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..backends.numpy_export import FORMAT_VERSION, ExportError
from ..ir.program import Program
from .self_tests import INPUT_FIELDS

# Values one case may hold (arrays and training steps): keeps verify's work bounded.
MAX_CASE_VALUES = 1_000_000


@dataclass(frozen=True)
class ExportedFile:
    """What `read_export` takes from an exported module without running it."""

    path: Path
    format_version: int
    metadata: dict
    program: Program
    cases: list[dict]
    recorded: list[dict]


def _assigned_names(node: ast.stmt) -> list[tuple[str, ast.expr | None]]:
    """(name, value) for each plain name a top-level statement binds (value None unless the
    statement is `NAME = value` or `NAME: T = value`)."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
        if isinstance(target, ast.Name):
            return [(target.id, node.value)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [(node.target.id, node.value)]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [(node.name, None)]
    stores = [n for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]
    return [(n.id, None) for n in stores]


def _constants(tree: ast.Module, path: Path, names: tuple[str, ...]) -> dict[str, ast.expr]:
    """The value node of each of `names` bound once at the top level as `NAME = value`."""
    found: dict[str, ast.expr | None] = {}
    for node in tree.body:
        for name, value in _assigned_names(node):
            if name not in names:
                continue
            if name in found:
                raise ExportError(f"{path}: {name} is assigned more than once")
            found[name] = value
    out = {}
    for name in names:
        if name in found and found[name] is None:
            raise ExportError(f"{path}: {name} is not a plain `{name} = ...` constant")
        if name in found:
            out[name] = found[name]
    return out


def _literal(node: ast.expr, name: str, path: Path) -> Any:
    """`ast.literal_eval` of a constant's value: ExportError when it is not a literal."""
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise ExportError(
            f"{path}: {name} (line {node.lineno}) is not a literal constant; verify reads it as "
            "data and does not run the file"
        ) from None


def _array(case: Mapping, field: str, where: str, dtype: str, ndim: int) -> np.ndarray:
    """A case's embedded array, checked: dtype, rank, size and base64 payload."""
    blob = case[field]
    if not isinstance(blob, dict) or set(blob) != {"dtype", "shape", "b64"}:
        raise ExportError(f"{where}.{field}: expected {{'dtype', 'shape', 'b64'}}")
    shape = blob["shape"]
    ok_shape = isinstance(shape, list) and all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
    )
    if blob["dtype"] != dtype or not ok_shape or len(shape) != ndim:
        raise ExportError(f"{where}.{field}: expected a {ndim}-D array of dtype {dtype}")
    size = math.prod(shape)
    if size > MAX_CASE_VALUES or not isinstance(blob["b64"], str):
        raise ExportError(f"{where}.{field}: too large or malformed")
    try:
        raw = base64.b64decode(blob["b64"], validate=True)
    except ValueError:
        raise ExportError(f"{where}.{field}: invalid base64") from None
    if len(raw) != size * np.dtype(dtype).itemsize:
        raise ExportError(f"{where}.{field}: {len(raw)} bytes do not fit the shape {shape}")
    return np.frombuffer(raw, dtype=dtype).reshape(shape)


def _integer(value: Any, where: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ExportError(f"{where}: expected an integer in [{lo}, {hi}], got {value!r}")
    return value


def _recorded(case: dict, where: str) -> dict:
    """The outputs SELF_TESTS[k] records (what `python module.py` compares with)."""
    if "train_steps" not in case or "trace" not in case or "epoch_loss" not in case:
        raise ExportError(f"{where} lacks its recorded outputs (trace, epoch_loss, train_steps)")
    return {
        "trace": _array(case, "trace", where, "<f8", 1),
        "epoch_loss": _array(case, "epoch_loss", where, "<f8", 1),
        "train_steps": _integer(case["train_steps"], f"{where}.train_steps", 0, MAX_CASE_VALUES),
    }


def _check_case(case: Any, k: int) -> dict:
    """The input fields of SELF_TESTS[k], checked so that the interpreter and the estimators
    can run them (ExportError naming the problem otherwise)."""
    where = f"SELF_TESTS[{k}]"
    if not isinstance(case, dict):
        raise ExportError(f"{where} is not a dict")
    missing = [f for f in INPUT_FIELDS if f not in case]
    if missing:
        raise ExportError(f"{where} lacks {', '.join(missing)}")
    if not isinstance(case["name"], str) or not isinstance(case["is_accuracy"], bool):
        raise ExportError(f"{where}: name must be a string and is_accuracy a bool")
    tx = _array(case, "train_x", where, "<f8", 2)
    ty = _array(case, "train_y", where, "<f8", 1)
    vx = _array(case, "valid_x", where, "<f8", 2)
    vy = _array(case, "valid_y", where, "<f8", 1)
    orders = _array(case, "orders", where, "<i4", 2)
    (N, F), M = tx.shape, vx.shape[0]
    if N < 1 or F < 1 or M < 1 or ty.shape != (N,) or vx.shape[1] != F or vy.shape != (M,):
        raise ExportError(f"{where}: inconsistent shapes of train_x/train_y/valid_x/valid_y")
    if orders.shape[0] < 1 or orders.shape[1] != N or orders.min() < 0 or orders.max() >= N:
        raise ExportError(f"{where}: orders must have shape (epochs, {N}) with indices < {N}")
    if not all(np.all(np.isfinite(a)) for a in (tx, ty, vx, vy)):
        raise ExportError(f"{where}: the examples and labels must be finite")
    if case["is_accuracy"] and set(np.unique(ty)) != {0.0, 1.0}:
        raise ExportError(f"{where}: a classification case needs 0/1 labels of both classes")
    if case["is_accuracy"] and not set(np.unique(vy)) <= {0.0, 1.0}:
        raise ExportError(f"{where}: a classification case needs 0/1 validation labels")
    _integer(case["n_train_steps"], f"{where}.n_train_steps", 0, MAX_CASE_VALUES)
    _integer(case["n_valid"], f"{where}.n_valid", 1, M)
    _integer(case["seed"], f"{where}.seed", 0, 2**64 - 1)
    limit = case["max_abs_error"]
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not limit >= 0:
        raise ExportError(f"{where}.max_abs_error: expected a number >= 0, got {limit!r}")
    return {f: case[f] for f in INPUT_FIELDS}


def read_export(path: str | os.PathLike) -> ExportedFile:
    """Parse an exported module as data (it is never imported or run): the format version,
    METADATA, the algorithm embedded as ALGORITHM_JSON and the self-test inputs, all literal
    constants. ExportError names what is missing, not literal or malformed."""
    from ..ir.serialize import loads_meta

    path = Path(path)
    if not path.is_file():
        raise ExportError(f"no such file: {path}")
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (SyntaxError, ValueError) as exc:
        raise ExportError(f"{path} is not valid Python: {exc}") from None
    except (RecursionError, MemoryError):
        raise ExportError(f"{path} is too deeply nested or too large to parse") from None
    names = ("FORMAT_VERSION", "METADATA", "ALGORITHM_JSON", "SELF_TESTS")
    nodes = _constants(tree, path, names)
    if "FORMAT_VERSION" not in nodes:
        raise ExportError(f"{path} is not an amlz export: it has no FORMAT_VERSION constant")
    version = _literal(nodes["FORMAT_VERSION"], "FORMAT_VERSION", path)
    if isinstance(version, bool) or not isinstance(version, int):
        raise ExportError(f"{path}: FORMAT_VERSION must be an integer, got {version!r}")
    if version < FORMAT_VERSION:
        raise ExportError(
            f"{path} has export format {version}, which does not embed the algorithm as data; "
            f"verify needs format {FORMAT_VERSION}: export the algorithm again with this amlz"
        )
    if version > FORMAT_VERSION:
        raise ExportError(
            f"{path} has export format {version}; this amlz reads format {FORMAT_VERSION}"
        )
    missing = [n for n in names if n not in nodes]
    if missing:
        raise ExportError(f"{path} is not a complete amlz export: no {', '.join(missing)}")
    meta = _literal(nodes["METADATA"], "METADATA", path)
    text = _literal(nodes["ALGORITHM_JSON"], "ALGORITHM_JSON", path)
    tests = _literal(nodes["SELF_TESTS"], "SELF_TESTS", path)
    if not isinstance(meta, dict) or not isinstance(text, str) or not isinstance(tests, list):
        raise ExportError(
            f"{path}: METADATA must be a dict, ALGORITHM_JSON a string, SELF_TESTS a list"
        )
    try:
        program, _ = loads_meta(text)
    except ValueError as exc:
        raise ExportError(f"{path}: ALGORITHM_JSON is not a valid program: {exc}") from None
    cases = [_check_case(case, k) for k, case in enumerate(tests)]
    recorded = [_recorded(case, f"SELF_TESTS[{k}]") for k, case in enumerate(tests)]
    return ExportedFile(path, version, meta, program, cases, recorded)
