"""Writing an export: the module source for a program (simplified, with self-test vectors computed
by the interpreter), written atomically; and importing a written one (which runs its code)."""

from __future__ import annotations

import importlib.util
import os
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..atomic import atomic_write_text
from ..backends.numpy_export import FORMAT_VERSION, ExportError, render_module
from ..ir.program import MemorySpec, Program
from ..limits import check_allocation
from .self_tests import MAX_SELF_TEST_FEATURES, SELF_TEST_MEMORIES, make_self_tests


def simplify_program(program: Program) -> Program:
    """The simplified program (the project's pass pipeline), or `program` if none is present."""
    from ..passes import simplify_program as _simplify

    return _simplify(program)


def canonical_key_of(program: Program) -> str:
    """The canonical key of the program (hex digest of its simplified canonical form)."""
    from ..passes import canonical_key

    return str(canonical_key(program))


def key_version() -> int:
    """The version of the canonical-key rules (`passes.KEY_VERSION`)."""
    from ..passes import KEY_VERSION

    return int(KEY_VERSION)


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
        "key_version": key_version(),
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
