"""Every example in examples/ runs end to end at --smoke size in a real subprocess, exits 0 and
writes its results JSON with the keys RESULTS.md relies on (so no example silently rots)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

EXPECTED = {
    "evolution_vs_random_search.py": {"experiment", "size", "seed", "settings", "cells"},
    "linear_from_scratch.py": {
        "experiment",
        "budget_unit",
        "settings",
        "success",
        "individuals_to_solution",
        "runs",
    },
    "backprop_from_scratch.py": {
        "experiment",
        "budget_unit",
        "settings",
        "hand_written_final_mean_rms",
        "levels",
    },
    "projected_binary_digits.py": {
        "experiment",
        "budget_unit",
        "baselines",
        "evolved_final",
        "beats_logistic",
        "beats_nn",
        "runs",
    },
    "own_data_vs_sklearn.py": {
        "experiment",
        "individuals_per_search",
        "datasets",
        "best_model",
        "table",
        "program",
    },
    "adaptation_few_steps.py": {"experiment", "budget_unit", "settings", "arms"},
}


def _run(script: str, out: Path, *extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env["MPLBACKEND"] = "Agg"
    return subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / script),
            "--smoke",
            "--seed",
            "3",
            "--out",
            str(out),
            *extra,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """Runs each example once at --smoke size; returns (process, output directory)."""
    done: dict[str, tuple[subprocess.CompletedProcess, Path]] = {}

    def get(script: str):
        if script not in done:
            out = tmp_path_factory.mktemp(script.removesuffix(".py"))
            done[script] = (_run(script, out), out)
        return done[script]

    return get


HELPERS = {"stats.py", "results_tables.py", "effective_views.py"}  # not experiments


def test_every_example_is_tested():
    scripts = {p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")}
    assert scripts - HELPERS == set(EXPECTED)


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_example_smoke(script, smoke):
    proc, tmp_path = smoke(script)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    data = json.loads((tmp_path / "results.json").read_text())
    missing = EXPECTED[script] - set(data)
    assert not missing, f"{script} results.json lacks {missing}"
    assert data["size"] == "smoke"
    assert data["seed"] == 3
    # The discovered program is written in the text form and parses back.
    from amlz_compile.ir.text import parse_program

    programs = sorted(tmp_path.glob("*.txt"))
    assert programs, f"{script} wrote no program file"
    for p in programs:
        parse_program(p.read_text())


def test_linear_from_scratch_repeats_every_seed(smoke):
    """Every seed is a search of its own with the budget in individuals; the success rate
    counts the solved seeds, and each seed's best program is stored."""
    proc, tmp_path = smoke("linear_from_scratch.py")
    assert proc.returncode == 0, proc.stderr[-4000:]
    data = json.loads((tmp_path / "results.json").read_text())
    st, runs = data["settings"], data["runs"]
    assert data["budget_unit"] == "individuals"
    assert len(runs) == st["seeds"] == len({r["seed"] for r in runs}) == 2
    solved = [r for r in runs if r["solved"]]
    assert data["success"]["successes"] == len(solved) == data["individuals_to_solution"]["n"]
    for r in runs:
        assert r["solved"] == (r["select_fitness"] is not None and r["select_fitness"] > 0.9999)
        assert r["individuals"] >= st["individuals"] or r["solved"]
        assert (tmp_path / f"seed_{r['seed']}.txt").exists()


def test_own_data_reports_every_model_over_the_seeds(smoke):
    """Each dataset keeps every model's held-out scores per seed (raw values and interval) and
    compares each with the linear baseline on the same splits."""
    proc, tmp_path = smoke("own_data_vs_sklearn.py")
    assert proc.returncode == 0, proc.stderr[-4000:]
    data = json.loads((tmp_path / "results.json").read_text())
    n = data["settings"]["seeds"]
    for ds in data["datasets"].values():
        assert len(ds["runs"]) == n
        linear = ds["linear_baseline"]
        assert set(ds["vs_linear_baseline"]) == set(ds["models"]) - {linear}
        for model, m in ds["models"].items():
            per_seed = [next(r["held_out"] for r in run["rows"] if r["model"] == model)
                        for run in ds["runs"]]  # fmt: skip
            assert m["held_out"]["values"] == per_seed
            assert m["held_out"]["n"] == len(m["fit_seconds"]) == n


