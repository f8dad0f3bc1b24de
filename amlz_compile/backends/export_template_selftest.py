# export-begin: part_header
"""The export template, part 3 of 3: the self-test vectors and `self_test`, which re-runs them
through `run_protocol` of `export_template.py` (whose note says how the parts become one
module)."""

from __future__ import annotations

import base64
import sys

import numpy as np

from .export_template import run_protocol

# export-end: part_header


# -- self-test vectors: inputs, and the outputs the amlz interpreter computed at export time ----

SELF_TESTS = []  # export: self_tests


def _decode(blob):
    raw = base64.b64decode(blob["b64"])
    return np.frombuffer(raw, dtype=blob["dtype"]).reshape(blob["shape"])


def _same(a, b, rtol, atol):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return False
    both_nan = np.isnan(a) & np.isnan(b)
    with np.errstate(all="ignore"):
        close = (a == b) | (np.abs(a - b) <= atol + rtol * np.abs(b))
    return bool(np.all(both_nan | close))


def self_test(rtol=1e-9, atol=1e-12, verbose=False):
    """Re-run every embedded case; True when all predictions match the recorded ones (False
    when there is no case).

    Bit-exact on the machine that exported; the tolerance covers another libm. The recorded
    outputs are this file's own claim: `amlz verify` recomputes them independently.
    """
    if not SELF_TESTS:
        if verbose:
            print("self-test FAILED: this module embeds no self-test vectors")
        return False
    ok = True
    for case in SELF_TESTS:
        inputs = {k: _decode(v) if isinstance(v, dict) else v for k, v in case.items()}
        loss, trace, steps = run_protocol(inputs)
        good = (
            steps == case["train_steps"]
            and _same(trace, _decode(case["trace"]), rtol, atol)
            and _same(loss, _decode(case["epoch_loss"]), rtol, atol)
        )
        if verbose:
            print(f"self-test {case['name']}: {'ok' if good else 'FAILED'}")
        ok = ok and good
    return ok


if __name__ == "__main__":
    sys.exit(0 if self_test(verbose=True) else 1)
