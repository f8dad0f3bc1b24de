"""Tasks: seeds, specs, synthetic and projected generators, dataset loaders, the disk cache."""

from __future__ import annotations

import gzip
import json
import pickle
import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from amlz_compile.tasks import (
    DEFAULT_DATA_SEEDS,
    DEFAULT_PARAM_SEEDS,
    KINDS,
    SOURCES,
    Task,
    TaskError,
    TaskSpec,
    assign_seeds,
    build_collection,
    build_task,
    build_tasks,
    default_cache_dir,
    describe_task_kinds,
    epoch_orders,
    hash_combine,
    hash_mix,
    load_labelled,
    randomize_task_seeds,
    task_seeds,
)
from amlz_compile.tasks import cache as task_cache
from amlz_compile.tasks.datasets import read_idx
from amlz_compile.tasks.projected import (
    candidate_pairs,
    choose_pair_and_seed,
    stratified_split,
)
from amlz_compile.tasks.seeds import mt19937, uniform_int, uniform_random_seed
from amlz_compile.tasks.synthetic import (
    linear_weights,
    teacher_labels,
    teacher_output_std,
    teacher_params,
)

M64 = (1 << 64) - 1

# The nine pairs the reference recommends holding out (task.proto / run_baseline.sh).
REFERENCE_HELD_OUT = [(4, 6), (3, 5), (8, 9), (3, 8), (0, 9), (2, 9), (1, 8), (3, 6), (0, 5)]


def lin(**kw) -> TaskSpec:
    base = dict(kind="linear", features=4, num_train=20, num_valid=7)
    base.update(kw)
    return TaskSpec(**base)


def digits(**kw) -> TaskSpec:
    base = dict(kind="projected_binary", features=8, num_train=60, num_valid=20, dataset="digits")
    base.update(kw)
    return TaskSpec(**base)


# -- seeds -----------------------------------------------------------------------------------


def _transcribed_hash_combine(seed: int, value: int) -> int:
    """The reference HashCombine written out step by step (independent of the implementation's
    loop)."""
    a, b, c = 0x9E3779B9, seed & M64, value & M64
    a = (a - b - c) & M64
    a ^= c >> 43
    b = (b - c - a) & M64
    b ^= (a << 9) & M64
    c = (c - a - b) & M64
    c ^= b >> 8
    a = (a - b - c) & M64
    a ^= c >> 38
    b = (b - c - a) & M64
    b ^= (a << 23) & M64
    c = (c - a - b) & M64
    c ^= b >> 5
    a = (a - b - c) & M64
    a ^= c >> 35
    b = (b - c - a) & M64
    b ^= (a << 49) & M64
    c = (c - a - b) & M64
    c ^= b >> 11
    a = (a - b - c) & M64
    a ^= c >> 12
    b = (b - c - a) & M64
    b ^= (a << 18) & M64
    c = (c - a - b) & M64
    c ^= b >> 22
    return c


@given(st.integers(0, M64), st.integers(0, M64))
def test_hash_combine_matches_transcription(seed, value):
    assert hash_combine(seed, value) == _transcribed_hash_combine(seed, value)


def test_hash_combine_pinned_values():
    # Computed by a C++ program with uint64_t wrap-around following the reference HashCombine (g++).
    assert hash_combine(42, 85652777) == 2748713566837051557
    assert hash_combine(hash_combine(42, 85652777), 0) == 15032034554753376683
    assert hash_combine(0, 0) == 7368869843255378647
    assert hash_combine(M64, 123456789) == 17594186496134390324
    assert hash_combine(42, 85652777) == _transcribed_hash_combine(42, 85652777)


def test_hash_mix_starts_at_42_and_truncates():
    assert hash_mix([85652777, 1]) == 3709988732
    assert hash_mix([38272328, 1]) == 3417891082
    assert hash_mix([856572777, 11001]) == 3893094001
    full = hash_mix([85652777, 1], bits=64)
    assert full & 0xFFFFFFFF == 3709988732
    assert full == _transcribed_hash_combine(_transcribed_hash_combine(42, 85652777), 1)
    assert hash_mix([]) == 42


def test_mt19937_is_std_mt19937():
    # std::mt19937(5489) and std::mt19937(3709988732) checked with g++.
    assert mt19937(5489).random_raw(3).tolist() == [3499211612, 581869302, 3890346734]
    assert mt19937(3709988732).random_raw(2).tolist() == [1402153920, 55810275]
    for seed in (0, 1, 2**32 - 1, 123456789):  # same state as numpy's legacy init_genrand
        key = mt19937(seed).state["state"]["key"]
        assert np.array_equal(key, np.random.RandomState(seed).get_state()[1])


@given(st.integers(0, 2**31 - 2), st.integers(0, 2**31 - 1), st.integers(0, 2**32 - 1))
def test_uniform_int_in_range_and_lemire_mapping(lo, span, seed):
    hi = lo + span
    gen, twin = mt19937(seed), mt19937(seed)
    value = uniform_int(gen, lo, hi)
    assert lo <= value <= hi
    bits = int(twin.random_raw())
    lim = span + 1
    if lim & span == 0:
        assert value == lo + (bits & span)
    elif (bits * lim) & 0xFFFFFFFF >= (2**32 - lim) % lim:  # accepted first draw
        assert value == lo + ((bits * lim) >> 32)


def test_uniform_random_seed_range():
    gen = mt19937(1)
    draws = [uniform_random_seed(gen) for _ in range(200)]
    assert all(2 <= d <= 2**32 - 2 for d in draws)
    # Lim = 2**32 - 3: value = 2 + floor(bits * Lim / 2**32) (rejection is rare).
    bits = int(mt19937(1).random_raw())
    assert draws[0] == 2 + ((bits * (2**32 - 3)) >> 32) == bits


def test_default_seed_assignment_and_repeat_quirk():
    seeds = task_seeds(lin(num_tasks=14))
    assert [p for _, p in seeds[:8]] == list(DEFAULT_PARAM_SEEDS)
    assert [d for d, _ in seeds[:8]] == list(DEFAULT_DATA_SEEDS)
    assert seeds[8] == (11004, 1004) and seeds[9] == (11005, 1005)
    assert seeds[10] == seeds[4] == (11006, 1006)  # section 10 item 13
    assert seeds[11] == seeds[6] == (11007, 1007)
    tasks = build_tasks(lin(num_tasks=11))
    assert np.array_equal(tasks[10].train_x, tasks[4].train_x)
    assert np.array_equal(tasks[10].valid_y, tasks[4].valid_y)
    assert not np.array_equal(tasks[9].train_x, tasks[4].train_x)


