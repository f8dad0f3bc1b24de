"""Islands: several populations with the paper's migration, in one process, a process pool or Ray.

An island is one `RegularizedEvolution` on its own copy of the search tasks, driven in epochs
(`run_epoch(n)` = at least n more individuals, whole sweeps). Islands live in `IslandHost`s that
a runner places in this process, in worker processes or in Ray actors (`island_runners`), and
one coordinator (`Archipelago`) drives them all the same way.

Migration (paper S3; not in the reference code) is deterministic and lags one epoch: at the end
of epoch t each island sends k emigrants with their fitnesses, and at the start of epoch t + 2
each receives k drawn at random from the other islands' emigrants of epoch t (row arrays, not
Program objects: cheap to pickle). The lag lets every worker start its next epoch the moment it
finishes one, instead of waiting for the slowest island. Islands share their search tasks, so
a migrant keeps the fitness it earned and is not evaluated again, and its FEC record
(fingerprint key and fitness per task) enters the receiving island's FEC cache, so its
descendants that compute the same function hit the cache there as they would at home. One
request per island and epoch carries it all (`Island.epoch`: place immigrants, evolve, pick
emigrants). All draws come from the coordinator's stream or from seeds it hands out, in an order
fixed by the epochs, so a run's result does not depend on scheduling or on how islands are
placed on workers.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import AmlzError
from ..ir.program import Program
from ..rng import SplitMix64

if TYPE_CHECKING:
    from .island_runners import Runner


class IslandError(AmlzError, RuntimeError):
    """An island or its worker failed (the message carries the remote traceback)."""


@dataclass
class IslandSpec:
    """What a worker needs to build an island: plain, picklable data only.

    `config` is a SearchConfig dict, `tasks` the search TaskSpec dicts with their seeds already
    fixed, `max_train_steps` the island's training-step budget for this experiment.
    """

    config: dict
    tasks: list[dict]
    seed: int
    max_train_steps: int | None = None
    backend: str = "auto"


def worker_of(island: int, workers: int) -> int:
    """The worker that holds `island` (islands are dealt round-robin)."""
    return island % workers


def draw_seed(rng: SplitMix64) -> int:
    """A uint32 seed in [2, 2**32 - 2] from the project generator (like UniformRandomSeed)."""
    return 2 + rng.next_u64() % ((1 << 32) - 3)


class Island:
    """One population driven in epochs; everything needed for an exact resume is in its state."""

    def __init__(self, spec: IslandSpec) -> None:
        from ..tasks.build import build_collection
        from .config import SearchConfig
        from .evolution import RegularizedEvolution

        self.spec = spec
        config = SearchConfig.from_dict(spec.config)
        tasks = build_collection([dict(t) for t in spec.tasks])
        self.evolution = RegularizedEvolution(config, tasks, spec.seed, backend=spec.backend)
        self.initialized = False
        self.busy_seconds = 0.0  # time spent evolving, for individuals/s

    # -- evolution ----------------------------------------------------------------------------
    def _budget_left(self) -> int | None:
        if self.spec.max_train_steps is None:
            return None
        return max(0, int(self.spec.max_train_steps) - self.train_steps())

    def train_steps(self) -> int:
        return int(self.evolution.stats().get("train_steps", 0))

    def done(self) -> bool:
        """True once the training-step budget is used up (checked between sweeps)."""
        left = self._budget_left()
        return left is not None and left <= 0

    def init(self) -> dict:
        t0 = time.perf_counter()
        self.evolution.init()
        self.initialized = True
        self.busy_seconds += time.perf_counter() - t0
        return self.stats()

    def run_epoch(self, individuals: int, deadline: float | None = None) -> dict:
        """Evolve at least `individuals` more (whole sweeps) or until the budget is used."""
        if not self.initialized:
            raise IslandError("island.run_epoch before init")
        left = self._budget_left()
        if left is None or left > 0:
            t0 = time.perf_counter()
            self.evolution.run(
                max_train_steps=left,
                max_individuals=int(individuals),
                deadline=_wall_deadline(deadline),
            )
            self.busy_seconds += time.perf_counter() - t0
        return self.stats()

    def emigrants(self, k: int, seed: int) -> tuple[np.ndarray, ...]:
        """k emigrants as row arrays with fitnesses (`RegularizedEvolution.emigrant_rows`)."""
        return self.evolution.emigrant_rows(int(k), SplitMix64(seed))

    def immigrate(self, rows: tuple[np.ndarray, ...]) -> dict:
        """Place immigrants given as row arrays with their fitnesses."""
        t0 = time.perf_counter()
        self.evolution.immigrate_rows(*rows)
        self.busy_seconds += time.perf_counter() - t0
        return self.stats()

    def epoch(
        self,
        individuals: int,
        deadline: float | None,
        immigrants: tuple[np.ndarray, ...] | None,
        k: int,
        seed: int,
    ) -> dict:
        """One epoch as the coordinator drives it, in one request: place the immigrants of the
        last migration, evolve `individuals` more (`run_epoch`), then pick k emigrants for the
        next. Returns {"stats", "best": (program, fitness), "emigrants": rows or None}."""
        if immigrants is not None:
            self.immigrate(immigrants)
        stats = self.run_epoch(individuals, deadline)
        return {
            "stats": stats,
            "best": self.best(),
            "emigrants": self.emigrants(k, seed) if k > 0 else None,
        }

    def best(self) -> tuple[Program, float]:
        program, fitness = self.evolution.best()
        return program, float(fitness)

    def stats(self) -> dict:
        out = dict(self.evolution.stats())
        out["busy_seconds"] = self.busy_seconds
        out["done"] = self.done()
        out["initialized"] = self.initialized
        return out

    # -- state --------------------------------------------------------------------------------
    def get_state(self) -> dict:
        return {
            "initialized": self.initialized,
            "busy_seconds": self.busy_seconds,
            "evolution": self.evolution.get_state(),
        }

    def set_state(self, state: dict) -> None:
        """Restore `get_state`; the migrations a checkpoint says are still to come (`incoming`,
        kept by the coordinator) are checked here, where the population's shape is known."""
        from .state_check import check_incoming

        self.evolution.set_state(state["evolution"])
        if "incoming" in state:
            evo = self.evolution
            check_incoming(state["incoming"], evo.P, evo.memory, evo.pop_fec_keys.shape[1])
        self.initialized = bool(state["initialized"])
        self.busy_seconds = float(state.get("busy_seconds", 0.0))


