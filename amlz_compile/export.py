"""Export an algorithm as a standalone NumPy module, and verify exported modules.

`backends/numpy_export.py` renders the source; this module adds what needs the rest of the
package: simplification, self-test vectors computed by the reference interpreter on small
synthetic tasks, writing the file, and `verify_file`.

`verify_file` does not trust the file it checks. It parses it with `ast` (it never imports it)
and reads the embedded algorithm (`ALGORITHM_JSON`), `METADATA` and the self-test inputs as
literal data; it recomputes the expected outputs with the interpreter, adds inputs of its own
drawn at verify time, and runs the module's code (`run_protocol` and the estimators) on all of
them in a separate Python process (`export_runner.py`). The file passes only when that process
exits normally with outputs that match the recomputation. The outputs recorded in SELF_TESTS
are not used: they are what `python module.py` checks on machines without amlz.
"""

from __future__ import annotations

import ast
import base64
import importlib.util
import json
import math
import os
import secrets
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .atomic import atomic_write_text
from .backends.numpy_export import (
    DIVERGENCE_FACTOR,
    FORMAT_VERSION,
    ExportError,
    decode_array,
    encode_array,
    render_module,
)
from .ir.program import MemorySpec, Program
from .limits import check_allocation

__all__ = [
    "ExportError",
    "ExportedFile",
    "VerifyResult",
    "export_algorithm",
    "export_source",
    "load_module",
    "make_self_tests",
    "read_export",
    "verify_file",
]

# The input fields of a self-test case (SELF_TESTS entries also hold the recorded outputs).
INPUT_FIELDS = ("name", "train_x", "train_y", "orders", "n_train_steps", "valid_x", "valid_y",
                "n_valid", "is_accuracy", "max_abs_error", "seed")  # fmt: skip

# Values one case may hold (arrays and training steps): keeps verify's work bounded.
MAX_CASE_VALUES = 1_000_000

# Relative and absolute tolerance of verify's comparisons: the interpreter and the module agree
# bit for bit on one machine, but scalar sin/exp/log/... come from the platform's libm, which can
# differ in the last place between machines.
RTOL, ATOL = 1e-9, 1e-12

VERIFY_TIMEOUT = 120.0
RUNNER = Path(__file__).with_name("export_runner.py")


def simplify_program(program: Program) -> Program:
    """The simplified program (the project's pass pipeline), or `program` if none is present."""
    from .passes import simplify_program as _simplify

    return _simplify(program)


def canonical_key_of(program: Program) -> str:
    """The canonical key of the program (hex digest of its simplified canonical form)."""
    from .passes import canonical_key

    return str(canonical_key(program))


# -- self-test cases --------------------------------------------------------------------------

MAX_SELF_TEST_FEATURES = 1024  # the vectors are embedded in the file; any F works at fit
SELF_TEST_MEMORIES = 4  # program memories alive at once while the self-tests are computed


def _task(name, F, n_train, n_valid, epochs, accuracy, seed):
    from .tasks.base import ACCURACY, RMS_ERROR, Task

    gen = np.random.default_rng(seed)
    x = gen.normal(size=(n_train + n_valid, F))
    w = gen.normal(size=F)
    y = x @ w
    if accuracy:  # split at the training median: both classes are present whenever n_train > 1
        y = (y > np.median(y[:n_train])).astype(np.float64)
    orders = [np.arange(n_train)]
    for _ in range(1, epochs):
        orders.append(gen.permutation(orders[-1]))
    return Task(
        name,
        x[:n_train],
        y[:n_train],
        x[n_train:],
        y[n_train:],
        np.array(orders, dtype=np.int32),
        ACCURACY if accuracy else RMS_ERROR,
    )


def self_test_inputs(features: int = 4, *, seed: int = 0, prefix: str = "") -> list[dict]:
    """Inputs of the self-test cases: small regression and classification tasks at F and a
    regression task at F+1, in SELF_TESTS's encoding."""
    specs = [
        ("regression", features, False),
        ("classification", features, True),
        (f"regression-F{features + 1}", features + 1, False),
    ]
    cases = []
    for k, (name, F, accuracy) in enumerate(specs):
        task = _task(name, F, 12, 6, 2, accuracy, seed * 1000 + k)
        cases.append(
            {
                "name": prefix + name,
                "train_x": encode_array(task.train_x),
                "train_y": encode_array(task.train_y),
                "orders": encode_array(task.orders),
                "n_train_steps": int(task.max_train_examples),
                "valid_x": encode_array(task.valid_x),
                "valid_y": encode_array(task.valid_y),
                "n_valid": int(task.num_valid),
                "is_accuracy": bool(accuracy),
                "max_abs_error": 100.0,
                "seed": 1000 + 17 * k + seed,
            }
        )
    return cases


