"""Evolve learning algorithms on your own table, from Python, and compare with scikit-learn.

The notebook-style use of `amlz_compile.AlgorithmSearchRegressor` / `AlgorithmSearchClassifier`
on two of scikit-learn's bundled datasets (no download): diabetes (regression, 442 rows, 10
features; score R^2) and breast cancer (binary classification, 569 rows, 30 features; score
accuracy). Each of `seeds` seeds (default 10; seed i of base seed b is 1000 b + i) draws its own
split (75 % train, 25 % held out); within a seed every model is fitted on the same training
rows and scored on the same held-out rows:

- the search estimator started from the reference's linear SGD learner (`initial="linear"`, the
  default) and from random programs (`initial="random"`), each with a fixed individual budget
  (deterministic for a seed; default 1,000,000 individuals, under a minute on one core);
- scikit-learn's `LinearRegression` / `LogisticRegression` and a one-hidden-layer
  `MLPRegressor` / `MLPClassifier` (32 units), both after a `StandardScaler`.

Reported, whatever it shows: each model's mean held-out score over the seeds with its 95 % t
interval and raw values, and each model minus the linear baseline as a paired test over the
seeds' splits (results.json, printed table). The first seed's discovered programs go to
DIR/<dataset>_<start>.txt; every seed's are in results.json.

    python examples/own_data_vs_sklearn.py            # ~2 minutes per seed on one core
    python examples/own_data_vs_sklearn.py --smoke    # one seed, seconds
"""

from __future__ import annotations

import time
from pathlib import Path

from _common import (
    Clock,
    banner,
    make_parser,
    pick,
    seeds_of,
    size_of,
    write_program,
    write_results,
)
from stats import paired_test, score_summary

from amlz_compile import AlgorithmSearchClassifier, AlgorithmSearchRegressor

BUDGET = {"smoke": 2_000, "default": 1_000_000, "paper": 20_000_000}  # individuals per search
SEEDS = {"smoke": 1, "default": 10, "paper": 10}  # seeds, each with its own split
LINEAR = {"regression": "LinearRegression", "classification": "LogisticRegression"}
STARTS = ("linear", "random")


def baselines(task: str, seed: int) -> dict:
    """scikit-learn's linear model and a small MLP, each after a StandardScaler."""
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if task == "regression":
        return {
            "LinearRegression": make_pipeline(StandardScaler(), LinearRegression()),
            "MLPRegressor(32)": make_pipeline(
                StandardScaler(),
                MLPRegressor(
                    hidden_layer_sizes=(32,), max_iter=5000, early_stopping=True, random_state=seed
                ),
            ),
        }
    return {
        "LogisticRegression": make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)),
        "MLPClassifier(32)": make_pipeline(
            StandardScaler(),
            MLPClassifier(hidden_layer_sizes=(32,), max_iter=5000, random_state=seed),
        ),
    }


def run_dataset(name: str, task: str, budget: int, seed: int, out: Path | None) -> dict:
    """One seed on one dataset: a seeded 75/25 split, every model fitted on its training rows
    and scored on its held-out rows; the search programs are written to `out` if given."""
    from sklearn.datasets import load_breast_cancer, load_diabetes
    from sklearn.model_selection import train_test_split

    loader = load_diabetes if task == "regression" else load_breast_cancer
    X, y = loader(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=seed)
    rows = []
    for start in STARTS:
        cls = AlgorithmSearchRegressor if task == "regression" else AlgorithmSearchClassifier
        est = cls(max_individuals=budget, initial=start, random_state=seed)
        t0 = time.perf_counter()
        est.fit(Xtr, ytr)
        seconds = time.perf_counter() - t0
        if out is not None:
            write_program(out, f"{name}_{start}", est.algorithm_,
                          f"{name}, start {start}, seed {seed}, {budget} individuals")  # fmt: skip
        rows.append(
            {
                "model": f"{cls.__name__}(initial={start!r})",
                "held_out": est.score(Xte, yte),
                "fit_seconds": seconds,
                "individuals": est.search_result_["individuals"],
                "select_fitness": est.search_result_["select_fitness"],
                "search_held_out": est.final_metrics_,
                "program": str(est.algorithm_),
            }
        )
        print(f"  {rows[-1]['model']:52s} {rows[-1]['held_out']:.4f}  ({seconds:.1f} s)",
              flush=True)  # fmt: skip
    for label, model in baselines(task, seed).items():
        t0 = time.perf_counter()
        model.fit(Xtr, ytr)
        seconds = time.perf_counter() - t0
        rows.append({"model": label, "held_out": model.score(Xte, yte), "fit_seconds": seconds})
        print(f"  {label:52s} {rows[-1]['held_out']:.4f}  ({seconds:.1f} s)", flush=True)
    return {"seed": seed, "train_rows": len(ytr), "held_out_rows": len(yte), "rows": rows}


