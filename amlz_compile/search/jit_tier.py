"""Compiled code as a tier of the search: the kernels its children run in.

The search kernel decides per child, after dead-code removal (`tier_choice.choose_tier`, against
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
import platform
import time

import numpy as np

from ..ir.program import MemorySpec, Program
from ..tiering import TIERS, CostModel
from . import kernel_layout as KL
from . import tier_choice as Tier

# How many canonical Predict/Learn programs the tier cache remembers (their compiled-or-spent
# state; the compiled code itself is bounded by the compiler's engine recycling).
TIER_CACHE_ENTRIES = 1 << 16
# Engine recycling of the search's compiler: a fresh engine after this many kernels, so the
# code of an hour-long search stays bounded (see `SearchTier.engines`). An engine keeps its
# modules' IR as well as their code, so fewer kernels per engine keep the high-water mark low.
SEARCH_RECYCLE_PROGRAMS = 250
# How the search compiles: most kernels run a few times, so compile cost decides. The quick
# tier is threaded code (`backends/llvm/threaded.py`: per-op stencils compiled once, a kernel
# per program made in ~0.2 ms with no LLVM compilation; its code runs ~1.2x slower than a fused
# kernel at light/codegen 0, which takes ~10-35 ms to compile at the paper's scale). Where
# threaded code is not available (a target whose stubs cannot be patched, or too many set-op
# literals), fused kernels with this pipeline: the light IR pipeline and codegen level 0.
SEARCH_THREADED = True
# Share of a threaded kernel's run time that the optimising tier's fused code saves (measured on
# 40 evolved paper-scale programs: 6.6 ms threaded, 5.7 ms light/codegen 1; docs/benchmarks.md).
THREADED_OPTIMISED_SAVING = 0.13
SEARCH_PIPELINE = ("light", 0)
# Kernels whose runs would pay for it are recompiled once with this (tier_choice.choose_tier): a
# fused kernel at the light IR pipeline and codegen level 1 runs as fast as O2 (within 3 % on
# evolved paper-scale programs) and compiles in ~30-50 ms against O2's ~80-90 ms.
OPTIMISING_PIPELINE = ("light", 1)


def tier_code(backend: str) -> int:
    """ip[IP_TIER] for a backend name ("interp", "jit" or "auto")."""
    if backend not in TIERS:
        raise ValueError(f"unknown backend {backend!r} (choose from {', '.join(TIERS)})")
    return KL.TIER_CODES[backend]


def fill_cost_model(fp: np.ndarray, model: CostModel, features: int) -> None:
    """The cost model's constants into the search's float parameters. The compile cost is that
    of one threaded kernel where threaded code is expected (x86-64, where stubs are patched),
    else of one fused kernel at the search's F (the search compiles one program at a time)."""
    fp[KL.FP_INTERP_NS_UNIT] = model.interp_ns_per_unit
    fp[KL.FP_INTERP_NS_STEP] = model.interp_ns_per_step
    fp[KL.FP_JIT_NS_UNIT] = model.jit_ns_per_unit
    fp[KL.FP_JIT_NS_STEP] = model.jit_ns_per_step
    fp[KL.FP_JIT_US_CALL] = model.jit_us_per_call
    threaded = SEARCH_THREADED and platform.machine().lower() in ("x86_64", "amd64")
    quick = model.search_threaded_ms if threaded else model.search_compile_ms(features)
    fp[KL.FP_COMPILE_US] = quick * 1e3
    fp[KL.FP_OPTIMISE_US] = model.search_optimise_ms(features) * 1e3
    # The search tiers a key up once its runs would have saved the optimising compile: what
    # optimised code saves of a run depends on the quick code it replaces.
    fp[KL.FP_OPTIMISED_SAVING] = THREADED_OPTIMISED_SAVING if threaded else KL.OPTIMISED_SAVING
    # A lane kernel is about LANES optimised kernels to compile (2.9x at F = 4, 3.9x at 16).
    fp[KL.FP_LANE_SAVING] = lane_saving(features)
    fp[KL.FP_LANES_US] = KL.LANES * fp[KL.FP_OPTIMISE_US]


