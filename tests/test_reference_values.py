"""Reference values of the official code's unit tests and the quirks of docs/semantics.md#quirks.

Tasks are built directly with `Task(...)`; programs with `Instruction`s. Fitness comes from the
`Evaluator` (interpreter backend), final memories and predictions from `InterpBackend` /
`predict_trace`.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from amlz_compile.backends.interp import InterpBackend, execute_instruction
from amlz_compile.evaluate import Evaluator, predict_trace
from amlz_compile.fitness import task_fitness
from amlz_compile.ir.program import Instruction, MemorySpec, Program
from amlz_compile.rng import new_state
from amlz_compile.tasks import ACCURACY, RMS_ERROR, Task

MEM = MemorySpec(6, 4, 2, 4)
BACKEND = InterpBackend()


def squash(rmse: float) -> float:
    return 1.0 - (2.0 / math.pi) * math.atan(rmse)


def make_task(train_x, train_y, valid_x, valid_y, *, epochs=1, eval_type=RMS_ERROR, F=4):
    ty = np.asarray(train_y, dtype=np.float64)
    vy = np.asarray(valid_y, dtype=np.float64)
    tx = np.broadcast_to(np.asarray(train_x, dtype=np.float64).reshape(len(ty), -1), (len(ty), F))
    vx = np.broadcast_to(np.asarray(valid_x, dtype=np.float64).reshape(len(vy), -1), (len(vy), F))
    orders = np.tile(np.arange(len(ty), dtype=np.int32), (epochs, 1))
    return Task("unit", tx, ty, vx, vy, orders, eval_type)


def constant_task(value, n_train=10, n_valid=10, **kw):
    return make_task(
        np.full(n_train, value), np.full(n_train, value), np.full(n_valid, value),
        np.full(n_valid, value), **kw,
    )  # fmt: skip


def increment_task(n_train, n_valid, inc=1.0, **kw):
    ty = np.arange(n_train) * inc
    vy = np.arange(n_valid) * inc
    return make_task(ty, ty, vy, vy, **kw)


def fitness(program, *tasks, combination="mean", max_abs_error=100.0):
    ev = Evaluator(list(tasks), MEM, combination=combination, max_abs_error=max_abs_error)
    return ev.evaluate(program)


def final_memory(program, task, **kw):
    return BACKEND.run_task(program, task, MEM, keep_memory=True, **kw)


def I(op, in1=0, in2=0, out=0, act=0.0, f0=0.0, f1=0.0, f2=0.0):  # noqa: E743
    return Instruction(op, in1, in2, out, act, f0, f1, f2)


def const(out, value):
    return I(56, out=out, act=value)


NO_OP_PROGRAM = Program([I(0)], [I(0)], [I(0)])


# -- executor-level -----------------------------------------------------------------------------


def test_ones_task_constant_prediction_0_9():
    program = Program([], [const(1, 0.9)], [])
    assert fitness(program, constant_task(1.0)) == pytest.approx(squash(0.1), rel=1e-12)


@pytest.mark.parametrize(
    ("logit", "want"), [(-3.0, 0.0), (3.0, 1.0), (np.inf, 1.0), (-np.inf, 0.0)]
)
def test_ones_task_accuracy_from_constant_logits(logit, want):
    program = Program([], [const(1, logit)], [])
    assert fitness(program, constant_task(1.0, eval_type=ACCURACY)) == want


def test_increment_task_no_op_errors():
    task = increment_task(11, 9)
    trace = predict_trace(NO_OP_PROGRAM, task, MEM)
    assert len(trace) == 11 + 9
    train_err = np.abs(task.train_y - trace[:11])
    valid_err = np.abs(task.valid_y - trace[11:])
    assert train_err.tolist() == list(range(11))
    assert valid_err.tolist() == list(range(9))


def test_increment_task_predict_accumulates_mean_of_features():
    program = Program([], [I(50, 0, 0, 2), I(1, 2, 1, 1)], [])
    run = final_memory(program, increment_task(1000, 100), max_abs_error=np.inf)
    assert run.scalars[1] == 504450.0


def test_increment_task_learn_accumulates_labels():
    program = Program([], [], [I(1, 0, 1, 1)])
    run = final_memory(program, increment_task(1000, 100), max_abs_error=np.inf)
    assert run.scalars[1] == 499500.0


def test_increment_0_1_no_op_fitness():
    """The reference pins RMSE 5.7301812 at float precision (exactly: sqrt(32.835))."""
    got = fitness(NO_OP_PROGRAM, increment_task(1000, 100, inc=0.1))
    rmse = math.tan((1.0 - got) * math.pi / 2.0)
    assert rmse == pytest.approx(5.7301812, rel=1e-6)
    assert got == pytest.approx(squash(math.sqrt(32.835)), rel=1e-12)


def test_predict_reading_s0_sees_zero():
    program = Program([], [I(1, 0, 1, 1)], [])
    run = final_memory(program, increment_task(1000, 100), max_abs_error=np.inf)
    assert run.scalars[1] == 0.0
    assert run.train_steps == 1000


def test_zeros_task_no_op_fitness_is_one():
    assert fitness(NO_OP_PROGRAM, constant_task(0.0)) == 1.0


@pytest.mark.parametrize("where", ["setup", "predict", "learn"])
def test_prediction_110_stops_training(where):
    program = Program(**{"setup": [], "predict": [], "learn": [], where: [const(1, 110.0)]})
    assert fitness(program, constant_task(0.0)) == 0.0


@pytest.mark.parametrize("where", ["setup", "predict", "learn"])
@pytest.mark.parametrize("numerator", [1.0, 0.0])
def test_division_by_zero_into_s1_stops_training(where, numerator):
    body = [const(2, numerator), const(3, 0.0), I(4, 2, 3, 1)]
    program = Program(**{"setup": [], "predict": [], "learn": [], where: body})
    assert fitness(program, constant_task(0.0)) == 0.0


def test_training_label_1000_stops_training():
    task = make_task([0.0, 0.0], [0.0, 1000.0], [0.0], [0.0])
    assert fitness(NO_OP_PROGRAM, task) == 0.0
    assert BACKEND.run_task(NO_OP_PROGRAM, task, MEM).train_steps == 2  # the failing step counts


def test_validation_label_1000_gives_zero():
    task = make_task([0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 1000.0])
    run = BACKEND.run_task(NO_OP_PROGRAM, task, MEM)
    assert run.epochs_validated == 1 and np.isnan(run.epoch_loss[0])
    assert fitness(NO_OP_PROGRAM, task) == 0.0


def test_training_budget_beyond_the_task_trains_on_every_example_once():
    run = BACKEND.run_task(NO_OP_PROGRAM, constant_task(1.0), MEM, n_train=1000)
    assert run.train_steps == 10 and run.epochs_validated == 1


def test_zero_training_budget_runs_nothing():
    program = Program([const(1, 5.0)], [], [])
    run = BACKEND.run_task(program, constant_task(1.0), MEM, n_train=0, keep_memory=True)
    assert run.train_steps == 0 and run.epochs_validated == 0 and run.scalars[1] == 0.0


# -- op level (F = 4; in1 = address 1, in2 = address 0, out = address 1) ----------------------


def op_scalar(op, x, y):
    S = np.array([y, x, 0.0, 0.0])
    execute_instruction(
        np.array([op, 1, 0, 1], np.int32), np.zeros(4), S, np.zeros((2, 4)), np.zeros((1, 4, 4)),
        4, new_state(0),
    )  # fmt: skip
    return S[1]


def op_vector(op, x, y=None, data=(0.0, 0.0, 0.0, 0.0), out_kind="v"):
    V = np.zeros((2, 4))
    V[1] = x
    if y is not None:
        V[0] = y
    S = np.zeros(2)
    M = np.zeros((2, 4, 4))
    execute_instruction(
        np.array([op, 1, 0, 1], np.int32), np.array(data, dtype=np.float64), S, V, M, 4,
        new_state(0),
    )  # fmt: skip
    return {"v": V[1], "s": S[1], "m": M[1]}[out_kind]


def op_matrix(op, x, y=None, vec=None, data=(0.0, 0.0, 0.0, 0.0), out_kind="m"):
    M = np.zeros((2, 4, 4))
    M[1] = x
    if y is not None:
        M[0] = y
    V = np.zeros((2, 4))
    if vec is not None:
        V[0] = vec
    S = np.zeros(2)
    execute_instruction(
        np.array([op, 1, 0, 1], np.int32), np.array(data, dtype=np.float64), S, V, M, 4,
        new_state(0),
    )  # fmt: skip
    return {"v": V[1], "s": S[1], "m": M[1]}[out_kind]


def test_scalar_op_values():
    assert op_scalar(1, 0.5, 2.0) == 2.5
    assert op_scalar(2, -0.2, 2.3) == -2.5
    assert op_scalar(3, -0.2, 2.3) == pytest.approx(-0.46, rel=1e-15)
    assert op_scalar(4, 8.8, -2.0) == pytest.approx(-4.4, rel=1e-15)
    assert np.isnan(op_scalar(4, 0.0, 0.0))
    assert op_scalar(4, 1.0, 0.0) == np.inf
    for x, y in ((0.5, 2.2), (-2.2, -0.5), (2.2, -0.5)):
        assert op_scalar(44, x, y) == min(x, y)
        assert op_scalar(47, x, y) == max(x, y)
    assert op_scalar(15, -2.5, 0.0) == 0.0
    assert op_scalar(15, 0.5, 0.0) == 1.0
    assert op_scalar(14, 0.0, 0.0) == -np.inf
    assert np.isnan(op_scalar(14, -0.1, 0.0))
    assert op_scalar(12, 1e9, 0.0) == pytest.approx(math.pi / 2, rel=1e-9)
    assert op_scalar(12, -1e9, 0.0) == pytest.approx(-math.pi / 2, rel=1e-9)


def test_vector_op_values():
    got = op_vector(16, [-0.01, 0.001, 1.3, -0.001])
    assert got.tolist() == [0.0, 1.0, 1.0, 0.0]
    quotient = op_vector(26, [0.0, 1.0, 2.0, -1.0], [0.0, 0.0, 4.0, 0.0])
    assert np.isnan(quotient[0]) and quotient[1] == np.inf and quotient[2] == 0.5
    assert quotient[3] == -np.inf
    got = op_vector(57, np.zeros(4), data=(0.0, 2.5 / 4, -1.5, 0.0))
    assert got.tolist() == [0.0, 0.0, -1.5, 0.0]
    v = [2.2, -0.5, 0.0, 0.01]
    assert op_vector(21, v, out_kind="s") == pytest.approx(2.25612499654, abs=1e-11)
    assert op_vector(54, v, out_kind="s") == pytest.approx(1.04391989635, abs=1e-11)


MAT = np.array(
    [[0.1, 2.5, -0.5, -2.2], [10.3, -0.06, 0.7, -2.1], [22, 5, -5, -22], [0.4, 19.05, -0.05, -0.22]]
)


def test_matrix_op_values():
    m = np.array([[0.0, -1.0, 2.0, 0.0]] * 4)
    assert (op_matrix(17, m) == (m > 0)).all()
    got = op_matrix(58, np.zeros((4, 4)), data=(0.0, 2.5 / 4, 1.5 / 4, 7.0))
    assert np.flatnonzero(got).tolist() == [2 * 4 + 1] and got[2, 1] == 7.0
    V = np.zeros((2, 4))
    V[1] = [0.1, -0.1, 1.2, -10]
    V[0] = [2.3, -0.3, 0.5, -0.001]
    M = np.zeros((2, 4, 4))
    execute_instruction(
        np.array([28, 1, 0, 1], np.int32), np.zeros(4), np.zeros(2), V, M, 4, new_state(0)
    )
    assert M[1][0] == pytest.approx([0.23, -0.03, 0.05, -0.0001], rel=1e-15)
    vec = np.array([1.0, -2.0, 0.5, 3.0])
    assert op_matrix(31, MAT, vec=vec, out_kind="v") == pytest.approx(MAT @ vec, rel=1e-14)
    other = MAT[::-1].T.copy()
    assert op_matrix(43, MAT, other) == pytest.approx(MAT @ other, rel=1e-14)
    assert op_matrix(51, MAT, out_kind="s") == pytest.approx(1.745, rel=1e-14)
    assert op_matrix(55, MAT, out_kind="s") == pytest.approx(9.5352523563878488, rel=1e-14)
    row_means = [-0.025, 2.21, 0.0, 4.795]
    assert op_matrix(52, MAT, out_kind="v") == pytest.approx(row_means, abs=1e-14)
    row_stds = [1.68430252627, 4.78166289067, 15.9530561335, 8.23324510749]
    assert op_matrix(53, MAT, out_kind="v") == pytest.approx(row_stds, abs=1e-10)


# -- evaluator level ----------------------------------------------------------------------------


def accuracy_task(n_positive, n_valid=100):
    """A task where the constant positive logit scores n_positive / n_valid."""
    vy = np.zeros(n_valid)
    vy[:n_positive] = 1.0
    return make_task(np.zeros(2), np.zeros(2), np.zeros(n_valid), vy, eval_type=ACCURACY)


POSITIVE = Program([], [const(1, 2.0)], [])


def test_mean_combination():
    tasks = [accuracy_task(k, 10) for k in (4, 2, 6, 8)]
    assert fitness(POSITIVE, *tasks) == pytest.approx(0.5, abs=1e-15)


def test_median_combination_is_the_upper_middle():
    tasks = [accuracy_task(k) for k in (90, 12, 13, 10, 11)]
    assert fitness(POSITIVE, *tasks, combination="median") == pytest.approx(0.12, abs=1e-15)
    tasks = [accuracy_task(k, 10) for k in (1, 2, 3, 4)]  # quirk 17: not 0.25
    assert fitness(POSITIVE, *tasks, combination="median") == pytest.approx(0.3, abs=1e-15)


# -- quirks (docs/semantics.md#quirks) ------------------------------------------------------------


def test_quirk1_heaviside_at_zero():
    assert op_scalar(15, 0.0, 0.0) == 1.0
    assert op_scalar(15, -0.0, 0.0) == 1.0
    assert op_vector(16, [0.0, -0.0, np.nan, 1.0]).tolist() == [0.0, 0.0, 0.0, 1.0]
    assert op_matrix(17, np.full((4, 4), np.nan)).sum() == 0.0


@pytest.mark.parametrize("op", [59, 60, 61])
def test_quirk2_uniform_with_low_not_below_high_writes_low_and_draws_nothing(op):
    for low, high in ((0.6, 0.2), (0.25, 0.25)):
        S, V, M = np.zeros(2), np.zeros((2, 4)), np.zeros((2, 4, 4))
        state = new_state(99)
        execute_instruction(
            np.array([op, 0, 0, 1], np.int32), np.array([0.0, low, high, 0.0]), S, V, M, 4, state
        )
        out = {59: S[1:2], 60: V[1], 61: M[1]}[op]
        assert (out == low).all()
        assert int(state[0]) == 99


def test_quirk4_best_epoch_and_memory_through_validation():
    # Predict: s2 += 0.15; s1 = s2 (+ s0, which is 0 in Predict). Every Predict, validation
    # included, moves s2; epoch 2 is worse, so the fitness is epoch 1's.
    program = Program([const(3, 0.15)], [I(1, 2, 3, 2), I(1, 2, 0, 1)], [])
    task = constant_task(1.0, n_train=5, n_valid=5, epochs=2)
    trace = predict_trace(program, task, MEM)
    assert trace == pytest.approx(0.15 * np.arange(1, 21), rel=1e-12)
    e1 = np.sqrt(np.mean((1 - trace[5:10]) ** 2))
    e2 = np.sqrt(np.mean((1 - trace[15:20]) ** 2))
    assert e1 < e2
    assert fitness(program, task) == pytest.approx(squash(e1), rel=1e-12)


def test_quirk5_sigmoid_in_memory_only_while_training():
    program = Program([const(2, 1.0)], [I(1, 1, 2, 1)], [])
    task = make_task(np.zeros(3), [1, 0, 1], np.zeros(2), [1, 1], eval_type=ACCURACY)
    trace = predict_trace(program, task, MEM)
    s = 0.0
    want = []
    for _ in range(3):
        s = 1.0 / (1.0 + math.exp(-(s + 1.0)))
        want.append(s)
    want += [s + 1.0, s + 2.0]  # validation: raw logits, memory not squashed
    assert trace.tolist() == pytest.approx(want, rel=1e-15)
    rms = make_task(np.zeros(3), [1, 0, 1], np.zeros(2), [1, 1])
    assert predict_trace(program, rms, MEM).tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]


def test_quirk5_nan_logit_in_validation_is_class_zero():
    # Learn makes s2 NaN after the only training step; validation predicts NaN logits.
    program = Program([], [I(1, 2, 0, 1)], [const(3, 0.0), I(4, 3, 3, 2)])
    task = make_task([0.0], [1.0], np.zeros(3), [0.0, 1.0, 0.0], eval_type=ACCURACY)
    trace = predict_trace(program, task, MEM)
    assert trace[0] == 0.5 and np.isnan(trace[1:]).all()
    assert fitness(program, task) == pytest.approx(2 / 3, rel=1e-15)


def test_quirk6_loss_divided_by_all_validation_examples():
    task = constant_task(1.0, n_valid=4)
    run = BACKEND.run_task(NO_OP_PROGRAM, task, MEM, n_valid=2)
    assert run.epoch_loss[0] == 2.0
    got = task_fitness(run.epoch_loss, run.epochs_validated, float(task.num_valid), False)
    assert got == pytest.approx(squash(math.sqrt(2.0 / 4.0)), rel=1e-15)


@pytest.mark.parametrize(("step", "want"), [(30.0, squash(89.0)), (60.0, 0.0)])
def test_quirk7_early_stop_keeps_earlier_epochs(step, want):
    program = Program([const(3, step)], [I(1, 2, 3, 2), I(1, 2, 0, 1)], [])
    task = constant_task(1.0, n_train=2, n_valid=1, epochs=2)
    run = BACKEND.run_task(program, task, MEM)
    assert run.epochs_validated == (1 if step == 30.0 else 0)
    assert fitness(program, task) == pytest.approx(want, rel=1e-12)


def test_quirk8_s0_zeroed_before_predict_and_v0_rewritten_before_learn():
    # Learn doubles s0 and overwrites v0; Predict must still see s0 = 0 and Learn the features.
    program = Program(
        [],
        [I(1, 0, 4, 1), I(19, 2, 0, 0)],  # s1 = s0 + s4 ; v0 = bcast(s2)
        [I(50, 0, 0, 4), I(1, 0, 0, 0), I(19, 0, 0, 0)],  # s4 = mean(v0); s0 += s0; v0 = bcast(s0)
    )
    task = increment_task(5, 1)
    trace = predict_trace(program, task, MEM)
    assert trace[:5].tolist() == [0.0, 0.0, 1.0, 2.0, 3.0]


def _one_pass_radicand(values) -> float:
    s = q = 0.0
    for x in values:
        s += x
        q += x * x
    n = len(values)
    return q / n - (s / n) ** 2


@pytest.mark.parametrize(("op", "value"), [(54, 0.1), (53, 0.1), (55, 0.3)])
def test_quirk16_std_without_guard_is_nan_for_some_constants(op, value):
    F = 3
    S, V, M = np.zeros(2), np.zeros((2, F)), np.zeros((2, F, F))
    if op == 54:
        V[1] = value
    else:
        M[1] = value
    execute_instruction(np.array([op, 1, 0, 1], np.int32), np.zeros(4), S, V, M, F, new_state(0))
    n = F * F if op == 55 else F
    assert _one_pass_radicand([value] * n) < 0  # rounding makes E[x^2] - mean^2 negative
    got = V[1] if op == 53 else S[1]
    assert np.isnan(got).all()
