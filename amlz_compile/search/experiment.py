"""The experiment driver: search experiments, select, final evaluation
(docs/semantics.md#experiment-driver); this module is its public entry: `run_search` and
`resume_search`.

`run_search` repeats search experiments (new tasks when `randomize_task_seeds`, new caches, new
populations, each run until its train-step budget is used), evaluates every experiment's
candidate (the best of its final population) on the select tasks, keeps the best (ties go to
the later candidate), stops when the best select fitness is strictly above `sufficient_fitness`,
after `max_experiments`, or at a time limit, and evaluates the winner on the final tasks.

One seed makes a run reproducible, and a resumed run continues exactly like an uninterrupted
one (`run`). The parts: `experiment_config` (what a run searches), `options` (how it runs),
`run` (the loop), `selection` (the select and final evaluations), `events` (what it reports),
`stopping` (stopping it from outside).

Flows: "reference" follows the C++ driver and the config exactly; "fast" turns on structural
dedup and the paper's hurdles (when there are more search tasks than hurdle tasks), checks the
select fitness as soon as an island's best reaches `sufficient_fitness` (stopping early), and
ends an experiment that has stagnated: when `patience` individuals (default `FAST_PATIENCE`)
have gone by without the best search fitness cutting its error 1 - fitness by a tenth, the
experiment is selected and a fresh one starts (a restart strategy: a converged population rarely
escapes its plateau, while a new random population gets a new chance at the solution).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from .events import Event, SearchResult
from .experiment_config import ExperimentConfig, load_config
from .options import SearchOptions
from .run import SearchRun
from .selection import evaluate_on

__all__ = ["evaluate_on", "load_config", "resume_search", "run_search"]


def run_search(
    config: ExperimentConfig | Mapping | str | os.PathLike,
    options: SearchOptions | None = None,
    *,
    on_event: Callable[[Event], None] | None = None,
    **changes: Any,
) -> SearchResult:
    """Run the experiment flow on a config, a config dict, a preset name or a config file.

    `options` (default: `SearchOptions()`) say how: seed, islands, workers, runner, backend,
    flow, limits and checkpoints; keyword `changes` set single fields of them
    (`run_search("demo", seed=1, time_limit=60)`). `on_event` receives the run's events
    (`events`). `time_limit` and `max_individuals` stop the run at an epoch boundary, after
    writing a checkpoint when `checkpoint_dir` is given.
    """
    config = load_config(config)
    options = SearchOptions(**changes) if options is None else replace(options, **changes)
    return SearchRun(config, options, on_event=on_event).run()


def resume_search(
    checkpoint: str | os.PathLike,
    *,
    budget: Mapping | None = None,
    on_event: Callable[[Event], None] | None = None,
    **changes: Any,
) -> SearchResult:
    """Continue a run from its checkpoint (a file or a run directory) exactly where it stopped.

    By default the run continues to its own budget: the time limit and `max_individuals` it was
    started with count in all (over every process that ran it; `budget`, a dict with those two
    keys, stands in for a checkpoint that records none). `changes` are SearchOptions fields:
    `max_individuals` sets a new total; `time_limit` allows that many more seconds from now;
    `workers`, `backend` and `checkpoint_dir` are kept when None. Islands, flow and migration
    settings come from the checkpoint. `backend` (interp/jit/auto) changes where evaluations run
    from now on; every backend computes the same results, so the run continues exactly.
    """
    for key in ("workers", "backend", "checkpoint_dir"):
        if key in changes and changes[key] is None:
            del changes[key]
    return SearchRun.from_checkpoint(checkpoint, budget=budget, on_event=on_event, **changes).run()
