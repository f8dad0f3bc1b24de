"""Projected binary classification on scikit-learn digits vs hand-designed baselines
(paper section 4.2 and S10 "Basic", with digits in place of CIFAR-10; no download).

Tasks: a pair of digit classes, the 64 pixels randomly projected to F = 8 dimensions and
standardised (the reference's projected_binary task), 100 train / 100 valid, 1 epoch, accuracy.
F, the training examples and the label noise are the paper's adaptation-style settings with
room to win (fewer projected features, fewer examples, noisy labels), fixed before the runs.
As in the paper, the 45 class pairs are split: the 9 pairs the reference holds out are never
searched on; the search runs on D random pairs among the other 36, candidates are selected on
the 9 held-out pairs, and the final numbers are on the held-out pairs with projections never
used before. Search space: the S10 baseline (`run_baseline.sh`): addresses 5/9/2, empty
initial programs, Setup {S_CONST, S/V/M Gaussian and uniform inits}, Predict {S_SUM, M*V,
V_MAX, V_INNER, V_SUM}, Learn {S_SUM, S_DIFF, S_PRODUCT, S*V, V_SUM, V_HEAVISIDE, V_PRODUCT,
V_OUTER, M_SUM}, max sizes 7/11/23, mutations alter_param / randomize_component_function /
insert / remove, U = 0.9, P = 100, T = 10, NN compute budget.

Baselines, written in the same op language (examples/programs/): logistic regression by SGD
(`logistic_sgd.txt`) and a 2-layer ReLU network by SGD (`nn2_sgd.txt`); on accuracy tasks the
executor applies a sigmoid to s1 before Learn, so both minimise the log loss. Baselines are
tuned on a grid of learning rate {0.001 .. 1} x initialisation scale {0.03, 0.1, 0.3} (the
scale only for the network, whose weights start random) and selected on the same 9 select tasks
the evolved algorithm is selected on.

Settings (`--setting`, fixed before the runs):
  default  F = 8 projected features, 100 training examples (the runs in RESULTS.md)
  small    F = 4 projected features, 30 training examples: even fewer features and steps, so
           that SGD baselines with one epoch are further from their limit and a better learning
           rule has more room to win. Everything else as in `default`.
  noisy    `small` plus label noise 0.2 (the task spec's `label_noise`): each training label of
           every task (search, select and final) flips with probability 0.2, drawn from the
           task's data seed; validation labels stay clean, so accuracies are against the true
           labels. One-epoch SGD follows every flipped label; a learning rule that discounts
           them has room to win. Everything else as in `small`.
Success criterion of `noisy` (fixed before its run): evolution wins if the 95 % t interval of
(evolved - tuned logistic_sgd) mean accuracy over seeds lies above 0, and the share of seeds
whose program beats tuned logistic regression (positive mean difference, paired t p < 0.05
over the 100 final tasks) is reported with its Clopper-Pearson interval; the same for the
tuned 2-layer network.

Repeats and statistics: `seeds` independent searches, each with a budget in individuals; for
each seed the selected program is compared with each tuned baseline on the `final` held-out
tasks (paired t and sign tests over tasks); across seeds, the per-seed mean accuracies get a t
interval and "beats the baseline" (positive mean difference with paired p < 0.05) a
Clopper-Pearson interval.

Sizes (budgets in individuals):
  --smoke    D = 2 search tasks, P = 20, 2 seeds x 600 individuals, 9 final tasks (~10 s warm)
  default    D = 10 search tasks, P = 100, 10 seeds x 200,000 individuals, 100 final tasks
             (see RESULTS.md for the measured CPU time; a first default of 10,000 individuals
             per seed took 8 CPU-s in all and stayed at chance level, so it was raised before
             the second run; both runs are in RESULTS.md)
  --paper    the S10 scale: D = 10, P = 100, 10^11 training steps per search (about 12 h per
             process in the paper, on CIFAR-10 with 8000/1000 examples): not run here
"""

from __future__ import annotations

import time

from _common import (
    PROGRAMS,
    Clock,
    banner,
    make_parser,
    pick,
    pyplot,
    seeds_of,
    simplified_text,
    size_of,
    write_program,
    write_results,
)
from stats import fmt_rate, fmt_score, paired_test, rate_summary, score_summary