def test_evolution_vs_random_search_numbers(smoke):
    """The ladder's bookkeeping is consistent: six cells, counts within budgets, exact intervals
    around the rates, the per-seed raw numbers kept, the CSV table written."""
    proc, tmp_path = smoke("evolution_vs_random_search.py")
    assert proc.returncode == 0, proc.stderr[-4000:]
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["budget_unit"] == "individuals"
    kinds_levels = {(c["kind"], c["level"]) for c in data["cells"].values()}
    assert kinds_levels == {
        (k, lv) for k in ("linear", "affine") for lv in ("learn", "predict_learn", "whole")
    }
    n_seeds = data["settings"]["seeds"]
    for cell in data["cells"].values():
        evo, rs = cell["evolution"], cell["random_search"]
        assert 0 <= evo["successes"] <= evo["n"] == n_seeds == len(evo["per_seed_success"])
        assert evo["ci"][0] <= evo["rate"] <= evo["ci"][1]
        assert rs["experiments"]["n"] == data["settings"]["rs_experiments"]
        assert rs["programs"] == rs["experiments"]["n"] * cell["budget_individuals"]
        assert 0 <= rs["acceptable"] <= rs["programs"]
        assert cell["reference_mean_rms"] > 0
        # Success means a lower mean RMS than the reference, and vice versa.
        for ok, rms in zip(evo["per_seed_success"], evo["best_mean_rms"], strict=True):
            assert ok == (rms is not None and rms < cell["reference_mean_rms"])
    assert (tmp_path / "ladder.csv").read_text().startswith("kind,level,budget")


def test_bad_flag_is_a_usage_error(tmp_path):
    proc = _run("linear_from_scratch.py", tmp_path, "--paper")
    assert proc.returncode == 2  # --smoke and --paper are mutually exclusive
    assert "not allowed with argument" in proc.stderr
    proc = _run("linear_from_scratch.py", tmp_path, "--size", "paper")
    assert proc.returncode == 2  # so are --smoke and --size
    assert "not allowed with argument" in proc.stderr


def test_adaptation_arms_and_baselines(smoke):
    """Both arms ran every seed; the tuned network was selected on the search tasks from the
    full grid; per-seed raw numbers and paired tests are kept."""
    proc, tmp_path = smoke("adaptation_few_steps.py")
    assert proc.returncode == 0, proc.stderr[-4000:]
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["budget_unit"] == "individuals"
    assert set(data["arms"]) == {"treatment", "control"}
    for arm in data["arms"].values():
        tuned = arm["tuned_network"]
        assert len(tuned["grid"]) == 15
        assert tuned["best"]["search_accuracy"] == max(g["search_accuracy"] for g in tuned["grid"])
        assert len(arm["runs"]) == data["settings"]["seeds"] == arm["evolved_held_out"]["n"]
        for run in arm["runs"]:
            assert run["individuals"] >= data["settings"]["individuals"]
            assert run["vs_tuned_network"]["n"] == len(run["held_out_per_task"])
        assert 0 <= arm["adaptation_emerged"]["successes"] <= len(arm["runs"])
    # The analysis: the network tuned on the select tasks, the stored programs re-evaluated
    # to the same per-task numbers, ablations with Holm-corrected paired tests.
    analysis = data["analysis"]
    assert 0 <= analysis["adaptation_treatment_vs_control"]["fisher_exact_p"] <= 1
    for name, arm in data["arms"].items():
        sel = analysis["tuned_on_select"][name]
        assert len(sel["grid"]) == 15
        assert sel["best"]["select_accuracy"] == max(g["select_accuracy"] for g in sel["grid"])
        assert sel["stored_programs_reproduced"] == len(arm["runs"])
        ab = analysis["ablation"][name]
        assert ab["variants"] and {v["change"] for v in ab["variants"]} <= {"remove", "revert"}
        for v in ab["variants"]:
            assert v["vs_evolved"]["n"] == ab["tasks"]["num_tasks"]
        assert [x["seed"] for x in ab["all_seeds"]] == [r["seed"] for r in arm["runs"]]


@pytest.mark.parametrize("setting, noise", [("small", None), ("noisy", 0.2)])
def test_projected_binary_small_and_noisy_settings(tmp_path, setting, noise):
    """The smaller setting (fewer projected features and training examples) and the noisy one
    (the same plus training-label noise) run and say so in their settings; baselines are tuned
    on the same select tasks as in the default setting."""
    proc = _run("projected_binary_digits.py", tmp_path, "--setting", setting)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    data = json.loads((tmp_path / "results.json").read_text())
    st = data["settings"]
    assert (st["setting"], st["features"], st["num_train"]) == (setting, 4, 30)
    assert st.get("label_noise") == noise
    for b in data["baselines"].values():
        assert b["best"]["select"] == max(g["select"] for g in b["grid"])
        assert len(b["final_per_task"]) == st["final"]
    assert len(data["runs"]) == st["seeds"]


def _adaptation_module():
    sys.path.insert(0, str(EXAMPLES))
    try:
        import adaptation_few_steps
    finally:
        sys.path.remove(str(EXAMPLES))
    return adaptation_few_steps