def _case_task(case: Mapping, *, one_epoch: bool = False):
    """The interpreter's Task for a case (`one_epoch`: a single epoch in natural order)."""
    from .tasks.base import ACCURACY, RMS_ERROR, Task

    train_x = decode_array(case["train_x"])
    orders = decode_array(case["orders"])
    if one_epoch:
        orders = np.arange(train_x.shape[0], dtype=np.int32)[None, :]
    return Task(
        str(case["name"]),
        train_x,
        decode_array(case["train_y"]),
        decode_array(case["valid_x"]),
        decode_array(case["valid_y"]),
        orders,
        ACCURACY if case["is_accuracy"] else RMS_ERROR,
    )


def _run(program: Program, task, *, n_train: int, n_valid: int, seed: int, max_abs_error: float):
    """One interpreter run of `program` on `task` recording every prediction."""
    from .backends.interp import InterpBackend

    steps = min(max(n_train, 0), task.max_train_examples)
    epochs = -(-steps // task.num_train)
    trace_len = steps + epochs * min(max(n_valid, 0), task.num_valid)
    memory = program.required_memory(task.features)
    return InterpBackend().run_task(
        program, task, memory, n_train=n_train, n_valid=n_valid, rng_seed=seed,
        max_abs_error=max_abs_error, trace_len=trace_len,
    )  # fmt: skip


def protocol_outputs(program: Program, case: Mapping) -> dict:
    """What the module's `run_protocol` must return on a case's inputs, by the interpreter:
    every prediction (`trace`), the validated epochs' losses and the training-step count."""
    run = _run(
        program,
        _case_task(case),
        n_train=int(case["n_train_steps"]),
        n_valid=int(case["n_valid"]),
        seed=int(case["seed"]),
        max_abs_error=float(case["max_abs_error"]),
    )
    loss = run.epoch_loss[: run.epochs_validated]
    return {"trace": run.trace, "epoch_loss": loss, "train_steps": int(run.train_steps)}


def estimator_outputs(program: Program, case: Mapping) -> dict:
    """What the module's estimator must give after fit(train) with epochs=1,
    random_state=seed, max_abs_error=inf: the interpreter's run of one natural-order epoch.

    `raw` holds the validation predictions (shorter than n_valid when a NaN ended the
    regression validation; None when training stopped on a NaN); `train_trace` the training
    predictions.
    """
    task = _case_task(case, one_epoch=True)
    n_valid = int(case["n_valid"])
    run = _run(program, task, n_train=task.num_train, n_valid=n_valid, seed=int(case["seed"]),
               max_abs_error=math.inf)  # fmt: skip
    stopped = run.epochs_validated == 0
    return {
        "train_steps": int(run.train_steps),
        "stopped_early": stopped,
        "train_trace": run.trace[: run.train_steps],
        "raw": None if stopped else run.trace[run.train_steps :],
    }


def make_self_tests(program: Program, features: int = 4, *, seed: int = 0) -> list[dict]:
    """Self-test cases: `self_test_inputs` with the interpreter's outputs recorded (every
    prediction, epoch loss and the training-step count)."""
    cases = []
    for case in self_test_inputs(features, seed=seed):
        out = protocol_outputs(program, case)
        cases.append(
            {
                **case,
                "trace": encode_array(out["trace"]),
                "epoch_loss": encode_array(out["epoch_loss"]),
                "train_steps": out["train_steps"],
            }
        )
    return cases


# -- export -----------------------------------------------------------------------------------


def export_source(
    program: Program,
    *,
    metadata: Mapping | None = None,
    simplify: bool = True,
    features: int = 4,
    seed: int = 0,
) -> str:
    """The module source for `program` (simplified first unless `simplify=False`), with
    self-test vectors at `features` (1..MAX_SELF_TEST_FEATURES) and features + 1."""
    check_self_test_features(features)
    prog = simplify_program(program) if simplify else program
    check_allocation(
        SELF_TEST_MEMORIES * prog.required_memory(features + 1).nbytes,
        f"the self-test at F={features + 1}",
    )
    meta = {
        "format_version": FORMAT_VERSION,
        "exported_by": f"amlz-compile {__version__}",
        "canonical_key": canonical_key_of(prog),
        "simplified": bool(simplify),
        "sizes": list(prog.sizes()),
    }
    meta.update({k: v for k, v in (metadata or {}).items() if v is not None})
    cases = make_self_tests(prog, features, seed=seed)
    memory = prog.required_memory(features)
    return render_module(
        prog,
        metadata=meta,
        self_tests=cases,
        memory=MemorySpec(memory.scalars, memory.vectors, memory.matrices, features),
    )


def check_self_test_features(features: Any) -> int:
    """`features` if it is a feature size the self-test vectors can have, else ExportError (the
    vectors are embedded in the file, and any F works at fit, so a small F says as much)."""
    if isinstance(features, bool) or not isinstance(features, int | np.integer):
        raise ExportError(f"the self-test feature size must be an integer, got {features!r}")
    if not 1 <= features <= MAX_SELF_TEST_FEATURES:
        raise ExportError(
            f"the self-test feature size must be in 1..{MAX_SELF_TEST_FEATURES}, got {features}"
        )
    return int(features)


def check_output_directory(path: str | os.PathLike, *, parents: bool = False) -> Path:
    """The directory `path` goes into: ExportError when it is missing (unless `parents`, which
    creates it, like `mkdir -p`) or is not a directory."""
    parent = Path(path).parent
    if parent.is_dir():
        return parent
    if parent.exists():
        raise ExportError(f"{parent} is not a directory")
    if not parents:
        raise ExportError(f"the directory {parent} does not exist")
    parent.mkdir(parents=True, exist_ok=True)
    return parent


def export_algorithm(
    program: Program,
    path: str | os.PathLike,
    *,
    metadata: Mapping | None = None,
    simplify: bool = True,
    features: int = 4,
    seed: int = 0,
    parents: bool = False,
) -> Path:
    """Write the exported module to `path` atomically. Its directory must exist unless
    `parents` (then it is created)."""
    path = Path(path)
    check_output_directory(path, parents=parents)
    source = export_source(
        program, metadata=metadata, simplify=simplify, features=features, seed=seed
    )
    atomic_write_text(path, source)
    return path


def load_module(path: str | os.PathLike):
    """Import an exported module from its file path (a fresh module object each call, kept in
    sys.modules under a unique name so its estimators pickle). This RUNS the file's code:
    `verify_file` does not use it."""
    path = Path(path)
    if not path.is_file():
        raise ExportError(f"no such file: {path}")
    name = f"amlz_exported_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ExportError(f"{path} is not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # a user file: report, never a traceback
        sys.modules.pop(name, None)
        raise ExportError(f"{path} cannot be imported: {type(exc).__name__}: {exc}") from exc
    return module


# -- reading an export as data ----------------------------------------------------------------


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
    from .ir.serialize import loads_meta

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


# -- running the module in a subprocess -------------------------------------------------------


class _Failed(Exception):
    """The module's code did not produce outputs that can be compared."""


def _floats(value: Any, where: str) -> np.ndarray:
    """A list of float.hex strings as an array (_Failed when it is anything else)."""
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise _Failed(f"the module's outputs are malformed: {where} is not a list of floats")
    try:
        return np.array([float.fromhex(x) for x in value], dtype=np.float64)
    except (ValueError, OverflowError):
        raise _Failed(f"the module's outputs are malformed: {where}") from None


SELF_TEST_CHECKS = {
    "accepts_own": "self_test() rejects the module's own SELF_TESTS",
    "rejects_wrong_prediction": "self_test() accepts a recorded prediction that is wrong",
    "rejects_wrong_steps": "self_test() accepts a wrong recorded training-step count",
    "rejects_empty": "self_test() passes with no self-test case",
}


def _parse_outputs(text: str, inputs: list[dict]) -> tuple[list[dict], dict]:
    """The runner's JSON (per-case outputs, self_test checks), decoded and checked against the
    cases it ran (`inputs`)."""
    try:
        doc = json.loads(text)
        cases, checks = doc["cases"], doc["self_test"]
        assert isinstance(cases, list) and len(cases) == len(inputs)
        assert all(isinstance(checks[name], bool) for name in SELF_TEST_CHECKS)
        out = []
        for k, case in enumerate(cases):
            proto, est = dict(case["protocol"]), dict(case["estimator"])
            for part in (proto["train_steps"], est["train_steps"], est["stopped_early"]):
                assert isinstance(part, int)
            proto.update({f: _floats(proto[f], f"case {k} {f}") for f in ("trace", "epoch_loss")})
            fields = ["raw", "predict"]
            fields += ["decision_function", "proba"] if inputs[k]["is_accuracy"] else []
            for f in fields:
                est[f] = _floats(est[f], f"case {k} {f}")
            out.append({"protocol": proto, "estimator": est})
        return out, checks
    except (ValueError, KeyError, TypeError, AssertionError):
        raise _Failed("the module's outputs are malformed") from None


def _run_module(path: Path, cases: list[dict], timeout: float) -> tuple[list[dict], dict]:
    """Run the module's code on the cases' inputs in a separate Python (`export_runner.py`) and
    return its outputs and self_test checks; _Failed when it fails, exits early, times out or
    writes garbage."""
    with tempfile.TemporaryDirectory(prefix="amlz-verify-") as tmp:
        out = Path(tmp) / "outputs.json"
        cmd = [sys.executable, "-P", str(RUNNER), str(path.resolve()), str(out)]
        try:
            proc = subprocess.run(cmd, input=json.dumps({"cases": cases}), capture_output=True,
                                  text=True, timeout=timeout, cwd=tmp)  # fmt: skip
        except subprocess.TimeoutExpired:
            raise _Failed(f"the module's code did not finish within {timeout:g} s") from None
        if proc.returncode != 0:
            lines = proc.stderr.strip().splitlines() or ["(no message)"]
            raise _Failed(f"the module's code failed (exit {proc.returncode}): {lines[-1]}")
        if not out.is_file():
            raise _Failed("the module's code exited before producing its outputs")
        return _parse_outputs(out.read_text(encoding="utf-8", errors="replace"), cases)


# -- comparing --------------------------------------------------------------------------------


def _difference(
    got: np.ndarray, want: np.ndarray, what: str, where: str = "the module"
) -> str | None:
    """None when `got` (from `where`) matches `want` within RTOL/ATOL (NaN matches NaN), else
    a description."""
    if got.shape != want.shape:
        return f"{what} has {got.size} values, the interpreter gives {want.size}"
    with np.errstate(all="ignore"):
        close = (got == want) | (np.abs(got - want) <= ATOL + RTOL * np.abs(want))
    bad = np.flatnonzero(~(close | (np.isnan(got) & np.isnan(want))))
    if bad.size == 0:
        return None
    i = int(bad[0])
    return f"{what}[{i}] is {float(got[i])!r} in {where}, {float(want[i])!r} by the interpreter"


def _protocol_difference(got: dict, want: dict, where: str = "the module") -> str | None:
    """Compare run_protocol outputs (from `where`) with the interpreter's."""
    if got["train_steps"] != want["train_steps"]:
        steps = f"{got['train_steps']} training steps in {where}"
        return f"{steps}, {want['train_steps']} by the interpreter"
    return _difference(got["trace"], want["trace"], "run_protocol's predictions", where) or (
        _difference(got["epoch_loss"], want["epoch_loss"], "run_protocol's epoch losses", where)
    )


def _tame(want: dict, case: Mapping) -> bool:
    """True when no prediction of the estimator run is non-finite or beyond the regressor's
    divergence bound, so that the guarded outputs must equal the raw ones."""
    values = np.concatenate([want["train_trace"], want["raw"]])
    if len(want["raw"]) != case["n_valid"] or not np.all(np.isfinite(values)):
        return False
    if case["is_accuracy"]:
        return True
    scale = max(1.0, float(np.max(np.abs(decode_array(case["train_y"])))))
    return bool(np.all(np.abs(values) <= DIVERGENCE_FACTOR * scale))


def _estimator_difference(got: dict, want: dict, case: Mapping) -> str | None:
    """Compare the estimator's fit/predict outputs with the interpreter's one-epoch run."""
    for field in ("train_steps", "stopped_early"):
        if got[field] != want[field]:
            return f"the estimator's {field} is {got[field]}, the interpreter gives {want[field]}"
    if want["stopped_early"]:
        return None
    raw = got["raw"]
    if raw.size != case["n_valid"]:
        return f"predict_raw gave {raw.size} values for {case['n_valid']} rows"
    diff = _difference(raw[: len(want["raw"])], want["raw"], "predict_raw")
    if diff or not _tame(want, case):
        finite = np.all(np.isfinite(got["predict"]))
        return diff or (None if finite else "predict returned non-finite values")
    if not case["is_accuracy"]:
        return _difference(got["predict"], want["raw"], "the regressor's predict")
    with np.errstate(over="ignore"):
        proba = 1.0 / (1.0 + np.exp(-want["raw"]))
    labels = (proba > 0.5).astype(np.float64)
    return (
        _difference(got["decision_function"], want["raw"], "decision_function")
        or _difference(got["proba"], proba, "predict_proba")
        or _difference(got["predict"], labels, "the classifier's predict")
    )


# -- verify -----------------------------------------------------------------------------------


@dataclass
class VerifyResult:
    """What `verify_file` found (`cases`: the embedded self-test cases)."""

    ok: bool
    format_version: int | None
    cases: int
    message: str
    metadata: dict
    fresh_seed: int | None = None


def verify_file(
    path: str | os.PathLike, *, fresh_seed: int | None = None, timeout: float = VERIFY_TIMEOUT
) -> VerifyResult:
    """Check that an exported module's code computes the algorithm it embeds as data.

    The file is parsed, never imported here (`read_export`). Its self-test inputs, plus three
    fresh cases drawn from `fresh_seed` (random when None, reported in the result), are run
    through the module's `run_protocol` and estimators in a subprocess, which executes the
    module's code as running any .py file does; the outputs must match the interpreter's
    recomputation from ALGORITHM_JSON within RTOL/ATOL. ExportError for a file that cannot be
    read as an export; `ok=False` for one that does not pass.
    """
    export = read_export(path)
    meta, version, n = export.metadata, export.format_version, len(export.cases)

    def result(ok: bool, message: str, seed: int | None = None) -> VerifyResult:
        return VerifyResult(ok, version, n, message, meta, seed)

    if not export.cases:
        return result(False, f"{export.path} embeds no self-test inputs")
    key = meta.get("canonical_key")
    if key is not None and key != canonical_key_of(export.program):
        return result(False, "METADATA's canonical_key does not match ALGORITHM_JSON")
    sizes, actual = meta.get("sizes"), list(export.program.sizes())
    if sizes is not None and (not isinstance(sizes, list | tuple) or list(sizes) != actual):
        return result(
            False, f"METADATA's sizes {sizes!r:.40} do not match ALGORITHM_JSON's {actual}"
        )
    for k, (case, recorded) in enumerate(zip(export.cases, export.recorded, strict=True)):
        diff = _protocol_difference(recorded, protocol_outputs(export.program, case), "SELF_TESTS")
        if diff:
            return result(False, f"SELF_TESTS[{k}] records wrong outputs: {diff}")
    seed = secrets.randbelow(2**31) if fresh_seed is None else int(fresh_seed)
    fresh = self_test_inputs(1 + seed % 6, seed=seed, prefix="fresh ")
    cases = export.cases + fresh
    try:
        got, checks = _run_module(export.path, cases, timeout)
    except _Failed as exc:
        return result(False, str(exc), seed)
    for case, out in zip(cases, got, strict=True):
        diff = _protocol_difference(
            out["protocol"], protocol_outputs(export.program, case)
        ) or _estimator_difference(out["estimator"], estimator_outputs(export.program, case), case)
        if diff:
            return result(False, f"case {case['name']!r}: {diff} (fresh seed {seed})", seed)
    failed = [why for name, why in SELF_TEST_CHECKS.items() if not checks[name]]
    if failed:
        return result(False, "; ".join(failed), seed)
    msg = (
        f"{len(cases)} self-test case(s) passed ({n} embedded, {len(fresh)} fresh from seed "
        f"{seed}): the module's code, run in a subprocess, matches the interpreter"
    )
    return result(True, msg, seed)
