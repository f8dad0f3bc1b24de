"""Built-in algorithms: each shipped text file equals an independent transcription of the
reference generator / README / paper, loads with the documented sizes, and pads correctly."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from amlz_compile.algorithms import (
    builtin_memory,
    builtin_meta,
    builtin_names,
    builtin_text,
    load_builtin,
    padded,
    reference_initial,
)
from amlz_compile.ir import NO_OP, Instruction, MemorySpec, Program, format_program
from amlz_compile.ir.text import parse_program_meta

I = Instruction


def gauss(op, out, mean, std):
    return I(op, out=out, f0=mean, f1=std)


# Transcribed from automl_zero/generator.cc (NeuralNet, LinearModel) as op numbers and
# (in1, in2, out) addresses, independently of the text files.
NN_SETUP = [gauss(63, 2, 0.0, 0.1), gauss(64, 0, 0.0, 0.1), I(56, out=3, act=0.01)]
NN_PREDICT = [I(31, 0, 0, 3), I(23, 3, 1, 3), I(48, 3, 5, 4), I(27, 4, 2, 1), I(1, 1, 2, 1)]
NN_LEARN = [
    I(2, 0, 1, 4),
    I(3, 3, 4, 4),
    I(1, 2, 4, 2),
    I(18, 4, 4, 6),
    I(23, 2, 6, 2),
    I(18, 4, 2, 7),
    I(16, 3, 0, 8),
    I(25, 8, 7, 7),
    I(23, 1, 7, 1),
    I(28, 7, 0, 1),
    I(39, 0, 1, 0),
]
EXPECTED = {
    "linear": Program(
        [I(56, out=2, act=0.01)],
        [I(27, 1, 0, 1)],
        [I(2, 0, 1, 3), I(3, 2, 3, 3), I(18, 3, 0, 2), I(23, 1, 2, 1)],
    ),
    "neural_net": Program(NN_SETUP, NN_PREDICT, NN_LEARN),
    "damaged_neural_net": Program(NN_SETUP[2:], NN_PREDICT, NN_LEARN),
    "readme_linear": Program(
        [I(56, out=2, act=0.001)],
        [I(27, 0, 1, 1)],
        [I(2, 0, 1, 3), I(3, 3, 2, 4), I(18, 4, 0, 2), I(23, 1, 2, 1)],
    ),
    "figure5_nn": Program(
        [gauss(64, 1, -1e-10, 9e-09), I(56, out=3, act=4.1), gauss(63, 4, -0.033, 0.01)],
        [I(31, 1, 0, 6), I(48, 5, 6, 7), I(27, 7, 4, 1)],
        [
            I(16, 6, 0, 3),
            I(2, 0, 1, 1),
            I(3, 1, 3, 2),
            I(18, 2, 3, 2),
            I(25, 2, 4, 3),
            I(28, 3, 0, 0),
            I(39, 1, 0, 1),
            I(23, 2, 4, 4),
        ],
    ),
}
SIZES = {
    "linear": (1, 1, 4),
    "neural_net": (3, 5, 11),
    "damaged_neural_net": (1, 5, 11),
    "readme_linear": (1, 1, 4),
    "figure5_nn": (3, 3, 8),
}
ADDRESSES = {
    "linear": (4, 3, 0),
    "neural_net": (5, 9, 2),
    "damaged_neural_net": (5, 9, 2),
    "readme_linear": (5, 3, 0),
    "figure5_nn": (4, 8, 2),
}


def test_names():
    assert builtin_names() == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_builtin_matches_transcription(name):
    p = load_builtin(name)
    assert p == EXPECTED[name]
    assert p.sizes() == SIZES[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_builtin_memory_is_the_smallest_that_fits(name):
    mem = builtin_memory(name, features=8)
    assert (mem.scalars, mem.vectors, mem.matrices, mem.features) == (*ADDRESSES[name], 8)
    p = load_builtin(name)
    p.check_fits(mem)
    assert p.required_memory(8) == mem


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_files_are_in_canonical_form(name):
    text = builtin_text(name)
    program, meta = parse_program_meta(text)
    assert format_program(program, meta) == text
    assert meta["name"] == name and meta["description"] and meta["source"]
    assert builtin_meta(name) == meta


def test_zero_vector_addresses_are_never_written():
    nn, fig5 = load_builtin("neural_net"), load_builtin("figure5_nn")
    for program, zero in ((nn, 5), (fig5, 5)):
        writes = [row[3] for row in program.code if row[0] in (16, 18, 23, 25, 31, 48, 57, 60, 63)]
        assert zero not in writes


def test_float_data_is_float32():
    nn = load_builtin("neural_net")
    assert nn.setup[0].f1 == float(np.float32(0.1)) != 0.1
    assert nn.setup[2].act == 0.01  # act stays a double


def test_aliases_and_unknown_names():
    assert load_builtin("NEURAL_NET_ALGORITHM") == load_builtin("neural_net")
    assert load_builtin("LINEAR_ALGORITHM") == load_builtin("linear")
    assert load_builtin("INTEGRATION_TEST_DAMAGED_NEURAL_NET_ALGORITHM") == load_builtin(
        "damaged_neural_net"
    )
    assert load_builtin("figure5-nn") == load_builtin("figure5_nn")
    with pytest.raises(ValueError, match="unknown built-in algorithm 'nope'; known: damaged"):
        load_builtin("nope")


def test_padded_appends_no_ops_and_never_truncates():
    lin = load_builtin("linear")
    p = padded(lin, 10, 2, 8)  # the demo's init sizes
    assert p.sizes() == (10, 2, 8)
    assert p.setup[:1] == lin.setup and all(ins == NO_OP for ins in p.setup[1:])
    assert p.learn[:4] == lin.learn and p.learn[4:] == (NO_OP,) * 4
    nn = load_builtin("neural_net")
    assert padded(nn, 2, 1, 4) == nn  # longer than the init sizes: unchanged
    assert padded(nn) == nn
    assert padded(Program(), 1, 1, 1).sizes() == (1, 1, 1)


def test_nn_padded_to_the_reference_test_generator_sizes():
    # The reference's test generator pads the NN to 6/3/9: only Setup grows.
    p = padded(load_builtin("neural_net"), 6, 3, 9)
    assert p.sizes() == (6, 5, 11)
    assert p.setup[3:] == (NO_OP,) * 3
    p.check_fits(MemorySpec(5, 9, 2, 4))


def test_reference_initial_pads_before_damaging():
    damaged = load_builtin("damaged_neural_net")
    # run_integration_test_nonlinear.sh: init sizes 2/1/4 -> Setup keeps only `s3 = 0.01`
    assert reference_initial("damaged_neural_net", 2, 1, 4) == damaged
    p = reference_initial("INTEGRATION_TEST_DAMAGED_NEURAL_NET_ALGORITHM", 6, 3, 9)
    assert p.sizes() == (4, 5, 11)
    assert p.setup == damaged.setup + (NO_OP,) * 3
    assert reference_initial("linear", 10, 2, 8) == padded(load_builtin("linear"), 10, 2, 8)


def test_files_ship_as_package_data():
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert "algorithms/*.txt" in pyproject["tool"]["setuptools"]["package-data"]["amlz_compile"]
    folder = Path(__file__).parents[1] / "amlz_compile" / "algorithms"
    assert sorted(f.stem for f in folder.glob("*.txt")) == builtin_names()


# -- end to end: the built-ins learn what they should (needs the interpreter backend) -----------


def _task(kind: str, features: int = 4, n: int = 1000, nv: int = 100, seed: int = 0):
    from amlz_compile.tasks.base import Task

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n + nv, features))
    if kind == "linear":
        y = x @ rng.standard_normal(features)
    else:  # a 2-layer ReLU teacher
        m, u = rng.standard_normal((features, features)), rng.standard_normal(features)
        y = np.maximum(x @ m.T, 0.0) @ u
    orders = np.arange(n, dtype=np.int32)[None, :]
    return Task(kind, x[:n], y[:n], x[n:], y[n:], orders)


@pytest.mark.slow
def test_builtins_learn_end_to_end():
    interp = pytest.importorskip("amlz_compile.backends.interp")
    from amlz_compile.fitness import task_fitness

    backend = interp.InterpBackend()

    def fitness(name, task, **kw):
        mem = builtin_memory(name, task.features)
        run = backend.run_task(load_builtin(name), task, mem, rng_seed=7, **kw)
        return task_fitness(run.epoch_loss, run.epochs_validated, task.num_valid, False), run

    def noop_fitness(task):
        run = backend.run_task(Program(), task, builtin_memory("linear", task.features))
        return task_fitness(run.epoch_loss, run.epochs_validated, task.num_valid, False)

    linear, teacher = _task("linear"), _task("teacher")
    assert fitness("linear", linear)[0] > 0.999  # SGD linear regression solves it
    # lr 0.001: slower, but well above predicting 0 (measured 0.68 vs 0.38)
    assert fitness("readme_linear", linear)[0] > noop_fitness(linear) + 0.2
    # the 2-layer net beats the linear model on a ReLU teacher (measured 0.83 vs 0.51)
    assert fitness("neural_net", teacher)[0] > fitness("linear", teacher)[0] + 0.2
    # Without its initialisations the ReLU net never activates: weights stay exactly zero.
    _, run = fitness("damaged_neural_net", teacher, keep_memory=True)
    assert not run.matrices.any() and not run.vectors[2].any()