def test_backprop_levels_and_normalised_tasks(smoke):
    """Three levels (Learn; Predict + Learn; whole program) on normalised teacher tasks, each
    with the per-seed numbers and the two success rates against the hand-written baselines."""
    proc, tmp_path = smoke("backprop_from_scratch.py")
    assert proc.returncode == 0, proc.stderr[-4000:]
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["settings"]["normalize_output"] is True
    assert list(data["levels"]) == ["learn", "predict_learn", "whole"]
    hand = data["hand_written_final_mean_rms"]
    assert set(hand) == {"neural_net", "figure5_nn", "linear", "neural_net_tuned"}
    # Unit label scale: the linear regressor's RMS is of order 1, not the raw scale (about 6).
    assert 0.2 < hand["linear"] < 2.0
    # The network's learning rate is tuned on the search tasks; it beats linear regression.
    lr = data["settings"]["learning_rate_tuned"]
    scores = data["settings"]["learning_rate_search_mean_rms"]
    assert scores[str(lr)] == min(v for v in scores.values() if v is not None)
    assert hand["neural_net_tuned"] < hand["linear"]
    for level in data["levels"].values():
        runs = level["runs"]
        assert len(runs) == data["settings"]["seeds"]
        for r in runs:
            rms = r["final_mean_rms"]
            ok = rms is not None
            assert r["beats_linear"] == (ok and rms < hand["linear"])
            assert r["matches_backprop"] == (ok and rms <= 1.05 * hand["neural_net_tuned"])
            assert r["matches_untuned_backprop"] == (ok and rms <= 1.05 * hand["neural_net"])
        assert level["beats_linear"]["n"] == len(runs)
        assert level["beats_linear"]["successes"] == sum(r["beats_linear"] for r in runs)
    assert {p.name for p in tmp_path.glob("*_best.txt")} == {
        f"{lv}_best.txt" for lv in ("learn", "predict_learn", "whole")
    }


def test_ablations_and_holm():
    """Every instruction gets a removal; a changed constant also gets a revert to the starting
    network's value; Holm rejects in order of p-values."""
    from amlz_compile.algorithms import builtin_text
    from amlz_compile.ir.text import parse_program

    mod = _adaptation_module()
    start = parse_program(builtin_text("neural_net"))
    changed = parse_program(builtin_text("neural_net").replace("s3 = 0.01", "s3 = 0.05"))
    variants = mod.ablations(changed, start)
    assert sum(v["change"] == "remove" for v in variants) == len(changed)
    reverts = [v for v in variants if v["change"] == "revert"]
    assert len(reverts) == 1 and reverts[0]["program"] == start
    assert mod.holm([0.001, 0.04, 0.02, None]) == [True, False, False, False]
    assert mod.holm([0.001, 0.02, 0.02]) == [True, True, True]


def test_learning_rate_decay_is_detected():
    """The adaptation check finds a decaying learning rate, and none in the plain network."""
    from amlz_compile.algorithms import builtin_text
    from amlz_compile.ir.text import parse_program

    detect = _adaptation_module().learning_rate_adaptation
    nn = builtin_text("neural_net")
    assert detect(parse_program(nn)) == []
    decayed = nn.replace("  s3 = 0.01\n", "  s3 = 0.01\n  s5 = 0.99\n").replace(
        "def Learn():\n", "def Learn():\n  s3 = s3 * s5\n"
    )
    found = detect(parse_program(decayed))
    assert len(found) == 1 and "scales a weight update" in found[0]
    # A carried scalar that never reaches the weights (a step counter) is not an adaptation.
    counter = nn.replace("def Learn():\n", "def Learn():\n  s6 = s6 + s7\n").replace(
        "  s3 = 0.01\n", "  s3 = 0.01\n  s7 = 1.0\n"
    )
    assert detect(parse_program(counter)) == []


def test_results_md_is_generated_from_the_results_files():
    """RESULTS.md is exactly what `python examples/results_tables.py --write` writes from the
    committed results files (no hand-copied numbers), and it keeps the tables and verdicts."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        import results_tables
    finally:
        sys.path.remove(str(EXAMPLES))
    text = results_tables.render(EXAMPLES / "results")
    assert text == (EXAMPLES / "RESULTS.md").read_text("utf-8"), (
        "RESULTS.md is stale: run python examples/results_tables.py --write"
    )
    for needle in ("## 1. Evolution vs random search", "## Summary", "not reproduced"):
        assert needle in text


def test_effective_views_are_stored_and_reproducible(tmp_path, monkeypatch):
    """Every program effective_views.py covers has its stored view, within the tolerance of
    the original's fitness; recomputing one from the results files gives the stored text."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        import effective_views
    finally:
        sys.path.remove(str(EXAMPLES))
    for rel, (names, _) in effective_views.PROGRAMS.items():
        for name in names:
            json_path, text_path = effective_views.view_paths(EXAMPLES / "results" / rel / name)
            data = json.loads(json_path.read_text("utf-8"))
            assert data["approximate"] is True and data["program_file"] == name
            assert abs(data["fitness_after"] - data["fitness_before"]) <= data["tolerance"]
            assert text_path.read_text("utf-8").startswith("# effective program: APPROXIMATE")
    rel = "projected_binary_digits/noisy"
    copy = tmp_path / rel
    copy.mkdir(parents=True)
    for name in ("results.json", "discovered.txt"):
        (copy / name).write_bytes((EXAMPLES / "results" / rel / name).read_bytes())
    monkeypatch.setattr(effective_views, "RESULTS", tmp_path)
    effective_views.main([rel])
    stored = EXAMPLES / "results" / rel / "discovered.effective.txt"
    assert (copy / "discovered.effective.txt").read_text() == stored.read_text()
