"""JIT benchmarks (registered in `amlz_compile.bench`). Keys: compile_ms_per_program_single[_raw],
compile_ms_per_program_batched[_raw|_fused], compile_ms_driver_demo, compile_ms_paper,
jit_us_per_eval_demo[_fused], interp_us_per_eval_paper, jit_us_per_eval_paper[_single|_threads],
search_kernel_ms_paper (the search's given-memory kernels: threaded and fused, made and run per
evolved paper-scale program). Evaluations go through `JitBackend.run_tasks` (one foreign call per
program evaluation; the paper key with LOCKSTEP_K tasks per fitness-only multi-task kernel). Times
are CPU time of this process (see `bench._time_per_item`), warm (compiled before measuring), except
`_threads` (wall time of one evaluation on 2 threads).

Compile figures are what the search pays per program reaching the JIT: `simplify_program`
(dead-code removal, folding: ~20 -> ~3.6 instructions on demo programs) plus compilation with
the default compiler (driver mode at F = 4); `_raw` keys compile the unsimplified program,
`_fused` forces fused kernels. "single" = one program per module, "batched" = 256 per module.
The driver skeleton (once per memory spec) is compiled before timing; `compile_ms_driver_demo`
is its one-off cost.

"paper" = the reference NEURAL_NET program (docs/semantics.md#initial-models) on 10
projected-binary-shaped tasks: F = 16, 8000 training + 1000 validation examples, one epoch,
standardised Gaussian features with 0/1 labels, accuracy tasks, memory 5/9/2. "demo" = random
20-instruction programs (10/2/8 of DEMO_OPS) on the demo's 10 linear tasks (F = 4, 100 + 100),
memory 4/3/1.
"""

from __future__ import annotations

import time

import numpy as np

from ..backends.llvm.backend import LOCKSTEP_K, JitBackend, run_kernel_multi
from ..backends.llvm.compiler import JitCompiler
from ..ir.program import MemorySpec, Program
from ..passes import simplify_program
from . import _time_per_item, benchmark, demo_tasks, random_demo_programs

DEMO_MEMORY = MemorySpec(4, 3, 1, 4)
PAPER_MEMORY = MemorySpec(5, 9, 2, 16)


def paper_tasks(n_tasks: int = 10, features: int = 16, n_train: int = 8000, n_valid: int = 1000):
    """Projected-binary-shaped accuracy tasks: N(0, 1) features, labels from a random hyperplane."""
    from ..tasks import ACCURACY, Task

    rng = np.random.default_rng(2020)
    tasks = []
    for t in range(n_tasks):
        x = rng.normal(size=(n_train + n_valid, features))
        x = (x - x.mean(axis=0)) / x.std(axis=0)
        y = (x @ rng.normal(size=features) > 0).astype(np.float64)
        orders = np.arange(n_train, dtype=np.int32)[None, :]
        tasks.append(Task(f"paper{t}", x[:n_train], y[:n_train], x[n_train:], y[n_train:], orders,
                          ACCURACY, index=t))  # fmt: skip
    return tasks


def paper_program() -> Program:
    from ..algorithms import load_builtin

    return load_builtin("neural_net")


def _compile_ms(batch: int, n_programs: int, simplify: bool = True, **compiler_kw) -> float:
    """CPU ms per program to (simplify and) compile `n_programs` random demo programs, `batch`
    per module (1 = each alone), with a warm compiler (engine and driver made beforehand)."""
    programs = random_demo_programs(n_programs, seed=7)
    compiler = JitCompiler(batch=batch, **compiler_kw)
    warm = random_demo_programs(1, seed=99)[0]
    compiler.compile(simplify_program(warm) if simplify else warm, DEMO_MEMORY)
    t0 = time.process_time()
    if simplify:
        programs = [simplify_program(p) for p in programs]
    if batch == 1:
        for prog in programs:
            compiler.compile(prog, DEMO_MEMORY)
    else:
        compiler.compile_many(programs, DEMO_MEMORY)
    return (time.process_time() - t0) / n_programs * 1e3


