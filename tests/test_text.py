"""The readable text form: every op prints and parses back, numbers round-trip bit for bit,
reference printouts parse, bad input fails with the line number."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from amlz_compile.ir import (
    OPS,
    Instruction,
    MemorySpec,
    ParseError,
    Program,
    format_instruction,
    format_program,
    parse_instruction,
    parse_program,
    parse_program_meta,
)
from amlz_compile.ir.text_numbers import format_float32, format_float64, parse_number
from tests.strategies import programs

BIG = MemorySpec(20, 20, 20, 4)


def bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def from_bits(b: int) -> float:
    return struct.unpack("<d", struct.pack("<Q", b))[0]


# -- every op --------------------------------------------------------------------------------


@pytest.mark.parametrize("info", OPS, ids=lambda i: i.name)
def test_every_op_prints_and_parses_back(info):
    ins = Instruction(
        info.op.value,
        in1=3 if info.in1 else 0,
        in2=5 if info.in2 else 0,
        out=7 if info.out else 0,
        act=-0.37 if "act" in info.data else 0.0,
        f0=0.37 if "f0" in info.data else 0.0,
        f1=0.625 if "f1" in info.data else 0.0,
        f2=-2.5 if "f2" in info.data else 0.0,
    )
    text = format_instruction(ins)
    assert " with " not in text  # used fields only: the template alone carries the instruction
    for field, addr in (("out", 7), ("in1", 3), ("in2", 5)):
        kind = getattr(info, field)
        if kind:
            assert f"{kind}{addr}" in text
    assert parse_instruction(text) == ins
    assert parse_instruction("    " + text + "   # comment") == ins


@given(st.data())
def test_ops_sharing_a_template_are_told_apart(data):
    info = data.draw(st.sampled_from([i for i in OPS if i.arity]))
    fields = {}
    for name in ("in1", "in2", "out"):
        if getattr(info, name):
            fields[name] = data.draw(st.integers(0, 65535))
    ins = Instruction(info.op.value, **fields)
    assert parse_instruction(format_instruction(ins)).op == info.op.value


# -- pinned examples ---------------------------------------------------------------------------

PINNED = [
    ("s3 = s0 - s1", Instruction(2, 0, 1, 3)),
    ("v4 = gaussian(0.0, 0.1, n_features)", Instruction(63, out=4, f0=0.0, f1=0.1)),
    ("v2[0.37] = -0.5", Instruction(57, out=2, f0=0.37, f1=-0.5)),
    ("m1[0.25, 0.75] = 2.0", Instruction(58, out=1, f0=0.25, f1=0.75, f2=2.0)),
    ("s2 = 0.01", Instruction(56, out=2, act=0.01)),
    ("s3 = s1 * s2", Instruction(3, 1, 2, 3)),
    ("v3 = s1 * v2", Instruction(18, 1, 2, 3)),
    ("v3 = v1 * v2", Instruction(25, 1, 2, 3)),
    ("m3 = s1 * m2", Instruction(29, 1, 2, 3)),
    ("m3 = m1 * m2", Instruction(41, 1, 2, 3)),
    ("s1 = dot(v4, v2)", Instruction(27, 4, 2, 1)),
    ("v3 = dot(m0, v0)", Instruction(31, 0, 0, 3)),
    ("s4 = 1 / s2", Instruction(6, 2, 0, 4)),
    ("v4 = 1 / v2", Instruction(20, 2, 0, 4)),
    ("s2 = norm(m1)", Instruction(34, 1, 0, 2)),
    ("v2 = norm(m1, axis=0)", Instruction(35, 1, 0, 2)),
    ("v8 = heaviside(v3, 1.0)", Instruction(16, 3, 0, 8)),
    ("s4 = uniform(0.6, 0.2)", Instruction(59, out=4, f0=0.6, f1=0.2)),
    ("m0 = gaussian(0.0, 0.1, (n_features, n_features))", Instruction(64, out=0, f1=0.1)),
    ("NoOp()", Instruction(0)),
]


@pytest.mark.parametrize(("text", "ins"), PINNED, ids=[t for t, _ in PINNED])
def test_pinned_instructions(text, ins):
    assert parse_instruction(text) == ins
    assert format_instruction(ins) == text


def test_program_layout_is_the_reference_printout():
    p = Program(
        [Instruction(56, out=2, act=0.01)],
        [Instruction(27, 1, 0, 1)],
        [Instruction(2, 0, 1, 3), Instruction(3, 2, 3, 3)],
    )
    assert format_program(p) == (
        "def Setup():\n  s2 = 0.01\ndef Predict():\n  s1 = dot(v1, v0)\n"
        "def Learn():\n  s3 = s0 - s1\n  s3 = s2 * s3\n"
    )
    assert format_program(Program()) == "def Setup():\ndef Predict():\ndef Learn():\n"
    assert parse_program(format_program(Program())) == Program()


# -- numbers -------------------------------------------------------------------------------------


def test_number_spelling():
    assert format_float64(0.01) == "0.01"
    assert format_float64(1e-10) == "1e-10"
    assert format_float64(1.0) == "1.0"
    assert format_float64(-0.0) == "-0.0"
    assert format_float64(float("inf")) == "inf"
    assert format_float64(float("-inf")) == "-inf"
    assert format_float64(float("nan")) == "nan"
    assert format_float64(from_bits(0xFFF8000000000000)) == "-nan"
    assert format_float64(from_bits(0x7FF8000000000123)) == "nan(0x7ff8000000000123)"
    # float32 values print their shortest float32 decimal, never a float64 expansion
    assert format_float32(float(np.float32(0.1))) == "0.1"
    assert format_float32(float(np.float32(-0.033))) == "-0.033"
    assert format_float32(float(np.float32(1.0))) == "1.0"
    assert format_float32(float(np.float32(1e-4))) == "0.0001"
    assert format_float32(float(np.float32(123456789.0))) == "123456790.0"
    assert format_float32(float(np.float32(3.4028235e38))) == "3.4028235e+38"


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_float64_spelling_round_trips_bits(x):
    assert bits(parse_number(format_float64(x))) == bits(x)


@given(st.floats(width=32, allow_nan=True, allow_infinity=True))
def test_float32_spelling_round_trips_bits(x):
    x = float(np.float32(x))  # what Instruction stores
    text = format_float32(x)
    assert bits(float(np.float32(parse_number(text)))) == bits(x)
    assert text.lstrip("-").startswith(("nan", "inf")) or "." in text or "e" in text


def test_nan_payloads_and_signed_zero_round_trip_in_programs():
    odd_nan = from_bits(0xFFF0000000000001)  # negative signalling NaN with a payload
    f_nan = float(np.frombuffer(np.uint32(0x7FC00123).tobytes(), np.float32)[0])
    p = Program(
        [
            Instruction(56, out=1, act=odd_nan),
            Instruction(56, out=2, act=-0.0),
            Instruction(57, out=1, f0=0.5, f1=f_nan),
            Instruction(62, out=3, f0=-0.0, f1=float("inf")),
        ]
    )
    text = format_program(p)
    assert "s1 = nan(0xfff0000000000001)" in text and "s2 = -0.0" in text
    back = parse_program(text)
    assert back == p
    assert back.data.tobytes() == p.data.tobytes()


# -- round trips ---------------------------------------------------------------------------------


@given(programs(extreme=True))
def test_text_round_trip_random_programs(p):
    text = format_program(p)
    back = parse_program(text)
    assert back == p
    assert format_program(back) == text


_ANY64 = st.floats(allow_nan=True, allow_infinity=True)
_ANY32 = st.floats(width=32, allow_nan=True, allow_infinity=True)
raw_instructions = st.builds(
    Instruction,
    st.integers(0, 64),
    st.integers(0, 65535),
    st.integers(0, 65535),
    st.integers(0, 65535),
    _ANY64,
    _ANY32,
    _ANY32,
    _ANY32,
)


@given(st.lists(raw_instructions, max_size=4), st.lists(raw_instructions, max_size=4))
def test_text_round_trip_keeps_unused_fields(setup, learn):
    """Any Program, even with data in fields its ops do not use, survives the text form."""
    p = Program(setup, [], learn)
    text = format_program(p)
    assert parse_program(text) == p
    assert format_program(parse_program(text)) == text


def test_unused_fields_suffix():
    ins = Instruction(5, in1=1, in2=5, out=3, act=0.5)
    assert format_instruction(ins) == "s3 = abs(s1) with in2=5, act=0.5"
    assert parse_instruction("s3 = abs(s1) with in2=5, act=0.5") == ins


def test_header_metadata_round_trips():
    p = Program([Instruction(56, out=2, act=0.01)])
    meta = {
        "fitness": 0.99,
        "seed": 7,
        "memory": MemorySpec(4, 3, 1, 8),
        "key": "abc",
        "worst": float("nan"),
        "tags": ["a", "b"],
    }
    text = format_program(p, meta)
    assert text.startswith('# fitness: 0.99\n# seed: 7\n# memory: {"scalars": 4')
    back, back_meta = parse_program_meta(text)
    assert back == p
    assert back_meta["memory"] == MemorySpec(4, 3, 1, 8)
    assert math.isnan(back_meta.pop("worst")) and math.isnan(meta.pop("worst"))
    assert back_meta == meta
    assert format_program(*parse_program_meta(text)) == text


# -- the reference's own printouts ----------------------------------------------------------------

CPP_PRINTOUT = """def Setup():
  s3 = 0
  s4 = -0
  v2 = gaussian(0, 0.1, n_features)
  m0 = gaussian(-1e-10, 9e-09, (n_features, n_features))
  s5 = -nan
  s6 = inf
  v1[0.370001] = -0.5
  s7 = uniform(0.6, 0.2)
  NoOp()
