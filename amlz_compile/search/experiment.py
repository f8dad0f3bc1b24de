"""The experiment driver (semantics 7.2): search experiments, select, final evaluation.

`run_search` repeats search experiments (new tasks when `randomize_task_seeds`, new caches, new
populations, each run until its train-step budget is used), evaluates every experiment's
candidate (the best of its final population) on the select tasks, keeps the best (ties go to
the later candidate), stops when the best select fitness is strictly above `sufficient_fitness`,
after `max_experiments`, or at a time limit, and evaluates the winner on the final tasks.

One seed makes a run reproducible: the driver's own SplitMix64 stream hands out the task,
population, migration, select and final seeds in a fixed order. Work is done in epochs (one
sweep per island, or the migration interval with several islands); between epochs the driver
emits progress events, migrates, checks limits and writes checkpoints, none of which changes
the search, so a resumed run continues exactly like an uninterrupted one.

Flows: "reference" follows the C++ driver and the config exactly; "fast" turns on structural
dedup and the paper's hurdles (when there are more search tasks than hurdle tasks), checks the
select fitness as soon as an island's best reaches `sufficient_fitness` (stopping early), and
ends an experiment that has stagnated: when `patience` individuals (default `FAST_PATIENCE`)
have gone by without the best search fitness cutting its error 1 - fitness by a tenth, the
experiment is selected and a fresh one starts (a restart strategy: a converged population rarely
escapes its plateau, while a new random population gets a new chance at the solution).
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..ir.program import MemorySpec, Program
from ..limits import check_allocation
from ..rng import MASK64, SplitMix64
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .config import ConfigError, SearchConfig, positive_limit
from .islands import (
    LOCAL,
    PROCESS,
    RAY,
    Archipelago,
    IslandSpec,
    draw_seed,
    make_runner,
)
from .presets import get_preset
from .state_check import check_flow

REFERENCE = "reference"
FAST = "fast"
FLOWS = (REFERENCE, FAST)
FAST_PATIENCE = 100_000  # individuals without a 10% cut of 1 - best fitness (fast flow)
STAGNATION_CUT = 0.9  # an improvement must leave at most this fraction of the error
RUNNER_CHOICES = ("auto", LOCAL, PROCESS, RAY)
_TOP_KEYS = (
    "name",
    "description",
    "search",
    "select_tasks",
    "final_tasks",
    "sufficient_fitness",
    "max_experiments",
    "randomize_task_seeds",
    "seed",
)


# -- configuration ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ExperimentConfig:
    """A whole run: the search config plus the driver's select/final tasks and stop rules."""

    search: SearchConfig
    select_tasks: tuple[dict, ...]
    final_tasks: tuple[dict, ...]
    sufficient_fitness: float | None = None
    max_experiments: int = 1
    randomize_task_seeds: bool = False
    name: str | None = None
    description: str = ""
    seed: int | None = None  # the seed the reference script uses, when there is one

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ExperimentConfig:
        """Validate an experiment config dict (see `presets`); ConfigError names what is wrong."""
        from ..tasks.base import TaskError
        from ..tasks.spec import TaskSpec

        if not isinstance(d, Mapping):
            raise ConfigError(f"an experiment config must be a mapping, got {type(d).__name__}")
        unknown = [k for k in d if k not in _TOP_KEYS]
        if unknown:
            raise ConfigError(
                f"unknown experiment key(s) {unknown} (valid keys: {', '.join(_TOP_KEYS)})"
            )
        if "search" not in d:
            raise ConfigError("an experiment config needs 'search' (a search config mapping)")
        search = d["search"]
        if not isinstance(search, SearchConfig | Mapping):
            raise ConfigError(f"'search' must be a mapping, got {type(search).__name__}")
        if not isinstance(search, SearchConfig):
            search = SearchConfig.from_dict(dict(search))
        if not search.search_tasks:
            raise ConfigError("search.search_tasks is empty: give at least one task spec")
        lists = {}
        defaults = {"select_tasks": search.search_tasks}
        if d.get("select_tasks") is not None:
            defaults["final_tasks"] = d["select_tasks"]
        else:
            defaults["final_tasks"] = search.search_tasks
        for key in ("select_tasks", "final_tasks"):
            value = d.get(key)
            if value is None:
                value = defaults[key]
            if isinstance(value, Mapping):
                value = [value]
            if not isinstance(value, list | tuple):
                raise ConfigError(f"{key} must be a list of task specs, got {value!r}")
            try:
                lists[key] = tuple(TaskSpec.from_dict(t).to_dict() for t in value)
            except TaskError as exc:
                raise ConfigError(f"{key}: {exc}") from exc
            if not lists[key]:
                raise ConfigError(f"{key} is empty: give at least one task spec")
        try:
            for t in search.search_tasks:
                TaskSpec.from_dict(t)
        except TaskError as exc:
            raise ConfigError(f"search.search_tasks: {exc}") from exc
        suff = d.get("sufficient_fitness")
        if suff is not None:
            if isinstance(suff, bool) or not isinstance(suff, int | float) or math.isnan(suff):
                raise ConfigError(f"sufficient_fitness must be a number or null, got {suff!r}")
            suff = float(suff)
        max_exp = d.get("max_experiments", 1)
        if isinstance(max_exp, bool) or not isinstance(max_exp, int) or max_exp < 0:
            raise ConfigError(f"max_experiments must be an integer >= 0, got {max_exp!r}")
        rand = d.get("randomize_task_seeds", False)
        if not isinstance(rand, bool):
            raise ConfigError(f"randomize_task_seeds must be true or false, got {rand!r}")
        name = d.get("name")
        if name is not None and not isinstance(name, str):
            raise ConfigError(f"name must be a string or null, got {name!r}")
        seed = d.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ConfigError(f"seed must be an integer or null, got {seed!r}")
        return cls(
            search=search,
            select_tasks=lists["select_tasks"],
            final_tasks=lists["final_tasks"],
            sufficient_fitness=suff,
            max_experiments=max_exp,
            randomize_task_seeds=rand,
            name=name,
            description=str(d.get("description", "")),
            seed=seed,
        )

    def with_absolute_paths(self, base: str | os.PathLike | None = None) -> ExperimentConfig:
        """The same config with every relative data path (a task spec's `path`, or a `dataset`
        given as a file) made absolute against `base` (default: the current directory), so a
        run directory's config.json works from anywhere (`amlz resume` from another place)."""

        def fix(spec: dict) -> dict:
            spec = dict(spec)
            for key in ("path", "dataset"):
                value = spec.get(key)
                if not isinstance(value, str) or not value:
                    continue
                if key == "dataset" and os.path.splitext(value)[1].lower() not in (".npz", ".csv"):
                    continue  # a source name (digits, mnist, ...), not a file
                value = os.path.expanduser(value)
                if not os.path.isabs(value):
                    spec[key] = os.path.abspath(os.path.join(base or os.getcwd(), value))
            return spec

        search = self.search.replace(search_tasks=tuple(fix(t) for t in self.search.search_tasks))
        return dataclasses.replace(
            self,
            search=search,
            select_tasks=tuple(fix(t) for t in self.select_tasks),
            final_tasks=tuple(fix(t) for t in self.final_tasks),
        )

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "search": self.search.to_dict(),
            "select_tasks": [dict(t) for t in self.select_tasks],
            "final_tasks": [dict(t) for t in self.final_tasks],
            "sufficient_fitness": self.sufficient_fitness,
            "max_experiments": self.max_experiments,
            "randomize_task_seeds": self.randomize_task_seeds,
            "seed": self.seed,
        }