@benchmark("compile_ms_per_program_single")
def compile_ms_per_program_single(n_programs: int = 40, **compiler_kw) -> float:
    """CPU ms to simplify and compile one random demo program alone in its module (defaults)."""
    return _compile_ms(1, n_programs, **compiler_kw)


@benchmark("compile_ms_per_program_single_raw")
def compile_ms_per_program_single_raw(n_programs: int = 40, **compiler_kw) -> float:
    """As `compile_ms_per_program_single` for the raw (unsimplified) program."""
    return _compile_ms(1, n_programs, simplify=False, **compiler_kw)


@benchmark("compile_ms_per_program_batched")
def compile_ms_per_program_batched(n_programs: int = 256, **compiler_kw) -> float:
    """CPU ms per random demo program to simplify it and compile it with 255 others in one
    module (`compile_many`): what the search pays per program reaching the JIT."""
    return _compile_ms(256, n_programs, **compiler_kw)


@benchmark("compile_ms_per_program_batched_raw")
def compile_ms_per_program_batched_raw(n_programs: int = 256, **compiler_kw) -> float:
    """As `compile_ms_per_program_batched` for raw (unsimplified) 20-instruction programs."""
    return _compile_ms(256, n_programs, simplify=False, **compiler_kw)


@benchmark("compile_ms_per_program_batched_fused")
def compile_ms_per_program_batched_fused(n_programs: int = 256) -> float:
    """As `compile_ms_per_program_batched` in fused mode (whole task loop per program)."""
    return _compile_ms(256, n_programs, mode="fused")


@benchmark("compile_ms_paper")
def compile_ms_paper(repeats: int = 3, final_memory: bool = False) -> float:
    """CPU ms to compile NEURAL_NET at F = 16 as evaluations do (default compiler: fused, O3,
    fitness-only; `final_memory=True` for the complete kernel), median of `repeats` fresh
    compilers (the runtime and engine set up beforehand). Tiering's `compile_ms_optimised`."""
    from statistics import median

    times = []
    for _ in range(repeats):
        compiler = JitCompiler()
        compiler.compile(random_demo_programs(1, seed=5)[0], PAPER_MEMORY)  # engine warm-up
        t0 = time.process_time()
        compiler.compile(paper_program(), PAPER_MEMORY, final_memory=final_memory)
        times.append((time.process_time() - t0) * 1e3)
    return median(times)


@benchmark("compile_ms_driver_demo")
def compile_ms_driver_demo(repeats: int = 3) -> float:
    """CPU ms to compile the driver skeleton for the demo memory (once per memory spec and
    compiler, default settings: O3), median of `repeats` fresh compilers."""
    from statistics import median

    times = []
    for _ in range(repeats):
        compiler = JitCompiler()
        t0 = time.process_time()
        compiler.driver(DEMO_MEMORY)
        times.append((time.process_time() - t0) * 1e3)
    return median(times)


def _demo_eval_us(n_programs: int, repeats: int, simplify: bool = False, **compiler_kw) -> float:
    tasks = demo_tasks()
    programs = random_demo_programs(n_programs, seed=1)
    if simplify:
        programs = [simplify_program(p) for p in programs]
    backend = JitBackend(JitCompiler(**compiler_kw))
    backend.prepare(programs, DEMO_MEMORY)
    seeds = list(range(len(tasks)))

    def run() -> None:
        for prog in programs:
            backend.run_tasks(prog, tasks, DEMO_MEMORY, rng_seeds=seeds)

    run()
    return _time_per_item(run, n_programs, repeats)


@benchmark("jit_us_per_eval_demo")
def jit_us_per_eval_demo(n_programs: int = 100, repeats: int = 5, **compiler_kw) -> float:
    """JIT µs per evaluation of a random (raw) demo program on the demo's 10 tasks (warm
    kernels, default compiler: driver mode at F = 4)."""
    return _demo_eval_us(n_programs, repeats, **compiler_kw)


