"""Cold start: seconds from launching the README's first command (`amlz evolve --preset demo
--flow fast`, seed 1) with an empty numba cache to its first progress record (individuals
evaluated), measured from outside in a fresh process (`--json`: one JSON line per event).

This is what a fresh install costs before the search shows anything: every compiled kernel the
run needs before its first progress event is compiled (the numba cache directory is a new empty
one, so nothing is loaded from the machine's own cache). It takes minutes of a busy core, far
more than the warm benchmarks, so the key runs only when asked for (`--only`); the child is
stopped at its first progress record.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from . import benchmark

COMMAND = ("evolve", "--preset", "demo", "--flow", "fast", "--seed", "1", "--json")


def first_progress_seconds(
    timeout: float = 1800.0, cache_dir: str | None = None, command: tuple = COMMAND
) -> dict:
    """{"wall_s": seconds to the first progress record, "cpu_s": CPU seconds the command's
    process used until then, "events": kinds seen before it} of `amlz` + `command` in a child
    process with the numba cache at `cache_dir` (default: a new empty directory, removed
    afterwards). The child and any process it started are stopped at that record."""
    with tempfile.TemporaryDirectory(prefix="amlz-cold-") as tmp:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir or os.path.join(tmp, "numba"))
        run_dir = os.path.join(tmp, "run")
        cmd = [sys.executable, "-m", "amlz_compile.cli", *command, "--out", run_dir]
        t0 = time.perf_counter()
        child = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            text=True,
            start_new_session=True,  # its own process group: a helper it started goes with it
        )
        kinds: list[str] = []
        out = {"wall_s": None, "cpu_s": None, "events": kinds}
        try:
            for line in child.stdout:
                try:
                    kind = json.loads(line).get("kind")
                except (ValueError, AttributeError):
                    continue
                if kind == "progress":
                    out["wall_s"] = round(time.perf_counter() - t0, 1)
                    out["cpu_s"] = _cpu_seconds(child.pid)
                    break
                kinds.append(kind)
                if time.perf_counter() - t0 > timeout:
                    break
            return out
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait()


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a running process (Linux /proc; None elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 1)
    except (OSError, ValueError, IndexError):
        return None


@benchmark("cold_start_first_progress_s")
def cold_start_first_progress_s() -> float | None:
    """Seconds from launching the README's demo command (fast flow, seed 1) with an empty numba
    cache to its first progress record."""
    return first_progress_seconds()["wall_s"]
