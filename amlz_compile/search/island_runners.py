"""Where islands live: in this process, in spawned worker processes or in Ray actors.

A runner forwards batches of `(island, method, args)` requests to `IslandHost`s and returns the
results in request order. Island i lives on worker i % workers. Besides the blocking `call`,
every runner can `submit` one batch to a worker and `collect` whichever submitted batch finishes
first, so the coordinator can start a worker's next epoch while another worker is still busy.
"""

from __future__ import annotations

import contextlib
import os
import traceback
from typing import Any, Protocol

from .islands import Island, IslandError, worker_of

LOCAL = "local"
PROCESS = "process"
RAY = "ray"
RUNNERS = (LOCAL, PROCESS, RAY)

RAY_MISSING = "the Ray backend needs the optional dependency ray: pip install 'amlz-compile[ray]'"

Requests = list[tuple[int, str, tuple]]


class IslandHost:
    """Holds islands by id and executes request batches on them; lives wherever the runner says."""

    def __init__(self) -> None:
        self.islands: dict[int, Island] = {}

    def handle(self, requests: Requests) -> list[Any]:
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


class Runner(Protocol):
    """Executes request batches on islands.

    `call` runs a batch spread over the workers and returns results in request order;
    `submit(w, batch)` starts a batch on worker w (at most one at a time per worker) and
    `collect()` waits for any submitted batch and returns `(w, results)`."""

    workers: int

    def call(self, requests: Requests) -> list[Any]: ...

    def submit(self, worker: int, requests: Requests) -> None: ...

    def collect(self) -> tuple[int, list[Any]]: ...

    def close(self) -> None: ...


def _call(runner: Runner, requests: Requests) -> list[Any]:
    """`call` on top of submit/collect: one batch per worker, results in request order; errors
    of every worker are gathered into one IslandError."""
    groups: dict[int, list[int]] = {}
    for pos, (island_id, _, _) in enumerate(requests):
        groups.setdefault(worker_of(island_id, runner.workers), []).append(pos)
    for w, positions in groups.items():
        runner.submit(w, [requests[p] for p in positions])
    results: list[Any] = [None] * len(requests)
    errors = []
    for _ in groups:
        try:
            w, payload = runner.collect()
        except IslandError as exc:
            errors.append(str(exc))
            continue
        for p, r in zip(groups[w], payload, strict=True):
            results[p] = r
    if errors:
        raise IslandError("\n".join(errors))
    return results


class LocalRunner:
    """All islands in this process: a submitted batch runs at once, `collect` hands it back."""

    def __init__(self) -> None:
        self.workers = 1
        self.host = IslandHost()
        self._done: list[tuple[int, list[Any] | BaseException]] = []

    def call(self, requests: Requests) -> list[Any]:
        return self.host.handle(requests)

    def submit(self, worker: int, requests: Requests) -> None:
        try:
            self._done.append((worker, self.host.handle(requests)))
        except Exception as exc:  # raised by collect, as the other runners do
            self._done.append((worker, exc))

    def collect(self) -> tuple[int, list[Any]]:
        if not self._done:
            raise IslandError("collect without a submitted batch")
        worker, payload = self._done.pop(0)
        if isinstance(payload, BaseException):
            raise payload
        return worker, payload

    def close(self) -> None:
        self.host.islands.clear()
        self._done.clear()


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
            reply = ("ok", host.handle(message))
        except BaseException as exc:  # report everything, the coordinator raises it
            reply = ("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
        try:
            conn.send(reply)
        except OSError:  # the coordinator is gone (stopped at once): nobody to answer
            return


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
        self._busy: set[int] = set()
        for _ in range(workers):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_worker_main, args=(child,), daemon=True)
            proc.start()
            child.close()
            self._conns.append(parent)
            self._procs.append(proc)

    def call(self, requests: Requests) -> list[Any]:
        return _call(self, requests)

    def submit(self, worker: int, requests: Requests) -> None:
        if worker in self._busy:
            raise IslandError(f"worker {worker} already has a batch")
        self._conns[worker].send(requests)
        self._busy.add(worker)

    def collect(self) -> tuple[int, list[Any]]:
        from multiprocessing.connection import wait

        if not self._busy:
            raise IslandError("collect without a submitted batch")
        by_conn = {self._conns[w]: w for w in sorted(self._busy)}
        w = by_conn[wait(list(by_conn))[0]]
        self._busy.discard(w)
        try:
            status, payload = self._conns[w].recv()
        except (EOFError, OSError) as exc:
            code = self._procs[w].exitcode
            raise IslandError(f"worker {w} died (exit code {code}): {exc!r}") from None
        if status != "ok":
            raise IslandError(f"worker {w} failed: {payload}")
        return w, payload

    def close(self) -> None:
        for w in sorted(self._busy):  # read the epoch a worker is finishing, so it can exit
            with contextlib.suppress(OSError, EOFError):
                if self._conns[w].poll(10):
                    self._conns[w].recv()
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
        self._busy.clear()


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
        self._futures: dict[int, Any] = {}
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

    def call(self, requests: Requests) -> list[Any]:
        return _call(self, requests)

    def submit(self, worker: int, requests: Requests) -> None:
        if worker in self._futures:
            raise IslandError(f"ray worker {worker} already has a batch")
        self._futures[worker] = self._actors[worker].handle.remote(requests)

    def collect(self) -> tuple[int, list[Any]]:
        if not self._futures:
            raise IslandError("collect without a submitted batch")
        order = sorted(self._futures)
        ready, _ = self._ray.wait([self._futures[w] for w in order], num_returns=1)
        w = next(w for w in order if self._futures[w] == ready[0])
        future = self._futures.pop(w)
        try:
            return w, self._ray.get(future)
        except Exception as exc:  # RayTaskError, RayActorError, ...
            raise IslandError(f"ray worker {w} failed: {exc}") from None

    def close(self) -> None:
        for actor in self._actors:
            with contextlib.suppress(Exception):
                self._ray.kill(actor)
        self._actors = []
        self._futures = {}
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
