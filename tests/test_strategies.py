"""The shared strategies draw what they promise: typed instructions that fit the memory."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amlz_compile.ir import OPS, MemorySpec
from tests.strategies import (
    feasible_ops,
    instructions,
    memory_specs,
    programs,
    programs_with_memory,
)


@given(programs_with_memory(extreme=True))
def test_programs_fit_their_memory(pair):
    memory, program = pair
    program.check_fits(memory)
    assert all(n <= 6 for n in program.sizes())


@given(st.data())
def test_instruction_fields(data):
    memory = data.draw(memory_specs())
    ins = data.draw(instructions(memory, extreme=True, reference_outputs=True))
    info = ins.info
    for field in ("in1", "in2", "out"):
        kind = getattr(info, field)
        value = getattr(ins, field)
        if kind is None:
            assert value == 0  # unused fields stay zero, as in the reference
        else:
            assert value < memory.count(kind)
    if info.out in ("s", "v") and memory.count(info.out) > 1:
        assert ins.out >= 1  # the reference never writes s0 / v0 at random
    for field in ("act", "f0", "f1", "f2"):
        if field not in info.data:
            assert getattr(ins, field) == 0.0 and math.copysign(1, getattr(ins, field)) > 0
    index_fields = {57: ("f0",), 58: ("f0", "f1")}.get(ins.op, ())
    assert all(0.0 <= getattr(ins, f) < 1.0 for f in index_fields)


@given(programs(memory=MemorySpec(4, 3, 0, 4), ops={"setup": [56], "predict": [27, 59]}))
def test_per_component_op_lists_and_missing_kinds(program):
    assert {i.op for i in program.setup} <= {56}
    assert {i.op for i in program.predict} <= {27, 59}
    assert not program.learn  # missing from the mapping: no instructions


def test_feasible_ops_drop_missing_kinds():
    no_matrices = MemorySpec(4, 3, 0, 4)
    ops = feasible_ops(no_matrices)
    assert 41 not in ops and 28 not in ops and 27 in ops
    assert len(feasible_ops(MemorySpec(4, 3, 1, 4))) == len(OPS)
    with pytest.raises(ValueError, match="fits memory"):
        instructions(no_matrices, ops=[41, 64])
