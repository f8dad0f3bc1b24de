"""The `amlz` command line end to end: real subprocesses for evolve / resume / export / a fresh
interpreter, Typer's CliRunner for the rest, and every user error as one line with exit 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from amlz_compile.cli import app
from amlz_compile.ir.serialize import load_program_meta
from amlz_compile.ir.text import format_program

ROOT = Path(__file__).resolve().parents[1]
RUNNER = CliRunner()

# A tiny demo search: 2 search tasks, population 20, about 100 individuals, small select and
# final task sets, one experiment.
TINY = [
    "--preset", "demo", "--population-size", "20", "--max-train-steps", "20000",
    "--max-experiments", "1", "--checkpoint-every", "0.5",
    "--set", "search.search_tasks.0.num_tasks=2",
    "--set", 'select_tasks=[{"kind": "linear", "features": 4, "num_train": 100, '
             '"num_valid": 20, "num_tasks": 3}]',
    "--set", 'final_tasks=[{"kind": "linear", "features": 4, "num_train": 100, '
             '"num_valid": 20, "num_tasks": 3, "data_seeds": [1000000]}]',
]  # fmt: skip


def amlz(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run `amlz` in a real subprocess (python -m amlz_compile.cli)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [sys.executable, "-m", "amlz_compile.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
    )
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def invoke(*args: str):
    return RUNNER.invoke(app, list(args))


def assert_user_error(result, *fragments: str) -> None:
    """One `error: ...` line, exit 1, no traceback."""
    text = result.output + (result.stderr if hasattr(result, "stderr") else "")
    assert result.exit_code == 1, text
    assert "Traceback" not in text
    assert "error:" in text
    for frag in fragments:
        assert frag in text, text
    assert result.exception is None or isinstance(result.exception, SystemExit)


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# -- evolve, resume, show, export, verify: the main path ----------------------------------------


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """An evolve run, interrupted by --max-individuals, resumed to that budget (where it
    already is), then with a larger one to its end (subprocesses)."""
    out = tmp_path_factory.mktemp("runs") / "tiny"
    first = amlz("evolve", *TINY, "--seed", "5", "--max-individuals", "40", "--out", str(out),
                 "--json")  # fmt: skip
    records = json_lines(first.stdout)
    same = json_lines(amlz("resume", str(out), "--json").stdout)
    assert same[-1]["stopped"] == "max_individuals", same[-1]
    assert same[-1]["individuals"] == records[-1]["individuals"]
    second = amlz("resume", str(out), "--max-individuals", "1000000000", "--json")
    return out, records, json_lines(second.stdout)


def test_evolve_writes_the_run_directory(finished_run):
    out, records, _ = finished_run
    kinds = [r["kind"] for r in records]
    assert kinds[0] == "progress" and kinds[-1] == "result"
    assert "new_best" in kinds and "checkpoint" in kinds and "finished" in kinds
    progress = [r for r in records if r["kind"] == "progress"]
    for key in ("individuals", "individuals_per_s", "fec_hit_rate", "dedup_hit_rate",
                "best_search_fitness", "elapsed", "remaining", "islands"):  # fmt: skip
        assert key in progress[-1]
    assert records[-1]["stopped"] == "max_individuals"
    for name in ("run.json", "config.json", "progress.jsonl", "best.txt", "best.json",
                 "hall_of_fame.json", "hall_of_fame.txt", "result.json"):  # fmt: skip
        assert (out / name).is_file(), name
    assert (out / "checkpoints" / "checkpoint.json").is_file()
    config = json.loads((out / "config.json").read_text())
    assert config["search"]["population_size"] == 20
    assert json.loads((out / "run.json").read_text())["seed"] == 5


def test_best_files_agree_and_hall_of_fame_is_per_size(finished_run):
    out = finished_run[0]
    text_prog, text_meta = load_program_meta(out / "best.txt")
    json_prog, json_meta = load_program_meta(out / "best.json")
    assert text_prog == json_prog
    assert text_meta["fitness"] == json_meta["fitness"] == json_meta["select_fitness"]
    assert json_meta["seed"] == 5 and len(json_meta["canonical_key"]) >= 16
    entries = json.loads((out / "hall_of_fame.json").read_text())["entries"]
    sizes = [e["size"] for e in entries]
    assert sizes == sorted(set(sizes)) and entries


def test_resume_continues_exactly_like_an_uninterrupted_run(finished_run, tmp_path):
    out, _, resumed = finished_run
    assert resumed[-1]["kind"] == "result"
    assert resumed[-1]["stopped"] == "max_experiments"
    log_kinds = [r["kind"] for r in map(json.loads, (out / "progress.jsonl").open())]
    assert "resumed" in log_kinds
    straight = tmp_path / "straight"
    res = invoke("evolve", *TINY, "--seed", "5", "--out", str(straight), "--quiet")
    assert res.exit_code == 0, res.output
    assert load_program_meta(out / "best.json")[0] == load_program_meta(straight / "best.json")[0]
    a = json.loads((out / "result.json").read_text())
    b = json.loads((straight / "result.json").read_text())
    for key in ("individuals", "search_fitness", "select_fitness", "final_fitness"):
        assert a[key] == b[key], key


def test_show_forms(finished_run):
    out = finished_run[0]
    program = load_program_meta(out / "best.json")[0]
    res = invoke("show", str(out / "best.json"))
    assert res.exit_code == 0 and "def Predict():" in res.output
    res = invoke("show", str(out), "--format", "json", "--simplify")  # a run directory
    assert res.exit_code == 0
    assert json.loads(res.output)["format"] == "amlz-program"
    res = invoke("show", str(out / "best.txt"), "--format", "python")
    assert res.exit_code == 0 and "def predict(s, v, m, rng, F):" in res.output
    assert format_program(program).startswith("def Setup():")


def test_export_verify_and_fresh_interpreter_predictions(finished_run, tmp_path):
    """Export the run's best, verify it, import it in a new Python and compare its
    predictions with the interpreter's."""
    from amlz_compile.backends.interp import InterpBackend
    from amlz_compile.tasks import build_tasks

    out = finished_run[0]
    target = tmp_path / "best_algo.py"
    res = invoke("export", str(out / "best.json"), "-o", str(target))
    assert res.exit_code == 0 and "self-test case(s) passed" in res.output
    assert invoke("verify", str(target)).exit_code == 0
    assert subprocess.run([sys.executable, str(target)], capture_output=True).returncode == 0

    task = build_tasks({"kind": "linear", "features": 4, "num_train": 50, "num_valid": 20})[0]
    np.savez(tmp_path / "task.npz", tx=task.train_x, ty=task.train_y, vx=task.valid_x)
    code = f"""
import json, sys
sys.modules['amlz_compile'] = None
sys.path.insert(0, {str(tmp_path)!r})
import numpy as np, best_algo
d = np.load({str(tmp_path / "task.npz")!r})
est = best_algo.AlgorithmRegressor(random_state=11, max_abs_error=float('inf'))
est.fit(d['tx'], d['ty'])
print(json.dumps([float(x).hex() for x in est.predict(d['vx'])]))
print(json.dumps(best_algo.METADATA))
"""
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert fresh.returncode == 0, fresh.stderr
    lines = fresh.stdout.splitlines()
    predicted = [float.fromhex(x) for x in json.loads(lines[0])]
    meta = json.loads(lines[1])
    assert meta["seed"] == 5 and meta["format_version"] == 2
    program = load_program_meta(out / "best.json")[0]
    memory = program.required_memory(4)
    run = InterpBackend().run_task(
        program, task, memory, rng_seed=11, max_abs_error=float("inf"), trace_len=70
    )
    if run.epochs_validated:
        expected = run.trace[-20:]
        assert np.array_equal(np.asarray(predicted), expected, equal_nan=True)