def load_config(config: ExperimentConfig | Mapping | str | os.PathLike) -> ExperimentConfig:
    """An ExperimentConfig from itself, a dict, a preset name or a .json/.toml file."""
    if isinstance(config, ExperimentConfig):
        return config
    if isinstance(config, Mapping):
        return ExperimentConfig.from_dict(config)
    if isinstance(config, os.PathLike):
        return load_config_file(config)
    if isinstance(config, str):
        path = Path(config)
        if path.suffix.lower() in (".json", ".toml") or path.exists() or os.sep in config:
            return load_config_file(path)
        return ExperimentConfig.from_dict(get_preset(config))
    raise ConfigError(f"expected a config, a preset name or a path, got {type(config).__name__}")


def load_config_file(path: str | os.PathLike) -> ExperimentConfig:
    """An ExperimentConfig from a .json or .toml file, or from a run directory's config.json;
    relative data paths in it are taken relative to the current directory."""
    path = Path(path)
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ConfigError(f"{path} is a directory, not a config file (.json or .toml)")
        path = path / "config.json"
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() == ".toml":
            import tomllib

            data = tomllib.loads(text)
        else:
            data = json.loads(text)
    except ValueError as exc:  # json, tomllib and UTF-8 decode errors are ValueErrors
        raise ConfigError(f"cannot parse config file {path}: {exc}") from exc
    except RecursionError:
        raise ConfigError(f"cannot parse config file {path}: nested too deeply") from None
    return ExperimentConfig.from_dict(data)


