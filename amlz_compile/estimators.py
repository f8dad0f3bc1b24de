"""scikit-learn-compatible estimators whose `fit(X, y)` evolves a learning algorithm.

`AlgorithmSearchRegressor` and `AlgorithmSearchClassifier` turn (X, y) into search, select and
final tasks (`tasks.tabular`: K-fold search tasks, a select split, a held-out final split,
standardisation, one-vs-rest for more than two classes), run the regularized-evolution search
on them (`search.experiment.run_search`), keep the candidate with the best select fitness, and
train it on all of X with the exported module's estimator (`learner`, `model_`). The model is
that trained program: `predict`, `score`, `decision_function` / `predict_proba`, `algorithm_`
(the simplified program; print it), `hall_of_fame_` (the best program per simplified size),
`export(path)` (a standalone NumPy module).

Determinism: with `time_limit=None` the budget is `max_individuals` and a given
`random_state` gives the same algorithm and the same predictions every time (on every backend).
A `time_limit` makes the amount of search depend on the machine's speed, so it is not
deterministic. `random_state=None` draws a fresh seed per fit.

scikit-learn is not imported here: parameters, cloning, tags and input checks follow its
conventions (the input checks are the exported module's, which reproduce its messages), so
the estimators run in `Pipeline`, `cross_val_score` and `GridSearchCV`, and importing
`amlz_compile` stays light (numba and llvmlite load when a search runs).
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
import types
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import AmlzError
from .ir.program import Program
from .tasks.tabular import (
    CLASSIFICATION,
    REGRESSION,
    Standardiser,
    accuracy,
    regression_metrics,
)

_checks: types.ModuleType | None = None


def _input_checks() -> types.ModuleType:
    """The exported module's input checks (check_X, check_y, NotFittedError, ...)."""
    global _checks
    if _checks is None:
        from .algorithms import load_builtin
        from .learner import program_module

        _checks = program_module(load_builtin("linear"))
    return _checks


class EstimatorError(AmlzError, ValueError):
    """A search estimator that cannot run: a bad start, or a search that kept no candidate."""


def resolve_initial(initial: Any) -> str | Program:
    """The search's start for the `initial` parameter: a built-in start name
    (search.data_config.INITIAL_BUILTINS), or a Program from a Program object, an algorithm
    file (.txt or .json) or the name of a built-in algorithm (`amlz show` lists them)."""
    from .search.data_config import INITIAL_BUILTINS

    if isinstance(initial, Program):
        return initial
    if isinstance(initial, str) and initial in INITIAL_BUILTINS:
        return initial
    if isinstance(initial, str | os.PathLike):
        from .algorithms import builtin_names, load_builtin

        if isinstance(initial, str) and initial in builtin_names():
            return load_builtin(initial)
        if Path(initial).is_file():
            from .ir.serialize import load_program

            return load_program(initial)
    raise EstimatorError(
        f"initial must be a built-in start ({', '.join(INITIAL_BUILTINS)}), a built-in "
        f"algorithm name, an algorithm file or a Program; got {initial!r}"
    )


