"""Hand-made cases for liveness, DCE, constant folding, canonical form and canonical keys."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from amlz_compile.backends.interp import InterpBackend, execute_instruction
from amlz_compile.ir.ops import OPS
from amlz_compile.ir.program import Instruction, MemorySpec, Program
from amlz_compile.ir.text import format_program, parse_program
from amlz_compile.passes import (
    canonical_key,
    canonicalize,
    constant_values,
    eliminate_dead_code,
    fold_constants,
    live_in,
    live_mask,
    simplify,
    simplify_program,
)
from amlz_compile.passes.fold import FOLDABLE, evaluate_op
from amlz_compile.tasks.base import ACCURACY, RMS_ERROR, Task
from tests.strategies import programs_with_memory

MEM = MemorySpec(8, 6, 3, 4)


def prog(text: str) -> Program:
    """Parse, adding empty sections that the text leaves out."""
    if "def Setup():" not in text:
        text = "def Setup():\n" + text.lstrip("\n")
    if "def Learn():" not in text:
        text = text.rstrip("\n") + "\ndef Learn():\n"
    return parse_program(text)


def body(program: Program) -> str:
    return format_program(program).strip()


def task(eval_type: str = RMS_ERROR, n_train: int = 6, n_valid: int = 4, epochs: int = 3) -> Task:
    rng = np.random.default_rng(7)
    tx, vx = rng.normal(size=(n_train, 4)), rng.normal(size=(n_valid, 4))
    if eval_type == ACCURACY:
        ty, vy = (tx[:, 0] > 0).astype(float), (vx[:, 0] > 0).astype(float)
    else:
        ty, vy = tx @ [0.5, -1.0, 0.25, 2.0], vx @ [0.5, -1.0, 0.25, 2.0]
    orders = np.stack([np.arange(n_train)] + [rng.permutation(n_train) for _ in range(epochs - 1)])
    return Task("t", tx, ty, vx, vy, orders, eval_type)


def trace(program: Program, t: Task, seed: int = 11) -> np.ndarray:
    n = t.max_train_examples + t.epochs * t.num_valid
    return InterpBackend().run_task(program, t, MEM, rng_seed=seed, trace_len=n).trace


def assert_same_behaviour(a: Program, b: Program) -> None:
    for eval_type in (RMS_ERROR, ACCURACY):
        t = task(eval_type)
        assert np.array_equal(trace(a, t), trace(b, t), equal_nan=True)


def differs(a: Program, b: Program) -> bool:
    t = task()
    return not np.array_equal(trace(a, t), trace(b, t), equal_nan=True)


LINEAR = """
def Setup():
  s2 = 0.01
def Predict():
  s1 = dot(v0, v1)
def Learn():
  s3 = s0 - s1
  s4 = s2 * s3
  v2 = s4 * v0
  v1 = v1 + v2
"""


# -- liveness and DCE --------------------------------------------------------------------------


def test_linear_regressor_is_fully_live():
    p = prog(LINEAR)
    assert live_mask(p).all()
    assert live_in(p)["predict"] == {"v0", "v1", "s2"}
    assert eliminate_dead_code(p) == p


def test_dead_learn_is_removed():
    p = prog(
        """
def Setup():
  s2 = 0.5
def Predict():
  s1 = dot(v0, v0)
def Learn():
  s3 = s0 - s1
  v2 = s2 * v0
  NoOp()
"""
    )
    assert not live_mask(p)[[0, 2, 3, 4]].any()
    simple = eliminate_dead_code(p)
    assert simple.sizes() == (0, 1, 0)
    assert_same_behaviour(p, simple)


def test_value_live_only_across_the_example_loop_is_kept():
    # s3 is written in Learn and read by the *next* Predict only.
    p = prog(
        """
def Predict():
  s1 = s3 * s3
def Learn():
  s3 = s0 + s3
  v1 = s3 * v0
"""
    )
    assert live_mask(p).tolist() == [True, True, False]
    assert "s3" in live_in(p)["learn"]
    assert_same_behaviour(p, eliminate_dead_code(p))
    assert differs(p, eliminate_dead_code(p).replace(learn=[]))


def test_register_read_only_after_a_predict_without_learn_is_kept():
    # s2 written by Predict reaches the next Predict only through validation (Learn always
    # overwrites it first), so it is live only because of the validation loop.
    p = prog(
        """
