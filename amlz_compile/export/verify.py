"""Verifying an export: the module's code, run in a separate Python process (`export_runner.py`)
on the embedded and fresh self-test inputs, must match the interpreter's recomputation from the
algorithm the file embeds as data (`verify_file`)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..backends.numpy_export import DIVERGENCE_FACTOR, decode_array
from .read import read_export
from .self_tests import estimator_outputs, protocol_outputs, self_test_inputs
from .write import canonical_key_of, key_version

# Relative and absolute tolerance of verify's comparisons: the interpreter and the module agree
# bit for bit on one machine, but scalar sin/exp/log/... come from the platform's libm, which can
# differ in the last place between machines.
RTOL, ATOL = 1e-9, 1e-12

VERIFY_TIMEOUT = 120.0
RUNNER = Path(__file__).parent.parent / "export_runner.py"


class _Failed(Exception):
    """The module's code did not produce outputs that can be compared."""


def _floats(value: Any, where: str) -> np.ndarray:
    """A list of float.hex strings as an array (_Failed when it is anything else)."""
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise _Failed(f"the module's outputs are malformed: {where} is not a list of floats")
    try:
        return np.array([float.fromhex(x) for x in value], dtype=np.float64)
    except (ValueError, OverflowError):
        raise _Failed(f"the module's outputs are malformed: {where}") from None


SELF_TEST_CHECKS = {
    "accepts_own": "self_test() rejects the module's own SELF_TESTS",
    "rejects_wrong_prediction": "self_test() accepts a recorded prediction that is wrong",
    "rejects_wrong_steps": "self_test() accepts a wrong recorded training-step count",
    "rejects_empty": "self_test() passes with no self-test case",
}


def _parse_outputs(text: str, inputs: list[dict]) -> tuple[list[dict], dict]:
    """The runner's JSON (per-case outputs, self_test checks), decoded and checked against the
    cases it ran (`inputs`)."""
    try:
        doc = json.loads(text)
        cases, checks = doc["cases"], doc["self_test"]
        assert isinstance(cases, list) and len(cases) == len(inputs)
        assert all(isinstance(checks[name], bool) for name in SELF_TEST_CHECKS)
        out = []
        for k, case in enumerate(cases):
            proto, est = dict(case["protocol"]), dict(case["estimator"])
            for part in (proto["train_steps"], est["train_steps"], est["stopped_early"]):
                assert isinstance(part, int)
            proto.update({f: _floats(proto[f], f"case {k} {f}") for f in ("trace", "epoch_loss")})
            fields = ["raw", "predict"]
            fields += ["decision_function", "proba"] if inputs[k]["is_accuracy"] else []
            for f in fields:
                est[f] = _floats(est[f], f"case {k} {f}")
            out.append({"protocol": proto, "estimator": est})
        return out, checks
    except (ValueError, KeyError, TypeError, AssertionError):
        raise _Failed("the module's outputs are malformed") from None


def _run_module(path: Path, cases: list[dict], timeout: float) -> tuple[list[dict], dict]:
    """Run the module's code on the cases' inputs in a separate Python (`export_runner.py`) and
    return its outputs and self_test checks; _Failed when it fails, exits early, times out or
    writes garbage."""
    with tempfile.TemporaryDirectory(prefix="amlz-verify-") as tmp:
        out = Path(tmp) / "outputs.json"
        cmd = [sys.executable, "-P", str(RUNNER), str(path.resolve()), str(out)]
        try:
            proc = subprocess.run(cmd, input=json.dumps({"cases": cases}), capture_output=True,
                                  text=True, timeout=timeout, cwd=tmp)  # fmt: skip
        except subprocess.TimeoutExpired:
            raise _Failed(f"the module's code did not finish within {timeout:g} s") from None
        if proc.returncode != 0:
            lines = proc.stderr.strip().splitlines() or ["(no message)"]
            raise _Failed(f"the module's code failed (exit {proc.returncode}): {lines[-1]}")
        if not out.is_file():
            raise _Failed("the module's code exited before producing its outputs")
        return _parse_outputs(out.read_text(encoding="utf-8", errors="replace"), cases)


# -- comparing --------------------------------------------------------------------------------


def _difference(
    got: np.ndarray, want: np.ndarray, what: str, where: str = "the module"
) -> str | None:
    """None when `got` (from `where`) matches `want` within RTOL/ATOL (NaN matches NaN), else
    a description."""
    if got.shape != want.shape:
        return f"{what} has {got.size} values, the interpreter gives {want.size}"
    with np.errstate(all="ignore"):
        close = (got == want) | (np.abs(got - want) <= ATOL + RTOL * np.abs(want))
    bad = np.flatnonzero(~(close | (np.isnan(got) & np.isnan(want))))
    if bad.size == 0:
        return None
    i = int(bad[0])
    return f"{what}[{i}] is {float(got[i])!r} in {where}, {float(want[i])!r} by the interpreter"


def _protocol_difference(got: dict, want: dict, where: str = "the module") -> str | None:
    """Compare run_protocol outputs (from `where`) with the interpreter's."""
    if got["train_steps"] != want["train_steps"]:
        steps = f"{got['train_steps']} training steps in {where}"
        return f"{steps}, {want['train_steps']} by the interpreter"
    return _difference(got["trace"], want["trace"], "run_protocol's predictions", where) or (
        _difference(got["epoch_loss"], want["epoch_loss"], "run_protocol's epoch losses", where)
    )