@dataclass(eq=False, repr=False, kw_only=True)
class _AlgorithmSearch:
    """Parameters and the search shared by the regressor and the classifier. The parameters
    are the dataclass fields (keyword-only constructor arguments, stored unchanged as
    scikit-learn expects)."""

    _problem = REGRESSION

    max_individuals: int | None = 20000
    time_limit: float | None = None
    population_size: int = 100
    tournament_size: int = 10
    mutate_prob: float = 0.9
    ops: str | dict = "baseline"
    initial: str | Program | os.PathLike = "linear"
    epochs: int = 1
    folds: int = 4
    select_fraction: float = 0.2
    final_fraction: float = 0.2
    standardize: bool = True
    islands: int = 1
    workers: int = 1
    flow: str = "fast"
    backend: str = "auto"
    random_state: int | None = None
    verbose: int = 0

    # -- scikit-learn's estimator protocol, without importing it ----------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(_AlgorithmSearch)]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> _AlgorithmSearch:
        valid = self._param_names()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(
                    f"Invalid parameter {key!r} for estimator {type(self).__name__}. "
                    f"Valid parameters are: {valid!r}."
                )
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        defaults = {f.name: f.default for f in dataclasses.fields(_AlgorithmSearch)}
        changed = [
            f"{k}={v!r}"
            for k, v in self.get_params().items()
            if not (isinstance(v, type(defaults[k])) and v == defaults[k])
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_tags__(self):
        """scikit-learn's tags (only scikit-learn calls this, so importing it here is free)."""
        from sklearn.utils import ClassifierTags, RegressorTags, Tags, TargetTags

        classifier = self._problem == CLASSIFICATION
        return Tags(
            estimator_type="classifier" if classifier else "regressor",
            target_tags=TargetTags(required=True),
            classifier_tags=ClassifierTags(multi_class=True) if classifier else None,
            regressor_tags=None if classifier else RegressorTags(),
        )

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "model_")

    def __getstate__(self) -> dict:
        """Picklable: the model (an instance of an in-memory module's class) as its data."""
        from .learner import model_state

        state = dict(self.__dict__)
        if "model_" in state:
            state["model_"] = model_state(state["model_"])
        return state

    def __setstate__(self, state: dict) -> None:
        from .learner import restore_model

        state = dict(state)
        if "model_" in state:
            state["model_"] = restore_model(state["algorithm_"], self._problem, state["model_"])
        self.__dict__.update(state)

    # -- fit ----------------------------------------------------------------------------------
    def _seed(self) -> int:
        if self.random_state is None:
            return (time.time_ns() & 0x7FFFFFFF) or 1
        if isinstance(self.random_state, np.random.RandomState):
            return int(self.random_state.randint(1, 2**31 - 1))
        return int(self.random_state) & 0x7FFFFFFF

    def _run(self, tasks, seed: int) -> Any:
        from .search.data_config import data_experiment_config
        from .search.events import ProgressEvent
        from .search.experiment import run_search

        cfg = data_experiment_config(
            tasks,
            population_size=self.population_size,
            tournament_size=self.tournament_size,
            mutate_prob=self.mutate_prob,
            ops=self.ops,
            initial=resolve_initial(self.initial),
            backend=self.backend,
        )
        hall: dict[int, dict] = {}
        display = _display(self.verbose)

        def on_event(event: Any) -> None:
            if isinstance(event, ProgressEvent) and event.best_program is not None:
                _offer(hall, event.best_program, event.best_search_fitness)
            if display is not None:
                from .cli_progress import event_record

                display.show(event_record(event))

        if display is not None:
            display.start(f"{type(self).__name__}: {tasks.problem}, seed {seed}")
        try:
            result = run_search(
                cfg,
                seed=seed,
                time_limit=self.time_limit,
                max_individuals=self.max_individuals,
                islands=self.islands,
                workers=self.workers,
                flow=self.flow,
                checkpoint_every_s=None,
                on_event=on_event,
            )
        finally:
            if display is not None:
                display.stop()
        if result.best_program is not None:
            _offer(hall, result.best_program, result.search_fitness)
        self.hall_of_fame_ = [hall[k] for k in sorted(hall)]
        return result

    def _fit(self, X: np.ndarray, y: np.ndarray):
        from .export.write import simplify_program
        from .tasks.tabular import tasks_from_data

        seed = self._seed()
        tasks = tasks_from_data(
            X,
            y,
            self._problem,
            folds=self.folds,
            select_fraction=self.select_fraction,
            final_fraction=self.final_fraction,
            epochs=self.epochs,
            standardise=self.standardize,
            seed=seed,
        )
        self.data_tasks_ = tasks.summary()
        result = self._run(tasks, seed)
        if result.best_program is None:
            raise EstimatorError("the search ended before any candidate was selected")
        self.algorithm_ = simplify_program(result.best_program)
        self.seed_ = seed
        self.search_result_ = {
            "search_fitness": result.search_fitness,
            "select_fitness": result.select_fitness,
            "final_fitness": result.final_fitness,
            "individuals": result.individuals,
            "experiments": result.experiments,
            "elapsed": result.elapsed,
            "stopped": result.stopped,
        }
        self.n_features_in_ = X.shape[1]
        final = tasks.parts["final"]
        fit_rows = np.concatenate([tasks.parts["search"], tasks.parts["select"]])
        # The held-out score: trained on the non-final rows only.
        held_out = self._make_model().fit(X[fit_rows], y[fit_rows])
        self.final_metrics_ = self._metrics(held_out, X[final], y[final])
        # The model: trained on every row (and standardised with every row's mean and scale).
        self.model_ = self._make_model().fit(X, y)
        if self.standardize:
            m = self.model_
            self.standardiser_ = Standardiser(
                tuple(map(float, m.x_mean_)),
                tuple(map(float, m.x_scale_)),
                float(getattr(m, "y_mean_", 0.0)),
                float(getattr(m, "y_scale_", 1.0)),
            )
        else:
            self.standardiser_ = Standardiser.identity(X.shape[1])
        return self

    def _model_params(self) -> dict:
        from .learner import model_params

        return model_params(
            self._problem,
            epochs=self.epochs,
            random_state=self.seed_,
            standardize=self.standardize,
        )

    def _make_model(self):
        from .learner import make_model

        return make_model(self.algorithm_, self._problem, self._model_params())

    def _check_predict_X(self, X: Any) -> np.ndarray:
        checks = _input_checks()
        if not hasattr(self, "model_"):
            raise checks._sklearn_flavoured(checks.NotFittedError)(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )
        X = checks.check_X(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input."
            )
        return X

    # -- export -------------------------------------------------------------------------------
    def export(self, path: str | os.PathLike, *, parents: bool = False) -> Path:
        """Write the found algorithm as a standalone NumPy module (see README, "Exported
        modules"). `METADATA["estimator_params"]` holds the parameters this estimator's model
        uses: `AlgorithmRegressor(**METADATA["estimator_params"]).fit(X, y)` (or
        AlgorithmClassifier) in the shipped module learns and predicts as `model_` does."""
        from .export import export_algorithm

        self._check_predict_X(np.zeros((1, getattr(self, "n_features_in_", 1))))
        meta = {
            "source": type(self).__name__,
            "seed": self.seed_,
            "problem": self._problem,
            "estimator_params": self._model_params(),
            "standardiser": self.standardiser_.to_dict(),
            "classes": self.data_tasks_["classes"],
            "select_fitness": self.search_result_["select_fitness"],
            "final_fitness": self.search_result_["final_fitness"],
        }
        return export_algorithm(
            self.algorithm_, path, metadata=meta, features=self.n_features_in_, parents=parents
        )


