"""Pick the interpreter or the JIT for one evaluation, from the work it implies.

Work is counted in *units*: one unit per scalar instruction, F per vector instruction, F^2 per
matrix instruction, F^3 for a matrix product, per Predict (+ Learn for training steps) run.
An evaluation runs Setup once per task, Predict for every training and validation example and
Learn for every training example, over all epochs and tasks. The model:

    interp_cost = units * INTERP_NS_PER_UNIT + steps * INTERP_NS_PER_STEP
    jit_cost    = units * JIT_NS_PER_UNIT + steps * JIT_NS_PER_STEP + tasks * JIT_US_PER_CALL
                  + (0 if the kernel is cached else compile cost)

and the cheaper wins ("auto"); "interp" and "jit" force a tier. The compile cost is per program
(`COMPILE_MS_SINGLE`, or `COMPILE_MS_BATCHED` when the caller compiles a batch with
`compile_many`). Callers pass the simplified program (only live instructions run).

The constants were measured on this project's 2-core machine class (llvmlite 0.50 / LLVM 22,
numba 0.68) with `python -m amlz_compile.bench` (keys interp_us_per_individual_demo,
jit_us_per_eval_demo, interp/jit_us_per_eval_paper, compile_ms_per_program_single/batched):
see `CostModel` for the values and `bench.calibrate.calibrate()` to re-measure them
on another machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .backends.llvm.engine import AUTO_SMALL_F
from .ir.ops import OPS
from .ir.program import MemorySpec, Program

TIERS = ("interp", "jit", "auto")
MATMUL = 43


@dataclass(frozen=True)
class CostModel:
    """Measured constants (nanoseconds / microseconds / milliseconds as named), from
    `bench.calibrate` and the benchmark keys on this project's 2-core machine class; the
    measurements behind each value are in docs/benchmarks.md ("The cost model's constants")."""

    interp_ns_per_unit: float = 1.17
    interp_ns_per_step: float = 10.0
    jit_ns_per_unit: float = 0.28
    jit_ns_per_step: float = 3.0
    jit_us_per_call: float = 6.0
    compile_ms_single: float = 2.7  # F <= AUTO_SMALL_F: driver mode
    compile_ms_batched: float = 0.8
    compile_ms_optimised: float = 140.0  # F > AUTO_SMALL_F: the O3 pipeline, fitness-only
    # the search's given-memory kernels (Predict + Learn of a live program, fused, one a module)
    search_compile_ms_small: float = 9.0  # F <= AUTO_SMALL_F
    search_compile_ms_large: float = 22.0
    search_optimise_ms_small: float = 20.0  # the same, by the optimising pipeline (light/1)
    search_optimise_ms_large: float = 35.0
    # a threaded kernel (stencils compiled once; per program only its lists and a stub, plus
    # its share of first-use stencil compilations)
    search_threaded_ms: float = 0.7

    def search_compile_ms(self, features: int) -> float:
        """Compile cost of one of the search's quick kernels at feature size F."""
        small = features <= AUTO_SMALL_F
        return self.search_compile_ms_small if small else self.search_compile_ms_large

    def search_optimise_ms(self, features: int) -> float:
        """Compile cost of one of the search's optimised kernels at feature size F."""
        small = features <= AUTO_SMALL_F
        return self.search_optimise_ms_small if small else self.search_optimise_ms_large


DEFAULT_MODEL = CostModel()


def instruction_units(op: int, features: int) -> int:
    """Work units of one instruction at feature size F (see the module docstring)."""
    if op == MATMUL:
        return features**3
    info = OPS[op]
    kinds = {k for k in (info.in1, info.in2, info.out) if k is not None}
    if "m" in kinds:
        return features * features
    if "v" in kinds:
        return features
    return 1


def unit_table(features: int) -> np.ndarray:
    """float64[65]: `instruction_units` of every op at feature size F (read-only)."""
    table = np.array([instruction_units(op, features) for op in range(len(OPS))], dtype=np.float64)
    table.flags.writeable = False
    return table


def component_units(program: Program, features: int) -> tuple[int, int, int]:
    """Units of (Setup, Predict, Learn) for one run of each."""
    ops = [int(o) for o in program.code[:, 0]]
    b = [int(x) for x in program.bounds]
    return tuple(  # type: ignore[return-value]
        sum(instruction_units(op, features) for op in ops[b[k] : b[k + 1]]) for k in range(3)
    )


@dataclass(frozen=True)
class Workload:
    """How much one evaluation runs: per task, training steps and validation Predicts."""

    train_steps: Sequence[int]
    valid_steps: Sequence[int]

    @classmethod
    def of_tasks(cls, tasks: Sequence, n_train: int | None = None) -> Workload:
        """From duck-typed tasks: full training (or n_train steps) and one validation per epoch."""
        train, valid = [], []
        for t in tasks:
            n = t.num_train * t.epochs if n_train is None else min(n_train, t.num_train * t.epochs)
            epochs = -(-n // t.num_train) if n > 0 else 0
            train.append(n)
            valid.append(epochs * t.num_valid)
        return cls(tuple(train), tuple(valid))


def estimate_us(
    program: Program, memory: MemorySpec, work: Workload, model: CostModel = DEFAULT_MODEL
) -> dict[str, float]:
    """Estimated µs of one evaluation: interp run, jit run, jit compile."""
    setup, predict, learn = component_units(program, memory.features)
    units = steps = 0
    for n_train, n_valid in zip(work.train_steps, work.valid_steps, strict=True):
        units += setup + n_train * (predict + learn) + n_valid * predict
        steps += n_train + n_valid
    tasks = len(work.train_steps)
    interp = (units * model.interp_ns_per_unit + steps * model.interp_ns_per_step) / 1e3
    jit = (units * model.jit_ns_per_unit + steps * model.jit_ns_per_step) / 1e3
    jit += tasks * model.jit_us_per_call
    if memory.features > AUTO_SMALL_F:
        single = batched = model.compile_ms_optimised
    else:
        single, batched = model.compile_ms_single, model.compile_ms_batched
    return {"interp": interp, "jit": jit, "compile_single": single * 1e3,
            "compile_batched": batched * 1e3}  # fmt: skip


def choose_tier(
    program: Program,
    memory: MemorySpec,
    work: Workload,
    *,
    mode: str = "auto",
    cached: bool = False,
    batched: bool = False,
    uses: int = 1,
    model: CostModel = DEFAULT_MODEL,
) -> str:
    """ "interp" or "jit" for evaluating `program` `uses` times on `work`.

    `mode` "interp"/"jit" forces a tier; "auto" compares estimated costs. `cached` says the
    kernel already exists (no compile cost); `batched` that it would be compiled with others.
    """
    if mode not in TIERS:
        raise ValueError(f"unknown backend tier {mode!r} (choose from {', '.join(TIERS)})")
    if mode != "auto":
        return mode
    est = estimate_us(program, memory, work, model)
    compile_us = 0.0 if cached else est["compile_batched" if batched else "compile_single"]
    return "jit" if compile_us + uses * est["jit"] < uses * est["interp"] else "interp"
