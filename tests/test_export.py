"""The standalone NumPy export: every op rendered, bit-exact agreement with the interpreter,
self-tests that catch tampering, and estimators that work inside scikit-learn."""

from __future__ import annotations

import math
import subprocess
import sys
import types
import uuid

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amlz_compile.algorithms import load_builtin
from amlz_compile.backends import numpy_export
from amlz_compile.backends.interp import InterpBackend
from amlz_compile.backends.numpy_export import (
    RENDERINGS,
    ExportError,
    missing_renderings,
    render_instruction,
    render_module,
)
from amlz_compile.export import (
    _task,
    export_algorithm,
    export_source,
    load_module,
    make_self_tests,
    verify_file,
)
from amlz_compile.ir.ops import NUM_OPS, OPS
from amlz_compile.ir.program import Instruction, Program
from amlz_compile.passes import simplify_program
from tests.strategies import programs_with_memory

BACKEND = InterpBackend()


def module_from_source(source: str) -> types.ModuleType:
    """Execute generated source as a fresh module (what importing the file does)."""
    name = f"amlz_test_export_{uuid.uuid4().hex[:8]}"
    module = types.ModuleType(name)
    sys.modules[name] = module
    try:
        exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    finally:
        sys.modules.pop(name, None)
    return module


def interp_trace(program: Program, task, seed: int, max_abs_error: float = 100.0):
    memory = program.required_memory(task.features)
    n = task.max_train_examples + task.epochs * task.num_valid
    return BACKEND.run_task(
        program, task, memory, rng_seed=seed, max_abs_error=max_abs_error, trace_len=n
    )


def bits(values) -> list[int]:
    """Bit patterns (NaNs collapsed to one) for exact comparison."""
    out = []
    for x in np.asarray(values, dtype=np.float64):
        out.append(-1 if math.isnan(x) else int(np.float64(x).view(np.int64)))
    return out


# -- the rendering table ------------------------------------------------------------------------


def test_every_op_has_exactly_one_rendering():
    assert missing_renderings() == []
    assert sorted(RENDERINGS) == list(range(NUM_OPS))
    assert len(OPS) == NUM_OPS


def test_an_op_without_rendering_fails_loudly(monkeypatch):
    monkeypatch.delitem(RENDERINGS, 27)
    assert missing_renderings() == [27]
    with pytest.raises(ExportError, match="VECTOR_INNER_PRODUCT_OP"):
        render_instruction(27, 1, 0, 1, 0.0, 0.0, 0.0, 0.0)
    with pytest.raises(ExportError, match=r"\[27\]"):
        render_module(load_builtin("linear"))


def test_rendered_lines_are_readable_numpy():
    assert render_instruction(2, 0, 1, 3, 0, 0, 0, 0) == "s[3] = s[0] - s[1]"
    assert render_instruction(27, 1, 0, 1, 0, 0, 0, 0) == "s[1] = dot(v[1], v[0])"
    assert render_instruction(56, 0, 0, 2, 0.01, 0, 0, 0) == "s[2] = 0.01"
    ins = Instruction(63, out=1, f0=0.0, f1=0.1)
    line = render_instruction(63, 0, 0, 1, ins.act, ins.f0, ins.f1, ins.f2)
    assert line == "v[1] = gaussian_fill(rng, 0.0, f32(0.1), F)"


