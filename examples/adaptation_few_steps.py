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

Sizes (measured on this 2-core machine, shared with other jobs):
  --smoke    D = 2, P = 20, 600 individuals (a few s)
  default    D = 10 search tasks, P = 100, 240 s of search (measured: 274 s wall in all,
             23 CPU-s on the loaded machine; see RESULTS.md)
  --paper    10 epochs of every example a digits pair has (330 train / 20 valid; the paper:
             800 x 10 on CIFAR-10), D = 10, P = 100, the reference's default budget of
             8 x 10^10 training steps (the paper: 1000 workers for days, 30 repeats)
"""

from __future__ import annotations

from _common import (
    Clock,
    banner,
    make_parser,
    pick,
    progress_curve,
    pyplot,
    simplified_text,
    size_of,
    thin,
    write_program,
    write_results,
)

from amlz_compile.algorithms import load_builtin
from amlz_compile.evaluate import Evaluator
from amlz_compile.ir.ops import OPS, SCALAR
from amlz_compile.ir.program import MemorySpec
from amlz_compile.ir.text import format_instruction
from amlz_compile.passes import simplify_program
from amlz_compile.search.experiment import run_search
from amlz_compile.search.presets import HELD_OUT_PAIRS
from amlz_compile.tasks import build_collection

FEATURES = 16
MEMORY = MemorySpec(10, 16, 4, FEATURES)
SIZE_TABLE = {
    "smoke": dict(
        D=2, P=20, train=100, epochs=1, final=9, limits={"max_individuals": 600, "time_limit": 60}
    ),
    "default": dict(D=10, P=100, train=100, epochs=1, final=27, limits={"time_limit": 240}),
    "paper": dict(D=10, P=100, train=800, epochs=10, final=100, limits={"time_limit": None}),
}
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


def experiment_config(sz: dict) -> dict:
    tr, ep = sz["train"], sz["epochs"]
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


def main() -> None:
    parser = make_parser(__doc__, "runs/examples/adaptation_few_steps")
    args = parser.parse_args()
    size = size_of(args)
    sz = pick(size, SIZE_TABLE)
    banner("adaptation to few training steps (from the NN)", size, args.seed)
    clock = Clock()
    cfg = experiment_config(sz)
    curve, on_event = progress_curve()

    result = run_search(
        cfg, seed=args.seed, flow="fast", checkpoint_every_s=None, on_event=on_event, **sz["limits"]
    )
    initial = load_builtin("neural_net")
    evolved = result.best_program
    few = Evaluator(build_collection(cfg["final_tasks"]), MEMORY)
    many_spec = spec(sz["final"], 1000000, SEARCH_PAIRS, sz["train"], sz["epochs"] * 10)
    many = Evaluator(build_collection([many_spec]), MEMORY)
    table = {
        name: {"few_steps": few.evaluate(p, args.seed), "10x_steps": many.evaluate(p, args.seed)}
        for name, p in (("neural_net (initial)", initial), ("evolved", evolved))
    }
    adaptation = learning_rate_adaptation(evolved)
    results = {
        "experiment": "adaptation_few_steps",
        "size": size,
        "seed": args.seed,
        "settings": {k: v for k, v in sz.items()},
        "individuals": result.individuals,
        "elapsed": result.elapsed,
        "accuracy_held_out": table,
        "improved_over_initial": bool(
            table["evolved"]["few_steps"] > table["neural_net (initial)"]["few_steps"]
        ),
        "learning_rate_adaptation": adaptation,
        "adaptation_emerged": bool(adaptation),
        "program": simplified_text(evolved),
        "curve": thin(curve),
        "seconds": clock(),
    }
    write_program(
        args.out,
        "discovered",
        evolved,
        f"adaptation_few_steps seed {args.seed}: held-out accuracy "
        f"{table['evolved']['few_steps']:.4f} with few steps",
    )
    print(f"{result.individuals} individuals in {result.elapsed:.1f} s")
    print(
        f"mean accuracy on held-out pairs ({sz['train']} examples x {sz['epochs']} epoch(s) "
        f"/ x {sz['epochs'] * 10}):"
    )
    for name, row in table.items():
        print(f"  {name:<22} {row['few_steps']:.4f}   {row['10x_steps']:.4f}")
    print("learning-rate adaptation: " + ("; ".join(adaptation) if adaptation else "none found"))
    print("evolved program (simplified):\n" + results["program"])
    plot(args.out, results)
    print(f"results: {write_results(args.out, results)}")


def plot(out, results: dict) -> None:
    plt = pyplot()
    if plt is None:
        return
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.4))
    c = results["curve"]
    if c:
        a1.plot([p["seconds"] for p in c], [p["best_search_fitness"] for p in c])
    a1.set_xlabel("seconds")
    a1.set_ylabel("best search accuracy")
    a1.set_title("search from the NN, few training steps")
    names = list(results["accuracy_held_out"])
    x = range(len(names))
    few = [results["accuracy_held_out"][n]["few_steps"] for n in names]
    many = [results["accuracy_held_out"][n]["10x_steps"] for n in names]
    a2.bar([i - 0.2 for i in x], few, width=0.4, label="few steps (searched)")
    a2.bar([i + 0.2 for i in x], many, width=0.4, label="10x steps")
    a2.set_xticks(list(x), names)
    a2.set_ylim(0.5, 1.0)
    a2.set_ylabel("mean accuracy, held-out pairs")
    a2.legend(fontsize=7)
    fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "adaptation_few_steps.png", dpi=80)
    plt.close(fig)


if __name__ == "__main__":
    main()
