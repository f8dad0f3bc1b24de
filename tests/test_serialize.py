"""Versioned JSON form and program files: lossless round trips, clear errors, atomic writes."""

from __future__ import annotations

import json
import math
import os
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amlz_compile.algorithms import load_builtin
from amlz_compile.ir import (
    Instruction,
    MemorySpec,
    ParseError,
    Program,
    dumps,
    format_program,
    load_program,
    load_program_meta,
    loads,
    loads_meta,
    program_from_dict,
    program_to_dict,
    save_program,
)
from tests.strategies import programs

ANY64 = st.floats(allow_nan=True, allow_infinity=True)
ANY32 = st.floats(width=32, allow_nan=True, allow_infinity=True)
raw_instructions = st.builds(
    Instruction,
    st.integers(0, 64),
    st.integers(0, 65535),
    st.integers(0, 65535),
    st.integers(0, 65535),
    ANY64,
    ANY32,
    ANY32,
    ANY32,
)


def bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


@given(programs(extreme=True))
def test_json_round_trip_random_programs(p):
    text = dumps(p)
    json.loads(text)  # strict JSON: no NaN / Infinity literals
    assert "NaN" not in text and "Infinity" not in text
    assert loads(text) == p
    assert program_from_dict(json.loads(json.dumps(program_to_dict(p), allow_nan=False))) == p


@given(st.lists(raw_instructions, max_size=4), st.lists(raw_instructions, max_size=4))
def test_json_round_trip_any_fields(predict, learn):
    p = Program([], predict, learn)
    back = loads(dumps(p))
    assert back == p
    assert back.data.tobytes() == p.data.tobytes()


def test_pinned_document():
    p = load_builtin("linear")
    doc = program_to_dict(p, {"seed": 3})
    assert doc["format"] == "amlz-program" and doc["version"] == 1
    assert doc["columns"] == ["op", "in1", "in2", "out", "act", "f0", "f1", "f2"]
    assert doc["setup"] == [[56, 0, 0, 2, 0.01, 0.0, 0.0, 0.0]]
    assert doc["predict"] == [[27, 1, 0, 1, 0.0, 0.0, 0.0, 0.0]]
    assert doc["learn"][2] == [18, 3, 0, 2, 0.0, 0.0, 0.0, 0.0]
    assert doc["meta"] == {"seed": 3}
    # float32 fields are written as their shortest float32 decimal
    g = Program([Instruction(63, out=2, f0=0.0, f1=0.1)])
    assert program_to_dict(g)["setup"] == [[63, 0, 0, 2, 0.0, 0.0, 0.1, 0.0]]
    # non-finite values are strings
    n = Program([Instruction(56, out=1, act=float("-inf")), Instruction(56, out=2, act=math.nan)])
    assert [row[4] for row in program_to_dict(n)["setup"]] == ["-inf", "nan"]
    # one row per line
    assert "    [56, 0, 0, 2, 0.01, 0.0, 0.0, 0.0]\n" in dumps(p)


def test_meta_round_trips():
    meta = {
        "memory": MemorySpec(5, 9, 2, 8),
        "fitness": 0.9987,
        "seed": 12345,
        "canonical_key": "a1b2c3",
        "nan_fitness": float("nan"),
        "nested": {"x": [1, 2.5, None, True]},
    }
    p, back = loads_meta(dumps(load_builtin("neural_net"), meta))
    assert p == load_builtin("neural_net")
    assert isinstance(back["memory"], MemorySpec) and back["memory"] == MemorySpec(5, 9, 2, 8)
    assert math.isnan(back.pop("nan_fitness"))
    meta.pop("nan_fitness")
    assert back == meta
    assert loads_meta(dumps(p))[1] == {}


