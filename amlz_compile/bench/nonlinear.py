"""Benchmarks on the reference nonlinear integration workload (preset `nonlinear`).

run_integration_test_nonlinear.sh: the damaged NEURAL_NET (its two Gaussian initialisations
removed), memory 5/9/2, F = 4, one task of 1000 training + 100 validation examples, 4x4 matrix
ops, only Setup mutates. The reference C++ does about 18,500 individuals/s (~54 µs each) on one
core of this machine class.
"""

from __future__ import annotations

import numpy as np

from . import _time_per_item, benchmark


def nonlinear_workload(damaged: bool = True):
    """(program, packed tasks, memory) of the preset's search: the (damaged) NEURAL_NET on the
    preset's one search task."""
    from ..backends.packing import pack_tasks
    from ..ir.program import MemorySpec
    from ..search.generator import neural_net_algorithm
    from ..search.presets import get_preset
    from ..tasks import build_tasks

    search = get_preset("nonlinear")["search"]
    tasks = pack_tasks([t for spec in search["search_tasks"] for t in build_tasks(spec)])
    m = search["memory"]
    memory = MemorySpec(m["scalars"], m["vectors"], m["matrices"], features=tasks.features)
    return neural_net_algorithm(damaged=damaged), tasks, memory


@benchmark("interp_us_per_individual_nonlinear")
def interp_us_per_individual_nonlinear(copies: int = 50, repeats: int = 7) -> float:
    """Interpreter µs per full evaluation of the damaged NEURAL_NET on the nonlinear task
    (1000 training steps + 100 validations, every instruction live): a batch of `copies`
    copies (fresh seeds) through the batch kernel, CPU time / copies, median of `repeats`."""
    from ..backends.interp import InterpBackend
    from ..backends.packing import pack_programs

    program, tasks, memory = nonlinear_workload(damaged=True)
    backend = InterpBackend()
    batch = pack_programs([program] * copies)
    seeds = np.arange(copies * len(tasks), dtype=np.uint64).reshape(copies, len(tasks))
    backend.run_batch(batch, tasks, memory, seeds)  # compile (first time) and check
    run = lambda: backend.run_batch(batch, tasks, memory, seeds, check=False)  # noqa: E731
    return round(_time_per_item(run, copies, repeats), 3)


@benchmark("nonlinear_individuals_per_s")
def nonlinear_individuals_per_s(warm_sweeps: int = 2, sweeps: int = 5, seed: int = 1) -> float:
    """Individuals per CPU second of the preset's search (population kernel: mutation, FEC,
    train budget, evaluation) over `sweeps` sweeps after `warm_sweeps`."""
    from ..search.config import SearchConfig
    from ..search.presets import get_preset
    from .evolution import steady_individuals_per_s

    config = SearchConfig.from_dict(get_preset("nonlinear")["search"])
    return steady_individuals_per_s(config, warm_sweeps, sweeps, seed)


def _lane_blocks(memory, task, lanes: int, seed: int) -> tuple[np.ndarray, list]:
    """Argument blocks of `lanes` given-memory runs of the NEURAL_NET's Predict/Learn on `task`
    (memory as its Setup makes it: v2 and m0 Gaussian with scale 0.1; its learning rate s3 =
    0.01 scaled by 4 / F, so that training does not diverge at larger F), and the arrays they
    point to."""
    from ..backends.llvm.codegen import NUM_SLOTS, SLOT

    F = memory.features
    rng = np.random.default_rng(seed)
    n_mem = memory.scalars + (memory.vectors + memory.matrices * F) * F
    blocks = np.zeros((lanes, NUM_SLOTS), dtype=np.int64)
    keep = [task.train_x, task.train_y, task.valid_x, task.valid_y, task.orders]
    for j, b in enumerate(blocks):
        mem = np.zeros(n_mem)
        mem[3] = 0.01 * 4 / F
        v2 = memory.scalars + 2 * F
        mem[v2 : v2 + F] = rng.normal(0.0, 0.1, F)
        m0 = memory.scalars + memory.vectors * F
        mem[m0 : m0 + F * F] = rng.normal(0.0, 0.1, F * F)
        loss, counts = np.zeros(task.orders.shape[0]), np.zeros(3, dtype=np.int64)
        keep += [mem, loss, counts]
        b[SLOT["scalars"]] = mem.ctypes.data
        b[SLOT["vectors"]] = mem.ctypes.data + 8 * memory.scalars
        b[SLOT["matrices"]] = mem.ctypes.data + 8 * m0
        b[SLOT["train_x"]], b[SLOT["train_y"]] = task.train_x.ctypes.data, task.train_y.ctypes.data
        b[SLOT["orders"]] = task.orders.ctypes.data
        b[SLOT["num_train"]] = b[SLOT["total_steps"]] = task.train_x.shape[0]
        b[SLOT["valid_x"]], b[SLOT["valid_y"]] = task.valid_x.ctypes.data, task.valid_y.ctypes.data
        b[SLOT["n_valid"]] = task.valid_x.shape[0]
        b[SLOT["max_abs_error"]] = np.float64(1e300).view(np.int64)  # (every step runs)
        b[SLOT["rng_seed"]] = 1 + j
        b[SLOT["epoch_loss"]], b[SLOT["counts"]] = loss.ctypes.data, counts.ctypes.data
    return blocks, keep