def Predict():
  s1 = s2 + s0
  s2 = mean(v0)
def Learn():
  s2 = 0.5
"""
    )
    assert live_mask(p).all()
    dropped = p.replace(predict=p.predict[:1])
    assert differs(p, dropped)
    # nor is s2 a constant 0.5 in Predict (it is one on entry from Setup and from Learn)
    p = p.replace(setup=[Instruction(56, out=2, act=0.5)])
    assert constant_values(p)[1] is None
    assert_same_behaviour(p, simplify_program(p))


def test_writes_of_harness_inputs_are_dead_at_component_end_but_live_inside():
    p = prog(
        """
def Predict():
  s0 = 3.0
  s1 = s0 * s0
  v0 = bcast(s1)
def Learn():
  s0 = 2.0
  v0 = bcast(s0)
"""
    )
    assert live_mask(p).tolist() == [True, True, False, False, False]


def test_predict_output_is_live_even_when_overwritten_in_learn():
    p = prog("def Predict():\n  s1 = mean(v0)\ndef Learn():\n  s1 = 0.0\n")
    # s1 of Learn reaches the next Predict, which overwrites it before any read: dead
    assert live_mask(p).tolist() == [True, False]


def test_dead_loop_carried_update_is_removed():
    # s4 only feeds itself: strong liveness removes the cycle
    p = prog("def Predict():\n  s1 = mean(v0)\ndef Learn():\n  s4 = s4 + s0\n")
    assert live_mask(p).tolist() == [True, False]


RANDOM_KEPT = """
def Setup():
  s2 = gaussian(0.0, 1.0)
  s3 = gaussian(0.0, 1.0)
def Predict():
  s1 = s3 + s0
"""

RANDOM_REMOVED = """
def Setup():
  s3 = gaussian(0.0, 1.0)
  s2 = gaussian(0.0, 1.0)
  s4 = uniform(0.9, 0.1)
def Predict():
  s1 = s3 + s0
"""


def test_dead_random_op_before_a_live_random_op_is_kept():
    p = prog(RANDOM_KEPT)
    assert live_mask(p).tolist() == [True, True, True]
    assert "rng" in live_in(p)["setup"]
    # removing it shifts the draws of the live one
    assert differs(p, p.replace(setup=p.setup[1:]))


def test_dead_random_op_with_no_later_live_random_op_is_removed():
    p = prog(RANDOM_REMOVED)
    assert live_mask(p).tolist() == [True, False, False, True]
    assert_same_behaviour(p, eliminate_dead_code(p))


def test_constant_uniform_set_does_not_keep_the_stream_alive():
    p = prog(
        """
def Setup():
  s2 = uniform(0.5, 0.5)
  s3 = uniform(0.1, 0.9)
  s4 = uniform(-0.2, 0.7)
def Predict():
  s1 = s3 + s0
"""
    )
    # s2 draws nothing (low >= high): dead; s4 draws after the live s3 but nothing later reads
    # the stream: dead
    assert live_mask(p).tolist() == [False, True, False, True]


def test_random_ops_in_learn_feed_the_stream_of_the_next_predict():
    p = prog(
        """
def Predict():
  s2 = gaussian(0.0, 1.0)
  s1 = s2 * s0
def Learn():
  v1 = gaussian(0.0, 1.0, n_features)
"""
    )
    assert live_mask(p).all()


def test_const_set_partial_writes_read_their_output():
    p = prog(
        """
def Setup():
  v1[0.1] = 0.3
  v1[0.6] = 0.5
  v2[0.1] = 0.7
  v2 = bcast(s3)
  m0[0.1, 0.2] = 1.5
def Predict():
  s1 = dot(v0, v1)
  s2 = dot(v0, v2)
  s1 = s1 + s2
  v3 = dot(m0, v0)
  s4 = mean(v3)
  s1 = s1 + s4
"""
    )
    # v2[..] = 0.7 is killed by the full write v2 = bcast(s3); both partial v1 writes are live
    assert live_mask(p)[:5].tolist() == [True, True, False, True, True]
    assert_same_behaviour(p, eliminate_dead_code(p))
    assert differs(p, p.replace(setup=p.setup[1:]))


# -- constant folding --------------------------------------------------------------------------


def test_setup_constants_are_folded_and_then_dead():
    p = prog(
        """
