"""The native runtime (LLVM IR) draws exactly the numbers of `amlz_compile.rng.SplitMix64`."""

from __future__ import annotations

import ctypes
import math

import numpy as np
import pytest

from amlz_compile import rng
from amlz_compile.backends.llvm.engine import Engine
from amlz_compile.backends.llvm.runtime import ENTRY_POINTS, runtime_ir

PROBES = """
define i64 @probe_next(ptr %s) {
  %r = call i64 @amlz_rng_next(ptr %s)
  ret i64 %r
}
define double @probe_unit(ptr %s) {
  %r = call double @amlz_rng_unit(ptr %s)
  ret double %r
}
define double @probe_open_unit(ptr %s) {
  %r = call double @amlz_rng_open_unit(ptr %s)
  ret double %r
}
define double @probe_uniform(ptr %s, double %lo, double %hi) {
  %r = call double @amlz_rng_uniform(ptr %s, double %lo, double %hi)
  ret double %r
}
define double @probe_gaussian(ptr %s, double %mu, double %sd) {
  %r = call double @amlz_rng_gaussian(ptr %s, double %mu, double %sd)
  ret double %r
}
define double @probe_sigmoid(double %x) {
  %r = call double @amlz_sigmoid(double %x)
  ret double %r
}
"""

P = ctypes.POINTER(ctypes.c_uint64)
D = ctypes.c_double
SIGNATURES = {
    "probe_next": ctypes.CFUNCTYPE(ctypes.c_uint64, P),
    "probe_unit": ctypes.CFUNCTYPE(D, P),
    "probe_open_unit": ctypes.CFUNCTYPE(D, P),
    "probe_uniform": ctypes.CFUNCTYPE(D, P, D, D),
    "probe_gaussian": ctypes.CFUNCTYPE(D, P, D, D),
    "probe_sigmoid": ctypes.CFUNCTYPE(D, D),
}


@pytest.fixture(scope="module")
def probes():
    engine = Engine()
    names = list(SIGNATURES)
    addresses = engine.add_ir(runtime_ir() + PROBES, names)
    fns = {n: SIGNATURES[n](a) for n, a in zip(names, addresses, strict=True)}
    fns["_engine"] = engine  # keep the code alive
    return fns


def bits(x: float) -> int:
    return int(np.float64(x).view(np.uint64))


SEEDS = (0, 1, 42, 2**64 - 1, 0x9E3779B97F4A7C15)


@pytest.mark.parametrize("seed", SEEDS)
def test_next_u64_matches_python(probes, seed):
    state = ctypes.c_uint64(seed)
    ref = rng.SplitMix64(seed)
    got = [probes["probe_next"](ctypes.byref(state)) for _ in range(1000)]
    assert got == [ref.next_u64() for _ in range(1000)]
    assert state.value == ref.state


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("entry", ["unit", "open_unit"])
def test_unit_draws_bit_exact(probes, seed, entry):
    state = ctypes.c_uint64(seed)
    ref = rng.SplitMix64(seed)
    fn = probes[f"probe_{entry}"]
    got = [bits(fn(ctypes.byref(state))) for _ in range(1000)]
    assert got == [bits(getattr(ref, entry)()) for _ in range(1000)]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    "lo,hi", [(-1.0, 1.0), (0.25, 0.75), (-2.5, -2.0), (0.6, 0.2), (1.0, 1.0), (float("nan"), 1.0)]
)
def test_uniform_bit_exact_including_the_constant_rule(probes, seed, lo, hi):
    state = ctypes.c_uint64(seed)
    ref = rng.SplitMix64(seed)
    got = [bits(probes["probe_uniform"](ctypes.byref(state), lo, hi)) for _ in range(1000)]
    assert got == [bits(ref.uniform(lo, hi)) for _ in range(1000)]
    assert state.value == ref.state  # low >= high (or NaN) draws nothing
    if not lo < hi:
        assert state.value == seed


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("mu,sd", [(0.0, 1.0), (20.0, 10.0), (-1e-10, 9e-9), (0.5, 0.0)])
def test_gaussian_bit_exact(probes, seed, mu, sd):
    state = ctypes.c_uint64(seed)
    ref = rng.SplitMix64(seed)
    got = [bits(probes["probe_gaussian"](ctypes.byref(state), mu, sd)) for _ in range(1000)]
    assert got == [bits(ref.gaussian(mu, sd)) for _ in range(1000)]


def test_gaussian_matches_the_numba_generator(probes):
    state = ctypes.c_uint64(7)
    nb_state = rng.new_state(7)
    got = [bits(probes["probe_gaussian"](ctypes.byref(state), 0.1, 2.0)) for _ in range(1000)]
    want = [bits(rng.nb_gaussian(nb_state, 0.1, 2.0)) for _ in range(1000)]
    assert got == want


def _libm_exp(x: float) -> float:
    try:
        return math.exp(x)  # CPython calls libm's exp, as the runtime does
    except OverflowError:
        return math.inf


def test_sigmoid(probes):
    xs = [*np.linspace(-800, 800, 997).tolist(), math.inf, -math.inf]
    for x in xs:
        assert bits(probes["probe_sigmoid"](x)) == bits(1.0 / (1.0 + _libm_exp(-x)))
    assert math.isnan(probes["probe_sigmoid"](math.nan))


def test_runtime_source_lists_its_entry_points():
    text = runtime_ir()
    for name in ENTRY_POINTS:
        assert f"@{name}(" in text