def test_given_seeds_continue_by_one_and_wrap():
    assert assign_seeds([5], 3, DEFAULT_DATA_SEEDS) == [5, 6, 7]
    assert assign_seeds([7, 3], 4, DEFAULT_DATA_SEEDS) == [7, 3, 4, 5]
    assert assign_seeds([2**32 - 1], 2, DEFAULT_DATA_SEEDS) == [2**32 - 1, 0]
    spec = lin(num_tasks=3, data_seeds=(100,), param_seeds=())
    assert task_seeds(spec) == [(100, 1001), (101, 1012), (102, 1010)]


def test_randomize_task_seeds():
    specs = [lin(num_tasks=2, data_seeds=(1, 2)), lin(num_tasks=3)]
    out = randomize_task_seeds(specs, 1)
    assert [len(s.param_seeds) for s in out] == [2, 3]
    assert [len(s.data_seeds) for s in out] == [2, 3]
    # First param seed: mt19937(HashMix(85652777, 1)) = std::mt19937(3709988732) whose first
    # output is 1402153920, mapped by UniformRandomSeed to 1402153921.
    assert out[0].param_seeds[0] == 1402153921
    assert out[0].param_seeds == (1402153921, 55810276)
    # Draws run on across specs: one spec of 5 tasks gets the concatenation.
    single = randomize_task_seeds([lin(num_tasks=5)], 1)[0]
    assert single.param_seeds == out[0].param_seeds + out[1].param_seeds
    assert single.data_seeds == out[0].data_seeds + out[1].data_seeds
    assert randomize_task_seeds(specs, 1) == out
    assert randomize_task_seeds(specs, 2)[0].param_seeds != out[0].param_seeds
    assert all(2 <= s <= 2**32 - 2 for sp in out for s in sp.param_seeds + sp.data_seeds)


# -- specs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "linear", "features": 8, "num_train": 100, "num_valid": 10},
        {
            "kind": "nonlinear",
            "features": 4,
            "num_train": 5,
            "num_valid": 3,
            "num_tasks": 3,
            "epochs": 2,
            "data_seeds": [1, 2],
            "param_seeds": [9],
        },
        {
            "kind": "increment",
            "features": 2,
            "num_train": 3,
            "num_valid": 2,
            "increment": 0.5,
            "eval_type": "accuracy",
        },
        {
            "kind": "fixed",
            "fixed": {
                "train_features": [[1, 2], [3, 4]],
                "train_labels": [1, 0],
                "valid_features": [[5, 6]],
                "valid_labels": [[1]],
            },
        },
        {
            "kind": "projected_binary",
            "features": 16,
            "num_train": 50,
            "num_valid": 20,
            "dataset": "digits",
            "held_out_pairs": [[4, 6], [3, 5]],
            "max_data_seed": 100,
        },
        {
            "kind": "projected_binary",
            "features": 16,
            "num_train": 50,
            "num_valid": 20,
            "dataset": "digits",
            "positive_class": 3,
            "negative_class": 7,
            "num_test": 10,
        },
    ],
)
def test_spec_dict_round_trip(data):
    spec = TaskSpec.from_dict(data)
    again = TaskSpec.from_dict(spec.to_dict())
    assert again == spec
    json.dumps(spec.to_dict())  # plain data


def test_spec_aliases_and_derived_eval_type():
    spec = TaskSpec.from_dict(
        {
            "kind": "scalar_linear_regression_task",
            "features_size": 4,
            "num_train_examples": 10,
            "num_valid_examples": 5,
            "num_train_epochs": 3,
        }
    )
    assert (spec.kind, spec.features, spec.num_train, spec.num_valid, spec.epochs) == (
        "linear",
        4,
        10,
        5,
        3,
    )
    assert spec.eval_type == "rms"
    proj = TaskSpec.from_dict(
        {
            "kind": "projected-binary",
            "features": 4,
            "num_train": 10,
            "num_valid": 5,
            "dataset": "digits",
        }
    )
    assert proj.kind == "projected_binary" and proj.eval_type == "accuracy"
    assert TaskSpec(
        kind="ones", features=1, num_train=1, num_valid=1, eval_type="accuracy"
    ).is_accuracy
    fixed = TaskSpec.from_dict(
        {
            "kind": "fixed",
            "fixed": {
                "train_features": [[1.0, 2.0, 3.0]],
                "train_labels": [4.0],
                "valid_features": [[1.0, 2.0, 3.0]] * 2,
                "valid_labels": [0.0, 1.0],
            },
        }
    )
    assert (fixed.features, fixed.num_train, fixed.num_valid) == (3, 1, 2)


def test_file_dataset_inferred_from_path(tmp_path):
    spec = TaskSpec(
        kind="projected_binary", features=2, num_train=4, num_valid=2, path=str(tmp_path / "d.csv")
    )
    assert spec.dataset == "csv"
    spec = TaskSpec(
        kind="projected_binary",
        features=2,
        num_train=4,
        num_valid=2,
        dataset=str(tmp_path / "d.npz"),
    )
    assert spec.dataset == "npz" and spec.path == str(tmp_path / "d.npz")


