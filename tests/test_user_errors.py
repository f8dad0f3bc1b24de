"""Bad values a user can type, each refused with its own message; oversized work refused before
it allocates; one writer per run directory; SIGTERM that leaves an exactly resumable run.

The CLI runs in real subprocesses where the process matters (exit codes of usage errors,
memory, signals, locks) and through Typer's runner for the table of values.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from amlz_compile.cli import app
from amlz_compile.errors import AmlzError, ResourceLimitError, RunDirBusyError
from amlz_compile.ir.serialize import load_program_meta
from amlz_compile.limits import parse_size
from amlz_compile.run_lock import LOCK_NAME
from amlz_compile.rundir import RunDir
from amlz_compile.search.checkpoint import CheckpointError, encode, load_checkpoint
from amlz_compile.search.experiment_config import ExperimentConfig
from amlz_compile.search.presets import get_preset

ROOT = Path(__file__).resolve().parents[1]
RUNNER = CliRunner()

SMALL_TASKS = [
    "--set", 'select_tasks=[{"kind": "linear", "features": 4, "num_train": 100, '
             '"num_valid": 20, "num_tasks": 2}]',
    "--set", 'final_tasks=[{"kind": "linear", "features": 4, "num_train": 100, '
             '"num_valid": 20, "num_tasks": 2, "data_seeds": [1000000]}]',
]  # fmt: skip
# A demo search that runs for a while (one long experiment of population 100).
LONG_DEMO = [
    "--preset", "demo", "--population-size", "100", "--max-experiments", "1",
    "--max-train-steps", "2000000000", "--set", "search.search_tasks.0.num_tasks=2",
    *SMALL_TASKS,
]  # fmt: skip


def amlz(*args: str, env: dict | None = None, **kwargs) -> subprocess.Popen | None:
    return subprocess.run(
        [sys.executable, "-m", "amlz_compile.cli", *args],
        capture_output=True,
        text=True,
        cwd=kwargs.pop("cwd", ROOT),
        env={**os.environ, **(env or {})},
        timeout=600,
        **kwargs,
    )


def start(*args: str, cwd: Path = ROOT) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "amlz_compile.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
    )


def one_error_line(stderr: str, *fragments: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    for frag in fragments:
        assert frag in lines[0], stderr


# -- the table: input -> its message ----------------------------------------------------------

BAD_VALUES = [
    (["evolve", "--time-limit", "nan"], "time_limit must be a finite number > 0"),
    (["evolve", "--time-limit", "-5"], "time_limit must be a finite number > 0"),
    (["evolve", "--time-limit", "0"], "time_limit must be a finite number > 0"),
    (["evolve", "--time-limit", "-inf"], "time_limit must be a finite number > 0"),
    (["evolve", "--checkpoint-every", "0"], "checkpoint_every must be a finite number > 0"),
    (["evolve", "--checkpoint-every", "-1"], "checkpoint_every must be a finite number > 0"),
    (["evolve", "--max-individuals", "0"], "max_individuals must be a finite number > 0"),
    (["evolve", "--tournament-size", "5000"], "tournament_size (5000) must not exceed"),
    (["evolve", "--sufficient-fitness", "nan"], "sufficient_fitness must be a number"),
    (["evolve", "--set", "search.max_abs_error=-1"], "max_abs_error must be > 0"),
    (["evolve", "--set", "search.max_abs_error=NaN"], "max_abs_error must be a number"),
    (["evolve", "--set", "select_tasks=[]"], "select_tasks is empty"),
    (["evolve", "--set", "final_tasks=[]"], "final_tasks is empty"),
    (["evolve", "--set", "search.memory.scalars=100000000"], "memory.scalars must be <= 65536"),
    (["evolve", "--set", "migrate=3"], "unknown"),
    (["evolve", "--set", "population_size=1e400"], "population_size must be an integer, got inf"),
    (["evolve", "--set", "population_size=NaN"], "population_size must be an integer, got nan"),
    (["evolve", "--islands", "2", "--set", "search.population_size=10"], None),
    (["evolve", "--islands", "100000"], "100000 island(s) of population 1000 at F=4 needs"),
    (["evolve", "--set", "search.search_tasks.0.features=20000"], "at F=20000 needs about"),
    (["evolve", "--set", "final_tasks.0.features=20000"], "the final_tasks evaluation needs"),
    (["evolve", "--set", "search.setup_size_init=65535"], "over the memory limit"),
    (["evolve", "--set", "search.fec.cache_size=1e12"], "over the memory limit"),
    (["show", str(ROOT / "tests")], "is a directory without best.json"),
    (["export", "linear", "-o", "x.py", "--features", "20000"], "must be in 1..1024, got 20000"),
    (["export", "linear", "-o", "x.py", "--features", "0"], "must be in 1..1024, got 0"),
    (["eval", "linear", "-t", "linear", "--max-abs-error", "nan"], "max_abs_error must be > 0"),
    (["eval", "linear", "-t", "linear", "--num-tasks", "100000000"], "over the memory limit"),
    (
        ["eval", "linear", "-t", "linear", "--features", "100000", "--train", "1000000"],
        "over the memory limit",
    ),  # fmt: skip
    (["--memory-limit", "lots", "eval", "linear", "-t", "linear"], "cannot read memory size"),
    (["--memory-limit", "-1G", "eval", "linear", "-t", "linear"], "cannot read memory size"),
    (["--memory-limit", "0.5", "eval", "linear", "-t", "linear"], "must be at least 1M"),
    (["resume", "nowhere", "--time-limit", "nan"], "time_limit must be a finite number > 0"),
]


@pytest.mark.parametrize(("args", "message"), [b for b in BAD_VALUES if b[1]],
                         ids=lambda v: " ".join(v) if isinstance(v, list) else None)  # fmt: skip
def test_bad_values_get_their_error(tmp_path, monkeypatch, args, message):
    monkeypatch.setenv("AMLZ_MEMORY_LIMIT", "8G")  # the same cap on every machine
    if args[0] == "evolve":
        args = [*args, "--out", str(tmp_path / "run"), "--quiet"]
    result = RUNNER.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert "error: " in result.output and message in result.output, result.output
    assert not (tmp_path / "run").exists(), "a refused run must not create its directory"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"search": [1, 2]}, "'search' must be a mapping"),
        ({"search": {"setup_ops": None}}, "setup_ops must be a list of ops"),
        ({**get_preset("demo"), "select_tasks": True}, "select_tasks must be a list of task"),
        ({**get_preset("demo"), "name": 7}, "name must be a string"),
        ([1], "must be a mapping"),
    ],
)
def test_bad_config_files_get_their_error(tmp_path, config, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(config))
    result = RUNNER.invoke(app, ["evolve", "--config", str(path), "--out", str(tmp_path / "r")])
    assert result.exit_code == 1 and message in result.output, result.output
    result = RUNNER.invoke(app, ["evolve", "--config", str(tmp_path), "--out", str(tmp_path / "r")])
    assert result.exit_code == 1 and "is a directory, not a config file" in result.output


_ROWS = "\n".join(["  s1 = s2 + s3"] * 65537)
_JSON_ROWS = json.dumps({"format": "amlz-program", "version": 1,
                         "columns": ["op", "in1", "in2", "out", "act", "f0", "f1", "f2"],
                         "setup": [[0, 0, 0, 0, 0, 0, 0, 0]] * 65537, "predict": [],
                         "learn": []})  # fmt: skip
BAD_FILES = [
    ("t.json", "[]", ["eval", "linear", "-t", "{}"], "holds no task specs"),
    ("t.json", '{"tasks": []}', ["eval", "linear", "-t", "{}"], "holds no task specs"),
    ("t.json", "[" * 100000 + "]" * 100000, ["eval", "linear", "-t", "{}"], "nested too deeply"),
    ("t.toml", "a = " + "{b = " * 1000 + "1" + "}" * 1000, ["eval", "linear", "-t", "{}"],
     "nested too deeply"),
    ("a.txt", "def Setup():\n  s" + "9" * 100000 + " = 1.0\ndef Predict():\ndef Learn():\n",
     ["show", "{}"], "outside 0..65535"),
    ("a.txt", "def Setup():\n  s1 = s0" + "0" * 100000 + " + s2\ndef Predict():\ndef Learn():\n",
     ["show", "{}"], None),  # leading zeros: address 0
    ("a.json", '{"format": "amlz-program", "version": ' + "9" * 100000 + "}", ["show", "{}"],
     "invalid JSON"),
    ("a.txt", '# memory: {"scalars": 2, "vectors": 2, "matrices": 0, "features": 4}\n'
     "def Setup():\n  s5 = 1.0\ndef Predict():\ndef Learn():\n", ["show", "{}"],
     "does not fit the memory its metadata declares: setup instruction 0"),
    ("a.txt", '# memory: {"scalars": -2}\ndef Setup():\ndef Predict():\ndef Learn():\n',
     ["show", "{}"], "metadata 'memory' must give scalars, vectors, matrices, features"),
    ("a.txt", "def Setup():\n" + _ROWS + "\ndef Predict():\ndef Learn():\n", ["show", "{}"],
     "more than 65,536 instructions"),
    ("a.json", _JSON_ROWS, ["show", "{}"], "more than the 65,536 a component may have"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "args", "message"), BAD_FILES,
                         ids=[f"{b[0]}:{b[3]}" for b in BAD_FILES])  # fmt: skip
def test_bad_files_get_their_error(tmp_path, name, text, args, message):
    path = tmp_path / name
    path.write_text(text)
    result = RUNNER.invoke(app, [a.replace("{}", str(path)) for a in args])
    assert "Traceback" not in result.output and "internal error" not in result.output
    if message is None:
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 1 and message in result.output, result.output


def test_deeply_nested_json_is_refused(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100000 + "]" * 100000)
    for args, message in ((["show", str(deep)], "nested too deeply"),
                          (["evolve", "--config", str(deep)], "nested too deeply")):  # fmt: skip
        result = RUNNER.invoke(app, args)
        assert result.exit_code == 1 and message in result.output, result.output


def test_a_refused_force_keeps_the_old_run(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "best.txt").write_text("the old run's best")
    result = RUNNER.invoke(app, ["evolve", "--time-limit", "nan", "--out", str(out), "--force"])
    assert result.exit_code == 1
    assert (out / "best.txt").read_text() == "the old run's best"


@pytest.mark.parametrize(
    "args",
    [
        ["evolve", "--bogus"],
        ["evolve", "--time-limit", "abc"],
        ["nope"],
        ["show"],
        ["evolve", "--backend", "gpu"],
    ],  # fmt: skip
)
def test_usage_errors_are_one_line_and_exit_1(args):
    proc = amlz(*args)
    assert proc.returncode == 1, proc.stderr
    one_error_line(proc.stderr)
    assert "Usage:" not in proc.stderr and "╭" not in proc.stderr


def test_amlz_debug_shows_the_error_itself_and_0_turns_it_off(tmp_path):
    missing = str(tmp_path / "nothing.txt")
    debug = amlz("show", missing, env={"AMLZ_DEBUG": "1"})
    assert debug.returncode == 1
    assert "Traceback" in debug.stderr and "UsageError: no algorithm file" in debug.stderr
    assert "AttributeError" not in debug.stderr, debug.stderr
    for off in ("0", "false", ""):
        quiet = amlz("show", missing, env={"AMLZ_DEBUG": off})
        assert quiet.returncode == 1
        one_error_line(quiet.stderr, "no algorithm file")


def test_memory_sizes_parse():
    assert parse_size("512M") == 512 << 20
    assert parse_size("8GiB") == parse_size("8G") == parse_size("8gb") == 8 << 30
    assert parse_size(1e9) == 10**9
    for bad in ("0", "-1", "inf", "nan", "8X", "", "0.5", "64K", 1000):
        with pytest.raises(AmlzError):
            parse_size(bad)


# -- memory: refused before allocating --------------------------------------------------------

# The child's own peak RSS: VmHWM belongs to the process image (getrusage's maxrss would
# inherit the forking pytest's peak across exec).
_MEASURE = """
import sys
from amlz_compile.cli import main
code = 0
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
with open("/proc/self/status") as fh:
    hwm = next(line.split()[1] for line in fh if line.startswith("VmHWM:"))
