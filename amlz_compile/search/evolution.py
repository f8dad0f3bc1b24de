"""Regularized (aging) evolution of one population, driven by compiled kernels
(docs/semantics.md#regularized-evolution).

The population lives in padded arrays (code int32[P, L, 4], data float64[P, L, 4], sizes
int64[P, 3], fitness float64[P]); slot `istate[0]` holds the oldest individual and is the next
one replaced, so overwriting slots cyclically is exactly aging. One kernel call makes a whole
sweep of P children (`kernels.population_kernel`); Python touches the population once per sweep.
All randomness comes from one SplitMix64 stream per population (`draws.py`), so a seed makes a
run reproducible and `get_state`/`set_state` resume it bit for bit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..backends.interp import attach_machine, machine_attached
from ..backends.interp_machine import prefetch_machine, uses_matrix_ops
from ..backends.packing import pack_tasks
from ..fitness import MEDIAN
from ..ir.program import Program, ProgramError
from ..rng import MASK64, SplitMix64, new_state
from ..tiering import DEFAULT_MODEL, unit_table
from . import kernel_layout as KL
from . import kernels as K
from .budget import baseline_costs
from .checkpoint import CheckpointError
from .config import INSERT_INSTRUCTION, ConfigError, SearchConfig
from .fec import LRU_FIELDS, lru_new
from .generator import initial_template
from .hurdles import hurdle_new, hurdle_restore
from .jit_tier import SearchTier, fill_cost_model, lanes_possible, tier_code
from .kernel_compile import compile_kernel
from .mutate import MutationTables, program_rows, rows_program
from .state_check import check_population, check_records, check_scalars, check_search_state
from .tier_choice import compiled_tier_possible
from .warm_up import helpers_allowed

STATE_VERSION = 1
_DEFAULT_CACHE = (100000, 100)


def build_search_tasks(config: SearchConfig) -> list:
    """The tasks of `config.search_tasks`, indexed across the whole list."""
    from ..tasks.build import build_collection

    if not config.search_tasks:
        raise ConfigError("search_tasks is empty: give at least one task spec")
    return build_collection(list(config.search_tasks))


class RegularizedEvolution:
    """One population under regularized evolution on fixed search tasks.

    `tasks` is a list of `amlz_compile.tasks.Task` (their list position is the FEC task index);
    None builds them from `config.search_tasks`. `seed` seeds the population's stream.
    `backend` ("interp", "jit" or "auto"; default `config.backend`) says where full evaluations
    run (`jit_tier.py`); every choice gives the same individuals and fitnesses.
    """

    def __init__(
        self,
        config: SearchConfig,
        tasks: Sequence | None = None,
        seed: int = 0,
        backend: str | None = None,
    ) -> None:
        if isinstance(config, dict):
            config = SearchConfig.from_dict(config)
        self.config = config
        self.backend = backend or config.backend
        self.tasks = list(tasks) if tasks is not None else build_search_tasks(config)
        if not self.tasks:
            raise ConfigError("the search needs at least one task")
        for t in self.tasks:
            if t.max_train_examples < 10:
                raise ConfigError(
                    f"task {t.name!r} has {t.max_train_examples} training examples; the "
                    "reference requires at least 10"
                )
        try:
            packed = pack_tasks(self.tasks)
        except ValueError as exc:
            raise ConfigError(f"search tasks: {exc}") from None
        self.features = packed.features
        if config.fec is not None:
            fn, fv = config.fec.num_train_examples, config.fec.num_valid_examples
            small = [t.name for t in self.tasks if t.max_train_examples < fn or t.num_valid < fv]
            if small:
                raise ConfigError(
                    f"fec needs {config.fec.num_train_examples} training and "
                    f"{config.fec.num_valid_examples} validation examples; tasks {small} have fewer"
                )
        self.memory = config.memory.with_features(self.features)
        self.tk = (
            packed.train_x, packed.train_y, packed.train_off, packed.valid_x, packed.valid_y,
            packed.valid_off, packed.orders, packed.order_off, packed.max_train,
            packed.num_valid, packed.valid_divisor, packed.is_accuracy,
        )  # fmt: skip
        self.template = initial_template(config)
        self.mt = MutationTables.from_config(config)
        self._mt = (self.mt.ops, self.mt.n_ops, self.mt.addr, self.mt.smin, self.mt.smax,
                    self.mt.types)  # fmt: skip
        self.P = config.population_size
        n_tasks = len(self.tasks)
        fec = config.fec
        hur = config.hurdles
        ip = np.zeros(KL.NUM_IP, dtype=np.int64)
        ip[KL.IP_P] = self.P
        ip[KL.IP_T] = config.tournament_size
        ip[KL.IP_NTASKS] = n_tasks
        ip[KL.IP_FEC] = int(fec is not None)
        ip[KL.IP_FEC_TRAIN] = fec.num_train_examples if fec else 0
        ip[KL.IP_FEC_VALID] = fec.num_valid_examples if fec else 0
        ip[KL.IP_DEDUP] = int(config.dedup)
        ip[KL.IP_HURDLES] = int(hur.enabled and hur.num_tasks < n_tasks)
        ip[KL.IP_HURDLE_TASKS] = hur.num_tasks
        ip[KL.IP_BUDGET] = int(config.train_budget is not None)
        ip[KL.IP_MEDIAN] = int(config.fitness_combination == MEDIAN)
        fp = np.zeros(KL.NUM_FP, dtype=np.float64)
        fp[KL.FP_MUTATE_PROB] = config.mutate_prob
        fp[KL.FP_MAX_ABS_ERROR] = config.max_abs_error
        if config.train_budget is not None:
            fp[KL.FP_BUDGET_FACTOR] = config.train_budget.threshold_factor
            fp[KL.FP_BASE_SETUP], fp[KL.FP_BASE_TRAIN] = baseline_costs(config)
        fp[KL.FP_PERCENTILE] = hur.percentile
        try:
            ip[KL.IP_TIER] = tier_code(self.backend)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        fill_cost_model(fp, DEFAULT_MODEL, self.features)
        ip[KL.IP_LANES] = KL.LANES if lanes_possible(ip, self.memory) else 0
        self.ip, self.fp = ip, fp
        units = unit_table(self.features)
        possible = compiled_tier_possible(
            ip, fp, self.tk, units, self.mt.ops, self.mt.n_ops,
            _component_ops(self.template), _size_bounds(config, self.template),
        )  # fmt: skip
        self._max_epochs = int(max(t.epochs for t in self.tasks))
        self.tier = SearchTier(self.memory, units, possible, self._max_epochs)
        self._trace_len = (fec.num_train_examples + fec.num_valid_examples) if fec else 1
        self._record_width = max(n_tasks, 1)  # FEC record per slot: one key and fitness a task
        # (the interpreter compiled without matrix ops when the search makes no program with one;
        # `_admit` switches for a given program that has one)
        self._matrix_ops = uses_matrix_ops(
            np.concatenate([*(self.mt.ops[c, : self.mt.n_ops[c]] for c in range(3)),
                            *_component_ops(self.template)])
        )  # fmt: skip
        rows = self._initial_rows()
        self._alloc(rows)
        self._reset_state(seed)

    # -- allocation -------------------------------------------------------------------------
    def _initial_rows(self) -> int:
        c = self.config
        caps = []
        for init, mx, t in zip(c.init_sizes, c.size_max, self.template.sizes(), strict=True):
            caps.append(max(init, t, mx - 1 if mx > 0 else init * 2 + 8))
        return sum(caps) + 4

    def _alloc(self, rows: int) -> None:
        P = self.P
        self.ip[KL.IP_ROWS] = rows
        self.pop_code = np.zeros((P, rows, 4), dtype=np.int32)
        self.pop_data = np.zeros((P, rows, 4), dtype=np.float64)
        self.pop_sizes = np.zeros((P, 3), dtype=np.int64)
        self.fitness = np.zeros(P, dtype=np.float64)
        self.pop_fec_keys = np.zeros((P, self._record_width), dtype=np.uint64)
        self.pop_task_fitness = np.zeros((P, self._record_width), dtype=np.float64)
        self._make_workspace(rows)

    def _make_workspace(self, rows: int) -> None:
        m = self.memory
        span = max(m.scalars, m.vectors, max(m.matrices, 1))
        # (the interpreter is attached at the first kernel call: `_compile`)
        self.ws = KL.workspace(rows, span, len(self.tasks), self.features, m.scalars, m.vectors,
                              m.matrices, self._max_epochs, self._trace_len, self._matrix_ops,
                              entry=False, tournament_size=self.config.tournament_size)  # fmt: skip

    def _admit(self, code: np.ndarray) -> None:
        """Make the workspace's interpreter run programs with op codes code[..., 0]."""
        if not self._matrix_ops and uses_matrix_ops(code[..., 0]):
            self._matrix_ops = True
            self._make_workspace(int(self.ip[KL.IP_ROWS]))

    def _grow(self, rows: int) -> None:
        old = self.ip[KL.IP_ROWS]
        if rows <= old:
            return
        code = np.zeros((self.P, rows, 4), dtype=np.int32)
        data = np.zeros((self.P, rows, 4), dtype=np.float64)
        code[:, :old] = self.pop_code
        data[:, :old] = self.pop_data
        self.pop_code, self.pop_data = code, data
        self.ip[KL.IP_ROWS] = rows
        self._make_workspace(rows)

    def _reset_state(self, seed: int) -> None:
        self.seed = int(seed) & MASK64
        self.rng = new_state(self.seed)
        self.istate = np.zeros(2, dtype=np.int64)
        self.counters = np.zeros(KL.NUM_COUNTERS, dtype=np.int64)
        fec = self.config.fec
        size, forget = (fec.cache_size, fec.forget_every) if fec else _DEFAULT_CACHE
        self.dc = lru_new(size, forget) if self.config.dedup else lru_new(1, 0)
        self.fc = lru_new(fec.cache_size, fec.forget_every) if fec else lru_new(1, 0)
        self.hs = hurdle_new(self.config.hurdles.window)
        self.initialized = False
        self.elapsed = 0.0  # seconds spent in init/run/immigrate
        self.run_individuals = 0  # individuals made inside run() (for individuals_per_s)
        self.run_seconds = 0.0

    _nofit = np.zeros(0)
    _none = (
        np.zeros((0, 1, 4), dtype=np.int32),
        np.zeros((0, 1, 4), dtype=np.float64),
        np.zeros((0, 3), dtype=np.int64),
    )

    @property
    def pop(self) -> tuple:
        return (self.pop_code, self.pop_data, self.pop_sizes, self.fitness, self.pop_fec_keys,
                self.pop_task_fitness)  # fmt: skip

    def _no_records(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """FEC records of k candidates that carry none (keys 0: nothing enters the cache)."""
        w = self._record_width
        return np.zeros((k, w), dtype=np.uint64), np.zeros((k, w), dtype=np.float64)

    @property
    def st(self) -> tuple:
        return (self.rng, self.istate, self.counters)

    def _args(self) -> tuple:
        return (self.ip, self.fp, self._mt, self.tk, self.dc, self.fc, self.hs, self.st, self.ws,
                self.tier.state)  # fmt: skip

    def _kernel(self, mode: int, n: int, code, data, sizes, fit, records=None) -> int:
        """`kernels.population_kernel`, compiling in between the kernels of the children it
        hands off or switching to the compiled tier's state (see its docstring); returns what
        its last call returns, plus in MODE_EVOLVE the children made before each hand-off."""
        hand = self.tier.state.hand
        records = records if records is not None else self._no_records(sizes.shape[0])
        if not machine_attached(self.ws.machine):
            self._compile((mode, n, code, data, sizes, fit, records, self.pop, *self._args()))
        made = 0
        while True:
            done = K.population_kernel(mode, n, code, data, sizes, fit, records, self.pop,
                                       *self._args())  # fmt: skip
            if hand[KL.HAND_PENDING] == 0:
                return made + done
            if hand[KL.HAND_UPGRADE] != 0:
                self.tier.upgrade()
            else:
                self.tier.compile_pending(self.ws)
            hand[KL.HAND_PENDING] = 0
            hand[KL.HAND_RESUME] = 1
            if mode == K.MODE_EVOLVE:
                made += done
                n -= done
            else:
                hand[KL.HAND_BASE] = done

    def _compile(self, args: tuple) -> None:
        """Compile (or load) the search kernel for `args` and the interpreter it calls, at the
        same time where neither is in numba's cache: the interpreter in a helper process
        (`interp_machine.prefetch_machine`), the kernel partly in another
        (`kernel_compile.compile_kernel`), so a cold start keeps two cores busy."""
        helpers = helpers_allowed()
        if helpers:
            prefetch_machine(self.features, self._matrix_ops)
        compile_kernel(args, helpers)
        attach_machine(self.ws.machine, self.features, self._matrix_ops)

    # -- the reference's Init / Run ---------------------------------------------------------
    def init(self) -> dict:
        """Fill every slot with the initial model (randomised for 'random'), Mutate(0),
        evaluate (reference Init). Returns stats()."""
        t0 = time.perf_counter()
        code, data, sizes = program_rows(self.template, int(self.ip[KL.IP_ROWS]))
        randomize = int(self.config.initial_population == "random")
        self._kernel(K.MODE_INIT, randomize, code[None], data[None], sizes[None], self._nofit)
        self.initialized = True
        self.elapsed += time.perf_counter() - t0
        return self.stats()

    def run(
        self,
        *,
        max_train_steps: int | None = None,
        max_individuals: int | None = None,
        deadline: float | None = None,
        on_progress: Callable[[dict], Any] | None = None,
    ) -> dict:
        """Evolve in whole sweeps of P children until a limit is reached (reference Run).

        Limits count from the start of this call: training steps (FEC fingerprints included),
        individuals, and `deadline` (a `time.perf_counter()` value). Each is checked only
        between sweeps, so a run can overshoot by up to one sweep. At least one limit is
        required. `on_progress(stats)` is called after every sweep. Returns stats().
        """
        if not self.initialized:
            raise RuntimeError("call init() (or set_state) before run()")
        if max_train_steps is None and max_individuals is None and deadline is None:
            raise ValueError("run() needs max_train_steps, max_individuals or deadline")
        steps0 = int(self.counters[KL.C_STEPS])
        indiv0 = int(self.counters[KL.C_INDIVIDUALS])
        while True:
            steps = self.counters[KL.C_STEPS] - steps0
            if max_train_steps is not None and steps >= max_train_steps:
                break
            if (
                max_individuals is not None
                and self.counters[KL.C_INDIVIDUALS] - indiv0 >= max_individuals
            ):
                break
            if deadline is not None and time.perf_counter() >= deadline:
                break
            self.sweep()
            if on_progress is not None:
                on_progress(self.stats())
        return self.stats()

    def sweep(self) -> None:
        """One full sweep: P children, each replacing the oldest individual."""
        t0 = time.perf_counter()
        remaining = self.P
        while remaining > 0:
            done = self._kernel(K.MODE_EVOLVE, remaining, *self._none, self._nofit)
            remaining -= done
            if remaining > 0:
                self._grow(2 * int(self.ip[KL.IP_ROWS]))
        dt = time.perf_counter() - t0
        self.elapsed += dt
        self.run_seconds += dt
        self.run_individuals += self.P

    # -- results ----------------------------------------------------------------------------
    def program(self, slot: int) -> Program:
        return rows_program(self.pop_code[slot], self.pop_data[slot], self.pop_sizes[slot])

    def population_programs(self) -> list[Program]:
        """The programs of slots 0..P-1."""
        return [self.program(i) for i in range(self.P)]

    def best(self) -> tuple[Program, float]:
        """The first individual with the maximal fitness, and that fitness."""
        i = int(np.argmax(self.fitness))
        return self.program(i), float(self.fitness[i])

    def stats(self) -> dict:
        """Counters and population statistics (stdev = sqrt(max(0, E[f^2] - mean^2)))."""
        out = {name: int(self.counters[i]) for i, name in enumerate(KL.COUNTER_NAMES)}
        f = self.fitness
        mean = float(np.mean(f))
        out["mean_fitness"] = mean
        out["stdev_fitness"] = math.sqrt(max(0.0, float(np.mean(f * f)) - mean * mean))
        out["best_fitness"] = float(np.max(f))
        out["individuals_per_s"] = (
            self.run_individuals / self.run_seconds if self.run_seconds > 0 else 0.0
        )
        out["elapsed"] = self.elapsed
        out["population_size"] = self.P
        out["dedup_cache_entries"] = int(self.dc[0][2])
        out["fec_cache_entries"] = int(self.fc[0][2])
        out["hurdle_threshold"] = float(self.hs[2][0]) if self.config.hurdles.enabled else None
        out["backend"] = self.backend
        out.update(self.tier.stats())
        return out

    # -- evaluation of given programs ---------------------------------------------------------
    def _rows_of(self, programs: Sequence[Program]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        longest = max((len(p) for p in programs), default=0)
        if longest + 2 > self.ip[KL.IP_ROWS]:
            self._grow(max(longest + 2, 2 * int(self.ip[KL.IP_ROWS])))
        rows = int(self.ip[KL.IP_ROWS])
        k = len(programs)
        code = np.zeros((k, rows, 4), dtype=np.int32)
        data = np.zeros((k, rows, 4), dtype=np.float64)
        sizes = np.zeros((k, 3), dtype=np.int64)
        for j, p in enumerate(programs):
            if not isinstance(p, Program):
                raise ProgramError(f"expected a Program, got {type(p).__name__}")
            p.check_fits(self.memory)
            n = len(p)
            code[j, :n] = p.code
            data[j, :n] = p.data
            sizes[j] = p.sizes()
        return code, data, sizes

    def evaluate(self, programs: Program | Sequence[Program]) -> np.ndarray | float:
        """Search fitness of programs as the search computes it (budget, dedup, FEC, hurdles;
        caches, counters and the stream advance as for a child)."""
        single = isinstance(programs, Program)
        progs = [programs] if single else list(programs)
        code, data, sizes = self._rows_of(progs)
        self._admit(code)
        out = np.zeros(len(progs))
        self._kernel(K.MODE_EVALUATE, 0, code, data, sizes, out)
        return float(out[0]) if single else out

    # -- migration ----------------------------------------------------------------------------
    def _emigrant_slots(self, k: int, rng: Any) -> list[int]:
        k = int(k)
        if not 0 <= k <= self.P:
            raise ValueError(f"cannot send {k} emigrants from a population of {self.P}")
        if isinstance(rng, np.random.Generator):
            return [int(i) for i in rng.choice(self.P, size=k, replace=False)]
        gen = rng if isinstance(rng, SplitMix64) else SplitMix64(int(rng or 0))
        pool = list(range(self.P))
        idx = []
        for j in range(k):  # partial Fisher-Yates
            r = j + gen.next_u64() % (self.P - j)
            pool[j], pool[r] = pool[r], pool[j]
            idx.append(pool[j])
        return idx

    def emigrants(self, k: int, rng: Any = None) -> list[Program]:
        """k distinct individuals chosen uniformly at random (the population is unchanged).

        `rng`: an `amlz_compile.rng.SplitMix64`, a `numpy.random.Generator` or an int seed.
        """
        return [self.program(i) for i in self._emigrant_slots(k, rng)]

    def emigrant_rows(self, k: int, rng: Any = None) -> tuple[np.ndarray, ...]:
        """The same individuals as `emigrants`, as row arrays with their fitnesses and FEC
        records (code int32[k, L, 4], data float64[k, L, 4], sizes int64[k, 3], fitness
        float64[k], FEC keys uint64[k, T] and task fitnesses float64[k, T], L the longest
        program, T the task count): what migration sends between processes (arrays pickle and
        load far faster than Programs)."""
        idx = self._emigrant_slots(k, rng)
        sizes = self.pop_sizes[idx].copy()
        L = max(int(sizes.sum(axis=1).max()) if len(idx) else 0, 1)
        return (
            self.pop_code[idx, :L].copy(),
            self.pop_data[idx, :L].copy(),
            sizes,
            self.fitness[idx].copy(),
            self.pop_fec_keys[idx].copy(),
            self.pop_task_fitness[idx].copy(),
        )

    def immigrate_rows(
        self,
        code: np.ndarray,
        data: np.ndarray,
        sizes: np.ndarray,
        fitness: np.ndarray | None = None,
        fec_keys: np.ndarray | None = None,
        task_fitness: np.ndarray | None = None,
    ) -> np.ndarray:
        """`immigrate` of individuals given as `emigrant_rows` of a population with this
        population's config and tasks: with their `fitness` when given (islands share their
        search tasks, so a migrant keeps the fitness it earned), else evaluated here. Their FEC
        records (`fec_keys`, `task_fitness`), when given with the fitness, enter this
        population's FEC cache, as if it had evaluated them: a migrant's descendants that
        compute the same function hit the cache. Returns the fitnesses."""
        k = int(sizes.shape[0])
        if k == 0:
            return np.zeros(0)
        if k > self.P:
            raise ValueError(f"{k} immigrants exceed the population size {self.P}")
        t0 = time.perf_counter()
        longest = int(sizes.sum(axis=1).max())
        if longest + 2 > self.ip[KL.IP_ROWS]:
            self._grow(max(longest + 2, 2 * int(self.ip[KL.IP_ROWS])))
        rows = int(self.ip[KL.IP_ROWS])
        L = min(code.shape[1], rows)
        c = np.zeros((k, rows, 4), dtype=np.int32)
        d = np.zeros((k, rows, 4), dtype=np.float64)
        c[:, :L] = code[:, :L]
        d[:, :L] = data[:, :L]
        self._admit(c)
        if fitness is None:
            fit, evaluate = np.zeros(k), 1
        else:
            fit, evaluate = np.array(fitness, dtype=np.float64), 0
            if fit.shape != (k,):
                raise ValueError("fitness must match the immigrants one to one")
        records = self._no_records(k)
        if fec_keys is not None and task_fitness is not None and fitness is not None:
            shape = records[0].shape
            if np.shape(fec_keys) != shape or np.shape(task_fitness) != shape:
                raise ValueError(f"FEC records must have shape {shape} (immigrants x tasks)")
            records = (np.array(fec_keys, dtype=np.uint64), np.array(task_fitness, dtype=float))
        self._kernel(K.MODE_PLACE, evaluate, c, d, np.ascontiguousarray(sizes, dtype=np.int64), fit,
                     records)  # fmt: skip
        self.elapsed += time.perf_counter() - t0
        return fit

    def immigrate(
        self,
        programs: Sequence[Program],
        fitnesses: Sequence[float] | None = None,
        fec_keys: np.ndarray | None = None,
        task_fitness: np.ndarray | None = None,
    ) -> np.ndarray:
        """Replace the oldest individuals with `programs` (they become the youngest).

        Without `fitnesses` they are evaluated on this population's tasks; with them, their
        FEC records may come too (see `immigrate_rows`). Returns their fitnesses.
        """
        progs = list(programs)
        if not progs:
            return np.zeros(0)
        if len(progs) > self.P:
            raise ValueError(f"{len(progs)} immigrants exceed the population size {self.P}")
        code, data, sizes = self._rows_of(progs)
        return self.immigrate_rows(code, data, sizes, fitnesses, fec_keys, task_fitness)

    # -- exact resume -----------------------------------------------------------------------
    def get_state(self) -> dict:
        """Everything needed to continue bit-exactly: numpy arrays and plain numbers only."""
        s: dict[str, Any] = {
            "version": STATE_VERSION,
            "seed": np.uint64(self.seed),
            "initialized": int(self.initialized),
            "elapsed": float(self.elapsed),
            "run_individuals": int(self.run_individuals),
            "run_seconds": float(self.run_seconds),
            "rows": int(self.ip[KL.IP_ROWS]),
            "pop_code": self.pop_code.copy(),
            "pop_data": self.pop_data.copy(),
            "pop_sizes": self.pop_sizes.copy(),
            "fitness": self.fitness.copy(),
            "pop_fec_keys": self.pop_fec_keys.copy(),
            "pop_task_fitness": self.pop_task_fitness.copy(),
            "rng": self.rng.copy(),
            "istate": self.istate.copy(),
            "counters": self.counters.copy(),
            "hurdle_hist": self.hs[0].copy(),
            "hurdle_meta": self.hs[1].copy(),
            "hurdle_thr": self.hs[2].copy(),
        }
        for prefix, cache in (("dedup", self.dc), ("fec", self.fc)):
            for name, arr in zip(LRU_FIELDS, cache, strict=True):
                s[f"{prefix}_{name}"] = arr.copy()
        return s

    def set_state(self, state: dict) -> None:
        """Restore a state from `get_state` (of a population with the same config and tasks)."""
        check_scalars(state)
        version = int(np.asarray(state["version"]))
        if version != STATE_VERSION:
            raise CheckpointError(f"evolution state version {version}, expected {STATE_VERSION}")
        fit = np.asarray(state["fitness"])
        if fit.shape != (self.P,):
            raise CheckpointError(
                f"state has population size {fit.shape[0] if fit.ndim else fit}, "
                f"this config has {self.P}"
            )
        rows = check_population(state, self.P, self.memory)
        check_search_state(state, self.get_state(), self.P, rows)
        self._alloc(rows)
        self.pop_code[:] = state["pop_code"]
        self._admit(self.pop_code)
        self.pop_data[:] = state["pop_data"]
        self.pop_sizes[:] = state["pop_sizes"]
        self.fitness[:] = fit
        if "pop_fec_keys" in state:  # (states written before FEC records: none known)
            self.pop_fec_keys[:], self.pop_task_fitness[:] = check_records(
                state, self.P, self._record_width
            )
        self.seed = int(np.asarray(state["seed"]))
        self.rng = np.array(state["rng"], dtype=np.uint64).reshape(1)
        self.istate = np.array(state["istate"], dtype=np.int64)
        self.counters = np.array(state["counters"], dtype=np.int64)
        self.hs = hurdle_restore(state["hurdle_hist"], state["hurdle_meta"], state["hurdle_thr"])
        caches = []
        for prefix in ("dedup", "fec"):
            caches.append(tuple(np.array(state[f"{prefix}_{n}"]) for n in LRU_FIELDS))
        self.dc, self.fc = caches
        self.initialized = bool(int(np.asarray(state["initialized"])))
        self.elapsed = float(np.asarray(state["elapsed"]))
        self.run_individuals = int(np.asarray(state["run_individuals"]))
        self.run_seconds = float(np.asarray(state["run_seconds"]))


def _component_ops(program: Program) -> list[np.ndarray]:
    """The ops of each component of a program."""
    b = program.bounds
    return [program.code[b[c] : b[c + 1], 0] for c in range(3)]


def _size_bounds(config: SearchConfig, template: Program) -> list[int | None]:
    """The largest size each component of this search's children can reach (None: no limit):
    only INSERT_INSTRUCTION grows a component, up to its size_max - 1 (0: unlimited)."""
    grows = INSERT_INSTRUCTION in config.mutation_numbers
    bounds: list[int | None] = []
    for init, size, most in zip(config.init_sizes, template.sizes(), config.size_max, strict=True):
        if grows and most <= 0:
            bounds.append(None)
        else:
            bounds.append(max(init, size, most - 1 if grows else 0))
    return bounds
