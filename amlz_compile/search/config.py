"""The search experiment's configuration (docs/semantics.md#experiment-driver), plus the paper
features the reference left out (hurdles, structural dedup) and the memory size.

`SearchConfig.from_dict` accepts the JSON form written by `to_dict` (op lists as numbers or op
names, mutation types as names or reference numbers) and raises `ConfigError` naming any unknown
key or bad value.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from ..errors import AmlzError
from ..fitness import COMBINATIONS, MEAN
from ..ir.ops import NUM_OPS, op_by_name
from ..ir.program import ADDRESS_LIMIT, MemorySpec
from ..limits import BYTES_PER_VALUE


class ConfigError(AmlzError, ValueError):
    """A search configuration that cannot be used: unknown key, bad value, inconsistent sizes."""


# Mutation types: reference enum numbers (docs/semantics.md#mutations) and config names.
MUTATION_TYPES = (
    "alter_param",
    "randomize_instruction",
    "randomize_component_function",
    "identity",
    "insert_instruction",
    "remove_instruction",
    "trade_instruction",
    "randomize_algorithm",
)
ALTER_PARAM, RANDOMIZE_INSTRUCTION, RANDOMIZE_COMPONENT_FUNCTION, IDENTITY = 0, 1, 2, 3
INSERT_INSTRUCTION, REMOVE_INSTRUCTION, TRADE_INSTRUCTION, RANDOMIZE_ALGORITHM = 4, 5, 6, 7

BYTES_PER_INSTRUCTION = 600  # peak memory per initial instruction (see estimated_bytes)
INITIAL_POPULATIONS = ("no_op", "random", "linear", "neural_net", "damaged_neural_net")
BACKENDS = ("interp", "jit", "auto")
BUDGET_BASELINES = ("no_op", "linear", "neural_net", "damaged_neural_net")

# The demo's mutation list (run_demo.sh).
DEMO_MUTATIONS = ("alter_param", "randomize_instruction", "randomize_component_function")


def mutation_number(value: Any) -> int:
    """Reference number (0-7) of a mutation type given by name (any case, optional `_mutation`
    suffix as in the C++ enum) or by number."""
    if isinstance(value, bool):
        raise ConfigError(f"bad mutation type {value!r}")
    if isinstance(value, int):
        if 0 <= value < len(MUTATION_TYPES):
            return value
        raise ConfigError(f"mutation type number {value} outside 0-{len(MUTATION_TYPES) - 1}")
    if isinstance(value, str):
        key = value.strip().lower()
        if key.endswith("_mutation_type"):
            key = key[: -len("_mutation_type")]
        if key.endswith("_mutation"):
            key = key[: -len("_mutation")]
        if key in MUTATION_TYPES:
            return MUTATION_TYPES.index(key)
        raise ConfigError(f"unknown mutation type {value!r} (valid: {', '.join(MUTATION_TYPES)})")
    raise ConfigError(f"bad mutation type {value!r}")


def op_number(value: Any) -> int:
    """Op number from a number or an op name (`VECTOR_SUM_OP`, `vector_sum`, ...)."""
    if isinstance(value, bool):
        raise ConfigError(f"bad op {value!r}")
    if isinstance(value, int):
        if 0 <= value < NUM_OPS:
            return value
        raise ConfigError(f"op number {value} outside 0-{NUM_OPS - 1}")
    if isinstance(value, str):
        try:
            return int(op_by_name(value))
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    raise ConfigError(f"bad op {value!r}")


def _check_keys(section: str, given: dict, cls) -> None:
    valid = [f.name for f in dataclasses.fields(cls)]
    for key in given:
        if key not in valid:
            raise ConfigError(
                f"unknown key {key!r} in {section} (valid keys: {', '.join(sorted(valid))})"
            )


def _int(section: str, name: str, value: Any, lo: int | None = None) -> int:
    whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not whole:  # inf and nan are not whole numbers
        raise ConfigError(f"{section}.{name} must be an integer, got {value!r}")
    value = int(value)
    if lo is not None and value < lo:
        raise ConfigError(f"{section}.{name} must be >= {lo}, got {value}")
    return value


def _float(section: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ConfigError(f"{section}.{name} must be a number, got {value!r}")
    return float(value)


def positive_limit(name: str, value: Any, *, integer: bool = False) -> float | int | None:
    """A run limit (seconds, counts): None, or a finite number > 0 (an integer if asked)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value) or not value > 0:
        raise ConfigError(f"{name} must be a finite number > 0, got {value!r}")
    if integer:
        if int(value) != value:
            raise ConfigError(f"{name} must be a whole number, got {value!r}")
        return int(value)
    return float(value)


