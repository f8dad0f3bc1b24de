"""amlz-compile: AutoML-Zero algorithms as an IR that is simplified, JIT-compiled and exported.

The search estimators are loaded on first use (`amlz_compile.AlgorithmSearchRegressor`), so
importing the package stays light: numba and llvmlite load only when a search runs.
"""

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "AlgorithmSearchRegressor": "estimators",
    "AlgorithmSearchClassifier": "estimators",
}
__all__ = ["AlgorithmSearchClassifier", "AlgorithmSearchRegressor", "__version__"]


def __getattr__(name: str) -> Any:
    """The search estimators, imported when first asked for."""
    if name in _LAZY:
        import importlib

        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