def Setup():
  s2 = 0.5
  s3 = 2.0
def Predict():
  s4 = s2 * s3
  s5 = exp(s4)
  s6 = mean(v0)
  s1 = s5 * s6
def Learn():
  s6 = s2 + s0
"""
    )
    simple = simplify_program(p)
    assert simple.sizes() == (0, 3, 0)
    assert "  s2 = 2.718281828459045" in body(simple).splitlines()
    assert_same_behaviour(p, simple)


def test_constants_overwritten_in_the_loop_are_not_folded():
    p = prog(
        """
def Setup():
  s2 = 0.5
def Predict():
  s1 = s2 * s2
def Learn():
  s2 = s0 + s1
"""
    )
    assert constant_values(p) == [0.5, None, None]
    assert fold_constants(p) == p


def test_harness_values_fold_only_where_known():
    p = prog(
        """
def Predict():
  s2 = s0 + s0
  s3 = s1 + s1
  s1 = s2 + s3
def Learn():
  s4 = s0 * s1
  s1 = s1 * s4
"""
    )
    # s0 is 0 in Predict, a label in Learn; s1 is sigmoid-ed before Learn (accuracy tasks)
    assert constant_values(p) == [0.0, None, None, None, None]
    assert_same_behaviour(p, simplify_program(p))


def test_wiped_memory_reads_as_zero_in_setup():
    p = prog("def Setup():\n  s2 = cos(s3)\ndef Predict():\n  s1 = s2 * s2\n")
    assert constant_values(p) == [1.0, 1.0]
    assert body(simplify_program(p)) == "def Setup():\ndef Predict():\n  s1 = 1.0\ndef Learn():"


def test_uniform_vector_constants_fold_to_constant_uniform_sets():
    p = prog(
        """
def Setup():
  s2 = 0.25
  v1 = bcast(s2)
  v2 = v1 * v1
  m1 = outer(v1, v2)
def Predict():
  v3 = v2 + v0
  s1 = dot(v3, v1)
  s3 = norm(v2)
  s1 = s1 + s3
  m2 = m1 * m1
  v4 = dot(m2, v0)
  s4 = mean(v4)
  s1 = s1 + s4
"""
    )
    values = constant_values(p)
    assert values[:4] == [0.25, 0.25, 0.0625, 0.015625]
    assert values[6] is None  # norm depends on F: never folded
    simple = simplify_program(p)
    assert "uniform(0.0625, 0.0625, n_features)" in body(simple)
    assert_same_behaviour(p, simple)


def test_vector_constant_not_representable_as_float32_is_left_alone():
    p = prog(
        """
def Setup():
  s2 = 0.1
  v1 = bcast(s2)
def Predict():
  s1 = dot(v1, v0)
"""
    )
    assert constant_values(p)[:2] == [0.1, 0.1]
    assert fold_constants(p) == p


def test_random_ops_with_random_results_are_never_folded_and_constant_uniforms_normalised():
    p = prog(
        """
def Setup():
  s2 = gaussian(0.5, 0.125)
  s3 = uniform(0.75, 0.25)
  v1 = uniform(0.5, -1.0, n_features)
def Predict():
  s1 = s2 + s3
  v2 = v1 + v0
  s4 = mean(v2)
  s1 = s1 + s4
