"""Tasks from a user's table (tasks/tabular.py, tasks/table_file.py) and `amlz evolve --data`
end to end in a real subprocess: the splits are disjoint, the final rows never reach the search
or select tasks, the standardisation is that of the non-final rows, and select/final follow
the data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris

from amlz_compile.errors import AmlzError
from amlz_compile.search.data_config import mixed_data_note
from amlz_compile.search.experiment_config import ExperimentConfig
from amlz_compile.search.presets import get_preset
from amlz_compile.tasks import build_collection
from amlz_compile.tasks.table_file import load_table
from amlz_compile.tasks.tabular import infer_problem, tasks_from_data

ROOT = Path(__file__).resolve().parents[1]


def rows_of(spec: dict, part: str) -> set[tuple]:
    return {tuple(r) for r in spec["fixed"][f"{part}_features"]}


def test_regression_splits_are_disjoint_and_standardised_on_non_final_rows():
    X, y = load_diabetes(return_X_y=True)
    dt = tasks_from_data(X, y, "regression", folds=4, seed=0)
    parts = dt.parts
    assert sum(len(p) for p in parts.values()) == len(y)
    assert not set(parts["final"]) & (set(parts["search"]) | set(parts["select"]))
    assert not set(parts["select"]) & set(parts["search"])
    xs = dt.standardiser.transform_x(X)
    final = {tuple(r) for r in xs[parts["final"]].tolist()}
    for spec in dt.search + dt.select:
        assert not (rows_of(spec, "train") | rows_of(spec, "valid")) & final
    assert rows_of(dt.final[0], "valid") == final
    fit_rows = np.concatenate([parts["search"], parts["select"]])
    np.testing.assert_allclose(dt.standardiser.x_mean, X[fit_rows].mean(axis=0))
    assert dt.standardiser.y_mean == pytest.approx(y[fit_rows].mean())
    # K-fold: each search task validates on its own fold, the folds cover the search rows.
    valid = [rows_of(s, "valid") for s in dt.search]
    assert len(valid) == 4 and all(not (a & b) for i, a in enumerate(valid) for b in valid[i + 1 :])
    tasks = build_collection(dt.search + dt.select + dt.final)
    assert all(t.eval_type == "rms" for t in tasks)


def test_multiclass_tasks_are_one_vs_rest_for_every_class():
    X, y = load_iris(return_X_y=True)
    dt = tasks_from_data(X, y, "classification", folds=4, seed=1)
    assert dt.classes == (0, 1, 2) and dt.multiclass
    # Select: three training lengths (half, three quarters, all search rows) per class.
    assert len(dt.search) == 4 and len(dt.select) == 9 and len(dt.final) == 3
    for i, spec in enumerate(dt.select):
        labels = np.array(spec["fixed"]["valid_labels"])
        assert set(labels) == {0.0, 1.0}
        assert labels.sum() == np.sum(y[dt.parts["select"]] == i // 3)
    n_search = len(dt.parts["search"])
    assert [len(s["fixed"]["train_labels"]) for s in dt.select[:3]] == [
        n_search // 2,
        n_search,
        len(y),
    ]
    search_rows = {tuple(r) for r in dt.standardiser.transform_x(X[dt.parts["search"]]).tolist()}
    assert rows_of(dt.select[2], "train") == search_rows
    assert {t.eval_type for t in build_collection(dt.search)} == {"accuracy"}


def test_problem_inference_and_bad_tables():
    assert infer_problem(np.array([0, 1, 1, 2])) == "classification"
    assert infer_problem(np.array(["a", "b"])) == "classification"
    assert infer_problem(np.linspace(0, 1, 50)) == "regression"
    X = np.random.default_rng(0).normal(size=(30, 2))
    with pytest.raises(AmlzError, match="NaN"):
        tasks_from_data(np.where(X > 1, np.nan, X), X[:, 0], "regression")
    with pytest.raises(AmlzError, match="at least 2 classes"):
        tasks_from_data(X, np.zeros(30), "classification")
    with pytest.raises(AmlzError, match="too few"):
        tasks_from_data(X[:5], X[:5, 0], "regression", folds=4)


def test_csv_target_by_name_or_index_and_npz(tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("a,label,b\n1,x,2\n3,y,4\n5,x,6\n")
    by_name = load_table(csv, "label")
    assert by_name.feature_names == ("a", "b") and list(by_name.y) == ["x", "y", "x"]
    numeric = tmp_path / "n.csv"
    numeric.write_text("1,2,3\n4,5,6\n")
    by_index = load_table(numeric, "0")
    assert by_index.target_name == "x0" and list(by_index.y) == [1.0, 4.0]
    assert load_table(numeric).target_name == "x2"  # default: the last column
    with pytest.raises(AmlzError, match="line 2: column 'label' is not a number"):
        load_table(csv, "a")
    with pytest.raises(AmlzError, match="no column named 'c'"):
        load_table(csv, "c")
    (tmp_path / "bad.csv").write_text("a,b\n1,2\nz,3\n")
    with pytest.raises(AmlzError, match="line 3: column 'a' is not a number"):
        load_table(tmp_path / "bad.csv")
    npz = tmp_path / "t.npz"
    np.savez(npz, x=np.ones((4, 2)), y=np.arange(4))
    assert load_table(npz).x.shape == (4, 2)
    np.savez(tmp_path / "obj.npz", x=np.array([object()] * 4), y=np.arange(4))
    with pytest.raises(AmlzError):
        load_table(tmp_path / "obj.npz")


def test_a_config_mixing_data_sources_says_so():
    cfg = get_preset("projected-binary")
    assert mixed_data_note(ExperimentConfig.from_dict(cfg)) is None
    cfg["search"]["search_tasks"][0]["dataset"] = "npz"
    cfg["search"]["search_tasks"][0]["path"] = "/data/mine.npz"
    note = mixed_data_note(ExperimentConfig.from_dict(cfg))
    assert "npz" in note and "digits" in note and "select tasks" in note


def test_cli_evolve_data_csv_end_to_end(tmp_path):
    """`amlz evolve --data FILE.csv --target COL` in a real subprocess: the run's config has
    search, select and final tasks made from the file only, result.json has RMSE and R^2."""
    X, y = load_diabetes(return_X_y=True)
    table = np.column_stack([X[:200], y[:200]])
    header = ",".join([f"f{i}" for i in range(10)] + ["progression"])
    csv = tmp_path / "diabetes.csv"
    np.savetxt(csv, table, delimiter=",", header=header, comments="")
    out = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [sys.executable, "-m", "amlz_compile.cli", "evolve", "--data", str(csv),
         "--target", "progression", "--task", "regression", "--max-individuals", "500",
         "--population-size", "20", "--seed", "5", "--out", str(out), "--quiet"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "note:" not in proc.stdout + proc.stderr
    config = json.loads((out / "config.json").read_text())
    specs = config["search"]["search_tasks"] + config["select_tasks"] + config["final_tasks"]
    assert {s["kind"] for s in specs} == {"fixed"}
    assert len(config["search"]["search_tasks"]) == 4
    final_rows = [len(s["fixed"]["valid_labels"]) for s in config["final_tasks"]]
    select_rows = [len(s["fixed"]["valid_labels"]) for s in config["select_tasks"]]
    assert final_rows == [40] and select_rows == [40, 40, 40]  # 20 % each of the 200 rows
    result = json.loads((out / "result.json").read_text())
    assert set(result["final_metrics"]) >= {"rmse", "r2"}
    assert result["final_fitness"] > 0
    assert "R^2" in proc.stdout
