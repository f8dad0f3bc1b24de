"""Cold start: the search kernel compiled on two cores.

With an empty numba cache, `kernels.population_kernel` compiles its callees one after another
before a search can show any progress. Its two largest parts have nothing in common: making a
child (`_evolve_child`: tournament and mutation) and evaluating one (`_prepare`: budget,
dead-code removal, dedup key, decoding; `_task_fitnesses`). So a helper process compiles
`_evolve_child` into numba's cache for the argument types the kernel will pass, while this
process compiles the evaluation parts for theirs; then this process waits for the helper and
compiles the kernel, which finds every part compiled or in the cache.

The types are read off the kernel's own arguments, as the kernel passes them on (a test checks
that a cold compile uses exactly these). A wrong guess costs time, never a result: the kernel
compiles whatever part it does not find. The helper reads the types as JSON data and shares
nothing but numba's cache files.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys

import numba
import numpy as np
from numba import types

from ..backends.interp_machine import helper_env
from . import kernels as K

# The helper's program: compile `_evolve_child` for the signature described (JSON) on stdin.
_HELPER_CODE = (
    "import sys; from amlz_compile.search.kernel_compile import compile_evolve_child; "
    "compile_evolve_child(sys.stdin.read())"
)


def part_signatures(args: tuple) -> dict[str, tuple]:
    """The numba argument types `population_kernel(*args)` passes to its separately compiled
    parts, by part name (`_evolve_child`, `_prepare`, `_task_fitnesses`)."""
    (_mode, _n, _cc, _cd, _cs, _cf, _cr, pop, ip, fp, mt, tk, dc, fc, hs, st, ws, tr) = args
    t = numba.typeof
    child = (t(ws.child_code), t(ws.child_data), t(ws.child_sizes))
    index = t(ip[0])  # P and T, read from ip
    return {
        "_evolve_child": (
            *(t(a) for a in pop[:4]),
            t(ws.draws),
            index,
            *child,
            *(t(a) for a in mt),
            t(fp[0]),
            t(st[0]),
        ),  # fmt: skip
        "_prepare": (*child, *(t(a) for a in (ip, fp, mt, tk, dc, st, ws, tr))),
        "_task_fitnesses": (*(t(a) for a in (ip, fp, tk, fc, hs, st, ws, tr)), numba.boolean),
    }


def kernel_cached(args: tuple) -> bool:
    """Whether numba's cache holds `population_kernel` compiled for `args`'s types (an
    unreadable cache counts as not)."""
    kernel = K.population_kernel
    try:
        signature = tuple(numba.typeof(a) for a in args)
        key = kernel._cache._index_key(signature, kernel.targetctx.codegen())
        return key in kernel._cache._cache_file._load_index()
    except Exception:  # noqa: BLE001 (numba's private cache API: any failure means "no")
        return False


def compile_kernel(args: tuple, helpers: bool) -> None:
    """Compile (or load) `population_kernel` for `args`; with `helpers`, when numba's cache
    does not hold it, on two cores as the module says."""
    kernel = K.population_kernel
    signature = tuple(numba.typeof(a) for a in args)
    if signature in kernel.overloads:
        return
    if helpers and not kernel_cached(args):
        parts = part_signatures(args)
        child = parts["_evolve_child"]
        helper = None if child in K._evolve_child.overloads else _start_helper(child)
        if helper is not None:
            for name in ("_prepare", "_task_fitnesses"):
                getattr(K, name).compile(parts[name])
            with contextlib.suppress(subprocess.SubprocessError):
                helper.wait()
    kernel.compile(signature)


def describe_signature(signature: tuple) -> str:
    """`signature` as JSON data (arrays by dtype, dimensions, layout and flags; numbers by
    name): what the helper reads, so that nothing it reads can run code. TypeError for any
    other type."""
    out = []
    for t in signature:
        if isinstance(t, types.Array):
            out.append(["array", str(t.dtype), t.ndim, t.layout, not t.mutable, t.aligned])
        elif isinstance(t, types.Integer | types.Float | types.Boolean):
            out.append(["number", str(t)])
        else:
            raise TypeError(f"no data form for the numba type {t}")
    return json.dumps(out)


def read_signature(text: str) -> tuple:
    """The signature `describe_signature` wrote (ValueError on anything else)."""
    signature = []
    for item in json.loads(text):
        if item[0] == "array" and len(item) == 6:
            _, dtype, ndim, layout, readonly, aligned = item
            if layout not in ("C", "F", "A"):
                raise ValueError(f"unknown array layout {layout!r}")
            element = numba.from_dtype(np.dtype(dtype))
            array = types.Array(element, int(ndim), layout, readonly=bool(readonly),
                                aligned=bool(aligned))  # fmt: skip
            signature.append(array)
        elif item[0] == "number" and len(item) == 2:
            number = getattr(types, str(item[1]), None)
            if not isinstance(number, types.Integer | types.Float | types.Boolean):
                raise ValueError(f"unknown number type {item[1]!r}")
            signature.append(number)
        else:
            raise ValueError(f"not a described numba type: {item!r}")
    return tuple(signature)


def compile_evolve_child(text: str) -> None:
    """The helper's work: compile `_evolve_child` for the described signature (into numba's
    cache)."""
    K._evolve_child.compile(read_signature(text))


def _start_helper(signature: tuple) -> subprocess.Popen | None:
    """The helper process compiling `_evolve_child` for `signature` (None if it cannot start,
    or a type has no data form)."""
    try:
        payload = describe_signature(signature)
        helper = subprocess.Popen(
            [sys.executable, "-c", _HELPER_CODE],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=helper_env(),
            text=True,
        )
    except (OSError, TypeError):
        return None
    try:
        helper.stdin.write(payload)
        helper.stdin.close()
    except OSError:
        helper.kill()
        helper.wait()
        return None
    return helper
