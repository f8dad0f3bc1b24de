"""What a run reports: the events passed to its `on_event` callback while it runs (progress
after every epoch, a new best candidate, an ended experiment, a written checkpoint, the end)
and the `SearchResult` it returns."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ir.program import Program


def _rate(stats: dict, prefix: str) -> float | None:
    """Hit rate of a cache from its `<prefix>_hits` / `<prefix>_misses` counters."""
    h, m = stats.get(f"{prefix}_hits"), stats.get(f"{prefix}_misses")
    if h is None or m is None or h + m == 0:
        return None
    return float(h) / float(h + m)


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

    @classmethod
    def of(cls, island: int, stats: dict) -> IslandProgress:
        """The numbers of island `island` from its `stats()`."""
        busy = float(stats.get("busy_seconds", 0.0)) or 1e-9
        return cls(
            island=island,
            individuals=int(stats["individuals"]),
            individuals_per_s=int(stats["individuals"]) / busy,
            best_fitness=float(stats["best_fitness"]),
            mean_fitness=float(stats["mean_fitness"]),
            train_steps=int(stats["train_steps"]),
            fec_hit_rate=_rate(stats, "fec"),
            dedup_hit_rate=_rate(stats, "dedup"),
            stats=dict(stats),
        )


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