@pytest.mark.parametrize(
    "data, message",
    [
        (
            {"kind": "linear", "features": 4, "num_train": 5, "num_valid": 2, "bogus": 1},
            "unknown task spec key 'bogus'",
        ),
        ({"kind": "quadratic", "features": 4, "num_train": 5, "num_valid": 2}, "unknown task kind"),
        ({"features": 4, "num_train": 5, "num_valid": 2}, "needs 'kind'"),
        ({"kind": "linear", "num_train": 5, "num_valid": 2}, "needs 'features'"),
        ({"kind": "linear", "features": 0, "num_train": 5, "num_valid": 2}, "features must be"),
        (
            {"kind": "linear", "features": "8", "num_train": 5, "num_valid": 2},
            "features must be an integer",
        ),
        (
            {"kind": "linear", "features": True, "num_train": 5, "num_valid": 2},
            "features must be an integer",
        ),
        (
            {"kind": "linear", "features": 4.0, "num_train": 5, "num_valid": 2},
            "features must be an integer",
        ),
        (
            {"kind": "nonlinear", "features": 2, "num_train": 5, "num_valid": 2},
            "features must be >= 3",
        ),
        ({"kind": "linear", "features": 4, "num_train": 0, "num_valid": 2}, "num_train must be"),
        (
            {"kind": "linear", "features": 4, "num_train": 5, "num_valid": 2, "epochs": 0},
            "epochs must be",
        ),
        (
            {"kind": "linear", "features": 4, "num_train": 5, "num_valid": 2, "num_tasks": 0},
            "num_tasks must be",
        ),
        (
            {
                "kind": "linear",
                "features": 4,
                "num_train": 5,
                "num_valid": 2,
                "eval_type": "accuracy",
            },
            "linear tasks use eval_type rms",
        ),
        (
            {"kind": "ones", "features": 4, "num_train": 5, "num_valid": 2, "eval_type": "mse"},
            "eval_type must be one of",
        ),
        (
            {"kind": "linear", "features": 4, "num_train": 5, "num_valid": 2, "data_seeds": [-1]},
            "data_seeds must be >= 0",
        ),
        (
            {
                "kind": "linear",
                "features": 4,
                "num_train": 5,
                "num_valid": 2,
                "param_seeds": [2**32],
            },
            "uint32",
        ),
        (
            {"kind": "linear", "features": 4, "num_train": 5, "num_valid": 2, "data_seeds": "12"},
            "list of integers",
        ),
        (
            {"kind": "linear", "features": 4, "num_train": 5, "num_valid": 2, "dataset": "digits"},
            "'dataset' applies only to projected_binary",
        ),
        (
            {"kind": "linear", "features": 4, "num_train": 5, "num_valid": 2, "increment": 2.0},
            "'increment' applies only to increment",
        ),
        (
            {
                "kind": "increment",
                "features": 4,
                "num_train": 5,
                "num_valid": 2,
                "increment": float("nan"),
            },
            "finite number",
        ),
        (
            {"kind": "projected_binary", "features": 4, "num_train": 5, "num_valid": 2},
            "needs 'dataset'",
        ),
        (
            {
                "kind": "projected_binary",
                "features": 4,
                "num_train": 5,
                "num_valid": 2,
                "dataset": "imagenet",
            },
            "unknown dataset 'imagenet'",
        ),
        (
            {
                "kind": "projected_binary",
                "features": 4,
                "num_train": 5,
                "num_valid": 2,
                "dataset": "cifar10",
            },
            "needs 'path'",
        ),
        (
            {
                "kind": "projected_binary",
                "features": 4,
                "num_train": 5,
                "num_valid": 2,
                "dataset": "digits",
                "positive_class": 1,
            },
            "give both positive_class",
        ),
        (
            {
                "kind": "projected_binary",
                "features": 4,
                "num_train": 5,
                "num_valid": 2,
                "dataset": "digits",
                "positive_class": 1,
                "negative_class": 1,
            },
            "both 1",
        ),
        (
            {
                "kind": "projected_binary",
                "features": 4,
                "num_train": 5,
                "num_valid": 2,
                "dataset": "digits",
                "held_out_pairs": [[1, 1]],
            },
            "names one class twice",
        ),
        (
            {
                "kind": "projected_binary",
                "features": 4,
                "num_train": 5,
                "num_valid": 2,
                "dataset": "digits",
                "held_out_pairs": [[1, 2, 3]],
            },
            "each pair must be",
        ),
        (
            {
                "kind": "projected_binary",
                "features": 4,
                "num_train": 5,
                "num_valid": 2,
                "dataset": "digits",
                "min_data_seed": 5,
                "max_data_seed": 5,
            },
            "min_data_seed <",
        ),
        (
            {
                "kind": "projected_binary",
                "features": 4,
                "num_train": 5,
                "num_valid": 1,
                "dataset": "digits",
            },
            "num_valid >= 2",
        ),
        (
            {
                "kind": "projected_binary",
                "features": 4,
                "num_train": 5,
                "num_valid": 2,
                "dataset": "digits",
                "split": "valid",
            },
            "split must be",
        ),
        (
            {
                "kind": "projected_binary",
                "features": 4,
                "num_train": 5,
                "num_valid": 2,
                "dataset": "digits",
                "projection": "pca",
            },
            "projection must be",
        ),
        ({"kind": "fixed", "features": 2, "num_train": 1, "num_valid": 1}, "needs 'fixed'"),
        (
            {
                "kind": "fixed",
                "fixed": {
                    "train_features": [[1, 2]],
                    "train_labels": [1, 2],
                    "valid_features": [[1, 2]],
                    "valid_labels": [1],
                },
            },
            "train_labels is 2",
        ),
        (
            {
                "kind": "fixed",
                "fixed": {
                    "train_features": [[1, 2]],
                    "train_labels": [[1, 2]],
                    "valid_features": [[1, 2]],
                    "valid_labels": [1],
                },
            },
            "exactly one element",
        ),
        (
            {
                "kind": "fixed",
                "fixed": {
                    "train_features": [[1, 2]],
                    "train_labels": [1],
                    "valid_features": [[1]],
                    "valid_labels": [1],
                },
            },
            "same length",
        ),
        (
            {
                "kind": "fixed",
                "num_train": 3,
                "fixed": {
                    "train_features": [[1]],
                    "train_labels": [1],
                    "valid_features": [[1]],
                    "valid_labels": [1],
                },
            },
            "num_train is 3",
        ),
        ({"kind": "fixed", "fixed": {"train_features": [[1]], "train_labels": [1]}}, "missing"),
        (
            {
                "kind": "fixed",
                "fixed": {
                    "train_features": [["a"]],
                    "train_labels": [1],
                    "valid_features": [[1]],
                    "valid_labels": [1],
                },
            },
            "expected a number",
        ),
    ],
)
def test_spec_errors(data, message):
    with pytest.raises(TaskError, match=message):
        TaskSpec.from_dict(data)


def test_spec_from_dict_rejects_non_mapping():
    with pytest.raises(TaskError, match="must be a mapping"):
        TaskSpec.from_dict([("kind", "linear")])


# -- synthetic tasks -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind", ["linear", "affine", "nonlinear", "nonlinear_plain", "zeros", "ones", "increment"]
)
def test_shapes_dtypes_and_determinism(kind):
    spec = TaskSpec(kind=kind, features=5, num_train=13, num_valid=6, epochs=3, num_tasks=2)
    tasks = build_tasks(spec, start_index=4)
    again = build_tasks(spec, start_index=4)
    for t, u in zip(tasks, again, strict=True):
        assert isinstance(t, Task)
        assert t.train_x.shape == (13, 5) and t.valid_x.shape == (6, 5)
        assert t.train_y.shape == (13,) and t.valid_y.shape == (6,)
        assert t.orders.shape == (3, 13) and t.orders.dtype == np.int32
        assert t.train_x.dtype == np.float64 and t.train_x.flags.c_contiguous
        assert t.eval_type == "rms"
        for name in ("train_x", "train_y", "valid_x", "valid_y", "orders"):
            assert np.array_equal(getattr(t, name), getattr(u, name))
    assert [t.index for t in tasks] == [4, 5]
    assert [(t.data_seed, t.param_seed) for t in tasks] == [(11001, 1001), (11012, 1012)]


