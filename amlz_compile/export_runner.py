"""Runs an exported module's own code on self-test inputs; started by `amlz verify` as a script
in a separate Python process (never imported by amlz).

    python -P export_runner.py MODULE.py OUTPUT.json  < inputs.json

stdin holds `{"cases": [...]}`, each case the input fields of a SELF_TESTS entry. For each case
the runner calls the module's `run_protocol`, then fits its estimator (epochs=1,
random_state=seed, max_abs_error=inf) on the case's training data and predicts its validation
rows. Last it checks that the module's `self_test()` accepts its own SELF_TESTS but rejects
altered or empty ones. It writes the results to OUTPUT.json only after all of this ran, floats
as `float.hex` strings (exact, NaN and infinities included), and exits 0. A module that fails,
exits early or writes nothing leaves no output file, which `verify` reports as a failure.

Only NumPy and the standard library are used here, like the exported module itself.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
import traceback
import warnings

import numpy as np


def decode(blob: dict) -> np.ndarray:
    """An array from its embedding (base64 of little-endian bytes, dtype and shape)."""
    raw = base64.b64decode(blob["b64"])
    return np.frombuffer(raw, dtype=blob["dtype"]).reshape(blob["shape"]).copy()


def hexes(values) -> list[str]:
    """Exact text of each float (float.hex)."""
    return [float(x).hex() for x in np.asarray(values, dtype=np.float64).reshape(-1)]


def import_by_path(path: str):
    """Import the module file under a fixed name (registered, so its classes pickle)."""
    spec = importlib.util.spec_from_file_location("amlz_verified_module", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path} is not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def protocol_outputs(module, case: dict) -> dict:
    """The module's run_protocol on the case's inputs."""
    inputs = {k: decode(v) if isinstance(v, dict) else v for k, v in case.items()}
    loss, trace, steps = module.run_protocol(inputs)
    return {"epoch_loss": hexes(loss), "trace": hexes(trace), "train_steps": int(steps)}


def estimator_outputs(module, case: dict) -> dict:
    """One epoch of the module's estimator on the training rows, then its predictions."""
    cls = module.AlgorithmClassifier if case["is_accuracy"] else module.AlgorithmRegressor
    est = cls(epochs=1, random_state=case["seed"], max_abs_error=float("inf"))
    valid_x = decode(case["valid_x"])[: case["n_valid"]]
    est.fit(decode(case["train_x"]), decode(case["train_y"]))
    out = {"train_steps": int(est.n_train_steps_), "stopped_early": bool(est.stopped_early_)}
    out["raw"] = hexes(est.predict_raw(valid_x))
    out["predict"] = hexes(est.predict(valid_x))
    if case["is_accuracy"]:
        out["decision_function"] = hexes(est.decision_function(valid_x))
        out["proba"] = hexes(est.predict_proba(valid_x)[:, 1])
    return out


def encode(arr: np.ndarray) -> dict:
    """The embedding `decode` reads (float64)."""
    data = np.ascontiguousarray(arr, dtype="<f8")
    b64 = base64.b64encode(data.tobytes()).decode("ascii")
    return {"dtype": "<f8", "shape": list(data.shape), "b64": b64}


def self_test_checks(module) -> dict:
    """Whether the module's self_test() accepts its own SELF_TESTS and rejects them with one
    recorded prediction changed, with one training-step count changed, and when empty."""
    own = list(module.SELF_TESTS)
    first = dict(own[0])
    trace = decode(first["trace"])
    if trace.size:
        trace[0] = 0.0 if trace[0] != trace[0] else trace[0] + 1.0 + abs(trace[0])
    variants = {
        "wrong_prediction": [{**first, "trace": encode(trace)}, *own[1:]] if trace.size else [],
        "wrong_steps": [{**first, "train_steps": first["train_steps"] + 1}, *own[1:]],
        "empty": [],
    }
    out = {"accepts_own": bool(module.self_test())}
    try:
        for name, cases in variants.items():
            module.SELF_TESTS = cases
            out["rejects_" + name] = not module.self_test()
    finally:
        module.SELF_TESTS = own
    return out


def main(argv: list[str]) -> int:
    module_path, output_path = argv[1], argv[2]
    cases = json.load(sys.stdin)["cases"]
    warnings.simplefilter("ignore")
    module = import_by_path(module_path)
    results = [
        {"protocol": protocol_outputs(module, c), "estimator": estimator_outputs(module, c)}
        for c in cases
    ]
    checks = self_test_checks(module)
    # `verify` reads the file only after this process exits with status 0, so a plain write
    # suffices: an interrupted one leaves a failed exit status, not a half file that is read.
    with open(output_path, "w", encoding="utf-8") as fh:
        json.dump({"cases": results, "self_test": checks}, fh)
    return 0


if __name__ == "__main__":
    try:
        code = main(sys.argv)
    except SystemExit as exc:  # the module's code called sys.exit: report it, write nothing
        print(f"the module's code called sys.exit({exc.code!r})", file=sys.stderr)
        code = 3
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.exit(code)
