"""The standalone NumPy export: every op rendered, bit-exact agreement with the interpreter,
`verify` reading the file as data and catching tampered modules, `export`'s output directory,
and estimators that work inside scikit-learn."""

from __future__ import annotations

import ast
import math
import os
import re
import subprocess
import sys
import types
import uuid
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from amlz_compile.algorithms import load_builtin
from amlz_compile.backends import numpy_export
from amlz_compile.backends.interp import InterpBackend
from amlz_compile.backends.numpy_export import (
    NUMPY_FORMS,
    ExportError,
    fill_template,
    missing_renderings,
    render_instruction,
    render_module,
    rendering,
    template_source,
)
from amlz_compile.export import (
    export_algorithm,
    export_source,
    load_module,
    make_self_tests,
    read_export,
    verify_file,
)
from amlz_compile.export.self_tests import _task
from amlz_compile.ir.ops import NUM_OPS, OPS, Op
from amlz_compile.ir.program import Instruction, MemorySpec, Program
from amlz_compile.passes import KEY_VERSION, simplify_program
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


def run_case(module, case: dict):
    """(epoch losses, trace, train steps) of the module's `run_protocol` on one self-test case."""
    dec = numpy_export.decode_array
    return module.run_protocol({k: dec(v) if isinstance(v, dict) else v for k, v in case.items()})


# -- the rendering table ------------------------------------------------------------------------


def test_every_op_has_exactly_one_rendering():
    assert missing_renderings() == []
    assert len(OPS) == NUM_OPS
    for info in OPS:  # the op table's printed form, unless the NumPy line differs from it
        assert rendering(info.op) == NUMPY_FORMS.get(info.op, info.text)
        assert NUMPY_FORMS.get(info.op) != info.text  # no entry repeats the printed form
    assert rendering(Op.SCALAR_SUM_OP) == OPS[Op.SCALAR_SUM_OP].text


def test_an_op_without_rendering_fails_loudly(monkeypatch):
    """Without its NumPy form, an op whose printed form calls a name the template lacks
    (`transpose`) has no rendering: listed, and rendering or exporting it raises."""
    monkeypatch.delitem(NUMPY_FORMS, Op.MATRIX_TRANSPOSE_OP)
    assert missing_renderings() == [37]
    with pytest.raises(ExportError, match="MATRIX_TRANSPOSE_OP.*transpose"):
        render_instruction(37, 1, 0, 1, 0.0, 0.0, 0.0, 0.0)
    with pytest.raises(ExportError, match=r"\[37\]"):
        render_module(load_builtin("linear"))


# -- the template ---------------------------------------------------------------------------------


def test_template_is_importable_and_runs_the_empty_algorithm():
    """The template, imported as a module, is the exported code for an empty program: its
    protocol matches the interpreter's bit for bit (the generator imported, not copied)."""
    from amlz_compile.backends import export_template as module
    from amlz_compile.backends import export_template_estimators, export_template_selftest

    program = Program()
    cases = make_self_tests(program, 3, seed=5)
    for case in cases:
        loss, trace, steps = run_case(module, case)
        assert steps == case["train_steps"]
        assert bits(trace) == bits(numpy_export.decode_array(case["trace"]))
        assert bits(loss) == bits(numpy_export.decode_array(case["epoch_loss"]))
    assert export_template_selftest.self_test() is False  # no embedded cases in the template
    est = export_template_estimators.AlgorithmRegressor().fit([[1.0, 2.0], [3.0, 4.0]], [1.0, 2.0])
    assert est.predict([[5.0, 6.0]]).tolist() == [0.0]  # the empty algorithm predicts s[1] = 0


def test_fill_template_replaces_marked_lines_and_blocks():
    text = "a = 1  # export: a\nkeep\n# export-begin: b\nold\n# export-end: b\nend\n"
    assert fill_template(text, {"a": "a = 2", "b": "new\n"}) == "a = 2\nkeep\nnew\nend\n"
    with pytest.raises(ExportError, match="no mark"):
        fill_template(text, {"a": "", "b": "", "c": ""})
    with pytest.raises(KeyError):
        fill_template(text, {"a": ""})
    with pytest.raises(ExportError, match="not closed"):
        fill_template("# export-begin: b\nx\n", {"b": ""})


def test_export_leaves_no_template_mark():
    source = render_module(load_builtin("neural_net"))
    assert "# export" not in source and "amlz_compile" not in source.split("ALGORITHM_JSON")[1]
    assert "# export: " in template_source()


