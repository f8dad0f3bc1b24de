"""Islands: several populations with the paper's migration, in one process, a process pool or Ray.

An island is one `RegularizedEvolution` on its own copy of the search tasks, driven in epochs
(`run_epoch(n)` = at least n more individuals, whole sweeps). Islands live in `IslandHost`s, and
one code path serves every placement: a runner forwards batches of `(island, method, args)`
requests to hosts in this process (`LocalRunner`), in spawned worker processes
(`ProcessRunner`) or in Ray actors (`RayRunner`), and returns the results in request order.

Migration (paper S3; not in the reference code) is deterministic: after every epoch each island
sends k emigrants with their fitnesses, then each receives k drawn at random from the other
islands' emigrants (row arrays, not Program objects: cheap to pickle). Islands share their
search tasks, so a migrant keeps the fitness it earned and is not evaluated again, and its FEC
record (fingerprint key and fitness per task) enters the receiving island's FEC cache, so its
descendants that compute the same function hit the cache there as they would at home. One request
per island and epoch carries it all (`Island.epoch`: place the last migration's immigrants,
evolve, pick emigrants), so an epoch costs one round trip to each worker. All draws come from
the coordinator's stream or from seeds it hands out, so a run's result does not depend on
scheduling or on how islands are placed on workers.
"""

from __future__ import annotations

import contextlib
import os
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ..errors import AmlzError
from ..ir.program import Program
from ..rng import SplitMix64

LOCAL = "local"
PROCESS = "process"
RAY = "ray"
RUNNERS = (LOCAL, PROCESS, RAY)

RAY_MISSING = "the Ray backend needs the optional dependency ray: pip install 'amlz-compile[ray]'"


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
        self.evolution.set_state(state["evolution"])
        self.initialized = bool(state["initialized"])
        self.busy_seconds = float(state.get("busy_seconds", 0.0))


def _wall_deadline(deadline: float | None) -> float | None:
    """Deadlines travel as wall-clock seconds (time.time()); evolution takes perf_counter time."""
    if deadline is None:
        return None
    return time.perf_counter() + max(0.0, deadline - time.time())


class IslandHost:
    """Holds islands by id and executes request batches on them; lives wherever the runner says."""

    def __init__(self) -> None:
        self.islands: dict[int, Island] = {}

    def handle(self, requests: list[tuple[int, str, tuple]]) -> list[Any]:
        results = []
        for island_id, method, args in requests:
            if method == "create":
                self.islands[island_id] = Island(*args)
                results.append(None)
            elif method == "drop":
                self.islands.pop(island_id, None)
                results.append(None)
            elif method == "ping":
                results.append(os.getpid())
            else:
                island = self.islands.get(island_id)
                if island is None:
                    raise IslandError(f"no island {island_id} on this worker")
                results.append(getattr(island, method)(*args))
        return results


# -- runners ----------------------------------------------------------------------------------


class Runner(Protocol):
    """Executes request batches on islands; `call` returns results in request order."""

    workers: int

    def call(self, requests: list[tuple[int, str, tuple]]) -> list[Any]: ...

    def close(self) -> None: ...


def _split(requests: list[tuple[int, str, tuple]], workers: int) -> list[list[int]]:
    """Request positions per worker: island i lives on worker i % workers."""
    groups: list[list[int]] = [[] for _ in range(workers)]
    for pos, (island_id, _, _) in enumerate(requests):
        groups[island_id % workers].append(pos)
    return groups


class LocalRunner:
    """All islands in this process, run one after the other."""

    def __init__(self) -> None:
        self.workers = 1
        self.host = IslandHost()

    def call(self, requests: list[tuple[int, str, tuple]]) -> list[Any]:
        return self.host.handle(requests)

    def close(self) -> None:
        self.host.islands.clear()


