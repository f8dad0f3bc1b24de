"""Presets: the reference's shipped configurations as experiment config dicts
(docs/semantics.md#presets).

An experiment config is a plain dict:
    search              a SearchConfig dict (search tasks included, see `search.config`)
    select_tasks        task spec dicts for T_select (candidates are compared on them)
    final_tasks         task spec dicts for the final evaluation on unseen data
    sufficient_fitness  stop once the best select fitness is strictly above it (None = never)
    max_experiments     search experiments to run (0 = until sufficient_fitness or time limit)
    randomize_task_seeds  re-seed the search/select tasks every experiment (docs/semantics.md#tasks)
`get_preset(name)` returns a fresh deep copy, so callers may edit it.
"""

from __future__ import annotations

import copy
from typing import Any

from .config import ConfigError

DEMO_OPS = [
    "SCALAR_CONST_SET_OP",
    "VECTOR_INNER_PRODUCT_OP",
    "SCALAR_DIFF_OP",
    "SCALAR_PRODUCT_OP",
    "SCALAR_VECTOR_PRODUCT_OP",
    "VECTOR_SUM_OP",
]

# run_baseline.sh / paper S10 (the script's MATRIX_SUM, see docs/semantics.md#presets).
BASELINE_SETUP_OPS = [
    "SCALAR_CONST_SET_OP",
    "SCALAR_GAUSSIAN_SET_OP",
    "SCALAR_UNIFORM_SET_OP",
    "VECTOR_GAUSSIAN_SET_OP",
    "VECTOR_UNIFORM_SET_OP",
    "MATRIX_GAUSSIAN_SET_OP",
    "MATRIX_UNIFORM_SET_OP",
]
BASELINE_PREDICT_OPS = [
    "SCALAR_SUM_OP",
    "MATRIX_VECTOR_PRODUCT_OP",
    "VECTOR_MAX_OP",
    "VECTOR_INNER_PRODUCT_OP",
    "VECTOR_SUM_OP",
]
BASELINE_LEARN_OPS = [
    "SCALAR_SUM_OP",
    "SCALAR_DIFF_OP",
    "SCALAR_PRODUCT_OP",
    "SCALAR_VECTOR_PRODUCT_OP",
    "VECTOR_SUM_OP",
    "VECTOR_HEAVYSIDE_OP",
    "VECTOR_PRODUCT_OP",
    "VECTOR_OUTER_PRODUCT_OP",
    "MATRIX_SUM_OP",
]
# The nine class pairs the reference holds out for meta-validation/test (docs/semantics.md#presets).
HELD_OUT_PAIRS = [[4, 6], [3, 5], [8, 9], [3, 8], [0, 9], [2, 9], [1, 8], [3, 6], [0, 5]]

# The size bounds mutation keeps each component within, in the paper's baseline experiments.
BASELINE_MUTATE_SIZES = {
    "mutate_setup_size_min": 1,
    "mutate_setup_size_max": 7,
    "mutate_predict_size_min": 1,
    "mutate_predict_size_max": 11,
    "mutate_learn_size_min": 1,
    "mutate_learn_size_max": 23,
}


def _linear(num_tasks: int, num_train: int, num_valid: int, **extra: Any) -> dict:
    spec = {
        "kind": "linear",
        "features": 4,
        "num_train": num_train,
        "num_valid": num_valid,
        "num_tasks": num_tasks,
        "eval_type": "rms",
    }
    spec.update(extra)
    return spec


def _demo() -> dict:
    """run_demo.sh: linear regression from scratch, the README's 5-minute demo."""
    return {
        "description": "reference demo (run_demo.sh): evolve linear regression from random "
        "programs of six ops; stops at select fitness > 0.9999",
        "search": {
            "setup_ops": DEMO_OPS,
            "predict_ops": DEMO_OPS,
            "learn_ops": DEMO_OPS,
            "setup_size_init": 10,
            "predict_size_init": 2,
            "learn_size_init": 8,
            "initial_population": "random",
            "population_size": 1000,
            "tournament_size": 10,
            "mutate_prob": 0.9,
            "allowed_mutation_types": [
                "alter_param",
                "randomize_instruction",
                "randomize_component_function",
            ],
            "max_train_steps": 200_000_000,
            "fec": {"num_train_examples": 10, "num_valid_examples": 10},
            "fitness_combination": "mean",
            "memory": {"scalars": 4, "vectors": 3, "matrices": 1},
            "search_tasks": [_linear(10, 100, 100)],
            "dedup": False,
            "progress_every": 10000,
        },
        "select_tasks": [_linear(100, 1000, 100)],
        "final_tasks": [
            _linear(100, 1000, 100, data_seeds=[1000000], param_seeds=[2000000]),
        ],
        "sufficient_fitness": 0.9999,
        "max_experiments": 0,
        "randomize_task_seeds": True,
    }