print("peak_rss_kb", hwm, file=sys.stderr)
sys.exit(code)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
def test_an_oversized_eval_is_refused_before_it_allocates(tmp_path):
    """A dead `m65535 = outer(v0, v0)` asks for 65536 matrices: at F=128 that is 80 GiB of
    memories; the estimate refuses it, and the process stays small."""
    algo = tmp_path / "big.txt"
    algo.write_text("def Setup():\ndef Predict():\n  m65535 = outer(v0, v0)\ndef Learn():\n")
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE, "eval", str(algo), "-t", "linear", "--features", "128"],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    error, rss = proc.stderr.strip().splitlines()
    assert error.startswith("error: one memory per task") and "over the memory limit" in error
    assert "GiB" in error
    assert int(rss.split()[1]) < 600 * 1024, rss  # KB: imports only, not gigabytes


def test_the_limit_is_configurable(tmp_path):
    proc = amlz("eval", "linear", "-t", "linear", "--train", "100000",
                env={"AMLZ_MEMORY_LIMIT": "1M"})  # fmt: skip
    assert proc.returncode == 1
    one_error_line(proc.stderr, "the task data (10 linear task(s)", "1.0 MiB")
    proc = amlz("--memory-limit", "1G", "eval", "linear", "-t", "linear",
                env={"AMLZ_MEMORY_LIMIT": "1M"})  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    proc = amlz("eval", "linear", "-t", "linear", env={"AMLZ_MEMORY_LIMIT": "64K"})
    one_error_line(proc.stderr, "AMLZ_MEMORY_LIMIT: a memory size must be at least 1M")