def _worker_main(conn) -> None:  # pragma: no cover - runs in the child process
    """Loop of a worker process: receive a request batch, answer with results or a traceback.

    Workers ignore SIGINT, SIGTERM and SIGHUP: the coordinator owns shutdown (it finishes the
    epoch, writes a checkpoint and closes the pipes), and a terminal's Ctrl-C reaches the whole
    process group."""
    import signal

    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    host = IslandHost()
    while True:
        try:
            message = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if message is None:
            return
        try:
            conn.send(("ok", host.handle(message)))
        except BaseException as exc:  # report everything, the coordinator raises it
            conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))


class ProcessRunner:
    """Islands in `workers` spawned processes (spawn-safe: workers import this module fresh)."""

    def __init__(self, workers: int) -> None:
        import multiprocessing as mp

        if workers < 1:
            raise IslandError(f"workers must be >= 1, got {workers}")
        ctx = mp.get_context("spawn")
        self.workers = workers
        self._conns = []
        self._procs = []
        for _ in range(workers):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_worker_main, args=(child,), daemon=True)
            proc.start()
            child.close()
            self._conns.append(parent)
            self._procs.append(proc)

    def call(self, requests: list[tuple[int, str, tuple]]) -> list[Any]:
        groups = _split(requests, self.workers)
        for w, positions in enumerate(groups):
            if positions:
                self._conns[w].send([requests[p] for p in positions])
        results: list[Any] = [None] * len(requests)
        errors = []
        for w, positions in enumerate(groups):
            if not positions:
                continue
            try:
                status, payload = self._conns[w].recv()
            except (EOFError, OSError) as exc:
                code = self._procs[w].exitcode
                errors.append(f"worker {w} died (exit code {code}): {exc!r}")
                continue
            if status != "ok":
                errors.append(f"worker {w} failed: {payload}")
                continue
            for p, r in zip(positions, payload, strict=True):
                results[p] = r
        if errors:
            raise IslandError("\n".join(errors))
        return results

    def close(self) -> None:
        for conn in self._conns:
            with contextlib.suppress(OSError, BrokenPipeError):
                conn.send(None)
        for proc in self._procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)
        for conn in self._conns:
            conn.close()
        self._conns, self._procs = [], []


def ray_available() -> bool:
    """True when the optional `ray` package can be imported."""
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


def _import_ray():
    try:
        import ray
    except ImportError as exc:
        raise IslandError(RAY_MISSING) from exc
    return ray


class RayRunner:
    """Islands in `workers` Ray actors; joins a running Ray instance or starts a local one."""

    def __init__(self, workers: int, *, ray_address: str | None = None) -> None:
        ray = _import_ray()
        if workers < 1:
            raise IslandError(f"workers must be >= 1, got {workers}")
        self._ray = ray
        self._started = False
        self._actors: list = []
        if not ray.is_initialized():
            ray.init(
                address=ray_address,
                include_dashboard=False,
                ignore_reinit_error=True,
                runtime_env={"env_vars": {"PYTHONPATH": _pythonpath()}},
                log_to_driver=False,
            )
            self._started = True
        cpus = int(ray.cluster_resources().get("CPU", 0))
        if cpus < workers:
            self.close()
            raise IslandError(
                f"Ray has {cpus} CPUs but {workers} workers were asked for (each worker is an "
                "actor that needs one CPU); use fewer workers or a bigger Ray cluster"
            )
        actor_cls = ray.remote(num_cpus=1)(IslandHost)
        self.workers = workers
        self._actors = [actor_cls.remote() for _ in range(workers)]

    def call(self, requests: list[tuple[int, str, tuple]]) -> list[Any]:
        ray = self._ray
        groups = _split(requests, self.workers)
        futures = {}
        for w, positions in enumerate(groups):
            if positions:
                futures[w] = self._actors[w].handle.remote([requests[p] for p in positions])
        results: list[Any] = [None] * len(requests)
        errors = []
        for w, fut in futures.items():
            try:
                payload = ray.get(fut)
            except Exception as exc:  # RayTaskError, RayActorError, ...
                errors.append(f"ray worker {w} failed: {exc}")
                continue
            for p, r in zip(groups[w], payload, strict=True):
                results[p] = r
        if errors:
            raise IslandError("\n".join(errors))
        return results

    def close(self) -> None:
        for actor in self._actors:
            with contextlib.suppress(Exception):
                self._ray.kill(actor)
        self._actors = []
        if self._started:
            self._ray.shutdown()
            self._started = False