@benchmark("jit_us_per_eval_demo_fused")
def jit_us_per_eval_demo_fused(n_programs: int = 100, repeats: int = 5) -> float:
    """As `jit_us_per_eval_demo` with fused kernels (the task loop compiled per program)."""
    return _demo_eval_us(n_programs, repeats, mode="fused")


def _paper_eval(backend, tasks, memory, program) -> None:
    if isinstance(backend, JitBackend):
        backend.run_tasks(program, tasks, memory, rng_seeds=list(range(len(tasks))))
        return
    for t, task in enumerate(tasks):
        backend.run_task(program, task, memory, rng_seed=t)


@benchmark("interp_us_per_eval_paper")
def interp_us_per_eval_paper(repeats: int = 3) -> float:
    """Interpreter µs for NEURAL_NET on the 10 paper-scale tasks (F = 16, 8000 + 1000)."""
    from ..backends.interp import InterpBackend

    tasks, program, backend = paper_tasks(), paper_program(), InterpBackend()
    _paper_eval(backend, tasks[:1], PAPER_MEMORY, program)  # numba warm-up
    return _time_per_item(lambda: _paper_eval(backend, tasks, PAPER_MEMORY, program), 1, repeats)


@benchmark("jit_us_per_eval_paper")
def jit_us_per_eval_paper(repeats: int = 5, lockstep: int = LOCKSTEP_K, **compiler_kw) -> float:
    """JIT µs for NEURAL_NET on the 10 paper-scale tasks (F = 16, 8000 + 1000), warm, through
    `JitBackend.run_tasks` (`lockstep` tasks per multi-task kernel; 1 = single-task kernels)."""
    tasks, program = paper_tasks(), paper_program()
    backend = JitBackend(JitCompiler(**compiler_kw), lockstep=lockstep)
    _paper_eval(backend, tasks, PAPER_MEMORY, program)
    return _time_per_item(lambda: _paper_eval(backend, tasks, PAPER_MEMORY, program), 1, repeats)


@benchmark("jit_us_per_eval_paper_threads")
def jit_us_per_eval_paper_threads(
    repeats: int = 7, threads: int = 2, lockstep: int = LOCKSTEP_K, **compiler_kw
) -> float:
    """As `jit_us_per_eval_paper` with the tasks spread over `threads` threads
    (`JitBackend(threads=...)`): median *wall* µs (CPU time would add the threads up)."""
    from statistics import median

    tasks, program = paper_tasks(), paper_program()
    backend = JitBackend(JitCompiler(**compiler_kw), lockstep=lockstep, threads=threads)
    _paper_eval(backend, tasks, PAPER_MEMORY, program)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        _paper_eval(backend, tasks, PAPER_MEMORY, program)
        times.append((time.perf_counter() - t0) * 1e6)
    return median(times)


@benchmark("jit_us_per_eval_paper_single")
def jit_us_per_eval_paper_single(repeats: int = 5, **compiler_kw) -> float:
    """As `jit_us_per_eval_paper` with single-task kernels (lockstep 1: the 10 tasks one after
    another in one `run_blocks` call), to compare lockstep side by side."""
    return jit_us_per_eval_paper(repeats, lockstep=1, **compiler_kw)