def _offer(hall: dict[int, dict], program: Program, fitness: float | None) -> None:
    """Keep `program` if it is the fittest seen of its simplified size."""
    from .export.write import simplify_program

    if fitness is None:
        return
    simple = simplify_program(program)
    size = int(sum(simple.sizes()))
    if size not in hall or fitness > hall[size]["fitness"]:
        hall[size] = {"size": size, "fitness": float(fitness), "program": simple}


def _display(verbose: int):
    """The CLI's progress display (a live table in terminals and notebooks, plain lines
    otherwise), or None when verbose is 0."""
    if not verbose:
        return None
    from .cli_progress import Display

    interactive = sys.stdout.isatty() or "ipykernel" in sys.modules
    return Display("rich" if interactive else "plain")


class AlgorithmSearchRegressor(_AlgorithmSearch):
    """Evolve a regression algorithm on (X, y): fitness is the RMS error on the search tasks'
    validation rows (squashed to (0, 1]); the model predicts in y's units; `score` is R^2.

    Parameters: the budget (`max_individuals`, `time_limit` in seconds: whichever comes first;
    only an individual budget is deterministic), `population_size`, `tournament_size`,
    `mutate_prob`, `ops` ('baseline' = the paper's S10 op lists, 'linear' = the demo's six ops,
    or a dict of setup/predict/learn lists), `initial` (the start: 'linear' = the reference's
    linear SGD learner, 'neural_net', 'random', 'no_op'; or any algorithm as a Program, a .txt
    or .json file or a built-in algorithm's name), `epochs` (training passes, in the
    search and for the final model), `folds`, `select_fraction`, `final_fraction`,
    `standardize`, `islands`, `workers`, `flow` ('fast' or 'reference'), `backend`,
    `random_state`, `verbose` (1 = the CLI's progress display).

    Fitted attributes: `algorithm_`, `hall_of_fame_`, `n_features_in_`, `standardiser_`,
    `search_result_` (fitnesses, individuals, time), `final_metrics_` (RMSE and R^2 on the
    held-out final split, of the algorithm trained on the other rows), `seed_`.
    """

    _problem = REGRESSION
    _estimator_type = "regressor"

    def fit(self, X: Any, y: Any) -> AlgorithmSearchRegressor:
        checks = _input_checks()
        X = checks.check_X(X)
        y = checks.check_y(y, X.shape[0]).astype(np.float64)
        checks._check_finite(y, "y")
        return self._fit(X, y)

    @staticmethod
    def _metrics(model: Any, X: np.ndarray, y: np.ndarray) -> dict:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a diverged model predicts its fallback
            return regression_metrics(y, model.predict(X))

    def predict(self, X: Any) -> np.ndarray:
        X = self._check_predict_X(X)
        return self.model_.predict(X)

    def score(self, X: Any, y: Any) -> float:
        """R^2 of the predictions (scikit-learn's regression score)."""
        y = _input_checks().check_y(y, len(X)).astype(np.float64)
        return float(regression_metrics(y, self.predict(X))["r2"])