def test_linear_labels_are_w_dot_x_and_seeds_split_data_from_params():
    spec = lin(features=8, num_train=1000, num_valid=100)
    t = build_task(spec, 5, 7)
    w = linear_weights(8, 7)
    assert np.array_equal(t.meta["weights"], w)
    np.testing.assert_allclose(t.train_y, t.train_x @ w, rtol=0, atol=1e-12)
    np.testing.assert_allclose(t.valid_y, t.valid_x @ w, rtol=0, atol=1e-12)
    # Features ~ N(0, 1).
    assert abs(t.train_x.mean()) < 0.05 and abs(t.train_x.std() - 1) < 0.05
    same_data = build_task(spec, 5, 8)
    assert np.array_equal(same_data.train_x, t.train_x)
    assert not np.array_equal(same_data.train_y, t.train_y)
    same_params = build_task(spec, 6, 7)
    assert not np.array_equal(same_params.train_x, t.train_x)
    assert np.array_equal(same_params.meta["weights"], w)


def test_affine_is_linear_plus_bias():
    t_lin = build_task(lin(features=6), 3, 4)
    t_aff = build_task(lin(kind="affine", features=6), 3, 4)
    assert np.array_equal(t_aff.train_x, t_lin.train_x)
    assert np.array_equal(t_aff.meta["weights"], t_lin.meta["weights"])
    a = t_aff.meta["bias"]
    assert a != 0.0
    np.testing.assert_allclose(t_aff.train_y, t_lin.train_y + a, atol=1e-12)
    np.testing.assert_allclose(t_aff.valid_y, t_lin.valid_y + a, atol=1e-12)


@pytest.mark.parametrize("features", [3, 4, 8])
def test_reference_teacher_zeroes_rows_0_and_2(features):
    t = build_task(lin(kind="nonlinear", features=features, num_train=50), 11001, 1001)
    m, u = t.meta["teacher_m"], t.meta["teacher_u"]
    assert np.all(m[0] == 0) and np.all(m[2] == 0) and u[0] == 0 and u[2] == 0
    active = [i for i in range(features) if i not in (0, 2)]
    assert np.all(m[active] != 0) and np.all(u[active] != 0)
    expected = np.maximum(t.train_x @ m.T, 0) @ u
    np.testing.assert_allclose(t.train_y, expected, atol=1e-12)
    plain = build_task(lin(kind="nonlinear_plain", features=features, num_train=50), 11001, 1001)
    pm, pu = plain.meta["teacher_m"], plain.meta["teacher_u"]
    assert np.all(pm[0] != 0) and np.all(pm[2] != 0) and pu[0] != 0
    assert np.array_equal(pm[active], m[active]) and np.array_equal(pu[active], u[active])
    assert np.array_equal(plain.train_x, t.train_x)
    np.testing.assert_allclose(plain.valid_y, np.maximum(plain.valid_x @ pm.T, 0) @ pu, atol=1e-12)
    assert np.array_equal(teacher_params(features, 1001)[0], m)


# -- normalize_output (teacher kinds) ---------------------------------------------------------

# sha256 (first 16 hex digits) of train_y + valid_y bytes of task (data seed 1000, param seed
# 51000), F = 8, 200 train / 100 valid, computed before the option existed.
PINNED_TEACHER_LABELS = {"nonlinear": "f452b9fd4571f63d", "nonlinear_plain": "60f6a3dd05b26f4b"}


@pytest.mark.parametrize("kind", ["nonlinear", "nonlinear_plain"])
def test_normalize_output_is_off_by_default_and_data_unchanged(kind):
    import hashlib

    spec = TaskSpec(kind=kind, features=8, num_train=200, num_valid=100)
    assert spec.normalize_output is False
    assert "normalize_output" not in spec.to_dict()
    explicit = TaskSpec(kind=kind, features=8, num_train=200, num_valid=100, normalize_output=False)
    assert task_cache.cache_key(spec, 1000, 51000) == task_cache.cache_key(explicit, 1000, 51000)
    for s in (spec, explicit):
        t = build_task(s, 1000, 51000)
        digest = hashlib.sha256(t.train_y.tobytes() + t.valid_y.tobytes()).hexdigest()[:16]
        assert digest == PINNED_TEACHER_LABELS[kind]
        assert "output_scale" not in t.meta


@pytest.mark.parametrize("kind", ["nonlinear", "nonlinear_plain"])
@pytest.mark.parametrize("param_seed", [1001, 51000, 77])
def test_teacher_output_std_is_exact(kind, param_seed):
    m, u = teacher_params(8, param_seed, zero_rows=kind == "nonlinear")
    x = np.random.default_rng(param_seed).standard_normal((200_000, 8))
    sample = teacher_labels(x, m, u).std()
    assert teacher_output_std(m, u) == pytest.approx(sample, rel=0.02)


def test_teacher_output_std_edge_cases():
    # One active unit: y = u relu(h), h ~ N(0, s^2): std = |u| s sqrt(1/2 - 1/(2 pi)).
    m = np.zeros((3, 3))
    m[1, 0] = 2.0
    u = np.array([0.0, -3.0, 0.0])
    assert teacher_output_std(m, u) == pytest.approx(6.0 * np.sqrt(0.5 - 0.5 / np.pi))
    assert teacher_output_std(np.zeros((3, 3)), np.ones(3)) == 0.0