def _wall_deadline(deadline: float | None) -> float | None:
    """Deadlines travel as wall-clock seconds (time.time()); evolution takes perf_counter time."""
    if deadline is None:
        return None
    return time.perf_counter() + max(0.0, deadline - time.time())


# -- the coordinator --------------------------------------------------------------------------


@dataclass
class MigrationPlan:
    """What one epoch's requests carry: per island, the immigrants it places first (row arrays
    with fitnesses and FEC records, or None) and the seed that picks its emigrants at the end."""

    immigrants: list[tuple[np.ndarray, ...] | None]
    seeds: list[int]


class Archipelago:
    """Islands on a runner, advanced in epochs with deterministic, lag-one migration.

    Epoch t of an island places the immigrants drawn from the emigrants of epoch t - 2, evolves,
    then picks its emigrants. A worker can therefore start epoch t + 1 the moment its own epoch
    t ends (its migrants were drawn when the last island finished epoch t - 1), and no worker
    waits for the slowest island of every epoch. `step` returns once every island has finished
    the epoch; with `then=True` (the default, several islands) each worker has already begun
    the next one, whose inputs are fixed, so nothing a run computes depends on timing. Readers
    of island state (`stats`, `best`, `get_states`, ...) need no epoch in flight: a caller that
    ends after a `step` taken with `then=True` finishes with one more `step(..., then=False)`.
    """

    def __init__(self, runner: Runner, specs: Sequence[IslandSpec]) -> None:
        self.runner = runner
        self.n = len(specs)
        if self.n < 1:
            raise IslandError("an archipelago needs at least one island")
        self._plans: dict[int, MigrationPlan] = {}  # epoch -> its migration, once drawn
        self._t = 0  # the epoch the next `step` completes
        self._running: dict[int, int] = {}  # worker -> epoch of the batch it is running
        self._back: dict[int, dict[int, list]] = {}  # epoch -> worker -> reports returned
        self.epoch_best: tuple[int, Program, float] | None = None
        self._islands_of: dict[int, list[int]] = {}  # worker -> its islands, in order
        for i in range(self.n):
            self._islands_of.setdefault(worker_of(i, runner.workers), []).append(i)
        self.runner.call([(i, "create", (spec,)) for i, spec in enumerate(specs)])

    @property
    def in_flight(self) -> bool:
        """True while a worker runs an epoch that `step` has not returned yet."""
        return bool(self._running)

    def _all(self, method: str, *args: Any) -> list[Any]:
        if self._running:
            raise IslandError(
                f"islands read ({method}) while an epoch is in flight: finish it with "
                "step(..., then=False) first"
            )
        return self.runner.call([(i, method, args) for i in range(self.n)])

    def init(self) -> list[dict]:
        return self._all("init")

    def run_epoch(self, individuals: int, deadline: float | None = None) -> list[dict]:
        """Evolve every island `individuals` more, without migrating."""
        return self._all("run_epoch", individuals, deadline)

    # -- epochs -------------------------------------------------------------------------------
    def _blank(self, k: int, rng: SplitMix64) -> MigrationPlan:
        """A plan without immigrants (the first two epochs): only emigrant seeds are drawn."""
        seeds = [draw_seed(rng) for _ in range(self.n)] if k > 0 else [0] * self.n
        return MigrationPlan([None] * self.n, seeds)

    def _launch(self, w: int, epoch: int, args: tuple) -> None:
        individuals, deadline, k = args
        plan = self._plans[epoch]
        requests = [(i, "epoch", (individuals, deadline, plan.immigrants[i], k, plan.seeds[i]))
                    for i in self._islands_of[w]]  # fmt: skip
        self.runner.submit(w, requests)
        self._running[w] = epoch

    def _goes_on(self, reports: list[dict]) -> bool:
        """Whether a worker's islands still evolve after these epoch reports."""
        return not all(r["stats"].get("done") for r in reports)

    def step(
        self,
        individuals: int,
        migrants: int,
        rng: SplitMix64,
        deadline: float | None = None,
        *,
        then: bool = True,
    ) -> list[dict]:
        """Finish one epoch of every island (each places its immigrants, evolves `individuals`
        more and picks `migrants` emigrants; no migration with one island), then draw the
        migration of the epoch after next (none once every island is done). With `then` and
        several islands, each worker starts the next epoch as soon as it finishes this one.
        Returns the islands' stats after the epoch; `epoch_best` holds the best (island,
        program, fitness) it reached."""
        k = migrants if self.n > 1 else 0
        t = self._t
        for epoch in (t, t + 1):
            if epoch not in self._plans:
                self._plans[epoch] = self._blank(k, rng)
        args = (individuals, deadline, k)
        ahead = then and self.n > 1
        back = self._back.setdefault(t, {})
        for w in self._islands_of:
            if w in back:  # finished this epoch during the last step
                if ahead and w not in self._running and self._goes_on(back[w]):
                    self._launch(w, t + 1, args)
            elif w not in self._running:
                self._launch(w, t, args)
        while len(back) < len(self._islands_of):
            w, reports = self.runner.collect()
            epoch = self._running.pop(w)
            self._back.setdefault(epoch, {})[w] = reports
            if epoch == t and ahead and self._goes_on(reports):
                self._launch(w, t + 1, args)
        del self._back[t], self._plans[t]
        self._t = t + 1
        reports = [None] * self.n
        for w, islands in self._islands_of.items():
            for i, report in zip(islands, back[w], strict=True):
                reports[i] = report
        stats = [r["stats"] for r in reports]
        self.epoch_best = _best_of([r["best"] for r in reports])
        if k > 0 and not all(s.get("done") for s in stats):
            immigrants = draw_immigrants([r["emigrants"] for r in reports], k, rng)
            seeds = [draw_seed(rng) for _ in range(self.n)]
            self._plans[t + 2] = MigrationPlan(immigrants, seeds)
        else:
            self._plans[t + 2] = MigrationPlan([None] * self.n, [0] * self.n)
        return stats

    # -- readers and state --------------------------------------------------------------------
    def stats(self) -> list[dict]:
        return self._all("stats")

    def done(self) -> bool:
        return all(self._all("done"))

    def best(self) -> tuple[int, Program, float]:
        """(island, program, fitness) of the best individual; ties keep the lowest island."""
        return _best_of(self._all("best"))

    def get_states(self) -> list[dict]:
        """Every island's state with the migrations it has yet to receive (`incoming`: the
        immigrants and emigrant seed of its next two epochs), so a resume continues exactly."""
        states = self._all("get_state")
        plans = [self._plans[e] for e in (self._t, self._t + 1) if e in self._plans]
        if len(plans) == 2:
            for i, state in enumerate(states):
                state["incoming"] = [
                    {"immigrants": plan.immigrants[i], "seed": plan.seeds[i]} for plan in plans
                ]
        return states

    def set_states(self, states: Sequence[dict]) -> None:
        """Restore `get_states`; the islands check their states and incoming immigrants."""
        if len(states) != self.n:
            raise IslandError(f"{len(states)} island states for {self.n} islands")
        self._plans, self._t, self._back = {}, 0, {}
        self.runner.call([(i, "set_state", (states[i],)) for i in range(self.n)])
        if all("incoming" in s for s in states):
            for e in (0, 1):
                self._plans[e] = MigrationPlan(
                    [s["incoming"][e]["immigrants"] for s in states],
                    [int(s["incoming"][e]["seed"]) for s in states],
                )

    def drop(self) -> None:
        self._all("drop")


