"""Fuzzing the files a user hands to amlz: algorithm text, algorithm JSON and experiment configs.

Any input either loads or raises the project's own error type (`AmlzError`), never another
exception: inputs are random text, random JSON values, and valid files with random damage.
"""

from __future__ import annotations

import contextlib
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amlz_compile.algorithms import builtin_text
from amlz_compile.errors import AmlzError
from amlz_compile.ir.serialize import dumps, loads_meta
from amlz_compile.ir.text import parse_program, parse_program_meta
from amlz_compile.search.experiment_config import ExperimentConfig, load_config_file
from amlz_compile.search.presets import get_preset

FUZZ = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

NN_TEXT = builtin_text("neural_net")
NN_JSON = dumps(parse_program(NN_TEXT))
DEMO = get_preset("demo")

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def damaged(draw, text: str) -> str:
    """`text` with a few random deletions, insertions and line swaps."""
    chars = list(text)
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(("delete", "insert", "replace")))
        pos = draw(st.integers(0, max(len(chars) - 1, 0)))
        piece = draw(st.text(alphabet='sSvVmM0123456789.,-+=()_ \n#:{}[]"eEnaix', max_size=6))
        if action == "delete":
            del chars[pos : pos + draw(st.integers(1, 8))]
        elif action == "insert":
            chars[pos:pos] = piece
        else:
            chars[pos : pos + len(piece)] = piece
    return "".join(chars)


@st.composite
def damaged_json(draw, doc: dict) -> object:
    """`doc` with one value somewhere replaced by a random JSON value (or a key dropped)."""
    doc = json.loads(json.dumps(doc))
    node = doc
    for _ in range(draw(st.integers(0, 3))):
        if isinstance(node, dict) and node:
            child = node[draw(st.sampled_from(sorted(node)))]
        elif isinstance(node, list) and node:
            child = node[draw(st.integers(0, len(node) - 1))]
        else:
            break
        if not isinstance(child, dict | list) or not child:
            break
        node = child
    if isinstance(node, dict) and node:
        key = draw(st.sampled_from(sorted(node)))
        if draw(st.booleans()):
            del node[key]
        else:
            node[key] = draw(json_values)
    elif isinstance(node, list) and node:
        node[draw(st.integers(0, len(node) - 1))] = draw(json_values)
    return doc


def loads_or_refuses(load, data) -> None:
    """`load(data)` succeeds or raises AmlzError; anything else fails the test."""
    with contextlib.suppress(AmlzError):
        load(data)


@FUZZ
@given(st.text(max_size=200) | damaged(NN_TEXT))
def test_algorithm_text_loads_or_refuses(text):
    loads_or_refuses(parse_program_meta, text)


@FUZZ
@given(json_values.map(json.dumps) | damaged_json(json.loads(NN_JSON)).map(json.dumps)
       | damaged(NN_JSON))  # fmt: skip
def test_algorithm_json_loads_or_refuses(text):
    loads_or_refuses(loads_meta, text)


@FUZZ
@given(json_values | damaged_json(DEMO))
def test_experiment_config_loads_or_refuses(doc):
    loads_or_refuses(ExperimentConfig.from_dict, doc)


@FUZZ
@given(
    damaged(json.dumps(DEMO, indent=1)) | st.text(max_size=100), st.sampled_from(("json", "toml"))
)
def test_config_files_load_or_refuse(tmp_path_factory, text, suffix):
    path = tmp_path_factory.mktemp("cfg") / f"config.{suffix}"
    path.write_text(text, encoding="utf-8")
    loads_or_refuses(load_config_file, path)