@pytest.mark.parametrize("kind", ["nonlinear", "nonlinear_plain"])
def test_normalize_output_gives_unit_scale(kind):
    plain = TaskSpec(kind=kind, features=8, num_train=50_000, num_valid=100)
    norm = TaskSpec(kind=kind, features=8, num_train=50_000, num_valid=100, normalize_output=True)
    for data_seed, param_seed in ((1000, 51000), (3, 4)):
        a, b = build_task(plain, data_seed, param_seed), build_task(norm, data_seed, param_seed)
        assert np.array_equal(a.train_x, b.train_x) and np.array_equal(a.valid_x, b.valid_x)
        scale = b.meta["output_scale"]
        assert scale == teacher_output_std(a.meta["teacher_m"], a.meta["teacher_u"])
        np.testing.assert_allclose(b.train_y * scale, a.train_y, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(b.valid_y * scale, a.valid_y, rtol=1e-12, atol=1e-12)
        assert abs(b.train_y.std() - 1.0) < 0.03
        assert abs(a.train_y.std() - 1.0) > 0.5  # the unnormalised scale is not 1


def test_normalize_output_round_trips_and_keys_the_cache(tmp_path):
    spec = TaskSpec.from_dict(
        {
            "kind": "teacher",
            "features": 6,
            "num_train": 40,
            "num_valid": 10,
            "num_tasks": 2,
            "normalize_output": True,
        }  # fmt: skip
    )
    d = spec.to_dict()
    assert d["normalize_output"] is True
    assert TaskSpec.from_dict(d) == spec
    assert TaskSpec.from_dict(json.loads(json.dumps(d))) == spec
    off = TaskSpec.from_dict({**d, "normalize_output": False})
    assert task_cache.cache_key(spec, 1, 2) != task_cache.cache_key(off, 1, 2)
    fresh = build_tasks(spec)
    first = build_tasks(spec, cache=True, cache_dir=tmp_path)
    cached_off = build_tasks(off, cache=True, cache_dir=tmp_path)  # same seeds, other key
    assert len(list(tmp_path.glob("*.npz"))) == 4
    second = build_tasks(spec, cache=True, cache_dir=tmp_path)
    for a, b, c, o in zip(fresh, first, second, cached_off, strict=True):
        assert _same(a, b) and _same(a, c)
        assert c.meta["output_scale"] == a.meta["output_scale"]
        np.testing.assert_allclose(o.train_y, a.train_y * a.meta["output_scale"], rtol=1e-12)


@pytest.mark.parametrize("bad", ["yes", 1, 0, None, 1.0, [True]])
def test_normalize_output_bad_values_error(bad):
    with pytest.raises(TaskError, match="normalize_output must be true or false"):
        TaskSpec(kind="nonlinear_plain", features=4, num_train=5, num_valid=2,
                 normalize_output=bad)  # fmt: skip


@pytest.mark.parametrize("kind", ["linear", "affine", "zeros", "increment"])
def test_normalize_output_only_for_teacher_kinds(kind):
    with pytest.raises(TaskError, match="'normalize_output' applies only to nonlinear"):
        TaskSpec.from_dict(
            {
                "kind": kind,
                "features": 4,
                "num_train": 5,
                "num_valid": 2,
                "normalize_output": True,
            }  # fmt: skip
        )
    assert TaskSpec(kind=kind, features=4, num_train=5, num_valid=2, normalize_output=False)


def test_increment_zeros_ones_fixed_values():
    t = build_task(TaskSpec(kind="increment", features=3, num_train=11, num_valid=9), 1, 1)
    assert t.train_y.tolist() == list(range(11))
    assert t.valid_y.tolist() == list(range(9))
    assert np.array_equal(t.train_x, np.repeat(np.arange(11.0)[:, None], 3, axis=1))
    t = build_task(
        TaskSpec(kind="increment", features=2, num_train=4, num_valid=3, increment=0.1), 1, 1
    )
    np.testing.assert_allclose(t.train_y, [0, 0.1, 0.2, 0.3 * 1.0])
    assert t.train_y[3] == 3 * 0.1 and t.valid_x[2, 1] == 2 * 0.1
    z = build_task(TaskSpec(kind="zeros", features=4, num_train=5, num_valid=2), 1, 1)
    o = build_task(TaskSpec(kind="ones", features=4, num_train=5, num_valid=2), 1, 1)
    assert not z.train_x.any() and not z.valid_y.any()
    assert np.all(o.train_x == 1) and np.all(o.valid_y == 1)
    f = build_task(
        TaskSpec.from_dict(
            {
                "kind": "fixed",
                "fixed": {
                    "train_features": [[1, 2], [3, 4]],
                    "train_labels": [1000, 0],
                    "valid_features": [[5, 6]],
                    "valid_labels": [[7]],
                },
            }
        ),
        1,
        1,
    )
    assert f.train_x.tolist() == [[1, 2], [3, 4]] and f.train_y.tolist() == [1000, 0]
    assert f.valid_x.tolist() == [[5, 6]] and f.valid_y.tolist() == [7]


def test_epoch_orders():
    orders = epoch_orders(50, 4, 11001)
    assert orders.tolist()[0] == list(range(50))
    for e in range(1, 4):
        assert sorted(orders[e].tolist()) == list(range(50))
        assert not np.array_equal(orders[e], orders[e - 1])
    assert np.array_equal(orders, epoch_orders(50, 4, 11001))
    assert not np.array_equal(orders, epoch_orders(50, 4, 11002))
    # Cumulative: the first epochs do not depend on how many epochs follow.
    assert np.array_equal(epoch_orders(50, 2, 11001), orders[:2])
    # Orders depend on the data seed only, not on the kind.
    t = build_task(TaskSpec(kind="ones", features=1, num_train=50, num_valid=1, epochs=4), 11001, 5)
    assert np.array_equal(t.orders, orders)


@given(st.integers(1, 40), st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_epoch_orders_are_permutations(n, epochs, seed):
    orders = epoch_orders(n, epochs, seed)
    assert orders[0].tolist() == list(range(n))
    assert all(sorted(o.tolist()) == list(range(n)) for o in orders)


def test_build_collection_indexes_across_specs():
    tasks = build_collection(
        [
            lin(num_tasks=2),
            {
                "kind": "ones",
                "features": 4,
                "num_train": 3,
                "num_valid": 2,
                "num_tasks": 3,
                "name": "unit",
            },
        ]
    )
    assert [t.index for t in tasks] == [0, 1, 2, 3, 4]
    assert [t.name for t in tasks] == ["linear#0", "linear#1", "unit#0", "unit#1", "unit#2"]
    assert tasks[3].meta["kind"] == "ones" and tasks[3].meta["spec_task"] == 1


def test_describe_task_kinds_lists_every_kind_and_source():
    d = describe_task_kinds()
    assert [k["name"] for k in d["kinds"]] == list(KINDS)
    assert [s["name"] for s in d["sources"]] == list(SOURCES)
    assert all(k["needs"] and k["summary"] and k["eval_type"] for k in d["kinds"])
    assert all(s["needs"] and s["summary"] for s in d["sources"])


# -- projected binary ------------------------------------------------------------------------


def test_projected_digits_standardised_balanced_accuracy():
    tasks = build_tasks(digits(num_tasks=3, num_train=200, num_valid=100, features=16))
    for t in tasks:
        assert t.eval_type == "accuracy" and t.is_accuracy
        assert t.train_x.shape == (200, 16) and t.valid_x.shape == (100, 16)
        np.testing.assert_allclose(t.train_x.mean(axis=0), 0, atol=1e-6)
        np.testing.assert_allclose(t.train_x.std(axis=0), 1, atol=1e-6)
        assert set(np.unique(t.train_y)) == {0.0, 1.0}
        assert t.train_y.mean() == 0.5 and t.valid_y.mean() == 0.5  # stratified, 150 + 150
        # stored like the reference's dataset files: float32 values
        assert np.array_equal(t.train_x, t.train_x.astype(np.float32).astype(np.float64))
        p, n = t.meta["positive_class"], t.meta["negative_class"]
        assert p < n and t.meta["examples_per_class"] == [150, 150]
        assert 0 <= t.meta["projection_seed"] < 10


def test_projected_positive_class_is_label_one(tmp_path):
    # One feature equal to the class id: after standardisation the positive class (2) is the
    # positive side and is labelled 1; classes 1 never appear.
    y = np.arange(30) % 3
    np.savez(tmp_path / "c.npz", x=y[:, None].astype(float), y=y)
    spec = TaskSpec(
        kind="projected_binary",
        features=1,
        num_train=12,
        num_valid=6,
        path=str(tmp_path / "c.npz"),
        positive_class=2,
        negative_class=0,
        projection="none",
        max_data_seed=5,
    )
    t = build_task(spec, 13, 0)
    assert (t.meta["positive_class"], t.meta["negative_class"]) == (2, 0)
    assert t.meta["projection_seed"] == 13 % 5
    for x, lab in ((t.train_x, t.train_y), (t.valid_x, t.valid_y)):
        assert np.array_equal(x[:, 0] > 0, lab == 1.0)
    assert t.train_y.sum() == 6 and t.valid_y.sum() == 3


def test_projected_matches_reference_script_pipeline():
    """The reference script's steps written with scikit-learn give the same task."""
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    n_train, n_valid, n_test, dim, seed, pos, neg = 120, 30, 30, 8, 7, 3, 8
    spec = digits(
        positive_class=pos,
        negative_class=neg,
        num_train=n_train,
        num_valid=n_valid,
        num_test=n_test,
        features=dim,
        max_data_seed=100,
    )
    t = build_task(spec, seed, 0)
    data = load_labelled("digits")
    k = (n_train + n_valid + n_test) // 2
    x = np.concatenate([data.x[data.y == pos][:k], data.x[data.y == neg][:k]]).astype(float)
    y = np.concatenate([np.ones(k), np.zeros(k)])
    x_tv, x_te, y_tv, y_te = train_test_split(
        x, y, train_size=n_train + n_valid, test_size=n_test, random_state=seed, stratify=y
    )
    x_tr, x_va, y_tr, y_va = train_test_split(
        x_tv, y_tv, train_size=n_train, test_size=n_valid, random_state=seed, stratify=y_tv
    )
    np.random.seed(seed)
    r = np.random.randn(64, dim)
    scaler = StandardScaler().fit(x_tr @ r)
    assert np.array_equal(t.train_y, y_tr) and np.array_equal(t.valid_y, y_va)
    assert np.array_equal(t.meta["test_y"], y_te)
    np.testing.assert_allclose(t.train_x, scaler.transform(x_tr @ r), atol=1e-6)
    np.testing.assert_allclose(t.valid_x, scaler.transform(x_va @ r), atol=1e-6)
    np.testing.assert_allclose(t.meta["test_x"], scaler.transform(x_te @ r), atol=1e-6)


@given(st.integers(2, 30), st.integers(2, 30), st.integers(0, 2**31 - 1), st.data())
def test_stratified_split_equals_sklearn(n_pos, n_neg, seed, data):
    from sklearn.model_selection import train_test_split

    labels = np.concatenate([np.ones(n_pos), np.zeros(n_neg)])
    n = n_pos + n_neg
    n_train = data.draw(st.integers(2, n - 2))
    n_test = data.draw(st.integers(2, n - n_train))
    ours_tr, ours_te = stratified_split(labels, n_train, n_test, seed)
    ref_tr, ref_te = train_test_split(
        np.arange(n), train_size=n_train, test_size=n_test, random_state=seed, stratify=labels
    )
    assert ours_tr.tolist() == ref_tr.tolist() and ours_te.tolist() == ref_te.tolist()


def test_held_out_pairs_never_chosen():
    data = load_labelled("digits")
    spec = digits(held_out_pairs=REFERENCE_HELD_OUT)
    held = {frozenset(p) for p in REFERENCE_HELD_OUT}
    chosen = set()
    for seed in range(400):
        p, n, s = choose_pair_and_seed(data, spec, seed)
        assert frozenset((p, n)) not in held and p < n and 0 <= s < 10
        chosen.add((p, n))
    assert len(chosen) == 36  # every remaining pair is reachable
    assert len(candidate_pairs(data, REFERENCE_HELD_OUT)) == 36
    # pair choice is a function of the data seed
    assert choose_pair_and_seed(data, spec, 11001) == choose_pair_and_seed(data, spec, 11001)
    # regression pin of the reference rule: HashMix(856572777, 11001)-seeded mt19937 draws
    assert choose_pair_and_seed(data, digits(), 11001) == (2, 3, 0)


def test_projected_errors():
    with pytest.raises(TaskError, match="cannot provide num_train"):
        build_task(digits(positive_class=0, negative_class=1, num_train=300, num_valid=100), 1, 1)
    with pytest.raises(TaskError, match="positive_class 12 is not a label"):
        build_task(digits(positive_class=12, negative_class=1), 1, 1)
    with pytest.raises(TaskError, match="held_out_pairs class 11"):
        build_task(digits(held_out_pairs=[(0, 11)]), 1, 1)
    all_pairs = [(i, j) for i in range(10) for j in range(i + 1, 10)]
    with pytest.raises(TaskError, match="leave no class pair"):
        build_task(digits(held_out_pairs=all_pairs), 1, 1)
    with pytest.raises(TaskError, match="set features = 64"):
        build_task(digits(projection="none", features=8), 1, 1)


def test_projected_uses_all_examples_of_a_short_class():
    # Digits class 0 has 178 examples and class 1 has 182: 358 + 2 = 360 fits.
    t = build_task(digits(positive_class=0, negative_class=1, num_train=300, num_valid=60), 1, 1)
    assert t.meta["examples_per_class"] == [178, 182]
    assert t.num_train == 300 and t.num_valid == 60


def test_projection_none_keeps_features():
    t = build_task(digits(projection="none", features=64, num_train=40, num_valid=10), 2, 0)
    assert t.train_x.shape == (40, 64)


def test_digits_without_sklearn_is_a_clear_error(monkeypatch):
    import importlib.util

    from amlz_compile.tasks import datasets

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "sklearn" else real(name, *a)
    )
    datasets._memo.clear()
    with pytest.raises(TaskError, match="needs scikit-learn"):
        load_labelled("digits")


# -- file data sources -----------------------------------------------------------------------


def _cifar_batch(rng, n, classes=(0, 1, 2)):
    labels = [int(classes[i % len(classes)]) for i in range(n)]
    data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    return {b"batch_label": b"test", b"labels": labels, b"data": data, b"filenames": [b"x.png"] * n}


def _write_cifar(folder, rng, n=8):
    folder.mkdir(parents=True, exist_ok=True)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batches[name] = _cifar_batch(rng, n)
        with open(folder / name, "wb") as fh:
            pickle.dump(batches[name], fh, protocol=2)
    return batches


def test_cifar10_python_batches(tmp_path):
    rng = np.random.default_rng(0)
    batches = _write_cifar(tmp_path / "cifar-10-batches-py", rng)
    data = load_labelled("cifar10", str(tmp_path), "train")  # parent folder also works
    assert data.x.shape == (40, 3072) and data.x.dtype == np.uint8
    assert data.classes == (0, 1, 2)
    raw = batches["data_batch_2"][b"data"][3]
    # channel-major rows become height x width x channel (TFDS order)
    img = data.x[8 + 3].reshape(32, 32, 3)
    assert img[5, 7, 0] == raw[0 * 1024 + 5 * 32 + 7]
    assert img[5, 7, 2] == raw[2 * 1024 + 5 * 32 + 7]
    assert data.y[:8].tolist() == batches["data_batch_1"][b"labels"]
    test = load_labelled("cifar10", str(tmp_path / "cifar-10-batches-py"), "test")
    assert test.x.shape == (8, 3072)
    spec = TaskSpec(
        kind="projected_binary",
        features=4,
        num_train=16,
        num_valid=4,
        dataset="cifar10",
        path=str(tmp_path),
        num_tasks=2,
    )
    tasks = build_tasks(spec)
    assert tasks[0].train_x.shape == (16, 4)


def test_cifar10_errors(tmp_path):
    rng = np.random.default_rng(1)
    _write_cifar(tmp_path, rng)
    (tmp_path / "data_batch_3").write_bytes(b"\x80\x02}q\x00(X")  # truncated pickle
    with pytest.raises(TaskError, match="data_batch_3"):
        load_labelled("cifar10", str(tmp_path))
    with open(tmp_path / "data_batch_3", "wb") as fh:
        pickle.dump({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, fh)
    with pytest.raises(TaskError, match=r"uint8 \[N, 3072\]"):
        load_labelled("cifar10", str(tmp_path))

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    with open(tmp_path / "data_batch_3", "wb") as fh:
        pickle.dump({b"data": Evil(), b"labels": []}, fh)
    with pytest.raises(TaskError, match="refusing to load builtins.print"):
        load_labelled("cifar10", str(tmp_path))
    (tmp_path / "data_batch_3").unlink()
    with pytest.raises(TaskError, match="missing data_batch_3"):
        load_labelled("cifar10", str(tmp_path))
    with pytest.raises(TaskError, match="must be a directory"):
        load_labelled("cifar10", str(tmp_path / "nope"))


def _idx(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def test_mnist_idx_files(tmp_path):
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, size=(30, 28, 28), dtype=np.uint8)
    labels = np.arange(30) % 3
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx(images)))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx(labels))
    data = load_labelled("mnist", str(tmp_path))
    assert data.x.shape == (30, 784) and np.array_equal(data.x[4], images[4].reshape(-1))
    assert data.y.tolist() == labels.tolist() and data.classes == (0, 1, 2)
    t = build_task(
        TaskSpec(
            kind="projected_binary",
            features=3,
            num_train=12,
            num_valid=6,
            dataset="mnist",
            path=str(tmp_path),
            positive_class=0,
            negative_class=2,
        ),
        0,
        0,
    )
    assert t.meta["examples_per_class"] == [9, 9]
    with pytest.raises(TaskError, match="missing t10k-images-idx3-ubyte"):
        load_labelled("mnist", str(tmp_path), "test")


