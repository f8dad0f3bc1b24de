"""The "auto" backend: the cost model picks a tier per program, results equal the interpreter's."""

import numpy as np

from amlz_compile.algorithms import load_builtin
from amlz_compile.backends.llvm import default_compiler
from amlz_compile.evaluate import AutoBackend, Evaluator
from amlz_compile.ir import MemorySpec
from amlz_compile.tasks import build_tasks


def _tasks(kind, features, num_train, num_tasks=2):
    spec = {"kind": kind, "features": features, "num_train": num_train, "num_valid": 50,
            "num_tasks": num_tasks}  # fmt: skip
    return build_tasks(spec)


def test_auto_picks_interp_for_small_and_jit_for_large_work():
    auto = AutoBackend()
    program = load_builtin("neural_net")
    memory = MemorySpec(5, 9, 2, 4)
    small = _tasks("linear", 4, 10, num_tasks=1)
    assert auto.choose(load_builtin("linear"), memory, small) == "interp"
    large = build_tasks({"kind": "nonlinear", "features": 16, "num_train": 8000, "num_valid": 100,
                         "num_tasks": 10, "epochs": 10})  # fmt: skip
    assert auto.choose(program, memory.with_features(16), large) == "jit"


def test_auto_fitness_equals_interpreter_fitness():
    program = load_builtin("neural_net")
    memory = MemorySpec(5, 9, 2, 16)
    tasks = _tasks("nonlinear", 16, 3000)
    # the fitness-only kernel evaluations use, cached: no compile cost, the JIT wins
    default_compiler().compile(program, memory, final_memory=False)
    assert AutoBackend().choose(program, memory, tasks) == "jit"
    auto = Evaluator(tasks, memory, backend="auto").evaluate_detailed(program, 7)
    interp = Evaluator(tasks, memory, backend="interp").evaluate_detailed(program, 7)
    assert auto.fitness == interp.fitness
    assert np.array_equal(auto.per_task, interp.per_task)
    assert auto.train_steps == interp.train_steps