# -- agreement with the interpreter -------------------------------------------------------------


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(pair=programs_with_memory(max_sizes=(4, 5, 5), extreme=True), seed=st.integers(0, 2**64 - 1))
def test_exported_module_matches_interpreter_bit_for_bit(pair, seed):
    """Random programs over all 65 ops (NaN/inf/huge data included): the rendered module's
    protocol gives the interpreter's predictions, epoch losses and step counts exactly."""
    memory, program = pair
    cases = make_self_tests(program, memory.features, seed=seed % 1000)
    module = module_from_source(render_module(program, self_tests=cases))
    for case in cases:
        dec = numpy_export.decode_array
        loss, trace, steps = module.run_protocol(
            dec(case["train_x"]), dec(case["train_y"]), dec(case["orders"]),
            case["n_train_steps"], dec(case["valid_x"]), dec(case["valid_y"]), case["n_valid"],
            case["is_accuracy"], case["max_abs_error"], case["seed"],
        )  # fmt: skip
        assert steps == case["train_steps"]
        assert bits(trace) == bits(dec(case["trace"]))
        assert bits(loss) == bits(dec(case["epoch_loss"]))
    assert module.self_test(rtol=0.0, atol=0.0)


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(pair=programs_with_memory(max_sizes=(4, 5, 5)), seed=st.integers(0, 2**32))
def test_simplified_export_predicts_like_the_original_program(pair, seed):
    """export_source simplifies; its module still reproduces the ORIGINAL program's trace."""
    memory, program = pair
    module = module_from_source(export_source(program, features=memory.features))
    task = _task("t", memory.features, 9, 5, 2, bool(seed % 2), seed)
    run = interp_trace(program, task, seed)
    loss, trace, steps = module.run_protocol(
        task.train_x, task.train_y, task.orders, task.max_train_examples, task.valid_x,
        task.valid_y, task.num_valid, task.is_accuracy, 100.0, seed,
    )  # fmt: skip
    assert steps == run.train_steps
    assert bits(trace) == bits(run.trace)
    assert bits(loss) == bits(run.epoch_loss[: run.epochs_validated])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the module's DivergenceWarning
@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(pair=programs_with_memory(max_sizes=(3, 4, 4)), seed=st.integers(0, 2**32))
def test_estimator_predict_is_the_interpreters_validation_pass(pair, seed):
    """fit (one epoch) then predict_raw = the interpreter's training then validation, on a copy
    of the memory: predicting twice gives the same values and leaves the estimator unchanged.
    Where no prediction diverged, predict / decision_function return exactly those values."""
    memory, program = pair
    module = module_from_source(export_source(program, features=memory.features))
    accuracy = bool(seed % 2)
    task = _task("t", memory.features, 8, 5, 1, accuracy, seed)
    run = interp_trace(program, task, seed, max_abs_error=math.inf)
    cls = module.AlgorithmClassifier if accuracy else module.AlgorithmRegressor
    est = cls(random_state=seed, max_abs_error=math.inf)
    est.fit(task.train_x, task.train_y)
    if run.epochs_validated == 0:  # the kernel stopped on a NaN prediction
        assert est.stopped_early_
        return
    raw = est.predict_raw(task.valid_x)
    valid = run.trace[task.num_train :]  # shorter when a NaN ended the validation pass
    assert bits(raw[: len(valid)]) == bits(valid)
    assert bits(est.predict_raw(task.valid_x)) == bits(raw)
    guarded = est.decision_function(task.valid_x) if accuracy else est.predict(task.valid_x)
    if not est.diverged_ and np.all(np.abs(raw) <= est.prediction_bound_):
        assert bits(guarded) == bits(raw)
    else:
        assert np.all(np.isfinite(guarded))


# -- files, verify, fresh interpreter -----------------------------------------------------------