def Predict():
  v3 = dot(m0, v0)
  v4 = maximum(v3, v5)
  s1 = dot(v4, v2)
def Learn():
  s4 = s0 - s1
  v8 = heaviside(v3, 1.0)
  m1 = outer(v7, v0)
"""


def test_parses_reference_printout():
    p = parse_program(CPP_PRINTOUT)
    assert p.sizes() == (9, 3, 3)
    setup = p.setup
    assert setup[0] == Instruction(56, out=3, act=0.0)
    assert bits(setup[1].act) == bits(-0.0)
    assert setup[2] == Instruction(63, out=2, f0=0.0, f1=0.1)
    assert setup[3].f0 == float(np.float32(-1e-10))
    assert bits(setup[4].act) == 0xFFF8000000000000
    assert setup[5].act == math.inf
    assert setup[6].f0 == float(np.float32(0.370001))
    assert setup[8] == Instruction(0)


README_TEXT = """def Setup():
  s2 = 0.001  # Init learning rate.

def Predict():  # v0 = features
  s1 = dot(v0, v1)  # Apply weights

def Learn():  # v0 = features; s0 = label
  s3 = s0 - s1  # Compute error.
  s4 = s3 * s2  # Apply learning rate.
  v2 = v0 * s4  # Compute gradient.
  v1 = v1 + v2  # Update weights.
