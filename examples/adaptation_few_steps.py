"""Adaptation to few training steps, starting from the neural network (paper section 4.3).

The paper's "fast training" experiment: initialise every individual with a 2-layer network
trained by SGD and evolve under a small training budget (800 examples x 10 epochs vs the
control's 100 epochs); in 30/30 runs evolution added learning-rate decay (an iterated arctan
of the learning rate), against 3/30 in the control. Here: projected binary digits tasks
(F = 16, accuracy) with very few training steps (100 examples x 1 epoch), initial population
= the reference NEURAL_NET_ALGORITHM (`neural_net`), addresses 10/16/4, Setup ops 56-64,
Predict/Learn ops {OP0-OP55, OP63, OP64} (paper S5 for section 4.3), max sizes 21/21/45,
mutations alter_param / randomize_component_function / insert / remove, U = 0.9, P = 100,
T = 10, FEC.

It reports the evolved program (simplified) next to the initial network on unseen held-out
class pairs, under the same few steps and under 10x more steps, and looks for an adaptation of
the learning rate: a scalar that Learn reads, rewrites from itself (so it changes from step
to step) and that feeds the weight update. It says plainly whether one emerged.

Arms and baselines (settings fixed before the runs):
  treatment  the few-steps tasks above (100 examples x 1 epoch), `seeds` independent searches
             of `individuals` individuals each (a budget in individuals, not wall time)
  control    the same search with 10x the training steps (100 examples x 10 epochs), as the
             paper's control; only the learning-rate-adaptation count and held-out accuracy
             are compared
  baselines  the starting network with its default learning rate 0.01 ("neural_net
             (initial)") and the same network tuned on the search tasks the arm searches on:
             a grid over the learning rate {0.003, 0.01, 0.03, 0.1, 0.3} and both
             initialisation scales {0.03, 0.1, 0.3}, selected by mean accuracy on the D search
             tasks with the arm's steps ("neural_net (tuned)").
Every program is evaluated on `final` held-out tasks (the 9 held-out digit pairs, fresh
projections; never searched or selected on) with the arm's steps; evolved vs tuned network is a
paired comparison over those tasks for each seed (paired t and sign test), and across seeds a t
interval of the per-seed mean difference. "Adaptation emerged" is counted per seed with an exact
interval (the paper: 30/30 treatment vs 3/30 control).

Analysis (`analyse`; after the arms, or alone on stored results with `--analyse-only DIR`,
which re-evaluates the stored programs and runs no search):
  * the starting network tuned with the same grid on the select tasks (the tasks the evolved
    programs are selected on), scored on the same held-out tasks, paired per seed against the
    stored per-task accuracies of the evolved programs;
  * learning-rate adaptation, treatment vs control, Fisher's exact test;
  * one-change ablations of every seed's program (the best one reported in full): each
    instruction removed, and each constant or initialisation whose op the starting network
    also uses reverted to the network's data; scored on `final` fresh held-out tasks (the best
    program was picked on the final tasks), each a paired test against the unablated
    program, Holm-corrected over one program's ablations.

Sizes (budgets in individuals):
  --smoke    D = 2, P = 20, 2 seeds x 300 individuals per arm, 9 final tasks (~10 s warm)
  default    D = 10, P = 100, 10 seeds x 50,000 individuals per arm, 100 final tasks
             (see RESULTS.md for the measured CPU time; a first default of 5,000 individuals
             per seed took 64 CPU-s for both arms, so it was raised 10x before the second
             run; both runs are in RESULTS.md)
  --paper    800 examples x 10 / 100 epochs would need the paper's data; here 330 examples
             x 1 / 10 epochs (all a digits pair has), D = 10, P = 100, 30 seeds x 10^5
             individuals per arm: about 60x the default's CPU time (~hours per arm)
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

from _common import (
    Clock,
    banner,
    finite,
    make_parser,
    pick,
    pyplot,
    seeds_of,
    simplified_text,
    size_of,
    write_program,
    write_results,
)
from stats import (
    fisher_exact,
    fmt_rate,
    fmt_score,
    paired_test,
    rate_summary,
    score_summary,
)

from amlz_compile.algorithms import builtin_text, load_builtin
from amlz_compile.evaluate import Evaluator
from amlz_compile.ir.ops import OPS, SCALAR
from amlz_compile.ir.program import MemorySpec, Program
from amlz_compile.ir.text import format_instruction, parse_program
from amlz_compile.passes import simplify_program
from amlz_compile.search.experiment import run_search
from amlz_compile.search.presets import HELD_OUT_PAIRS
from amlz_compile.tasks import build_collection

FEATURES = 16
MEMORY = MemorySpec(10, 16, 4, FEATURES)
SIZE_TABLE = {
    "smoke": dict(D=2, P=20, train=100, epochs=1, final=9, seeds=2, individuals=300),
    "default": dict(D=10, P=100, train=100, epochs=1, final=100, seeds=10, individuals=50_000),
    "paper": dict(D=10, P=100, train=330, epochs=1, final=100, seeds=30, individuals=100_000),
}
ARMS = {"treatment": 1, "control": 10}  # epochs multiplier
LEARNING_RATES = (0.003, 0.01, 0.03, 0.1, 0.3)
INIT_SCALES = (0.03, 0.1, 0.3)
HELD = {tuple(p) for p in HELD_OUT_PAIRS}
SEARCH_PAIRS = [[i, j] for i in range(10) for j in range(i + 1, 10) if (i, j) not in HELD]


def spec(n: int, first_seed: int, exclude: list, train: int, epochs: int) -> dict:
    # digits pairs have ~350 examples: with more than 250 training examples, fewer validate.
    valid = 100 if train <= 250 else 350 - train if train < 330 else 20
    return {
        "kind": "projected_binary",
        "dataset": "digits",
        "features": FEATURES,
        "num_train": min(train, 330),
        "num_valid": valid,
        "num_tasks": n,
        "epochs": epochs,
        "eval_type": "accuracy",
        "held_out_pairs": exclude,
        "max_data_seed": 10**7,
        "data_seeds": list(range(first_seed, first_seed + n)),
    }


def experiment_config(sz: dict, epochs: int) -> dict:
    tr, ep = sz["train"], epochs
    return {
        "name": "adaptation_few_steps",
        "search": {
            "setup_ops": list(range(56, 65)),
            "predict_ops": [*range(0, 56), 63, 64],
            "learn_ops": [*range(0, 56), 63, 64],
            "setup_size_init": 3,
            "predict_size_init": 5,
            "learn_size_init": 11,
            "mutate_setup_size_max": 21,
            "mutate_predict_size_max": 21,
            "mutate_learn_size_max": 45,
            "initial_population": "neural_net",
            "population_size": sz["P"],
            "tournament_size": 10,
            "mutate_prob": 0.9,
            "allowed_mutation_types": [
                "alter_param",
                "randomize_component_function",
                "insert_instruction",
                "remove_instruction",
            ],
            "fec": {"num_train_examples": 10, "num_valid_examples": 10},
            "memory": {"scalars": 10, "vectors": 16, "matrices": 4},
            "search_tasks": [spec(sz["D"], 1, HELD_OUT_PAIRS, tr, ep)],
        },
        "select_tasks": [spec(9, 5000, SEARCH_PAIRS, tr, ep)],
        "final_tasks": [spec(sz["final"], 1000000, SEARCH_PAIRS, tr, ep)],
        "max_experiments": 1,
    }


def learning_rate_adaptation(program) -> list[str]:
    """Loop-carried scalars of Learn that reach a weight update (an adaptive learning rate).

    A scalar that Learn rewrites from its own previous value before writing it otherwise
    (e.g. `s3 = s3 * s5`, `s3 = arctan(s3)`) changes from one training step to the next. When
    it reaches a vector/matrix write, directly or through other scalars, it scales the weight
    update differently at every step: a learning-rate schedule such as decay. Returns one line
    per carried scalar that does so (empty when there is none).
    """
    learn = simplify_program(program).learn

    def scalar_reads(ins) -> list[int]:
        info = OPS[ins.op]
        return [a for k, a in ((info.in1, ins.in1), (info.in2, ins.in2)) if k == SCALAR]

    written: set[int] = set()
    carried: dict[int, str] = {}
    for ins in learn:
        info = OPS[ins.op]
        new = info.out == SCALAR and ins.out > 1 and ins.out not in written
        if new and ins.out in scalar_reads(ins):
            carried[ins.out] = format_instruction(ins)
        if info.out == SCALAR:
            written.add(ins.out)
    found = []
    for addr, how in sorted(carried.items()):
        tainted = {addr}
        for ins in learn:
            info = OPS[ins.op]
            hit = bool(tainted.intersection(scalar_reads(ins)))
            if info.out == SCALAR:
                (tainted.add if hit else tainted.discard)(ins.out)
            elif hit:
                found.append(f"s{addr} changes every step ({how}) and scales a weight update")
                break
    return found


def network(learning_rate: float, init_scale: float):
    """The starting network with another learning rate and initialisation scale."""
    text = builtin_text("neural_net")
    text = text.replace("  s3 = 0.01\n", f"  s3 = {learning_rate!r}\n")
    text = text.replace("gaussian(0.0, 0.1,", f"gaussian(0.0, {init_scale!r},")
    return parse_program(text)


def tune_network(tasks_spec: dict, seed: int, key: str = "search_accuracy") -> dict:
    """Grid over learning rate x init scale, selected by mean accuracy on the given tasks
    (stored under `key`: the search tasks in the arms, the select tasks in the analysis)."""
    ev = Evaluator(build_collection([tasks_spec]), MEMORY)
    grid = [
        {"learning_rate": lr, "init_scale": sc, key: ev.evaluate(network(lr, sc), seed)}
        for lr in LEARNING_RATES
        for sc in INIT_SCALES
    ]
    best = max(grid, key=lambda g: g[key])
    return {"best": best, "grid": grid}


def run_arm(arm: str, sz: dict, seeds: list[int], eval_seed: int) -> tuple[dict, list]:
    epochs = sz["epochs"] * ARMS[arm]
    cfg = experiment_config(sz, epochs)
    cpu0 = time.process_time()
    tuned = tune_network(cfg["search"]["search_tasks"][0], eval_seed)
    final = Evaluator(build_collection(cfg["final_tasks"]), MEMORY)

    def per_task(program) -> list[float]:
        return final.evaluate_detailed(program, eval_seed).per_task

    base = {
        "neural_net (initial)": per_task(load_builtin("neural_net")),
        "neural_net (tuned)": per_task(
            network(tuned["best"]["learning_rate"], tuned["best"]["init_scale"])
        ),
    }
    runs, programs = [], []
    for sd in seeds:
        result = run_search(
            cfg,
            seed=sd,
            flow="fast",
            checkpoint_every_s=None,
            max_individuals=sz["individuals"],
            patience=0,
        )
        evolved = result.best_program
        acc = per_task(evolved)
        adaptation = learning_rate_adaptation(evolved)
        runs.append(
            {
                "seed": sd,
                "individuals": result.individuals,
                "held_out_accuracy": sum(acc) / len(acc),
                "held_out_per_task": acc,
                "vs_tuned_network": paired_test(acc, base["neural_net (tuned)"]),
                "vs_initial_network": paired_test(acc, base["neural_net (initial)"]),
                "learning_rate_adaptation": adaptation,
                "program": simplified_text(evolved),
            }
        )
        programs.append(evolved)
        print(
            f"   {arm} seed {sd}: {result.individuals} individuals, held-out "
            f"{runs[-1]['held_out_accuracy']:.4f} (tuned NN "
            f"{sum(base['neural_net (tuned)']) / len(acc):.4f}), adaptation: "
            f"{'yes' if adaptation else 'no'}",
            flush=True,
        )
    evolved_means = [r["held_out_accuracy"] for r in runs]
    tuned_mean = sum(base["neural_net (tuned)"]) / len(base["neural_net (tuned)"])
    initial_mean = sum(base["neural_net (initial)"]) / len(base["neural_net (initial)"])
    k = sum(bool(r["learning_rate_adaptation"]) for r in runs)
    entry = {
        "epochs": epochs,
        "tuned_network": tuned,
        "baselines_held_out": {
            name: {"mean": sum(v) / len(v), "per_task": v} for name, v in base.items()
        },
        "evolved_held_out": score_summary(evolved_means),
        "evolved_minus_tuned_across_seeds": score_summary([m - tuned_mean for m in evolved_means]),
        "evolved_minus_initial_across_seeds": score_summary(
            [m - initial_mean for m in evolved_means]
        ),
        "seeds_better_than_tuned_p05": sum(
            r["vs_tuned_network"]["p_t"] < 0.05 and r["vs_tuned_network"]["mean_difference"] > 0
            for r in runs
        ),
        "seeds_worse_than_tuned_p05": sum(
            r["vs_tuned_network"]["p_t"] < 0.05 and r["vs_tuned_network"]["mean_difference"] < 0
            for r in runs
        ),
        "adaptation_emerged": rate_summary(k, len(runs)),
        "runs": runs,
        "cpu_seconds": time.process_time() - cpu0,
    }
    return entry, programs


# Fresh held-out tasks for the ablations (the held-out pairs, projections never used before):
# the best program was picked by its accuracy on the final tasks, so its ablations are scored
# on other tasks.
ABLATION_FIRST_SEED = 2_000_000


def _data(ins) -> tuple:
    return tuple(getattr(ins, f) for f in OPS[ins.op].data)


def ablations(evolved: Program, start: Program) -> list[dict]:
    """Variants of `evolved`, one change undone each.

    For every instruction: the program without it ("remove"); and, when the starting
    program's same component has an instruction of the same op with other data (a constant,
    an initialisation's mean and scale), that instruction with the starting program's data
    ("revert": e.g. the learning rate back to 0.01). Addresses are not compared: the simplifier
    renames both programs independently, so an instruction "of the starting program" is only
    defined by op and data (`in_start`: the same op with the same data is in the starting
    program's component).
    """
    variants = []
    for name, code in evolved.components().items():
        ref = start.component(name)
        for i, ins in enumerate(code):
            in_start = any(r.op == ins.op and _data(r) == _data(ins) for r in ref)
            row = {
                "component": name,
                "index": i,
                "instruction": format_instruction(ins),
                "op": OPS[ins.op].name,
            }
            removed = evolved.replace(**{name: [*code[:i], *code[i + 1 :]]})
            variants.append({**row, "change": "remove", "in_start": in_start, "program": removed})
            other = [r for r in ref if r.op == ins.op and _data(r) != _data(ins)]
            if OPS[ins.op].data and other and not in_start:
                fields = {f: getattr(other[0], f) for f in OPS[ins.op].data}
                back = dataclasses.replace(ins, **fields)
                reverted = evolved.replace(**{name: [*code[:i], back, *code[i + 1 :]]})
                variants.append(
                    {
                        **row,
                        "change": "revert",
                        "reverted_to": format_instruction(back),
                        "in_start": False,
                        "program": reverted,
                    }
                )
    return variants


def holm(pvalues: list, alpha: float = 0.05) -> list[bool]:
    """Holm's step-down rejections at family-wise level alpha (None/NaN p counts as 1)."""
    ps = [1.0 if p is None or p != p else p for p in pvalues]
    order = sorted(range(len(ps)), key=ps.__getitem__)
    reject = [False] * len(ps)
    for k, i in enumerate(order):
        if ps[i] > alpha / (len(ps) - k):
            break
        reject[i] = True
    return reject


def mark_evolved_changes(variants: list[dict]) -> None:
    """Flag the variants that undo one evolved change each: the revert where an instruction
    has one (a changed constant or initialisation), otherwise the removal of an instruction
    whose op and data the starting network's component does not have."""
    reverted = {(v["component"], v["index"]) for v in variants if v["change"] == "revert"}
    for v in variants:
        v["evolved_change"] = v["change"] == "revert" or (
            not v["in_start"] and (v["component"], v["index"]) not in reverted
        )


def ablate(settings: dict, entry: dict, eval_seed: int, tuned: dict) -> dict:
    """Every one-change ablation of the arm's programs on fresh held-out tasks, each a paired
    test (variant - evolved) over those tasks, Holm-corrected across one program's variants:
    in full for the best program, summarised for every seed's program."""
    best = max(entry["runs"], key=lambda r: r["held_out_accuracy"])
    cfg = experiment_config(settings, entry["epochs"])
    tasks = spec(
        settings["final"],
        ABLATION_FIRST_SEED,
        SEARCH_PAIRS,
        settings["train"],
        entry["epochs"],
    )
    ev = Evaluator(build_collection([tasks]), MEMORY)
    start = load_builtin("neural_net")

    def per_task(program) -> list[float]:
        return ev.evaluate_detailed(program, eval_seed).per_task

    def variant_rows(text: str) -> tuple[list[float], list[dict]]:
        evolved = parse_program(text)
        full = per_task(evolved)
        rows = []
        for v in ablations(evolved, start):
            acc = per_task(v.pop("program"))
            rows.append({**v, "mean": sum(acc) / len(acc), "vs_evolved": paired_test(acc, full)})
        for r, ok in zip(rows, holm([r["vs_evolved"]["p_t"] for r in rows]), strict=True):
            r["holm_significant"] = ok
        mark_evolved_changes(rows)
        return full, rows

    full, rows = variant_rows(best["program"])
    all_seeds = []
    for run in entry["runs"]:
        f, vs = (full, rows) if run is best else variant_rows(run["program"])
        keep = ("component", "index", "instruction", "op", "change", "in_start")
        all_seeds.append(
            {
                "seed": run["seed"],
                "evolved_mean": sum(f) / len(f),
                "variants": [
                    {
                        **{k: v[k] for k in keep},
                        "evolved_change": v["evolved_change"],
                        "mean_difference": v["vs_evolved"]["mean_difference"],
                        "p_t": v["vs_evolved"]["p_t"],
                        "identical": v["vs_evolved"]["ties"] == v["vs_evolved"]["n"],
                        "holm_significant": v["holm_significant"],
                    }
                    for v in vs
                ],
            }
        )
    references = {
        "neural_net (initial)": per_task(start),
        "neural_net (tuned on select)": per_task(
            network(tuned["best"]["learning_rate"], tuned["best"]["init_scale"])
        ),
    }
    return {
        "seed": best["seed"],
        "tasks": {"num_tasks": tasks["num_tasks"], "first_data_seed": ABLATION_FIRST_SEED},
        "select_tasks_first_data_seed": cfg["select_tasks"][0]["data_seeds"][0],
        "evolved_mean": sum(full) / len(full),
        "evolved_per_task": full,
        "references": {
            name: {
                "mean": sum(acc) / len(acc),
                "per_task": acc,
                "minus_evolved": paired_test(acc, full),
            }
            for name, acc in references.items()
        },
        "variants": rows,
        "all_seeds": all_seeds,
    }


def analyse(results: dict) -> dict:
    """What the arms' stored programs and numbers support, without searching again.

    * the starting network tuned on the select tasks (the tasks the evolved programs are
      selected on; the arms' own baseline is tuned on the search tasks), scored on the same
      held-out tasks, with per-seed paired tests against the stored per-task accuracies;
    * learning-rate adaptation, treatment vs control (Fisher's exact test);
    * one-change ablations of each arm's programs (`ablate`).
    It re-evaluates every stored (simplified) program on the held-out tasks and records
    whether that reproduces the stored per-task accuracies.
    """
    cpu0 = time.process_time()
    st, seed = results["settings"], results["seed"]
    out: dict = {"tuned_on_select": {}, "ablation": {}}
    for arm, entry in results["arms"].items():
        cfg = experiment_config(st, entry["epochs"])
        tuned = tune_network(cfg["select_tasks"][0], seed, "select_accuracy")
        final = Evaluator(build_collection(cfg["final_tasks"]), MEMORY)

        def per_task(program, final=final) -> list[float]:
            return final.evaluate_detailed(program, seed).per_task

        base = per_task(network(tuned["best"]["learning_rate"], tuned["best"]["init_scale"]))
        base_mean = sum(base) / len(base)
        runs = entry["runs"]
        tests = [paired_test(r["held_out_per_task"], base) for r in runs]
        reproduced = [per_task(parse_program(r["program"])) == r["held_out_per_task"] for r in runs]
        out["tuned_on_select"][arm] = {
            **tuned,
            "held_out_mean": base_mean,
            "held_out_per_task": base,
            "stored_programs_reproduced": sum(reproduced),
            "per_seed": [
                {"seed": r["seed"], "vs_tuned_on_select": t}
                for r, t in zip(runs, tests, strict=True)
            ],
            "evolved_minus_tuned_across_seeds": score_summary(
                [r["held_out_accuracy"] - base_mean for r in runs]
            ),
            "seeds_better_p05": sum(t["p_t"] < 0.05 and t["mean_difference"] > 0 for t in tests),
            "seeds_worse_p05": sum(t["p_t"] < 0.05 and t["mean_difference"] < 0 for t in tests),
        }
        out["ablation"][arm] = ablate(st, entry, seed, tuned)
    if {"treatment", "control"} <= set(results["arms"]):
        t, c = (results["arms"][a]["adaptation_emerged"] for a in ("treatment", "control"))
        out["adaptation_treatment_vs_control"] = {
            "treatment": t,
            "control": c,
            "fisher_exact_p": fisher_exact(t["successes"], t["n"], c["successes"], c["n"]),
        }
    out["cpu_seconds"] = time.process_time() - cpu0
    return out


def main() -> None:
    parser = make_parser(__doc__, "runs/examples/adaptation_few_steps")
    parser.add_argument(
        "--arms", default="treatment,control", help="comma-separated arms (treatment,control)"
    )
    parser.add_argument(
        "--analyse-only",
        type=Path,
        default=None,
        metavar="DIR",
        help="no search: add the analysis (tuned-on-select network, ablations) to the "
        "stored DIR/results.json",
    )
    args = parser.parse_args()
    if args.analyse_only:
        path = args.analyse_only / "results.json"
        results = json.loads(path.read_text("utf-8"))
        results["analysis"] = analyse(results)
        path.write_text(json.dumps(finite(results), indent=2) + "\n", "utf-8")
        print_analysis(results["analysis"])
        print(f"results: {path}")
        return
    size = size_of(args)
    sz = pick(size, SIZE_TABLE)
    seeds = seeds_of(args, sz["seeds"])
    arms = [a.strip() for a in args.arms.split(",") if a.strip()]
    banner("adaptation to few training steps (from the NN)", size, args.seed)
    clock = Clock()
    results: dict = {
        "experiment": "adaptation_few_steps",
        "size": size,
        "seed": args.seed,
        "budget_unit": "individuals",
        "settings": {**sz, "seeds": len(seeds), "arms": arms},
        "arms": {},
    }
    for arm in arms:
        print(f"-- {arm} ({sz['epochs'] * ARMS[arm]} epoch(s))", flush=True)
        entry, programs = run_arm(arm, sz, seeds, args.seed)
        results["arms"][arm] = entry
        best = max(range(len(programs)), key=lambda i: entry["runs"][i]["held_out_accuracy"])
        write_program(
            args.out,
            f"{arm}_best",
            programs[best],
            f"adaptation_few_steps {arm}, seed {entry['runs'][best]['seed']}: held-out accuracy "
            f"{entry['runs'][best]['held_out_accuracy']:.4f} (best of {len(programs)} seeds)",
        )
        e, d = entry["evolved_held_out"], entry["evolved_minus_tuned_across_seeds"]
        print(
            f"   {arm}: evolved {fmt_score(e)}; tuned NN "
            f"{entry['baselines_held_out']['neural_net (tuned)']['mean']:.4f} (lr "
            f"{entry['tuned_network']['best']['learning_rate']}, init "
            f"{entry['tuned_network']['best']['init_scale']}); evolved - tuned {fmt_score(d)}; "
            f"adaptation {fmt_rate(entry['adaptation_emerged'])}",
            flush=True,
        )
        results["seconds"] = clock()
        write_results(args.out, results)
    results["analysis"] = analyse(results)
    print_analysis(results["analysis"])
    plot(args.out, results)
    print(f"results: {write_results(args.out, results)}")


def print_analysis(a: dict) -> None:
    for arm, t in a["tuned_on_select"].items():
        b = t["best"]
        print(
            f"   {arm}: network tuned on the select tasks (lr {b['learning_rate']}, init "
            f"{b['init_scale']}) held-out {t['held_out_mean']:.4f}; evolved - it "
            f"{fmt_score(t['evolved_minus_tuned_across_seeds'])}; stored programs reproduced "
            f"{t['stored_programs_reproduced']}/{len(t['per_seed'])}",
            flush=True,
        )
    for arm, ab in a["ablation"].items():
        print(f"   {arm} best (seed {ab['seed']}) {ab['evolved_mean']:.4f} on ablation tasks:")
        for v in ab["variants"]:
            d = v["vs_evolved"]
            mark = " *" if v["holm_significant"] else ""
            print(
                f"     {v['change']:6} {v['component']:7} {v['instruction']:40} "
                f"{d['mean_difference']:+.4f} (p {d['p_t']:.2g}){mark}"
            )


def plot(out, results: dict) -> None:
    plt = pyplot()
    if plt is None:
        return
    arms = list(results["arms"])
    fig, ax = plt.subplots(figsize=(6, 3.4))
    names = ["neural_net (initial)", "neural_net (tuned)", "evolved"]
    for j, arm in enumerate(arms):
        e = results["arms"][arm]
        means = [e["baselines_held_out"][n]["mean"] for n in names[:2]]
        means.append(e["evolved_held_out"]["mean"])
        lo, hi = e["evolved_held_out"]["t_ci"]
        err = [[0, 0, means[2] - lo], [0, 0, hi - means[2]]]
        xs = [i + 0.4 * j - 0.2 for i in range(3)]
        ax.bar(xs, means, width=0.4, yerr=err, capsize=3, label=f"{arm} ({e['epochs']} ep.)")
    ax.set_xticks(range(3), names, fontsize=7)
    ax.set_ylim(0.5, 1.0)
    ax.set_ylabel("mean accuracy, held-out tasks")
    ax.legend(fontsize=7)
    fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "adaptation_few_steps.png", dpi=80)
    plt.close(fig)


if __name__ == "__main__":
    main()
