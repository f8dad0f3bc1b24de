"""The pipeline's compiled entry point under the name `search.warm_up` looks up (to tell whether
numba's cache holds the passes): `simplify_arrays`, defined in `simplify`."""

from .simplify import simplify_arrays

__all__ = ["simplify_arrays"]