def summarise(task: str, runs: list[dict]) -> dict:
    """Per model over the seeds: held-out scores (mean, t interval, raw values) and fit
    seconds; each model against the linear baseline as a paired test over the seeds' splits."""
    models = [r["model"] for r in runs[0]["rows"]]
    scores = {m: [next(r["held_out"] for r in run["rows"] if r["model"] == m) for run in runs]
              for m in models}  # fmt: skip
    seconds = {m: [next(r["fit_seconds"] for r in run["rows"] if r["model"] == m)
                   for run in runs] for m in models}  # fmt: skip
    linear = LINEAR[task]
    return {
        "task": task,
        "score": "R^2" if task == "regression" else "accuracy",
        "train_rows": runs[0]["train_rows"],
        "held_out_rows": runs[0]["held_out_rows"],
        "linear_baseline": linear,
        "models": {
            m: {"held_out": score_summary(scores[m]), "fit_seconds": seconds[m]} for m in models
        },  # fmt: skip
        "vs_linear_baseline": {
            m: paired_test(scores[m], scores[linear]) for m in models if m != linear
        },
        "runs": runs,
    }


def table(datasets: dict) -> str:
    """The results as a Markdown table (what README/docs quote): mean held-out score over the
    seeds with its 95 % t interval, the mean difference to the linear baseline, fit seconds."""
    lines = [
        "| dataset (held-out score) | model | held-out, mean over seeds [95 % t CI] | minus the "
        "linear baseline [95 % t CI] | median fit seconds |",
        "|---|---|---|---|---|",
    ]
    for name, d in datasets.items():
        for model, m in d["models"].items():
            h = m["held_out"]
            vs = d["vs_linear_baseline"].get(model)
            diff = (f"{vs['mean_difference']:+.4f} [{vs['t_ci'][0]:+.4f}, {vs['t_ci'][1]:+.4f}]"
                    if vs else "-")  # fmt: skip
            fit = sorted(m["fit_seconds"])[len(m["fit_seconds"]) // 2]
            lines.append(f"| {name} ({d['score']}) | {model} | {h['mean']:.4f} "
                         f"[{h['t_ci'][0]:.4f}, {h['t_ci'][1]:.4f}] (n = {h['n']}) | {diff} | "
                         f"{fit:.1f} |")  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    parser = make_parser(__doc__, "runs/examples/own_data_vs_sklearn")
    args = parser.parse_args()
    size = size_of(args)
    budget = pick(size, BUDGET)
    seeds = seeds_of(args, pick(size, SEEDS))
    banner("search estimators vs scikit-learn on diabetes and breast cancer", size, args.seed)
    clock = Clock()
    datasets = {}
    for name, task in (("diabetes", "regression"), ("breast_cancer", "classification")):
        runs = []
        for i, seed in enumerate(seeds):
            print(f"{name} ({task}), seed {seed}, {budget:,} individuals per search:", flush=True)
            runs.append(run_dataset(name, task, budget, seed, args.out if i == 0 else None))
        datasets[name] = summarise(task, runs)
    markdown = table(datasets)
    print("\n" + markdown)
    best = {n: max(d["models"], key=lambda m: d["models"][m]["held_out"]["mean"])
            for n, d in datasets.items()}  # fmt: skip
    path = write_results(
        args.out,
        {
            "experiment": "own_data_vs_sklearn",
            "size": size,
            "seed": args.seed,
            "budget_unit": "individuals",
            "individuals_per_search": budget,
            "settings": {"seeds": len(seeds), "individuals": budget, "held_out": 0.25},
            "datasets": datasets,
            "best_model": best,
            "table": markdown,
            "program": {n: d["runs"][0]["rows"][0]["program"] for n, d in datasets.items()},
            "seconds": clock(),
        },
    )
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
