"""Evolve learning algorithms on your own table, from Python, and compare with scikit-learn.

The notebook-style use of `amlz_compile.AlgorithmSearchRegressor` / `AlgorithmSearchClassifier`
on two of scikit-learn's bundled datasets (no download): diabetes (regression, 442 rows, 10
features; score R^2) and breast cancer (binary classification, 569 rows, 30 features; score
accuracy). One split per dataset (75 % train, 25 % held out, seeded); every model is fitted on
the same training rows and scored on the same held-out rows:

- the search estimator started from the reference's linear SGD learner (`initial="linear"`, the
  default) and from random programs (`initial="random"`), each with a fixed individual budget
  (deterministic for a seed; default 1,000,000 individuals, under a minute on one core);
- scikit-learn's `LinearRegression` / `LogisticRegression` and a one-hidden-layer
  `MLPRegressor` / `MLPClassifier` (32 units), both after a `StandardScaler`.

The table is printed and written to results.json, whatever it shows; the discovered programs
go to DIR/<dataset>_<start>.txt.

    python examples/own_data_vs_sklearn.py            # about a minute per search, one core
    python examples/own_data_vs_sklearn.py --smoke    # seconds
"""

from __future__ import annotations

import time
from pathlib import Path

from _common import banner, make_parser, pick, size_of, write_program, write_results

from amlz_compile import AlgorithmSearchClassifier, AlgorithmSearchRegressor

BUDGET = {"smoke": 2_000, "default": 1_000_000, "paper": 20_000_000}  # individuals per search
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


def run_dataset(name: str, task: str, budget: int, seed: int, out: Path) -> dict:
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
    return {
        "task": task,
        "score": "R^2" if task == "regression" else "accuracy",
        "train_rows": len(ytr),
        "held_out_rows": len(yte),
        "rows": rows,
    }


def table(datasets: dict) -> str:
    """The results as a Markdown table (what README/docs quote)."""
    lines = ["| dataset (held-out score) | model | held-out | fit seconds |", "|---|---|---|---|"]
    for name, d in datasets.items():
        for r in d["rows"]:
            lines.append(f"| {name} ({d['score']}) | {r['model']} | {r['held_out']:.4f} | "
                         f"{r['fit_seconds']:.1f} |")  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    parser = make_parser(__doc__, "runs/examples/own_data_vs_sklearn")
    args = parser.parse_args()
    size = size_of(args)
    budget = pick(size, BUDGET)
    banner("search estimators vs scikit-learn on diabetes and breast cancer", size, args.seed)
    datasets = {}
    for name, task in (("diabetes", "regression"), ("breast_cancer", "classification")):
        print(f"{name} ({task}, {budget:,} individuals per search):", flush=True)
        datasets[name] = run_dataset(name, task, budget, args.seed, args.out)
    markdown = table(datasets)
    print("\n" + markdown)
    best = {n: max(d["rows"], key=lambda r: r["held_out"])["model"] for n, d in datasets.items()}
    path = write_results(
        args.out,
        {
            "experiment": "own_data_vs_sklearn",
            "size": size,
            "seed": args.seed,
            "individuals_per_search": budget,
            "datasets": datasets,
            "best_model": best,
            "table": markdown,
            "program": {n: d["rows"][0]["program"] for n, d in datasets.items()},
        },
    )
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