@dataclass(frozen=True)
class FECConfig:
    """Functional-equivalence cache (docs/semantics.md#functional-equivalence-cache):
    fingerprint on the first examples, LRU."""

    num_train_examples: int = 10
    num_valid_examples: int = 10
    cache_size: int = 100000
    forget_every: int = 100

    def __post_init__(self) -> None:
        s = "fec"
        n = _int(s, "num_train_examples", self.num_train_examples, 1)
        v = _int(s, "num_valid_examples", self.num_valid_examples, 1)
        if n > 100 or v > 100:
            raise ConfigError("fec.num_train_examples and fec.num_valid_examples must be <= 100")
        c = _int(s, "cache_size", self.cache_size, 2)
        f = _int(s, "forget_every", self.forget_every, 0)
        if f == 1:
            raise ConfigError("fec.forget_every must be 0 (never) or > 1, got 1")
        for k, val in (("num_train_examples", n), ("num_valid_examples", v), ("cache_size", c),
                       ("forget_every", f)):  # fmt: skip
            object.__setattr__(self, k, val)


@dataclass(frozen=True)
class TrainBudgetConfig:
    """Compute-cost budget (docs/semantics.md#train-budget): train on all examples or on none."""

    baseline: str = "neural_net"
    threshold_factor: float = 2.0

    def __post_init__(self) -> None:
        if self.baseline not in BUDGET_BASELINES:
            raise ConfigError(
                f"train_budget.baseline must be one of {BUDGET_BASELINES}, got {self.baseline!r}"
            )
        f = _float("train_budget", "threshold_factor", self.threshold_factor)
        if not f > 0:
            raise ConfigError(f"train_budget.threshold_factor must be > 0, got {f}")
        object.__setattr__(self, "threshold_factor", f)


@dataclass(frozen=True)
class HurdleConfig:
    """Paper hurdles (not in the reference code): evaluate the first `num_tasks` tasks first and
    continue only when their fitness reaches the `percentile` of the last `window` such values."""

    enabled: bool = False
    percentile: float = 75.0
    num_tasks: int = 1
    window: int = 100

    def __post_init__(self) -> None:
        if not isinstance(self.enabled, bool):
            raise ConfigError(f"hurdles.enabled must be true or false, got {self.enabled!r}")
        p = _float("hurdles", "percentile", self.percentile)
        if not 0.0 <= p <= 100.0:
            raise ConfigError(f"hurdles.percentile must be in [0, 100], got {p}")
        object.__setattr__(self, "percentile", p)
        object.__setattr__(self, "num_tasks", _int("hurdles", "num_tasks", self.num_tasks, 1))
        object.__setattr__(self, "window", _int("hurdles", "window", self.window, 1))


MEMORY_FIELDS = ("scalars", "vectors", "matrices")  # the config's memory section (F: tasks)
_DEFAULT_MEMORY = MemorySpec()


def memory_section(value: Any) -> MemorySpec:
    """The config's `memory` (a mapping of address counts, or a MemorySpec) as a MemorySpec;
    the feature size comes from the search tasks (`MemorySpec.with_features`)."""
    if isinstance(value, MemorySpec):
        value = {name: getattr(value, name) for name in MEMORY_FIELDS}
    if not isinstance(value, dict):
        raise ConfigError(f"memory must be a mapping, got {value!r}")
    for key in value:
        if key not in MEMORY_FIELDS:
            raise ConfigError(
                f"unknown key {key!r} in memory (valid keys: {', '.join(sorted(MEMORY_FIELDS))})"
            )
    counts = {}
    for name, lo in (("scalars", 2), ("vectors", 1), ("matrices", 0)):
        count = _int("memory", name, value.get(name, getattr(_DEFAULT_MEMORY, name)), lo)
        if count > ADDRESS_LIMIT:
            raise ConfigError(
                f"memory.{name} must be <= {ADDRESS_LIMIT} (addresses are 16-bit), got {count}"
            )
        counts[name] = count
    return MemorySpec(**counts)


