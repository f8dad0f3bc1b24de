"""The experiment driver: presets, reproducibility, stop rules, events, exact resume, SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from amlz_compile.ir.program import Program
from amlz_compile.search.checkpoint import CheckpointError, load_checkpoint
from amlz_compile.search.config import ConfigError
from amlz_compile.search.experiment import resume_search, run_search
from amlz_compile.search.experiment_config import ExperimentConfig, load_config
from amlz_compile.search.options import FAST_PATIENCE, SearchOptions
from amlz_compile.search.presets import get_preset, preset_names
from amlz_compile.search.run import SearchRun

ROOT = Path(__file__).resolve().parents[1]


def tiny(experiments: int = 2, population: int = 20, sweeps: int = 6) -> dict:
    """The demo shrunk to seconds: 2 search tasks, P=20, a budget of about `sweeps` sweeps."""
    cfg = get_preset("demo")
    s = cfg["search"]
    s["population_size"] = population
    s["tournament_size"] = 4
    s["search_tasks"][0]["num_tasks"] = 2
    s["max_train_steps"] = population * (sweeps + 1) * 2 * 110
    cfg["select_tasks"][0].update(num_tasks=3, num_train=100, num_valid=50)
    cfg["final_tasks"][0].update(num_tasks=3, num_train=100, num_valid=50)
    cfg["max_experiments"] = experiments
    cfg["sufficient_fitness"] = None
    return cfg


# -- presets and configs ----------------------------------------------------------------------


def test_every_preset_is_a_valid_config():
    assert preset_names() == ["demo", "linear", "nonlinear", "projected-binary", "baseline"]
    for name in preset_names():
        cfg = load_config(name)
        assert cfg.name == name
        assert ExperimentConfig.from_dict(cfg.to_dict()) == cfg


def test_demo_preset_matches_run_demo_sh():
    cfg = load_config("demo")
    s = cfg.search
    assert (s.population_size, s.tournament_size, s.mutate_prob) == (1000, 10, 0.9)
    assert s.init_sizes == (10, 2, 8) and s.max_train_steps == 200_000_000
    assert s.setup_ops == s.predict_ops == s.learn_ops == (56, 27, 2, 3, 18, 23)
    assert (s.fec.num_train_examples, s.fec.num_valid_examples) == (10, 10)
    assert cfg.sufficient_fitness == 0.9999 and cfg.max_experiments == 0
    assert cfg.randomize_task_seeds
    assert cfg.final_tasks[0]["data_seeds"] == [1000000]


def test_unknown_preset_lists_valid_names():
    with pytest.raises(ConfigError, match="valid: demo, linear, nonlinear"):
        get_preset("demoo")


def test_config_errors_name_the_problem(tmp_path):
    cfg = tiny()
    cfg["max_experimentz"] = 3
    with pytest.raises(ConfigError, match="max_experimentz"):
        ExperimentConfig.from_dict(cfg)
    cfg = tiny()
    cfg["select_tasks"] = [{"kind": "nope", "features": 4, "num_train": 5, "num_valid": 5}]
    with pytest.raises(ConfigError, match="select_tasks: unknown task kind"):
        ExperimentConfig.from_dict(cfg)
    path = tmp_path / "c.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="cannot parse"):
        load_config(path)
    path.write_text(json.dumps(tiny()))
    assert load_config(path).max_experiments == 2
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.json")


# -- the flow ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_run():
    events = []
    result = run_search(tiny(), seed=11, on_event=events.append)
    return result, events


def test_run_reports_a_best_program(tiny_run):
    result, _ = tiny_run
    assert isinstance(result.best_program, Program)
    assert result.experiments == 2 and result.stopped == "max_experiments"
    assert len(result.history) == 2
    assert 0.0 <= result.final_fitness <= 1.0
    # the kept candidate is the best on select; ties would go to the later one
    kept = [h for h in result.history if h["kept"]]
    assert result.select_fitness == max(h["select_fitness"] for h in result.history)
    assert kept[-1]["select_fitness"] == result.select_fitness
    assert result.individuals == sum(h["individuals"] for h in result.history)
    assert result.individuals % 20 == 0 and result.individuals >= 2 * 20 * 6


def test_same_seed_reproduces_the_run(tiny_run):
    again = run_search(tiny(), seed=11)
    first = tiny_run[0]
    assert again.best_program == first.best_program
    assert again.final_fitness == first.final_fitness
    strip = [{k: v for k, v in h.items() if k != "elapsed"} for h in first.history]
    assert [{k: v for k, v in h.items() if k != "elapsed"} for h in again.history] == strip


def test_events(tiny_run):
    result, events = tiny_run
    kinds = [e.kind for e in events]
    assert kinds[-1] == "finished" and events[-1].result is result
    assert kinds.count("experiment") == 2
    progress = [e for e in events if e.kind == "progress"]
    assert progress and all(len(e.islands) == 1 for e in progress)
    assert all(e.islands[0].individuals_per_s >= 0 for e in progress)
    assert all(e.islands[0].fec_hit_rate is None or 0 <= e.islands[0].fec_hit_rate <= 1
               for e in progress)  # fmt: skip
    individuals = [e.individuals for e in progress]
    assert individuals == sorted(individuals)
    bests = [e for e in events if e.kind == "new_best"]
    assert bests and bests[-1].program == result.best_program
    sel = [e.select_fitness for e in bests]
    assert sel == sorted(sel)


def test_ties_go_to_the_later_candidate():
    run = SearchRun(load_config(tiny()), SearchOptions(seed=1))
    run._t0 = time.perf_counter()
    a = Program()
    b = Program.from_arrays(np.zeros((1, 4)), np.zeros((1, 4)), [0, 0, 1, 1])
    assert run._consider(a, 0.5, 0.7, 0)
    assert run._consider(b, 0.4, 0.7, 1)  # equal select fitness: the later one is kept
    assert run.state["best_program"] == b
    assert not run._consider(a, 0.9, 0.6999, 2)
    assert run.state["best_program"] == b


def test_stops_at_sufficient_fitness():
    cfg = tiny(experiments=0)
    cfg["sufficient_fitness"] = 0.05  # any non-degenerate candidate passes
    result = run_search(cfg, seed=5)
    assert result.stopped == "sufficient_fitness"
    assert result.select_fitness > 0.05
    assert result.time_to_solution is not None and result.time_to_solution <= result.elapsed
    assert result.experiments == 1


def test_a_time_limit_that_has_passed_stops_cleanly():
    result = run_search(tiny(experiments=0), seed=5, time_limit=1e-9)
    assert result.stopped == "time_limit"
    assert result.best_program is None and result.final_fitness is None


def test_fast_flow_selects_eagerly():
    cfg = tiny(experiments=0)
    cfg["sufficient_fitness"] = 0.05
    result = run_search(cfg, seed=5, flow="fast")
    assert result.stopped == "sufficient_fitness"
    assert result.select_fitness > 0.05
    # stopped inside the first experiment, before its budget was used up
    assert result.individuals < 20 * 7


def test_fast_flow_restarts_stagnated_experiments():
    cfg = tiny(experiments=3, sweeps=1000)  # a budget no experiment would use up
    first = run_search(cfg, seed=8, flow="fast", patience=60)
    assert [h["ended"] for h in first.history] == ["stagnation"] * 3
    # each ended soon after its last real improvement, long before its budget
    assert all(h["individuals"] < 20 * 500 for h in first.history)
    again = run_search(cfg, seed=8, flow="fast", patience=60)

    def strip(history):
        return [{k: v for k, v in h.items() if k != "elapsed"} for h in history]

    assert strip(again.history) == strip(first.history)
    assert again.best_program == first.best_program
    reference = run_search(tiny(experiments=1, sweeps=8), seed=8)
    assert [h["ended"] for h in reference.history] == ["budget"]


def test_fast_flow_turns_on_dedup_and_hurdles_only_where_they_apply():
    cfg = load_config(tiny())
    fast = SearchRun(cfg, SearchOptions(seed=1, flow="fast")).config.search
    assert fast.dedup and fast.hurdles.enabled
    reference = SearchRun(cfg, SearchOptions(seed=1)).config.search
    assert reference == cfg.search and not reference.hurdles.enabled
    single = load_config(get_preset("nonlinear"))  # one search task: nothing to hurdle
    assert not SearchRun(single, SearchOptions(seed=1, flow="fast")).config.search.hurdles.enabled


def test_patience_must_be_a_count():
    with pytest.raises(ConfigError, match="patience"):
        run_search(tiny(), seed=1, flow="fast", patience=-1)


def test_two_islands_in_process_and_in_workers_agree():
    cfg = tiny(experiments=1)
    kwargs = dict(seed=3, islands=2, migrate_every=40, migrants=5)
    local = run_search(cfg, runner="local", **kwargs)
    procs = run_search(cfg, runner="process", workers=2, **kwargs)
    assert local.best_program == procs.best_program
    assert local.select_fitness == procs.select_fitness
    assert local.individuals == procs.individuals


# -- checkpoints ------------------------------------------------------------------------------


def _island_arrays(ckpt: dict) -> list[dict]:
    out = []
    for state in ckpt["islands"]:
        evo = state["evolution"]
        out.append({k: v for k, v in evo.items() if k not in ("elapsed", "run_seconds")})
    return out


def _assert_same_islands(a: dict, b: dict) -> None:
    ia, ib = _island_arrays(a), _island_arrays(b)
    assert len(ia) == len(ib) >= 1
    for x, y in zip(ia, ib, strict=True):
        assert x.keys() == y.keys()
        for key in x:
            assert np.array_equal(np.asarray(x[key]), np.asarray(y[key])), key


def _env() -> dict:
    """The environment for a child Python that imports this checkout."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path}