def test_refuses_to_overwrite_a_run_directory(finished_run):
    out = finished_run[0]
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    res = invoke("evolve", *TINY, "--out", str(out))
    assert_user_error(res, "not empty", "amlz resume")
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert before == after


# -- user errors --------------------------------------------------------------------------------


def test_unknown_preset_and_bad_config_keys(tmp_path):
    assert_user_error(invoke("evolve", "--preset", "nope", "--out", str(tmp_path / "a")),
                      "unknown preset", "demo")  # fmt: skip
    res = invoke("evolve", "--set", "search.populaton_size=5", "--out", str(tmp_path / "b"))
    assert_user_error(res, "populaton_size")
    res = invoke("evolve", "--set", "nonsense", "--out", str(tmp_path / "c"))
    assert_user_error(res, "key=value")
    bad = tmp_path / "cfg.json"
    bad.write_text("{not json")
    assert_user_error(invoke("evolve", "--config", str(bad), "--out", str(tmp_path / "d")),
                      "cannot parse")  # fmt: skip
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_force_replaces_only_run_files(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.md").write_text("keep me")
    (out / "best.txt").write_text("old")
    # A 1 ns time limit stops before the first experiment: the run files are written, no search.
    res = invoke("evolve", *TINY, "--time-limit", "1e-9", "--out", str(out), "--force", "--quiet",
                 "--seed", "2")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert (out / "notes.md").read_text() == "keep me"
    assert not (out / "best.txt").exists()
    assert json.loads((out / "run.json").read_text())["seed"] == 2
    assert (out / "checkpoints" / "checkpoint.json").is_file()


def test_resume_errors_keep_the_data(tmp_path):
    assert_user_error(invoke("resume", str(tmp_path / "missing")), "no run directory")
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    assert_user_error(invoke("resume", str(run)), "nothing to resume")
    ckpt = run / "checkpoints" / "checkpoint.json"
    ckpt.write_text('{"format": "amlz-checkpoint", "version": 1, "config": ')
    assert_user_error(invoke("resume", str(run)), "corrupt")
    assert ckpt.read_text().endswith('"config": ')


def test_resume_refuses_a_checkpoint_that_would_run_code(tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    marker = tmp_path / "pwned"
    doc = {
        "format": "amlz-checkpoint",
        "version": 1,
        "config": {},
        "flow": {"x": {"__obj__": "os:system", "state": f"touch {marker}"}},
        "islands": [],
    }
    (run / "checkpoints" / "checkpoint.json").write_text(json.dumps(doc))  # fmt: skip
    proc = amlz("resume", str(run), check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "data only" in proc.stderr and "Traceback" not in proc.stderr
    assert not marker.exists()


def test_malformed_algorithm_files(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("def Setup():\n  s2 = foo\ndef Predict():\ndef Learn():\n")
    assert_user_error(invoke("show", str(bad)), "bad.txt", "line 2")
    badj = tmp_path / "bad.json"
    badj.write_text('{"format": "amlz-program", "version": 1')
    assert_user_error(invoke("export", str(badj), "-o", str(tmp_path / "x.py")), "bad.json")
    assert_user_error(invoke("show", str(tmp_path / "nothing.txt")), "no algorithm file")
    assert_user_error(invoke("verify", str(tmp_path / "nothing.py")), "no such file")


# -- eval, tasks, bench, help -------------------------------------------------------------------


def test_eval_json_reports_fitness_and_per_task():
    res = invoke("eval", "linear", "--tasks", "linear", "--num-tasks", "3", "--train", "300",
                 "--valid", "50", "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert len(report["per_task"]) == 3
    assert report["fitness"] == pytest.approx(np.mean([t["fitness"] for t in report["per_task"]]))
    assert report["fitness"] > 0.9  # SGD linear regression learns linear tasks


def test_eval_unit_tasks_and_errors(tmp_path):
    res = invoke("eval", "linear", "--tasks", "zeros", "--num-tasks", "1", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["fitness"] == 1.0  # predicting 0 on zeros is exact
    assert_user_error(invoke("eval", "linear", "--tasks", "no_such_kind"), "no_such_kind")
    res = invoke("eval", "linear", "--tasks", "projected-binary", "--dataset", "npz", "--path",
                 str(tmp_path / "missing.npz"))  # fmt: skip
    assert_user_error(res, "missing.npz")


def test_tasks_lists_kinds_and_sources():
    res = invoke("tasks")
    assert res.exit_code == 0
    for name in ("linear", "affine", "nonlinear", "projected_binary", "zeros", "ones",
                 "increment", "digits", "cifar10", "needs:"):  # fmt: skip
        assert name in res.output
    info = json.loads(invoke("tasks", "--json").output)
    assert {k["name"] for k in info["kinds"]} >= {"linear", "zeros", "increment"}


def test_presets_and_bench_keys():
    names = [p["name"] for p in json.loads(invoke("presets", "--json").output)]
    assert {"demo", "linear", "nonlinear", "projected-binary"} <= set(names)
    res = invoke("bench", "--list")
    assert res.exit_code == 0 and "interp_us_per_individual_demo" in res.output
    assert_user_error(invoke("bench", "--only", "no_such_key", "--json"), "no_such_key")


def test_help_does_not_import_numba():
    code = "import sys, amlz_compile.cli; print('numba' in sys.modules, 'llvmlite' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.split() == ["False", "False"]
    proc = amlz("--help")
    for command in ("evolve", "resume", "show", "eval", "export", "verify", "bench", "tasks"):
        assert command in proc.stdout


# -- display and run directory pieces -----------------------------------------------------------


def test_rich_display_renders_islands():
    import io

    from amlz_compile.cli_progress import Display

    stream = io.StringIO()
    display = Display("rich", stream=stream)
    display.start("amlz evolve test")
    island = {"island": 0, "individuals": 1200, "individuals_per_s": 600.0, "best_fitness": 0.5,
              "mean_fitness": 0.25, "train_steps": 10, "fec_hit_rate": 0.25,
              "dedup_hit_rate": None, "compiled_share": 0.75}  # fmt: skip
    record = {"kind": "progress", "experiment": 0, "individuals": 2400,
              "individuals_per_s": 1200.0, "fec_hit_rate": 0.25, "dedup_hit_rate": None,
              "compiled_share": 0.75, "compiles": 12, "compile_seconds": 0.25,
              "best_search_fitness": 0.5, "best_select_fitness": None, "elapsed": 65.0,
              "remaining": 30.0, "islands": [island, {**island, "island": 1}]}  # fmt: skip
    display.show(record)
    display.stop()
    text = stream.getvalue()
    for fragment in ("island", "1,200", "25.0%", "75.0%", "0.500000", "1:05", "0:30", "all",
                     "compiles 12 (0.2 s)"):  # fmt: skip
        assert fragment in text, fragment


def test_hall_of_fame_keeps_the_best_per_simplified_size(tmp_path):
    from amlz_compile.algorithms import load_builtin
    from amlz_compile.ir.program import Instruction, Program
    from amlz_compile.rundir import RunDir, RunDirError

    run = RunDir.create(tmp_path / "r")
    linear = load_builtin("linear")
    padded = Program(linear.setup + (Instruction(0),), linear.predict, linear.learn)
    assert run.offer(linear, 0.5, {})
    assert not run.offer(padded, 0.4, {})  # same simplified size, lower fitness
    assert run.offer(padded, 0.6, {})
    assert run.offer(load_builtin("neural_net"), 0.1, {})
    entries = RunDir(tmp_path / "r").hall_of_fame()  # re-read from disk
    assert [e["fitness"] for e in entries] == [0.6, 0.1]
    assert entries[0]["size"] == len(linear)
    with pytest.raises(RunDirError, match="not empty"):
        RunDir.create(tmp_path / "r")