# -- events and results -----------------------------------------------------------------------


@dataclass
class IslandProgress:
    """One island's numbers for progress displays."""

    island: int
    individuals: int
    individuals_per_s: float
    best_fitness: float
    mean_fitness: float
    train_steps: int
    fec_hit_rate: float | None
    dedup_hit_rate: float | None
    stats: dict


@dataclass
class ProgressEvent:
    """Emitted after every epoch of the current experiment."""

    experiment: int
    islands: list[IslandProgress]
    individuals: int  # all experiments so far, this one included
    individuals_per_s: float  # current experiment, all islands together
    best_search_fitness: float  # best in the current populations
    best_select_fitness: float | None  # best candidate kept so far
    elapsed: float
    remaining: float | None  # seconds to the time limit
    kind: str = "progress"
    best_program: Program | None = None  # the best in the current populations (CLI: best.txt)


@dataclass
class NewBestEvent:
    """A candidate was kept as the best so far (the CLI writes best.txt/best.json on it)."""

    experiment: int
    program: Program
    search_fitness: float
    select_fitness: float
    elapsed: float
    kind: str = "new_best"


@dataclass
class ExperimentEvent:
    """A search experiment ended and its candidate was evaluated on the select tasks."""

    experiment: int
    search_fitness: float
    select_fitness: float
    kept: bool
    individuals: int
    train_steps: int
    elapsed: float
    kind: str = "experiment"


@dataclass
class CheckpointEvent:
    path: str
    individuals: int
    elapsed: float
    kind: str = "checkpoint"


@dataclass
class FinishedEvent:
    result: SearchResult
    kind: str = "finished"


Event = ProgressEvent | NewBestEvent | ExperimentEvent | CheckpointEvent | FinishedEvent


@dataclass
class SearchResult:
    """What a run found. `time_to_solution` is the elapsed time at which the best select fitness
    first went above `sufficient_fitness` (None if it never did); `stopped` says why it ended:
    "sufficient_fitness", "max_experiments", "time_limit" or "max_individuals"."""

    best_program: Program | None
    search_fitness: float | None
    select_fitness: float | None
    final_fitness: float | None
    experiments: int
    individuals: int
    elapsed: float
    time_to_solution: float | None
    history: list[dict]
    seed: int
    stopped: str
    checkpoint: str | None = None
    config: dict = field(default_factory=dict)
    final_metrics: dict | None = None  # RMSE/R^2 or accuracy on the final tasks (metrics.py)

    def to_dict(self) -> dict:
        from .checkpoint import encode

        out = {k: v for k, v in self.__dict__.items() if k not in ("best_program", "config")}
        out["best_program"] = encode(self.best_program) if self.best_program else None
        return out


# -- helpers ----------------------------------------------------------------------------------


def _stat(stats: Mapping, *names: str, default: Any = 0) -> Any:
    for name in names:
        if name in stats and stats[name] is not None:
            return stats[name]
    return default


def _rate(stats: Mapping, prefix: str) -> float | None:
    """Hit rate of a cache from its `<prefix>_hits` / `<prefix>_misses` counters."""
    h, m = stats.get(f"{prefix}_hits"), stats.get(f"{prefix}_misses")
    if h is None or m is None or h + m == 0:
        return None
    return float(h) / float(h + m)


def _individuals(stats: Mapping) -> int:
    return int(_stat(stats, "individuals", "num_individuals"))


def _train_steps(stats: Mapping) -> int:
    return int(_stat(stats, "train_steps", "num_train_steps"))


def _time_seed() -> int:
    """The reference's default seed: time-based, never 0."""
    return (time.time_ns() & 0xFFFFFFFF) or 1


def _build_tasks(specs: list[dict]):
    from ..tasks.build import build_collection

    return build_collection([dict(t) for t in specs])