def _best_of(bests: Sequence[tuple[Program, float]]) -> tuple[int, Program, float]:
    """(island, program, fitness) of the best of per-island bests; ties keep the lowest."""
    top = 0
    for i, (_, fit) in enumerate(bests):
        if fit > bests[top][1]:
            top = i
    return top, bests[top][0], bests[top][1]


def draw_immigrants(sent: Sequence[tuple], k: int, rng: SplitMix64) -> list[tuple]:
    """Each island's immigrants: k drawn without replacement from the other islands'
    emigrants (`sent[j]`, row arrays with fitnesses), islands in order."""
    n = len(sent)
    out = []
    for i in range(n):
        pool = [(j, r) for j in range(n) if j != i for r in range(len(sent[j][2]))]
        chosen = sample_without_replacement(pool, min(k, len(pool)), rng)
        out.append(_gather(sent, chosen))
    return out


def _gather(sent: Sequence[tuple], chosen: Sequence[tuple[int, int]]) -> tuple:
    """Row arrays, fitnesses and FEC records of the chosen (island, emigrant) pairs, in order,
    padded to one length (one fancy-indexed copy per sending island and field: the coordinator
    does this while every worker waits)."""
    k = len(chosen)
    pairs = np.array(chosen, dtype=np.int64).reshape(k, 2)
    source, rows = pairs[:, 0], pairs[:, 1]
    senders = np.unique(source)
    L = max((sent[j][0].shape[1] for j in senders), default=1)
    width = sent[senders[0]][4].shape[1] if k else 1
    out = (
        np.zeros((k, L, 4), dtype=np.int32),
        np.zeros((k, L, 4), dtype=np.float64),
        np.zeros((k, 3), dtype=np.int64),
        np.zeros(k, dtype=np.float64),
        np.zeros((k, width), dtype=np.uint64),
        np.zeros((k, width), dtype=np.float64),
    )
    for j in senders:
        into = np.flatnonzero(source == j)
        pick = rows[into]
        for field, (dst, src) in enumerate(zip(out, sent[j], strict=True)):
            if field < 2:  # code and data: the sender's rows are at most L long
                dst[into, : src.shape[1]] = src[pick]
            else:
                dst[into] = src[pick]
    return out


def sample_without_replacement(items: Sequence[Any], k: int, rng: SplitMix64) -> list[Any]:
    """k items by a partial Fisher-Yates shuffle driven by the project generator."""
    pool = list(items)
    out = []
    for j in range(k):
        r = j + rng.next_u64() % (len(pool) - j)
        pool[j], pool[r] = pool[r], pool[j]
        out.append(pool[j])
    return out
