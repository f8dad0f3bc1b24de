"""amlz-compile: AutoML-Zero algorithms as an IR that is simplified, JIT-compiled and exported.

The search estimators are loaded on first use (`amlz_compile.AlgorithmSearchRegressor`), so
importing the package stays light: numba and llvmlite load only when a search runs.
"""

from typing import Any

__version__ = "0.1.0"

__all__ = ["AlgorithmSearchClassifier", "AlgorithmSearchRegressor", "__version__"]
_ESTIMATORS = ("AlgorithmSearchRegressor", "AlgorithmSearchClassifier")


def __getattr__(name: str) -> Any:
    """The search estimators, imported from `amlz_compile.estimators` when first asked for."""
    if name in _ESTIMATORS:
        from . import estimators

        return getattr(estimators, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