def _doc(**changes):
    doc = program_to_dict(load_builtin("linear"))
    for key, value in changes.items():
        if value is None:
            del doc[key]
        else:
            doc[key] = value
    return doc


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        (_doc(version=2), "unsupported version 2"),
        (_doc(version="1"), "unsupported version '1'"),
        (_doc(version=None), "missing field 'version'"),
        (_doc(format="something-else"), "format tag is 'something-else'"),
        (_doc(format=None), "format tag is None"),
        (_doc(learn=None), "missing field 'learn'"),
        (_doc(setup={"a": 1}), "field 'setup' must be a list"),
        (_doc(predict=[[27, 1, 0]]), "predict[0]: expected a row of 8 values"),
        (_doc(predict=[[99, 1, 0, 1, 0, 0, 0, 0]]), "predict[0]: unknown op number 99"),
        (_doc(predict=[[27, -1, 0, 1, 0, 0, 0, 0]]), "predict[0]: address in1=-1"),
        (_doc(predict=[[27, 1.5, 0, 1, 0, 0, 0, 0]]), "predict[0].in1: expected an integer"),
        (_doc(setup=[[56, 0, 0, 2, "zero", 0, 0, 0]]), "setup[0].act: malformed number 'zero'"),
        (_doc(setup=[[56, 0, 0, 2, None, 0, 0, 0]]), "setup[0].act: expected a number"),
        (_doc(setup=[[56, 0, 0, 2, 10**400, 0, 0, 0]]), "setup[0].act: 1000"),
        (_doc(columns=["op"]), "field 'columns'"),
        (_doc(meta=[1]), "field 'meta' must be an object"),
        ([1, 2], "expected a JSON object"),
    ],
)
def test_bad_documents(doc, problem):
    with pytest.raises(ParseError) as err:
        program_from_dict(doc)
    assert problem in str(err.value)


def test_invalid_json_names_the_place():
    with pytest.raises(ParseError, match=r"^line 2: invalid JSON \(column 13\)"):
        loads('{"format": "amlz-program",\n "version": }')


# -- files ------------------------------------------------------------------------------------


def test_save_and_load_by_extension(tmp_path):
    p = load_builtin("figure5_nn")
    meta = {"fitness": 0.5, "memory": MemorySpec(4, 8, 2, 8)}
    as_json = save_program(p, tmp_path / "a.json", meta)
    as_text = save_program(p, tmp_path / "a.txt", meta)
    assert as_json.read_text().startswith("{")
    assert as_text.read_text() == format_program(p, meta)
    for path in (as_json, as_text):
        assert load_program(path) == p
        assert load_program_meta(path)[1] == meta
    # content decides when the name does not: JSON inside a .txt file
    (tmp_path / "b.txt").write_text(dumps(p))
    assert load_program(tmp_path / "b.txt") == p
    # no temporary files are left behind
    assert sorted(f.name for f in tmp_path.iterdir()) == ["a.json", "a.txt", "b.txt"]


def test_save_replaces_atomically(tmp_path):
    path = tmp_path / "p.txt"
    save_program(load_builtin("linear"), path)
    save_program(load_builtin("neural_net"), path)
    assert load_program(path) == load_builtin("neural_net")
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0600
    assert [f.name for f in tmp_path.iterdir()] == ["p.txt"]


def test_save_into_missing_directory_fails_cleanly(tmp_path):
    with pytest.raises(OSError):
        save_program(load_builtin("linear"), tmp_path / "nope" / "p.txt")


def test_unreadable_files(tmp_path):
    with pytest.raises(ParseError, match=r"missing\.txt: cannot read program file"):
        load_program(tmp_path / "missing.txt")
    with pytest.raises(ParseError, match="cannot read program file"):
        load_program(tmp_path)  # a directory
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ParseError, match=r"bin\.txt: not UTF-8 text"):
        load_program(tmp_path / "bin.txt")


def test_parse_errors_in_files_name_file_and_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("def Setup():\n  s2 = 0.01\ndef Predict():\n  s1 = dot(v1 v0)\ndef Learn():\n")
    with pytest.raises(ParseError) as err:
        load_program(path)
    assert str(err.value).startswith(f"{path}: line 4: ")
    assert err.value.line_no == 4
    jpath = tmp_path / "bad.json"
    jpath.write_text('{"format": "amlz-program", "version": 7}')
    with pytest.raises(ParseError, match=r"bad\.json: unsupported version 7"):
        load_program(jpath)