from amlz_compile.evaluate import Evaluator
from amlz_compile.ir.program import MemorySpec
from amlz_compile.ir.text import parse_program
from amlz_compile.search.experiment import run_search
from amlz_compile.search.presets import HELD_OUT_PAIRS, get_preset
from amlz_compile.tasks import build_collection

SETTINGS = {
    "default": {"features": 8, "num_train": 100},
    "small": {"features": 4, "num_train": 30},
    "noisy": {"features": 4, "num_train": 30, "label_noise": 0.2},
}
NUM_VALID = 100
SIZE_TABLE = {
    "smoke": dict(D=2, P=20, final=9, seeds=2, individuals=600),
    "default": dict(D=10, P=100, final=100, seeds=10, individuals=200_000),
    "paper": dict(D=10, P=100, final=100, seeds=10, individuals=None),
}
LEARNING_RATES = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
INIT_SCALES = {"logistic_sgd": (None,), "nn2_sgd": (0.03, 0.1, 0.3)}
BASELINES = {"logistic_sgd": "s2 = 0.01", "nn2_sgd": "s3 = 0.01"}
HELD = {tuple(p) for p in HELD_OUT_PAIRS}
SEARCH_PAIRS = [[i, j] for i in range(10) for j in range(i + 1, 10) if (i, j) not in HELD]


def memory(setting: dict) -> MemorySpec:
    return MemorySpec(5, 9, 2, setting["features"])


def digits_spec(n: int, first_seed: int, exclude: list, setting: dict) -> dict:
    """n tasks, each a random pair outside `exclude`, projection seeds first_seed.."""
    noise = {"label_noise": setting["label_noise"]} if setting.get("label_noise") else {}
    return {
        "kind": "projected_binary",
        "dataset": "digits",
        "features": setting["features"],
        "num_train": setting["num_train"],
        "num_valid": NUM_VALID,
        "num_tasks": n,
        "epochs": 1,
        "eval_type": "accuracy",
        "held_out_pairs": exclude,
        "max_data_seed": 10**7,
        "data_seeds": list(range(first_seed, first_seed + n)),
        **noise,
    }


def experiment_config(sz: dict, setting: dict) -> dict:
    cfg = get_preset("baseline")
    cfg["search"]["population_size"] = sz["P"]
    cfg["search"]["search_tasks"] = [digits_spec(sz["D"], 1, HELD_OUT_PAIRS, setting)]
    cfg["select_tasks"] = [digits_spec(9, 5000, SEARCH_PAIRS, setting)]
    cfg["final_tasks"] = [digits_spec(sz["final"], 1000000, SEARCH_PAIRS, setting)]
    cfg["randomize_task_seeds"] = False
    cfg["max_experiments"] = 1
    cfg.pop("seed", None)
    return cfg


def baseline_program(name: str, lr: float, scale: float | None = None):
    text = (PROGRAMS / f"{name}.txt").read_text("utf-8")
    line = BASELINES[name]
    text = text.replace(line, line.replace("0.01", repr(lr)), 1)
    if scale is not None:
        text = text.replace("gaussian(0.0, 0.1,", f"gaussian(0.0, {scale!r},")
    return parse_program(text)


def tune(name: str, evaluator: Evaluator, seed: int) -> dict:
    """The (learning rate, init scale) with the best mean accuracy on the select tasks."""
    grid = [
        {"learning_rate": lr, "init_scale": sc,
         "select": evaluator.evaluate(baseline_program(name, lr, sc), seed)}
        for lr in LEARNING_RATES
        for sc in INIT_SCALES[name]
    ]  # fmt: skip
    return {"best": max(grid, key=lambda g: g["select"]), "grid": grid}


