"""The reference's compute-cost train budget (docs/semantics.md#train-budget).

An algorithm is trained on all N = task.max_train_examples examples when
`setup_cost + N * train_cost <= factor * (baseline_setup + N * baseline_train)`, else on none
(task fitness 0). Costs are the reference's per-op units (`ir.ops` `cost`, NO_OP included) summed
over the whole program, dead code included; the baseline is the chosen hard-coded model padded
with NO_OPs to the experiment's init sizes.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..ir.ops import OPS
from ..ir.program import Program
from .config import SearchConfig

COST = np.array([info.cost for info in OPS], dtype=np.float64)
COST.flags.writeable = False


@njit(cache=True)
def program_costs(code, sizes):
    """(setup_cost, train_cost) of a row buffer: Setup, and Predict + Learn."""
    setup = 0.0
    train = 0.0
    n_setup = sizes[0]
    total = sizes[0] + sizes[1] + sizes[2]
    for k in range(total):
        c = COST[code[k, 0]]
        if k < n_setup:
            setup += c
        else:
            train += c
    return setup, train


@njit(cache=True)
def budget_train_examples(setup_cost, train_cost, n, base_setup, base_train, factor):
    """n when the program's cost on n examples is within factor x the baseline's, else 0."""
    if setup_cost + n * train_cost <= factor * (base_setup + n * base_train):
        return n
    return 0


def baseline_costs(config: SearchConfig) -> tuple[float, float]:
    """(setup, train) cost of the configured baseline padded to the init sizes."""
    from .generator import model_by_name

    if config.train_budget is None:
        return 0.0, 0.0
    base = model_by_name(config.train_budget.baseline, config.init_sizes)
    return costs(base)


def costs(program: Program) -> tuple[float, float]:
    """(setup_cost, train_cost) of a program."""
    return program_costs(program.code, np.array(program.sizes(), dtype=np.int64))


def train_examples(program: Program, config: SearchConfig, max_train_examples: int) -> int:
    """Training examples the budget allows `program` on a task of `max_train_examples`."""
    if config.train_budget is None:
        return int(max_train_examples)
    s, t = costs(program)
    bs, bt = baseline_costs(config)
    return int(
        budget_train_examples(
            s, t, max_train_examples, bs, bt, config.train_budget.threshold_factor
        )  # fmt: skip
    )
