"""Search: regularized evolution with every reference mutation, structural dedup, FEC, hurdles
and the train budget (hot loop compiled by numba), plus the experiment flow built on it."""

from .config import (
    MUTATION_TYPES,
    ConfigError,
    FECConfig,
    HurdleConfig,
    SearchConfig,
    TrainBudgetConfig,
    demo_config,
)

__all__ = [
    "MUTATION_TYPES",
    "ConfigError",
    "FECConfig",
    "HurdleConfig",
    "RegularizedEvolution",
    "SearchConfig",
    "TrainBudgetConfig",
    "demo_config",
    "mutate",
]


def __getattr__(name: str):
    # Lazy: importing the compiled kernels costs start-up time the CLI should not pay eagerly.
    if name == "RegularizedEvolution":
        from .evolution import RegularizedEvolution

        return RegularizedEvolution
    if name == "mutate":
        from .mutate import mutate

        return mutate
    raise AttributeError(name)