def test_rendered_lines_are_readable_numpy():
    assert render_instruction(2, 0, 1, 3, 0, 0, 0, 0) == "s[3] = s[0] - s[1]"
    assert render_instruction(27, 1, 0, 1, 0, 0, 0, 0) == "s[1] = dot(v[1], v[0])"
    assert render_instruction(56, 0, 0, 2, 0.01, 0, 0, 0) == "s[2] = 0.01"
    ins = Instruction(63, out=1, f0=0.0, f1=0.1)
    line = render_instruction(63, 0, 0, 1, ins.act, ins.f0, ins.f1, ins.f2)
    assert line == "v[1] = draws(rng.gaussian, 0.0, f32(0.1), F)"


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
        loss, trace, steps = run_case(module, case)
        assert steps == case["train_steps"]
        assert bits(trace) == bits(numpy_export.decode_array(case["trace"]))
        assert bits(loss) == bits(numpy_export.decode_array(case["epoch_loss"]))
    assert module.self_test(rtol=0.0, atol=0.0)


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(pair=programs_with_memory(max_sizes=(4, 5, 5)), seed=st.integers(0, 2**32))
def test_simplified_export_predicts_like_the_original_program(pair, seed):
    """export_source simplifies; its module still reproduces the ORIGINAL program's trace."""
    memory, program = pair
    module = module_from_source(export_source(program, features=memory.features))
    task = _task("t", memory.features, 9, 5, 2, bool(seed % 2), seed)
    run = interp_trace(program, task, seed)
    case = {"train_x": task.train_x, "train_y": task.train_y, "orders": task.orders,
            "n_train_steps": task.max_train_examples, "valid_x": task.valid_x,
            "valid_y": task.valid_y, "n_valid": task.num_valid, "is_accuracy": task.is_accuracy,
            "max_abs_error": 100.0, "seed": seed}  # fmt: skip
    loss, trace, steps = module.run_protocol(case)
    assert steps == run.train_steps
    assert bits(trace) == bits(run.trace)
    assert bits(loss) == bits(run.epoch_loss[: run.epochs_validated])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the module's DivergenceWarning
@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(pair=programs_with_memory(max_sizes=(3, 4, 4)), seed=st.integers(0, 2**32))
@example(  # the +inf logits of INF_LOGIT (seed 1: an accuracy task): kept, not the fallback
    pair=(MemorySpec(2, 1, 0, 1), Program(learn=[Instruction(6, in1=0, out=1)])), seed=1
)
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


INF_LOGIT = Program(learn=[Instruction(6, in1=0, out=1)])  # Learn: s1 = 1 / s0


@pytest.mark.parametrize("seed", [1, 3])
def test_classifier_keeps_infinite_logits_as_the_interpreter_classifies_them(seed):
    """Regression: Learn's s1 = 1 / s0 leaves s1 = +inf after a label 0, so every validation
    logit is +inf. The interpreter's accuracy pass classifies +inf as positive
    (sigmoid(inf) = 1 > 0.5); the exported classifier used to treat it as a divergence and
    return the fallback logit (0 on a balanced task: class 0). A +-inf logit is a certain
    prediction: decision_function, predict_proba and predict now follow it; only NaN logits
    get the fallback."""
    module = module_from_source(export_source(INF_LOGIT, features=1))
    task = _task("t", 1, 8, 5, 1, True, seed)
    run = interp_trace(INF_LOGIT, task, seed, max_abs_error=math.inf)
    valid = run.trace[task.num_train :]
    assert run.epochs_validated == 1 and np.all(valid == math.inf)
    est = module.AlgorithmClassifier(random_state=seed, max_abs_error=math.inf)
    est.fit(task.train_x, task.train_y)
    assert not est.diverged_
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DivergenceWarning
        assert bits(est.decision_function(task.valid_x)) == bits(valid)
        assert np.array_equal(est.predict_proba(task.valid_x)[:, 1], np.ones(len(valid)))
        assert np.array_equal(est.predict(task.valid_x), est.classes_[np.ones(len(valid), int)])
    # the interpreter's own loss: the rows whose label is not 1 are the misclassified ones
    assert run.epoch_loss[0] == np.sum(task.valid_y[: len(valid)] <= 0.5)


