"""Projected binary classification of any labelled dataset (docs/semantics.md#tasks).

For a class pair (p positive -> label 1, n negative -> label 0) and a projection seed s, this
follows the reference's `generate_datasets.py`: the first k examples of each class in dataset
order (k = ceil(total / 2), fewer when a class has fewer, as long as the pair has `total`),
positive class first; a stratified train+valid / test split (only when num_test > 0), then a
stratified train / valid split, both with seed s (a numpy port of scikit-learn's
`train_test_split(..., stratify=labels, random_state=s)`, equal index for index);
R = `np.random.seed(s); np.random.randn(D, F)`; X.R; standardisation fitted on the projected
training rows; features rounded to float32 as the reference's dataset files store them.

The pair and s come from the task's data seed as in the reference's C++: given classes use
s = min_data_seed + data_seed mod (max - min); otherwise an mt19937 seeded
HashMix(856572777, data_seed) picks a pair among all (i < j) minus held_out_pairs and then s
in [min, max) (bit-exact with the reference's abseil draws).

Label noise (not in the reference; for the paper's noisy-label adaptation setting): with
`label_noise` p > 0 each training label flips (1 <-> 0) independently with probability p. The
draws come from `numpy.random.Generator(PCG64(SeedSequence([LABEL_NOISE_SALT, data_seed])))`,
one uniform per training example in training order, so a task's noise is fixed by its data
seed alone (the same data seed gives the same flips, whatever else the spec says). Validation
and test labels stay clean, so fitness measures generalisation to the true labels. p = 0
makes no draws and leaves the task bit-identical to one without the option.
"""

from __future__ import annotations

import math

import numpy as np

from .base import TaskError
from .datasets import LabelledData, load_labelled
from .seeds import hash_mix, mt19937, uniform_integer
from .spec import TaskSpec
from .synthetic import TaskData

PAIR_SEED_SALT = 856572777
LABEL_NOISE_SALT = 1160531813
_PROJECT_CHUNK = 2048


def _resolve_class(data: LabelledData, value, what: str):
    for c in data.classes:
        if c == value or str(c) == str(value):
            return c
    shown = ", ".join(map(str, data.classes[:20])) + (" ..." if len(data.classes) > 20 else "")
    raise TaskError(f"{what} {value!r} is not a label of dataset {data.name} ({shown})")


def candidate_pairs(data: LabelledData, held_out=()) -> list[tuple]:
    """All class pairs (i < j in sorted class order) minus the held-out ones (either order)."""
    held = {
        frozenset(
            (
                _resolve_class(data, a, "held_out_pairs class"),
                _resolve_class(data, b, "held_out_pairs class"),
            )
        )
        for a, b in held_out
    }
    cs = data.classes
    return [
        (cs[i], cs[j])
        for i in range(len(cs))
        for j in range(i + 1, len(cs))
        if frozenset((cs[i], cs[j])) not in held
    ]


def choose_pair_and_seed(data: LabelledData, spec: TaskSpec, data_seed: int):
    """(positive class, negative class, projection seed) of the task with `data_seed`."""
    lo, hi = spec.min_data_seed, spec.max_data_seed
    if len(data.classes) < 2:
        raise TaskError(f"dataset {data.name} has fewer than two classes")
    if spec.positive_class is not None:
        p = _resolve_class(data, spec.positive_class, "positive_class")
        n = _resolve_class(data, spec.negative_class, "negative_class")
        return p, n, lo + int(data_seed) % (hi - lo)
    pairs = candidate_pairs(data, spec.held_out_pairs)
    if not pairs:
        raise TaskError(f"dataset {data.name}: held_out_pairs leave no class pair to choose")
    rng = mt19937(hash_mix([PAIR_SEED_SALT, data_seed]))
    p, n = pairs[uniform_integer(rng, 0, len(pairs))]
    return p, n, uniform_integer(rng, lo, hi)


def approximate_mode(class_counts: np.ndarray, n_draws: int, rng: np.random.RandomState):
    """Per-class draw counts closest to proportional; ties broken with `rng` (sklearn's rule)."""
    continuous = class_counts / class_counts.sum() * n_draws
    floored = np.floor(continuous)
    need = int(n_draws - floored.sum())
    if need > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (inds,) = np.where(remainder == value)
            add_now = min(len(inds), need)
            inds = rng.choice(inds, size=add_now, replace=False)
            floored[inds] += 1
            need -= add_now
            if need == 0:
                break
    return floored.astype(int)


def stratified_split(labels: np.ndarray, n_train: int, n_test: int, seed: int):
    """(train, test) indices of a stratified shuffle split, as sklearn's `train_test_split`.

    Same draws as `train_test_split(range(N), train_size=n_train, test_size=n_test,
    random_state=seed, stratify=labels)`; needs at least 2 examples per class and
    n_train, n_test >= number of classes.
    """
    n = labels.shape[0]
    classes, y_idx, counts = np.unique(labels, return_inverse=True, return_counts=True)
    if n_train + n_test > n or n_train < 1 or n_test < 1:
        raise TaskError(f"cannot split {n} examples into {n_train} and {n_test}")
    if counts.min() < 2 or n_train < len(classes) or n_test < len(classes):
        raise TaskError("a stratified split needs >= 2 examples per class and per side")
    class_indices = np.split(np.argsort(y_idx, kind="stable"), np.cumsum(counts)[:-1])
    rng = np.random.RandomState(seed)
    n_i = approximate_mode(counts, n_train, rng)
    t_i = approximate_mode(counts - n_i, n_test, rng)
    train: list[int] = []
    test: list[int] = []
    for i in range(len(classes)):
        perm = class_indices[i].take(rng.permutation(counts[i]), mode="clip")
        train.extend(perm[: n_i[i]])
        test.extend(perm[n_i[i] : n_i[i] + t_i[i]])
    return rng.permutation(train), rng.permutation(test)


