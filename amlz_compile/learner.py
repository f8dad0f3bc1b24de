"""An evolved program used as a model on a table: the exported module's estimator, in memory.

The search estimators train their winning program with the very code `export(path)` ships:
the module `backends.numpy_export.render_module` writes for the program, built in memory from
the program (never read from a file) and memoised by the program's text. The estimator is used
with `standardize=True` (features, and a regressor's target, scaled by the training rows' mean
and deviation, stored in the fitted estimator), `independent_rows=True` (every row predicted
from a fresh copy of the trained memory, so a prediction does not depend on the other rows)
and, for classification, `one_vs_rest=True` (one trained memory per class beyond two).
"""

from __future__ import annotations

import types
from typing import Any

from .backends.numpy_export import render_module
from .ir.program import Program
from .tasks.tabular import REGRESSION

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


def model_params(problem: str, *, epochs: int, random_state: int, standardize: bool) -> dict:
    """The exported estimator's parameters the search estimators use (also written into an
    export's METADATA["estimator_params"], so the shipped module learns the same way)."""
    params: dict[str, Any] = {
        "epochs": int(epochs),
        "random_state": int(random_state),
        "max_abs_error": None,
        "standardize": bool(standardize),
        "independent_rows": True,
    }
    if problem != REGRESSION:
        params["one_vs_rest"] = True
    return params


def make_model(program: Program, problem: str, params: dict) -> Any:
    """An unfitted AlgorithmRegressor / AlgorithmClassifier of `program`'s module."""
    module = program_module(program)
    cls = module.AlgorithmRegressor if problem == REGRESSION else module.AlgorithmClassifier
    return cls(**params)


def model_state(model: Any) -> dict:
    """The fitted estimator's attributes (NumPy arrays and numbers: picklable)."""
    return dict(model.__dict__)


def restore_model(program: Program, problem: str, state: dict) -> Any:
    """A fitted estimator of `program` from `model_state`'s output."""
    module = program_module(program)
    cls = module.AlgorithmRegressor if problem == REGRESSION else module.AlgorithmClassifier
    model = cls.__new__(cls)
    model.__dict__.update(state)
    return model