"""
    )
    folded = fold_constants(p)
    assert body(folded).splitlines()[1:4] == [
        "  s2 = gaussian(0.5, 0.125)",
        "  s3 = 0.75",
        "  v1 = uniform(0.5, 0.5, n_features)",
    ]
    assert_same_behaviour(p, folded)


@pytest.mark.parametrize(
    "op, a, b, expected",
    [
        (4, 1.0, 0.0, math.inf),
        (4, -1.0, 0.0, -math.inf),
        (4, 1.0, -0.0, -math.inf),
        (4, 0.0, 0.0, math.nan),
        (6, -0.0, 0.0, -math.inf),
        (14, 0.0, 0.0, -math.inf),
        (14, -1.0, 0.0, math.nan),
        (13, 1000.0, 0.0, math.inf),
        (10, 2.0, 0.0, math.nan),
        (7, math.inf, 0.0, math.nan),
        (15, -0.0, 0.0, 1.0),
        (16, 0.0, 0.0, 0.0),
        (15, math.nan, 0.0, 0.0),
        (44, 0.5, 2.2, 0.5),
        (47, -2.2, -0.5, -0.5),
        (27, 0.0, 5.0, 0.0),
        (43, math.inf, 2.0, math.inf),
        (21, -math.inf, 0.0, math.inf),
        (54, math.inf, 0.0, math.nan),
        (55, 0.0, 0.0, 0.0),
    ],
)
def test_evaluate_op_gives_ieee_results(op, a, b, expected):
    r = evaluate_op(op, a, b)
    assert (math.isnan(r) and math.isnan(expected)) or (
        r == expected and math.copysign(1, r) == math.copysign(1, expected)
    )


def test_reductions_that_depend_on_f_are_not_folded():
    assert evaluate_op(27, 0.5, 2.0) is None  # F * 1.0
    assert evaluate_op(50, 0.1) is None  # (0.1 + 0.1 + 0.1) / 3 != 0.1
    assert evaluate_op(50, -0.0) is None  # 0.0 + -0.0 + ... is +0.0: left to the backends
    assert evaluate_op(54, 2.0) is None


def test_min_max_with_nan_or_signed_zero_ties_are_not_folded():
    assert evaluate_op(44, math.nan, 1.0) is None
    assert evaluate_op(48, 0.0, -0.0) is None
    assert evaluate_op(47, -0.0, -0.0) == 0.0


SCALAR_SAMPLES = (
    0.0,
    -0.0,
    0.5,
    -0.7,
    1.0,
    -1.0,
    3.0,
    1e300,
    -1e-300,
    math.inf,
    -math.inf,
    math.nan,
)


def _interpret(op: int, a: float, b: float, F: int) -> np.ndarray:
    """Run `op` in the interpreter on inputs filled with a (in1, address 1) and b (in2, address
    0); return every element of its output (address 2)."""
    info = OPS[op]
    mem = {"s": np.zeros(3), "v": np.zeros((3, F)), "m": np.zeros((3, F, F))}
    mem[info.in1][1] = a
    if info.in2 is not None:
        mem[info.in2][0] = b
    execute_instruction(
        np.array([op, 1, 0, 2], np.int32), np.zeros(4), mem["s"], mem["v"], mem["m"], F,
        np.zeros(1, np.uint64),
    )  # fmt: skip
    return np.atleast_1d(mem[info.out][2]).ravel()


@pytest.mark.parametrize("op", sorted(FOLDABLE))
def test_folding_matches_the_interpreter_bit_for_bit(op):
    """Every foldable op, on every pair of sample values, for several F: the interpreter writes
    the folded value into every element (NaN where NaN)."""
    folded = 0
    for a in SCALAR_SAMPLES:
        for b in SCALAR_SAMPLES:
            expected = evaluate_op(op, a, b)
            if expected is None:
                continue
            folded += 1
            for F in (1, 2, 5):
                got = _interpret(op, a, b, F)
                if math.isnan(expected):
                    assert np.isnan(got).all(), (op, a, b, F, got)
                else:
                    want = np.full(got.shape, expected).view(np.int64)
                    assert np.array_equal(got.view(np.int64), want), (op, a, b, F, got, expected)
    assert folded > 0


# -- what memory already holds, random constants, self-cancelling ops ---------------------------


def test_writes_of_the_value_a_location_already_holds_are_removed():
    # Setup's v1 = 0 repeats the zeroed memory; Learn's v1 = 0.25 repeats Setup's value (nothing
    # else writes v1); v1[..] = 0.25 writes an element that is already 0.25; s0 = 0 in Predict
    # is what the harness wrote
    p = prog(
        """
def Setup():
  v1 = uniform(0.0, 0.0, n_features)
  v2 = uniform(0.25, 0.25, n_features)
  s2 = 0.5
def Predict():
  s0 = 0.0
  v2[0.3] = 0.25
  s3 = dot(v0, v2)
  s1 = dot(v0, v1)
  s1 = s1 + s3
  v1 = s2 * v1
def Learn():
  v2 = uniform(0.25, 0.25, n_features)
  s3 = s0 - s1
  v1 = v1 + v0
  v1 = s3 * v1