def _tame(want: dict, case: Mapping) -> bool:
    """True when no prediction of the estimator run diverged, so that the guarded outputs
    must equal the raw ones: none is NaN, and for the regressor none is infinite or beyond its
    divergence bound (the classifier keeps +-inf logits: certain predictions)."""
    values = np.concatenate([want["train_trace"], want["raw"]])
    if len(want["raw"]) != case["n_valid"] or np.any(np.isnan(values)):
        return False
    if case["is_accuracy"]:
        return True
    scale = max(1.0, float(np.max(np.abs(decode_array(case["train_y"])))))
    return bool(np.all(np.abs(values) <= DIVERGENCE_FACTOR * scale))


def _estimator_difference(got: dict, want: dict, case: Mapping) -> str | None:
    """Compare the estimator's fit/predict outputs with the interpreter's one-epoch run."""
    for field in ("train_steps", "stopped_early"):
        if got[field] != want[field]:
            return f"the estimator's {field} is {got[field]}, the interpreter gives {want[field]}"
    if want["stopped_early"]:
        return None
    raw = got["raw"]
    if raw.size != case["n_valid"]:
        return f"predict_raw gave {raw.size} values for {case['n_valid']} rows"
    diff = _difference(raw[: len(want["raw"])], want["raw"], "predict_raw")
    if diff or not _tame(want, case):
        finite = np.all(np.isfinite(got["predict"]))
        return diff or (None if finite else "predict returned non-finite values")
    if not case["is_accuracy"]:
        return _difference(got["predict"], want["raw"], "the regressor's predict")
    with np.errstate(over="ignore"):
        proba = 1.0 / (1.0 + np.exp(-want["raw"]))
    labels = (proba > 0.5).astype(np.float64)
    return (
        _difference(got["decision_function"], want["raw"], "decision_function")
        or _difference(got["proba"], proba, "predict_proba")
        or _difference(got["predict"], labels, "the classifier's predict")
    )


# -- verify -----------------------------------------------------------------------------------


@dataclass
class VerifyResult:
    """What `verify_file` found (`cases`: the embedded self-test cases)."""

    ok: bool
    format_version: int | None
    cases: int
    message: str
    metadata: dict
    fresh_seed: int | None = None


def verify_file(
    path: str | os.PathLike, *, fresh_seed: int | None = None, timeout: float = VERIFY_TIMEOUT
) -> VerifyResult:
    """Check that an exported module's code computes the algorithm it embeds as data.

    The file is parsed, never imported here (`read_export`). Its self-test inputs, plus three
    fresh cases drawn from `fresh_seed` (random when None, reported in the result), are run
    through the module's `run_protocol` and estimators in a subprocess, which executes the
    module's code as running any .py file does; the outputs must match the interpreter's
    recomputation from ALGORITHM_JSON within RTOL/ATOL. ExportError for a file that cannot be
    read as an export; `ok=False` for one that does not pass.
    """
    export = read_export(path)
    meta, version, n = export.metadata, export.format_version, len(export.cases)

    def result(ok: bool, message: str, seed: int | None = None) -> VerifyResult:
        return VerifyResult(ok, version, n, message, meta, seed)

    if not export.cases:
        return result(False, f"{export.path} embeds no self-test inputs")
    key = meta.get("canonical_key")
    # a key made by other simplifier rules (files without key_version: version 1) cannot be
    # recomputed; the behaviour checks below still compare the code with ALGORITHM_JSON
    same_rules = meta.get("key_version", 1) == key_version()
    if key is not None and same_rules and key != canonical_key_of(export.program):
        return result(False, "METADATA's canonical_key does not match ALGORITHM_JSON")
    sizes, actual = meta.get("sizes"), list(export.program.sizes())
    if sizes is not None and (not isinstance(sizes, list | tuple) or list(sizes) != actual):
        return result(
            False, f"METADATA's sizes {sizes!r:.40} do not match ALGORITHM_JSON's {actual}"
        )
    for k, (case, recorded) in enumerate(zip(export.cases, export.recorded, strict=True)):
        diff = _protocol_difference(recorded, protocol_outputs(export.program, case), "SELF_TESTS")
        if diff:
            return result(False, f"SELF_TESTS[{k}] records wrong outputs: {diff}")
    seed = secrets.randbelow(2**31) if fresh_seed is None else int(fresh_seed)
    fresh = self_test_inputs(1 + seed % 6, seed=seed, prefix="fresh ")
    cases = export.cases + fresh
    try:
        got, checks = _run_module(export.path, cases, timeout)
    except _Failed as exc:
        return result(False, str(exc), seed)
    for case, out in zip(cases, got, strict=True):
        diff = _protocol_difference(
            out["protocol"], protocol_outputs(export.program, case)
        ) or _estimator_difference(out["estimator"], estimator_outputs(export.program, case), case)
        if diff:
            return result(False, f"case {case['name']!r}: {diff} (fresh seed {seed})", seed)
    failed = [why for name, why in SELF_TEST_CHECKS.items() if not checks[name]]
    if failed:
        return result(False, "; ".join(failed), seed)
    msg = (
        f"{len(cases)} self-test case(s) passed ({n} embedded, {len(fresh)} fresh from seed "
        f"{seed}): the module's code, run in a subprocess, matches the interpreter"
    )
    return result(True, msg, seed)
