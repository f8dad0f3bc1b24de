"""`simplify_arrays` (defined in `simplify`) at the path `search.warm_up` imports it from: the
warm-up asks its cache entry whether numba's cache already holds the passes."""

from .simplify import simplify_arrays

__all__ = ["simplify_arrays"]
