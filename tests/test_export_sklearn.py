"""The exported estimators as scikit-learn citizens: `check_estimator` passes for both of them
on real exported modules, diverging algorithms warn and return defined predictions, and the
exported file imports only NumPy and the standard library."""

from __future__ import annotations

import ast
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.utils.estimator_checks import check_estimator

from amlz_compile.algorithms import load_builtin
from amlz_compile.export import export_algorithm, load_module
from amlz_compile.ir.program import Instruction, Program


@pytest.fixture(scope="module")
def modules(tmp_path_factory):
    """Exported modules of the built-in `linear` and `neural_net`, written to files and loaded
    from their paths (registered in sys.modules, so their estimators pickle)."""
    out = {}
    for name in ("linear", "neural_net"):
        path = tmp_path_factory.mktemp("sk") / f"{name}_algo.py"
        out[name] = load_module(export_algorithm(load_builtin(name), path))
    return out


def estimator_check_problems(estimator) -> tuple[list[str], int]:
    """(problems, checks run): each failed, expected-to-fail or skipped check of
    `check_estimator` with its message (pandas, in the test extra, runs the pandas variants)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, on_fail=None, on_skip=None)
    problems = []
    for r in results:
        message = str(r["exception"]).strip().splitlines()[:1]
        if r["status"] != "passed" or r["expected_to_fail"]:
            problems.append(f"{r['check_name']}: {r['status']} {message}")
    return problems, len(results)


# neural_net needs 3 epochs to reach the R^2 > 0.5 that check_regressors_train asks of a
# regressor on its dataset (one epoch of SGD at learning rate 0.01 reaches 0.30); clone keeps
# the parameter.
CASES = [
    ("linear", "AlgorithmRegressor", {}),
    ("linear", "AlgorithmClassifier", {}),
    ("neural_net", "AlgorithmRegressor", {"epochs": 3}),
    ("neural_net", "AlgorithmClassifier", {}),
    # What the search estimators use: standardised inputs, rows predicted independently,
    # one-vs-rest for more than two classes (check_estimator then runs its multi-class checks).
    ("linear", "AlgorithmRegressor", {"standardize": True, "independent_rows": True}),
    (
        "linear",
        "AlgorithmClassifier",
        {"standardize": True, "independent_rows": True, "one_vs_rest": True},
    ),  # fmt: skip
]


@pytest.mark.parametrize(("algorithm", "estimator", "params"), CASES)
def test_check_estimator_passes(modules, monkeypatch, algorithm, estimator, params):
    """Every check of scikit-learn's check_estimator passes; none is skipped or expected to
    fail. SCIPY_ARRAY_API=1 makes check_array_api_input run instead of skipping."""
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    est = getattr(modules[algorithm], estimator)(**params)
    problems, n_checks = estimator_check_problems(est)
    assert problems == [], "\n".join(problems)
    assert n_checks >= 50


def test_binary_classifier_declares_itself_binary_only(modules):
    from sklearn.utils import get_tags

    assert get_tags(modules["linear"].AlgorithmClassifier()).classifier_tags.multi_class is False
    X = np.random.default_rng(0).normal(size=(30, 3))
    with pytest.raises(ValueError, match="Only binary classification is supported"):
        modules["linear"].AlgorithmClassifier().fit(X, np.arange(30) % 3)


def test_errors_are_scikit_learns_when_it_is_loaded(modules):
    """NotFittedError and DataConversionWarning are the module's own classes and, with
    scikit-learn imported, also scikit-learn's."""
    from sklearn.exceptions import DataConversionWarning, NotFittedError

    mod = modules["linear"]
    X = np.random.default_rng(1).normal(size=(20, 2))
    with pytest.raises(mod.NotFittedError) as info:
        mod.AlgorithmRegressor().predict(X)
    assert isinstance(info.value, NotFittedError)
    assert isinstance(info.value, AttributeError) and isinstance(info.value, ValueError)
    with pytest.warns(DataConversionWarning, match="column-vector y") as record:
        mod.AlgorithmRegressor().fit(X, X[:, :1])
    assert isinstance(record[0].message, mod.DataConversionWarning)


def test_valid_float64_input_is_used_as_is(modules):
    """Validation returns a finite float64 2-D array itself (no copy, no change)."""
    mod = modules["linear"]
    X = np.asfortranarray(np.random.default_rng(2).normal(size=(5, 3)))
    assert mod.check_X(X) is X


def test_invalid_input_messages(modules):
    mod = modules["linear"]
    est = mod.AlgorithmRegressor().fit(np.ones((4, 2)), np.arange(4.0))
    for X, message in (
        ([[1.0, float("nan")]], "Input X contains NaN"),
        ([[1.0, float("inf")]], "Input X contains infinity"),
        ([1.0, 2.0], "Reshape your data"),
        (np.ones((3, 1)), "X has 1 features, but AlgorithmRegressor is expecting 2"),
        (np.ones((0, 2)), r"0 sample\(s\)"),
        (np.ones((2, 2)) * 1j, "Complex data not supported"),
    ):
        with pytest.raises(ValueError, match=message):
            est.predict(X)
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        mod.AlgorithmClassifier().fit(np.ones((4, 2)), [0.5, 1.5, 2.5, 3.5])
    with pytest.raises(ValueError, match="target y is None"):
        mod.AlgorithmRegressor().fit(np.ones((4, 2)), None)