def _randomized(specs: tuple[dict, ...] | list[dict], seed: int) -> list[dict]:
    from ..tasks.seeds import randomize_task_seeds
    from ..tasks.spec import TaskSpec

    return [s.to_dict() for s in randomize_task_seeds([TaskSpec.from_dict(t) for t in specs], seed)]


def evaluate_on(
    program: Program,
    specs: list[dict],
    memory_config: Any,
    seed: int,
    *,
    backend: str,
    max_abs_error: float = 100.0,
) -> float:
    """Mean fitness of `program` on freshly built tasks (no FEC, no budget): select and final."""
    from ..evaluate import Evaluator

    tasks = _build_tasks(specs)
    memory = MemorySpec(
        memory_config.scalars, memory_config.vectors, memory_config.matrices, tasks[0].features
    )
    params = inspect.signature(Evaluator).parameters
    kwargs: dict[str, Any] = {}
    if "backend" in params:
        kwargs["backend"] = backend
    if "combination" in params:
        kwargs["combination"] = "mean"
    if "max_abs_error" in params:
        kwargs["max_abs_error"] = max_abs_error
    evaluator = Evaluator(tasks, memory, **kwargs)
    return float(evaluator.evaluate(program, seed))


def metrics_on(
    program: Program,
    specs: list[dict],
    memory_config: Any,
    seed: int,
    *,
    max_abs_error: float = 100.0,
) -> dict:
    """Plain metrics (RMSE/R^2 or accuracy, `metrics.plain_metrics`) of `program` on freshly
    built tasks with the evaluation seed `evaluate_on` used."""
    from ..metrics import plain_metrics

    tasks = _build_tasks(specs)
    memory = MemorySpec(
        memory_config.scalars, memory_config.vectors, memory_config.matrices, tasks[0].features
    )
    return plain_metrics(program, tasks, memory, seed, max_abs_error=max_abs_error)


# -- the driver -------------------------------------------------------------------------------


def _fast_search(search: SearchConfig) -> SearchConfig:
    """The fast flow's search settings: structural dedup, and the paper's hurdles (with the
    config's percentile and window) whenever there are more search tasks than hurdle tasks."""
    from dataclasses import replace

    n_tasks = sum(int(t.get("num_tasks", 1)) for t in search.search_tasks)
    hurdles = search.hurdles
    if n_tasks > hurdles.num_tasks and not hurdles.enabled:
        hurdles = replace(hurdles, enabled=True)
    return search.replace(dedup=True, hurdles=hurdles)


INTERRUPTED = "interrupted"


def _evaluation_bytes(specs: tuple[dict, ...], memory: Any) -> int:
    """Bytes a select or final evaluation on `specs` holds: the task data and one memory per
    task at the tasks' largest feature size."""
    from ..limits import memory_bytes
    from ..tasks.spec import TaskSpec

    parsed = [TaskSpec.from_dict(dict(t)) for t in specs]
    features = max(spec.features for spec in parsed)
    per_task = memory_bytes(memory.scalars, memory.vectors, memory.matrices, features)
    return sum(spec.estimated_bytes() + spec.num_tasks * per_task for spec in parsed)


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
            _evaluation_bytes(getattr(config, key), search.memory), f"the {key} evaluation"
        )


def check_run_limits(
    time_limit: float | None, max_individuals: int | None, checkpoint_every_s: float | None
) -> tuple[float | None, int | None, float | None]:
    """The run's stop and checkpoint limits, validated: None or finite and > 0 (ConfigError)."""
    return (
        positive_limit("time_limit", time_limit),
        positive_limit("max_individuals", max_individuals, integer=True),
        positive_limit("checkpoint_every", checkpoint_every_s),
    )


