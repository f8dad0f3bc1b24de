"""Evolution vs random search as a difficulty ladder (paper section 4.1, Figure 4).

Settings, fixed before the runs:

Task types: linear (y = u.x) and affine (y = u.x + a) regression, F = 8, x ~ N(0, 1), D = 3
search tasks drawn once per type (the same tasks for every experiment, so that evolution and
random search (RS) are judged on the same acceptability), RMS error, `num_train` training
examples (one epoch) and 100 validation examples.

Ladder (three levels per task type; what is searched grows, the rest is the hand-designed
reference: SGD with learning rate 0.01, the reference code's LINEAR_ALGORITHM for linear,
`programs/affine_sgd.txt` for affine):
  learn          Setup and Predict given, Learn random: 5 instructions (linear) / 6 (affine),
                 ops {OP2, OP3, OP18, OP23} (+ OP1 for affine). The paper's "linear/affine
                 backprop" types.
  predict_learn  Setup given; Predict (1 / 2 instructions, ops {OP27} (+ OP1)) and Learn random.
  whole          the paper's S5 "linear/affine regressor": sizes 5/1/4 and 6/2/6, Setup ops
                 {OP56, OP57}, everything random.
Addresses 4/3/1 (linear) and 5/3/1 (affine), fixed sizes (no insert/remove).

Success (the paper's): a program is *acceptable* when its mean RMS error over the D tasks is
strictly lower than the reference's. An evolution experiment (regularized evolution, P = 100,
T = 10, U = 0.9, mutations alter_param / randomize_instruction / randomize_component_function,
random initial population of the level's shape, FEC, dedup) succeeds when any individual it
evaluates within its budget of N individuals (the P initial ones included) is acceptable. RS
with the same budget: an RS experiment draws N random programs of the same shape and succeeds
when one is acceptable; `rs_experiments` RS experiments are run per cell (more than the evolution
experiments, because RS is rarer to succeed). The RS success rate at N is also estimated from the
pooled acceptability rate p of all RS programs, 1 - (1 - p)^N, which is what the relative success
rate (evolution / RS) uses; its 95 % interval combines the two exact (Clopper-Pearson) intervals
at 97.5 % each (Bonferroni). Every individual is checked: those whose search fitness exceeds the
squashed reference RMS (a necessary condition, by Jensen's inequality on atan) are re-evaluated
without FEC.

The sample-mean shortcut: with 100 training examples and learning rate 0.01 a Learn that only
accumulates 0.01 y x ends at the sample mean of y x, which for x ~ N(0, I) estimates u; such a
program beats SGD without being gradient descent. The script evaluates that program
(`SHORTCUT`) at the run's size and reports whether it is acceptable (`shortcut_acceptable`);
the default and paper sizes use 1000 training examples (the paper's), where it is not.

Sizes (budgets in individuals; CPU times measured on this 2-core machine):
  smoke    num_train 100, N = 1000, 2 evolution and 4 RS experiments per cell (~5 s with a
           warm numba cache; a cold cache adds ~150 CPU-s of compilation)
  default  num_train 1000, P = 100, N = 10,000 individuals (the paper's budget), 50 evolution
           and 300 RS experiments (3 x 10^6 random programs) per cell, 6 cells (measured:
           325 CPU-s in all, 14-121 CPU-s per cell)
  paper    num_train 1000, P = 1000, N = 10,000, 100 evolution and 10^4 RS experiments per
           cell (10^8 random programs per cell): about 29x the default's per-cell times,
           ~2.6 CPU-hours for the six cells (an estimate; not run)
"""

from __future__ import annotations

import csv
import math

import numpy as np
from _common import (
    Clock,
    banner,
    load_program,
    make_parser,
    pick,
    pyplot,
    seeds_of,
    simplified_text,
    size_of,
    write_program,
    write_results,
)
from stats import clopper_pearson, fisher_exact, rate_summary

from amlz_compile.algorithms import load_builtin
from amlz_compile.evaluate import Evaluator
from amlz_compile.ir.program import MemorySpec
from amlz_compile.ir.serialize import program_to_dict
from amlz_compile.ir.text import parse_program
from amlz_compile.search import SearchConfig
from amlz_compile.search.evolution import RegularizedEvolution
from amlz_compile.tasks import build_collection