def lane_saving(features: int) -> float:
    """Share of a single kernel's run time a child saves in a lane kernel (measured on the
    nonlinear workload's network, 4 lanes: 0.62 at F = 4, 0.56 at F = 8, 0.26 at F = 16)."""
    return 0.55 if features <= 8 else 0.25


def lanes_possible(ip: np.ndarray, memory: MemorySpec) -> bool:
    """Whether a search may evaluate children in lanes (`kernels.py`, lanes): compiled code
    allowed, one task, and no FEC, dedup or hurdles (whose caches and thresholds a child reads
    from the children before it); memory small enough for lockstep kernels."""
    from ..backends.llvm.codegen import uses_stack

    plain = not (ip[KL.IP_FEC] or ip[KL.IP_DEDUP] or ip[KL.IP_HURDLES])
    tiered = ip[KL.IP_TIER] != KL.TIER_INTERP
    return bool(plain and tiered and ip[KL.IP_NTASKS] == 1 and uses_stack(memory))


def _return_freed_memory() -> None:
    """Give the C heap's free pages back to the system (glibc's malloc_trim) once an engine's
    code is dropped, so a long search's resident memory follows what it holds."""
    import gc

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # (not glibc)
        ctypes.CDLL(None).malloc_trim(0)


class SearchTier:
    """The compiled tier of one population: its compiler, kernels and statistics.

    Its `state` is what the search kernel reads: a `kernel_layout.TierState` when children
    may run compiled code (`compiled_possible`, see `tier_choice.compiled_tier_possible`),
    else an `InterpTierState`, with which the kernel is compiled without the compiled tier
    (`upgrade` switches when a child proves otherwise)."""

    def __init__(
        self,
        memory: MemorySpec,
        units: np.ndarray,
        compiled_possible: bool,
        max_epochs: int = 1,
    ) -> None:
        self.memory = memory
        self.units = units
        self.max_epochs = max_epochs
        if compiled_possible:
            self.state = self._full_state(KL.interp_tier_state(units))
        else:
            self.state = KL.interp_tier_state(units)
        self._compilers: list = [None, None]  # quick (fused), optimising
        self._threaded = None  # the quick tier's threaded compiler (created on first use)
        self._kernels: list[dict[tuple, object]] = [{}, {}]
        self._engines_seen = [0, 0, 0]  # quick fused, optimising, threaded
        self.compiles = 0
        self.optimised = 0
        self.threaded_compiles = 0
        self.lane_compiles = 0
        self.compile_seconds = 0.0

    def _full_state(self, interp_state: KL.InterpTierState) -> KL.TierState:
        F = self.memory.features
        m = self.memory
        n_mem = m.scalars + (m.vectors + m.matrices * F) * F
        full = KL.tier_state(TIER_CACHE_ENTRIES, self.units, n_mem, F, self.max_epochs)
        # (the same hand-off and counter arrays: a caller holding them sees no change)
        return full._replace(hand=interp_state.hand, counters=interp_state.counters)

    @property
    def interp_only(self) -> bool:
        """Whether the kernel runs without the compiled tier (an `InterpTierState`)."""
        return isinstance(self.state, KL.InterpTierState)

    def upgrade(self) -> None:
        """Switch to a `TierState` (the kernel handed off a child with HAND_UPGRADE)."""
        if self.interp_only:
            self.state = self._full_state(self.state)
        self.state.hand[KL.HAND_UPGRADE] = 0

    def compiler(self, optimising: bool = False):
        """The search's own compilers, quick and optimising (fused kernels; created on first
        use, so a search that never compiles never builds an LLVM engine)."""
        k = int(optimising)
        if self._compilers[k] is None:
            from ..backends.llvm.compiler import JitCompiler

            pipeline, codegen_opt = OPTIMISING_PIPELINE if optimising else SEARCH_PIPELINE
            self._compilers[k] = JitCompiler(mode="fused", pipeline=pipeline,
                                             codegen_opt=codegen_opt,
                                             recycle_programs=SEARCH_RECYCLE_PROGRAMS,
                                             keep_ir=False)  # fmt: skip
        return self._compilers[k]

    def threaded(self):
        """The quick tier's threaded compiler, or None where threaded code is unavailable."""
        if self._threaded is None:
            from ..backends.llvm.threaded import ThreadedCompiler

            ok = SEARCH_THREADED and ThreadedCompiler.available()
            self._threaded = ThreadedCompiler(SEARCH_RECYCLE_PROGRAMS) if ok else False
        return self._threaded or None

    def _all_compilers(self) -> list:
        return [c for c in (*self._compilers, self._threaded) if c]

    @property
    def engines(self) -> int:
        """Engines (arenas, for threaded code) the compilers have created so far (each holds
        up to SEARCH_RECYCLE_PROGRAMS kernels; only the newest ones' kernels are kept alive)."""
        return sum(c.engines_created for c in self._all_compilers())

    @property
    def live_kernels(self) -> int:
        """Kernels this tier keeps alive (all in the newest engine of each compiler)."""
        return sum(len(k) for k in self._kernels)

    def compile_pending(self, ws) -> None:
        """Compile the kernel of the child the search kernel handed off (canonical, in ws),
        optimised if it asked so, or its lane kernel (HAND_LANES), and remember its address
        under the child's tier key."""
        hand = self.state.hand
        lanes = bool(hand[KL.HAND_LANES] != 0)
        opt = int(hand[KL.HAND_OPTIMISE] != 0 or lanes)
        hand[KL.HAND_OPTIMISE] = 0
        hand[KL.HAND_LANES] = 0
        bounds = ws.live_bounds
        b1, b2, n = int(bounds[1]), int(bounds[2]), int(bounds[3])
        code, data = ws.canon_code, ws.canon_data
        key = (lanes, b2 - b1, code[b1:n].tobytes(), data[b1:n].tobytes())
        kernels = self._kernels[opt]
        kernel = kernels.get(key)
        if kernel is None:
            t0 = time.process_time()
            program = Program.from_arrays(code[b1:n], data[b1:n], [0, 0, b2 - b1, n - b1])
            compiler, which = self.compiler(bool(opt)), opt
            if not opt:
                threaded = self.threaded()
                if threaded is not None and threaded.supports(program, self.memory):
                    compiler, which = threaded, 2
            if lanes:  # (the optimising compiler: a lane kernel is fused code)
                kernel = compiler.compile_many_multi(
                    [program], self.memory, KL.LANES, final_memory=False, given_memory=True
                )[0]
            else:
                kernel = compiler.compile_given([program], self.memory)[0]
            if compiler.engines_created != self._engines_seen[which]:
                # A new engine: the old one's code goes once nothing refers to it, so no
                # address of it may stay in the tier cache.
                self._engines_seen[which] = compiler.engines_created
                kernels.clear()
                self.state = KL.tier_forget(self.state)
                _return_freed_memory()
            kernels[key] = kernel
            self.compiles += 1
            self.optimised += opt and not lanes
            self.lane_compiles += lanes
            self.threaded_compiles += which == 2
            self.compile_seconds += time.process_time() - t0
        if lanes:
            Tier.lanes_remember(self.state, kernel.address)
        else:
            Tier.tier_remember(self.state, kernel.address, bool(opt))

    def stats(self) -> dict:
        """Compiled-tier counters of this process (not part of a checkpoint)."""
        counters = self.state.counters
        return {
            "compiled_evaluations": int(counters[KL.T_COMPILED_RUNS]),
            "lane_evaluations": int(counters[KL.T_LANE_RUNS]),
            "lane_calls": int(counters[KL.T_LANE_CALLS]),
            "lane_reruns": int(counters[KL.T_LANE_RERUNS]),
            "compiles": self.compiles,
            "optimised_compiles": self.optimised,
            "lane_compiles": self.lane_compiles,
            "threaded_compiles": self.threaded_compiles,
            "compile_seconds": self.compile_seconds,
            "engines": self.engines,
        }