@benchmark("nonlinear_lane_us_per_child")
def nonlinear_lane_us_per_child(calls: int = 2000, repeats: int = 5) -> dict:
    """The search's lanes (`search/kernels.py`): µs of compiled Predict/Learn per child of the
    nonlinear search (the NEURAL_NET's, from memory after its Setup; one task of 1000 training
    + 100 validation examples; the optimising pipeline, light/codegen 1), one child per single
    given-memory kernel call against LANES children per lane kernel call, at F = 4 (the
    preset's), 8 and 16, with each kernel's compile ms. CPU time of `calls` calls in one
    native loop (`engine.run_blocks`), median of `repeats`."""
    import copy
    import time

    from ..backends.llvm.codegen import kernel_ir
    from ..backends.llvm.compiler import JitCompiler
    from ..backends.llvm.engine import module_ir, run_blocks
    from ..backends.llvm.multi import multi_kernel_ir
    from ..search.jit_tier import OPTIMISING_PIPELINE
    from ..search.kernel_layout import LANES
    from ..search.presets import get_preset
    from ..tasks import build_tasks

    program, _, memory4 = nonlinear_workload(damaged=False)
    rest = program.replace(setup=[])
    pipeline, codegen_opt = OPTIMISING_PIPELINE
    out = {}
    for F in (4, 8, 16):
        spec = copy.deepcopy(get_preset("nonlinear")["search"]["search_tasks"][0])
        spec["features"] = F
        task = build_tasks(spec)[0]
        memory = memory4.with_features(F)
        engine = JitCompiler(pipeline=pipeline, codegen_opt=codegen_opt).engine(memory)
        row = {}
        for lanes in (1, LANES):
            name = f"lanes{lanes}_f{F}"
            ir = (kernel_ir(rest, memory, name, final_memory=False, given_memory=True)
                  if lanes == 1 else
                  multi_kernel_ir(rest, memory, name, lanes, final_memory=False,
                                  given_memory=True))  # fmt: skip
            t0 = time.process_time()
            (address,) = engine.add_ir(module_ir([ir]), [name])
            row[f"compile_ms_{lanes}"] = round((time.process_time() - t0) * 1e3, 1)
            blocks, _keep = _lane_blocks(memory, task, lanes, seed=F)
            run = lambda a=address, b=blocks: run_blocks()(a, b.ctypes.data, calls, 0)  # noqa: E731
            run()
            steps = [int(counts[2]) for counts in _keep[7::3]]
            if steps != [task.train_x.shape[0]] * lanes:  # (a child that stopped early)
                raise RuntimeError(f"F = {F}: lanes ran {steps} training steps, not all")
            row[f"us_per_child_{lanes}"] = round(_time_per_item(run, calls * lanes, repeats), 2)
        row["ratio"] = round(row[f"us_per_child_{LANES}"] / row["us_per_child_1"], 3)
        out[f"F{F}"] = row
    return out