def _pythonpath() -> str:
    """This package's parent directory first, so Ray workers import the same amlz_compile."""
    import amlz_compile

    root = os.path.dirname(os.path.dirname(os.path.abspath(amlz_compile.__file__)))
    rest = os.environ.get("PYTHONPATH", "")
    return root + (os.pathsep + rest if rest else "")


def make_runner(kind: str, workers: int = 1, **options: Any) -> Runner:
    """`local` (in-process), `process` (spawned workers) or `ray` (actors)."""
    if kind == LOCAL:
        return LocalRunner()
    if kind == PROCESS:
        return ProcessRunner(workers)
    if kind == RAY:
        return RayRunner(workers, **options)
    raise IslandError(f"unknown island runner {kind!r} (choose from {', '.join(RUNNERS)})")


# -- the coordinator --------------------------------------------------------------------------


class Archipelago:
    """Islands on a runner, advanced in lock-step epochs with deterministic migration.

    `step` runs one epoch everywhere and draws the next migration; its immigrants travel with
    the next step's requests, or are placed first by any call that reads island state
    (`flush`), so every reader sees the islands as if they had migrated right after the epoch.
    """

    def __init__(self, runner: Runner, specs: Sequence[IslandSpec]) -> None:
        self.runner = runner
        self.n = len(specs)
        if self.n < 1:
            raise IslandError("an archipelago needs at least one island")
        self._pending: list[tuple] | None = None  # immigrants drawn, not yet placed
        self.epoch_best: tuple[int, Program, float] | None = None
        self.runner.call([(i, "create", (spec,)) for i, spec in enumerate(specs)])

    def _all(self, method: str, *args: Any) -> list[Any]:
        self.flush()
        return self.runner.call([(i, method, args) for i in range(self.n)])

    def flush(self) -> None:
        """Place the immigrants of the last `step`'s migration now."""
        pending, self._pending = self._pending, None
        if pending is not None:
            self.runner.call([(i, "immigrate", (pending[i],)) for i in range(self.n)])

    def init(self) -> list[dict]:
        return self._all("init")

    def run_epoch(self, individuals: int, deadline: float | None = None) -> list[dict]:
        """Evolve every island `individuals` more, without migrating."""
        return self._all("run_epoch", individuals, deadline)

    def step(
        self, individuals: int, migrants: int, rng: SplitMix64, deadline: float | None = None
    ) -> list[dict]:
        """One epoch of every island, then a migration of `migrants` each way (none with one
        island or once every island is done). Returns the islands' stats after the epoch;
        `epoch_best` holds the best (island, program, fitness) it reached."""
        k = migrants if self.n > 1 else 0
        seeds = [draw_seed(rng) for _ in range(self.n)] if k > 0 else [0] * self.n
        pending, self._pending = self._pending or [None] * self.n, None
        reports = self.runner.call(
            [(i, "epoch", (individuals, deadline, pending[i], k, seeds[i])) for i in range(self.n)]
        )
        stats = [r["stats"] for r in reports]
        self.epoch_best = _best_of([r["best"] for r in reports])
        if k > 0 and not all(s.get("done") for s in stats):
            self._pending = draw_immigrants([r["emigrants"] for r in reports], k, rng)
        return stats

    def stats(self) -> list[dict]:
        return self._all("stats")

    def done(self) -> bool:
        return all(self._all("done"))

    def best(self) -> tuple[int, Program, float]:
        """(island, program, fitness) of the best individual; ties keep the lowest island."""
        return _best_of(self._all("best"))

    def get_states(self) -> list[dict]:
        return self._all("get_state")

    def set_states(self, states: Sequence[dict]) -> None:
        if len(states) != self.n:
            raise IslandError(f"{len(states)} island states for {self.n} islands")
        self._pending = None
        self.runner.call([(i, "set_state", (states[i],)) for i in range(self.n)])

    def drop(self) -> None:
        self._pending = None
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