"""
    )
    simple = simplify_program(p)
    assert body(simple) == (
        "def Setup():\n  v1 = uniform(0.25, 0.25, n_features)\n  s2 = 0.5\n"
        "def Predict():\n  s3 = dot(v0, v1)\n  s1 = dot(v0, v2)\n  s1 = s1 + s3\n"
        "  v2 = s2 * v2\n"
        "def Learn():\n  s3 = s0 - s1\n  v2 = v2 + v0\n  v2 = s3 * v2"
    )
    assert_same_behaviour(p, simple)


@pytest.mark.parametrize(
    "text",
    [
        # -0.0 is not the +0.0 the memory holds
        "def Setup():\n  s2 = -0.0\ndef Predict():\n  s1 = mean(v0)\n  s1 = s1 * s2\n",
        # Predict overwrites v1, so Learn's write of the Setup value is not redundant
        "def Setup():\n  v1 = uniform(0.5, 0.5, n_features)\ndef Predict():\n"
        "  s1 = dot(v1, v0)\n  v1 = s1 * v0\ndef Learn():\n  v1 = uniform(0.5, 0.5, n_features)\n",
        # one element differs after the partial write, so the full write is not redundant
        "def Setup():\n  v1 = uniform(0.5, 0.5, n_features)\n  v1[0.5] = 0.25\n"
        "  v1 = uniform(0.5, 0.5, n_features)\ndef Predict():\n  s1 = dot(v1, v0)\n",
    ],
)
def test_writes_of_a_different_or_unknown_value_stay(text):
    p = prog(text)
    assert fold_constants(p) == p
    assert_same_behaviour(p, simplify_program(p))


def test_reads_of_addresses_nothing_writes_are_the_constant_zero():
    # s3 and v2 are never written: 0.0 everywhere, in every component
    p = prog(
        """
def Predict():
  s4 = s3 * s0
  v3 = v2 + v2
  s5 = mean(v3)
  s1 = s4 + s5
def Learn():
  s6 = cos(s3)
  s1 = s6 * s1
"""
    )
    assert constant_values(p)[:5] == [0.0, 0.0, 0.0, 0.0, 1.0]
    assert body(simplify_program(p)) == "def Setup():\ndef Predict():\n  s1 = 0.0\ndef Learn():"
    # a write anywhere, partial writes included, makes the address unknown where it can reach
    for write, unknown in (("  v2[0.5] = 1.0", 1), ("  s3 = mean(v0)", 0)):
        q = prog(f"def Predict():\n  s4 = s3 * s0\n  s5 = mean(v2)\n  s1 = s4 + s5\n"
                 f"def Learn():\n{write}\n")  # fmt: skip
        values = constant_values(q)
        assert values[unknown] is None and values[1 - unknown] == 0.0
        assert_same_behaviour(q, simplify_program(q))


def test_addresses_nothing_writes_share_one_name_in_the_canonical_form():
    # v3 and v4 both read as zero vectors: the canonical form reads one address for both
    a = prog(
        """
def Predict():
  v5 = maximum(v0, v4)
  v2 = maximum(v0, v3)
  v5 = v5 + v2
  s1 = dot(v5, v0)
"""
    )
    b = prog(a_text := str(format_program(a)).replace("maximum(v0, v3)", "maximum(v0, v4)"))
    assert "v3" not in a_text
    assert canonical_key(a) == canonical_key(b)
    assert body(canonicalize(a)) == (
        "def Setup():\ndef Predict():\n  v2 = maximum(v0, v1)\n  v3 = maximum(v0, v1)\n"
        "  v2 = v2 + v3\n  s1 = dot(v2, v0)\ndef Learn():"
    )
    assert_same_behaviour(a, canonicalize(a))
    # reserved addresses are never merged: s0 and s1 are set by the harness
    c = prog("def Predict():\n  s2 = s3 + s4\n  s1 = s2 * s1\n")
    assert body(canonicalize(c)).splitlines()[2] == "  s3 = s2 + s2"


@pytest.mark.parametrize(
    "line, value",
    [
        ("s2 = gaussian(0.5, 0.0)", 0.5),
        ("s2 = gaussian(0.5, -0.0)", 0.5),
        ("s2 = gaussian(0.0, 0.0)", 0.0),
        ("s2 = gaussian(-inf, 0.0)", -math.inf),
        ("s2 = gaussian(0.5, nan)", math.nan),
        ("s2 = uniform(0.5, inf)", math.inf),
        ("s2 = uniform(-inf, 0.5)", math.nan),
        ("s2 = uniform(-inf, inf)", math.nan),
        ("s2 = gaussian(-0.0, 0.0)", None),  # -0.0 + +-0.0: the sign follows the draw
        ("s2 = gaussian(0.5, inf)", None),
        ("s2 = uniform(0.25, 0.5)", None),
        ("s2 = uniform(0.25, 3.4028234663852886e+38)", None),
    ],
)
def test_random_ops_whose_result_does_not_depend_on_the_draws(line, value):
    p = prog(f"def Setup():\n  {line}\ndef Predict():\n  s1 = s2 + s0\n")
    got = constant_values(p)[0]
    assert (got is None and value is None) or same_float(got, value)
    simple = simplify_program(p)
    # nothing draws after it, so a constant one becomes a constant write (and is folded on)
    assert ("gaussian" in body(simple) or "uniform" in body(simple)) == (value is None)
    assert_same_behaviour(p, simple)


def same_float(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1, a) == math.copysign(1, b)


def test_random_constant_before_a_live_draw_keeps_its_draws_but_its_value_is_folded():
    p = prog(
        """