def lockstep_grid(ks=(1, 2, 3, 4), repeats: int = 3, **compiler_kw) -> dict[str, dict]:
    """Per lockstep width K: compile ms of the (fitness-only) K-task kernel and ns per training
    step and task (NEURAL_NET, paper tasks; K tasks per call, rounds interleaved to share the
    noise)."""
    tasks, program = paper_tasks(), paper_program()
    compiler = JitCompiler(**compiler_kw)
    single = compiler.compile(program, PAPER_MEMORY)
    kernels, compile_ms = {}, {}
    for K in ks:
        t0 = time.process_time()
        kernels[K] = compiler.compile_multi(program, PAPER_MEMORY, K, final_memory=False)
        compile_ms[K] = (time.process_time() - t0) * 1e3
    steps = tasks[0].train_x.shape[0] + tasks[0].valid_x.shape[0]
    times: dict[int, list[float]] = {K: [] for K in ks}
    for _ in range(repeats):
        for K in ks:
            t0 = time.process_time()
            run_kernel_multi(kernels[K], tasks[:K], list(range(K)), single)
            times[K].append((time.process_time() - t0) / (K * steps) * 1e9)
    return {
        f"K={K}": {"compile_ms": round(compile_ms[K]), "ns_per_step": round(min(times[K]), 1)}
        for K in ks
    }


def paper_random_search(backend: str, seed: int = 3):
    """The `baseline` search from random programs of Setup 5 / Predict 8 / Learn 15
    instructions on `paper_tasks()` (a population that has grown), not yet initialised."""
    from ..search.config import SearchConfig
    from ..search.evolution import RegularizedEvolution
    from ..search.presets import get_preset

    cfg = get_preset("baseline")["search"]
    cfg.update(setup_size_init=5, predict_size_init=8, learn_size_init=15,
               initial_population="random")  # fmt: skip
    return RegularizedEvolution(SearchConfig.from_dict(cfg), tasks=paper_tasks(), seed=seed,
                                backend=backend)  # fmt: skip


def search_programs(n_programs: int = 40, individuals: int = 300) -> list[Program]:
    """Predict/Learn of evolved paper-scale programs, as the search's compiled tier gets them:
    the `baseline` search (seed 3) from random 5/8/15 programs after `individuals`
    individuals, simplified, Setup dropped (given-memory kernels)."""
    evo = paper_random_search("interp")
    evo.init()
    evo.run(max_individuals=individuals)
    out = []
    for prog in evo.population_programs()[:n_programs]:
        parts = simplify_program(prog).components()
        out.append(Program((), parts["predict"], parts["learn"]))
    return out


@benchmark("search_kernel_ms_paper")
def search_kernel_ms_paper(n_programs: int = 40, repeats: int = 2) -> dict[str, dict]:
    """CPU ms per program to make and to run (10 paper tasks) the search's given-memory kernels
    of evolved paper-scale programs (`search_programs`): threaded (the quick tier; stencils
    compiled before timing), fused light/codegen 0 (the fallback quick tier), fused
    light/codegen 1 (the optimising tier) and fused O2. Variants alternate `repeats` times;
    each figure is the best."""
    from ..backends.llvm.threaded import ThreadedCompiler

    tasks = paper_tasks()
    programs = search_programs(n_programs)
    memory = np.zeros((len(tasks), PAPER_MEMORY.scalars + (PAPER_MEMORY.vectors
                       + PAPER_MEMORY.matrices * 16) * 16))  # fmt: skip
    seeds = np.arange(len(tasks), dtype=np.uint64)
    makers = {
        "threaded": ThreadedCompiler,
        "fused_light_cg0": lambda: JitCompiler(mode="fused", pipeline="light", codegen_opt=0),
        "fused_light_cg1": lambda: JitCompiler(mode="fused", pipeline="light", codegen_opt=1),
        "fused_O2": lambda: JitCompiler(mode="fused", pipeline="O2", codegen_opt=2),
    }
    ThreadedCompiler().compile_given(programs, PAPER_MEMORY)  # stencils, once per process
    best: dict[str, dict[str, float]] = {k: {"compile_ms": 1e9, "run_ms": 1e9} for k in makers}
    for _ in range(repeats):
        for name, make in makers.items():
            compiler = make()
            compiler.compile_given([Program()], PAPER_MEMORY)  # engine and runtime set up
            t0 = time.process_time()
            kernels = [compiler.compile_given([p], PAPER_MEMORY)[0] for p in programs]
            compile_ms = (time.process_time() - t0) / len(programs) * 1e3
            for k in kernels:  # warm
                run_kernel_multi(k, tasks, seeds, initial_memory=memory)
            t0 = time.process_time()
            for k in kernels:
                run_kernel_multi(k, tasks, seeds, initial_memory=memory)
            run_ms = (time.process_time() - t0) / len(programs) * 1e3
            b = best[name]
            b["compile_ms"] = round(min(b["compile_ms"], compile_ms), 3)
            b["run_ms"] = round(min(b["run_ms"], run_ms), 3)
    return best


