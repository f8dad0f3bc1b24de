"""The run loop (`SearchRun`): search experiments in epochs, the select step after each, the final
evaluation of the winner; checkpoints, limits and events between epochs.

The driver's own SplitMix64 stream hands out the task, population, migration, select and final
seeds in a fixed order. Work is done in epochs (one sweep per island, or the migration interval
with several islands); between epochs the run emits progress events, migrates, checks limits
and writes checkpoints, none of which changes the search, so a resumed run continues exactly
like an uninterrupted one. The flows and stop rules are described in `experiment`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..ir.program import Program
from ..limits import check_allocation
from ..rng import MASK64, SplitMix64
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .config import ConfigError, SearchConfig, positive_limit
from .events import (
    CheckpointEvent,
    Event,
    ExperimentEvent,
    FinishedEvent,
    IslandProgress,
    NewBestEvent,
    ProgressEvent,
    SearchResult,
)
from .experiment_config import ExperimentConfig
from .island_runners import LOCAL, PROCESS, RAY, make_runner
from .islands import Archipelago, IslandSpec, draw_seed
from .options import FAST, SearchOptions
from .selection import evaluate_on, evaluation_bytes, final_evaluation, randomized
from .state_check import check_contents
from .stopping import INTERRUPTED, SearchInterrupted, Stop, clear_stop_request, stop_requested
from .warm_up import start_warm_up, wait_for_warm_up

STAGNATION_CUT = 0.9  # an improvement must leave at most this fraction of the error


def _time_seed() -> int:
    """The reference's default seed: time-based, never 0."""
    return (time.time_ns() & 0xFFFFFFFF) or 1


def _fast_search(search: SearchConfig) -> SearchConfig:
    """The fast flow's search settings: structural dedup, and the paper's hurdles (with the
    config's percentile and window) whenever there are more search tasks than hurdle tasks."""
    from dataclasses import replace

    n_tasks = sum(int(t.get("num_tasks", 1)) for t in search.search_tasks)
    hurdles = search.hurdles
    if n_tasks > hurdles.num_tasks and not hurdles.enabled:
        hurdles = replace(hurdles, enabled=True)
    return search.replace(dedup=True, hurdles=hurdles)


def check_run_memory(config: ExperimentConfig, islands: int) -> None:
    """Refuse a run whose islands, or whose select or final evaluation, would need more than
    the memory cap (before allocating; the islands' estimate includes their F-sized scratch)."""
    search = config.search
    check_allocation(
        islands * search.estimated_bytes(),
        f"{islands} island(s) of population {search.population_size} at F={search.features}",
    )
    for key in ("select_tasks", "final_tasks"):
        check_allocation(
            evaluation_bytes(getattr(config, key), search.memory), f"the {key} evaluation"
        )


