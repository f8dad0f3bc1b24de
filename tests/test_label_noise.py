"""`label_noise` of projected_binary tasks: training labels flip with probability p, drawn from
a generator seeded by the data seed; validation/test labels stay clean; p = 0 changes nothing;
bad values are refused with a TaskError naming the field."""

from __future__ import annotations

import numpy as np
import pytest

from amlz_compile.tasks import TaskError, TaskSpec, generate
from amlz_compile.tasks.cache import cache_key
from amlz_compile.tasks.projected import label_flips


def digits(**kw) -> TaskSpec:
    base = dict(kind="projected_binary", features=8, num_train=80, num_valid=40, num_test=20)
    base.update(dataset="digits", **kw)
    return TaskSpec(**base)


def test_zero_noise_is_bit_identical_to_no_option():
    plain = generate(digits(), 3, 0)
    zero = generate(digits(label_noise=0.0), 3, 0)
    for a, b in zip(plain[:4], zero[:4], strict=True):
        assert a.tobytes() == b.tobytes()
    assert plain.meta.keys() == zero.meta.keys()
    assert digits(label_noise=0).to_dict() == digits().to_dict()
    assert cache_key(digits(label_noise=0), 3, 0) == cache_key(digits(), 3, 0)


def test_noise_flips_training_labels_only_and_deterministically():
    clean = generate(digits(), 5, 0)
    noisy = generate(digits(label_noise=0.2), 5, 0)
    again = generate(digits(label_noise=0.2), 5, 0)
    flipped = clean.train_y != noisy.train_y
    assert flipped.any()
    assert np.array_equal(noisy.train_y, again.train_y)
    assert np.array_equal(noisy.train_y[flipped], 1.0 - clean.train_y[flipped])
    assert np.array_equal(flipped, label_flips(80, 0.2, 5))
    assert noisy.meta["flipped_train_labels"] == int(flipped.sum())
    assert noisy.meta["label_noise"] == 0.2
    assert np.array_equal(noisy.train_x, clean.train_x)
    assert np.array_equal(noisy.valid_y, clean.valid_y)
    assert np.array_equal(noisy.valid_x, clean.valid_x)
    assert np.array_equal(noisy.meta["test_y"], clean.meta["test_y"])
    assert cache_key(digits(label_noise=0.2), 5, 0) != cache_key(digits(), 5, 0)


def test_flips_depend_on_the_data_seed():
    assert not np.array_equal(label_flips(200, 0.3, 1), label_flips(200, 0.3, 2))
    assert np.array_equal(label_flips(200, 0.3, 1), label_flips(200, 0.3, 1))


@pytest.mark.parametrize("p", [0.05, 0.2, 0.45])
def test_flip_share_matches_p_in_expectation(p):
    n, seeds = 1000, range(40)
    share = np.mean([label_flips(n, p, s).mean() for s in seeds])
    # 40 000 Bernoulli(p) draws: the standard error is below 0.0025.
    assert abs(share - p) < 0.01


@pytest.mark.parametrize("bad", [-0.1, 0.5, 0.7, 1, float("nan"), "0.1", True, None])
def test_bad_values_refused(bad):
    with pytest.raises(TaskError, match="label_noise"):
        digits(label_noise=bad)


def test_other_kinds_refuse_the_option():
    with pytest.raises(TaskError, match="label_noise"):
        TaskSpec(kind="linear", features=4, num_train=10, num_valid=5, label_noise=0.1)


def test_from_dict_round_trip():
    spec = TaskSpec.from_dict(
        {
            "kind": "projected_binary",
            "features": 8,
            "num_train": 80,
            "num_valid": 40,
            "dataset": "digits",
            "label_noise": 0.1,
        }
    )
    assert spec.label_noise == 0.1
    assert TaskSpec.from_dict(spec.to_dict()) == spec