def optimisation_grid() -> dict[str, dict[str, float]]:
    """Compile cost and paper/demo run time for each (pipeline, codegen level) (for tuning)."""
    out = {}
    for pipeline in ("light", "O1", "O2", "O3"):
        for cg in (0, 2):
            kw = dict(pipeline=pipeline, codegen_opt=cg, mode="fused")
            out[f"{pipeline}/cg{cg}"] = {
                "compile_ms_batched": round(_compile_ms(64, 64, **kw), 3),
                "paper_us": round(jit_us_per_eval_paper(repeats=3, **kw), 1),
            }
    return out


def compile_breakdown(n_programs: int = 256) -> dict[str, dict[str, float]]:
    """CPU ms per demo program of each driver-mode compile stage (emit, parse, verify, code
    generation), raw and simplified, plus the per-module fixed cost and batch-size scan."""
    import llvmlite.binding as llvm

    from ..backends.llvm.driver import program_ir
    from ..backends.llvm.engine import DRIVER_PROGRAMS, Engine, link_runtime, linked_module_ir

    link_runtime()
    raw = random_demo_programs(n_programs, seed=7)
    out: dict[str, dict[str, float]] = {}
    for label, programs in (("raw", raw), ("simplified", [simplify_program(p) for p in raw])):
        engine = Engine(*DRIVER_PROGRAMS)
        marks = [time.process_time()]
        bodies, names = [], []
        for k, prog in enumerate(programs):
            text, fns = program_ir(prog, DEMO_MEMORY, f"b{k}")
            bodies.append(text)
            names += [n for n in fns if n]
        text = linked_module_ir(bodies)
        marks.append(time.process_time())
        module = llvm.parse_assembly(text)
        module.triple = engine.target_machine.triple
        module.data_layout = str(engine.target_machine.target_data)
        marks.append(time.process_time())
        module.verify()
        marks.append(time.process_time())
        engine.engine.add_module(module)
        engine.engine.finalize_object()
        for name in names:
            engine.engine.get_function_address(name)
        marks.append(time.process_time())
        stages = ("emit", "parse", "verify", "codegen")
        out[label] = {
            s: round((b - a) / n_programs * 1e3, 3)
            for s, a, b in zip(stages, marks, marks[1:], strict=False)
        }
        out[label]["ir_lines_per_program"] = round(text.count("\n") / n_programs, 1)
    engine = Engine(*DRIVER_PROGRAMS)
    tiny = "define void @f{k}(ptr %m) {{\n  store double 1.0, ptr %m\n  ret void\n}}\n"
    t0 = time.process_time()
    for k in range(50):
        engine.add_ir(tiny.format(k=k), [f"f{k}"])
    out["fixed"] = {"ms_per_tiny_module": round((time.process_time() - t0) / 50 * 1e3, 3)}
    sizes = (1, 16, 64, 256)
    out["batch"] = {str(b): round(_compile_ms(b, 256 if b > 1 else 64), 3) for b in sizes}
    return out


if __name__ == "__main__":
    import json
    import sys

    fns = {"--breakdown": compile_breakdown, "--lockstep": lockstep_grid}
    fn = next((f for arg, f in fns.items() if arg in sys.argv), optimisation_grid)
    print(json.dumps(fn(), indent=1))
