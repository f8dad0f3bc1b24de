"""Mutations: every type, the size-limit quirks, parameter rules and draw order
(docs/semantics.md#mutations, docs/semantics.md#randomising-an-instruction) and the official
mutator tests' values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from amlz_compile.ir.ops import DEMO_OPS, OPS
from amlz_compile.ir.program import Instruction, MemorySpec, Program
from amlz_compile.rng import GAMMA, MASK64, new_state
from amlz_compile.search.config import ConfigError, SearchConfig
from amlz_compile.search.mutate import (
    MutationTables,
    alter_param,
    mutate,
    mutate_rows,
    program_rows,
    random_rows,
    randomize_params,
    rows_program,
)

MEM = dict(scalars=4, vectors=3, matrices=2)


def cfg(types, setup_ops=(56,), predict_ops=(), learn_ops=(), **kw) -> SearchConfig:
    base = dict(
        setup_ops=setup_ops,
        predict_ops=predict_ops,
        learn_ops=learn_ops,
        allowed_mutation_types=types,
        mutate_prob=1.0,
        memory=MEM,
    )
    base.update(kw)
    return SearchConfig(**base)


def consts(n: int) -> list[Instruction]:
    """Distinguishable Setup rows: s2 = 1, s2 = 2, ..."""
    return [Instruction(56, out=2, act=float(k + 1)) for k in range(n)]


def draws_used(seed: int, state: np.ndarray) -> int:
    """How many 64-bit draws advanced a SplitMix64 state (state = seed + k * GAMMA)."""
    delta = (int(state[0]) - seed) & MASK64
    return (delta * pow(GAMMA, -1, 1 << 64)) & MASK64


# -- size limits (reference mutator tests) ------------------------------------------------------


def test_insert_with_limits_0_1_does_nothing_on_a_non_empty_function():
    c = cfg(["insert_instruction"], mutate_setup_size_min=0, mutate_setup_size_max=1)
    p = Program(consts(3))
    for seed in range(30):
        assert mutate(p, c, seed) == p


def test_insert_allowed_only_while_size_below_max_minus_one():
    c = cfg(["insert_instruction"], mutate_setup_size_max=5)
    assert mutate(Program(consts(3)), c, 1).sizes() == (4, 0, 0)
    assert mutate(Program(consts(4)), c, 1).sizes() == (4, 0, 0)  # the >= max - 1 quirk


def test_max_zero_means_unlimited_insertion():
    c = cfg(["insert_instruction"])
    p = Program(consts(2))
    for seed in range(40):
        p = mutate(p, c, seed)
    assert p.sizes() == (42, 0, 0)


def test_min_100_blocks_removal_but_not_insertion():
    p = Program(consts(5))
    rem = cfg(["remove_instruction"], mutate_setup_size_min=100)
    for seed in range(20):
        assert mutate(p, rem, seed) == p
    ins = cfg(["insert_instruction"], mutate_setup_size_min=100)
    assert mutate(p, ins, 3).sizes() == (6, 0, 0)


def test_removal_stops_at_min():
    c = cfg(["remove_instruction"], mutate_setup_size_min=2)
    p = Program(consts(5))
    for seed in range(10):
        p = mutate(p, c, seed)
    assert p.sizes() == (2, 0, 0)


@given(st.integers(0, 2**63), st.integers(0, 6))
def test_trade_keeps_sizes(seed, n):
    limits = dict(mutate_setup_size_max=1, mutate_predict_size_max=1, mutate_learn_size_max=1)
    c = cfg(["trade_instruction"], DEMO_OPS, DEMO_OPS, DEMO_OPS, **limits)
    p = Program(consts(n), consts(2), consts(1))
    assert mutate(p, c, seed).sizes() == p.sizes()


def test_insert_positions_cover_0_to_size():
    c = cfg(["insert_instruction"], setup_ops=(57,))
    p = Program(consts(3))
    seen = set()
    for seed in range(200):
        child = mutate(p, c, seed)
        ops = [ins.op for ins in child.setup]
        seen.add(ops.index(57))
        assert [ins for ins in child.setup if ins.op == 56] == list(p.setup)
    assert seen == {0, 1, 2, 3}


def test_remove_positions_cover_0_to_size_minus_one():
    c = cfg(["remove_instruction"])
    p = Program(consts(4))
    seen = set()
    for seed in range(200):
        kept = [ins.act for ins in mutate(p, c, seed).setup]
        (gone,) = {1.0, 2.0, 3.0, 4.0} - set(kept)
        seen.add(int(gone) - 1)
    assert seen == {0, 1, 2, 3}


def test_empty_op_list_component_is_never_touched():
    c = cfg(list(range(8)), setup_ops=(), predict_ops=DEMO_OPS, learn_ops=())
    p = Program(consts(3), consts(2), consts(2))
    for seed in range(100):
        child = mutate(p, c, seed)
        assert child.setup == p.setup and child.learn == p.learn


def test_randomize_component_and_algorithm_keep_sizes():
    for types in (["randomize_component_function"], ["randomize_algorithm"]):
        c = cfg(types, setup_ops=DEMO_OPS, predict_ops=DEMO_OPS, learn_ops=DEMO_OPS)
        p = Program(consts(3), consts(2), consts(4))
        child = mutate(p, c, 7)
        assert child.sizes() == p.sizes() and child != p
        assert all(ins.op in DEMO_OPS for ins in child.setup + child.predict + child.learn)


# -- mutate_prob and draw order -----------------------------------------------------------------


def _tables(c):
    return MutationTables.from_config(c)


def _draws_of(c, program, num, seed):
    t = _tables(c)
    code, data, sizes = program_rows(program, len(program) + 2)
    state = new_state(seed)
    applied = mutate_rows(num, code, data, sizes, t.ops, t.n_ops, t.addr, t.smin, t.smax,
                          t.types, t.mutate_prob, state)  # fmt: skip
    return applied, draws_used(seed, state)


def test_mutate_zero_still_draws_when_mutate_prob_below_one():
    p = Program(consts(2))
    assert _draws_of(cfg(["alter_param"], mutate_prob=0.9), p, 0, 5)[1] == 1
    assert _draws_of(cfg(["alter_param"], mutate_prob=1.0), p, 0, 5)[1] == 0


def test_identity_draws_only_the_action_and_randomize_algorithm_no_component():
    p = Program(consts(2))
    assert _draws_of(cfg(["identity"]), p, 1, 9) == (True, 1)
    # RANDOMIZE_ALGORITHM over Setup only: action, then (op, out, act) per instruction
    assert _draws_of(cfg(["randomize_algorithm"]), p, 1, 9) == (True, 1 + 2 * 3)
    # ALTER_PARAM: action, component, position, Choice2, then out or (flip draw [+ gaussian])
    applied, n = _draws_of(cfg(["alter_param"]), p, 1, 9)
    assert applied and n in (5, 7)


def test_mutate_prob_fraction():
    c = cfg(["randomize_instruction"], mutate_prob=0.3)
    p = Program(consts(2))
    changed = sum(mutate(p, c, seed) != p for seed in range(2000))
    assert 0.25 < changed / 2000 < 0.35
    assert all(mutate(p, cfg(["randomize_instruction"], mutate_prob=0.0), s) == p
               for s in range(20))  # fmt: skip


# -- parameters -----------------------------------------------------------------------------------


@given(st.integers(0, 2**63), st.sampled_from([op for op in range(65) if OPS[op].out != "m"]))
def test_random_instructions_respect_reserved_addresses_and_ranges(seed, op):
    addr = np.array([4, 3, 2], dtype=np.int64)
    code = np.zeros((1, 4), dtype=np.int32)
    data = np.zeros((1, 4))
    randomize_params(code, data, 0, op, addr, new_state(seed))
    ins = Instruction(*code[0], *data[0])
    info = OPS[op]
    if info.out in ("s", "v"):
        assert ins.out >= 1
    Program([ins]).check_fits(MemorySpec(4, 3, 2, 4))
    for f in (data[0, 1], data[0, 2], data[0, 3]):
        assert float(np.float32(f)) == f
    if op == 56:
        assert -1.0 < ins.act < 1.0
    if op == 57:
        assert 0 <= ins.f0 < 1 and -1 <= ins.f1 < 1
    if op == 58:
        assert 0 <= ins.f0 < 1 and 0 <= ins.f1 < 1 and -1 <= ins.f2 < 1
    if op >= 62:
        assert -1 <= ins.f0 < 1 and 0 <= ins.f1 < 1
    if op in (59, 60, 61):
        assert -1 <= ins.f0 < 1 and -1 <= ins.f1 < 1


def test_random_uniform_bounds_are_unsorted_sometimes():
    addr = np.array([4, 3, 2], dtype=np.int64)
    lows_above = 0
    for seed in range(200):
        code = np.zeros((1, 4), dtype=np.int32)
        data = np.zeros((1, 4))
        randomize_params(code, data, 0, 59, addr, new_state(seed))
        lows_above += data[0, 1] >= data[0, 2]
    assert 60 < lows_above < 140


def _alter_many(op, values, n=3000):
    addr = np.array([4, 3, 2], dtype=np.int64)
    out = []
    for seed in range(n):
        code = np.array([[op, 0, 0, 1]], dtype=np.int32)
        data = np.array([values], dtype=np.float64)
        alter_param(code, data, 0, addr, new_state(seed))
        out.append((code[0].copy(), data[0].copy()))
    return out


def test_alter_constant_lognormal_and_sign_flip():
    res = _alter_many(56, [0.5, 0, 0, 0])
    data_changed = [d[0] for c, d in res if d[0] != 0.5]
    addr_changed = sum(1 for c, d in res if d[0] == 0.5)
    assert 0.45 < addr_changed / len(res) < 0.55  # Choice2: output address or data
    flips = [a for a in data_changed if a == -0.5]
    assert 0.06 < len(flips) / len(data_changed) < 0.14  # kSignFlipProb = 0.1
    logs = np.array([math.log(a / 0.5) for a in data_changed if a > 0])
    assert abs(logs.mean()) < 0.1 and 0.9 < logs.std() < 1.1  # factor e^{N(0,1)}


def test_alter_uniform_sorts_and_stdev_never_flips():
    altered = [d for _, d in _alter_many(59, [0, 0.7, -0.2, 0], 300) if d[1] != 0.7 or d[2] != -0.2
               or d[1] == -0.2]  # fmt: skip
    assert len(altered) > 100 and all(d[1] <= d[2] for d in altered)
    for _, d in _alter_many(63, [0, 0.1, 0.3, 0], 1000):
        assert d[2] > 0
    for c, _ in _alter_many(1, [0, 0, 0, 0], 300):
        assert 0 <= c[1] < 4 and 0 <= c[2] < 4 and 1 <= c[3] < 4


def test_alter_zero_constant_stays_zero():
    for _, d in _alter_many(56, [0.0, 0, 0, 0], 200):
        assert d[0] == 0.0


def test_no_op_is_never_altered():
    for c, d in _alter_many(0, [0, 0, 0, 0], 50):
        assert c.tolist() == [0, 0, 0, 1] and d.tolist() == [0, 0, 0, 0]


def test_random_rows_fills_every_component_from_its_list():
    c = cfg(["alter_param"], setup_ops=(56,), predict_ops=(27,), learn_ops=(2, 3))
    t = _tables(c)
    code, data, sizes = program_rows(Program([Instruction(0)] * 3, [Instruction(0)] * 2,
                                             [Instruction(0)] * 4), 12)  # fmt: skip
    random_rows(code, data, sizes, t.ops, t.n_ops, t.addr, new_state(3))
    p = rows_program(code, data, sizes)
    assert {i.op for i in p.setup} == {56}
    assert {i.op for i in p.predict} == {27}
    assert {i.op for i in p.learn} <= {2, 3}


def test_config_errors_name_the_problem():
    with pytest.raises(ConfigError, match="unknown mutation type"):
        cfg(["grow"])
    with pytest.raises(ConfigError, match="unknown key 'populaton_size'"):
        SearchConfig.from_dict({"populaton_size": 3})
    with pytest.raises(ConfigError, match="mutate_prob"):
        cfg(["identity"], mutate_prob=1.5)
    with pytest.raises(ConfigError, match="needs setup_ops"):
        SearchConfig(initial_population="random", setup_size_init=2, predict_ops=(27,))


def test_config_round_trips_through_json():
    import json

    c = cfg(["alter_param", "INSERT_INSTRUCTION"], setup_ops=("SCALAR_CONST_SET_OP", 27),
            fec={"num_train_examples": 5}, hurdles={"enabled": True})  # fmt: skip
    d = json.loads(json.dumps(c.to_dict()))
    assert SearchConfig.from_dict(d) == c
    assert c.setup_ops == (56, 27) and c.allowed_mutation_types[1] == "insert_instruction"