KINDS = {
    "linear": {
        "memory": (4, 3, 1),
        "reference": "builtin:linear",
        "setup_ops": [56, 57],
        "predict_ops": [27],
        "learn_ops": [2, 3, 18, 23],
        "levels": {"learn": (1, 1, 5), "predict_learn": (1, 1, 5), "whole": (5, 1, 4)},
    },
    "affine": {
        "memory": (5, 3, 1),
        "reference": "file:affine_sgd",
        "setup_ops": [56, 57],
        "predict_ops": [1, 27],
        "learn_ops": [1, 2, 3, 18, 23],
        "levels": {"learn": (1, 2, 6), "predict_learn": (1, 2, 6), "whole": (6, 2, 6)},
    },
}
LEVELS = ("learn", "predict_learn", "whole")

SIZE_TABLE = {
    "smoke": dict(num_train=100, num_valid=100, P=100, N=1000, seeds=2, rs_experiments=4),
    "default": dict(num_train=1000, num_valid=100, P=100, N=10000, seeds=50, rs_experiments=300),
    "paper": dict(num_train=1000, num_valid=100, P=1000, N=10000, seeds=100, rs_experiments=10**4),
}
FEATURES, NUM_TASKS = 8, 3
EVOLUTION_MUTATIONS = ["alter_param", "randomize_instruction", "randomize_component_function"]

# The learn-only program the 100-example run found (by evolution and RS): w += 0.01 (y - 0.01) x.
SHORTCUT = {
    "linear": """def Setup():
  s2 = 0.01
def Predict():
  s1 = dot(v1, v0)
def Learn():
  v1 = v1 + v2
  s3 = s0 - s2
  v2 = s3 * v0
  v2 = s2 * v2
""",
    "affine": """def Setup():
  s2 = 0.01
def Predict():
  s1 = dot(v1, v0)
  s1 = s1 + s3
def Learn():
  v1 = v1 + v2
  s4 = s0 - s2
  v2 = s4 * v0
  v2 = s2 * v2
""",
}


def rms_of(fitness: float) -> float:
    """Invert the RMS fitness squash f = 1 - (2/pi) atan(rms)."""
    if fitness <= 0.0:
        return math.inf
    return math.tan((1.0 - fitness) * math.pi / 2.0)


def reference_program(name: str):
    kind, _, ref = name.partition(":")
    return load_builtin(ref) if kind == "builtin" else load_program(ref)


def search_config(kind: str, level: str, sz: dict, random_search: bool) -> SearchConfig:
    k = KINDS[kind]
    sizes = k["levels"][level]
    task = {
        "kind": kind,
        "features": FEATURES,
        "num_train": sz["num_train"],
        "num_valid": sz["num_valid"],
        "num_tasks": NUM_TASKS,
        "eval_type": "rms",
    }
    given = {"learn": 2, "predict_learn": 1, "whole": 0}[level]  # components kept as given
    ops = [k["setup_ops"], k["predict_ops"], k["learn_ops"]]
    ops = [[] if i < given else o for i, o in enumerate(ops)]
    s, v, m = k["memory"]
    start: dict = {"initial_population": "random"}
    if given:
        start = {
            "initial_population": "no_op",
            "initial_program": program_to_dict(reference_program(k["reference"])),
        }
    return SearchConfig.from_dict(
        {
            "setup_ops": ops[0],
            "predict_ops": ops[1],
            "learn_ops": ops[2],
            "setup_size_init": sizes[0],
            "predict_size_init": sizes[1],
            "learn_size_init": sizes[2],
            **start,
            "population_size": sz["P"],
            "tournament_size": 10,
            # Random search: every child is a fresh random program of the same shape.
            "mutate_prob": 1.0 if random_search else 0.9,
            "allowed_mutation_types": ["randomize_algorithm"]
            if random_search
            else EVOLUTION_MUTATIONS,
            "fec": {"num_train_examples": 10, "num_valid_examples": 10},
            "memory": {"scalars": s, "vectors": v, "matrices": m},
            "search_tasks": [task],
            "dedup": True,
        }
    )


class Judge:
    """Decides acceptability exactly: mean RMS over the D tasks below the reference's."""

    def __init__(self, tasks: list, memory: MemorySpec, reference) -> None:
        self.evaluator = Evaluator(tasks, memory)
        self.ref_rms = self.mean_rms(reference)
        # Necessary condition on the search fitness (mean of squashed RMS): by concavity of
        # atan, mean RMS < R implies mean fitness > 1 - (2/pi) atan(R).
        self.fitness_floor = 1.0 - (2.0 / math.pi) * math.atan(self.ref_rms)
        self._seen: dict = {}

    def mean_rms(self, program) -> float:
        per_task = self.evaluator.evaluate_detailed(program, 0).per_task
        return float(np.mean([rms_of(f) for f in per_task]))

    def acceptable(self, program) -> tuple[bool, float]:
        if program not in self._seen:
            r = self.mean_rms(program)
            self._seen[program] = (r < self.ref_rms, r)
        return self._seen[program]


