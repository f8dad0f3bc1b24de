"""Benchmarks: `python -m amlz_compile.bench [--only KEY,...]` prints one JSON object.

The benchmark package sits above everything it measures (nothing in the rest of the package
imports it). This module holds the registry of named benchmark functions and the demo workload
builders the others share; each module of the package adds keys with the `benchmark("key")`
decorator (every module here is imported by `discover`), or by calling `register_benchmark`.
Each key returns a number (or a JSON-able value). Timings are warm: compilation happens before
measuring. `calibrate` re-measures the tiering cost model from these benchmarks.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
from numba import njit

BENCHMARKS: dict[str, Callable[[], object]] = {}
# Keys that run only when asked for by name (`--only`): minutes each (the memory curve: an hour).
ON_REQUEST = {"cold_start_first_progress_s", "search_memory_curve_paper"}


def register_benchmark(key: str, fn: Callable[[], object]) -> None:
    """Add a benchmark under `key` (one key per function; a duplicate key is an error)."""
    if key in BENCHMARKS and BENCHMARKS[key] is not fn:
        raise ValueError(f"benchmark key {key!r} is already registered")
    BENCHMARKS[key] = fn


def benchmark(key: str) -> Callable[[Callable[[], object]], Callable[[], object]]:
    """Decorator form of `register_benchmark`."""

    def deco(fn: Callable[[], object]) -> Callable[[], object]:
        register_benchmark(key, fn)
        return fn

    return deco


def discover() -> None:
    """Import every module of this package so its benchmarks register."""
    for info in pkgutil.iter_modules(__path__, __name__ + "."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)


# -- the reference demo workload (run_demo.sh, docs/semantics.md#presets) ------------------------

DEMO_MEMORY = (4, 3, 1)  # scalars, vectors, matrices
DEMO_SIZES = (10, 2, 8)  # setup, predict, learn


def demo_tasks(
    n_tasks: int = 10, features: int = 4, n_train: int = 100, n_valid: int = 100
) -> list:
    """The demo's search tasks: linear regression y = w.x (x, w ~ N(0, 1)), default seeds."""
    from ..tasks import build_tasks

    spec = {"kind": "linear", "features": features, "num_train": n_train, "num_valid": n_valid,
            "num_tasks": n_tasks}  # fmt: skip
    return build_tasks(spec)


def random_demo_programs(
    n: int, seed: int = 0, ops=None, sizes=DEMO_SIZES, memory=DEMO_MEMORY
) -> list:
    """Random programs of the demo's ops with the reference's address and data draws (2.3)."""
    from ..ir.ops import DEMO_OPS, op_info
    from ..ir.program import Instruction, Program

    ops = DEMO_OPS if ops is None else ops
    rng = np.random.default_rng(seed)
    counts = {"s": memory[0], "v": memory[1], "m": memory[2]}
    low_out = {"s": 1, "v": 1, "m": 0}

    def instr() -> Instruction:
        op = int(ops[rng.integers(len(ops))])
        info = op_info(op)
        fields = {}
        if info.in1:
            fields["in1"] = int(rng.integers(counts[info.in1]))
        if info.in2:
            fields["in2"] = int(rng.integers(counts[info.in2]))
        if info.out:
            fields["out"] = int(rng.integers(low_out[info.out], counts[info.out]))
        if "act" in info.data:
            fields["act"] = float(rng.uniform(-1, 1))
        for f in ("f0", "f1", "f2"):
            if f in info.data:
                fields[f] = float(rng.uniform(-1, 1))
        return Instruction(op, **fields)

    return [Program(*[[instr() for _ in range(k)] for k in sizes]) for _ in range(n)]


def _time_per_item(run: Callable[[], None], n_items: int, repeats: int) -> float:
    """Median over `repeats` of the CPU time of `run()` divided by `n_items`, in microseconds.

    CPU time of this process (not wall time), so other processes on a shared machine inflate
    it less; single-threaded kernels make the two equal on an idle machine.
    """
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        run()
        times.append((time.process_time() - t0) / n_items * 1e6)
    return statistics.median(times)


