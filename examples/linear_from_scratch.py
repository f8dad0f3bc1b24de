"""Linear regression with gradient descent, evolved from random programs (the reference demo).

The reference's `run_demo.sh` (docs/semantics.md#presets; preset `demo`): addresses 4/3/1, 10
linear tasks (F = 4, 100 train / 100 valid, RMS), the same six ops for Setup/Predict/Learn {S_CONST,
V_INNER, S_DIFF, S_PRODUCT, S*V, V_SUM}, random initial programs of sizes 10/2/8, FEC 10/10,
P = 1000, T = 10, U = 0.9, mutations alter_param / randomize_instruction /
randomize_component_function, 2e8 training steps per search experiment, select on 100 fresh
tasks (1000/100), solved when the select fitness exceeds 0.9999 (RMS < ~1.6e-4), final
evaluation on 100 unseen tasks.

Settings (fixed here before the repeated run): `seeds` independent searches (seed i of base
seed b is 1000 b + i), each in the "fast" flow (structural dedup; the select check runs as soon
as a population's best passes 0.9999, so a search stops the moment a solution appears) with a
budget in individuals. Success: select fitness above 0.9999 within the budget. Reported per
seed: solved or not, individuals evaluated until the search stopped, CPU seconds, search
experiments, select and final fitness, its best program (simplified, `seed_N.txt`); over seeds: the
success rate with its exact (Clopper-Pearson) 95 % interval and the individuals to solution of
the solved seeds (median, range). The search is deterministic given its seed and budget.

Sizes (budgets in individuals):
  --smoke    P = 100, 10 select/final tasks, 2 seeds x 3,000 individuals (does not solve)
  default    the demo preset, fast flow, 10 seeds x at most 4,000,000 individuals (a search
             that solves stops early; see RESULTS.md for the measured CPU time)
  --paper    the demo preset as shipped (reference flow: every search experiment spends its
             2e8 training steps), 10 seeds x at most 40,000,000 individuals: up to about ten
             times the default's CPU time
"""

from __future__ import annotations

import time

from _common import (
    Clock,
    banner,
    make_parser,
    pick,
    pyplot,
    seeds_of,
    simplified_text,
    size_of,
    thin,
    write_program,
    write_results,
)
from stats import fmt_rate, rate_summary

from amlz_compile.search.experiment import run_search
from amlz_compile.search.presets import get_preset

SOLVED = 0.9999
SIZES = {
    "smoke": {"seeds": 2, "individuals": 3000, "flow": "fast"},
    "default": {"seeds": 10, "individuals": 4_000_000, "flow": "fast"},
    "paper": {"seeds": 10, "individuals": 40_000_000, "flow": "reference"},
}


def config_for(size: str) -> dict:
    """The experiment config (the demo preset; smaller at smoke size)."""
    cfg = get_preset("demo")
    if size == "smoke":
        cfg["search"]["population_size"] = 100
        for key in ("select_tasks", "final_tasks"):
            cfg[key][0]["num_tasks"] = 10
    return cfg


def one_search(size: str, seed: int, individuals: int, flow: str) -> tuple[dict, object]:
    """One search of the demo: its per-seed record and its best program (or None)."""
    curve: list[dict] = []

    def on_event(event) -> None:
        if getattr(event, "kind", "") == "progress":
            curve.append(
                {"individuals": event.individuals, "best_search_fitness": event.best_search_fitness}
            )

    cpu0 = time.process_time()
    result = run_search(
        config_for(size),
        seed=seed,
        max_individuals=individuals,
        flow=flow,
        checkpoint_every_s=None,
        on_event=on_event,
    )
    solved = result.select_fitness is not None and result.select_fitness > SOLVED
    run = {
        "seed": seed,
        "solved": solved,
        "individuals": result.individuals,
        "cpu_seconds": time.process_time() - cpu0,
        "wall_seconds_to_solution": result.time_to_solution,
        "experiments": result.experiments,
        "stopped": result.stopped,
        "search_fitness": result.search_fitness,
        "select_fitness": result.select_fitness,
        "final_fitness": result.final_fitness,
        "program": simplified_text(result.best_program) if result.best_program else None,
        "curve": thin(curve, 100),
    }
    return run, result.best_program


def main() -> None:
    parser = make_parser(__doc__, "runs/examples/linear_from_scratch")
    args = parser.parse_args()
    size = size_of(args)
    sz = pick(size, SIZES)
    seeds = seeds_of(args, sz["seeds"])
    banner("linear regression from scratch (reference demo)", size, args.seed)
    clock = Clock()
    runs, best = [], None
    for seed in seeds:
        run, program = one_search(size, seed, sz["individuals"], sz["flow"])
        runs.append(run)
        if program is not None:
            write_program(
                args.out,
                f"seed_{seed}",
                program,
                f"linear_from_scratch seed {seed}: solved {run['solved']}, "
                f"{run['individuals']} individuals, select fitness {run['select_fitness']}",
            )
        print(
            f"  seed {seed}: {'solved' if run['solved'] else 'not solved'} after "
            f"{run['individuals']:,} individuals ({run['cpu_seconds']:.1f} CPU-s, "
            f"{run['experiments']} experiment(s)); select {run['select_fitness']}, final "
            f"{run['final_fitness']}",
            flush=True,
        )
        if run["solved"] and (best is None or run["individuals"] < best[0]["individuals"]):
            best = (run, program)
    solved = [r for r in runs if r["solved"]]
    to_solution = sorted(r["individuals"] for r in solved)
    results = {
        "experiment": "linear_from_scratch",
        "size": size,
        "seed": args.seed,
        "budget_unit": "individuals",
        "settings": {
            "seeds": len(seeds),
            "individuals": sz["individuals"],
            "flow": sz["flow"],
            "solved_above": SOLVED,
            "population": config_for(size)["search"]["population_size"],
        },
        "success": rate_summary(len(solved), len(runs)),
        "individuals_to_solution": {
            "n": len(to_solution),
            "median": to_solution[len(to_solution) // 2] if to_solution else None,
            "min": to_solution[0] if to_solution else None,
            "max": to_solution[-1] if to_solution else None,
        },
        "best_seed": best[0]["seed"] if best else None,
        "runs": runs,
        "seconds": clock(),
    }
    if best is not None:
        run, program = best
        write_program(
            args.out,
            "discovered",
            program,
            f"linear_from_scratch seed {run['seed']}: solved after {run['individuals']} "
            f"individuals (the fewest of {len(solved)} solved seeds); select fitness "
            f"{run['select_fitness']}, final fitness {run['final_fitness']}",
        )
        print("discovered program (simplified):\n" + run["program"])
    print(f"solved: {fmt_rate(results['success'])}; individuals to solution: {to_solution}")
    plot(args.out, results)
    print(f"results: {write_results(args.out, results)}")


def plot(out, results: dict) -> None:
    plt = pyplot()
    if plt is None or not any(r["curve"] for r in results["runs"]):
        return
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for r in results["runs"]:
        c = r["curve"]
        ax.plot([p["individuals"] for p in c], [p["best_search_fitness"] for p in c], "-", lw=0.8)
    ax.axhline(SOLVED, color="k", ls="--", lw=0.8, label=f"solved ({SOLVED})")
    ax.set_xscale("log")
    ax.set_xlabel("individuals")
    ax.set_ylabel("best search fitness in population")
    ax.set_title(f"linear regression from random programs ({len(results['runs'])} seeds)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "linear_from_scratch.png", dpi=80)
    plt.close(fig)


if __name__ == "__main__":
    main()