def test_classifier_nan_logits_still_get_the_fallback():
    program = Program(learn=[Instruction(4, in1=0, in2=0, out=1)])  # s1 = s0 / s0: 0/0 = NaN
    module = module_from_source(export_source(program, features=1))
    task = _task("t", 1, 8, 5, 1, True, 1)
    with pytest.warns(module.DivergenceWarning, match="diverged while training"):
        est = module.AlgorithmClassifier(random_state=1).fit(task.train_x, task.train_y)
    assert np.any(np.isnan(est.predict_raw(task.valid_x)))
    with pytest.warns(module.DivergenceWarning, match="NaN logits"):
        guarded = est.decision_function(task.valid_x)
    assert np.all(guarded == est.fallback_)


# -- files, verify, fresh interpreter -----------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def exported_nn(tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "nn_algo.py"
    export_algorithm(load_builtin("neural_net"), path, metadata={"seed": 7, "fitness": 0.5})
    return path


def run_file(path: Path) -> subprocess.CompletedProcess:
    """`python FILE` in a fresh interpreter."""
    return subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120)


def amlz(*args: str) -> subprocess.CompletedProcess:
    """The `amlz` command of this tree in a real subprocess."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "amlz_compile.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def replace_constant(source: str, name: str, value_source: str) -> str:
    """`source` with the top-level `name = ...` statement replaced by `name = value_source`."""
    node = next(
        n for n in ast.parse(source).body
        if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", None) == name
    )  # fmt: skip
    lines = source.splitlines(keepends=True)
    new = f"{name} = {value_source}\n"
    return "".join(lines[: node.lineno - 1] + [new] + lines[node.end_lineno :])


def edit(source: str, old: str, new: str) -> str:
    assert source.count(old) == 1, old
    return source.replace(old, new)


def test_metadata_and_verify(exported_nn):
    result = verify_file(exported_nn)
    assert result.ok, result.message
    assert result.cases == 3 and result.format_version == numpy_export.FORMAT_VERSION == 2
    assert "6 self-test case(s) passed" in result.message
    meta = result.metadata
    assert meta["seed"] == 7 and meta["fitness"] == 0.5
    assert meta["format_version"] == numpy_export.FORMAT_VERSION
    assert len(meta["canonical_key"]) >= 16
    assert meta["sizes"] == list(simplify_program(load_builtin("neural_net")).sizes())


def test_the_algorithm_is_embedded_as_data(exported_nn):
    """ALGORITHM_JSON parses back (without running the file) to the exported program."""
    export = read_export(exported_nn)
    assert export.program == simplify_program(load_builtin("neural_net"))
    assert len(export.cases) == len(export.recorded) == 3
    assert export.cases[0]["name"] == "regression"


def test_verify_runs_the_file_only_in_a_subprocess(exported_nn, tmp_path):
    """A file whose import has a side effect: the effect happens in another process, and the
    verifying process never imports it."""
    marker = tmp_path / "imported_by"
    source = edit(
        exported_nn.read_text(),
        "import warnings\n",
        f"import warnings\nimport os\nopen({str(marker)!r}, 'w').write(str(os.getpid()))\n",
    )
    path = tmp_path / "side_effect.py"
    path.write_text(source)
    modules = set(sys.modules)
    assert verify_file(path).ok  # the computation is intact
    assert int(marker.read_text()) != os.getpid()
    assert not [m for m in set(sys.modules) - modules if "side_effect" in m]


# Each tampering keeps a loadable file; verify must FAIL on it.
PREDICT_LINE = "    s[1] = dot(v[5], v[1])\n"
LEARN_LINE = "    s[4] = s[0] - s[1]\n"
TAMPERINGS = {
    "sys.exit(0) at the top": (
        "from __future__ import annotations\n",
        "from __future__ import annotations\nimport sys\nsys.exit(0)\n",
        "called sys.exit(0)",
    ),
    "os._exit(0) at import": (
        "import warnings\n",
        "import warnings\nimport os\nos._exit(0)\n",
        "exited before producing its outputs",
    ),
    "self_test returns True": (
        "def self_test(rtol=1e-9, atol=1e-12, verbose=False):\n",
        "def self_test(rtol=1e-9, atol=1e-12, verbose=False):\n    return True\n",
        "self_test() accepts a recorded prediction that is wrong",
    ),
    "a constant in setup": (
        "    s[2] = 0.01\n",
        "    s[2] = 0.011\n",
        "run_protocol's predictions",
    ),
    "a constant in predict": (
        PREDICT_LINE,
        "    s[1] = 1.000001 * dot(v[5], v[1])\n",
        "predictions",
    ),
    "a constant in learn": (LEARN_LINE, "    s[4] = s[0] - 1.0001 * s[1]\n", "predictions"),
    "METADATA's sizes": ("'sizes': [3, 5, 11]", "'sizes': [3, 5, 1]", "METADATA's sizes"),
    "an error at import": (
        "import warnings\n",
        "import warnings\nraise RuntimeError('broken on purpose')\n",
        "broken on purpose",
    ),
    "garbage outputs": (
        "import warnings\n",
        "import warnings\nimport os\nopen(sys.argv[2], 'w').write('garbage')\nos._exit(0)\n",
        "malformed",
    ),
    "outputs without the classifier's fields": (
        "import warnings\n",
        "import warnings\nimport json, os\nfrom pathlib import Path\n"
        "c = {'protocol': {'trace': [], 'epoch_loss': [], 'train_steps': 0},"
        " 'estimator': {'train_steps': 0, 'stopped_early': False, 'raw': [], 'predict': []}}\n"
        "checks = dict.fromkeys(['accepts_own', 'rejects_wrong_prediction',"
        " 'rejects_wrong_steps', 'rejects_empty'], True)\n"
        "doc = {'cases': [c] * 6, 'self_test': checks}\n"  # 3 embedded and 3 fresh cases
        "Path(sys.argv[2]).write_text(json.dumps(doc))\nos._exit(0)\n",
        "malformed",
    ),
}


@pytest.mark.parametrize("what", list(TAMPERINGS))
def test_verify_fails_a_tampered_module(exported_nn, tmp_path, what):
    old, new, expected = TAMPERINGS[what]
    path = tmp_path / "tampered.py"
    path.write_text(edit(exported_nn.read_text(), old, new))
    result = verify_file(path)
    assert not result.ok
    assert expected in result.message, result.message


def test_verify_fails_when_the_file_records_its_own_wrong_outputs(exported_nn, tmp_path):
    """Changed code plus SELF_TESTS outputs recomputed by that changed code: `python FILE` is
    fooled, verify is not (it recomputes the outputs from ALGORITHM_JSON)."""
    source = edit(exported_nn.read_text(), PREDICT_LINE, "    s[1] = 1.000001 * dot(v[5], v[1])\n")
    module = module_from_source(source)
    recorded = []
    for case in module.SELF_TESTS:
        loss, trace, steps = run_case(module, case)
        enc = numpy_export.encode_array
        recorded.append(
            {**case, "trace": enc(trace), "epoch_loss": enc(loss), "train_steps": steps}
        )
    path = tmp_path / "self_consistent.py"
    path.write_text(replace_constant(source, "SELF_TESTS", repr(recorded)))
    assert run_file(path).returncode == 0  # the file's own check passes
    result = verify_file(path)
    assert not result.ok and "SELF_TESTS[0] records wrong outputs" in result.message


def test_verify_fails_a_module_that_replays_its_recorded_vectors(exported_nn, tmp_path):
    """Changed predict code, and a run_protocol that returns the recorded outputs for the
    embedded inputs: the fresh inputs and the estimators expose it."""
    source = edit(exported_nn.read_text(), PREDICT_LINE, "    s[1] = 1.000001 * dot(v[5], v[1])\n")
    replay = """