def test_sparse_input_is_rejected_without_scipy_in_the_module(modules):
    """scipy.sparse input: TypeError naming sparse data; the module recognises it by its
    attributes and never imports scipy."""
    from scipy import sparse

    mod = modules["linear"]
    X = sparse.csr_array(np.eye(4))
    with pytest.raises(TypeError, match="Sparse data was passed for X"):
        mod.AlgorithmRegressor().fit(X, np.arange(4.0))
    assert "scipy" not in mod.__dict__ and "sparse" not in mod.__dict__


# -- divergence -----------------------------------------------------------------------------------


def test_diverging_regressor_warns_and_predicts_the_training_mean(modules):
    """SGD at learning rate 0.01 on the unscaled diabetes features (values up to ~300)
    diverges: the raw predictions are NaN, huge in the first steps. fit and predict warn; the
    predictions are the training-target mean."""
    mod = modules["linear"]
    X, y = load_diabetes(return_X_y=True, scaled=False)
    with pytest.warns(mod.DivergenceWarning, match="diverged while training"):
        est = mod.AlgorithmRegressor(epochs=2).fit(X, y)
    assert est.diverged_
    assert not np.all(np.isfinite(est.predict_raw(X)))
    with pytest.warns(mod.DivergenceWarning, match="442 of 442 predictions diverged"):
        pred = est.predict(X)
    assert np.all(np.isfinite(pred)) and np.all(pred == np.mean(y))
    with pytest.warns(mod.DivergenceWarning):
        assert est.score(X, y) == pytest.approx(0.0, abs=1e-12)


def test_finite_blow_up_is_divergence_too(modules):
    """On 3 unscaled rows the predictions stay finite but reach ~5e10, far beyond
    DIVERGENCE_FACTOR times the targets: those rows get the training mean, with a warning."""
    mod = modules["linear"]
    X, y = load_diabetes(return_X_y=True, scaled=False)
    est = mod.AlgorithmRegressor().fit(X[:3], y[:3])
    raw = est.predict_raw(X)
    assert np.all(np.isfinite(raw)) and np.max(np.abs(raw)) > est.prediction_bound_
    with pytest.warns(mod.DivergenceWarning):
        pred = est.predict(X)
    big = np.abs(raw) > est.prediction_bound_
    assert np.all(pred[big] == np.mean(y[:3])) and np.all(pred[~big] == raw[~big])


def test_a_converging_regressor_does_not_warn(modules):
    mod = modules["linear"]
    X, y = load_diabetes(return_X_y=True)  # scaled features
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = mod.AlgorithmRegressor(epochs=3).fit(X, y)
        pred = est.predict(X)
    assert not est.diverged_ and np.array_equal(pred, est.predict_raw(X))


def test_diverging_classifier_predicts_the_majority_class(tmp_path):
    """A Predict that computes s1 = s0 / s0 = NaN: fit warns, every prediction is the
    majority class of the training labels, probabilities are its training share."""
    program = Program(predict=[Instruction(4, in1=0, in2=0, out=1)])
    mod = load_module(export_algorithm(program, tmp_path / "nan_algo.py", simplify=False))
    X, y = load_breast_cancer(return_X_y=True)
    with pytest.warns(mod.DivergenceWarning, match="diverged while training"):
        clf = mod.AlgorithmClassifier().fit(X, y)
    majority = np.bincount(y).argmax()
    with pytest.warns(mod.DivergenceWarning):
        assert np.all(clf.predict(X) == majority)
    with pytest.warns(mod.DivergenceWarning):
        proba = clf.predict_proba(X)
    assert np.allclose(proba[:, 1], np.mean(y == clf.classes_[1]))


# -- the file's imports ---------------------------------------------------------------------------


def test_exported_file_imports_only_numpy_and_the_standard_library(modules):
    """Module-level imports: NumPy and the standard library only. The one nested import is
    scikit-learn's tags inside __sklearn_tags__ (only scikit-learn calls it)."""
    tree = ast.parse(Path(modules["linear"].__file__).read_text(encoding="utf-8"))
    allowed = set(sys.stdlib_module_names) | {"__future__", "numpy"}
    top, nested = [], []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            (top if node in tree.body else nested).extend(n.split(".")[0] for n in names)
    assert top and set(top) <= allowed, top
    assert nested == ["sklearn"]
    tags = next(
        n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "__sklearn_tags__"
    )
    assert any(isinstance(n, ast.ImportFrom) for n in ast.walk(tags))
