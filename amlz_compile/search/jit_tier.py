"""Compiled code as a tier of the search: the kernels its children run in.

The search kernel decides per child, after dead-code removal (`kernels._choose_tier`, against
the `tiering.CostModel`), whether its full evaluation runs in the interpreter or in compiled
code. Compiled code is keyed by the child's canonical Predict and Learn (`kernels.tier_canonical`):
one given-memory kernel (`llvm.codegen.kernel_ir`) serves every child that differs only in Setup
or dead code. The search kernel itself calls it (`kernels._run_compiled`: FEC fingerprints and
Setup interpreted, then the kernel from that memory and generator state), so evaluations stay
in compiled code with no Python between children. Only when a key has no kernel yet does the
search kernel stop and hand the child here to compile one (`SearchTier.compile_pending`).

Every tier computes the same fitnesses and draws the same numbers: a search with a given seed
makes the same individuals whatever the tier (tests/test_search_tiers.py).
"""

from __future__ import annotations

import contextlib
import ctypes
import time

import numpy as np

from ..ir.program import MemorySpec, Program
from ..tiering import TIERS, CostModel, unit_table
from . import kernel_layout as KL
from . import tier_choice as Tier

# How many canonical Predict/Learn programs the tier cache remembers (their compiled-or-spent
# state; the compiled code itself is bounded by the compiler's engine recycling).
TIER_CACHE_ENTRIES = 1 << 16
# Engine recycling of the search's compiler: a fresh engine after this many kernels, so the
# code of an hour-long search stays bounded (see `SearchTier.engines`). An engine keeps its
# modules' IR as well as their code, so fewer kernels per engine keep the high-water mark low.
SEARCH_RECYCLE_PROGRAMS = 250
# How the search compiles: most kernels run a few times, so compile cost decides. Measured on
# evolved baseline programs at the paper's scale (docs/benchmarks.md): the light IR pipeline
# with codegen level 0 compiles in ~15-35 ms and its code runs ~3x the interpreter; codegen
# level 1 or O2 code runs 1.2-1.5x faster still but takes 30-100 ms to compile.
SEARCH_PIPELINE = ("light", 0)
# Kernels whose runs would pay for it are recompiled once with this (kernels._choose_tier).
OPTIMISING_PIPELINE = ("O2", 2)


def tier_code(backend: str) -> int:
    """ip[IP_TIER] for a backend name ("interp", "jit" or "auto")."""
    if backend not in TIERS:
        raise ValueError(f"unknown backend {backend!r} (choose from {', '.join(TIERS)})")
    return KL.TIER_CODES[backend]


def fill_cost_model(fp: np.ndarray, model: CostModel, features: int) -> None:
    """The cost model's constants into the search's float parameters. The compile cost is that
    of one fused kernel at the search's F (the search compiles one program at a time)."""
    fp[KL.FP_INTERP_NS_UNIT] = model.interp_ns_per_unit
    fp[KL.FP_INTERP_NS_STEP] = model.interp_ns_per_step
    fp[KL.FP_JIT_NS_UNIT] = model.jit_ns_per_unit
    fp[KL.FP_JIT_NS_STEP] = model.jit_ns_per_step
    fp[KL.FP_JIT_US_CALL] = model.jit_us_per_call
    fp[KL.FP_COMPILE_US] = model.search_compile_ms(features) * 1e3
    fp[KL.FP_OPTIMISE_US] = model.search_optimise_ms(features) * 1e3


def _return_freed_memory() -> None:
    """Give the C heap's free pages back to the system (glibc's malloc_trim) once an engine's
    code is dropped, so a long search's resident memory follows what it holds."""
    import gc

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # (not glibc)
        ctypes.CDLL(None).malloc_trim(0)


class SearchTier:
    """The compiled tier of one population: its compiler, kernels and statistics."""

    def __init__(self, memory: MemorySpec) -> None:
        self.memory = memory
        F = memory.features
        n_mem = memory.scalars + (memory.vectors + memory.matrices * F) * F
        self.state = KL.tier_state(TIER_CACHE_ENTRIES, unit_table(F), n_mem, F)
        self._compilers: list = [None, None]  # quick, optimising
        self._kernels: list[dict[tuple, object]] = [{}, {}]
        self._engines_seen = [0, 0]
        self.compiles = 0
        self.optimised = 0
        self.compile_seconds = 0.0

    def compiler(self, optimising: bool = False):
        """The search's own compilers, quick and optimising (fused kernels; created on first
        use, so a search that never compiles never builds an LLVM engine)."""
        k = int(optimising)
        if self._compilers[k] is None:
            from ..backends.llvm.engine import JitCompiler

            pipeline, codegen_opt = OPTIMISING_PIPELINE if optimising else SEARCH_PIPELINE
            self._compilers[k] = JitCompiler(mode="fused", pipeline=pipeline,
                                             codegen_opt=codegen_opt,
                                             recycle_programs=SEARCH_RECYCLE_PROGRAMS)  # fmt: skip
        return self._compilers[k]

    @property
    def engines(self) -> int:
        """Engines the compilers have created so far (each holds up to SEARCH_RECYCLE_PROGRAMS
        kernels; only the newest ones' kernels are kept alive)."""
        return sum(c.engines_created for c in self._compilers if c is not None)

    @property
    def live_kernels(self) -> int:
        """Kernels this tier keeps alive (all in the newest engine of each compiler)."""
        return sum(len(k) for k in self._kernels)

    def compile_pending(self, ws) -> None:
        """Compile the kernel of the child the search kernel handed off (canonical, in ws),
        optimised if it asked so, and remember its address under the child's tier key."""
        hand = self.state[2]
        opt = int(hand[KL.HAND_OPTIMISE] != 0)
        hand[KL.HAND_OPTIMISE] = 0
        bounds = ws.live_bounds
        b1, b2, n = int(bounds[1]), int(bounds[2]), int(bounds[3])
        code, data = ws.canon_code, ws.canon_data
        key = (b2 - b1, code[b1:n].tobytes(), data[b1:n].tobytes())
        kernels = self._kernels[opt]
        kernel = kernels.get(key)
        if kernel is None:
            t0 = time.process_time()
            program = Program.from_arrays(code[b1:n], data[b1:n], [0, 0, b2 - b1, n - b1])
            compiler = self.compiler(bool(opt))
            kernel = compiler.compile_given([program], self.memory)[0]
            if compiler.engines_created != self._engines_seen[opt]:
                # A new engine: the old one's code goes once nothing refers to it, so no
                # address of it may stay in the tier cache.
                self._engines_seen[opt] = compiler.engines_created
                kernels.clear()
                self.state = KL.tier_forget(self.state)
                _return_freed_memory()
            kernels[key] = kernel
            self.compiles += 1
            self.optimised += opt
            self.compile_seconds += time.process_time() - t0
        Tier.tier_remember(self.state, kernel.address, bool(opt))

    def stats(self) -> dict:
        """Compiled-tier counters of this process (not part of a checkpoint)."""
        counters = self.state[6]
        return {
            "compiled_evaluations": int(counters[KL.T_COMPILED_RUNS]),
            "compiles": self.compiles,
            "optimised_compiles": self.optimised,
            "compile_seconds": self.compile_seconds,
            "engines": self.engines,
        }