_computed_run_protocol = run_protocol


def run_protocol(inputs):
    for case in SELF_TESTS:
        if case["seed"] == inputs["seed"]:
            print(case["trace"], case["epoch_loss"])
            loss, trace = _decode(case["epoch_loss"]), _decode(case["trace"])
            return list(loss), list(trace), case["train_steps"]
    return _computed_run_protocol(inputs)


if __name__ == "__main__":"""
    path = tmp_path / "replay.py"
    path.write_text(edit(source, '\nif __name__ == "__main__":', replay))
    assert run_file(path).returncode == 0  # the file's own check passes
    result = verify_file(path, fresh_seed=3)
    assert not result.ok
    assert "fresh" in result.message or "predict_raw" in result.message, result.message


def test_verify_fails_wrong_recorded_outputs(exported_nn, tmp_path):
    """Only SELF_TESTS's recorded outputs changed (the code is intact): both verify and
    `python FILE` fail."""
    tests = read_export(exported_nn).recorded
    source = exported_nn.read_text()
    blob = numpy_export.encode_array(tests[0]["trace"])["b64"]
    wrong = numpy_export.encode_array(tests[0]["trace"] + 1e-6)["b64"]
    path = tmp_path / "wrong_outputs.py"
    path.write_text(edit(source, blob, wrong))
    result = verify_file(path)
    assert not result.ok and "records wrong outputs" in result.message
    assert run_file(path).returncode == 1


def test_empty_self_tests_fail_verify_and_running_the_file(exported_nn, tmp_path):
    path = tmp_path / "empty.py"
    path.write_text(replace_constant(exported_nn.read_text(), "SELF_TESTS", "[]"))
    result = verify_file(path)
    assert not result.ok and "embeds no self-test inputs" in result.message
    ran = run_file(path)
    assert ran.returncode == 1 and "no self-test vectors" in ran.stdout


def test_running_the_file_checks_its_vectors(exported_nn, tmp_path):
    good = run_file(exported_nn)
    assert good.returncode == 0, good.stdout + good.stderr
    tampered = tmp_path / "tampered.py"
    tampered.write_text(edit(exported_nn.read_text(), "    s[2] = 0.01\n", "    s[2] = 0.011\n"))
    bad = run_file(tampered)
    assert bad.returncode == 1
    assert "FAILED" in bad.stdout


def test_verify_fails_on_a_timeout(exported_nn, tmp_path):
    path = tmp_path / "slow.py"
    path.write_text(edit(exported_nn.read_text(), "import warnings\n",
                         "import warnings\nimport time\ntime.sleep(60)\n"))  # fmt: skip
    result = verify_file(path, timeout=2)
    assert not result.ok and "did not finish within 2 s" in result.message


def test_verify_fails_when_the_embedded_algorithm_is_not_the_code(exported_nn, tmp_path):
    """ALGORITHM_JSON changed, code intact: the metadata key and the behaviour disagree."""
    source = exported_nn.read_text()
    path = tmp_path / "other_algorithm.py"
    path.write_text(edit(source, "    '    [56, 0, 0, 2, 0.01, ", "    '    [56, 0, 0, 2, 0.02, "))
    assert not verify_file(path).ok
    no_key = source.replace("'canonical_key'", "'was_canonical_key'")
    path.write_text(edit(no_key, "    '    [56, 0, 0, 2, 0.01, ", "    '    [56, 0, 0, 2, 0.02, "))
    result = verify_file(path)
    assert not result.ok and "predictions" in result.message


def test_verify_checks_the_key_only_when_it_was_made_by_the_same_simplifier_rules(
    exported_nn, tmp_path
):
    """A key made by other canonical-key rules (no key_version: the rules before version 2)
    cannot be recomputed: verify skips it and still checks the behaviour."""
    source = exported_nn.read_text()
    assert f"'key_version': {KEY_VERSION}," in source
    key = re.search(r"'canonical_key': '([0-9a-f]+)'", source).group(1)
    other_key = source.replace(key, "0" * len(key))
    path = tmp_path / "old_rules.py"
    path.write_text(other_key)
    result = verify_file(path)
    assert not result.ok and "canonical_key" in result.message
    path.write_text(other_key.replace(f"'key_version': {KEY_VERSION},", ""))
    assert verify_file(path).ok


REFUSALS = {
    "non-literal SELF_TESTS": (
        lambda s: replace_constant(s, "SELF_TESTS", "[dict(name='x')]"),
        "SELF_TESTS (line",
    ),
    "non-literal ALGORITHM_JSON": (
        lambda s: replace_constant(s, "ALGORITHM_JSON", "open('algo.json').read()"),
        "ALGORITHM_JSON (line",
    ),
    "SELF_TESTS assigned twice": (lambda s: s + "\nSELF_TESTS = []\n", "more than once"),
    "SELF_TESTS bound by a function": (
        lambda s: s + "\ndef SELF_TESTS():\n    pass\n",
        "more than once",
    ),
    "format 1": (
        lambda s: replace_constant(
            replace_constant(s, "FORMAT_VERSION", "1"), "ALGORITHM_JSON", "None"
        ),
        "verify needs format 2",
    ),
    "a newer format": (lambda s: replace_constant(s, "FORMAT_VERSION", "3"), "reads format 2"),
    "a malformed case": (
        lambda s: replace_constant(s, "SELF_TESTS", "[{'name': 'x'}]"),
        "SELF_TESTS[0] lacks",
    ),
    "not Python": (lambda s: s + "\ndef (:\n", "not valid Python"),
    "no FORMAT_VERSION": (lambda s: "x = 1\n", "not an amlz export"),
}


@pytest.mark.parametrize("what", list(REFUSALS))
def test_verify_refuses_what_it_cannot_read_as_data(exported_nn, tmp_path, what):
    change, expected = REFUSALS[what]
    path = tmp_path / "refused.py"
    path.write_text(change(exported_nn.read_text()))
    with pytest.raises(ExportError, match=re.escape(expected)):
        verify_file(path)


def test_load_module_reports_a_broken_file(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("def (:\n")
    with pytest.raises(ExportError, match="cannot be imported"):
        load_module(broken)
    with pytest.raises(ExportError, match="no such file"):
        verify_file(tmp_path / "missing.py")


def test_verify_command_exit_codes(exported_nn, tmp_path):
    """`amlz verify` in a real subprocess: 0 and an `ok:` line for a good file, 1 and one
    `FAILED:` line for a tampered one, 1 and one `error:` line for one it cannot read."""
    good = amlz("verify", str(exported_nn))
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.startswith("ok: 6 self-test case(s) passed")
    tampered = tmp_path / "tampered.py"
    tampered.write_text(edit(exported_nn.read_text(), LEARN_LINE, "    s[4] = s[0]\n"))
    bad = amlz("verify", str(tampered))
    assert bad.returncode == 1
    assert [line[:7] for line in bad.stdout.splitlines()] == ["FAILED:"]
    refused = tmp_path / "refused.py"
    refused.write_text(replace_constant(exported_nn.read_text(), "SELF_TESTS", "list()"))
    err = amlz("verify", str(refused))
    assert err.returncode == 1 and "Traceback" not in err.stderr
    assert [line[:6] for line in err.stderr.splitlines()] == ["error:"]
    assert "not a literal constant" in err.stderr


def test_export_needs_an_existing_directory_unless_parents(tmp_path):
    target = tmp_path / "nope" / "dir" / "x.py"
    refused = amlz("export", "linear", "-o", str(target))
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.splitlines() == [
        f"error: the directory {target.parent} does not exist; --parents creates it"
    ]
    assert not (tmp_path / "nope").exists()
    made = amlz("export", "linear", "-o", str(target), "--parents")
    assert made.returncode == 0, made.stderr
    assert target.is_file() and verify_file(target).ok
    with pytest.raises(ExportError, match="does not exist"):
        export_algorithm(load_builtin("linear"), tmp_path / "other" / "x.py")
    assert not (tmp_path / "other").exists()
    assert export_algorithm(load_builtin("linear"), tmp_path / "a" / "b.py", parents=True).is_file()


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
    assert out.stdout.strip() == "ok 2"


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
    assert est.get_params() == {
        "epochs": 3,
        "random_state": 5,
        "max_abs_error": None,
        "standardize": False,
        "independent_rows": False,
        "one_vs_rest": False,
    }
    assert set(linear_module.AlgorithmRegressor().get_params()) == {
        "epochs", "random_state", "max_abs_error", "standardize", "independent_rows"
    }  # fmt: skip
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


def test_standardize_independent_rows_and_one_vs_rest(linear_module):
    """standardize=True learns on scaled data and stores the scale; independent rows make a
    row's prediction the same alone or in a batch; one_vs_rest takes three classes."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 3)) * [1.0, 100.0, 0.01] + [5.0, -300.0, 0.0]
    y = X @ np.array([1.0, 0.01, 100.0]) + 7.0
    reg = linear_module.AlgorithmRegressor(epochs=5, standardize=True, independent_rows=True)
    reg.fit(X, y)
    np.testing.assert_allclose(reg.x_mean_, X.mean(axis=0))
    assert reg.y_mean_ == pytest.approx(y.mean())
    assert reg.score(X, y) > 0.9
    alone = np.array([reg.predict(X[i : i + 1])[0] for i in range(10)])
    np.testing.assert_array_equal(alone, reg.predict(X[:10]))
    labels = np.argmax((X - X.mean(axis=0)) / X.std(axis=0), axis=1)  # 3 directions
    clf = linear_module.AlgorithmClassifier(epochs=3, standardize=True, one_vs_rest=True)
    clf.fit(X, labels)
    assert list(clf.classes_) == [0, 1, 2] and clf.decision_function(X).shape == (120, 3)
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0)
    assert clf.score(X, labels) > 0.7
    with pytest.raises(ValueError, match="Only binary classification"):
        linear_module.AlgorithmClassifier().fit(X, labels)