def scan(ev: RegularizedEvolution, judge: Judge) -> list[tuple[float, object]]:
    """Acceptable individuals in the population (each child of a sweep is still in it)."""
    idx = np.nonzero(ev.fitness > judge.fitness_floor)[0]
    found = []
    for i in idx:
        prog = ev.program(int(i))
        ok, r = judge.acceptable(prog)
        if ok:
            found.append((r, prog))
    return found


def evolution_experiment(cfg, rs_cfg, tasks, judge, seed: int, budget: int) -> dict:
    """One evolution experiment of `budget` individuals; success = any acceptable individual.

    The initial population is P random programs of the level's shape (for levels with given
    components: one random-search sweep, moved in as immigrants).
    """
    ev = RegularizedEvolution(cfg, tasks=tasks, seed=seed)
    ev.init()
    if cfg.initial_population != "random":
        rs = RegularizedEvolution(rs_cfg, tasks=tasks, seed=seed + 7919)
        rs.init()
        rs.sweep()
        ev.immigrate(rs.population_programs())
    P = cfg.population_size
    individuals = P
    found = scan(ev, judge)
    first = individuals if found else None
    while individuals < budget:
        ev.sweep()
        individuals += P
        new = scan(ev, judge)
        if new and first is None:
            first = individuals
        found += new
    best_prog, best_fit = ev.best()
    best = min(found, key=lambda t: t[0]) if found else (judge.mean_rms(best_prog), best_prog)
    return {
        "success": bool(found),
        "individuals_to_success": first,
        "best_search_fitness": best_fit,
        "best_mean_rms": best[0],
        "best_program": best[1],
    }


