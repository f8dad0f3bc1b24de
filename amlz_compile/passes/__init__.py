"""IR -> IR passes, each behaviour-preserving: liveness/DCE, constant folding, canonical form.

See `liveness` for the control flow analysed and how the random generator stream is respected.
Each module holds its analysis's compiled (numba) code and its Python face; `arrays` the flat
arrays they share, `simplify` the pipeline that runs them all in one compiled call. numba's
on-disk cache is keyed by the defining file only and a cached function holds its callees from
other modules compiled in, so after editing compiled code delete the cache files (*.nbi, *.nbc).
"""

from .canon import canonical_arrays, canonicalize
from .dce import eliminate_dead_code
from .fold import constant_values, fold_constants
from .liveness import live_in, live_mask
from .simplify import (
    KEY_VERSION,
    SimplifyResult,
    canonical_key,
    canonical_key_arrays,
    simplify,
    simplify_program,
)

__all__ = [
    "KEY_VERSION",
    "SimplifyResult",
    "canonical_arrays",
    "canonical_key",
    "canonical_key_arrays",
    "canonicalize",
    "constant_values",
    "eliminate_dead_code",
    "fold_constants",
    "live_in",
    "live_mask",
    "simplify",
    "simplify_program",
]