def demo_setup(n_programs: int, seed: int = 1):
    """(interp backend, demo memory, packed demo tasks, packed random demo programs): the demo
    workload as the interpreter benchmarks and tests run it."""
    from ..backends.interp import InterpBackend
    from ..backends.packing import pack_tasks
    from ..ir.program import MemorySpec

    memory = MemorySpec(*DEMO_MEMORY, features=4)
    tasks = pack_tasks(demo_tasks())
    return InterpBackend(), memory, tasks, random_demo_programs(n_programs, seed=seed)


@benchmark("interp_us_per_individual_demo")
def interp_us_per_individual_demo(n_programs: int = 300, copies: int = 16) -> float:
    """Interpreter µs per full evaluation of a random demo program on the demo's 10 tasks.

    Median over `n_programs` random programs (setup 10 / predict 2 / learn 8 of DEMO_OPS,
    memory 4/3/1) of each program's time, measured through the batch kernel as the search calls
    it: a batch of `copies` copies of the program (fresh seeds), best of 3, divided by `copies`.
    """
    from ..backends.packing import pack_programs

    backend, memory, tasks, programs = demo_setup(n_programs)
    T = len(tasks)
    seeds = np.arange(copies * T, dtype=np.uint64).reshape(copies, T)
    per_program = []
    for prog in programs:
        batch = pack_programs([prog] * copies)
        backend.run_batch(batch, tasks, memory, seeds)  # compile (first time) and check
        per_program.append(
            min(
                _time_per_item(
                    lambda b=batch: backend.run_batch(b, tasks, memory, seeds, check=False),
                    copies,
                    1,
                )
                for _ in range(3)
            )
        )
    return round(statistics.median(per_program), 3)


@benchmark("interp_us_per_individual_demo_batch")
def interp_us_per_individual_demo_batch(n_programs: int = 2000, repeats: int = 5) -> float:
    """As `interp_us_per_individual_demo`, but the mean: one batch of `n_programs` different
    random programs, CPU time / programs, median of `repeats` batches (search throughput)."""
    from ..backends.packing import pack_programs

    backend, memory, tasks, programs = demo_setup(n_programs, seed=2)
    packed = pack_programs(programs)
    T = len(tasks)
    seeds = np.arange(n_programs * T, dtype=np.uint64).reshape(n_programs, T)
    backend.run_batch(packed, tasks, memory, seeds)  # compile / warm up
    run = lambda: backend.run_batch(packed, tasks, memory, seeds, check=False)  # noqa: E731
    return round(_time_per_item(run, n_programs, repeats), 3)


@benchmark("numba_reference_loop_ns")
def numba_reference_loop_ns(steps: int = 2000, repeats: int = 200) -> float:
    """ns per step of a trivial compiled loop (copy 4 features, read one value): a yardstick
    for how loaded the machine is when the other figures were taken (~1 ns when idle)."""
    x = np.random.default_rng(0).standard_normal((steps, 4))
    mem = np.zeros(8)
    _reference_loop(x, mem, 1)
    return round(
        _time_per_item(lambda: _reference_loop(x, mem, repeats), steps * repeats, 5) * 1e3, 3
    )


@njit(cache=True)
def _reference_loop(x, mem, reps):
    acc = 0.0
    for _ in range(reps):
        for k in range(x.shape[0]):
            for i in range(4):
                mem[4 + i] = x[k, i]
            mem[0] = 0.0
            acc += mem[5]
    return acc


def run(only: list[str] | None = None) -> dict[str, object]:
    """Run the selected benchmarks (when `only` is None: all but the ON_REQUEST ones) and
    return {key: value}."""
    discover()
    keys = only if only else [k for k in BENCHMARKS if k not in ON_REQUEST]
    unknown = [k for k in keys if k not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"unknown benchmark key(s) {unknown}; known: {sorted(BENCHMARKS)}")
    return {key: BENCHMARKS[key]() for key in keys}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m amlz_compile.bench", description=__doc__)
    parser.add_argument("--only", default="", help="comma-separated benchmark keys")
    parser.add_argument("--list", action="store_true", help="list the keys and exit")
    args = parser.parse_args(argv)
    if args.list:
        discover()
        print("\n".join(sorted(BENCHMARKS)))
        return
    only = [k.strip() for k in args.only.split(",") if k.strip()] or None
    json.dump(run(only), sys.stdout)
    sys.stdout.write("\n")