def main() -> None:
    parser = make_parser(__doc__, "runs/examples/projected_binary_digits")
    parser.add_argument(
        "--setting", choices=sorted(SETTINGS), default="default", help="task setting (default)"
    )
    args = parser.parse_args()
    setting = SETTINGS[args.setting]
    mem = memory(setting)
    size = size_of(args)
    sz = pick(size, SIZE_TABLE)
    seeds = seeds_of(args, sz["seeds"])
    banner("projected binary classification on digits", size, args.seed)
    clock = Clock()
    cfg = experiment_config(sz, setting)
    select_eval = Evaluator(build_collection(cfg["select_tasks"]), mem)
    final_eval = Evaluator(build_collection(cfg["final_tasks"]), mem)

    def per_task(program) -> list[float]:
        return final_eval.evaluate_detailed(program, args.seed).per_task

    baselines: dict[str, dict] = {}
    for name in BASELINES:
        tuned = tune(name, select_eval, args.seed)
        b = tuned["best"]
        acc = per_task(baseline_program(name, b["learning_rate"], b["init_scale"]))
        baselines[name] = {**tuned, "final_mean": sum(acc) / len(acc), "final_per_task": acc}
        print(f"   {name}: tuned {b}, final {baselines[name]['final_mean']:.4f}", flush=True)
    runs, best = [], None
    cpu0 = time.process_time()
    for sd in seeds:
        limits = {"max_individuals": sz["individuals"]} if sz["individuals"] else {}
        result = run_search(cfg, seed=sd, flow="fast", checkpoint_every_s=None, patience=0,
                            **limits)  # fmt: skip
        evolved = result.best_program
        acc = per_task(evolved)
        run = {
            "seed": sd,
            "individuals": result.individuals,
            "select": select_eval.evaluate(evolved, args.seed),
            "final_mean": sum(acc) / len(acc),
            "final_per_task": acc,
            "program": simplified_text(evolved),
        }
        for name, b in baselines.items():
            run[f"vs_{name}"] = paired_test(acc, b["final_per_task"])
        runs.append(run)
        if best is None or run["final_mean"] > best[0]:
            best = (run["final_mean"], evolved, sd)
        print(f"   seed {sd}: {result.individuals} individuals, final {run['final_mean']:.4f}",
              flush=True)  # fmt: skip

    def beats(name: str) -> dict:
        k = sum(r[f"vs_{name}"]["mean_difference"] > 0 and r[f"vs_{name}"]["p_t"] < 0.05
                for r in runs)  # fmt: skip
        return rate_summary(k, len(runs))

    results = {
        "experiment": "projected_binary_digits",
        "size": size,
        "seed": args.seed,
        "budget_unit": "individuals",
        "settings": {
            **sz,
            "seeds": len(seeds),
            "setting": args.setting,
            **setting,
            "num_valid": NUM_VALID,
        },
        "baselines": baselines,
        "evolved_final": score_summary([r["final_mean"] for r in runs]),
        "evolved_minus_baseline_across_seeds": {
            name: score_summary([r["final_mean"] - b["final_mean"] for r in runs])
            for name, b in baselines.items()
        },
        "beats_logistic": beats("logistic_sgd"),
        "beats_nn": beats("nn2_sgd"),
        "runs": runs,
        "search_cpu_seconds": time.process_time() - cpu0,
        "seconds": clock(),
    }
    write_program(
        args.out,
        "discovered",
        best[1],
        f"projected_binary_digits seed {best[2]}: final accuracy on held-out pairs "
        f"{best[0]:.4f} (best of {len(runs)} seeds)",
    )
    print(f"evolved, final: {fmt_score(results['evolved_final'])}")
    print(
        f"beats tuned logistic regression (paired p < 0.05): {fmt_rate(results['beats_logistic'])}"
    )
    print(f"beats tuned 2-layer network (paired p < 0.05): {fmt_rate(results['beats_nn'])}")
    plot(args.out, results)
    print(f"results: {write_results(args.out, results)}")


def plot(out, results: dict) -> None:
    plt = pyplot()
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    vals = [r["final_mean"] for r in results["runs"]]
    ax.plot([0] * len(vals), vals, "o", alpha=0.6, label="evolved: per seed")
    for name, color in (("logistic_sgd", "tab:red"), ("nn2_sgd", "tab:green")):
        ax.axhline(results["baselines"][name]["final_mean"], color=color, ls="--",
                   label=f"{name} (tuned)")  # fmt: skip
    ax.set_xticks([])
    ax.set_ylabel("mean accuracy, held-out pairs")
    ax.legend(fontsize=7)
    fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "projected_binary_digits.png", dpi=80)
    plt.close(fig)


if __name__ == "__main__":
    main()