def projection_matrix(in_features: int, out_features: int, seed: int) -> np.ndarray:
    """R of the reference script: `np.random.seed(seed); np.random.randn(D, F)`."""
    return np.random.RandomState(seed).randn(in_features, out_features)


def standardise(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """Scale by the training rows' mean and (population) std; constant columns keep scale 1."""
    mean = train.mean(axis=0)
    scale = train.std(axis=0)
    scale[scale <= 10 * np.finfo(np.float64).eps * np.maximum(np.abs(mean), 1.0)] = 1.0
    return [(a - mean) / scale for a in (train, *others)]


def _select(data: LabelledData, p, n, total: int):
    idx_p = np.flatnonzero(data.y == p)
    idx_n = np.flatnonzero(data.y == n)
    take_p = min(len(idx_p), math.ceil(total / 2))
    take_n = total - take_p
    if take_n > len(idx_n):
        take_n = len(idx_n)
        take_p = total - take_n
    if take_p > len(idx_p) or take_p < 2 or take_n < 2:
        raise TaskError(
            f"dataset {data.name}: classes {p!r} ({len(idx_p)} examples) and {n!r} "
            f"({len(idx_n)} examples) cannot provide num_train + num_valid + num_test = {total} "
            "examples with at least 2 per class"
        )
    # The reference keeps the first k of each class; when one class is short the other
    # contributes the rest (k per class exactly when both have enough).
    return idx_p[:take_p], idx_n[:take_n]


def _project(x: np.ndarray, rows: np.ndarray, r: np.ndarray | None) -> np.ndarray:
    out_f = x.shape[1] if r is None else r.shape[1]
    out = np.empty((rows.shape[0], out_f), dtype=np.float64)
    for start in range(0, rows.shape[0], _PROJECT_CHUNK):
        chunk = x[rows[start : start + _PROJECT_CHUNK]].astype(np.float64)
        out[start : start + chunk.shape[0]] = chunk if r is None else chunk @ r
    return out


def build_projected(
    data: LabelledData,
    p,
    n,
    seed: int,
    features: int,
    num_train: int,
    num_valid: int,
    num_test: int = 0,
    projection: str = "random",
) -> TaskData:
    """The projected binary task for classes (p, n) and projection seed `seed`."""
    if projection == "none" and features != data.num_features:
        raise TaskError(
            f"projection 'none' keeps the {data.num_features} features of {data.name}; "
            f"set features = {data.num_features}"
        )
    total = num_train + num_valid + num_test
    idx_p, idx_n = _select(data, p, n, total)
    rows = np.concatenate([idx_p, idx_n])
    labels = np.concatenate([np.ones(len(idx_p)), np.zeros(len(idx_n))])
    r = None if projection == "none" else projection_matrix(data.num_features, features, seed)
    x = _project(data.x, rows, r)
    if num_test > 0:
        trval, test = stratified_split(labels, num_train + num_valid, num_test, seed)
    else:
        trval, test = np.arange(labels.shape[0]), np.arange(0)
    tr, va = stratified_split(labels[trval], num_train, num_valid, seed)
    tr, va = trval[tr], trval[va]
    tx, vx, sx = standardise(x[tr], x[va], x[test])
    f32 = [a.astype(np.float32).astype(np.float64) for a in (tx, vx, sx)]
    meta = {
        "dataset": data.name,
        "source": data.source,
        "positive_class": p.item() if hasattr(p, "item") else p,
        "negative_class": n.item() if hasattr(n, "item") else n,
        "projection_seed": int(seed),
        "examples_per_class": [int(len(idx_p)), int(len(idx_n))],
        "input_features": int(data.num_features),
    }
    if num_test > 0:
        meta["test_x"] = f32[2]
        meta["test_y"] = labels[test]
    return TaskData(f32[0], labels[tr], f32[1], labels[va], meta)


def label_flips(num_train: int, p: float, data_seed: int) -> np.ndarray:
    """Boolean mask of the training labels that label noise `p` flips for `data_seed`."""
    if p <= 0.0:
        return np.zeros(num_train, dtype=bool)
    seq = np.random.SeedSequence([LABEL_NOISE_SALT, int(data_seed)])
    rng = np.random.Generator(np.random.PCG64(seq))
    return rng.random(num_train) < p


def add_label_noise(task: TaskData, p: float, data_seed: int) -> TaskData:
    """`task` with its training labels flipped by `label_flips` (p = 0: `task` itself)."""
    if p <= 0.0:
        return task
    flips = label_flips(task.train_y.shape[0], p, data_seed)
    train_y = np.where(flips, 1.0 - task.train_y, task.train_y)
    meta = dict(task.meta, label_noise=float(p), flipped_train_labels=int(flips.sum()))
    return TaskData(task.train_x, train_y, task.valid_x, task.valid_y, meta)


def make_projected(spec: TaskSpec, data_seed: int, param_seed: int) -> TaskData:
    """The projected binary task of `spec` with `data_seed` (the param seed is unused)."""
    data = load_labelled(spec.dataset, spec.path, spec.split)
    p, n, s = choose_pair_and_seed(data, spec, data_seed)
    task = build_projected(
        data, p, n, s, spec.features, spec.num_train, spec.num_valid, spec.num_test, spec.projection
    )
    return add_label_noise(task, spec.label_noise, data_seed)