def test_mnist_idx_errors(tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x01\x02\x08\x01")
    with pytest.raises(TaskError, match="bad magic"):
        read_idx(bad)
    short = tmp_path / "short"
    short.write_bytes(_idx(np.zeros((4, 2, 2)))[:-3])
    with pytest.raises(TaskError, match="header promises 16 bytes"):
        read_idx(short)
    notgz = tmp_path / "x.gz"
    notgz.write_bytes(b"not gzip at all")
    with pytest.raises(TaskError, match="cannot read"):
        read_idx(notgz)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(_idx(np.zeros((5, 2, 2))))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx(np.zeros(4)))
    with pytest.raises(TaskError, match="labels for 5 images"):
        load_labelled("mnist", str(tmp_path))


def test_npz_files(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 2, 3))
    y = np.array(["cat", "dog"] * 20)
    np.savez(tmp_path / "a.npz", X=x, y=y)
    data = load_labelled("npz", str(tmp_path / "a.npz"))
    assert data.x.shape == (40, 6) and data.classes == ("cat", "dog")
    t = build_task(
        TaskSpec(
            kind="projected_binary",
            features=2,
            num_train=20,
            num_valid=10,
            path=str(tmp_path / "a.npz"),
            positive_class="dog",
            negative_class="cat",
        ),
        0,
        0,
    )
    assert t.meta["positive_class"] == "dog" and t.train_y.mean() == 0.5
    np.savez(tmp_path / "b.npz", x=x[:, 0, 0], y=np.arange(40.0) % 2)
    assert load_labelled("npz", str(tmp_path / "b.npz")).classes == (0, 1)
    np.savez(tmp_path / "c.npz", features=x, y=y)
    with pytest.raises(TaskError, match="needs arrays 'x'"):
        load_labelled("npz", str(tmp_path / "c.npz"))
    np.savez(tmp_path / "d.npz", x=x, y=np.array([{"a": 1}] * 40, dtype=object))
    with pytest.raises(TaskError, match="not Python objects"):
        load_labelled("npz", str(tmp_path / "d.npz"))
    np.savez(tmp_path / "e.npz", x=x, y=np.arange(40) * 0.5)
    with pytest.raises(TaskError, match="non-integer"):
        load_labelled("npz", str(tmp_path / "e.npz"))
    np.savez(tmp_path / "f.npz", x=x[:30], y=y)
    with pytest.raises(TaskError, match="30 feature rows but 40 labels"):
        load_labelled("npz", str(tmp_path / "f.npz"))
    (tmp_path / "g.npz").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(TaskError, match="g.npz"):
        load_labelled("npz", str(tmp_path / "g.npz"))
    with pytest.raises(TaskError, match="file not found"):
        load_labelled("npz", str(tmp_path / "missing.npz"))