class AlgorithmSearchClassifier(_AlgorithmSearch):
    """Evolve a classification algorithm on (X, y): fitness is accuracy on the search tasks;
    the program's output s1 is a logit (the sigmoid is applied while training, as in the
    paper's binary tasks). More than two classes: one-vs-rest, one trained memory per class,
    the predicted class has the largest logit; `predict_proba` normalises the per-class
    sigmoids. Parameters and fitted attributes as `AlgorithmSearchRegressor`, plus
    `classes_`; `final_metrics_` holds the held-out accuracy.
    """

    _problem = CLASSIFICATION
    _estimator_type = "classifier"

    def fit(self, X: Any, y: Any) -> AlgorithmSearchClassifier:
        checks = _input_checks()
        X = checks.check_X(X)
        y = checks.check_y(y, X.shape[0])
        self.classes_ = checks.classes_of(y)  # scikit-learn's label checks and messages
        return self._fit(X, y)

    @staticmethod
    def _metrics(model: Any, X: np.ndarray, y: np.ndarray) -> dict:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a diverged model predicts its fallback
            return {"accuracy": accuracy(y, model.predict(X))}

    def decision_function(self, X: Any) -> np.ndarray:
        """Logits: (n,) for two classes (positive = classes_[1]), (n, classes) otherwise."""
        X = self._check_predict_X(X)
        return self.model_.decision_function(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Per-class probabilities: the sigmoid of the logit, normalised over the classes
        when there are more than two."""
        X = self._check_predict_X(X)
        return self.model_.predict_proba(X)

    def predict(self, X: Any) -> np.ndarray:
        X = self._check_predict_X(X)
        return self.model_.predict(X)

    def score(self, X: Any, y: Any) -> float:
        """Accuracy (scikit-learn's classification score)."""
        y = _input_checks().check_y(y, len(X))
        return accuracy(y, self.predict(X))
