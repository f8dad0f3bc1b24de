"""The effective-program view (`amlz_compile.effective`, `amlz show --effective`): what it
removes on a hand-made program, its fitness guarantee on random programs, the CLI end to end,
and that it leaves the program and the exact simplifier alone."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from amlz_compile.algorithms import load_builtin
from amlz_compile.effective import effective_program, render_instruction
from amlz_compile.errors import AmlzError
from amlz_compile.evaluate import Evaluator
from amlz_compile.ir import parse_instruction, parse_program
from amlz_compile.ir.text import format_program
from amlz_compile.passes import canonical_key, simplify_program
from tests.strategies import ci_cap, programs_with_memory, small_tasks
from tests.test_cli import amlz

# Linear regression by SGD (the built-in `linear`, error in s2, learning rate in s3) with
# three additions: `s4 = s2 - s2` (added back to s2), a product with the never-written v4
# (added to the update), and a maximum with -1e30 that never changes a prediction.
HAND_MADE = """def Setup():
  s3 = 0.01
  s7 = -1e+30
def Predict():
  s1 = dot(v1, v0)
  s1 = maximum(s1, s7)
def Learn():
  s2 = s0 - s1
  s4 = s2 - s2
  s2 = s2 + s4
  s2 = s3 * s2
  v2 = s2 * v0
  v3 = v2 * v4
  v2 = v2 + v3
  v1 = v1 + v2
"""

HAND_MADE_EFFECTIVE = """def Setup():
  s3 = 0.01
def Predict():
  s1 = dot(v1, v0)
def Learn():
  s2 = s0 - s1
  s2 = s3 * s2
  v2 = s2 * v0
  v1 = v1 + v2
