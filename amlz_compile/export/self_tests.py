"""The self-test cases of an export: small synthetic tasks in SELF_TESTS's encoding, and what the
reference interpreter outputs on them (what the module's `run_protocol` and estimators must give).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from ..backends.numpy_export import decode_array, encode_array
from ..ir.program import Program

# The input fields of a self-test case (SELF_TESTS entries also hold the recorded outputs).
INPUT_FIELDS = ("name", "train_x", "train_y", "orders", "n_train_steps", "valid_x", "valid_y",
                "n_valid", "is_accuracy", "max_abs_error", "seed")  # fmt: skip

MAX_SELF_TEST_FEATURES = 1024  # the vectors are embedded in the file; any F works at fit
SELF_TEST_MEMORIES = 4  # program memories alive at once while the self-tests are computed


def _task(name, F, n_train, n_valid, epochs, accuracy, seed):
    from ..tasks.base import ACCURACY, RMS_ERROR, Task

    gen = np.random.default_rng(seed)
    x = gen.normal(size=(n_train + n_valid, F))
    w = gen.normal(size=F)
    y = x @ w
    if accuracy:  # split at the training median: both classes are present whenever n_train > 1
        y = (y > np.median(y[:n_train])).astype(np.float64)
    orders = [np.arange(n_train)]
    for _ in range(1, epochs):
        orders.append(gen.permutation(orders[-1]))
    return Task(
        name,
        x[:n_train],
        y[:n_train],
        x[n_train:],
        y[n_train:],
        np.array(orders, dtype=np.int32),
        ACCURACY if accuracy else RMS_ERROR,
    )


def self_test_inputs(features: int = 4, *, seed: int = 0, prefix: str = "") -> list[dict]:
    """Inputs of the self-test cases: small regression and classification tasks at F and a
    regression task at F+1, in SELF_TESTS's encoding."""
    specs = [
        ("regression", features, False),
        ("classification", features, True),
        (f"regression-F{features + 1}", features + 1, False),
    ]
    cases = []
    for k, (name, F, accuracy) in enumerate(specs):
        task = _task(name, F, 12, 6, 2, accuracy, seed * 1000 + k)
        cases.append(
            {
                "name": prefix + name,
                "train_x": encode_array(task.train_x),
                "train_y": encode_array(task.train_y),
                "orders": encode_array(task.orders),
                "n_train_steps": int(task.max_train_examples),
                "valid_x": encode_array(task.valid_x),
                "valid_y": encode_array(task.valid_y),
                "n_valid": int(task.num_valid),
                "is_accuracy": bool(accuracy),
                "max_abs_error": 100.0,
                "seed": 1000 + 17 * k + seed,
            }
        )
    return cases


def _case_task(case: Mapping, *, one_epoch: bool = False):
    """The interpreter's Task for a case (`one_epoch`: a single epoch in natural order)."""
    from ..tasks.base import ACCURACY, RMS_ERROR, Task

    train_x = decode_array(case["train_x"])
    orders = decode_array(case["orders"])
    if one_epoch:
        orders = np.arange(train_x.shape[0], dtype=np.int32)[None, :]
    return Task(
        str(case["name"]),
        train_x,
        decode_array(case["train_y"]),
        decode_array(case["valid_x"]),
        decode_array(case["valid_y"]),
        orders,
        ACCURACY if case["is_accuracy"] else RMS_ERROR,
    )


def _run(program: Program, task, *, n_train: int, n_valid: int, seed: int, max_abs_error: float):
    """One interpreter run of `program` on `task` recording every prediction."""
    from ..backends.interp import InterpBackend

    steps = min(max(n_train, 0), task.max_train_examples)
    epochs = -(-steps // task.num_train)
    trace_len = steps + epochs * min(max(n_valid, 0), task.num_valid)
    memory = program.required_memory(task.features)
    return InterpBackend().run_task(
        program, task, memory, n_train=n_train, n_valid=n_valid, rng_seed=seed,
        max_abs_error=max_abs_error, trace_len=trace_len,
    )  # fmt: skip


def protocol_outputs(program: Program, case: Mapping) -> dict:
    """What the module's `run_protocol` must return on a case's inputs, by the interpreter:
    every prediction (`trace`), the validated epochs' losses and the training-step count."""
    run = _run(
        program,
        _case_task(case),
        n_train=int(case["n_train_steps"]),
        n_valid=int(case["n_valid"]),
        seed=int(case["seed"]),
        max_abs_error=float(case["max_abs_error"]),
    )
    loss = run.epoch_loss[: run.epochs_validated]
    return {"trace": run.trace, "epoch_loss": loss, "train_steps": int(run.train_steps)}


def estimator_outputs(program: Program, case: Mapping) -> dict:
    """What the module's estimator must give after fit(train) with epochs=1,
    random_state=seed, max_abs_error=inf: the interpreter's run of one natural-order epoch.

    `raw` holds the validation predictions (shorter than n_valid when a NaN ended the
    regression validation; None when training stopped on a NaN); `train_trace` the training
    predictions.
    """
    task = _case_task(case, one_epoch=True)
    n_valid = int(case["n_valid"])
    run = _run(program, task, n_train=task.num_train, n_valid=n_valid, seed=int(case["seed"]),
               max_abs_error=math.inf)  # fmt: skip
    stopped = run.epochs_validated == 0
    return {
        "train_steps": int(run.train_steps),
        "stopped_early": stopped,
        "train_trace": run.trace[: run.train_steps],
        "raw": None if stopped else run.trace[run.train_steps :],
    }


def make_self_tests(program: Program, features: int = 4, *, seed: int = 0) -> list[dict]:
    """Self-test cases: `self_test_inputs` with the interpreter's outputs recorded (every
    prediction, epoch loss and the training-step count)."""
    cases = []
    for case in self_test_inputs(features, seed=seed):
        out = protocol_outputs(program, case)
        cases.append(
            {
                **case,
                "trace": encode_array(out["trace"]),
                "epoch_loss": encode_array(out["epoch_loss"]),
                "train_steps": out["train_steps"],
            }
        )
    return cases
