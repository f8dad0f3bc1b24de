"""Export an algorithm as a standalone NumPy module, and verify exported modules.

`backends/numpy_export.py` renders the source; this module adds what needs the rest of the
package: simplification, self-test vectors computed by the reference interpreter on small
synthetic tasks, and `verify_file`, which loads an exported module and re-runs its vectors.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import __version__
from .backends.numpy_export import FORMAT_VERSION, ExportError, encode_array, render_module
from .ir.program import MemorySpec, Program

__all__ = [
    "ExportError",
    "VerifyResult",
    "export_algorithm",
    "export_source",
    "load_module",
    "make_self_tests",
    "verify_file",
]


def simplify_program(program: Program) -> Program:
    """The simplified program (the project's pass pipeline), or `program` if none is present."""
    from .passes import simplify_program as _simplify

    return _simplify(program)


def canonical_key_of(program: Program) -> str:
    """The canonical key of the program (hex digest of its simplified canonical form)."""
    from .passes import canonical_key

    return str(canonical_key(program))


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


def make_self_tests(program: Program, features: int = 4, *, seed: int = 0) -> list[dict]:
    """Self-test cases: small regression and classification tasks (at F and F+1) run through
    the interpreter, recording every prediction, epoch loss and the training-step count."""
    from .backends.interp import InterpBackend

    backend = InterpBackend()
    specs = [
        ("regression", features, False),
        ("classification", features, True),
        (f"regression-F{features + 1}", features + 1, False),
    ]
    cases = []
    for k, (name, F, accuracy) in enumerate(specs):
        task = _task(name, F, 12, 6, 2, accuracy, seed * 1000 + k)
        memory = program.required_memory(F)
        rng_seed = 1000 + 17 * k + seed
        trace_len = task.max_train_examples + task.epochs * task.num_valid
        run = backend.run_task(
            program, task, memory, rng_seed=rng_seed, max_abs_error=100.0, trace_len=trace_len
        )
        cases.append(
            {
                "name": name,
                "train_x": encode_array(task.train_x),
                "train_y": encode_array(task.train_y),
                "orders": encode_array(task.orders),
                "n_train_steps": int(task.max_train_examples),
                "valid_x": encode_array(task.valid_x),
                "valid_y": encode_array(task.valid_y),
                "n_valid": int(task.num_valid),
                "is_accuracy": bool(accuracy),
                "max_abs_error": 100.0,
                "seed": int(rng_seed),
                "trace": encode_array(run.trace),
                "epoch_loss": encode_array(run.epoch_loss[: run.epochs_validated]),
                "train_steps": int(run.train_steps),
            }
        )
    return cases


def export_source(
    program: Program,
    *,
    metadata: Mapping | None = None,
    simplify: bool = True,
    features: int = 4,
    seed: int = 0,
) -> str:
    """The module source for `program` (simplified first unless `simplify=False`)."""
    prog = simplify_program(program) if simplify else program
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


def export_algorithm(
    program: Program,
    path: str | os.PathLike,
    *,
    metadata: Mapping | None = None,
    simplify: bool = True,
    features: int = 4,
    seed: int = 0,
) -> Path:
    """Write the exported module to `path` (atomically) and check its self-test once."""
    path = Path(path)
    source = export_source(
        program, metadata=metadata, simplify=simplify, features=features, seed=seed
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(source, encoding="utf-8")
    os.replace(tmp, path)
    return path


@dataclass
class VerifyResult:
    """What `verify_file` found."""

    ok: bool
    format_version: int | None
    cases: int
    message: str
    metadata: dict


def load_module(path: str | os.PathLike):
    """Import an exported module from its file path (a fresh module object each call, kept in
    sys.modules under a unique name so its estimators pickle). This runs the file's code."""
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


def verify_file(path: str | os.PathLike) -> VerifyResult:
    """Load an exported module and re-run its embedded self-test vectors."""
    module = load_module(path)
    version = getattr(module, "FORMAT_VERSION", None)
    tests = getattr(module, "SELF_TESTS", None)
    check = getattr(module, "self_test", None)
    meta = dict(getattr(module, "METADATA", {}) or {})
    if version is None or tests is None or check is None:
        return VerifyResult(False, version, 0, f"{path} is not an amlz export", meta)
    if version > FORMAT_VERSION:
        return VerifyResult(
            False,
            version,
            len(tests),
            f"{path} has export format {version}; this amlz reads up to {FORMAT_VERSION}",
            meta,
        )
    if not tests:
        return VerifyResult(False, version, 0, f"{path} embeds no self-test vectors", meta)
    ok = bool(check())
    msg = f"{len(tests)} self-test case(s) " + ("passed" if ok else "FAILED")
    return VerifyResult(ok, version, len(tests), msg, meta)