# dropped:
#   Setup 1: s7 = -1e+30  (dead code)
#   Predict 1: s1 = maximum(s1, s7)  (no effect on fitness)
#   Learn 1: s4 = s2 - s2  (x - x = 0 (approx.); redundant write)
#   Learn 2: s2 = s2 + s4  (no-op: x = x + 0, x = x * 1 (approx.))
#   Learn 5: v3 = v2 * v4  (x * 0 = 0 (approx.); redundant write)
#   Learn 6: v2 = v2 + v3  (no-op: x = x + 0, x = x * 1 (approx.))
"""

LINEAR = {"kind": "linear", "features": 4, "num_tasks": 3, "num_train": 100, "num_valid": 20}


def test_the_hand_made_program_loses_exactly_its_additions():
    program = parse_program(HAND_MADE)
    view = effective_program(program, [LINEAR])
    assert view.text.split("def Setup():", 1)[1] == HAND_MADE_EFFECTIVE.split("def Setup():")[1]
    assert view.text.startswith("# effective program: APPROXIMATE")
    assert "s2 - s2 is NaN, not 0, when s2 is inf" in view.text
    assert "within 1e-09" in view.text and "linear x3 (F=4, train 100, valid 20, rms)" in view.text
    assert abs(view.fitness_after - view.fitness_before) <= 1e-9
    assert [(c.component, c.index) for c in view.dropped] == [
        ("setup", 1), ("predict", 1), ("learn", 1), ("learn", 2), ("learn", 5), ("learn", 6),
    ]  # fmt: skip
    assert view.rewritten == ()
    # the register names aside, what is left is the built-in linear regression
    assert canonical_key(view.program) == canonical_key(load_builtin("linear"))
    doc = json.loads(json.dumps(view.to_dict()))
    assert doc["approximate"] is True and doc["size_before"] == 12 and doc["size_after"] == 6
    assert parse_program(doc["program_text"]) == view.program


def test_a_rewrite_that_changes_the_fitness_is_not_kept():
    """`s6 = s5 - s5` is NaN when s5 is inf (here s1 / 0): the view keeps it (it is
    approximate, and checked on the tasks)."""
    extra = "  s5 = s1 / s9\n  s6 = s5 - s5\n  s1 = s1 + s6\n"
    text = HAND_MADE.replace("def Learn():\n", extra + "def Learn():\n")
    view = effective_program(parse_program(text), [LINEAR])
    assert extra.replace("s9", "0") in view.text.split("# dropped:")[0]
    assert view.fitness_after == view.fitness_before == 0.0


def test_the_diff_against_a_starting_program():
    view = effective_program(parse_program(HAND_MADE), [LINEAR], against=load_builtin("linear"),
                             against_label="builtin:linear")  # fmt: skip
    lines = view.diff.splitlines()
    assert lines[:2] == ["--- against: builtin:linear", "+++ effective"]
    assert "-  s3 = s0 - s1" in lines and "+  s2 = s0 - s1" in lines
    assert " def Predict():" in lines and " def Learn():" in lines
    empty = effective_program(parse_program(HAND_MADE), [LINEAR])
    assert empty.diff.splitlines()[0] == "--- against: the empty program"
    assert "+  s1 = dot(v1, v0)" in empty.diff.splitlines()


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("s3 = s2 + s9", "s3 = s2"),
        ("s3 = s9 - s2", "s3 = -s2"),
        ("v3 = v2 - v9", "v3 = v2"),
        ("s3 = minimum(s2, s2)", "s3 = s2"),
        ("v3 = s8 * v2", "v3 = v2"),
        ("s3 = s2 / s8", "s3 = s2"),
        ("s3 = s8 / s2", "s3 = 1 / s2"),
        ("v3 = s9 * v2", "v3 = 0 * v2"),
        ("s3 = s2 - s2", "s3 = s2 - s2"),
        ("v3 = uniform(0.5, 0.5, n_features)", "v3 = full(n_features, 0.5)"),
    ],
)
def test_rendering(text, shown):
    known = {("s", 9): 0.0, ("v", 9): -0.0, ("s", 8): 1.0}
    assert render_instruction(parse_instruction(text), known) == shown


def test_the_program_is_not_modified_and_simplify_is_unchanged():
    program = parse_program(HAND_MADE)
    code, data, bounds = program.code.copy(), program.data.copy(), program.bounds.copy()
    simple, key = simplify_program(program), canonical_key(program)
    effective_program(program, [LINEAR])
    assert np.array_equal(program.code, code) and np.array_equal(program.bounds, bounds)
    assert program.data.tobytes() == data.tobytes()
    assert simplify_program(program) == simple and canonical_key(program) == key
    assert format_program(simple) == format_program(simplify_program(parse_program(HAND_MADE)))


def test_bad_arguments():
    program = parse_program(HAND_MADE)
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(AmlzError, match="tolerance"):
            effective_program(program, [LINEAR], bad)
    with pytest.raises(AmlzError, match="at least one task"):
        effective_program(program, [])
    with pytest.raises(AmlzError, match="unknown task kind"):
        effective_program(program, [{"kind": "no_such_kind"}])


# arithmetic the rewrites apply to: sums, differences, products, divisions, min/max, dot,
# broadcasts, constant and random writes
ARITHMETIC = (1, 2, 3, 4, 18, 19, 23, 24, 25, 26, 27, 44, 47, 56, 57, 59, 60, 62)


@st.composite
def _program_and_task(draw):
    ops = draw(st.sampled_from([None, ARITHMETIC]))
    extreme = draw(st.booleans())
    memory, program = draw(programs_with_memory(max_sizes=(4, 6, 6), ops=ops, extreme=extreme))
    return program, draw(small_tasks(memory.features))


@ci_cap(25)
@given(_program_and_task(), st.sampled_from([0.0, 1e-9, 1e-3]))
def test_the_effective_fitness_is_within_tolerance(case, tolerance):
    program, task = case
    before = program.code.copy(), program.data.tobytes()
    view = effective_program(program, [task], tolerance)
    assert abs(view.fitness_after - view.fitness_before) <= tolerance
    memory = view.program.required_memory(task.features)
    assert Evaluator([task], memory).evaluate(view.program, 0) == view.fitness_after
    assert len(view.program) <= len(program)
    assert np.array_equal(program.code, before[0]) and program.data.tobytes() == before[1]
    dropped = {(c.component, c.index) for c in view.dropped}
    assert len(dropped) == len(program) - len(view.program)


# -- the CLI, in real subprocesses -------------------------------------------------------------


def test_cli_show_effective(tmp_path):
    algo = tmp_path / "hand.txt"
    algo.write_text(HAND_MADE)
    args = ["show", str(algo), "--effective", "--tasks", "linear", "--num-tasks", "3",
            "--train", "100", "--valid", "20"]  # fmt: skip
    proc = amlz(*args, "--against", "linear")
    assert proc.stdout.startswith("# effective program: APPROXIMATE")
    assert HAND_MADE_EFFECTIVE.split("# dropped:")[0] in proc.stdout
    assert "--- against: builtin:linear" in proc.stdout
    out = tmp_path / "view.json"
    proc = amlz(*args, "--json", "--out", str(out), "--tolerance", "1e-6")
    doc = json.loads(proc.stdout)
    assert doc == json.loads(out.read_text())
    assert doc["tolerance"] == 1e-6 and doc["size_after"] == 6
    assert doc["task_specs"][0]["kind"] == "linear" and doc["task_specs"][0]["num_tasks"] == 3
    text_out = tmp_path / "view.txt"
    proc = amlz(*args, "--out", str(text_out))
    assert text_out.read_text().rstrip() == proc.stdout.rstrip()


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--effective", "--tasks", "no-such-kind"], "unknown task kind 'no_such_kind'"),
        (["--effective", "--tasks", "missing.json"], "task file missing.json does not exist"),
        (["--effective"], "--effective needs --tasks"),
        (["--tasks", "linear"], "--tasks: only with --effective"),
        (["--effective", "--tasks", "linear", "--tolerance", "-1"], "tolerance"),
        (["--effective", "--tasks", "linear", "--against", "nothing.txt"], "no algorithm file"),
    ],
)
def test_cli_show_effective_errors(extra, fragment):
    proc = amlz("show", "linear", *extra, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error:") and fragment in proc.stderr, proc.stderr


def test_cli_effective_with_a_task_file(tmp_path):
    spec = tmp_path / "tasks.json"
    spec.write_text(json.dumps({"tasks": [LINEAR, {**LINEAR, "num_tasks": 1, "kind": "zeros"}]}))
    proc = amlz("show", "linear", "--effective", "--tasks", str(spec))
    assert "linear x3" in proc.stdout and "zeros x1" in proc.stdout


def test_copies_through_a_known_zero_are_propagated_away():
    """As in the digits discovery (examples/results/projected_binary_digits): `v5 = v3 + v4`,
    `v4 = dot(m0, v6)` (zero), `v4 = v5 + v4` leave v4 as it was: Predict keeps its dot only.
    Here Learn is SGD one example late (v4 holds the last step's update)."""
    text = """def Setup():
  v1 = gaussian(0.0, 0.5, n_features)
  s2 = 0.01
def Predict():
  s1 = dot(v0, v1)
  v5 = v3 + v4
  v4 = dot(m0, v6)
  v4 = v5 + v4
def Learn():
  v1 = v1 + v4
  s3 = s0 - s1
  s3 = s2 * s3
  v4 = s3 * v0
"""
    view = effective_program(parse_program(text), [LINEAR])
    assert (
        view.text.split("# instructions:")[1].split("\n", 1)[1]
        == """def Setup():
  v1 = gaussian(0.0, 0.5, n_features)
  s2 = 0.01
def Predict():
  s1 = dot(v0, v1)
def Learn():
  v1 = v1 + v4
  s3 = s0 - s1
  s3 = s2 * s3
  v4 = s3 * v0
# dropped:
#   Predict 1: v5 = v3 + v4  (dead code)
#   Predict 2: v4 = dot(m0, v6)  (constant (exact fold); dead code)
#   Predict 3: v4 = v5 + v4  (copy: x + 0 = x, x * 1 = x (approx.); copy propagated (approx.); \
no-op: x = x + 0, x = x * 1 (approx.))
"""
    )
    assert view.fitness_after == view.fitness_before