_SECTIONS = {
    "fec": FECConfig,
    "train_budget": TrainBudgetConfig,
    "hurdles": HurdleConfig,
}


@dataclass(frozen=True)
class SearchConfig:
    """Every field of the reference `SearchExperimentSpec` plus our additions
    (docs/semantics.md#experiment-driver).

    Op lists are tuples of op numbers (an empty list: that component is never mutated nor
    randomised). Size limits follow the reference exactly: insertion only while size < max - 1,
    max = 0 means unlimited; removal stops at min. `search_tasks` holds task specs as dicts (see
    `amlz_compile.tasks.spec.TaskSpec.from_dict`).
    """

    setup_ops: tuple[int, ...] = ()
    predict_ops: tuple[int, ...] = ()
    learn_ops: tuple[int, ...] = ()
    setup_size_init: int = 0
    predict_size_init: int = 0
    learn_size_init: int = 0
    mutate_setup_size_min: int = 0
    mutate_setup_size_max: int = 0
    mutate_predict_size_min: int = 0
    mutate_predict_size_max: int = 0
    mutate_learn_size_min: int = 0
    mutate_learn_size_max: int = 0
    initial_population: str = "no_op"
    initial_program: dict | None = None  # a program document (ir.serialize) to start from
    population_size: int = 100
    tournament_size: int = 10
    mutate_prob: float = 0.9
    allowed_mutation_types: tuple[str, ...] = DEMO_MUTATIONS
    max_train_steps: int = 80_000_000_000
    max_abs_error: float = 100.0
    fitness_combination: str = MEAN
    fec: FECConfig | None = None
    train_budget: TrainBudgetConfig | None = None
    hurdles: HurdleConfig = field(default_factory=HurdleConfig)
    memory: MemorySpec = field(default_factory=MemorySpec)  # address counts; F: the tasks
    search_tasks: tuple[dict, ...] = ()
    dedup: bool = True
    backend: str = "auto"  # where full evaluations run: interp, jit or auto (search/jit_tier.py)
    progress_every: int = 10000

    def __post_init__(self) -> None:
        s = "config"
        for name in ("setup_ops", "predict_ops", "learn_ops"):
            value = getattr(self, name)
            if not isinstance(value, list | tuple):
                raise ConfigError(f"{name} must be a list of ops, got {value!r}")
            object.__setattr__(self, name, tuple(op_number(v) for v in value))
        for name in (
            "setup_size_init", "predict_size_init", "learn_size_init",
            "mutate_setup_size_min", "mutate_setup_size_max", "mutate_predict_size_min",
            "mutate_predict_size_max", "mutate_learn_size_min", "mutate_learn_size_max",
        ):  # fmt: skip
            object.__setattr__(self, name, _int(s, name, getattr(self, name), 0))
            if getattr(self, name) > 65535:
                raise ConfigError(f"{name} must be <= 65535 (the reference stores it as uint16)")
        if self.initial_population not in INITIAL_POPULATIONS:
            raise ConfigError(
                f"initial_population must be one of {INITIAL_POPULATIONS}, "
                f"got {self.initial_population!r}"
            )
        if self.initial_program is not None:
            self._check_initial_program()
        object.__setattr__(self, "population_size", _int(s, "population_size",
                                                         self.population_size, 1))  # fmt: skip
        object.__setattr__(self, "tournament_size", _int(s, "tournament_size",
                                                         self.tournament_size, 1))  # fmt: skip
        if self.tournament_size > self.population_size:
            raise ConfigError(
                f"tournament_size ({self.tournament_size}) must not exceed population_size "
                f"({self.population_size})"
            )
        mp = _float(s, "mutate_prob", self.mutate_prob)
        if not 0.0 <= mp <= 1.0:
            raise ConfigError(f"mutate_prob must be in [0, 1], got {mp}")
        object.__setattr__(self, "mutate_prob", mp)
        muts = self.allowed_mutation_types
        if not isinstance(muts, list | tuple):
            raise ConfigError(f"allowed_mutation_types must be a list, got {muts!r}")
        muts = tuple(MUTATION_TYPES[mutation_number(m)] for m in muts)
        if not muts:
            raise ConfigError("allowed_mutation_types must not be empty")
        object.__setattr__(self, "allowed_mutation_types", muts)
        object.__setattr__(self, "max_train_steps", _int(s, "max_train_steps",
                                                         self.max_train_steps, 0))  # fmt: skip
        mae = _float(s, "max_abs_error", self.max_abs_error)
        if not mae > 0:
            raise ConfigError(f"max_abs_error must be > 0 (inf: never stop early), got {mae}")
        object.__setattr__(self, "max_abs_error", mae)
        if self.fitness_combination not in COMBINATIONS:
            raise ConfigError(
                f"fitness_combination must be one of {COMBINATIONS}, "
                f"got {self.fitness_combination!r}"
            )
        for name, cls in _SECTIONS.items():
            value = getattr(self, name)
            if isinstance(value, dict):
                _check_keys(name, value, cls)
                object.__setattr__(self, name, cls(**value))
            elif value is None and name in ("fec", "train_budget"):
                pass
            elif not isinstance(value, cls):
                raise ConfigError(f"{name} must be a mapping, got {value!r}")
        object.__setattr__(self, "memory", memory_section(self.memory))
        tasks = self.search_tasks
        if isinstance(tasks, dict):
            tasks = (tasks,)
        if not isinstance(tasks, list | tuple):
            raise ConfigError(f"search_tasks must be a list of task specs, got {tasks!r}")
        out = []
        for t in tasks:
            if isinstance(t, dict):
                out.append(dict(t))
            elif hasattr(t, "to_dict"):
                out.append(t.to_dict())
            else:
                raise ConfigError(f"search_tasks entries must be task specs (mappings), got {t!r}")
        object.__setattr__(self, "search_tasks", tuple(out))
        if not isinstance(self.dedup, bool):
            raise ConfigError(f"dedup must be true or false, got {self.dedup!r}")
        if self.backend not in BACKENDS:
            raise ConfigError(f"backend must be one of {BACKENDS}, got {self.backend!r}")
        object.__setattr__(self, "progress_every", _int(s, "progress_every",
                                                        self.progress_every, 0))  # fmt: skip
        self._check_consistency()

    def _check_initial_program(self) -> None:
        """`initial_program` is a program document; every individual starts as that program
        (padded with no-ops to the init sizes), in place of a built-in initial population."""
        from ..errors import AmlzError
        from ..ir.serialize import program_from_dict, program_to_dict

        if self.initial_population == "random":
            raise ConfigError(
                "initial_program replaces the initial population; it cannot be combined with "
                "initial_population 'random'"
            )
        try:
            program = program_from_dict(self.initial_program)
        except AmlzError as exc:
            raise ConfigError(f"initial_program is not a program document: {exc}") from None
        object.__setattr__(self, "initial_program", program_to_dict(program))

    def _check_consistency(self) -> None:
        ops = (self.setup_ops, self.predict_ops, self.learn_ops)
        inits = self.init_sizes
        if self.initial_population == "random":
            for name, o, n in zip(("setup", "predict", "learn"), ops, inits, strict=True):
                if n > 0 and not o:
                    raise ConfigError(
                        f"initial_population 'random' needs {name}_ops (its init size is {n})"
                    )
        needs_cf = set(self.mutation_numbers) - {IDENTITY, RANDOMIZE_ALGORITHM}
        if needs_cf and not any(ops):
            raise ConfigError(
                "every op list is empty, so no component function can be mutated "
                f"(mutation types {list(self.allowed_mutation_types)})"
            )
        m = self.memory
        for name, o in zip(("setup_ops", "predict_ops", "learn_ops"), ops, strict=True):
            for op in o:
                from ..ir.ops import MATRIX, OPS, VECTOR

                info = OPS[op]
                kinds = {info.in1, info.in2, info.out} - {None}
                if MATRIX in kinds and m.matrices < 1:
                    raise ConfigError(f"{name} contains {info.name} but memory.matrices is 0")
                if info.out == VECTOR and m.vectors < 2:
                    raise ConfigError(
                        f"{name} contains {info.name}, which writes a vector, but memory.vectors "
                        "is 1 (v0 is reserved for the features)"
                    )

    def estimated_bytes(self) -> int:
        """Bytes one island of this config needs at its peak: its initial programs (about 600
        bytes per instruction, measured: the row arrays plus the transient objects that build
        them, with room to grow) and its caches."""
        rows = sum(self.init_sizes) + 64
        population = self.population_size * rows * BYTES_PER_INSTRUCTION
        caches = 0
        capacity = self.fec.cache_size if self.fec else 100_000
        per_entry = 5 * 8 + 2 * 2 * 8  # key, value, count, prev, next + hash-table slots
        if self.fec:
            caches += capacity * per_entry
        if self.dedup:
            caches += capacity * per_entry
        return population + caches + self.workspace_bytes()

    def workspace_bytes(self) -> int:
        """Bytes of one island that grow with the feature size F of its search tasks: the task
        data, one memory per task for evaluation, and the kernels' scratch (four memories, for
        the interpreter, the compiled tier and the workspace, and two FxF matrices)."""
        from ..tasks.spec import TaskSpec

        specs = [TaskSpec.from_dict(dict(t)) for t in self.search_tasks]
        if not specs:
            return 0
        features = self.features
        memory = self.memory.with_features(features).nbytes
        tasks = sum(spec.num_tasks for spec in specs)
        data = sum(spec.estimated_bytes() for spec in specs)
        return data + (tasks + 4) * memory + 2 * BYTES_PER_VALUE * features * features

    # -- derived views ------------------------------------------------------------------------
    @property
    def features(self) -> int:
        """The largest feature size F of the search tasks (0 without tasks)."""
        from ..tasks.spec import TaskSpec

        return max((TaskSpec.from_dict(dict(t)).features for t in self.search_tasks), default=0)

    @property
    def init_sizes(self) -> tuple[int, int, int]:
        return (self.setup_size_init, self.predict_size_init, self.learn_size_init)

    @property
    def size_min(self) -> tuple[int, int, int]:
        return (self.mutate_setup_size_min, self.mutate_predict_size_min,
                self.mutate_learn_size_min)  # fmt: skip

    @property
    def size_max(self) -> tuple[int, int, int]:
        return (self.mutate_setup_size_max, self.mutate_predict_size_max,
                self.mutate_learn_size_max)  # fmt: skip

    @property
    def ops(self) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        return (self.setup_ops, self.predict_ops, self.learn_ops)

    @property
    def mutation_numbers(self) -> tuple[int, ...]:
        return tuple(MUTATION_TYPES.index(m) for m in self.allowed_mutation_types)

    def replace(self, **changes: Any) -> SearchConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    # -- JSON form --------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """A JSON-able dict that `from_dict` reads back to an equal config."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, MemorySpec):
                value = {name: getattr(value, name) for name in MEMORY_FIELDS}
            elif dataclasses.is_dataclass(value):
                value = dataclasses.asdict(value)
            elif isinstance(value, tuple):
                value = [dict(v) if isinstance(v, dict) else v for v in value]
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, d: dict) -> SearchConfig:
        """Build from a mapping; unknown keys raise ConfigError listing the valid ones."""
        if not isinstance(d, dict):
            raise ConfigError(f"a search config must be a mapping, got {type(d).__name__}")
        _check_keys("search config", d, cls)
        kwargs = dict(d)
        for name in ("setup_ops", "predict_ops", "learn_ops", "allowed_mutation_types",
                     "search_tasks"):  # fmt: skip
            if name in kwargs and isinstance(kwargs[name], list):
                kwargs[name] = tuple(kwargs[name])
        return cls(**kwargs)


def demo_config(**changes: Any) -> SearchConfig:
    """The reference demo (run_demo.sh): 10 linear tasks F=4 100/100, the six demo ops, sizes
    10/2/8, memory 4/3/1, random init, FEC 10/10, P=1000, T=10, mutate_prob 0.9."""
    from ..ir.ops import DEMO_OPS

    base = dict(
        setup_ops=DEMO_OPS,
        predict_ops=DEMO_OPS,
        learn_ops=DEMO_OPS,
        setup_size_init=10,
        predict_size_init=2,
        learn_size_init=8,
        initial_population="random",
        population_size=1000,
        tournament_size=10,
        mutate_prob=0.9,
        allowed_mutation_types=DEMO_MUTATIONS,
        max_train_steps=200_000_000,
        fec=FECConfig(10, 10),
        memory=MemorySpec(4, 3, 1),
        search_tasks=(
            {
                "kind": "linear",
                "features": 4,
                "num_train": 100,
                "num_valid": 100,
                "num_tasks": 10,
                "eval_type": "rms",
            },
        ),
    )
    base.update(changes)
    return SearchConfig(**base)
