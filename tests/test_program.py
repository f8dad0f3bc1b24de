"""Program views and memory checks: the vectorised checks agree with their per-instruction
definitions, and the cached component views equal checked `Instruction`s."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from amlz_compile.ir.ops import MATRIX, SCALAR, VECTOR
from amlz_compile.ir.program import COMPONENTS, Instruction, MemorySpec, Program, ProgramError
from tests.strategies import programs_with_memory


def reference_check_fits(program: Program, memory: MemorySpec) -> str | None:
    """The definition: the message for the first out-of-range address, in program order
    (component, instruction, then in1, in2, out), or None."""
    for name in COMPONENTS:
        for pos, ins in enumerate(program.component(name)):
            info = ins.info
            for field in ("in1", "in2", "out"):
                kind = getattr(info, field)
                addr = getattr(ins, field)
                if kind is not None and addr >= memory.count(kind):
                    return (
                        f"{name} instruction {pos} ({info.name}): {kind}{addr} is out of range "
                        f"(memory has {memory.count(kind)} {kind}-addresses)"
                    )
    return None


def reference_required_memory(program: Program, features: int) -> MemorySpec:
    need = {SCALAR: 2, VECTOR: 1, MATRIX: 0}
    for name in COMPONENTS:
        for ins in program.component(name):
            for field in ("in1", "in2", "out"):
                kind = getattr(ins.info, field)
                if kind is not None:
                    need[kind] = max(need[kind], getattr(ins, field) + 1)
    return MemorySpec(need[SCALAR], need[VECTOR], need[MATRIX], features)


@given(programs_with_memory(max_sizes=(5, 5, 5), extreme=True), st.data())
def test_check_fits_names_the_first_address_out_of_range(pair, data):
    memory, program = pair
    smaller = MemorySpec(
        data.draw(st.integers(2, memory.scalars)),
        data.draw(st.integers(1, memory.vectors)),
        data.draw(st.integers(0, memory.matrices)),
        memory.features,
    )
    expected = reference_check_fits(program, smaller)
    if expected is None:
        program.check_fits(smaller)
    else:
        with pytest.raises(ProgramError) as err:
            program.check_fits(smaller)
        assert str(err.value) == expected


@given(programs_with_memory(max_sizes=(5, 5, 5), extreme=True))
def test_required_memory_is_the_largest_address_used(pair):
    memory, program = pair
    need = program.required_memory(memory.features)
    assert need == reference_required_memory(program, memory.features)
    program.check_fits(need)


def test_check_fits_hand_made_cases():
    program = Program(
        setup=[Instruction(56, out=3, act=1.0)],  # s3 = 1
        predict=[Instruction(31, in1=1, in2=0, out=2)],  # v2 = m1 . v0
        learn=[Instruction(28, in1=2, in2=0, out=0)],  # m0 = outer(v2, v0)
    )
    program.check_fits(MemorySpec(4, 3, 2, 4))
    with pytest.raises(ProgramError, match=r"^setup instruction 0 \(SCALAR_CONST_SET_OP\): s3 "):
        program.check_fits(MemorySpec(3, 3, 2, 4))
    with pytest.raises(ProgramError, match=r"^predict instruction 0 \(MATRIX_VECTOR_PRODUCT_OP\)"
                       r": m1 is out of range \(memory has 1 m-addresses\)"):  # fmt: skip
        program.check_fits(MemorySpec(4, 3, 1, 4))
    with pytest.raises(ProgramError, match=r"^predict instruction 0 .*: v2 "):
        program.check_fits(MemorySpec(4, 2, 2, 4))
    assert program.required_memory(8) == MemorySpec(4, 3, 2, 8)
    assert Program().required_memory() == MemorySpec(2, 1, 0, 4)
    Program().check_fits(MemorySpec(2, 1, 0, 4))


@given(programs_with_memory(max_sizes=(5, 5, 5), extreme=True))
def test_component_views_equal_checked_instructions(pair):
    _, program = pair
    for k, name in enumerate(COMPONENTS):
        view = program.component(name)
        lo, hi = int(program.bounds[k]), int(program.bounds[k + 1])
        checked = tuple(
            Instruction(*program.code[i].tolist(), *program.data[i].tolist()) for i in range(lo, hi)
        )
        # field by field, floats bit for bit (NaN data never compares equal)
        assert [a.row()[0] for a in view] == [b.row()[0] for b in checked]
        bits = lambda ins: np.array([i.row()[1] for i in ins]).tobytes()  # noqa: E731
        assert bits(view) == bits(checked)
        assert all(type(a.act) is float and type(a.op) is int for a in view)
        assert program.component(name) is view  # built once: the program is immutable
    again = pickle.loads(pickle.dumps(program))
    assert again == program and again.sizes() == program.sizes()
    assert Program(**program.components()) == program


@pytest.mark.parametrize("bad", [-1, 65536])
def test_from_arrays_rejects_addresses_outside_the_field_range(bad):
    code = np.array([[1, 0, 0, 2], [1, 0, bad, 2]])
    with pytest.raises(ProgramError, match=r"row 1: address outside 0\.\.65535"):
        Program.from_arrays(code, np.zeros((2, 4)), [0, 0, 2, 2])
