"""How a run is carried out, as one typed value: `SearchOptions` (the experiment config says what
is searched; the options say with which seed, on how many islands and workers, in which flow,
for how long, and where and how often checkpoints go). Every value is checked when the options
are made (ConfigError names what is wrong)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .config import ConfigError, positive_limit
from .island_runners import LOCAL, PROCESS, RAY

REFERENCE = "reference"
FAST = "fast"
FLOWS = (REFERENCE, FAST)
FAST_PATIENCE = 100_000  # individuals without a 10% cut of 1 - best fitness (fast flow)
RUNNER_CHOICES = ("auto", LOCAL, PROCESS, RAY)


def check_run_limits(
    time_limit: float | None, max_individuals: int | None, checkpoint_every_s: float | None
) -> tuple[float | None, int | None, float | None]:
    """The run's stop and checkpoint limits, validated: None or finite and > 0 (ConfigError)."""
    return (
        positive_limit("time_limit", time_limit),
        positive_limit("max_individuals", max_individuals, integer=True),
        positive_limit("checkpoint_every", checkpoint_every_s),
    )


@dataclass(frozen=True)
class SearchOptions:
    """The settings of one run besides its config.

    `seed` (default: the config's, else time-based) makes the run reproducible; `islands`
    populations migrate every `migrate_every` individuals per island (default 10 sweeps) with
    `migrants` each way (default P/2, as in the paper); `runner` places them: "auto" (in-process
    for one worker, else processes), "local", "process" or "ray" (at `ray_address`; needs
    `pip install 'amlz-compile[ray]'`). `backend` overrides the config's evaluation backend
    (interp/jit/auto). `flow` is "reference" or "fast"; `patience` (fast flow: default
    FAST_PATIENCE; 0 = never) ends an experiment after that many individuals without real
    progress. `time_limit` (seconds) and `max_individuals` stop the run at an epoch boundary;
    checkpoints go to `checkpoint_dir` (none without it) every `checkpoint_every_s` seconds
    and/or every `checkpoint_every_individuals` individuals.
    """

    seed: int | None = None
    time_limit: float | None = None
    islands: int = 1
    workers: int = 1
    runner: str = "auto"
    backend: str | None = None
    flow: str = REFERENCE
    migrate_every: int | None = None  # None: 10 sweeps of the population
    migrants: int | None = None  # None: half the population
    max_individuals: int | None = None
    checkpoint_dir: str | os.PathLike | None = None
    checkpoint_every_s: float | None = 60.0
    checkpoint_every_individuals: int | None = None
    ray_address: str | None = None
    patience: int | None = None  # None: FAST_PATIENCE in the fast flow, else 0

    def __post_init__(self) -> None:
        if self.flow not in FLOWS:
            raise ConfigError(f"unknown flow {self.flow!r} (choose from {', '.join(FLOWS)})")
        if self.runner not in RUNNER_CHOICES:
            raise ConfigError(f"unknown runner {self.runner!r} (choose from {RUNNER_CHOICES})")
        if self.islands < 1 or self.workers < 1:
            raise ConfigError(
                f"islands and workers must be >= 1, got {self.islands}, {self.workers}"
            )
        if self.migrate_every is not None:
            migrate_every = positive_limit("migrate_every", self.migrate_every, integer=True)
            object.__setattr__(self, "migrate_every", migrate_every)
        patience = self.patience
        if patience is None:
            patience = FAST_PATIENCE if self.flow == FAST else 0
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ConfigError(f"patience must be an integer >= 0 (0 = never), got {patience!r}")
        object.__setattr__(self, "patience", patience)
        limits = check_run_limits(self.time_limit, self.max_individuals, self.checkpoint_every_s)
        for name, value in zip(("time_limit", "max_individuals", "checkpoint_every_s"), limits,
                               strict=True):  # fmt: skip
            object.__setattr__(self, name, value)
        every = positive_limit(
            "checkpoint_every_individuals", self.checkpoint_every_individuals, integer=True
        )
        object.__setattr__(self, "checkpoint_every_individuals", every)
        if self.checkpoint_dir is not None:
            object.__setattr__(self, "checkpoint_dir", Path(self.checkpoint_dir))