def _linear_test() -> dict:
    """run_integration_test_linear.sh: the demo restricted to the solution's op lists."""
    cfg = _demo()
    cfg["description"] = (
        "reference linear integration test: demo with each function's ops restricted, sizes "
        "5/1/4, select = final = 100 default-seed tasks (10000/100)"
    )
    search = cfg["search"]
    search.update(
        setup_ops=["SCALAR_CONST_SET_OP"],
        predict_ops=["VECTOR_INNER_PRODUCT_OP"],
        learn_ops=[
            "SCALAR_DIFF_OP",
            "SCALAR_PRODUCT_OP",
            "SCALAR_VECTOR_PRODUCT_OP",
            "VECTOR_SUM_OP",
        ],
        setup_size_init=5,
        predict_size_init=1,
        learn_size_init=4,
        max_train_steps=100_000_000,
    )
    same = _linear(100, 10000, 100)
    cfg.update(
        select_tasks=[same],
        final_tasks=[copy.deepcopy(same)],
        randomize_task_seeds=False,
        seed=100021,
    )
    return cfg


def _nonlinear_test() -> dict:
    """run_integration_test_nonlinear.sh: repair the damaged NN (rediscover the Gaussian inits)."""
    task = {
        "kind": "nonlinear",
        "features": 4,
        "num_train": 1000,
        "num_valid": 100,
        "num_tasks": 1,
        "eval_type": "rms",
        "param_seeds": [9000],
        "data_seeds": [19000],
    }
    return {
        "description": "reference nonlinear integration test: starting from the NN without its "
        "two Gaussian initialisations, evolve Setup until they are back",
        "search": {
            "setup_ops": ["VECTOR_GAUSSIAN_SET_OP", "MATRIX_GAUSSIAN_SET_OP"],
            "predict_ops": [],
            "learn_ops": [],
            "setup_size_init": 2,
            "predict_size_init": 1,
            "learn_size_init": 4,
            "mutate_setup_size_min": 6,
            "mutate_setup_size_max": 7,
            "mutate_predict_size_min": 3,
            "mutate_predict_size_max": 4,
            "mutate_learn_size_min": 9,
            "mutate_learn_size_max": 10,
            "initial_population": "damaged_neural_net",
            "population_size": 1000,
            "tournament_size": 10,
            "mutate_prob": 1.0,
            "allowed_mutation_types": [
                "alter_param",
                "insert_instruction",
                "remove_instruction",
                "trade_instruction",
            ],
            "max_train_steps": 100_000_000,
            "train_budget": {"baseline": "neural_net", "threshold_factor": 2.0},
            "fitness_combination": "mean",
            "memory": {"scalars": 5, "vectors": 9, "matrices": 2},
            "search_tasks": [copy.deepcopy(task)],
            "dedup": False,
            "progress_every": 10000,
        },
        "select_tasks": [copy.deepcopy(task)],
        "final_tasks": [copy.deepcopy(task)],
        # The script passes no --sufficient_fitness and the default --max_experiments=1.
        "sufficient_fitness": None,
        "max_experiments": 1,
        "randomize_task_seeds": False,
        "seed": 100001,
    }


def _projected_binary(
    num_train: int = 250, num_valid: int = 100, data_seed: int = 0, **extra: Any
) -> dict:
    spec = {
        "kind": "projected_binary",
        "dataset": "digits",
        "features": 16,
        "num_train": num_train,
        "num_valid": num_valid,
        "num_tasks": 1,
        "epochs": 1,
        "eval_type": "accuracy",
        "data_seeds": [data_seed],
        "max_data_seed": 2,
    }
    spec.update(extra)
    return spec