class SearchRun:
    """One run of the driver; `run()` executes it (fresh or from a checkpoint's state)."""

    def __init__(
        self,
        config: ExperimentConfig,
        options: SearchOptions | None = None,
        *,
        on_event: Callable[[Event], None] | None = None,
    ) -> None:
        options = SearchOptions() if options is None else options
        check_run_memory(config, options.islands)
        search = config.search
        if options.backend is not None:
            search = search.replace(backend=options.backend)
        if options.flow == FAST:
            search = _fast_search(search)
        self.config = ExperimentConfig(**{**config.__dict__, "search": search})
        self.search_dict = search.to_dict()
        self.options = options
        self.islands = options.islands
        self.workers = min(options.workers, options.islands)
        self.runner_kind = options.runner
        self.flow = options.flow
        population = search.population_size
        # Paper S3: migrate every 100-10000 evaluations, half of P = 100 each way.
        migrate_every = options.migrate_every
        self.migrate_every = 10 * population if migrate_every is None else migrate_every
        migrants = options.migrants
        self.migrants = population // 2 if migrants is None else int(migrants)
        if not 0 <= self.migrants <= population:
            raise ConfigError(
                f"migrants must be in 0..{population} (the population), got {migrants}"
            )
        self.patience = options.patience
        self.time_limit = options.time_limit
        self.max_individuals = options.max_individuals
        self.checkpoint_every_s = options.checkpoint_every_s
        self.checkpoint_dir = options.checkpoint_dir
        self.checkpoint_every_individuals = options.checkpoint_every_individuals
        self.on_event = on_event
        self.ray_address = options.ray_address
        seed = options.seed
        seed = seed if seed is not None else (config.seed if config.seed else _time_seed())
        self.state: dict[str, Any] = {
            "seed": int(seed),
            "rng": int(seed) & MASK64,  # SplitMix64 state
            "experiments": 0,
            "best_program": None,
            "best_select": None,
            "best_search": None,
            "best_experiment": None,
            "history": [],
            "individuals_done": 0,  # in completed experiments
            "elapsed": 0.0,  # before this process took over
            "time_to_solution": None,
            "current": None,  # the experiment in progress
            "finished": False,
            "options": self._options(),
            # the run's own stop limits, in all (seconds and individuals since the run began)
            "budget": {"time_limit": self.time_limit, "max_individuals": self.max_individuals},
        }
        self._island_states: list[dict] | None = None

    def _options(self) -> dict:
        return {
            "islands": self.islands,
            "flow": self.flow,
            "migrate_every": self.migrate_every,
            "migrants": self.migrants,
            "patience": self.patience,
        }

    # -- restore ------------------------------------------------------------------------------
    @classmethod
    def from_checkpoint(
        cls,
        path: str | os.PathLike,
        *,
        budget: Mapping | None = None,
        on_event: Callable[[Event], None] | None = None,
        **changes: Any,
    ) -> SearchRun:
        """The run a checkpoint holds, continued to its own budget: the time limit and
        `max_individuals` it was started with count in all (`budget` stands in for a checkpoint
        that records none). `changes` are SearchOptions fields: an explicit `max_individuals`
        sets a new total; an explicit `time_limit` allows that many more seconds from now; the
        seed, islands, flow and migration settings are the checkpoint's and cannot change."""
        ckpt = load_checkpoint(path, check=check_contents)
        config, flow, opts = check_contents(ckpt)
        fixed = {
            "seed": flow["seed"],
            "islands": opts["islands"],
            "flow": opts["flow"],
            "migrate_every": opts["migrate_every"],
            "migrants": opts["migrants"],
            "patience": opts.get("patience", 0),
        }
        for key in ("islands", "flow", "migrate_every", "migrants", "seed", "patience"):
            if key in changes and changes[key] != fixed[key]:
                raise CheckpointError(f"cannot change {key} when resuming a checkpoint")
            changes.pop(key, None)
        more_seconds = changes.pop("time_limit", None)
        recorded = flow.get("budget") or budget or {}
        if changes.get("max_individuals") is None:
            changes["max_individuals"] = recorded.get("max_individuals")
        changes.setdefault("checkpoint_dir", Path(ckpt["path"]).parent)
        self = cls(config, SearchOptions(**fixed, **changes), on_event=on_event)
        self.state = dict(flow)
        elapsed = float(flow["elapsed"])
        if more_seconds is not None:
            self.time_limit = positive_limit("time_limit", more_seconds)
            total = elapsed + self.time_limit
        else:
            total = positive_limit("the run's time_limit", recorded.get("time_limit"))
            self.time_limit = None if total is None else max(0.0, total - elapsed)
        self.state["budget"] = {"time_limit": total, "max_individuals": self.max_individuals}
        current = flow.get("current")
        self._island_states = ckpt["islands"] if current is not None else None
        return self

    # -- events -------------------------------------------------------------------------------
    def _emit(self, event: Event) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def _elapsed(self) -> float:
        return self.state["elapsed"] + (time.perf_counter() - self._t0)

    def _remaining(self) -> float | None:
        if self.time_limit is None:
            return None
        return max(0.0, self.time_limit - (time.perf_counter() - self._t0))

    def _individuals_total(self, stats: list[dict] | None) -> int:
        cur = sum(int(s["individuals"]) for s in stats) if stats else 0
        return self.state["individuals_done"] + cur

    # -- checkpoints --------------------------------------------------------------------------
    def _checkpoint(self, arch: Archipelago | None, stats: list[dict] | None) -> None:
        if self.checkpoint_dir is None:
            return
        flow = dict(self.state)
        flow["elapsed"] = self._elapsed()
        islands = arch.get_states() if arch is not None and flow["current"] else []
        path = save_checkpoint(self.checkpoint_dir, self.config.to_dict(), flow, islands)
        self._last_ckpt_time = time.perf_counter()
        self._last_ckpt_individuals = self._individuals_total(stats)
        self.checkpoint_path = str(path)
        self._emit(CheckpointEvent(str(path), self._last_ckpt_individuals, flow["elapsed"]))

    def _checkpoint_due(self, stats: list[dict]) -> bool:
        if self.checkpoint_dir is None:
            return False
        if (
            self.checkpoint_every_s is not None
            and time.perf_counter() - self._last_ckpt_time >= self.checkpoint_every_s
        ):
            return True
        every = self.checkpoint_every_individuals
        return every is not None and (
            self._individuals_total(stats) - self._last_ckpt_individuals >= every
        )

    # -- the loop -----------------------------------------------------------------------------
    def _make_runner(self):
        kind = self.runner_kind
        if kind == "auto":
            kind = LOCAL if self.workers == 1 else PROCESS
        options = {"ray_address": self.ray_address} if kind == RAY else {}
        return make_runner(kind, self.workers, **options)

    def _start_experiment(self, rng: SplitMix64) -> dict:
        cfg = self.config
        specs = [dict(t) for t in cfg.search.search_tasks]
        task_seed = None
        if cfg.randomize_task_seeds:
            task_seed = draw_seed(rng)
            specs = randomized(specs, task_seed)
        return {
            "index": self.state["experiments"],
            "task_seed": task_seed,
            "search_tasks": specs,
            "island_seeds": [draw_seed(rng) for _ in range(self.islands)],
            "epochs": 0,
            "start_elapsed": self._elapsed(),
            "eager_checked": [],
        }

    def _island_specs(self, current: dict) -> list[IslandSpec]:
        budget = self.config.search.max_train_steps
        return [
            IslandSpec(
                config=self.search_dict,
                tasks=current["search_tasks"],
                seed=seed,
                max_train_steps=budget,
                backend=self.config.search.backend,
            )
            for seed in current["island_seeds"]
        ]

    def _select(self, program: Program, rng: SplitMix64) -> float:
        wait_for_warm_up()
        cfg = self.config
        specs = [dict(t) for t in cfg.select_tasks]
        if cfg.randomize_task_seeds:
            specs = randomized(specs, draw_seed(rng))
        eval_seed = draw_seed(rng)
        return evaluate_on(
            program,
            specs,
            cfg.search.memory,
            eval_seed,
            backend=cfg.search.backend,
            max_abs_error=cfg.search.max_abs_error,
        )

    def _consider(self, program: Program, search_fit: float, select_fit: float, exp: int) -> bool:
        """Keep the candidate if select_fit >= best (ties go to the later candidate)."""
        st = self.state
        if st["best_select"] is not None and not select_fit >= st["best_select"]:
            return False
        st.update(
            best_program=program,
            best_select=select_fit,
            best_search=search_fit,
            best_experiment=exp,
        )
        suff = self.config.sufficient_fitness
        if st["time_to_solution"] is None and suff is not None and suff > 0 and select_fit > suff:
            st["time_to_solution"] = self._elapsed()
        self._emit(NewBestEvent(exp, program, search_fit, select_fit, self._elapsed()))
        return True

    def _solved(self) -> bool:
        suff = self.config.sufficient_fitness
        best = self.state["best_select"]
        return suff is not None and suff > 0 and best is not None and best > suff

    def _progress(self, current: dict, stats: list[dict], t_start: float) -> None:
        islands = [IslandProgress.of(i, s) for i, s in enumerate(stats)]
        wall = max(time.perf_counter() - t_start, 1e-9)
        cur = sum(int(s["individuals"]) for s in stats) - current.get("resumed_individuals", 0)
        self._emit(
            ProgressEvent(
                experiment=current["index"],
                islands=islands,
                individuals=self._individuals_total(stats),
                individuals_per_s=cur / wall,
                best_search_fitness=max(p.best_fitness for p in islands),
                best_select_fitness=self.state["best_select"],
                elapsed=self._elapsed(),
                remaining=self._remaining(),
                best_program=self._latest_best()[1],
            )
        )

    def _latest_best(self) -> tuple[int, Program | None, float]:
        """The best individual the last epoch reached (no extra request to the islands)."""
        arch = self._arch
        if arch is None:
            return 0, None, float("nan")
        if arch.epoch_best is None:
            arch.epoch_best = arch.best()
        return arch.epoch_best

    def _check_limits(self, stats: list[dict] | None) -> None:
        if stop_requested():
            raise Stop(INTERRUPTED)
        if self.time_limit is not None and time.perf_counter() - self._t0 >= self.time_limit:
            raise Stop("time_limit")
        if (
            self.max_individuals is not None
            and self._individuals_total(stats) >= self.max_individuals
        ):
            raise Stop("max_individuals")

    def _epoch_size(self) -> int:
        if self.islands > 1:
            return self.migrate_every
        return self.config.search.population_size

    def _eager_select(self, arch: Archipelago, current: dict, rng: SplitMix64) -> None:
        """Fast flow: select as soon as an island's best reaches sufficient_fitness."""
        suff = self.config.sufficient_fitness
        if self.flow != FAST or suff is None or suff <= 0:
            return
        _, program, fit = self._latest_best()
        if not fit >= suff:
            return
        key = [program.code.tolist(), program.data.tolist(), program.bounds.tolist()]
        if key in current["eager_checked"]:
            return
        current["eager_checked"].append(key)
        select_fit = self._select(program, rng)
        self._consider(program, fit, select_fit, current["index"])
        if self._solved():
            raise Stop("sufficient_fitness")

    def _stagnated(self, current: dict, stats: list[dict]) -> bool:
        """Fast flow: whether `patience` individuals passed without a real improvement."""
        if not self.patience:
            return False
        best = max(float(s["best_fitness"]) for s in stats)
        n = sum(int(s["individuals"]) for s in stats)
        seen = current.get("stall_best")
        if best == best and (seen is None or 1.0 - best <= STAGNATION_CUT * (1.0 - seen)):
            current["stall_best"], current["stall_since"] = best, n
            return False
        if n - current.get("stall_since", 0) >= self.patience:
            current["ended"] = "stagnation"
            return True
        return False

    def _run_experiment(self, runner, rng: SplitMix64) -> tuple[Archipelago, list[dict]]:
        """Evolve the current experiment until its budget is used (raises _Stop at limits)."""
        st = self.state
        current = st["current"]
        arch = Archipelago(runner, self._island_specs(current))
        self._arch = arch
        t_start = self._t_start = time.perf_counter()
        if self._island_states is not None:
            arch.set_states(self._island_states)
            self._island_states = None
            stats = arch.stats()
            current["resumed_individuals"] = sum(int(s["individuals"]) for s in stats)
        else:
            stats = arch.init()
            current["resumed_individuals"] = 0
            self._progress(current, stats, t_start)
        self._stats = stats
        while not all(s.get("done") for s in stats):
            self._check_limits(stats)
            if self._checkpoint_due(stats) and not arch.in_flight:
                self._checkpoint(arch, stats)
            stats = self._epoch(arch, current, rng, then=self._may_go_on(stats))
            self._eager_select(arch, current, rng)
            st["rng"] = rng.state
            if self._stagnated(current, stats):
                if self.islands > 1:  # the epoch every worker has begun ends the experiment
                    stats = self._epoch(arch, current, rng, then=False)
                break
        return arch, stats

    def _epoch(self, arch: Archipelago, current: dict, rng: SplitMix64, *, then: bool) -> list:
        """One epoch of every island (`Archipelago.step`) and its progress event."""
        deadline = None
        if self.time_limit is not None:
            deadline = time.time() + self._remaining()
        stats = arch.step(self._epoch_size(), self.migrants, rng, deadline, then=then)
        self._stats = stats
        current["epochs"] += 1
        self.state["rng"] = rng.state
        self._progress(current, stats, self._t_start)
        return stats

    def _may_go_on(self, stats: list[dict]) -> bool:
        """Whether each worker may begin the following epoch as soon as it finishes the one
        the next step runs: not when a checkpoint waits for the islands to be at rest, nor when
        that epoch may use up the budget of individuals (an upper bound: whole sweeps, plus
        immigrants), so a budget stop never leaves an epoch in flight."""
        if self._checkpoint_due(stats):
            return False
        if self.max_individuals is None:
            return True
        size = self._epoch_size()
        ahead = sum(-(-size // int(s["population_size"])) * int(s["population_size"])
                    + self.migrants for s in stats if not s.get("done"))  # fmt: skip
        return self._individuals_total(stats) + ahead < self.max_individuals

    def _settle(self, rng: SplitMix64) -> None:
        """Finish the epoch in flight (if any) before a stop reads or saves the islands."""
        arch, current = self._arch, self.state["current"]
        if arch is not None and arch.in_flight:
            self._epoch(arch, current, rng, then=False)

    def _finish_experiment(
        self, arch: Archipelago, stats: list[dict], rng: SplitMix64, *, select: bool = True
    ) -> None:
        st = self.state
        current = st["current"]
        if select:
            _, program, search_fit = arch.best()
            select_fit = self._select(program, rng)
            kept = self._consider(program, search_fit, select_fit, current["index"])
        else:  # the fast flow already selected the population's best and kept it
            search_fit, select_fit, kept = st["best_search"], st["best_select"], True
        individuals = sum(int(s["individuals"]) for s in stats)
        steps = sum(int(s["train_steps"]) for s in stats)
        st["history"].append(
            {
                "experiment": current["index"],
                "search_fitness": search_fit,
                "select_fitness": select_fit,
                "kept": kept,
                "individuals": individuals,
                "train_steps": steps,
                "elapsed": self._elapsed(),
                "ended": current.get("ended", "budget"),
            }
        )
        st["individuals_done"] += individuals
        st["experiments"] += 1
        st["current"] = None
        st["rng"] = rng.state
        arch.drop()
        self._emit(
            ExperimentEvent(
                current["index"], search_fit, select_fit, kept, individuals, steps, self._elapsed()
            )
        )

    def _loop(self, runner, rng: SplitMix64) -> str:
        """Experiments until a stop rule fires; returns the reason."""
        st = self.state
        while True:
            if self._solved():
                return "sufficient_fitness"
            max_exp = self.config.max_experiments
            if st["current"] is None and max_exp and st["experiments"] >= max_exp:
                return "max_experiments"
            try:
                if st["current"] is None:
                    self._check_limits(None)
                    st["current"] = self._start_experiment(rng)
                    st["rng"] = rng.state
                arch, stats = self._run_experiment(runner, rng)
            except Stop as stop:
                self._settle(rng)
                if stop.reason == INTERRUPTED:
                    if self._arch is not None:
                        st["rng"] = rng.state
                    self._checkpoint(self._arch, self._stats)
                    raise SearchInterrupted(self.checkpoint_path) from None
                if self._arch is None:  # between experiments: nothing to finish
                    self._checkpoint(None, None)
                    return stop.reason
                if stop.reason == "sufficient_fitness":
                    self._finish_experiment(self._arch, self._stats, rng, select=False)
                else:
                    # Save the exact state, then treat the populations as final.
                    st["rng"] = rng.state
                    self._checkpoint(self._arch, self._stats)
                    self._finish_experiment(self._arch, self._stats, rng)
                return stop.reason
            self._finish_experiment(arch, stats, rng)
            self._arch = None
            if self.checkpoint_dir is not None:
                self._checkpoint(None, None)

    def _stop_if_requested(self) -> None:
        """After the search loop: a pending stop request raises SearchInterrupted, skipping or
        discarding the final evaluation. The run's last checkpoint stays: every checkpoint holds
        an exact state, so resuming from it ends the search the same way (for the same reason)
        and then evaluates. A process that has written none writes one of the finished search
        now (a file from an earlier process in the directory may belong to another run)."""
        if not stop_requested():
            return
        if self.checkpoint_path is not None:
            raise SearchInterrupted(self.checkpoint_path, wrote=False)
        self._checkpoint(None, None)
        raise SearchInterrupted(self.checkpoint_path)

    def run(self) -> SearchResult:
        clear_stop_request()
        st = self.state
        self._t0 = time.perf_counter()
        self._last_ckpt_time = self._t0
        self._last_ckpt_individuals = st["individuals_done"]
        self.checkpoint_path: str | None = None
        self._arch = None
        self._stats = None
        rng = SplitMix64(0)
        rng.state = int(st["rng"])
        runner = self._make_runner()
        start_warm_up(self.config)
        try:
            stopped = self._loop(runner, rng)
            self._stop_if_requested()
            final = final_metrics = None
            if st["best_program"] is not None:
                final, final_metrics = final_evaluation(
                    st["best_program"], self.config, draw_seed(rng)
                )
            self._stop_if_requested()  # a signal during the final evaluation
        finally:
            runner.close()
        result = SearchResult(
            best_program=st["best_program"],
            search_fitness=st["best_search"],
            select_fitness=st["best_select"],
            final_fitness=final,
            experiments=st["experiments"],
            individuals=st["individuals_done"],
            elapsed=self._elapsed(),
            time_to_solution=st["time_to_solution"],
            history=list(st["history"]),
            seed=st["seed"],
            stopped=stopped,
            checkpoint=self.checkpoint_path,
            config=self.config.to_dict(),
            final_metrics=final_metrics,
        )
        self._emit(FinishedEvent(result))
        return result
