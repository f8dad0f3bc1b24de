"""Built-in algorithms, shipped as text files beside this module (`<name>.txt`).

| name                 | what                                               | sizes  | addresses |
|----------------------|----------------------------------------------------|--------|-----------|
| `linear`             | reference LINEAR_ALGORITHM (SGD, lr 0.01)          | 1/1/4  | 4/3/0     |
| `neural_net`         | reference NEURAL_NET_ALGORITHM (lr 0.01, scale 0.1)| 3/5/11 | 5/9/2     |
| `damaged_neural_net` | neural_net minus its two Gaussian initialisations  | 1/5/11 | 5/9/2     |
| `readme_linear`      | the reference README's hand-written regressor      | 1/1/4  | 5/3/0     |
| `figure5_nn`         | the paper's Figure 5 rediscovered network          | 3/3/8  | 4/8/2     |

Sizes are Setup/Predict/Learn instruction counts before padding; addresses are the smallest
scalar/vector/matrix counts the program fits. The reference's enum names (`LINEAR_ALGORITHM`,
`NEURAL_NET_ALGORITHM`, `INTEGRATION_TEST_DAMAGED_NEURAL_NET_ALGORITHM`) are accepted as aliases.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from ..ir.program import NO_OP, MemorySpec, Program, ProgramError
from ..ir.text import parse_program_meta

_ALIASES = {
    "linear_algorithm": "linear",
    "neural_net_algorithm": "neural_net",
    "integration_test_damaged_neural_net_algorithm": "damaged_neural_net",
    "integration_test_damaged_neural_net": "damaged_neural_net",
}


def builtin_names() -> list[str]:
    """Names of the shipped algorithms, sorted."""
    files = resources.files(__name__).iterdir()
    return sorted(f.name[:-4] for f in files if f.name.endswith(".txt"))


def _canonical(name: str) -> str:
    key = name.strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    if key not in builtin_names():
        raise ProgramError(
            f"unknown built-in algorithm {name!r}; known: {', '.join(builtin_names())}"
        )
    return key


def builtin_text(name: str) -> str:
    """The text file of a built-in algorithm, as shipped."""
    return resources.files(__name__).joinpath(f"{_canonical(name)}.txt").read_text("utf-8")


@cache
def _load(key: str) -> tuple[Program, dict[str, Any]]:
    return parse_program_meta(builtin_text(key))


def builtin_meta(name: str) -> dict[str, Any]:
    """The header metadata of a built-in (name, description, source, addresses)."""
    return dict(_load(_canonical(name))[1])


def builtin_memory(name: str, features: int = 4) -> MemorySpec:
    """The smallest memory the built-in fits, with feature size `features`."""
    a = builtin_meta(name)["addresses"]
    return MemorySpec(a["scalars"], a["vectors"], a["matrices"], features)


def load_builtin(name: str) -> Program:
    """A built-in algorithm by name (unpadded; see `padded`)."""
    return _load(_canonical(name))[0]


def padded(program: Program, setup: int = 0, predict: int = 0, learn: int = 0) -> Program:
    """Append NO_OPs until each component has at least the given size; never truncates.

    This is the reference's padding of hard-coded algorithms to the experiment's init sizes.
    """
    targets = {"setup": setup, "predict": predict, "learn": learn}
    parts = {}
    for name, size in targets.items():
        body = program.component(name)
        parts[name] = body + (NO_OP,) * max(0, int(size) - len(body))
    return Program(**parts)


def reference_initial(name: str, setup: int = 0, predict: int = 0, learn: int = 0) -> Program:
    """A built-in padded exactly as the reference's `Generator::ModelByID` pads it.

    Same as `padded` except for `damaged_neural_net`: the reference pads the full neural net
    first and then deletes its first two Setup instructions, so its Setup ends up two NO_OPs
    shorter than `setup` (e.g. init sizes 2/1/4 give Setup = [s3 = 0.01] only).
    """
    key = _canonical(name)
    if key != "damaged_neural_net":
        return padded(load_builtin(key), setup, predict, learn)
    full = padded(load_builtin("neural_net"), setup, predict, learn)
    return full.replace(setup=full.setup[2:])
