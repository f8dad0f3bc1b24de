"""IR -> IR passes, each behaviour-preserving: liveness/DCE, constant folding, canonical form.

See `liveness` for the control flow analysed and how the random generator stream is respected.
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
