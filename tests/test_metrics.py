"""Plain metrics (metrics.py) agree with the fitness they sit next to: on one-epoch tasks the RMS
fitness is 1 - (2/pi) atan(RMSE) and the accuracy fitness is the accuracy; `amlz eval --json`
reports them per task and averaged."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from amlz_compile.algorithms import load_builtin
from amlz_compile.cli import app
from amlz_compile.evaluate import Evaluator, task_seeds
from amlz_compile.metrics import format_metrics, plain_metrics, task_metrics
from amlz_compile.tasks import build_collection


def _fitness_and_metrics(program, specs, seed=3):
    tasks = build_collection(specs)
    memory = program.required_memory(tasks[0].features)
    result = Evaluator(tasks, memory, backend="interp").evaluate_detailed(program, seed)
    return tasks, result, plain_metrics(program, tasks, memory, seed)


def test_rms_fitness_is_the_squashed_rmse_of_the_same_run():
    program = load_builtin("linear")
    spec = {"kind": "linear", "features": 4, "num_train": 200, "num_valid": 50, "num_tasks": 3}
    tasks, result, metrics = _fitness_and_metrics(program, [spec])
    assert metrics["tasks"] == 3 and metrics["failed_tasks"] == 0
    assert 0.0 < metrics["r2"] <= 1.0
    memory = program.required_memory(4)
    for task, fit, s in zip(tasks, result.per_task, task_seeds(3, 3), strict=True):
        m = task_metrics(program, task, memory, int(s))
        assert fit == pytest.approx(1.0 - (2.0 / math.pi) * math.atan(m["rmse"]), rel=1e-12)


def test_accuracy_metric_is_the_accuracy_fitness():
    program = load_builtin("linear")
    spec = {"kind": "projected_binary", "dataset": "digits", "features": 8, "num_train": 100,
            "num_valid": 60, "num_tasks": 2, "eval_type": "accuracy"}  # fmt: skip
    _, result, metrics = _fitness_and_metrics(program, [spec])
    assert metrics["accuracy"] == pytest.approx(result.fitness, rel=1e-12)
    assert format_metrics(metrics).startswith("accuracy ")


def test_eval_json_reports_metrics():
    out = CliRunner().invoke(app, ["eval", "linear", "--tasks", "linear", "--num-tasks", "2",
                                   "--train", "100", "--valid", "20", "--json"])  # fmt: skip
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert set(report["metrics"]) >= {"rmse", "r2", "tasks", "failed_tasks"}
    assert all(set(t["metrics"]) == {"rmse", "r2"} for t in report["per_task"])
    text = CliRunner().invoke(app, ["eval", "linear", "--tasks", "linear", "--num-tasks", "2"])
    assert "R^2" in text.output and "RMSE" in text.output
