"""The search estimators as scikit-learn citizens and as searches: check_estimator with a small
budget, Pipeline / cross_val_score / GridSearchCV, determinism for a seed, a warm start that
starts at the built-in's fitness, multi-class one-vs-rest, export, and a light import."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

from amlz_compile import AlgorithmSearchClassifier, AlgorithmSearchRegressor
from amlz_compile.algorithms import load_builtin
from amlz_compile.errors import AmlzError
from amlz_compile.export import load_module, verify_file
from amlz_compile.search.data_config import data_experiment_config
from amlz_compile.search.events import ProgressEvent
from amlz_compile.search.experiment import run_search
from amlz_compile.search.selection import evaluate_on
from amlz_compile.tasks.tabular import tasks_from_data

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"max_individuals": 200, "population_size": 20}


def problems_of(estimator) -> tuple[list[str], int]:
    """(failed, skipped or expected-to-fail checks with their message, checks run)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, on_fail=None, on_skip=None)
    problems = [
        f"{r['check_name']}: {r['status']} {str(r['exception']).strip()[:200]}"
        for r in results
        if r["status"] != "passed" or r["expected_to_fail"]
    ]
    return problems, len(results)


@pytest.mark.parametrize("cls", [AlgorithmSearchRegressor, AlgorithmSearchClassifier])
def test_check_estimator_passes_every_check(cls, monkeypatch):
    """Every check passes, none skipped or expected to fail, no poor_score tag."""
    from sklearn.utils import get_tags

    monkeypatch.setenv("SCIPY_ARRAY_API", "1")  # check_array_api_input runs instead of skipping
    est = cls(**SMALL)
    tags = get_tags(est)
    assert not (tags.regressor_tags or tags.classifier_tags).poor_score
    problems, n_checks = problems_of(est)
    assert problems == [], "\n".join(problems)
    assert n_checks >= 50


def diabetes_split():
    X, y = load_diabetes(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, random_state=0)


def test_regressor_fits_diabetes_and_reports_what_it_found():
    Xtr, Xte, ytr, yte = diabetes_split()
    est = AlgorithmSearchRegressor(max_individuals=2000, random_state=1).fit(Xtr, ytr)
    assert est.n_features_in_ == 10
    assert est.score(Xte, yte) > 0.2  # the linear start alone reaches about 0.35 here
    text = str(est.algorithm_)
    assert "def Predict():" in text and "def Learn():" in text
    assert est.hall_of_fame_ and all(e["fitness"] > 0 for e in est.hall_of_fame_)
    sizes = [e["size"] for e in est.hall_of_fame_]
    assert sizes == sorted(set(sizes))
    assert est.search_result_["individuals"] >= 2000
    assert set(est.final_metrics_) == {"rmse", "r2"}
    assert len(est.standardiser_.x_mean) == 10 and est.standardiser_.y_scale > 1.0


def test_same_seed_same_algorithm_and_predictions():
    """From random programs (so the search explores): seed 7 twice gives one algorithm and one
    set of predictions; seed 8 searches differently."""
    Xtr, Xte, ytr, _ = diabetes_split()
    params = {"max_individuals": 3000, "population_size": 50, "initial": "random"}
    a = AlgorithmSearchRegressor(random_state=7, **params).fit(Xtr, ytr)
    b = AlgorithmSearchRegressor(random_state=7, **params).fit(Xtr, ytr)
    c = AlgorithmSearchRegressor(random_state=8, **params).fit(Xtr, ytr)
    assert str(a.algorithm_) == str(b.algorithm_)
    np.testing.assert_array_equal(a.predict(Xte), b.predict(Xte))
    assert a.search_result_ == {**b.search_result_, "elapsed": a.search_result_["elapsed"]}
    assert a.search_result_["select_fitness"] != c.search_result_["select_fitness"]


def test_warm_start_from_linear_starts_at_its_fitness():
    """The first progress event (the initial population) has the built-in linear program's
    fitness on the search tasks, as the evaluator computes it."""
    Xtr, _, ytr, _ = diabetes_split()
    tasks = tasks_from_data(Xtr, ytr, "regression", seed=3)
    cfg = data_experiment_config(tasks, population_size=20, initial="linear")
    linear = evaluate_on(load_builtin("linear"), tasks.search, _memory(cfg), 0, backend="interp")
    seen = []

    def on_event(event):
        if isinstance(event, ProgressEvent):
            seen.append(event.best_search_fitness)

    result = run_search(cfg, seed=3, max_individuals=200, on_event=on_event, flow="fast")
    assert seen[0] == pytest.approx(linear, rel=1e-12)
    assert result.search_fitness >= seen[0]