"""


def test_readme_text_with_comments_and_blank_lines():
    # The README writes the scalar-vector product as `v0 * s4`; op 18 prints `s * v`.
    with pytest.raises(ParseError) as err:
        parse_program(README_TEXT)
    assert "line 10" in str(err.value) and "swapped" in str(err.value)
    p = parse_program(README_TEXT.replace("v0 * s4", "s4 * v0"))
    assert p.learn[2] == Instruction(18, 4, 0, 2)
    assert p.sizes() == (1, 1, 4)


def test_whitespace_is_free_around_symbols():
    assert parse_instruction("s3=s0-s1") == Instruction(2, 0, 1, 3)
    assert parse_instruction("m1[ 0.25 ,0.75 ]= 2") == Instruction(
        58, out=1, f0=0.25, f1=0.75, f2=2
    )
    assert parse_instruction("s1 = dot( v4 , v2 )") == Instruction(27, 4, 2, 1)


# -- errors -------------------------------------------------------------------------------------

HEAD = "def Setup():\ndef Predict():\n"

BAD = [
    (HEAD + "def Learn():\n  s3 = foo(s1)\n", 4, "unknown instruction"),
    (HEAD + "def Learn():\n  s3 = s0 % s1\n", 4, "unknown instruction"),
    (HEAD + "def Learn():\n  v3 = s0 - s1\n", 4, "address kinds"),
    (HEAD + "def Learn():\n  s3 = dot(v0, s1)\n", 4, "address kinds"),
    (HEAD + "def Learn():\n  s-1 = s0 - s1\n", 4, "negative address"),
    (HEAD + "def Learn():\n  s3 = s0 - s70000\n", 4, "outside 0..65535"),
    (HEAD + "def Learn():\n  x3 = s0 - s1\n", 4, "address kind"),
    (HEAD + "def Learn():\n  s3 = 1.2.3\n", 4, "malformed number"),
    (HEAD + "def Learn():\n  v3[0.5] = abc\n", 4, "malformed number"),
    (HEAD + "def Learn():\n  s3 = abs(s1) with in9=3\n", 4, "'with' field"),
    ("def Setup():\n  s2 = 0.01\ndef Learn():\n", 3, "out of order"),
    ("def Setup():\ndef Setup():\n", 2, "appears twice"),
    ("def Train():\n", 1, "unknown section"),
    ("s3 = s0 - s1\ndef Setup():\n", 1, "outside a section"),
    ("# hello\n  s3 = s0 - s1\n", 2, "outside a section"),
    ("def Setup():\ns3 = s0 - s1\n", 2, "not indented"),
    ("def Setup():\n  s2 = 0.01\ndef Predict():\n", 3, "def Learn():"),
    (HEAD + "def Learn", 3, "unknown section"),
    ("def Setup():\n  s2 = 0.0", 2, "def Predict():, def Learn():"),
    ("", 1, "empty program"),
    ("\n\n   \n", 1, "empty program"),
    ("# only a comment\n", 1, "def Setup():"),
]


@pytest.mark.parametrize(("text", "line_no", "problem"), BAD, ids=[b[2] for b in BAD])
def test_bad_text_raises_parse_error_with_line(text, line_no, problem):
    with pytest.raises(ParseError) as err:
        parse_program(text)
    msg = str(err.value)
    assert msg.startswith(f"line {line_no}: "), msg
    assert problem in msg
    assert err.value.line_no == line_no
    assert isinstance(err.value, ValueError)


def test_error_message_quotes_the_line():
    with pytest.raises(ParseError) as err:
        parse_program(HEAD + "def Learn():\n  v2 = v0 * s4\n")
    assert "'v2 = v0 * s4'" in str(err.value)
    assert "vC = sA * vB (op 18" in str(err.value)


def test_memory_check_on_parse():
    text = HEAD + "def Learn():\n  s3 = s0 - s1\n  v5 = v0 + v1\n"
    assert parse_program(text, memory=MemorySpec(4, 6, 0)).sizes() == (0, 0, 2)
    with pytest.raises(ParseError, match=r"^line 5: address v5 is out of range"):
        parse_program(text, memory=MemorySpec(4, 3, 0))


def test_parse_instruction_errors_name_the_line():
    with pytest.raises(ParseError, match="'s3 = s0 -'"):
        parse_instruction("s3 = s0 -")
    with pytest.raises(ParseError, match="empty instruction"):
        parse_instruction("   # just a comment")


def test_bad_header_metadata():
    text = '# worst: {"$float": "bogus"}\ndef Setup():\ndef Predict():\ndef Learn():\n'
    with pytest.raises(ParseError, match="bad header metadata"):
        parse_program(text)
    # a header value that is not JSON is kept as a string
    _, meta = parse_program_meta("# note: hand written\ndef Setup():\ndef Predict():\ndef Learn():")
    assert meta == {"note": "hand written"}


def test_non_text_input():
    with pytest.raises(ParseError, match="must be a str"):
        parse_program(b"def Setup():")
