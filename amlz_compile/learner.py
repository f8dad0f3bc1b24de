"""An evolved program used as a learner on a table: train it on rows, then predict new rows.

The program runs as the exported NumPy module's code (`backends.numpy_export.render_module`,
built in memory from the program, never read from a file), so a model in a notebook computes
what `export(path)` ships. Training follows the task protocol: zeroed memory, Setup once, then
per training row in epoch order Predict (sigmoid for classification) and Learn, with the
algorithm's random ops drawn from SplitMix64(random_state). Training stops, and the learner
falls back to a constant (the mean target, or the majority class), when a training prediction
is non-finite or misses its target by more than `max_abs_error`, the rule under which the
search scored the program.

Prediction makes each row independent: Predict runs on a fresh copy of the trained memory and
generator for every row, so predictions do not depend on which other rows are predicted with it
(a model in the scikit-learn sense). Inputs are standardised with the stored `Standardiser`,
regression outputs are mapped back to the user's units. Multi-class is one-vs-rest: one trained
memory per class, predicted class = largest logit.
"""

from __future__ import annotations

import math
import types
from typing import Any

import numpy as np

from .backends.numpy_export import render_module
from .ir.program import Program
from .tasks.tabular import REGRESSION, Standardiser

_modules: dict[str, types.ModuleType] = {}


def program_module(program: Program) -> types.ModuleType:
    """The exported module of `program` as an in-memory module (memoised by program text)."""
    from .ir.serialize import dumps

    key = dumps(program)
    module = _modules.get(key)
    if module is None:
        source = render_module(program, metadata={"in_memory": True})
        module = types.ModuleType("amlz_learner_program")
        exec(compile(source, "<amlz evolved program>", "exec"), module.__dict__)  # noqa: S102
        _modules[key] = module
    return module


class TrainedProgram:
    """One program trained on standardised rows for one target (regression, or a binary
    label with the sigmoid applied during training)."""

    def __init__(
        self,
        program: Program,
        x: np.ndarray,
        t: np.ndarray,
        *,
        classify: bool,
        epochs: int,
        random_state: int,
        max_abs_error: float,
    ) -> None:
        mod = program_module(program)
        n, f = x.shape
        rng = mod.SplitMix64(int(random_state))
        mem = mod.new_memory(f)
        s, v, m = mem
        self.diverged = False
        with np.errstate(all="ignore"):
            mod.setup(s, v, m, rng, f)
            for order in mod._epoch_orders(n, int(epochs), int(random_state)):
                for i in order:
                    p = mod.train_predict(mem, rng, x[i], classify)
                    if not (math.isfinite(p) and abs(float(t[i]) - p) <= max_abs_error):
                        self.diverged = True
                        break
                    mod.train_learn(mem, rng, x[i], float(t[i]))
                if self.diverged:
                    break
        self.memory = tuple(np.array(a) for a in mem)
        self.rng_state = int(rng.state)
        self.features = f

    def raw(self, program: Program, x: np.ndarray) -> np.ndarray:
        """s1 after Predict for each row, each from the trained memory (NaN when diverged)."""
        if self.diverged:
            return np.full(x.shape[0], np.nan)
        mod = program_module(program)
        out = np.empty(x.shape[0])
        with np.errstate(all="ignore"):
            for k in range(x.shape[0]):
                mem = tuple(a.copy() for a in self.memory)
                rng = mod.SplitMix64(0)
                rng.state = self.rng_state
                out[k] = mod.predict_step(mem, rng, x[k])
        return out

    def state(self) -> dict:
        return {
            "memory": [a.copy() for a in self.memory],
            "rng_state": self.rng_state,
            "diverged": self.diverged,
            "features": self.features,
        }

    @classmethod
    def from_state(cls, state: dict) -> TrainedProgram:
        self = cls.__new__(cls)
        self.memory = tuple(np.array(a) for a in state["memory"])
        self.rng_state = int(state["rng_state"])
        self.diverged = bool(state["diverged"])
        self.features = int(state["features"])
        return self


class Learner:
    """A program trained on a whole table: `predict` (regression) or `logits` (classes)."""

    def __init__(
        self,
        program: Program,
        problem: str,
        standardiser: Standardiser,
        *,
        n_outputs: int = 1,
        epochs: int = 1,
        random_state: int = 0,
        max_abs_error: float = 100.0,
    ) -> None:
        self.program = program
        self.problem = problem
        self.standardiser = standardiser
        self.n_outputs = n_outputs
        self.epochs = epochs
        self.random_state = random_state
        self.max_abs_error = max_abs_error
        self.trained: list[TrainedProgram] = []
        self.fallback: list[float] = []

    def fit(self, x: np.ndarray, targets: list[np.ndarray]) -> Learner:
        """Train one memory per target column: the regression target (raw units) or each
        binary 0/1 label (one-vs-rest)."""
        xs = self.standardiser.transform_x(x)
        classify = self.problem != REGRESSION
        self.trained, self.fallback = [], []
        for t in targets:
            tt = t if classify else self.standardiser.transform_y(t)
            self.trained.append(
                TrainedProgram(
                    self.program,
                    xs,
                    tt,
                    classify=classify,
                    epochs=self.epochs,
                    random_state=self.random_state,
                    max_abs_error=self.max_abs_error,
                )  # fmt: skip
            )
            if classify:
                share = min(max(float(np.mean(t)), 1e-6), 1 - 1e-6)
                self.fallback.append(math.log(share / (1.0 - share)))
            else:
                self.fallback.append(0.0)  # the standardised mean
        return self

    @property
    def diverged(self) -> bool:
        return any(t.diverged for t in self.trained)

    def outputs(self, x: np.ndarray) -> np.ndarray:
        """(rows, targets) of s1 in the algorithm's units, with the fallback for non-finite or
        huge values (beyond 1e6 in standardised units)."""
        xs = self.standardiser.transform_x(x)
        cols = []
        for trained, fallback in zip(self.trained, self.fallback, strict=True):
            z = trained.raw(self.program, xs)
            with np.errstate(invalid="ignore"):
                bad = ~(np.isfinite(z) & (np.abs(z) <= 1e6))
            cols.append(np.where(bad, fallback, z))
        return np.column_stack(cols)

    def predict_regression(self, x: np.ndarray) -> np.ndarray:
        return self.standardiser.inverse_y(self.outputs(x)[:, 0])

    def state(self) -> dict[str, Any]:
        return {"trained": [t.state() for t in self.trained], "fallback": list(self.fallback)}

    def set_state(self, state: dict[str, Any]) -> None:
        self.trained = [TrainedProgram.from_state(s) for s in state["trained"]]
        self.fallback = list(state["fallback"])