def test_warm_start_from_a_program_object_or_file(tmp_path):
    """A Program (here the reference README's regressor, with its own learning rate) or an
    algorithm file starts every individual: the initial population has its fitness."""
    from amlz_compile.ir.serialize import save_program
    from amlz_compile.search.config import ConfigError

    Xtr, _, ytr, _ = diabetes_split()
    tasks = tasks_from_data(Xtr, ytr, "regression", seed=3)
    program = load_builtin("readme_linear")
    cfg = data_experiment_config(tasks, population_size=20, initial=program)
    assert cfg["search"]["initial_population"] == "no_op"
    own = evaluate_on(program, tasks.search, _memory(cfg), 0, backend="interp")
    assert own != evaluate_on(load_builtin("linear"), tasks.search, _memory(cfg), 0,
                              backend="interp")  # fmt: skip
    seen = []
    run_search(cfg, seed=3, max_individuals=100, flow="fast",
               on_event=lambda e: seen.append(getattr(e, "best_search_fitness", None)))  # fmt: skip
    assert [f for f in seen if f is not None][0] == pytest.approx(own, rel=1e-12)
    path = save_program(program, tmp_path / "start.txt")
    est = AlgorithmSearchRegressor(initial=str(path), random_state=0, **SMALL).fit(Xtr, ytr)
    assert est.search_result_["search_fitness"] > 0
    bad = dict(cfg["search"], initial_population="random")
    with pytest.raises(ConfigError, match="initial_program"):
        run_search({**cfg, "search": bad}, seed=1, max_individuals=10)


def _memory(cfg):
    from amlz_compile.search.config import memory_section

    return memory_section(cfg["search"]["memory"])


def test_in_pipeline_cross_val_score_and_grid_search():
    X, y = load_breast_cancer(return_X_y=True)
    X, y = X[::2], y[::2]
    pipe = make_pipeline(StandardScaler(), AlgorithmSearchClassifier(random_state=0, **SMALL))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.8
    grid = GridSearchCV(
        AlgorithmSearchClassifier(random_state=0, **SMALL), {"epochs": [1, 2]}, cv=2
    ).fit(X, y)
    assert grid.best_params_["epochs"] in (1, 2) and grid.best_score_ > 0.8


def test_multiclass_is_one_vs_rest_with_a_probability_per_class(tmp_path):
    X, y = load_iris(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    est = AlgorithmSearchClassifier(max_individuals=1000, random_state=0).fit(Xtr, ytr)
    assert list(est.classes_) == [0, 1, 2]
    proba = est.predict_proba(Xte)
    assert proba.shape == (len(Xte), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(est.classes_[np.argmax(proba, axis=1)], est.predict(Xte))
    assert est.decision_function(Xte).shape == (len(Xte), 3)
    assert est.score(Xte, yte) > 0.6
    assert len(est.data_tasks_["classes"]) == 3 and est.data_tasks_["select_tasks"] == 9


@pytest.mark.parametrize(
    ("cls", "loader"),
    [(AlgorithmSearchRegressor, load_diabetes), (AlgorithmSearchClassifier, load_iris)],
)
def test_export_is_a_module_that_verifies_and_learns_like_the_model(cls, loader, tmp_path):
    """The exported file passes `verify`; its estimator with METADATA["estimator_params"]
    fitted on the same rows predicts what the search estimator predicts (multi-class too)."""
    X, y = loader(return_X_y=True)
    est = cls(random_state=0, **SMALL).fit(X, y)
    path = est.export(tmp_path / "found.py")
    assert verify_file(path).ok
    module = load_module(path)
    meta = module.METADATA
    assert meta["standardiser"]["x_mean"] == list(est.standardiser_.x_mean)
    shipped = getattr(module, cls.__name__.replace("Search", ""))(**meta["estimator_params"])
    shipped.fit(X, y)
    np.testing.assert_array_equal(shipped.predict(X), est.predict(X))
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X), est.predict(X))


def test_bad_input_is_an_amlz_error():
    X = np.random.default_rng(0).normal(size=(40, 3))
    with pytest.raises(AmlzError, match="initial must be a built-in start"):
        AlgorithmSearchRegressor(initial="nonsense", **SMALL).fit(X, X[:, 0])
    with pytest.raises(AmlzError, match="n_samples = 4"):
        AlgorithmSearchRegressor(**SMALL).fit(X[:4], X[:4, 0])


def test_importing_the_package_and_the_estimators_loads_no_compiler():
    code = (
        "import sys, amlz_compile\n"
        "amlz_compile.AlgorithmSearchRegressor, amlz_compile.AlgorithmSearchClassifier\n"
        "heavy = [m for m in ('numba', 'llvmlite', 'sklearn') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=120)