@pytest.fixture(scope="module")
def exported_nn(tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "nn_algo.py"
    export_algorithm(load_builtin("neural_net"), path, metadata={"seed": 7, "fitness": 0.5})
    return path


def test_metadata_and_verify(exported_nn):
    result = verify_file(exported_nn)
    assert result.ok and result.cases == 3 and result.format_version == 1
    meta = result.metadata
    assert meta["seed"] == 7 and meta["fitness"] == 0.5
    assert meta["format_version"] == numpy_export.FORMAT_VERSION
    assert len(meta["canonical_key"]) >= 16
    assert meta["sizes"] == list(simplify_program(load_builtin("neural_net")).sizes())


def test_verify_and_running_the_file_catch_a_tampered_module(exported_nn, tmp_path):
    good = subprocess.run([sys.executable, str(exported_nn)], capture_output=True, text=True)
    assert good.returncode == 0, good.stdout + good.stderr
    tampered = tmp_path / "tampered.py"
    source = exported_nn.read_text()
    assert "    s[2] = 0.01\n" in source
    tampered.write_text(source.replace("    s[2] = 0.01\n", "    s[2] = 0.011\n"))
    assert not verify_file(tampered).ok
    bad = subprocess.run([sys.executable, str(tampered)], capture_output=True, text=True)
    assert bad.returncode == 1
    assert "FAILED" in bad.stdout


def test_not_an_export_is_reported(tmp_path):
    other = tmp_path / "other.py"
    other.write_text("x = 1\n")
    assert not verify_file(other).ok
    broken = tmp_path / "broken.py"
    broken.write_text("def (:\n")
    with pytest.raises(ExportError, match="cannot be imported"):
        load_module(broken)


def test_fresh_interpreter_with_only_numpy(exported_nn):
    """Import the file in a new Python where amlz_compile and numba cannot be imported."""
    code = f"""
import sys
sys.modules['amlz_compile'] = None
sys.modules['numba'] = None
sys.modules['llvmlite'] = None
sys.modules['sklearn'] = None
sys.path.insert(0, {str(exported_nn.parent)!r})
import numpy as np
import nn_algo
X = np.random.default_rng(0).normal(size=(40, 7))
y = X[:, 0] - 2 * X[:, 3]
est = nn_algo.AlgorithmRegressor(epochs=2, random_state=3).fit(X, y)
p = est.predict(X)
assert p.shape == (40,) and np.all(np.isfinite(p))
assert nn_algo.self_test()
print("ok", nn_algo.METADATA["format_version"])
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok 1"


# -- scikit-learn -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def linear_module(tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "linear_algo.py"
    export_algorithm(load_builtin("linear"), path)
    return load_module(path)


def test_any_feature_count_at_fit_time(linear_module):
    for F in (1, 3, 11):
        X = np.random.default_rng(F).normal(size=(30, F))
        est = linear_module.AlgorithmRegressor().fit(X, X.sum(axis=1))
        assert est.n_features_in_ == F
        assert est.predict(X).shape == (30,)
        with pytest.raises(ValueError, match="features"):
            est.predict(np.zeros((2, F + 1)))


def test_params_and_clone(linear_module):
    from sklearn.base import clone, is_classifier, is_regressor

    assert is_classifier(linear_module.AlgorithmClassifier())
    assert is_regressor(linear_module.AlgorithmRegressor())

    est = linear_module.AlgorithmClassifier(epochs=3, random_state=5)
    assert est.get_params() == {"epochs": 3, "random_state": 5, "max_abs_error": None}
    assert est.set_params(epochs=4) is est and est.epochs == 4
    copy = clone(est)
    assert copy.get_params() == est.get_params() and copy is not est
    with pytest.raises(ValueError, match="invalid parameter"):
        est.set_params(learning_rate=1.0)


def test_regression_in_pipeline_and_cross_val_score(linear_module):
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0, 3.0])
    pipe = make_pipeline(StandardScaler(), linear_module.AlgorithmRegressor(epochs=5))
    scores = cross_val_score(pipe, X, y, cv=3)  # R^2
    assert scores.shape == (3,)
    assert scores.min() > 0.95


def test_classification_on_digits_in_pipeline(linear_module):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(n_class=2, return_X_y=True)  # digits 0 and 1
    clf = linear_module.AlgorithmClassifier(epochs=2, random_state=1)
    pipe = make_pipeline(StandardScaler(), clf)
    scores = cross_val_score(pipe, X, y, cv=3)  # accuracy
    assert scores.min() > 0.95
    pipe.fit(X, y)
    proba = pipe.predict_proba(X)
    assert proba.shape == (len(y), 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert set(np.unique(pipe.predict(X))) <= {0, 1}
    assert np.array_equal(pipe.predict(X), np.where(proba[:, 1] > 0.5, 1, 0))