def test_api_raises_the_project_error(monkeypatch):
    from amlz_compile.evaluate import Evaluator
    from amlz_compile.ir.program import MemorySpec
    from amlz_compile.tasks import build_collection

    tasks = build_collection([{"kind": "linear", "features": 64, "num_train": 10,
                               "num_valid": 10, "num_tasks": 2}])  # fmt: skip
    monkeypatch.setenv("AMLZ_MEMORY_LIMIT", "1G")  # 2 memories of 60000 64x64 matrices: 3.7 GiB
    with pytest.raises(ResourceLimitError, match="over the memory limit"):
        Evaluator(tasks, MemorySpec(2, 1, 60000, 64))


# -- one writer; SIGTERM --------------------------------------------------------------------


def _wait_for(predicate, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    t0 = time.time()
    while not predicate():
        assert proc.poll() is None, proc.communicate()
        assert time.time() - t0 < timeout, "timed out"
        time.sleep(0.1)


def _checkpointed(run: Path) -> bool:
    log = run / "progress.jsonl"
    return log.is_file() and '"kind":"checkpoint"' in log.read_text()


def test_one_writer_and_sigterm_resumes_exactly(tmp_path):
    run = tmp_path / "run"
    limit = ["--max-individuals", "60000"]
    proc = start("evolve", *LONG_DEMO, *limit, "--seed", "11", "--out", str(run), "--quiet",
                 "--checkpoint-every", "0.2")  # fmt: skip
    try:
        _wait_for(lambda: _checkpointed(run), proc)
        # A second writer is refused, naming the holder; the run's files are untouched.
        for args in (["resume", str(run)], ["evolve", *LONG_DEMO, "--out", str(run), "--force"]):
            second = amlz(*args)
            assert second.returncode == 1, second.stderr
            one_error_line(second.stderr, f"in use by process {proc.pid}")
        assert (run / "config.json").is_file()
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "wrote a final checkpoint" in stderr and "Traceback" not in stderr
    result = amlz("resume", str(run), *limit, "--quiet")
    assert result.returncode == 0, result.stderr
    straight = tmp_path / "straight"
    done = amlz("evolve", *LONG_DEMO, *limit, "--seed", "11", "--out", str(straight), "--quiet")
    assert done.returncode == 0, done.stderr
    a = json.loads((run / "result.json").read_text())
    b = json.loads((straight / "result.json").read_text())
    for key in ("individuals", "search_fitness", "select_fitness", "final_fitness"):
        assert a[key] == b[key], key
    assert load_program_meta(run / "best.json")[0] == load_program_meta(straight / "best.json")[0]


def test_a_stale_lock_is_taken_over(tmp_path):
    run_dir = tmp_path / "run"
    run = RunDir.create(run_dir)
    run.close()
    (run_dir / LOCK_NAME).write_text(json.dumps({"pid": 2**22 + 12345, "host": "gone"}))
    again = RunDir.create(run_dir, force=True)  # the holder is dead: no error
    assert json.loads((run_dir / LOCK_NAME).read_text())["pid"] == os.getpid()
    with pytest.raises(RunDirBusyError, match=f"in use by process {os.getpid()}"):
        RunDir.create(run_dir, force=True)  # a live holder (this process, another handle)
    again.close()


def test_run_directories_hold_absolute_data_paths(tmp_path):
    cfg = ExperimentConfig.from_dict(
        {**get_preset("demo"), "select_tasks": [{"kind": "projected_binary", "dataset": "x.npz",
                                                 "features": 4, "num_train": 10,
                                                 "num_valid": 10}]}
    )  # fmt: skip
    fixed = cfg.with_absolute_paths(tmp_path)
    assert fixed.select_tasks[0]["path"] == str(tmp_path / "x.npz")
    assert fixed.search.search_tasks == cfg.search.search_tasks  # no paths there


# SIGTERM delivered as the search loop ends, i.e. while the final evaluation runs.
_SIGTERM_AT_FINAL_EVALUATION = """
import os, signal, sys
from amlz_compile.cli import main
from amlz_compile.search.run import SearchRun

search_loop = SearchRun._loop

def loop_then_sigterm(self, runner, rng):
    stopped = search_loop(self, runner, rng)
    os.kill(os.getpid(), signal.SIGTERM)
    return stopped

SearchRun._loop = loop_then_sigterm
main(sys.argv[1:])
"""


def test_sigterm_during_the_final_evaluation_stops_with_a_checkpoint(tmp_path):
    run, straight = tmp_path / "run", tmp_path / "straight"
    args = ["evolve", *LONG_DEMO, "--max-individuals", "300", "--seed", "3", "--quiet"]
    proc = subprocess.run(
        [sys.executable, "-c", _SIGTERM_AT_FINAL_EVALUATION, *args, "--out", str(run)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 128 + signal.SIGTERM, proc.stderr
    assert "the final evaluation was skipped" in proc.stderr and "Traceback" not in proc.stderr
    assert not (run / "result.json").exists()
    resumed = amlz("resume", str(run), "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    done = amlz(*args, "--out", str(straight))
    assert done.returncode == 0, done.stderr
    a = json.loads((run / "result.json").read_text())
    b = json.loads((straight / "result.json").read_text())
    for key in ("individuals", "search_fitness", "select_fitness", "final_fitness", "stopped"):
        assert a[key] == b[key], key


# -- crafted checkpoints ----------------------------------------------------------------------


def _set(path: tuple, value):
    def change(ckpt):
        target = ckpt
        for key in path[:-1]:
            target = target[key]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return change


_DELETE = object()
_EVOLUTION = ("islands", 0, "evolution")
CRAFTED_CHECKPOINTS = [
    (_set(("flow", "rng"), "x"), "'rng' is 'x'"),
    (_set(("flow", "current"), _DELETE), "lacks 'current'"),
    (_set(("flow", "best_select"), "x"), "'best_select' is 'x'"),
    (_set(("flow", "seed"), "7"), "'seed' is '7'"),
    (_set(("flow", "elapsed"), "x"), "'elapsed' is 'x'"),
    (_set(("flow", "individuals_done"), -5), "'individuals_done' is -5"),
    (_set(("flow", "options", "islands"), "2"), "has '2' islands"),
    (_set(("islands", 0, "initialized"), 0), "island 0 'initialized' is 0"),
    (_set(("islands", 0, "evolution"), _DELETE), "island 0 lacks 'evolution'"),
    (_set(("islands", 0), 5), "island 0 is 5"),
    (_set((*_EVOLUTION, "initialized"), 0), "'initialized' is 0"),
    (_set((*_EVOLUTION, "counters"), np.array([-5, 0, 0, 0, 0, 0, 0, 0])), "'counters'"),
    (_set((*_EVOLUTION, "run_seconds"), "x"), "'run_seconds' has dtype"),
]


def _write_checkpoint(path: Path, ckpt: dict) -> None:
    doc = {"format": "amlz-checkpoint", "version": 2}
    doc.update({key: encode(ckpt[key]) for key in ("config", "flow", "islands")})
    path.write_text(json.dumps(doc))


@pytest.fixture(scope="module")
def paused_run(tmp_path_factory) -> Path:
    """A checkpoint directory of a run stopped mid-experiment (checkpoint.json and .prev)."""
    from amlz_compile.search.experiment import run_search

    cfg = get_preset("demo")
    cfg["search"].update(population_size=20, tournament_size=4, max_train_steps=10**9)
    cfg["search"]["search_tasks"][0]["num_tasks"] = 2
    for key in ("select_tasks", "final_tasks"):
        cfg[key][0].update(num_tasks=2, num_train=50, num_valid=20)
    directory = tmp_path_factory.mktemp("paused")
    run_search(cfg, seed=6, max_individuals=100, checkpoint_dir=directory,
               checkpoint_every_s=None, checkpoint_every_individuals=40)  # fmt: skip
    assert (directory / "checkpoint.prev.json").is_file()
    return directory


def _crafted(paused_run: Path, tmp_path: Path, change, keep_previous: bool) -> Path:
    import shutil

    directory = tmp_path / "ckpt"
    shutil.copytree(paused_run, directory)
    if not keep_previous:
        (directory / "checkpoint.prev.json").unlink()
    ckpt = load_checkpoint(directory)
    change(ckpt)
    _write_checkpoint(directory / "checkpoint.json", ckpt)
    return directory


@pytest.mark.parametrize(("change", "message"), CRAFTED_CHECKPOINTS,
                         ids=[m for _, m in CRAFTED_CHECKPOINTS])  # fmt: skip
def test_crafted_checkpoints_are_refused(paused_run, tmp_path, change, message):
    from amlz_compile.search.experiment import resume_search

    directory = _crafted(paused_run, tmp_path, change, keep_previous=False)
    with pytest.raises(CheckpointError) as info:
        resume_search(directory, max_individuals=120, checkpoint_every_s=None)
    assert message in str(info.value)


def test_an_invalid_checkpoint_falls_back_to_the_previous_one(paused_run, tmp_path):
    from amlz_compile.search.experiment import resume_search

    directory = _crafted(paused_run, tmp_path, _set(("flow", "seed"), "7"), keep_previous=True)
    with pytest.warns(UserWarning, match="is invalid.*resuming from the previous checkpoint"):
        result = resume_search(directory, max_individuals=120, checkpoint_every_s=None)
    assert result.stopped == "max_individuals" and result.individuals >= 120


def _big_endian(obj):
    if isinstance(obj, np.ndarray) and obj.dtype.itemsize > 1 and obj.dtype.kind in "iuf":
        return obj.astype(obj.dtype.newbyteorder(">"))
    if isinstance(obj, dict):
        return {k: _big_endian(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_big_endian(v) for v in obj]
    return obj


def test_a_checkpoint_of_the_other_byte_order_resumes_the_same(paused_run, tmp_path):
    from amlz_compile.search.experiment import resume_search

    directory = _crafted(paused_run, tmp_path, lambda c: c.update(islands=_big_endian(
        c["islands"])), keep_previous=False)  # fmt: skip
    swapped = json.loads((directory / "checkpoint.json").read_text())
    assert '">i8"' in json.dumps(swapped)
    a = resume_search(directory, max_individuals=160, checkpoint_every_s=None)
    b = resume_search(paused_run / "checkpoint.json", max_individuals=160,
                      checkpoint_dir=tmp_path / "plain", checkpoint_every_s=None)  # fmt: skip
    assert (a.individuals, a.select_fitness, a.final_fitness) == (
        b.individuals, b.select_fitness, b.final_fitness)  # fmt: skip


# -- compressed data: the declared size is checked before decompressing -------------------------


def _gzip_idx(path: Path, shape: tuple[int, ...]) -> None:
    import gzip
    import struct

    with gzip.open(path, "wb") as fh:
        fh.write(bytes([0, 0, 8, len(shape)]) + struct.pack(f">{len(shape)}I", *shape))
        for _ in range(shape[0] // 1000):
            fh.write(bytes(1000 * int(np.prod(shape[1:]))))


def test_compressed_datasets_are_sized_before_they_are_decompressed(tmp_path):
    npz = tmp_path / "big.npz"
    np.savez_compressed(npz, x=np.zeros((4000, 4000), dtype=np.uint8), y=np.arange(4000) % 2)
    assert npz.stat().st_size < 1 << 20  # 16 MB of values in a small file
    mnist = tmp_path / "mnist"
    mnist.mkdir()
    _gzip_idx(mnist / "train-images-idx3-ubyte.gz", (4000, 40, 100))
    _gzip_idx(mnist / "train-labels-idx1-ubyte.gz", (4000,))
    for dataset, path, what in (("npz", npz, "npz: "), ("mnist", mnist, "mnist: ")):
        proc = amlz("eval", "linear", "-t", "projected-binary", "--dataset", dataset,
                    "--path", str(path), env={"AMLZ_MEMORY_LIMIT": "32M"})  # fmt: skip
        assert proc.returncode == 1, proc.stderr
        one_error_line(proc.stderr, what, "16,000,000 values", "over the memory limit")


def test_a_file_that_is_not_an_npz_archive_says_so(tmp_path):
    bogus = tmp_path / "data.npz"
    bogus.write_text("just text")
    proc = amlz("eval", "linear", "-t", "projected-binary", "--dataset", "npz", "--path",
                str(bogus))  # fmt: skip
    assert proc.returncode == 1
    one_error_line(proc.stderr, "is not a .npz archive (not a zip file)")
    assert "pickle" not in proc.stderr


def test_an_export_whose_self_test_is_too_large_is_refused(tmp_path, monkeypatch):
    algo = tmp_path / "big.txt"
    algo.write_text("def Setup():\ndef Predict():\n  m65535 = outer(v0, v0)\ndef Learn():\n")
    monkeypatch.setenv("AMLZ_MEMORY_LIMIT", "1G")  # 4 memories of 65536 65x65 matrices: 8 GiB
    out = tmp_path / "x.py"
    args = ["export", str(algo), "-o", str(out), "--no-simplify", "--features", "64"]
    result = RUNNER.invoke(app, args)
    assert result.exit_code == 1 and "the self-test at F=65 needs about" in result.output
    assert not out.exists()


def test_a_damaged_checkpoint_falls_back_with_one_warning_line(tmp_path):
    run = tmp_path / "run"
    done = amlz("evolve", *LONG_DEMO, "--max-individuals", "400", "--seed", "2", "--out",
                str(run), "--quiet", "--checkpoint-every", "0.001")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (run / "checkpoints" / "checkpoint.prev.json").is_file()
    (run / "checkpoints" / "checkpoint.json").write_text("{")
    resumed = amlz("resume", str(run), "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    lines = [line for line in resumed.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, resumed.stderr
    assert lines[0].startswith("warning: checkpoint ") and "previous checkpoint" in lines[0]


def test_labels_beyond_int64_are_refused_not_wrapped(tmp_path):
    data = tmp_path / "u.npz"
    x = np.random.default_rng(0).normal(size=(200, 8))
    np.savez(data, x=x, y=np.array([0, 2**64 - 1] * 100, dtype=np.uint64))
    proc = amlz("eval", "linear", "-t", "projected-binary", "--dataset", "npz", "--path",
                str(data), "--features", "4")  # fmt: skip
    assert proc.returncode == 1
    one_error_line(proc.stderr, "labels must fit in a 64-bit signed integer", str(2**64 - 1))


def test_the_progress_log_is_thinned_but_keeps_the_state_at_each_event(tmp_path):
    run = tmp_path / "run"
    args = [a if a != "100" else "10" for a in LONG_DEMO]  # population 10: many tiny epochs
    proc = amlz("evolve", *args, "--max-individuals", "30000", "--seed", "1", "--out", str(run),
                "--json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    shown = [json.loads(line) for line in proc.stdout.splitlines()]
    logged = [json.loads(line) for line in (run / "progress.jsonl").read_text().splitlines()]
    progress = [r for r in logged if r["kind"] == "progress"]
    assert 1 <= len(progress) < len([r for r in shown if r["kind"] == "progress"]) / 5
    last_shown = [r for r in shown if r["kind"] == "progress"][-1]
    assert progress[-1] == last_shown  # held back, then written before the next event
    assert [r["kind"] for r in logged if r["kind"] != "progress"] == [
        r["kind"] for r in shown if r["kind"] not in ("progress", "result")]  # fmt: skip