def _resume_in_new_process(ckpt_dir: Path, max_individuals: int) -> dict:
    code = textwrap.dedent(
        f"""
        import json, sys
        from amlz_compile.search.experiment import resume_search
        r = resume_search({str(ckpt_dir)!r}, max_individuals={max_individuals},
                          checkpoint_every_s=None)
        print(json.dumps({{"final": r.final_fitness, "select": r.select_fitness,
                          "individuals": r.individuals, "stopped": r.stopped,
                          "experiments": r.experiments,
                          "best": r.best_program.code.tolist() if r.best_program else None}}))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_resume_continues_exactly(tmp_path):
    cfg = tiny(experiments=0, sweeps=1000)  # one long experiment: the stop is mid-experiment
    n = 20 * 9  # init + 8 sweeps
    full_dir, half_dir = tmp_path / "full", tmp_path / "half"
    full = run_search(cfg, seed=21, max_individuals=n, checkpoint_dir=full_dir,
                      checkpoint_every_s=None)  # fmt: skip
    assert full.stopped == "max_individuals"
    half = run_search(cfg, seed=21, max_individuals=n // 2 + 10, checkpoint_dir=half_dir,
                      checkpoint_every_s=None)  # fmt: skip
    assert half.stopped == "max_individuals"
    mid = load_checkpoint(half_dir)
    assert mid["flow"]["current"] is not None
    resumed = _resume_in_new_process(half_dir, n)
    assert resumed["stopped"] == "max_individuals"
    assert resumed["final"] == full.final_fitness
    assert resumed["select"] == full.select_fitness
    assert resumed["best"] == full.best_program.code.tolist()
    # the checkpoints written at the stop hold identical populations, fitnesses and streams
    _assert_same_islands(load_checkpoint(half_dir), load_checkpoint(full_dir))
    assert load_checkpoint(half_dir)["flow"]["rng"] == load_checkpoint(full_dir)["flow"]["rng"]


def test_islands_resume_exactly_and_checkpoint_pauses_change_nothing(tmp_path):
    """Two islands whose workers run one epoch ahead: a run stopped by its budget and resumed
    in a new process ends where the uninterrupted run does; a checkpoint after every epoch
    (the workers then wait for the driver at each epoch's end) changes nothing; and a
    stagnation stop ends after the epoch in flight, whatever the checkpoints."""
    cfg = tiny(experiments=0, sweeps=1000)
    kw = dict(seed=5, islands=2, migrate_every=40, migrants=5)
    n = 2 * 20 + 12 * 2 * 40  # init + 12 epochs of 2 islands x 2 sweeps
    full = run_search(cfg, max_individuals=n, checkpoint_dir=tmp_path / "full",
                      checkpoint_every_s=None, **kw)  # fmt: skip
    every = run_search(cfg, max_individuals=n, checkpoint_dir=tmp_path / "every",
                       checkpoint_every_s=1e-9, **kw)  # fmt: skip
    half = run_search(cfg, max_individuals=n // 2, checkpoint_dir=tmp_path / "half",
                      checkpoint_every_s=None, **kw)  # fmt: skip
    assert full.stopped == every.stopped == half.stopped == "max_individuals"
    assert full.individuals == n and half.individuals < n
    resumed = _resume_in_new_process(tmp_path / "half", n)
    for other in (every, resumed):
        got = other if isinstance(other, dict) else {
            "final": other.final_fitness, "select": other.select_fitness,
            "best": other.best_program.code.tolist()}  # fmt: skip
        assert got["final"] == full.final_fitness and got["select"] == full.select_fitness
        assert got["best"] == full.best_program.code.tolist()
    for name in ("every", "half"):
        _assert_same_islands(load_checkpoint(tmp_path / name), load_checkpoint(tmp_path / "full"))
    stalled = [
        run_search(
            cfg,
            max_individuals=n,
            flow="fast",
            patience=80,
            checkpoint_dir=tmp_path / d,
            checkpoint_every_s=every_s,
            **kw,
        )  # fmt: skip
        for d, every_s in (("stall", None), ("stall_every", 1e-9))
    ]
    assert any(h["ended"] == "stagnation" for h in stalled[0].history)
    assert stalled[0].history == [
        {k: v for k, v in h.items() if k != "elapsed"} | {"elapsed": a["elapsed"]}
        for h, a in zip(stalled[1].history, stalled[0].history, strict=True)
    ]
    assert stalled[0].best_program == stalled[1].best_program


def test_resume_rejects_bad_checkpoints(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint"):
        resume_search(tmp_path)
    (tmp_path / "checkpoint.json").write_text('{"format": "amlz-checkpoint", "version": 1')
    with pytest.raises(CheckpointError, match="corrupt"):
        resume_search(tmp_path)


def test_sigkill_loses_at_most_the_work_since_the_last_checkpoint(tmp_path):
    cfg = tiny(experiments=0, sweeps=10_000)
    cfg_path = tmp_path / "cfg.json"
    cfg_path.write_text(json.dumps(cfg))
    ckpt_dir = tmp_path / "run"
    total = 20 * 2000
    code = textwrap.dedent(
        f"""
        from amlz_compile.search.experiment import run_search
        run_search({str(cfg_path)!r}, seed=8, max_individuals={total},
                   checkpoint_dir={str(ckpt_dir)!r}, checkpoint_every_s=None,
                   checkpoint_every_individuals=200)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        ckpt_file = ckpt_dir / "checkpoint.json"
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            # every read sees a complete checkpoint (atomic writes): load never fails here
            if ckpt_file.exists() and load_checkpoint(ckpt_dir)["flow"]["current"] is not None:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    ckpt = load_checkpoint(ckpt_dir)  # the last complete checkpoint loads
    done = sum(int(s["evolution"]["counters"][0]) for s in ckpt["islands"])
    assert 0 < done < total
    # at most a temporary file of an interrupted write is left beside it
    kept = ("checkpoint.json", "checkpoint.prev.json")
    assert all(p.endswith(".tmp") for p in os.listdir(ckpt_dir) if p not in kept)
    # resuming finishes the run exactly as an uninterrupted run would have
    resumed = _resume_in_new_process(ckpt_dir, total)
    reference = run_search(cfg, seed=8, max_individuals=total, checkpoint_every_s=None)
    assert resumed["individuals"] == reference.individuals
    assert resumed["select"] == reference.select_fitness
    assert resumed["best"] == reference.best_program.code.tolist()


def test_resume_continues_to_the_runs_own_budget(tmp_path):
    cfg = tiny(experiments=1, sweeps=30)  # one experiment that would go on past the limit
    first = run_search(cfg, seed=4, max_individuals=100, checkpoint_dir=tmp_path,
                       checkpoint_every_s=None)  # fmt: skip
    assert first.stopped == "max_individuals"
    again = resume_search(tmp_path, checkpoint_every_s=None)
    assert again.stopped == "max_individuals" and again.individuals == first.individuals
    more = resume_search(tmp_path, max_individuals=200, checkpoint_every_s=None)
    assert more.stopped == "max_individuals" and more.individuals > first.individuals
    # the new total is the run's budget from now on
    assert resume_search(tmp_path, checkpoint_every_s=None).individuals == more.individuals


def test_resume_counts_the_time_limit_in_all(tmp_path):
    cfg = tiny(experiments=0, sweeps=100_000)
    first = run_search(cfg, seed=4, time_limit=0.5, checkpoint_dir=tmp_path,
                       checkpoint_every_s=None)  # fmt: skip
    assert first.stopped == "time_limit"
    t0 = time.perf_counter()
    again = resume_search(tmp_path, checkpoint_every_s=None)  # the half second is used up
    assert again.stopped == "time_limit" and again.individuals == first.individuals
    assert time.perf_counter() - t0 < 60
    more = resume_search(tmp_path, time_limit=0.5, checkpoint_every_s=None)
    assert more.stopped == "time_limit" and more.individuals > first.individuals


def test_resume_takes_a_budget_for_checkpoints_that_record_none(tmp_path):
    cfg = tiny(experiments=1, sweeps=30)
    first = run_search(cfg, seed=4, max_individuals=100, checkpoint_dir=tmp_path,
                       checkpoint_every_s=None)  # fmt: skip
    ckpt = json.loads((tmp_path / "checkpoint.json").read_text())
    del ckpt["flow"]["budget"]
    (tmp_path / "checkpoint.json").write_text(json.dumps(ckpt))
    again = resume_search(tmp_path, checkpoint_every_s=None,
                          budget={"max_individuals": 100, "time_limit": None})  # fmt: skip
    assert again.individuals == first.individuals


def test_search_options_are_checked_once_when_made():
    assert SearchOptions().patience == 0
    assert SearchOptions(flow="fast").patience == FAST_PATIENCE
    assert SearchOptions(time_limit=2, migrate_every=5.0).time_limit == 2.0
    for bad in ({"flow": "slow"}, {"runner": "mars"}, {"islands": 0}, {"patience": -1},
                {"time_limit": 0}, {"max_individuals": 1.5}, {"migrate_every": 0}):  # fmt: skip
        with pytest.raises(ConfigError):
            SearchOptions(**bad)


def test_the_warm_up_helper_runs_and_can_be_turned_off(monkeypatch):
    """The cold-start helper's work runs without error on a run's config (it only compiles and
    evaluates a fixed program), and AMLZ_WARM_UP=0 starts no helper."""
    from amlz_compile.search.warm_up import start_warm_up, warm_up

    config = ExperimentConfig.from_dict(tiny())
    warm_up(config.to_dict(), strict=True)
    monkeypatch.setenv("AMLZ_WARM_UP", "0")
    assert start_warm_up(config) is None
