"""RESULTS.md, generated from the results files (no hand-copied numbers).

    python examples/results_tables.py --write          # regenerate examples/RESULTS.md
    python examples/results_tables.py [RESULTS_DIR]    # print it (default: examples/results)

Every number in RESULTS.md comes from `examples/results/**/results.json` or from a program
text file stored beside it; the prose without numbers is fixed template text here. The paper's
own figures, quoted for comparison, are the constants in `PAPER`. tests/test_examples.py checks
that the committed RESULTS.md equals this script's output. The approximate effective-program
views it includes are files too (`*.effective.json` / `.txt` beside each program), written by
`python examples/effective_views.py`; this script never evaluates anything.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
OUTPUT = HERE / "RESULTS.md"

# The paper's (and the reference code's) figures, quoted next to ours; not measured here.
PAPER = {
    "fig4_ratio": "about 5x",
    "fig4_difficulty": "10^7",
    "adaptation_treatment": "30/30",
    "adaptation_control": "3/30",
    "s10_basic_beats_logistic": "1 %",
    "demo_minutes": 5,
}


# -- formatting ------------------------------------------------------------------------------


def _g(x, digits: int = 4) -> str:
    if x is None:
        return "inf"
    return f"{x:.{digits}g}"


def _ci(c: list, digits: int = 3) -> str:
    lo, hi = c
    hi_s = "inf" if hi is None or hi == float("inf") else f"{hi:.{digits}g}"
    return f"[{lo:.{digits}g}, {hi_s}]"


def _rate(s: dict) -> str:
    return f"{s['successes']}/{s['n']} = {s['rate']:.3g} {_ci(s['ci'])}"


def _score(s: dict, digits: int = 4) -> str:
    return f"{s['mean']:.{digits}g} {_ci(s['t_ci'], digits)} (n = {s['n']})"


def _diff(s: dict, digits: int = 3) -> str:
    """A mean difference with its t interval (score summary or paired test)."""
    mean = s["mean"] if "mean" in s else s["mean_difference"]
    lo, hi = s["t_ci"]
    return f"{mean:+.{digits}g} [{lo:+.{digits}g}, {hi:+.{digits}g}]"


def _p(p) -> str:
    return "n/a (identical)" if p is None else f"{p:.2g}"


def _times(d: dict) -> str:
    return f"{d['cpu_seconds']:.0f} CPU-s ({d['seconds']:.0f} s wall)"


def _load(root: Path, rel: str) -> dict | None:
    path = root / rel / "results.json"
    return json.loads(path.read_text("utf-8")) if path.exists() else None


def _program(root: Path, rel: str) -> list[str]:
    """A stored program text file as a code block (its `#` header included)."""
    path = root / rel
    if not path.exists():
        return []
    return ["```", *path.read_text("utf-8").rstrip("\n").splitlines(), "```", ""]


def _link(rel: str) -> str:
    return f"[`{rel.split('/')[-1]}`](results/{rel})"


# -- tables ----------------------------------------------------------------------------------


def ladder(d: dict) -> list[str]:
    out = [
        "| task type | level | difficulty (RS programs per acceptable one) | evolution "
        "successes (95 % CI) | RS experiments of equal budget | RS programs acceptable | "
        "RS success rate at N (pooled) | evolution / RS (95 % CI) | CPU-s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for c in d["cells"].values():
        r, rel = c["random_search"], c["relative_success_rate"]
        diff = (
            f"{r['difficulty']:.3g}"
            if r["difficulty"]
            else f"> {r['difficulty_lower_95']:.3g} (95 %)"
        )
        ratio = f"{rel['ratio']:.3g}" if rel["ratio"] is not None else "undefined"
        out.append(
            f"| {c['kind']} | {c['level']} | {diff} | {_rate(c['evolution'])} | "
            f"{_rate(r['experiments'])} | {r['acceptable']}/{r['programs']} | "
            f"{rel['rs_rate_at_budget']:.3g} | {ratio} {_ci(rel['ci'])} | "
            f"{c['cpu_seconds']:.0f} |"
        )
    return out


def adaptation(d: dict) -> list[str]:
    out = [
        "| arm | epochs | initial NN | NN tuned on the search tasks (lr, init) | evolved, mean "
        "over seeds (95 % t CI) | evolved - tuned (95 % t CI) | seeds better / worse than "
        "tuned (paired p < 0.05) | learning-rate adaptation | CPU-s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, a in d["arms"].items():
        b = a["baselines_held_out"]
        t = a["tuned_network"]["best"]
        out.append(
            f"| {name} | {a['epochs']} | {b['neural_net (initial)']['mean']:.4f} | "
            f"{b['neural_net (tuned)']['mean']:.4f} ({t['learning_rate']}, {t['init_scale']}) | "
            f"{_score(a['evolved_held_out'])} | {_score(a['evolved_minus_tuned_across_seeds'])}"
            f" | {a['seeds_better_than_tuned_p05']} / {a['seeds_worse_than_tuned_p05']} | "
            f"{_rate(a['adaptation_emerged'])} | {a['cpu_seconds']:.0f} |"
        )
    return out


def adaptation_tuned_on_select(d: dict) -> list[str]:
    out = [
        "| arm | NN tuned on the select tasks (lr, init; select accuracy) | its held-out "
        "accuracy | evolved - it, over seeds (95 % t CI) | seeds better / worse (paired "
        "p < 0.05) | stored programs re-evaluated to the same per-task numbers |",
        "|---|---|---|---|---|---|",
    ]
    for name, t in d["analysis"]["tuned_on_select"].items():
        b = t["best"]
        out.append(
            f"| {name} | {b['learning_rate']}, {b['init_scale']}; {b['select_accuracy']:.4f} | "
            f"{t['held_out_mean']:.4f} | {_score(t['evolved_minus_tuned_across_seeds'])} | "
            f"{t['seeds_better_p05']} / {t['seeds_worse_p05']} | "
            f"{t['stored_programs_reproduced']}/{len(t['per_seed'])} |"
        )
    return out


def ablation(ab: dict) -> list[str]:
    out = [
        "| component | instruction of the evolved program | ablation | also in the starting "
        "network (op and data) | mean accuracy | ablated - evolved (95 % t CI) | paired t p | "
        "significant (Holm, 5 %) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for v in ab["variants"]:
        how = "removed" if v["change"] == "remove" else f"reverted to `{v['reverted_to']}`"
        t = v["vs_evolved"]
        out.append(
            f"| {v['component']} | `{v['instruction']}` | {how} | "
            f"{'yes' if v['in_start'] else 'no'} | {v['mean']:.4f} | {_diff(t)} | "
            f"{_p(t['p_t'])} | {'**yes**' if v['holm_significant'] else 'no'} |"
        )
    return out


def _backprop_reference(d: dict) -> str:
    return (
        "neural_net_tuned"
        if "neural_net_tuned" in d["hand_written_final_mean_rms"]
        else ("neural_net")
    )


def backprop(d: dict) -> list[str]:
    hand = d["hand_written_final_mean_rms"]
    ref = _backprop_reference(d)
    out = [
        "hand-written, mean RMS on the final tasks: "
        + ", ".join(
            f"`{k}` {v:.4g}" if v is not None else f"`{k}` inf (training diverges)"
            for k, v in hand.items()
        ),
        "",
        "| level | final mean RMS over seeds (95 % t CI, or median) | beats `linear` | backprop "
        "reference of this row (its RMS) | within 5 % of that reference | CPU-s |",
        "|---|---|---|---|---|---|",
    ]
    for name, lv in d["levels"].items():
        rms = [r["final_mean_rms"] for r in lv["runs"]]
        if any(v is None for v in rms):  # a diverging program: RMS inf (null in JSON)
            finite = sorted(v for v in rms if v is not None)
            k = len(rms) - len(finite)
            median = sorted(finite + [float("inf")] * k)[len(rms) // 2]
            score = f"median {median:.4g}; {k} of {len(rms)} seeds diverge (RMS inf)"
        else:
            score = _score(lv["final_mean_rms"])
        out.append(
            f"| {name} | {score} | {_rate(lv['beats_linear'])} | `{ref}` ({hand[ref]:.4g}) | "
            f"{_rate(lv['matches_backprop'])} | {lv['cpu_seconds']:.0f} |"
        )
    return out


def projected(d: dict) -> list[str]:
    out = [
        "| program | mean accuracy, held-out final tasks |",
        "|---|---|",
    ]
    for name, b in d["baselines"].items():
        t = b["best"]
        out.append(
            f"| {name} (tuned: lr {t['learning_rate']}, init {t['init_scale']}) | "
            f"{b['final_mean']:.4f} |"
        )
    out.append(f"| evolved, mean over seeds (95 % t CI) | {_score(d['evolved_final'])} |")
    out += [
        "",
        f"Seeds whose program beats tuned logistic regression (paired p < 0.05): "
        f"{_rate(d['beats_logistic'])}; the tuned 2-layer network: {_rate(d['beats_nn'])}.",
    ]
    return out


# -- sections --------------------------------------------------------------------------------


def _single(d: dict) -> bool:
    return "settings" not in d or "seeds" not in d.get("settings", {})


def intro(root: Path) -> list[str]:
    rows = []
    for path in sorted(root.glob("**/results.json")):
        d = json.loads(path.read_text("utf-8"))
        st = d.get("settings", {})
        rel = path.parent.relative_to(root).as_posix()
        if _single(d):
            kind = "single earlier run (one seed, wall-clock limit)"
            budget = f"{d.get('individuals', d.get('individuals_per_search'))} individuals"
            if "individuals_per_search" in d:
                kind = "single earlier run (one seed per search)"
                budget = f"{d['individuals_per_search']} individuals per search"
        else:
            kind = "repeated seeds"
            per = st.get("individuals", st.get("N"))
            budget = f"{st['seeds']} seeds x {per} individuals"
        wall = f"{d['seconds']:.0f}" if "seconds" in d else "not recorded"
        rows.append(
            f"| `{rel}` | {kind} | {d['size']} | {budget} | {d['cpu_seconds']:.0f} | {wall} |"
        )
    return [
        "# What the examples found on this project's machine",
        "",
        "This file is generated: `python examples/results_tables.py --write` writes it from",
        "`examples/results/**/results.json` and the program text files stored beside them, and",
        "`tests/test_examples.py` checks that the committed file equals the generator's output.",
        "Edit the generator's templates or the results, not this file.",
        "",
        "Budgets are counted in individuals, not wall time, except in the single earlier runs",
        "marked as such (one seed, a wall-clock limit). Success rates carry exact",
        "(Clopper-Pearson) 95 % intervals, mean scores 95 % t intervals (bootstrap intervals are",
        "in the JSON), comparisons are paired tests over held-out tasks (`examples/stats.py`).",
        "Times are CPU seconds of the experiment process (`cpu_seconds`, numba compilation",
        "included) and wall seconds (`seconds`), on the project's 2-core machine shared with other",
        "engineers' benchmarks, every run niced. The paper's figures quoted for comparison are",
        "constants of the generator, not measurements. Every run kept under",
        "[`examples/results/`](results/):",
        "",
        "| results | kind | size | budget | CPU-s | wall s |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
    ]


def section_ladder(root: Path) -> list[str]:
    rel = "evolution_vs_random_search"
    d, big = _load(root, rel), _load(root, f"{rel}/linear_500_seeds")
    if d is None:
        return []
    st = d["settings"]
    refs = {c["kind"]: c["reference_mean_rms"] for c in d["cells"].values()}
    out = [
        "## 1. Evolution vs random search as a difficulty ladder (section 4.1, Figure 4)",
        "",
        "```",
        f"python examples/evolution_vs_random_search.py --out examples/results/{rel}",
        "```",
        "",
        f"Default size, {_times(d)}; `results/{rel}/results.json` (raw per-seed successes, best",
        "RMS per experiment, per-RS-experiment successes), `ladder.csv`, `run.log`. Settings",
        "(fixed in the script's docstring before the run): linear and affine tasks, F =",
        f"{st['features']}, D = {st['num_tasks']} tasks, {st['num_train']} training and "
        f"{st['num_valid']} validation examples, P = {st['P']}, budget N = {st['N']} individuals",
        f"per experiment in every cell; **{st['seeds']} evolution experiments and "
        f"{st['rs_experiments']} RS experiments of the same budget per cell**. Levels: `learn`",
        "(Setup and Predict of SGD given, Learn random), `predict_learn` (Setup given) and `whole`",
        "(from random programs). Success: mean RMS over the tasks strictly below SGD's",
        "(reference RMS "
        + ", ".join(f"{v:.3g} {k}" for k, v in refs.items())
        + "). The ratio uses the pooled RS rate and a",
        "Bonferroni combination of the two exact 97.5 % intervals.",
        "",
        *ladder(d),
        "",
        f"![ladder](results/{rel}/evolution_vs_random_search.png)",
        "",
    ]
    if big is not None:
        bs = big["settings"]
        cells = ",".join(f"{c['kind']}/{c['level']}" for c in big["cells"].values())
        out += [
            f"**A larger run of the cells with successes** (the same command with `--cells "
            f"{cells} --seeds {bs['seeds']} --rs-experiments {bs['rs_experiments']}`, run after",
            "the default run and chosen because of it; it contains the default run's seeds and",
            f"RS experiments; {_times(big)}; `results/{rel}/linear_500_seeds/`):",
            "",
            *ladder(big),
            "",
        ]
        if (root / rel / "linear_500_seeds" / "evolution_vs_random_search.png").exists():
            out += [
                f"![ladder, larger run](results/{rel}/linear_500_seeds/"
                "evolution_vs_random_search.png)",
                "",
            ]
    out.append("What this shows, and what it does not:")
    out.append("")
    if big is not None:
        parts = []
        for c in big["cells"].values():
            rel_ = c["relative_success_rate"]
            if rel_["ratio"] is None:
                continue
            parts.append(
                f"{rel_['ratio']:.3g}x {_ci(rel_['ci'])} at difficulty "
                f"{c['random_search']['difficulty']:.3g} ({c['kind']} `{c['level']}`; Fisher's "
                f"exact test of {c['evolution']['n']} evolution vs "
                f"{c['random_search']['experiments']['n']} RS experiments p = "
                f"{c['fisher_p_evolution_vs_rs_experiments']:.2g})"
            )
        small_p = min(
            c["fisher_p_evolution_vs_rs_experiments"]
            for c in d["cells"].values()
            if c["evolution"]["successes"] or c["random_search"]["acceptable"]
        )
        out += [
            "- **Evolution / random search at equal budget**, larger run: "
            + "; ".join(parts)
            + f". The paper: {PAPER['fig4_ratio']} at difficulty {PAPER['fig4_difficulty']} on",
            f"  linear regression. The default run alone: smallest Fisher p {small_p:.2g}.",
        ]
    none = [
        c
        for c in d["cells"].values()
        if c["evolution"]["successes"] == 0 and c["random_search"]["acceptable"] == 0
    ]
    if none:
        lower = min(c["random_search"]["difficulty_lower_95"] for c in none)
        out += [
            "- **Not measured** (no success for either method, ratio undefined): "
            + ", ".join(f"{c['kind']} `{c['level']}`" for c in none)
            + f"; difficulty above {lower:.3g} at 95 %",
            f"  ({none[0]['evolution']['n']} evolution experiments, "
            f"{none[0]['random_search']['programs']} random programs per cell).",
        ]
    shortcut = {c["kind"]: c["shortcut_mean_rms"] for c in d["cells"].values()}
    acceptable = any(c["shortcut_acceptable"] for c in d["cells"].values())
    out += [
        "- The sample-mean shortcut (Learn accumulates learning rate x y x, which ends near the",
        "  sample mean of y x when there are one-over-the-learning-rate examples) has mean RMS "
        + ", ".join(f"{v:.3g} ({k})" for k, v in shortcut.items())
        + f" here; acceptable in {'some' if acceptable else 'no'} cell. The best evolved",
        "  program of the default run's linear `learn` cell "
        f"({_link(rel + '/linear_learn_best_evolved.txt')}) is gradient descent:",
        "",
        *_program(root, f"{rel}/linear_learn_best_evolved.txt"),
    ]
    if big is not None:
        firsts = [
            v
            for c in big["cells"].values()
            for v in c["evolution"]["individuals_to_success"]
            if v is not None
        ]
        if firsts:
            out += [
                "- In the larger run, evolution experiments that succeeded found their first",
                f"  acceptable program after {min(firsts)}-{max(firsts)} individuals "
                "(per-seed values in results.json).",
                "",
            ]
    return out


def linear_runs(d: dict) -> list[str]:
    """Per-seed table of the repeated linear-regression run."""
    out = [
        "| seed | solved | individuals until the search stopped | search experiments | "
        "CPU-s | select fitness | final fitness (unseen tasks) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in d["runs"]:
        out.append(
            f"| {r['seed']} | {'yes' if r['solved'] else 'no'} | {r['individuals']:,} | "
            f"{r['experiments']} | {r['cpu_seconds']:.1f} | {_g(r['select_fitness'])} | "
            f"{_g(r['final_fitness'])} |"
        )
    return out


def section_linear(root: Path) -> list[str]:
    rel = "linear_from_scratch"
    d = _load(root, rel)
    if d is None:
        return []
    st = d["settings"]
    ts = d["individuals_to_solution"]
    to_solution = (
        f"median {ts['median']:,}, range {ts['min']:,}-{ts['max']:,} (n = {ts['n']})"
        if ts["n"]
        else "none solved"
    )
    out = [
        "## 2. Linear regression from random programs (the reference demo)",
        "",
        "```",
        f"python examples/linear_from_scratch.py --out examples/results/{rel}",
        "```",
        "",
        f"Default size, {_times(d)}; `results/{rel}/results.json`. Settings (fixed in the",
        "docstring before the run): the `demo` preset (the reference's `run_demo.sh`), flow",
        f"`{st['flow']}` (a search stops as soon as its select fitness passes "
        f"{st['solved_above']}), **{st['seeds']} seeds x at most {st['individuals']:,} "
        "individuals**. Solved:",
        f"**{_rate(d['success'])}**; individuals to solution {to_solution}. The reference",
        f"README says the demo usually succeeds in under {PAPER['demo_minutes']} minutes on one "
        "CPU.",
        "",
        *linear_runs(d),
        "",
    ]
    solved = [r for r in d["runs"] if r["solved"]]
    short = [r for r in solved if r["final_fitness"] is None or r["final_fitness"] <= 0.9999]
    if solved:
        out += [
            f"- Of the {len(solved)} solved seeds, {len(solved) - len(short)} keep a final "
            f"fitness above {st['solved_above']} on the 100 unseen final tasks"
            + (
                "; "
                + ", ".join(f"seed {r['seed']} reaches {_g(r['final_fitness'])}" for r in short)
                + " (its program passed the select tasks but not every unseen one)."
                if short
                else "."
            ),
            f"- Budget per seed {st['individuals']:,} individuals; the solved seeds used "
            f"{sum(r['individuals'] for r in solved) / len(solved) / st['individuals']:.0%} of "
            "it on average, so a smaller budget would lower the rate.",
            "",
        ]
    if d.get("best_seed") is not None:
        out += [
            f"The program of the seed that solved with the fewest individuals (seed "
            f"{d['best_seed']}), simplified ({_link(rel + '/discovered.txt')}); its effective",
            "program (below) is gradient descent on the squared error with a one-step delayed",
            "update: Learn adds the learning rate times the last step's error x input to the",
            "weights, then stores this step's error x input:",
            "",
            *_program(root, f"{rel}/discovered.txt"),
        ]
    out += [f"![linear from scratch](results/{rel}/linear_from_scratch.png)", ""]
    first = _load(root, f"{rel}/single_300s")
    if first is not None:
        lim = first["limits"]
        out += [
            f"**The first default, a single earlier run** (seed {first['seed']}; budget: a "
            f"wall-clock limit of {lim['time_limit']} s, flow `{lim['flow']}`; "
            f"`results/{rel}/single_300s/`). Solved: "
            f"**{'yes' if first['solved'] else 'no'}**, after "
            f"{first['time_to_solution']:.1f} s ({_times(first)}): "
            f"{first['individuals']:,} individuals over {first['experiments']} search "
            "experiments, final fitness "
            f"{first['final_fitness']:.4f}. Its budget was wall time, so whether it solved "
            "depended on the machine's load; the repeated run above replaced it. Its program "
            f"({_link(rel + '/single_300s/discovered.txt')}):",
            "",
            *_program(root, f"{rel}/single_300s/discovered.txt"),
            "It is gradient descent on the squared error with a delayed update: Learn computes",
            "the error and stores a scaled copy of the input plus a carried term; the next",
            "Predict scales it by the Setup constant and the next Learn adds it to the weights.",
            "",
        ]
    return out


def _level_summary(d: dict) -> list[str]:
    ref = _backprop_reference(d)
    out = []
    for name, lv in d["levels"].items():
        rms = [r["final_mean_rms"] for r in lv["runs"]]
        finite = [v for v in rms if v is not None]
        line = (
            f"- `{name}`: {lv['beats_linear']['successes']}/{lv['beats_linear']['n']} seeds beat "
            f"`linear`, {lv['matches_backprop']['successes']}/{lv['matches_backprop']['n']} "
            f"within 5 % of `{ref}`"
        )
        if "matches_untuned_backprop" in lv:
            m = lv["matches_untuned_backprop"]
            line += f", {m['successes']}/{m['n']} within 5 % of `neural_net` (shipped, untuned)"
        line += f"; final RMS {min(finite):.3g}-{max(finite):.3g}"
        if len(finite) < len(rms):
            line += f", {len(rms) - len(finite)} seed(s) diverge"
        hand = d["hand_written_final_mean_rms"]
        wins = [r for r in lv["runs"] if r["beats_linear"]]
        for r in wins:
            line += (
                f"; seed {r['seed']} beats `linear` with {r['final_mean_rms']:.4g} "
                f"({100 * (1 - r['final_mean_rms'] / hand['linear']):.1f} % below)"
            )
        out.append(line + f"; {lv['cpu_seconds']:.0f} CPU-s.")
    return out


def section_backprop(root: Path) -> list[str]:
    rel = "backprop_from_scratch"
    d = _load(root, rel)
    if d is None:
        return []
    st = d["settings"]
    grid = st.get("learning_rate_search_mean_rms", {})
    out = [
        "## 3. Backpropagation on teacher-network tasks (section 4.1, Figure 5 setup)",
        "",
        "```",
        f"python examples/backprop_from_scratch.py --out examples/results/{rel}",
        "```",
        "",
        f"Default size, {_times(d)}, as "
        f"{len(d.get('processes', [1]))} processes on the same seeds and tasks ("
        + "; ".join(
            f"levels {', '.join(p['levels'])}: {p['cpu_seconds']:.0f} CPU-s"
            for p in d.get("processes", [])
        )
        + f"); `results/{rel}/results.json`,",
        "`run.log`. Settings (fixed in the docstring before the run): teacher tasks y = u.ReLU(Mx)",
        "with output scale normalised (`normalize_output: "
        f"{str(st.get('normalize_output')).lower()}`), {st['num_train']} training",
        f"examples, D = {st['D']} search tasks, {st['final']} unseen final tasks, P = {st['P']}, "
        f"**{st['seeds']} seeds x {st['individuals']} individuals per level**. Levels: `learn`",
        "(Setup and Predict of the 2-layer ReLU network given, Learn random), `predict_learn`",
        "(Setup given) and `whole` (from random programs). The network's learning rate was tuned",
        "on the search tasks (mean search RMS: "
        + ", ".join(f"{k}: {_g(v)}" for k, v in grid.items())
        + f"; chosen {st.get('learning_rate_tuned')}); that network, `neural_net_tuned`, is",
        "the given part of the lower levels and the backprop reference of this run. Success:",
        '"beats linear" = mean final RMS below the `linear` SGD regressor\'s; "within 5 %" =',
        "at most 1.05 x the row's backprop reference (named in each row).",
        "",
        *backprop(d),
        "",
        f"![backprop](results/{rel}/backprop_from_scratch.png)",
        "",
        *_level_summary(d),
        "",
        "The best `learn` program is no backpropagation: its Learn adds to the output weights",
        "the learning rate times the previous label times the hidden pre-activations (a Hebbian,",
        "label-correlation update, no error term) and never changes the first layer",
        f"({_link(rel + '/learn_best.txt')}). The `predict_learn` and `whole` bests",
        f"({_link(rel + '/predict_learn_best.txt')}, {_link(rel + '/whole_best.txt')}) predict",
        "without using the input. The paper's Figure 5 network taken literally (`figure5_nn`)",
        "diverges.",
        "",
    ]
    for sub, title in (
        ("unnormalised", "Before normalisation (the library's teacher scale)"),
        ("budget_20k", "The first default (unnormalised, smaller budget)"),
    ):
        e = _load(root, f"{rel}/{sub}")
        if e is None:
            continue
        es = e["settings"]
        out += [
            f"### {title}",
            "",
            f"`results/{rel}/{sub}/`: {es['seeds']} seeds x {es['individuals']} individuals per",
            f"level, {_times(e)}; the backprop reference is `neural_net` as shipped.",
            "",
            *backprop(e),
            "",
            *_level_summary(e),
            "",
        ]
    return out


def _projected_findings(d: dict) -> list[str]:
    """Evolved minus each tuned baseline over seeds, and the per-seed paired verdicts."""
    out = []
    for name, diff in d["evolved_minus_baseline_across_seeds"].items():
        tests = [r[f"vs_{name}"] for r in d["runs"]]
        sig = [t for t in tests if t["p_t"] is not None and t["p_t"] < 0.05]
        better = sum(t["mean_difference"] > 0 for t in sig)
        out.append(
            f"- Evolved minus tuned `{name}` over seeds: {_score(diff, 3)}; seeds significantly "
            f"better / worse on the paired test over {tests[0]['n']} tasks: {better} / "
            f"{len(sig) - better} of {len(tests)}."
        )
    return out


def section_projected(root: Path) -> list[str]:
    rel = "projected_binary_digits"
    d = _load(root, rel)
    if d is None:
        return []
    st = d["settings"]
    lrs = [g["learning_rate"] for g in d["baselines"]["logistic_sgd"]["grid"]]
    scales = sorted({g["init_scale"] for g in d["baselines"]["nn2_sgd"]["grid"]})
    best = max(d["runs"], key=lambda r: r["final_mean"])
    out = [
        "## 4. Projected binary classification on scikit-learn digits (section 4.2, S10)",
        "",
        "```",
        f"python examples/projected_binary_digits.py --out examples/results/{rel}",
        "```",
        "",
        f"Default size, {_times(d)}; `results/{rel}/results.json`, `run.log`. Settings (fixed in",
        f"the docstring before the run): digit pairs projected to **F = {st['features']}, "
        f"{st['num_train']} training examples**, {st['num_valid']}",
        "validation examples, no label noise, search from empty programs in the S10 baseline",
        f"space (P = {st['P']}) on D = {st['D']} pairs outside the reference's held-out pairs,",
        f"selection on tasks over the held-out pairs, **{st['seeds']} seeds x "
        f"{st['individuals']} individuals**; final evaluation",
        f"on **{st['final']} held-out tasks**. Baselines in the op language",
        "(`programs/logistic_sgd.txt`, `programs/nn2_sgd.txt`) tuned on a grid of learning rate",
        f"{min(lrs)}-{max(lrs)} x init scale {{{', '.join(str(s) for s in scales)}}} (the "
        "network only), selected on the same select tasks as the evolved programs. Per seed,",
        "evolved vs each baseline is a paired test over the final tasks.",
        "",
        *projected(d),
        "",
        f"![projected binary digits](results/{rel}/projected_binary_digits.png)",
        "",
        *_projected_findings(d),
        "",
        f"The best program (seed {best['seed']}, {best['final_mean']:.4f};",
        f"{_link(rel + '/discovered.txt')}) is a Hebbian rule: Learn adds label x features to",
        "the weights; the rest of its Predict and Learn reads memory nothing writes. The paper's",
        f'S10 "Basic" runs (far larger budgets, CIFAR-10) beat logistic regression in '
        f"{PAPER['s10_basic_beats_logistic']} of",
        "runs and the network in none.",
        "",
    ]
    e = _load(root, f"{rel}/budget_10k")
    if e is not None:
        out += [
            f"**The first default** ({e['settings']['seeds']} seeds x "
            f"{e['settings']['individuals']} individuals, {_times(e)};",
            f"`results/{rel}/budget_10k/`):",
            "",
            *projected(e),
            "",
        ]
    for name in ("small", "noisy"):
        out += _projected_setting(root, rel, name)
    return out


# What each extra projected setting is, and why (fixed in the script's docstring before its run).
PROJECTED_SETTINGS = {
    "small": (
        "The smaller setting",
        "to leave one-epoch SGD baselines further from their limit",
        "`--setting small`: fewer projected features and training examples",
    ),
    "noisy": (
        "The noisy setting",
        "training labels flipped with the probability shown, validation and test labels clean, "
        "so that a rule discounting wrong labels has room to win",
        "`--setting noisy`: the smaller setting plus label noise",
    ),
}


def _projected_setting(root: Path, rel: str, name: str) -> list[str]:
    title, why, missing = PROJECTED_SETTINGS[name]
    d = _load(root, f"{rel}/{name}")
    if d is None:
        return [f"**{title} was not run** ({missing}, fixed in the script's docstring).", ""]
    ss = d["settings"]
    noise = ss.get("label_noise", 0.0)
    what = f"F = {ss['features']}, {ss['num_train']} training examples"
    if noise:
        what += f", label noise {noise:g}"
    out = [
        "```",
        f"python examples/projected_binary_digits.py --setting {name} --out "
        f"examples/results/{rel}/{name}",
        "```",
        "",
        f"**{title}** ({what}, fixed in the docstring before the run, {why}; "
        f"{ss['seeds']} seeds x {ss['individuals']} individuals, {_times(d)}; "
        f"`results/{rel}/{name}/`; the baselines tuned again on this setting's select tasks):",
        "",
        *projected(d),
        "",
        *_projected_findings(d),
        "",
    ]
    if name == "noisy":
        lo = d["evolved_minus_baseline_across_seeds"]["logistic_sgd"]["t_ci"][0]
        met = "met" if lo > 0 else "not met"
        out += [
            "Success criterion (the docstring's, fixed before the run: the 95 % t interval of "
            f"evolved minus tuned logistic regression over seeds lies above 0): **{met}**.",
            "",
        ]
    out += [
        f"Its best program ({_link(f'{rel}/{name}/discovered.txt')}):",
        "",
        *_program(root, f"{rel}/{name}/discovered.txt"),
    ]
    return out


def section_adaptation(root: Path) -> list[str]:
    rel = "adaptation_few_steps"
    d = _load(root, rel)
    if d is None:
        return []
    st = d["settings"]
    arms = d["arms"]
    out = [
        "## 5. Adaptation to few training steps, from the NN (section 4.3)",
        "",
        "```",
        f"python examples/adaptation_few_steps.py --out examples/results/{rel}",
        f"python examples/adaptation_few_steps.py --analyse-only examples/results/{rel}",
        "```",
        "",
        f"Default size, {_times(d)}; `results/{rel}/results.json`, `run.log`. Settings (fixed in",
        "the script's docstring): randomly projected digit pairs, "
        f"{st['train']} training examples, every",
        "individual starts as the reference NEURAL_NET_ALGORITHM (`neural_net`), D = "
        f"{st['D']} search tasks, P = {st['P']},",
        f"**{st['seeds']} seeds x {st['individuals']} individuals per arm**. Arms: "
        + ", ".join(f"{n} {a['epochs']} epoch(s)" for n, a in arms.items())
        + " (the",
        "paper's few vs many steps, scaled). Baselines: the starting network as is, and the same",
        "network tuned on a grid over learning rate x init scale. Everything is scored on "
        f"**{st['final']}",
        "held-out tasks** (held-out pairs, new projections) with the arm's steps.",
        "",
        *adaptation(d),
        "",
        f"![adaptation](results/{rel}/adaptation_few_steps.png)",
        "",
    ]
    a = d.get("analysis")
    if a:
        fx = a["adaptation_treatment_vs_control"]
        out += [
            "**Baseline tuned on the select tasks.** The table above tunes the network on the",
            "search tasks; the evolved programs are selected on the select tasks, so the fair",
            "baseline is tuned there (same grid; `--analyse-only`, "
            f"{a['cpu_seconds']:.0f} CPU-s, no search):",
            "",
            *adaptation_tuned_on_select(d),
            "",
            "**Learning-rate adaptation** (a Learn scalar that changes every step and scales a",
            f"weight update): treatment {_rate(fx['treatment'])}, control "
            f"{_rate(fx['control'])}; Fisher's exact test p = {fx['fisher_exact_p']:.2g}.",
            f"The paper: {PAPER['adaptation_treatment']} vs {PAPER['adaptation_control']}.",
            "",
        ]
        for arm, ab in a["ablation"].items():
            refs = ab["references"]
            sig = [v for v in ab["variants"] if v["holm_significant"]]
            out += [
                f"**Ablations of the best {arm} program** (seed {ab['seed']}, picked by held-out",
                f"accuracy; scored on {ab['tasks']['num_tasks']} fresh held-out tasks, data seeds "
                f"from {ab['tasks']['first_data_seed']}): unablated",
                f"{ab['evolved_mean']:.4f}; "
                + "; ".join(
                    f"`{n}` {r['mean']:.4f} ({_diff(r['minus_evolved'])} vs evolved)"
                    for n, r in refs.items()
                )
                + f". {len(sig)} of {len(ab['variants'])} ablations change the accuracy",
                "significantly (Holm).",
                "",
                *_program(root, f"{rel}/{arm}_best.txt"),
                *ablation(ab),
                "",
            ]
        out += [
            "Reading the ablations: removing an instruction the prediction or the error depends",
            "on breaks the program, which says only that it is used. Each evolved change is",
            "undone by its revert where it has one (a constant or an initialisation back to the",
            "starting network's), otherwise by removing it (an op the network's component does",
            "not have). Instructions of the network that evolution deleted are not re-inserted:",
            "the simplifier renames addresses, so where they would go is not defined.",
            "",
            *_ablation_findings(a["ablation"]),
            "",
        ]
        for arm, ab in a["ablation"].items():
            if "all_seeds" not in ab:
                continue
            out += [
                f"**Ablations of every {arm} program** (each seed's program, the same fresh",
                "tasks; the evolved changes as above):",
                "",
                *ablation_all_seeds(ab),
                "",
            ]
    e = _load(root, f"{rel}/budget_5k")
    if e is not None:
        out += [
            f"**The first default** ({e['settings']['seeds']} seeds x "
            f"{e['settings']['individuals']} individuals per arm, {_times(e)};",
            f"`results/{rel}/budget_5k/`):",
            "",
            *adaptation(e),
            "",
        ]
    t = arms.get("treatment")
    if t is not None:
        out += [
            "- Against the untuned starting network the treatment's evolved programs gain "
            f"{_score(t['evolved_minus_initial_across_seeds'], 3)};",
            "  against the network tuned on the search tasks "
            f"{_score(t['evolved_minus_tuned_across_seeds'], 3)}"
            + (
                ", so that gain is accounted for by tuning the network."
                if t["evolved_minus_tuned_across_seeds"]["t_ci"][0] <= 0
                else "."
            ),
            "- The earlier single-seed wall-clock runs of this script "
            f"(`results/rerun_idle/{rel}/`) compared",
            '  against the untuned network; their "adaptation yes" summary is withdrawn.',
            "",
        ]
    return out


def _ablation_findings(ablations: dict) -> list[str]:
    out = []
    for arm, ab in ablations.items():
        evolved = [v for v in ab["variants"] if v["evolved_change"]]
        matter = [v for v in evolved if v["holm_significant"]]
        inert = [v for v in evolved if v["vs_evolved"]["ties"] == v["vs_evolved"]["n"]]

        def name(v: dict) -> str:
            how = "reverting" if v["change"] == "revert" else "removing"
            return f"{how} `{v['instruction']}` {_diff(v['vs_evolved'])}"

        out.append(
            f"- {arm}: changes that matter (Holm-significant): "
            + ("; ".join(name(v) for v in matter) or "none")
            + f". Without any effect (identical per-task accuracies): {len(inert)} of "
            f"{len(evolved)}: "
            + ", ".join(f"`{v['instruction']}` ({v['change']})" for v in inert)
            + "."
        )
    return out


def ablation_all_seeds(ab: dict) -> list[str]:
    """Per seed: the evolved changes whose undoing changes the accuracy (Holm), by kind."""
    out = [
        "| seed | evolved, ablation tasks | evolved changes | significant when undone: worse "
        "/ better | without any effect | the significant ones (ablated - evolved) |",
        "|---|---|---|---|---|---|",
    ]
    kinds: dict[str, int] = {}
    for s in ab["all_seeds"]:
        ch = [v for v in s["variants"] if v["evolved_change"]]
        sig = [v for v in ch if v["holm_significant"]]
        worse = sum(v["mean_difference"] < 0 for v in sig)
        for kind in {f"{v['change']} {v['component']} {v['op']}" for v in sig}:
            kinds[kind] = kinds.get(kind, 0) + 1
        listed = "; ".join(
            f"{v['change']} `{v['instruction']}` {v['mean_difference']:+.3g}" for v in sig
        )
        out.append(
            f"| {s['seed']} | {s['evolved_mean']:.4f} | {len(ch)} | {worse} / "
            f"{len(sig) - worse} | {sum(v['identical'] for v in ch)} | {listed or 'none'} |"
        )
    n = len(ab["all_seeds"])
    out += [
        "",
        f"Kinds of significant changes, in how many of the {n} seeds' programs: "
        + (
            ", ".join(
                f"{k} {c}/{n}" for k, c in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))
            )
            or "none"
        )
        + ".",
    ]
    return out


def _own_single(d: dict) -> list[str]:
    """The first run of the own-data example (one seed, one split): its table."""
    rows = []
    for name, ds in d["datasets"].items():
        for r in ds["rows"]:
            rows.append(
                f"| {name} ({ds['score']}) | {r['model']} | {r['held_out']:.4f} | "
                f"{r['fit_seconds']:.1f} |"
            )
    return [
        "| dataset (score) | model | held-out score | fit seconds |",
        "|---|---|---|---|",
        *rows,
    ]


def _own_findings(d: dict) -> list[str]:
    """Per dataset: the search estimators against the linear baseline over the seeds."""
    out = []
    for name, ds in d["datasets"].items():
        for model, vs in ds["vs_linear_baseline"].items():
            if not model.startswith("AlgorithmSearch"):
                continue
            out.append(
                f"- {name}: {model} minus {ds['linear_baseline']}: {_diff(vs, 3)} over "
                f"{vs['n']} splits (better / worse on {vs['wins']} / {vs['losses']}; paired t "
                f"p = {_p(vs['p_t'])})."
            )
    return out


def section_own(root: Path) -> list[str]:
    rel = "own_data_vs_sklearn"
    d = _load(root, rel)
    if d is None:
        return []
    st = d["settings"]
    est = []
    for name, ds in d["datasets"].items():
        for r in ds["runs"][0]["rows"]:
            if r.get("search_held_out"):
                metrics = r["search_held_out"]
                v = metrics["r2"] if ds["score"] == "R^2" else next(iter(metrics.values()))
                est.append(f"{name} {r['model']} {v:.3g}")
    out = [
        "## 6. Your own table from Python: search estimators vs scikit-learn (not a paper "
        "experiment)",
        "",
        "```",
        f"python examples/own_data_vs_sklearn.py --out examples/results/{rel}",
        "```",
        "",
        f"Default size, {_times(d)}; `results/{rel}/results.json`. Settings (fixed in the",
        f"docstring before the run): **{st['seeds']} seeds**, each with its own split "
        f"({1 - st['held_out']:.0%} train, {st['held_out']:.0%} held out) shared by every model of "
        "that seed; each search",
        f"a fixed budget of **{st['individuals']:,} individuals**, default parameters, on the "
        "training rows;",
        "baselines after a `StandardScaler`, MLPs with 32 hidden units. Differences are paired",
        "over the seeds' splits.",
        "",
        *d["table"].splitlines(),
        "",
        *_own_findings(d),
        "",
        "What the first seed's searches estimated before seeing the held-out rows "
        "(`search_held_out`: the",
        "winner trained on part of the training rows, scored on the rest): " + "; ".join(est) + ".",
        "The first seed's programs: "
        + ", ".join(_link(f"{rel}/{p.name}") for p in sorted((root / rel).glob("*.txt")))
        + " (every seed's are in results.json).",
        "",
    ]
    first = _load(root, f"{rel}/single_seed1")
    if first is not None:
        out += [
            f"**The first default, a single earlier run** (seed {first['seed']}, one split, one "
            f"search per row; {first['cpu_seconds']:.0f} CPU-s; `results/{rel}/single_seed1/`):",
            "",
            *_own_single(first),
            "",
        ]
    return out


def summary(root: Path) -> list[str]:
    rows = []
    lad = _load(root, "evolution_vs_random_search/linear_500_seeds") or _load(
        root, "evolution_vs_random_search"
    )
    if lad:
        parts = [
            f"{c['kind']} `{c['level']}` {c['relative_success_rate']['ratio']:.3g} "
            f"{_ci(c['relative_success_rate']['ci'])}"
            for c in lad["cells"].values()
            if c["relative_success_rate"]["ratio"] is not None
        ]
        rows.append(
            "| evolution vs RS (Fig. 4 ladder) | evolution / RS success rate at equal budget "
            f"({lad['settings']['seeds']} evolution experiments per cell): "
            + "; ".join(parts)
            + "; other cells not measured (no successes) |"
        )
    lin = _load(root, "linear_from_scratch")
    if lin:
        ts = lin["individuals_to_solution"]
        median = f", median {ts['median']:,} individuals to solution" if ts["n"] else ""
        rows.append(
            "| linear regression from scratch (demo) | solved "
            f"{_rate(lin['success'])} within {lin['settings']['individuals']:,} "
            f"individuals{median} |"
        )
    bp = _load(root, "backprop_from_scratch")
    if bp:
        ref = _backprop_reference(bp)
        parts = [
            f"`{n}` beats linear {_rate(lv['beats_linear'])}, within 5 % of `{ref}` "
            f"{_rate(lv['matches_backprop'])}"
            for n, lv in bp["levels"].items()
        ]
        hit = any(lv["matches_backprop"]["successes"] for lv in bp["levels"].values())
        verdict = "**reproduced at some level**" if hit else "**not reproduced**"
        rows.append(f"| backprop (Fig. 5 setup) | {verdict}: " + "; ".join(parts) + " |")
    pb = _load(root, "projected_binary_digits")
    if pb:
        verdict = (
            "**beats it in some seeds**"
            if pb["beats_logistic"]["successes"]
            else ("**not reproduced**")
        )
        line = (
            f"| projected binary digits (4.2) | {verdict}: evolved "
            f"{_score(pb['evolved_final'])} vs tuned logistic "
            f"{pb['baselines']['logistic_sgd']['final_mean']:.4f}; beats it "
            f"{_rate(pb['beats_logistic'])}"
        )
        small = _load(root, "projected_binary_digits/small")
        if small:
            line += (
                f". Smaller setting (F = {small['settings']['features']}, "
                f"{small['settings']['num_train']} examples): evolved "
                f"{_score(small['evolved_final'])} vs tuned logistic "
                f"{small['baselines']['logistic_sgd']['final_mean']:.4f}, beats it "
                f"{_rate(small['beats_logistic'])}, beats the tuned network "
                f"{_rate(small['beats_nn'])}"
            )
        noisy = _load(root, "projected_binary_digits/noisy")
        if noisy:
            ns = noisy["settings"]
            line += (
                f". Noisy setting (F = {ns['features']}, {ns['num_train']} examples, label "
                f"noise {ns['label_noise']:g}): evolved {_score(noisy['evolved_final'])} vs "
                f"tuned logistic {noisy['baselines']['logistic_sgd']['final_mean']:.4f}, beats "
                f"it {_rate(noisy['beats_logistic'])}, beats the tuned network "
                f"{_rate(noisy['beats_nn'])}"
            )
        rows.append(line + " |")
    ad = _load(root, "adaptation_few_steps")
    if ad and "analysis" in ad:
        t = ad["analysis"]["tuned_on_select"]["treatment"]
        fx = ad["analysis"]["adaptation_treatment_vs_control"]
        lo = t["evolved_minus_tuned_across_seeds"]["t_ci"][0]
        verdict = (
            "**evolved better than the tuned network**"
            if lo > 0
            else "**not reproduced once the baseline is tuned**"
        )
        rows.append(
            f"| adaptation to few steps (4.3) | {verdict}: "
            f"treatment evolved - network tuned on the select tasks "
            f"{_score(t['evolved_minus_tuned_across_seeds'], 3)}; learning-rate adaptation "
            f"{fx['treatment']['successes']}/{fx['treatment']['n']} treatment vs "
            f"{fx['control']['successes']}/{fx['control']['n']} control |"
        )
    own = _load(root, "own_data_vs_sklearn")
    if own:
        parts = []
        for name, ds in own["datasets"].items():
            models = ds["models"]
            search = max((m for m in models if m.startswith("AlgorithmSearch")),
                         key=lambda m: models[m]["held_out"]["mean"])  # fmt: skip
            linear = ds["linear_baseline"]
            parts.append(
                f"{name} {search} {_score(models[search]['held_out'])} vs {linear} "
                f"{_score(models[linear]['held_out'])}"
            )
        rows.append("| own table vs scikit-learn (not in the paper) | " + "; ".join(parts) + " |")
    return [
        "## Summary",
        "",
        "| experiment | result |",
        "|---|---|",
        *rows,
        "",
    ]


def _fitness(x) -> str:
    return x if isinstance(x, str) else repr(x)


def effective_views(root: Path, experiment: str) -> list[str]:
    """The stored effective-program views of one experiment's programs (written by
    `examples/effective_views.py`; read here, never computed)."""
    base = root / experiment
    paths = sorted(base.glob("**/*.effective.json")) if base.is_dir() else []
    if not paths:
        return []
    out = [
        f"### Effective programs of `{experiment}` (approximate)",
        "",
        "What the stored programs above do on the tasks they were chosen on, for reading: the",
        "view of `amlz show ALGO --effective` (`amlz_compile/effective/`), written by",
        "`python examples/effective_views.py`. It is **approximate**: never-written memory reads",
        "as 0, finite-value algebra is applied, and instructions are dropped while the fitness on",
        "those tasks stays within the tolerance of the original's; on other tasks it may differ.",
        "",
    ]
    for path in paths:
        d = json.loads(path.read_text("utf-8"))
        rel = path.relative_to(root).as_posix()
        program = rel.rsplit("/", 1)[0] + "/" + d["program_file"]
        text_rel = rel.removesuffix(".json") + ".txt"
        out += [
            f"**`{program}`**, approximate effective program ({_link(text_rel)}, "
            f"{_link(rel)}): fitness on {'; '.join(d['tasks'])} (seed {d['seed']}) before "
            f"{_fitness(d['fitness_before'])}, after {_fitness(d['fitness_after'])} "
            f"(tolerance {d['tolerance']:g}); {d['size_before']} -> {d['size_after']} "
            "instructions.",
            "",
            *_program(root, text_rel),
        ]
    return out


def render(root: Path = RESULTS) -> str:
    parts = [
        intro(root),
        section_ladder(root),
        effective_views(root, "evolution_vs_random_search"),
        section_linear(root),
        effective_views(root, "linear_from_scratch"),
        section_backprop(root),
        effective_views(root, "backprop_from_scratch"),
        section_projected(root),
        effective_views(root, "projected_binary_digits"),
        section_adaptation(root),
        effective_views(root, "adaptation_few_steps"),
        section_own(root),
        summary(root),
    ]
    return "\n".join(line for part in parts for line in part).rstrip("\n") + "\n"


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--write":
        OUTPUT.write_text(render(), "utf-8")
        print(f"wrote {OUTPUT}")
        return
    print(render(Path(argv[0]) if argv else RESULTS), end="")


if __name__ == "__main__":
    main(sys.argv[1:])
