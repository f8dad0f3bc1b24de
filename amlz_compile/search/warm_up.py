"""Cold start: the warm-up helper process.

With an empty numba cache a run compiles its search kernel first (the first progress event
waits for it), then, after the search's first events, what it needs later: the select and final
evaluations, their metrics, and the passes that simplify programs (the CLI's best file and hall
of fame). A run that finds the passes not compiled yet starts a second process that compiles
those later kernels into the shared numba cache while this one compiles its search kernel (on
another core, at the lowest priority, so that it takes only what the search kernel's own compile
helpers leave); this process then loads them instead of compiling them, and waits for the helper
before its select evaluations if it is still at work (`wait_for_warm_up`). The helper only
compiles: it evaluates a fixed program on the run's own select and final tasks and shares
nothing but numba's cache files, so no result depends on whether or when it ran. One helper
per process at a time (many short runs, such as an estimator's fits, share it); it outlives a
run that ends first and is ended when this process exits.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
from collections.abc import Mapping

from .experiment_config import ExperimentConfig
from .selection import evaluate_on

WARM_UP_ENV = "AMLZ_WARM_UP"  # "0", "false", "no" or "off": never start the warm-up process

_HELPER: list = []  # the helper process this process started, if any


def _later_kernels_cached() -> bool:
    """Whether numba's cache holds the passes' simplification (the largest of the kernels a
    run compiles after its first progress event); True when that cannot be told."""
    try:
        from ..passes.simplify import simplify_arrays

        return os.path.exists(simplify_arrays._cache._cache_file._index_path)
    except Exception:  # numba's cache layout is not public: when unsure, start nothing
        return True


def later_kernels_compiling() -> bool:
    """Whether this process's helper is still compiling the later kernels (the passes first):
    work that needs them and can wait, such as the CLI's hall of fame, waits instead of
    compiling them a second time on this process's core."""
    return bool(_HELPER) and _HELPER[0].poll() is None and not _later_kernels_cached()


def helpers_allowed() -> bool:
    """Whether this process may start compile helpers (this warm-up, and the search kernel's
    `interp_machine.prefetch_machine`): more than one core, and AMLZ_WARM_UP not off."""
    off = os.environ.get(WARM_UP_ENV, "1").strip().lower() in ("0", "false", "no", "off")
    return not off and (os.cpu_count() or 1) >= 2


def start_warm_up(config: ExperimentConfig):
    """Start the helper process that compiles the kernels `config`'s run needs after its first
    progress event (`warm_up`), when they are not in numba's cache and the machine has more
    than one core; returns the process (or None)."""
    import subprocess
    import sys

    if not helpers_allowed():
        return None
    if _HELPER and _HELPER[0].poll() is None:
        return _HELPER[0]
    if _later_kernels_cached():
        return None
    code = (  # at the lowest priority: the search kernel's compile helpers come first
        "import os, sys, json; os.nice(19); from amlz_compile.search.warm_up import warm_up; "
        "warm_up(json.loads(sys.argv[1]))"
    )
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", code, json.dumps(config.to_dict())],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except OSError:
        return None
    if not _HELPER:
        atexit.register(stop_warm_up)
    _HELPER[:] = [process]
    return process


def wait_for_warm_up(timeout: float = 600.0) -> None:
    """Wait (at most `timeout` seconds) for this process's helper while it is still compiling:
    the select and final evaluations that come next need what it compiles, and compiling it
    here as well would only race it, at the helper's expense."""
    import subprocess

    if _HELPER and _HELPER[0].poll() is None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            _HELPER[0].wait(timeout)


def stop_warm_up() -> None:
    """End the helper if it is still compiling (numba writes its cache files atomically)."""
    for process in _HELPER:
        if process.poll() is None:
            process.kill()
            process.wait()


def warm_up(config_dict: Mapping, *, strict: bool = False) -> None:
    """The helper's work: simplify a program and evaluate it (fitness and metrics) on the run's
    select and final tasks, as the run will, so that every kernel this compiles lands in
    numba's cache. A step that fails is skipped (with `strict`, raises)."""
    from ..passes import canonical_key, simplify_program
    from .generator import initial_template
    from .selection import metrics_on

    config = ExperimentConfig.from_dict(config_dict)
    search = config.search
    program = initial_template(search)
    steps = [lambda: canonical_key(simplify_program(program)), lambda: canonical_key(program)]
    for specs in ([dict(t) for t in config.select_tasks], [dict(t) for t in config.final_tasks]):
        steps.append(lambda s=specs: evaluate_on(program, s, search.memory, 1,
                                                 backend=search.backend,
                                                 max_abs_error=search.max_abs_error))  # fmt: skip
        steps.append(lambda s=specs: metrics_on(program, s, search.memory, 1,
                                                max_abs_error=search.max_abs_error))  # fmt: skip
    for step in steps:
        try:
            step()
        except Exception:  # a step that cannot run only leaves its kernels cold
            if strict:
                raise
