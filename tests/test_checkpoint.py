"""Checkpoint format: exact encoding, atomic writes, clear errors for bad files."""

from __future__ import annotations

import base64
import json
import math
import os
import pickle
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from amlz_compile.atomic import atomic_write_text
from amlz_compile.ir.program import Instruction, Program
from amlz_compile.search.checkpoint import (
    CHECKPOINT_NAME,
    FORMAT,
    PREVIOUS_NAME,
    VERSION,
    CheckpointError,
    decode,
    encode,
    load_checkpoint,
    save_checkpoint,
)


def _roundtrip(obj):
    return decode(json.loads(json.dumps(encode(obj))))


def _same(a, b) -> bool:
    """Equality that also compares types, float bits and array dtypes."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a.hex() == b.hex() or (math.isnan(a) and math.isnan(b))
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, np.generic):
        return a.dtype == b.dtype and a.tobytes() == b.tobytes()
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return a == b


def test_pinned_values_roundtrip_exactly():
    prog = Program(
        [Instruction(56, out=2, act=0.1 + 0.2)],
        [Instruction(27, 1, 0, 1)],
        [Instruction(2, 0, 1, 3), Instruction(18, 3, 0, 2)],
    )
    state = {
        "rng": np.array([0xFFFFFFFFFFFFFFFF], dtype=np.uint64),
        "u64": np.uint64(2**63 + 5),
        "fit": [0.1, -0.0, float("inf"), float("-inf"), 1e-320, 5e-324],
        "big": 2**70,
        "tuple": (1, (2.5, "x")),
        "keys": {(1, 2): 3.0, 7: "seven"},
        "odict": OrderedDict([("b", 1), ("a", 2)]),
        "program": prog,
        "bytes": b"\x00\xff",
        "f32": np.float32(0.1),
        "__weird": 1,
        "nested": {"__float__": "not a tag"},
    }
    back = _roundtrip(state)
    assert back["program"] == prog and isinstance(back["program"], Program)
    for key in state:
        if key == "program":
            continue
        assert _same(back[key], state[key]), key
    assert isinstance(back["odict"], OrderedDict)
    nan = _roundtrip(float("nan"))
    assert math.isnan(nan)


finite = st.floats(allow_nan=False)
values = st.recursive(
    st.none() | st.booleans() | st.integers() | finite | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.dictionaries(st.text(max_size=4), children, max_size=4)
        | st.dictionaries(st.integers(), children, max_size=3)
    ),
    max_leaves=20,
)


@given(values)
def test_encode_decode_is_exact(value):
    assert _same(_roundtrip(value), value)


@given(st.lists(st.floats(width=64), min_size=1, max_size=20))
def test_float_arrays_keep_their_bits(xs):
    arr = np.array(xs, dtype=np.float64)
    assert _roundtrip(arr).tobytes() == arr.tobytes()


def test_save_and_load(tmp_path):
    path = save_checkpoint(tmp_path, {"a": 1}, {"experiments": 2}, [{"x": (1, 2)}])
    assert path == tmp_path / CHECKPOINT_NAME
    raw = json.loads(path.read_text())
    assert raw["format"] == FORMAT and raw["version"] == VERSION == 2
    ck = load_checkpoint(tmp_path)
    assert ck["config"] == {"a": 1}
    assert ck["flow"] == {"experiments": 2}
    assert ck["islands"] == [{"x": (1, 2)}]


def test_failed_write_keeps_previous_checkpoint(tmp_path):
    save_checkpoint(tmp_path, {"v": 1}, {}, [])

    class Boom:
        def __reduce__(self):
            raise RuntimeError("cannot encode")

    with pytest.raises(TypeError, match="data only"):
        save_checkpoint(tmp_path, {"v": 2}, {"bad": Boom()}, [])
    assert load_checkpoint(tmp_path)["config"] == {"v": 1}
    assert sorted(os.listdir(tmp_path)) == [CHECKPOINT_NAME]


def test_atomic_write_leaves_no_temp_files_when_interrupted(tmp_path, monkeypatch):
    target = tmp_path / "f.json"
    atomic_write_text(target, "old")

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        atomic_write_text(target, "new")
    monkeypatch.undo()
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["f.json"]


def test_missing_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "nope.json")
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path)


def test_corrupt_checkpoint(tmp_path):
    path = save_checkpoint(tmp_path, {"a": 1}, {}, [])
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(path)
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CheckpointError):
        load_checkpoint(path)


def test_wrong_version_and_format(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"format": FORMAT, "version": 99, "config": {}, "flow": {},
                                "islands": []}))  # fmt: skip
    with pytest.raises(CheckpointError, match="version 99.*reads versions 1, 2"):
        load_checkpoint(path)
    path.write_text(json.dumps({"hello": 1}))
    with pytest.raises(CheckpointError, match="not an amlz checkpoint"):
        load_checkpoint(path)
    path.write_text(json.dumps({"format": FORMAT, "version": VERSION, "config": {}}))
    with pytest.raises(CheckpointError, match="missing flow, islands"):
        load_checkpoint(path)


def _crafted(tmp_path, payload) -> Path:
    """A checkpoint whose flow holds `payload` (what a hostile file could contain)."""
    path = tmp_path / CHECKPOINT_NAME
    path.write_text(json.dumps({"format": FORMAT, "version": 1, "config": {},
                                "flow": {"x": payload}, "islands": []}))  # fmt: skip
    return path


def _pickle_that_touches(marker: Path) -> str:
    class Touch:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    return base64.b64encode(pickle.dumps(Touch())).decode()


@pytest.mark.parametrize(
    "make",
    [
        lambda m: {"__pickle__": _pickle_that_touches(m)},
        lambda m: {"__obj__": "os:system", "state": f"touch {m}"},
        lambda m: {"__obj__": "pathlib:Path.touch", "state": str(m)},
        lambda m: {"__tuple__": [{"__pickle__": _pickle_that_touches(m)}]},
        lambda m: {"__ndarray__": "O", "shape": [1], "b64": "AAAAAAAAAAA="},
        lambda m: {"__npscalar__": "V8", "b64": "AAAAAAAAAAA="},
    ],
    ids=[
        "pickle",
        "import-os-system",
        "import-path-touch",
        "nested-pickle",
        "object-array",
        "void-scalar",
    ],
)
def test_crafted_checkpoint_is_refused_and_never_run(tmp_path, make):
    marker = tmp_path / "pwned"
    path = _crafted(tmp_path, make(marker))
    with pytest.raises(CheckpointError, match="corrupt: .*(data only|dtype)"):
        load_checkpoint(path)
    assert not marker.exists()


def test_encode_refuses_objects_it_cannot_write_as_data():
    class Thing:
        def to_dict(self):
            return {}

        @classmethod
        def from_dict(cls, d):
            return cls()

    with pytest.raises(TypeError, match="data only"):
        encode({"x": Thing()})
    with pytest.raises(TypeError, match="data only"):
        encode(object())


def test_previous_checkpoint_is_kept_and_serves_when_the_last_is_damaged(tmp_path):
    save_checkpoint(tmp_path, {"v": 1}, {}, [])
    save_checkpoint(tmp_path, {"v": 2}, {}, [])
    assert sorted(os.listdir(tmp_path)) == [CHECKPOINT_NAME, PREVIOUS_NAME]
    assert load_checkpoint(tmp_path)["config"] == {"v": 2}
    last = tmp_path / CHECKPOINT_NAME
    text = last.read_text()
    last.write_text(text[: len(text) // 2])
    with pytest.warns(UserWarning, match="previous checkpoint"):
        ck = load_checkpoint(tmp_path)
    assert ck["config"] == {"v": 1}
    assert last.read_text() == text[: len(text) // 2]  # the damaged file is left for inspection
    last.unlink()  # a crash between the two renames of a save
    with pytest.warns(UserWarning, match="previous one"):
        assert load_checkpoint(tmp_path)["config"] == {"v": 1}
    (tmp_path / PREVIOUS_NAME).write_text("{")
    with pytest.raises(CheckpointError, match="corrupt"), pytest.warns(UserWarning):
        load_checkpoint(tmp_path)


def test_wrong_version_does_not_fall_back(tmp_path):
    save_checkpoint(tmp_path, {"v": 1}, {}, [])
    save_checkpoint(tmp_path, {"v": 2}, {}, [])
    last = tmp_path / CHECKPOINT_NAME
    doc = json.loads(last.read_text())
    doc["version"] = 3
    last.write_text(json.dumps(doc))
    with pytest.raises(CheckpointError, match="version 3"):
        load_checkpoint(tmp_path)


def test_version_1_checkpoints_still_load(tmp_path):
    path = save_checkpoint(tmp_path, {"a": (1, 2)}, {"f": np.arange(3)}, [])
    doc = json.loads(path.read_text())
    doc["version"] = 1
    path.write_text(json.dumps(doc))
    ck = load_checkpoint(path)
    assert ck["config"] == {"a": (1, 2)} and ck["flow"]["f"].tolist() == [0, 1, 2]