class _Stop(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


class SearchInterrupted(KeyboardInterrupt):
    """A run stopped by `request_stop` (the CLI's SIGINT, SIGTERM, SIGHUP) after writing a
    checkpoint of its exact state (`checkpoint`, None without a checkpoint directory)."""

    def __init__(self, checkpoint: str | None, *, wrote: bool = True) -> None:
        super().__init__(checkpoint)
        self.checkpoint = checkpoint
        self.wrote = wrote  # False: `checkpoint` is an earlier one that resumes exactly


_stop_requested = threading.Event()


def request_stop() -> None:
    """Ask the runs of this process to stop at their next epoch boundary: each writes a final
    checkpoint (resume continues exactly) and raises SearchInterrupted. Safe in signal handlers."""
    _stop_requested.set()


def clear_stop_request() -> None:
    """Forget a pending `request_stop` (a new run starts fresh)."""
    _stop_requested.clear()


def _checked_contents(ckpt: Mapping) -> tuple[ExperimentConfig, dict, dict]:
    """The config, flow state and flow options of a checkpoint, validated (CheckpointError)."""
    try:
        config = ExperimentConfig.from_dict(ckpt["config"])
        flow = ckpt["flow"]
        opts = flow["options"]
    except (ConfigError, KeyError, TypeError) as exc:
        raise CheckpointError(f"checkpoint {ckpt['path']} has an unusable config: {exc}") from exc
    if not isinstance(opts, Mapping):
        raise CheckpointError(f"checkpoint {ckpt['path']} has flow options {opts!r:.60}")
    missing = [k for k in ("islands", "flow", "migrate_every", "migrants") if k not in opts]
    if missing:
        raise CheckpointError(f"checkpoint {ckpt['path']} lacks flow option(s) {missing}")
    islands = opts["islands"]
    if isinstance(islands, bool) or not isinstance(islands, int) or islands < 1:
        raise CheckpointError(f"checkpoint {ckpt['path']} has {islands!r:.60} islands")
    for key in ("migrate_every", "migrants", "patience"):
        value = opts.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise CheckpointError(f"checkpoint {ckpt['path']} has {key} {value!r:.60}")
    check_flow(flow, ckpt["islands"], islands)
    return config, flow, opts


class SearchRun:
    """One run of the driver; `run()` executes it (fresh or from a checkpoint's state)."""

    def __init__(
        self,
        config: ExperimentConfig,
        *,
        seed: int | None = None,
        time_limit: float | None = None,
        islands: int = 1,
        workers: int = 1,
        runner: str = "auto",
        backend: str | None = None,
        flow: str = REFERENCE,
        migrate_every: int | None = None,
        migrants: int | None = None,
        max_individuals: int | None = None,
        checkpoint_dir: str | os.PathLike | None = None,
        checkpoint_every_s: float | None = 60.0,
        checkpoint_every_individuals: int | None = None,
        on_event: Callable[[Event], None] | None = None,
        ray_address: str | None = None,
        patience: int | None = None,
    ) -> None:
        if flow not in FLOWS:
            raise ConfigError(f"unknown flow {flow!r} (choose from {', '.join(FLOWS)})")
        if runner not in RUNNER_CHOICES:
            raise ConfigError(f"unknown runner {runner!r} (choose from {RUNNER_CHOICES})")
        if islands < 1 or workers < 1:
            raise ConfigError(f"islands and workers must be >= 1, got {islands}, {workers}")
        check_run_memory(config, islands)
        search = config.search
        if backend is not None:
            search = search.replace(backend=backend)
        if flow == FAST:
            search = _fast_search(search)
        self.config = ExperimentConfig(**{**config.__dict__, "search": search})
        self.search_dict = search.to_dict()
        self.islands = islands
        self.workers = min(workers, islands)
        self.runner_kind = runner
        self.flow = flow
        population = search.population_size
        # Paper S3: migrate every 100-10000 evaluations, half of P = 100 each way.
        self.migrate_every = positive_limit(
            "migrate_every",
            10 * population if migrate_every is None else migrate_every,
            integer=True,
        )
        self.migrants = population // 2 if migrants is None else int(migrants)
        if not 0 <= self.migrants <= population:
            raise ConfigError(
                f"migrants must be in 0..{population} (the population), got {migrants}"
            )
        if patience is None:
            patience = FAST_PATIENCE if flow == FAST else 0
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ConfigError(f"patience must be an integer >= 0 (0 = never), got {patience!r}")
        self.patience = patience
        self.time_limit, self.max_individuals, self.checkpoint_every_s = check_run_limits(
            time_limit, max_individuals, checkpoint_every_s
        )
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self.checkpoint_every_individuals = positive_limit(
            "checkpoint_every_individuals", checkpoint_every_individuals, integer=True
        )
        self.on_event = on_event
        self.ray_address = ray_address
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
        cls, path: str | os.PathLike, *, budget: Mapping | None = None, **overrides: Any
    ) -> SearchRun:
        """The run a checkpoint holds, continued to its own budget: the time limit and
        `max_individuals` it was started with count in all (`budget` stands in for a checkpoint
        that records none). An explicit `max_individuals` override sets a new total; an explicit
        `time_limit` allows that many more seconds from now."""
        ckpt = load_checkpoint(path, check=_checked_contents)
        config, flow, opts = _checked_contents(ckpt)
        kwargs = {
            "seed": flow["seed"],
            "islands": opts["islands"],
            "flow": opts["flow"],
            "migrate_every": opts["migrate_every"],
            "migrants": opts["migrants"],
            "patience": opts.get("patience", 0),
            "checkpoint_dir": Path(ckpt["path"]).parent,
        }
        for key in ("islands", "flow", "migrate_every", "migrants", "seed", "patience"):
            if key in overrides and overrides[key] != kwargs[key]:
                raise CheckpointError(f"cannot change {key} when resuming a checkpoint")
            overrides.pop(key, None)
        more_seconds = overrides.pop("time_limit", None)
        recorded = flow.get("budget") or budget or {}
        if overrides.get("max_individuals") is None:
            overrides["max_individuals"] = recorded.get("max_individuals")
        kwargs.update(overrides)
        self = cls(config, **kwargs)
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
        cur = sum(_individuals(s) for s in stats) if stats else 0
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
            specs = _randomized(specs, task_seed)
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
        cfg = self.config
        specs = [dict(t) for t in cfg.select_tasks]
        if cfg.randomize_task_seeds:
            specs = _randomized(specs, draw_seed(rng))
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
        islands = []
        for i, s in enumerate(stats):
            busy = float(s.get("busy_seconds", 0.0)) or 1e-9
            islands.append(
                IslandProgress(
                    island=i,
                    individuals=_individuals(s),
                    individuals_per_s=_individuals(s) / busy,
                    best_fitness=float(_stat(s, "best_fitness", "best", default=0.0)),
                    mean_fitness=float(_stat(s, "mean_fitness", "mean", default=0.0)),
                    train_steps=_train_steps(s),
                    fec_hit_rate=_rate(s, "fec"),
                    dedup_hit_rate=_rate(s, "dedup"),
                    stats=dict(s),
                )
            )
        wall = max(time.perf_counter() - t_start, 1e-9)
        cur = sum(_individuals(s) for s in stats) - current.get("resumed_individuals", 0)
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
        if _stop_requested.is_set():
            raise _Stop(INTERRUPTED)
        if self.time_limit is not None and time.perf_counter() - self._t0 >= self.time_limit:
            raise _Stop("time_limit")
        if (
            self.max_individuals is not None
            and self._individuals_total(stats) >= self.max_individuals
        ):
            raise _Stop("max_individuals")

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
            raise _Stop("sufficient_fitness")

    def _stagnated(self, current: dict, stats: list[dict]) -> bool:
        """Fast flow: whether `patience` individuals passed without a real improvement."""
        if not self.patience:
            return False
        best = max(float(_stat(s, "best_fitness", "best", default=0.0)) for s in stats)
        n = sum(_individuals(s) for s in stats)
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
        t_start = time.perf_counter()
        if self._island_states is not None:
            arch.set_states(self._island_states)
            self._island_states = None
            stats = arch.stats()
            current["resumed_individuals"] = sum(_individuals(s) for s in stats)
        else:
            stats = arch.init()
            current["resumed_individuals"] = 0
            self._progress(current, stats, t_start)
        self._stats = stats
        while not all(s.get("done") for s in stats):
            self._check_limits(stats)
            if self._checkpoint_due(stats):
                self._checkpoint(arch, stats)
            deadline = None
            if self.time_limit is not None:
                deadline = time.time() + self._remaining()
            stats = arch.step(self._epoch_size(), self.migrants, rng, deadline)
            self._stats = stats
            current["epochs"] += 1
            st["rng"] = rng.state
            self._progress(current, stats, t_start)
            self._eager_select(arch, current, rng)
            st["rng"] = rng.state
            if self._stagnated(current, stats):
                break
        return arch, stats

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
        individuals = sum(_individuals(s) for s in stats)
        steps = sum(_train_steps(s) for s in stats)
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
            except _Stop as stop:
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
        if not _stop_requested.is_set():
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
        try:
            stopped = self._loop(runner, rng)
            self._stop_if_requested()
            final = final_metrics = None
            if st["best_program"] is not None:
                final_seed = draw_seed(rng)
                final = evaluate_on(
                    st["best_program"],
                    [dict(t) for t in self.config.final_tasks],
                    self.config.search.memory,
                    final_seed,
                    backend=self.config.search.backend,
                    max_abs_error=self.config.search.max_abs_error,
                )
                final_metrics = metrics_on(
                    st["best_program"],
                    [dict(t) for t in self.config.final_tasks],
                    self.config.search.memory,
                    final_seed,
                    max_abs_error=self.config.search.max_abs_error,
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


def run_search(
    config: ExperimentConfig | Mapping | str | os.PathLike,
    *,
    seed: int | None = None,
    time_limit: float | None = None,
    islands: int = 1,
    workers: int = 1,
    runner: str = "auto",
    backend: str | None = None,
    flow: str = REFERENCE,
    migrate_every: int | None = None,
    migrants: int | None = None,
    max_individuals: int | None = None,
    checkpoint_dir: str | os.PathLike | None = None,
    checkpoint_every_s: float | None = 60.0,
    checkpoint_every_individuals: int | None = None,
    on_event: Callable[[Event], None] | None = None,
    ray_address: str | None = None,
    patience: int | None = None,
) -> SearchResult:
    """Run the experiment flow on a config, a config dict, a preset name or a config file.

    `seed` (default: the preset's, else time-based) makes the run reproducible; `islands`
    populations migrate every `migrate_every` individuals per island (default 10 sweeps) with
    `migrants` each way (default P/2, as in the paper);
    `runner` places them: "auto" (in-process for one worker, else processes), "local",
    "process" or "ray" (`pip install 'amlz-compile[ray]'`). `backend` overrides the evaluation
    backend (interp/jit/auto). `patience` (fast flow: default FAST_PATIENCE; 0 = never) ends an
    experiment after that many individuals without real progress. `time_limit` (seconds) and
    `max_individuals` stop the run at an epoch boundary, after writing a checkpoint when
    `checkpoint_dir` is given.
    """
    run = SearchRun(
        load_config(config),
        seed=seed,
        time_limit=time_limit,
        islands=islands,
        workers=workers,
        runner=runner,
        backend=backend,
        flow=flow,
        migrate_every=migrate_every,
        migrants=migrants,
        max_individuals=max_individuals,
        checkpoint_dir=checkpoint_dir,
        checkpoint_every_s=checkpoint_every_s,
        checkpoint_every_individuals=checkpoint_every_individuals,
        on_event=on_event,
        ray_address=ray_address,
        patience=patience,
    )
    return run.run()


def resume_search(
    checkpoint: str | os.PathLike,
    *,
    time_limit: float | None = None,
    max_individuals: int | None = None,
    workers: int | None = None,
    runner: str = "auto",
    checkpoint_dir: str | os.PathLike | None = None,
    checkpoint_every_s: float | None = 60.0,
    checkpoint_every_individuals: int | None = None,
    on_event: Callable[[Event], None] | None = None,
    ray_address: str | None = None,
    backend: str | None = None,
    budget: Mapping | None = None,
) -> SearchResult:
    """Continue a run from its checkpoint (a file or a run directory) exactly where it stopped.

    By default the run continues to its own budget: the time limit and `max_individuals` it was
    started with count in all (over every process that ran it; `budget`, a dict with those two
    keys, stands in for a checkpoint that records none). `max_individuals` sets a new total;
    `time_limit` allows that many more seconds from now. Islands, flow and migration settings
    come from the checkpoint. `backend` (interp/jit/auto) changes where evaluations run from now
    on; every backend computes the same results, so the run continues exactly.
    """
    overrides: dict[str, Any] = {
        "time_limit": time_limit,
        "max_individuals": max_individuals,
        "runner": runner,
        "checkpoint_every_s": checkpoint_every_s,
        "checkpoint_every_individuals": checkpoint_every_individuals,
        "on_event": on_event,
        "ray_address": ray_address,
    }
    if workers is not None:
        overrides["workers"] = workers
    if backend is not None:
        overrides["backend"] = backend
    if checkpoint_dir is not None:
        overrides["checkpoint_dir"] = checkpoint_dir
    return SearchRun.from_checkpoint(checkpoint, budget=budget, **overrides).run()
