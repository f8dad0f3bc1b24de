"""Linear regression with gradient descent, evolved from random programs (the reference demo).

The reference's `run_demo.sh` (docs/semantics.md#presets; preset `demo`): addresses 4/3/1, 10
linear tasks (F = 4, 100 train / 100 valid, RMS), the same six ops for Setup/Predict/Learn {S_CONST,
V_INNER, S_DIFF, S_PRODUCT, S*V, V_SUM}, random initial programs of sizes 10/2/8, FEC 10/10,
P = 1000, T = 10, U = 0.9, mutations alter_param / randomize_instruction /
randomize_component_function, 2e8 training steps per search experiment, select on 100 fresh
tasks (1000/100), stop when the select fitness exceeds 0.9999 (RMS < ~1.6e-4), final
evaluation on 100 unseen tasks. Prints the discovered program (simplified) and the time to
solution. The default uses the "fast" flow (structural dedup; the select check runs as soon as
an island's best passes 0.9999) so it stops the moment a solution appears.

Sizes (measured on this 2-core machine, shared with other jobs):
  --smoke    P = 100, 10 select/final tasks, 3000 individuals (a few s; does not solve)
  default    the demo preset, fast flow, stops when solved or after 300 s wall (measured:
             solved in 192 s on one core, 4.2 M individuals; see RESULTS.md)
  --paper    the demo preset exactly as shipped: reference flow, no time limit
"""

from __future__ import annotations

from _common import (
    Clock,
    banner,
    make_parser,
    pyplot,
    simplified_text,
    size_of,
    thin,
    write_program,
    write_results,
)

from amlz_compile.search.experiment import run_search
from amlz_compile.search.presets import get_preset


def config_for(size: str) -> tuple[dict, dict]:
    """The experiment config and the run_search limits for a size."""
    cfg = get_preset("demo")
    if size == "smoke":
        cfg["search"]["population_size"] = 100
        for key in ("select_tasks", "final_tasks"):
            cfg[key][0]["num_tasks"] = 10
        return cfg, {"max_individuals": 3000, "time_limit": 60, "flow": "fast"}
    if size == "default":
        return cfg, {"time_limit": 300, "flow": "fast"}
    return cfg, {"flow": "reference"}


def main() -> None:
    parser = make_parser(__doc__, "runs/examples/linear_from_scratch")
    args = parser.parse_args()
    size = size_of(args)
    banner("linear regression from scratch (reference demo)", size, args.seed)
    cfg, limits = config_for(size)
    clock = Clock()
    curve: list[tuple[float, int, float]] = []

    def on_event(event) -> None:
        if getattr(event, "kind", "") == "progress":
            curve.append((event.elapsed, event.individuals, event.best_search_fitness))
        elif getattr(event, "kind", "") == "experiment":
            print(
                f"  experiment {event.experiment}: search fitness {event.search_fitness:.6f}, "
                f"select fitness {event.select_fitness:.6f}, {event.individuals} individuals, "
                f"{event.elapsed:.1f} s",
                flush=True,
            )

    result = run_search(cfg, seed=args.seed, checkpoint_every_s=None, on_event=on_event, **limits)
    solved = result.select_fitness is not None and result.select_fitness > 0.9999
    results = {
        "experiment": "linear_from_scratch",
        "size": size,
        "seed": args.seed,
        "limits": limits,
        "solved": solved,
        "time_to_solution": result.time_to_solution,
        "search_fitness": result.search_fitness,
        "select_fitness": result.select_fitness,
        "final_fitness": result.final_fitness,
        "experiments": result.experiments,
        "individuals": result.individuals,
        "elapsed": result.elapsed,
        "stopped": result.stopped,
        "program": simplified_text(result.best_program) if result.best_program else None,
        "curve": [
            {"seconds": t, "individuals": n, "best_search_fitness": f} for t, n, f in thin(curve)
        ],
        "seconds": clock(),
    }
    if result.best_program is not None:
        write_program(
            args.out,
            "discovered",
            result.best_program,
            f"linear_from_scratch seed {args.seed}: select fitness "
            f"{result.select_fitness}, final fitness {result.final_fitness}",
        )
    tts = f"{result.time_to_solution:.1f} s" if result.time_to_solution else "not solved"
    print(
        f"solved: {solved} (time to solution: {tts}); {result.individuals} individuals, "
        f"{result.experiments} experiment(s), {result.elapsed:.1f} s, stopped: "
        f"{result.stopped}"
    )
    print(
        f"select fitness {result.select_fitness}, final fitness (unseen tasks) "
        f"{result.final_fitness}"
    )
    if results["program"]:
        print("discovered program (simplified):\n" + results["program"])
    plot(args.out, results)
    print(f"results: {write_results(args.out, results)}")


def plot(out, results: dict) -> None:
    plt = pyplot()
    if plt is None or not results["curve"]:
        return
    fig, ax = plt.subplots(figsize=(5, 3.4))
    c = results["curve"]
    ax.plot([p["seconds"] for p in c], [p["best_search_fitness"] for p in c], "-", lw=1)
    ax.axhline(0.9999, color="k", ls="--", lw=0.8, label="solved (0.9999)")
    ax.set_xlabel("seconds")
    ax.set_ylabel("best search fitness in population")
    ax.set_title("linear regression from random programs")
    ax.legend(fontsize=7)
    fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "linear_from_scratch.png", dpi=80)
    plt.close(fig)


if __name__ == "__main__":
    main()