def Setup():
  s2 = gaussian(0.5, 0.0)
  v1 = gaussian(0.25, 1.0, n_features)
  v2 = gaussian(0.25, 0.0, n_features)
def Predict():
  s3 = s2 * s2
  s1 = dot(v1, v0)
  s1 = s1 + s3
  s4 = dot(v2, v0)
  s1 = s1 + s4
"""
    )
    simple = simplify_program(p)
    lines = body(simple).splitlines()
    # s2's two draws move v1's: kept (its value, 0.5, is no longer read); v2's draws come last:
    # a constant write
    assert lines[1:4] == [
        "  s2 = gaussian(0.5, 0.0)",
        "  v1 = gaussian(0.25, 1.0, n_features)",
        "  v2 = uniform(0.25, 0.25, n_features)",
    ]
    assert "  s4 = 0.25" in lines
    assert_same_behaviour(p, simple)
    assert differs(p, p.replace(setup=p.setup[1:]))


def test_uniform_with_equal_bounds_draws_nothing_so_it_folds_before_live_draws_too():
    p = prog(
        """
def Setup():
  s2 = uniform(inf, inf)
  v1 = uniform(-0.5, -0.5, n_features)
  v2 = gaussian(0.0, 1.0, n_features)
def Predict():
  s3 = s2 * s0
  v3 = v1 + v2
  s1 = dot(v3, v0)
  s1 = s1 + s3
"""
    )
    assert constant_values(p)[:3] == [math.inf, -0.5, None]
    simple = simplify_program(p)
    lines = body(simple).splitlines()
    assert "  s2 = nan" in lines or "  s2 = -nan" in lines  # inf * 0
    assert "uniform(inf" not in body(simple)
    assert_same_behaviour(p, simple)


def test_overwritten_random_initialisations_stay_exactly_when_a_live_draw_follows():
    # Setup's first gaussian is overwritten before any read, but v1's live draws come after
    # it: removing it would shift them. Learn's gaussian is dead and no live draw ever follows
    # it (Setup's draws all came before): removed.
    p = prog(
        """
def Setup():
  v1 = gaussian(0.0, 1.0, n_features)
  v1 = gaussian(0.5, 0.1, n_features)
def Predict():
  s1 = dot(v1, v0)
def Learn():
  s2 = gaussian(0.0, 1.0)
  m0 = uniform(-1.0, 1.0, (n_features, n_features))
"""
    )
    assert live_mask(p).tolist() == [True, True, True, False, False]
    assert differs(p, p.replace(setup=p.setup[1:]))
    assert_same_behaviour(p, simplify_program(p))
    # once a live draw runs in the loop, every earlier draw in the loop and in Setup is kept
    q = p.replace(predict=p.predict + prog("def Predict():\n  s3 = uniform(0.0, 1.0)\n"
                                            "  s1 = s1 + s3\n").predict)  # fmt: skip
    assert live_mask(q).all()
    assert differs(q, q.replace(learn=q.learn[1:]))


def test_self_cancelling_ops_of_unknown_values_are_not_folded():
    # s2 - s2 is NaN when s2 is +-inf or NaN (inf - inf), v2 / v2 also at 0; mean(v0) can be
    # anything, so neither is a constant (only known finite constants fold)
    p = prog(
        """