def random_search(cfg, tasks, judge, seed: int, experiments: int, budget: int) -> dict:
    """`experiments` RS experiments of `budget` random programs each (one population stream,
    cut into consecutive blocks of `budget`); per-experiment success and pooled counts."""
    ev = RegularizedEvolution(cfg, tasks=tasks, seed=seed)
    ev.init()
    P = cfg.population_size
    random_init = cfg.initial_population == "random"
    sweeps = max(budget // P, 1)
    successes, acceptable, programs = [], 0, 0
    best_fit, best = 0.0, None
    first = True
    for _ in range(experiments):
        hits = 0
        for _ in range(sweeps):
            if first and random_init:
                first = False  # the initial random population is the first block's first P
            else:
                ev.sweep()
            programs += P
            found = scan(ev, judge)
            hits += len(found)
            best_fit = max(best_fit, float(ev.fitness.max()))
            for f in found:
                if best is None or f[0] < best[0]:
                    best = f
        successes.append(hits > 0)
        acceptable += hits
    return {
        "programs": programs,
        "acceptable": acceptable,
        "experiment_successes": successes,
        "best_search_fitness": best_fit,
        "best": best,
    }


def at_budget(p: float, n: int) -> float:
    """Probability that n random programs contain at least one acceptable one."""
    return -math.expm1(n * math.log1p(-p)) if p < 1 else 1.0


def relative_rate(k_evo: int, n_evo: int, k_rs: int, n_rs: int, budget: int) -> dict:
    """Evolution success rate / RS success rate at the budget (from the pooled RS rate p), with
    a 95 % interval from the exact 97.5 % intervals of both (Bonferroni)."""
    elo, ehi = clopper_pearson(k_evo, n_evo, 0.975)
    plo, phi = clopper_pearson(k_rs, n_rs, 0.975)
    rs_rate, rs_lo, rs_hi = (at_budget(x, budget) for x in (k_rs / n_rs, plo, phi))
    evo_rate = k_evo / n_evo
    return {
        "ratio": evo_rate / rs_rate if rs_rate > 0 else None,
        "ci": [elo / rs_hi, ehi / rs_lo if rs_lo > 0 else math.inf],
        "rs_rate_at_budget": rs_rate,
        "rs_rate_at_budget_ci_97_5": [rs_lo, rs_hi],
        "conf": 0.95,
    }


def run_cell(kind: str, level: str, sz: dict, seeds: list[int], rs_experiments: int) -> dict:
    clock = Clock()
    cpu0 = _cpu()
    evo_cfg = search_config(kind, level, sz, random_search=False)
    rs_cfg = search_config(kind, level, sz, random_search=True)
    tasks = build_collection(list(evo_cfg.search_tasks))
    s, v, m = KINDS[kind]["memory"]
    memory = MemorySpec(s, v, m, FEATURES)
    judge = Judge(tasks, memory, reference_program(KINDS[kind]["reference"]))
    shortcut_rms = judge.mean_rms(parse_program(SHORTCUT[kind]))
    budget = sz["N"]
    print(
        f"-- {kind}/{level}: N = {budget}, reference mean RMS {judge.ref_rms:.4g} "
        f"(shortcut {shortcut_rms:.4g})",
        flush=True,
    )
    runs = [evolution_experiment(evo_cfg, rs_cfg, tasks, judge, sd, budget) for sd in seeds]
    rs = random_search(rs_cfg, tasks, judge, seeds[0] + 999, rs_experiments, budget)
    k_evo = int(sum(r["success"] for r in runs))
    k_rs_exp = int(sum(rs["experiment_successes"]))
    rel = relative_rate(k_evo, len(runs), rs["acceptable"], rs["programs"], budget)
    best = min(runs, key=lambda r: r["best_mean_rms"])
    return {
        "kind": kind,
        "level": level,
        "budget_individuals": budget,
        "reference_mean_rms": judge.ref_rms,
        "shortcut_mean_rms": shortcut_rms,
        "shortcut_acceptable": shortcut_rms < judge.ref_rms,
        "evolution": {
            **rate_summary(k_evo, len(runs)),
            "seeds": seeds,
            "per_seed_success": [r["success"] for r in runs],
            "individuals_to_success": [r["individuals_to_success"] for r in runs],
            "best_mean_rms": [r["best_mean_rms"] for r in runs],
            "best_search_fitness": [r["best_search_fitness"] for r in runs],
        },
        "random_search": {
            "experiments": rate_summary(k_rs_exp, rs_experiments),
            "per_experiment_success": rs["experiment_successes"],
            "programs": rs["programs"],
            "acceptable": rs["acceptable"],
            "p_acceptable": rate_summary(rs["acceptable"], rs["programs"]),
            "difficulty": rs["programs"] / rs["acceptable"] if rs["acceptable"] else None,
            "difficulty_lower_95": 1.0 / clopper_pearson(rs["acceptable"], rs["programs"])[1],
            "best_search_fitness": rs["best_search_fitness"],
            "best_mean_rms": rs["best"][0] if rs["best"] else None,
        },
        "fisher_p_evolution_vs_rs_experiments": fisher_exact(
            k_evo, len(runs), k_rs_exp, rs_experiments
        ),
        "relative_success_rate": rel,
        "best_evolved_mean_rms": best["best_mean_rms"],
        "best_evolved_program": simplified_text(best["best_program"]),
        "_best_program": best["best_program"],
        "seconds": clock(),
        "cpu_seconds": _cpu() - cpu0,
    }


def _cpu() -> float:
    import time

    return time.process_time()


def main() -> None:
    parser = make_parser(__doc__, "runs/examples/evolution_vs_random_search")
    parser.add_argument(
        "--cells",
        default=None,
        help="comma-separated kind/level cells to run (default: all six), e.g. linear/learn",
    )
    parser.add_argument(
        "--rs-experiments", type=int, default=None, help="RS experiments per cell (by size)"
    )
    args = parser.parse_args()
    size = size_of(args)
    sz = dict(pick(size, SIZE_TABLE))
    if args.rs_experiments:
        sz["rs_experiments"] = args.rs_experiments
    seeds = seeds_of(args, sz["seeds"])
    banner("evolution vs random search: difficulty ladder", size, args.seed)
    clock = Clock()
    cells = [(k, lv) for k in KINDS for lv in LEVELS]
    if args.cells:
        wanted = {c.strip() for c in args.cells.split(",")}
        cells = [c for c in cells if f"{c[0]}/{c[1]}" in wanted]
    results: dict = {
        "experiment": "evolution_vs_random_search",
        "size": size,
        "seed": args.seed,
        "budget_unit": "individuals",
        "settings": {**sz, "seeds": len(seeds), "features": FEATURES, "num_tasks": NUM_TASKS},
        "cells": {},
    }
    for kind, level in cells:
        cell = run_cell(kind, level, sz, seeds, sz["rs_experiments"])
        prog = cell.pop("_best_program")
        name = f"{kind}_{level}"
        results["cells"][name] = cell
        write_program(
            args.out,
            f"{name}_best_evolved",
            prog,
            f"{name}: best evolved program, mean RMS {cell['best_evolved_mean_rms']:.6g} "
            f"(reference {cell['reference_mean_rms']:.6g})",
        )
        e, r, rel = cell["evolution"], cell["random_search"], cell["relative_success_rate"]
        ratio = f"{rel['ratio']:.3g}" if rel["ratio"] is not None else "undefined"
        print(
            f"   evolution {e['successes']}/{e['n']} [{e['ci'][0]:.3g}, {e['ci'][1]:.3g}]; "
            f"RS experiments {r['experiments']['successes']}/{r['experiments']['n']}, "
            f"programs {r['acceptable']}/{r['programs']}; ratio {ratio} "
            f"[{rel['ci'][0]:.3g}, {rel['ci'][1]:.3g}]; {cell['cpu_seconds']:.0f} CPU-s",
            flush=True,
        )
        results["seconds"] = clock()
        write_results(args.out, results)  # after every cell: a partial run keeps its cells
    write_table(args.out, results)
    plot(args.out, results)
    path = write_results(args.out, results)
    print(f"results: {path} ({results['seconds']:.1f} s wall)")


TABLE_FIELDS = [
    "kind",
    "level",
    "budget",
    "difficulty",
    "evo_successes",
    "evo_n",
    "evo_rate",
    "evo_lo",
    "evo_hi",
    "rs_exp_successes",
    "rs_exp_n",
    "rs_rate_at_budget",
    "ratio",
    "ratio_lo",
    "ratio_hi",
]


def table_rows(results: dict) -> list[dict]:
    rows = []
    for cell in results["cells"].values():
        e, r, rel = cell["evolution"], cell["random_search"], cell["relative_success_rate"]
        rows.append(
            {
                "kind": cell["kind"],
                "level": cell["level"],
                "budget": cell["budget_individuals"],
                "difficulty": r["difficulty"],
                "evo_successes": e["successes"],
                "evo_n": e["n"],
                "evo_rate": e["rate"],
                "evo_lo": e["ci"][0],
                "evo_hi": e["ci"][1],
                "rs_exp_successes": r["experiments"]["successes"],
                "rs_exp_n": r["experiments"]["n"],
                "rs_rate_at_budget": rel["rs_rate_at_budget"],
                "ratio": rel["ratio"],
                "ratio_lo": rel["ci"][0],
                "ratio_hi": rel["ci"][1],
            }
        )
    return rows


def write_table(out, results: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "ladder.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=TABLE_FIELDS)
        w.writeheader()
        w.writerows(table_rows(results))


def plot(out, results: dict) -> None:
    plt = pyplot()
    if plt is None:
        return
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    rows = table_rows(results)
    for kind, color in (("linear", "tab:blue"), ("affine", "tab:orange")):
        kr = [r for r in rows if r["kind"] == kind]
        x = list(range(len(kr)))
        evo = [r["evo_rate"] for r in kr]
        err = [[r["evo_rate"] - r["evo_lo"] for r in kr], [r["evo_hi"] - r["evo_rate"] for r in kr]]
        axes[0].errorbar(x, evo, yerr=err, color=color, marker="o", capsize=3, label=f"{kind}: evo")
        axes[0].plot(x, [r["rs_rate_at_budget"] for r in kr], color=color, ls=":", marker="x",
                     label=f"{kind}: RS (pooled)")  # fmt: skip
        finite = [(i, r) for i, r in enumerate(kr) if r["ratio"] is not None]
        if finite:
            axes[1].errorbar(
                [i for i, _ in finite],
                [r["ratio"] for _, r in finite],
                yerr=[
                    [r["ratio"] - r["ratio_lo"] for _, r in finite],
                    [min(r["ratio_hi"], 1e6) - r["ratio"] for _, r in finite],
                ],
                color=color,
                marker="o",
                capsize=3,
                label=kind,
            )
        for i, r in enumerate(kr):
            if r["ratio"] is None and r["ratio_lo"] > 0:
                axes[1].plot([i], [r["ratio_lo"]], color=color, marker="^", ls="none")
    labels = list(LEVELS)
    for ax in axes:
        ax.set_xticks(range(len(labels)), labels)
        ax.set_xlabel("difficulty level (what is searched)")
    axes[0].set_ylabel("success rate at equal budget (95 % CI)")
    axes[0].legend(fontsize=7)
    axes[1].set_yscale("log")
    axes[1].axhline(1.0, color="k", lw=0.5)
    axes[1].set_ylabel("evolution / RS (95 % CI; ^ = lower bound)")
    if axes[1].get_legend_handles_labels()[0]:
        axes[1].legend(fontsize=7)
    fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "evolution_vs_random_search.png", dpi=80)
    plt.close(fig)


if __name__ == "__main__":
    main()
