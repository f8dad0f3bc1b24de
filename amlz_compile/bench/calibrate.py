"""Re-measure the tiering cost model (`tiering.CostModel`) on this machine from the benchmarks."""

from __future__ import annotations

from ..tiering import DEFAULT_MODEL, CostModel, Workload, estimate_us
from . import BENCHMARKS, discover, llvm


def calibrate() -> CostModel:
    """Re-measure the constants on this machine (takes about a minute; uses the benchmarks)."""

    demo_tasks_ = llvm.demo_tasks()
    demo = llvm.random_demo_programs(50, seed=3)
    paper_tasks = llvm.paper_tasks()
    nn = llvm.paper_program()
    work_demo = Workload.of_tasks(demo_tasks_)
    work_paper = Workload.of_tasks(paper_tasks)
    unit_model = CostModel(1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0)
    demo_units = sum(
        estimate_us(p, llvm.DEMO_MEMORY, work_demo, unit_model)["interp"] for p in demo
    )
    demo_units = demo_units * 1e3 / len(demo)
    paper_units = estimate_us(nn, llvm.PAPER_MEMORY, work_paper, unit_model)["interp"] * 1e3
    demo_steps = sum(work_demo.train_steps) + sum(work_demo.valid_steps)
    paper_steps = sum(work_paper.train_steps) + sum(work_paper.valid_steps)

    def solve(us_demo: float, us_paper: float, fixed_demo: float = 0.0) -> tuple[float, float]:
        # two equations us = units * a + steps * b (ns), solved for (a, b)
        d, p = (us_demo - fixed_demo) * 1e3, us_paper * 1e3
        det = demo_units * paper_steps - paper_units * demo_steps
        a = (d * paper_steps - p * demo_steps) / det
        b = (demo_units * p - paper_units * d) / det
        return max(a, 0.01), max(b, 0.0)

    discover()
    interp_demo = BENCHMARKS["interp_us_per_individual_demo"]()
    interp_paper = llvm.interp_us_per_eval_paper()
    jit_demo = llvm.jit_us_per_eval_demo()
    jit_paper = llvm.jit_us_per_eval_paper()
    call_us = DEFAULT_MODEL.jit_us_per_call
    ia, ib = solve(interp_demo, interp_paper)
    ja, jb = solve(jit_demo, jit_paper, fixed_demo=len(demo_tasks_) * call_us)
    return CostModel(ia, ib, ja, jb, call_us, llvm.compile_ms_per_program_single(),
                     llvm.compile_ms_per_program_batched(), llvm.compile_ms_paper())  # fmt: skip