def Predict():
  s2 = mean(v0)
  s3 = s2 - s2
  v2 = v0 / v0
  s4 = mean(v2)
  s1 = s3 + s4
"""
    )
    assert constant_values(p) == [None, None, None, None, None]
    assert len(simplify_program(p)) == len(p)
    t = task()
    valid_x = np.array(t.valid_x)
    valid_x[0, :] = math.inf
    t = Task("inf", t.train_x, t.train_y, valid_x, t.valid_y, t.orders, RMS_ERROR)
    assert np.isnan(trace(p, t)).any()  # inf - inf
    q = prog("def Setup():\n  s2 = 2.5\ndef Predict():\n  s3 = s2 - s2\n  s1 = s3 + s0\n")
    assert body(simplify_program(q)) == "def Setup():\ndef Predict():\n  s1 = 0.0\ndef Learn():"


# -- canonical form and keys -------------------------------------------------------------------


def test_canonical_key_ignores_renaming_order_and_dead_code():
    base = prog(LINEAR)
    renamed = prog(
        """
def Setup():
  s6 = 0.01
def Predict():
  s1 = dot(v0, v4)
def Learn():
  s7 = s0 - s1
  s2 = s6 * s7
  v3 = s2 * v0
  v4 = v4 + v3
"""
    )
    reordered_with_dead_code = prog(
        """
def Setup():
  s5 = 0.3
  s2 = 0.01
  v2 = uniform(0.5, 0.25, n_features)
def Predict():
  NoOp()
  s1 = dot(v0, v1)
  s5 = s1 * s1
def Learn():
  s3 = s0 - s1
  s4 = s2 * s3
  s6 = s3 + s3
  v2 = s4 * v0
  v1 = v1 + v2
"""
    )
    key = canonical_key(base)
    assert canonical_key(renamed) == key
    assert canonical_key(reordered_with_dead_code) == key
    assert canonical_key(base, fold=False) == canonical_key(renamed, fold=False)
    assert canonicalize(renamed) == canonicalize(base)


def test_canonical_key_ignores_order_of_independent_instructions():
    a = prog(
        """
def Setup():
  s2 = 0.5
  s3 = -2.0
  v1 = gaussian(0.0, 1.0, n_features)
def Predict():
  s4 = dot(v0, v1)
  s5 = mean(v0)
  s6 = s4 * s2
  s7 = s5 * s3
  s1 = s6 + s7
"""
    )
    b = prog(
        """
def Setup():
  v2 = gaussian(0.0, 1.0, n_features)
  s5 = -2.0
  s3 = 0.5
def Predict():
  s2 = mean(v0)
  s7 = s2 * s5
  s4 = dot(v0, v2)
  s6 = s4 * s3
  s1 = s6 + s7
"""
    )
    assert canonical_key(a) == canonical_key(b)
    assert_same_behaviour(a, b)


@pytest.mark.parametrize(
    "other",
    [
        LINEAR.replace("s2 = 0.01", "s2 = 0.02"),
        LINEAR.replace("s3 = s0 - s1", "s3 = s1 - s0"),
        LINEAR.replace("v1 = v1 + v2", "v1 = v1 - v2"),
        LINEAR.replace("s1 = dot(v0, v1)", "s1 = dot(v0, v2)"),
    ],
)
def test_canonical_key_differs_for_different_behaviour(other):
    assert canonical_key(prog(other)) != canonical_key(prog(LINEAR))
    assert differs(prog(other), prog(LINEAR))


def test_random_op_order_is_part_of_the_key():
    a = prog(
        "def Setup():\n  s2 = gaussian(0.0, 1.0)\n  s3 = uniform(0.0, 1.0)\n"
        "def Predict():\n  s1 = s2 - s3\n"
    )
    b = prog(
        "def Setup():\n  s3 = uniform(0.0, 1.0)\n  s2 = gaussian(0.0, 1.0)\n"
        "def Predict():\n  s1 = s2 - s3\n"
    )
    assert canonical_key(a) != canonical_key(b)
    assert differs(a, b)


def test_renaming_shrinks_memory_and_zeroes_unused_fields():
    p = Program(
        setup=[Instruction(56, in1=3, in2=9, out=7, act=0.5, f0=0.25)],
        predict=[Instruction(21, in1=5, in2=4, out=1, act=1.0), Instruction(3, 7, 1, 1)],
        learn=[Instruction(18, 7, 0, 5, f2=3.0)],
    )
    c = canonicalize(p)
    assert c.required_memory() == MemorySpec(3, 2, 0, 4)
    assert body(c) == (
        "def Setup():\n  s2 = 0.5\ndef Predict():\n  s1 = norm(v1)\n  s1 = s2 * s1\n"
        "def Learn():\n  v1 = s2 * v0"
    )
    assert_same_behaviour(p, c)


def test_simplify_reports_sizes_and_reaches_a_fixed_point():
    p = prog(
        """