def _projected_test() -> dict:
    """run_integration_test_projected_binary_datasets.sh on scikit-learn digits (no download).

    CIFAR-10 (0 vs 1, 8000/1000) becomes digits (0 vs 1, 250/100: the two classes have 360
    examples); the budget keeps the reference's shape (init plus a few sweeps of P = 10).
    """
    pair = {"positive_class": 0, "negative_class": 1}
    return {
        "description": "reference projected-binary integration test on scikit-learn digits "
        "(0 vs 1, F=16, 250/100): NN init, only ALTER_PARAM of the Gaussian inits",
        "search": {
            "setup_ops": ["VECTOR_GAUSSIAN_SET_OP", "MATRIX_GAUSSIAN_SET_OP"],
            "predict_ops": [],
            "learn_ops": [],
            "setup_size_init": 1,
            "predict_size_init": 1,
            "learn_size_init": 1,
            "initial_population": "neural_net",
            "population_size": 10,
            "tournament_size": 10,
            "mutate_prob": 1.0,
            "allowed_mutation_types": ["alter_param", "identity"],
            "max_train_steps": 10 * 250 * 4,
            "train_budget": {"baseline": "neural_net", "threshold_factor": 2.0},
            "fitness_combination": "mean",
            "memory": {"scalars": 20, "vectors": 20, "matrices": 20},
            "search_tasks": [_projected_binary(data_seed=0, **pair)],
            "dedup": False,
            "progress_every": 100,
        },
        "select_tasks": [_projected_binary(data_seed=2, **pair)],
        "final_tasks": [_projected_binary(data_seed=3, **pair)],
        "sufficient_fitness": None,
        "max_experiments": 1,
        "randomize_task_seeds": False,
        "seed": 1000060,
    }


def _baseline() -> dict:
    """run_baseline.sh / paper S10 "Basic" on digits: 10 random class pairs, 9 pairs held out."""
    search_task = _projected_binary(num_tasks=10, held_out_pairs=HELD_OUT_PAIRS, max_data_seed=100)
    search_task["data_seeds"] = []
    select_task = copy.deepcopy(search_task)
    # 100 final tasks drawn among the 9 held-out pairs only (the other 36 pairs held out).
    held = {tuple(p) for p in HELD_OUT_PAIRS}
    search_pairs = [[i, j] for i in range(10) for j in range(i + 1, 10) if (i, j) not in held]
    final_task = _projected_binary(
        num_tasks=100, held_out_pairs=search_pairs, max_data_seed=100, data_seed=1000000
    )
    return {
        "description": "paper S10 baseline (run_baseline.sh) on scikit-learn digits: empty "
        "programs, NN ops, 10 search pairs, final on the 9 held-out pairs",
        "search": {
            "setup_ops": BASELINE_SETUP_OPS,
            "predict_ops": BASELINE_PREDICT_OPS,
            "learn_ops": BASELINE_LEARN_OPS,
            "setup_size_init": 1,
            "predict_size_init": 1,
            "learn_size_init": 1,
            **BASELINE_MUTATE_SIZES,
            "initial_population": "no_op",
            "population_size": 100,
            "tournament_size": 10,
            "mutate_prob": 0.9,
            "allowed_mutation_types": [
                "alter_param",
                "randomize_component_function",
                "insert_instruction",
                "remove_instruction",
            ],
            "max_train_steps": 100_000_000_000,
            "train_budget": {"baseline": "neural_net", "threshold_factor": 2.0},
            "fitness_combination": "mean",
            "memory": {"scalars": 5, "vectors": 9, "matrices": 2},
            "search_tasks": [search_task],
            "dedup": False,
            "progress_every": 10000,
        },
        "select_tasks": [select_task],
        "final_tasks": [final_task],
        "sufficient_fitness": None,
        "max_experiments": 1,
        "randomize_task_seeds": True,
        "seed": 1000060,
    }


_PRESETS = {
    "demo": _demo,
    "linear": _linear_test,
    "nonlinear": _nonlinear_test,
    "projected-binary": _projected_test,
    "baseline": _baseline,
}


def preset_names() -> list[str]:
    """Names accepted by `get_preset`, in a stable order."""
    return list(_PRESETS)


def get_preset(name: str) -> dict:
    """A fresh experiment config dict for preset `name` (ConfigError lists the valid names)."""
    key = str(name).strip().lower().replace("_", "-")
    key = {"projected": "projected-binary", "projected-binary-datasets": "projected-binary",
           "linear-test": "linear", "nonlinear-test": "nonlinear", "s10": "baseline",
           "run-demo": "demo"}.get(key, key)  # fmt: skip
    if key not in _PRESETS:
        raise ConfigError(f"unknown preset {name!r} (valid: {', '.join(_PRESETS)})")
    cfg = _PRESETS[key]()
    cfg["name"] = key
    return cfg