def test_csv_files(tmp_path):
    rows = [f"{i * 0.5},{-i},{'yes' if i % 2 else 'no'}" for i in range(12)]
    (tmp_path / "h.csv").write_text("a,b,label\n" + "\n".join(rows) + "\n")
    data = load_labelled("csv", str(tmp_path / "h.csv"))
    assert data.x.shape == (12, 2) and data.classes == ("no", "yes")
    assert data.x[3].tolist() == [1.5, -3.0] and data.y[3] == "yes"
    (tmp_path / "n.csv").write_text("\n".join(f"{i},{i % 3}" for i in range(9)))
    plain = load_labelled("csv", str(tmp_path / "n.csv"))
    assert plain.x.shape == (9, 1) and plain.classes == (0, 1, 2)
    t = build_task(
        TaskSpec(
            kind="projected_binary",
            features=1,
            num_train=4,
            num_valid=2,
            dataset="csv",
            path=str(tmp_path / "n.csv"),
            positive_class=2,
            negative_class=0,
            projection="none",
        ),
        0,
        0,
    )
    assert t.train_x.shape == (4, 1)
    (tmp_path / "r.csv").write_text("1,2,0\n3,0\n")
    with pytest.raises(TaskError, match="line 2: 2 columns"):
        load_labelled("csv", str(tmp_path / "r.csv"))
    (tmp_path / "s.csv").write_text("1,2,0\n3,x,1\n")
    with pytest.raises(TaskError, match="line 2: non-numeric"):
        load_labelled("csv", str(tmp_path / "s.csv"))
    (tmp_path / "e.csv").write_text("a,b\n")
    with pytest.raises(TaskError, match="no data rows"):
        load_labelled("csv", str(tmp_path / "e.csv"))


