"""What every backend returns for one (program, task) run, and the interface it offers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ..ir.program import MemorySpec, Program


@dataclass
class TaskRun:
    """The outcome of one kernel call (see the contract in `backends/__init__.py`)."""

    epoch_loss: np.ndarray  # float64[E]; NaN = failed validation pass
    epochs_validated: int
    trace: np.ndarray  # predictions in execution order (trace_written entries)
    train_steps: int
    scalars: np.ndarray | None = None  # final memory, when the caller asked for it
    vectors: np.ndarray | None = None
    matrices: np.ndarray | None = None


@dataclass(frozen=True)
class RunOptions:
    """How one (program, task) run goes: the keywords every backend's `run_task` takes.

    `n_train` / `n_valid` default to the task's full training budget and validation set;
    `trace_len` predictions are recorded; `keep_memory` returns the final memory."""

    n_train: int | None = None
    n_valid: int | None = None
    rng_seed: int = 0
    max_abs_error: float = 100.0
    trace_len: int = 0
    keep_memory: bool = False


class Backend(Protocol):
    """A way to run one program on one task under the kernel contract."""

    name: str

    def run_task(
        self,
        program: Program,
        task,  # amlz_compile.tasks.Task (backends must not import tasks)
        memory: MemorySpec,
        **options: Any,  # the fields of RunOptions
    ) -> TaskRun: ...