def Setup():
  s2 = 0.5
  s3 = s2 + s2
def Predict():
  s1 = s3 * s0
def Learn():
  s5 = s0 * s0
"""
    )
    r = simplify(p)
    assert (r.size_before, r.size_after) == (4, 1)
    assert r.passes_run[-1] == "canon" and "fold" in r.passes_run and "dce" in r.passes_run
    assert body(r.program) == "def Setup():\ndef Predict():\n  s1 = 0.0\ndef Learn():"
    assert simplify(r.program).program == r.program
    assert simplify(p, fold=False).size_after == 3


# -- properties of the canonical key -----------------------------------------------------------

RESERVED = {"s": (0, 1), "v": (0,), "m": ()}


def _rename(program: Program, memory: MemorySpec, perm: dict) -> Program:
    rows = []
    for ins in program.setup + program.predict + program.learn:
        info = ins.info
        fields = {}
        for name in ("in1", "in2", "out"):
            kind = getattr(info, name)
            addr = getattr(ins, name)
            fields[name] = perm[kind][addr] if kind is not None else addr
        rows.append(Instruction(ins.op, **fields, act=ins.act, f0=ins.f0, f1=ins.f1, f2=ins.f2))
    s, p, _ = program.sizes()
    return Program(rows[:s], rows[s : s + p], rows[s + p :])


@given(programs_with_memory(max_sizes=(8, 6, 8), extreme=True), st.randoms())
def test_canonical_key_is_invariant_under_renaming(pair, rnd):
    memory, program = pair
    perm = {}
    for kind in "svm":
        free = [a for a in range(memory.count(kind)) if a not in RESERVED[kind]]
        shuffled = free[:]
        rnd.shuffle(shuffled)
        perm[kind] = {a: a for a in RESERVED[kind]} | dict(zip(free, shuffled, strict=True))
    renamed = _rename(program, memory, perm)
    assert canonical_key(renamed) == canonical_key(program)
    assert canonical_key(renamed, fold=False) == canonical_key(program, fold=False)
    assert simplify_program(renamed) == simplify_program(program)


@given(programs_with_memory(max_sizes=(8, 6, 8)), st.data())
def test_canonical_key_is_invariant_under_dead_code_insertion(pair, data):
    memory, program = pair
    fresh = memory.scalars  # an address nothing reads
    parts = {}
    for name in ("setup", "predict", "learn"):
        rows = list(program.component(name))
        for _ in range(data.draw(st.integers(0, 3))):
            at = data.draw(st.integers(0, len(rows)))
            a, b = data.draw(st.integers(0, fresh)), data.draw(st.integers(0, fresh))
            dead = data.draw(st.sampled_from([Instruction(0), Instruction(1, a, b, fresh)]))
            rows.insert(at, dead)
        parts[name] = rows
    padded = Program(**parts)
    assert canonical_key(padded) == canonical_key(program)
    assert simplify_program(padded) == simplify_program(program)


@given(programs_with_memory(max_sizes=(8, 6, 8), extreme=True))
def test_simplified_program_needs_no_more_memory_and_is_a_fixed_point(pair):
    memory, program = pair
    simple = simplify_program(program)
    need, had = simple.required_memory(), program.required_memory()
    assert need.scalars <= had.scalars and need.vectors <= had.vectors
    assert need.matrices <= had.matrices
    assert simplify_program(simple) == simple
    assert canonicalize(simple) == simple
    assert fold_constants(simple) == simple
    assert eliminate_dead_code(simple) == simple