# -- disk cache ------------------------------------------------------------------------------


def _same(a: Task, b: Task) -> bool:
    names = ("train_x", "train_y", "valid_x", "valid_y", "orders")
    return all(np.array_equal(getattr(a, n), getattr(b, n)) for n in names)


def test_cache_hit_returns_equal_arrays(tmp_path):
    spec = TaskSpec(kind="nonlinear", features=4, num_train=30, num_valid=5, epochs=2, num_tasks=2)
    fresh = build_tasks(spec)
    first = build_tasks(spec, cache=True, cache_dir=tmp_path)
    files = sorted(tmp_path.glob("*.npz"))
    assert len(files) == 2
    second = build_tasks(spec, cache=True, cache_dir=tmp_path)
    for a, b, c in zip(fresh, first, second, strict=True):
        assert _same(a, b) and _same(a, c)
        assert np.array_equal(a.meta["teacher_m"], c.meta["teacher_m"])
        assert c.meta["kind"] == "nonlinear" and c.eval_type == "rms"
    # a hit really reads the file: a file holding other (valid) data under the key is used
    key = task_cache.cache_key(spec, 11001, 1001)
    path = task_cache.cache_file(tmp_path, spec, key)
    hit, orders = task_cache.load_cached(path, key)
    task_cache.store(path, key, hit._replace(train_y=hit.train_y + 1.0), orders)
    third = build_tasks(spec, cache=True, cache_dir=tmp_path)
    np.testing.assert_array_equal(third[0].train_y, fresh[0].train_y + 1.0)


def test_cache_keeps_projected_meta(tmp_path):
    spec = digits(num_test=10)
    a = build_tasks(spec, cache=True, cache_dir=tmp_path)[0]
    b = build_tasks(spec, cache=True, cache_dir=tmp_path)[0]
    assert _same(a, b)
    assert b.meta["positive_class"] == a.meta["positive_class"]
    assert np.array_equal(a.meta["test_x"], b.meta["test_x"])


def test_corrupt_cache_file_is_rebuilt(tmp_path):
    spec = lin(num_tasks=1)
    good = build_tasks(spec)[0]
    build_tasks(spec, cache=True, cache_dir=tmp_path)
    (path,) = tmp_path.glob("*.npz")
    path.write_bytes(b"this is not an npz file")
    again = build_tasks(spec, cache=True, cache_dir=tmp_path)[0]
    assert _same(good, again)
    key = task_cache.cache_key(spec, 11001, 1001)
    assert task_cache.load_cached(path, key) is not None  # rewritten
    # a structurally valid file with inconsistent shapes is also rebuilt
    data, orders = task_cache.load_cached(path, key)
    task_cache.store(path, key, data._replace(train_y=data.train_y[:3]), orders)
    assert _same(good, build_tasks(spec, cache=True, cache_dir=tmp_path)[0])
    assert not list(tmp_path.glob("*.tmp"))


def test_cache_key_depends_on_spec_seeds_version_and_source(tmp_path, monkeypatch):
    spec = lin()
    k = task_cache.cache_key(spec, 1, 2)
    assert k == task_cache.cache_key(lin(num_tasks=5, name="other"), 1, 2)
    assert k != task_cache.cache_key(spec, 2, 2)
    assert k != task_cache.cache_key(spec, 1, 3)
    assert k != task_cache.cache_key(lin(epochs=2), 1, 2)
    assert k != task_cache.cache_key(spec, 1, 2, "some file")
    monkeypatch.setattr(task_cache, "GENERATOR_VERSION", task_cache.GENERATOR_VERSION + 1)
    assert k != task_cache.cache_key(spec, 1, 2)


def test_changed_data_file_is_not_served_from_cache(tmp_path):
    x = np.arange(40.0).reshape(20, 2)
    np.savez(tmp_path / "d.npz", x=x, y=np.arange(20) % 2)
    spec = TaskSpec(
        kind="projected_binary",
        features=2,
        num_train=8,
        num_valid=4,
        path=str(tmp_path / "d.npz"),
        projection="none",
    )
    before = build_tasks(spec, cache=True, cache_dir=tmp_path / "cache")[0]
    np.savez(tmp_path / "d.npz", x=x**2 + 1.0, y=np.arange(20) % 2)
    after = build_tasks(spec, cache=True, cache_dir=tmp_path / "cache")[0]
    assert not np.array_equal(before.train_x, after.train_x)
    assert _same(after, build_tasks(spec)[0])


def test_default_cache_dir_and_unwritable_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("AMLZ_CACHE_DIR", str(tmp_path / "root"))
    assert default_cache_dir() == tmp_path / "root" / "tasks"
    monkeypatch.delenv("AMLZ_CACHE_DIR")
    assert default_cache_dir().parts[-3:] == (".cache", "amlz_compile", "tasks")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.warns(RuntimeWarning, match="cannot write"):
        tasks = build_tasks(lin(), cache=True, cache_dir=blocker / "sub")
    assert _same(tasks[0], build_tasks(lin())[0])
