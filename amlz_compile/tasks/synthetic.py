"""Synthetic tasks: linear, affine, 2-layer teacher (reference and plain) and unit-test tasks.

See docs/semantics.md#tasks. Each task has a data generator (features) and a param generator
(weights), both mt19937 seeded like the reference (seed + the reference's offset, mod 2**32) so
the raw bit streams are the C++ ones; Gaussians come from numpy's `Generator.standard_normal`
(ziggurat), not abseil's, so values agree with the reference in distribution only. Features are
drawn training rows first, then validation rows, row-major, as in the reference.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .seeds import MASK32, mt19937
from .spec import TaskSpec

LINEAR_DATA_OFFSET = 939723201
LINEAR_PARAM_OFFSET = 997958712
TEACHER_DATA_OFFSET = 865546086
TEACHER_PARAM_OFFSET = 174299604
TEACHER_ZERO_ROWS = (0, 2)


class TaskData(NamedTuple):
    """Arrays of one generated task plus what to record in `Task.meta`."""

    train_x: np.ndarray
    train_y: np.ndarray
    valid_x: np.ndarray
    valid_y: np.ndarray
    meta: dict


def _gen(seed: int, offset: int) -> np.random.Generator:
    return np.random.Generator(mt19937((int(seed) + offset) & MASK32))


def gaussian_features(num_train: int, num_valid: int, features: int, rng: np.random.Generator):
    """N(0,1) features: all training rows, then all validation rows."""
    x = rng.standard_normal((num_train + num_valid, features))
    return x[:num_train].copy(), x[num_train:].copy()


def linear_weights(features: int, param_seed: int) -> np.ndarray:
    """w ~ N(0,1)^F of a linear (and affine) task."""
    return _gen(param_seed, LINEAR_PARAM_OFFSET).standard_normal(features)


def affine_params(features: int, param_seed: int) -> tuple[np.ndarray, float]:
    """(w, a) of an affine task: w as for a linear task, then the bias a ~ N(0,1)."""
    rng = _gen(param_seed, LINEAR_PARAM_OFFSET)
    w = rng.standard_normal(features)
    return w, float(rng.standard_normal())


def teacher_params(
    features: int, param_seed: int, zero_rows: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """(M, u) of a 2-layer teacher: M ~ N(0,1)^{FxF} row-major, then u ~ N(0,1)^F.

    With `zero_rows` (the reference) rows 0 and 2 of M and u[0], u[2] are set to 0.
    """
    rng = _gen(param_seed, TEACHER_PARAM_OFFSET)
    m = rng.standard_normal((features, features))
    u = rng.standard_normal(features)
    if zero_rows:
        for r in TEACHER_ZERO_ROWS:
            if r < features:
                m[r, :] = 0.0
                u[r] = 0.0
    return m, u


def teacher_labels(x: np.ndarray, m: np.ndarray, u: np.ndarray) -> np.ndarray:
    """y = sum_i u_i * max((Mx)_i, 0) for every row x."""
    return np.maximum(x @ m.T, 0.0) @ u


def teacher_output_std(m: np.ndarray, u: np.ndarray) -> float:
    """The exact standard deviation of y = u.relu(Mx) over x ~ N(0, I) (no sampling).

    With h = Mx, h_i ~ N(0, |m_i|^2): E[relu(h_i)] = |m_i| / sqrt(2 pi), and (the arc-cosine
    kernel of degree 1, Cho & Saul 2009) E[relu(h_i) relu(h_j)] = |m_i| |m_j| (sin t + (pi - t)
    cos t) / (2 pi) with t the angle between rows m_i and m_j. Zero rows contribute 0.
    """
    norms = np.sqrt(np.sum(m * m, axis=1))
    outer = np.outer(norms, norms)
    safe = np.where(outer > 0.0, outer, 1.0)
    cos = np.clip(np.where(outer > 0.0, (m @ m.T) / safe, 0.0), -1.0, 1.0)
    theta = np.arccos(cos)
    second = outer * (np.sin(theta) + (np.pi - theta) * cos) / (2.0 * np.pi)
    mean = float(u @ norms) / np.sqrt(2.0 * np.pi)
    var = float(u @ second @ u) - mean * mean
    return float(np.sqrt(max(var, 0.0)))


def make_linear(spec: TaskSpec, data_seed: int, param_seed: int) -> TaskData:
    tx, vx = gaussian_features(
        spec.num_train, spec.num_valid, spec.features, _gen(data_seed, LINEAR_DATA_OFFSET)
    )
    w = linear_weights(spec.features, param_seed)
    return TaskData(tx, tx @ w, vx, vx @ w, {"weights": w})


def make_affine(spec: TaskSpec, data_seed: int, param_seed: int) -> TaskData:
    tx, vx = gaussian_features(
        spec.num_train, spec.num_valid, spec.features, _gen(data_seed, LINEAR_DATA_OFFSET)
    )
    w, a = affine_params(spec.features, param_seed)
    return TaskData(tx, tx @ w + a, vx, vx @ w + a, {"weights": w, "bias": a})


def make_teacher(spec: TaskSpec, data_seed: int, param_seed: int) -> TaskData:
    tx, vx = gaussian_features(
        spec.num_train, spec.num_valid, spec.features, _gen(data_seed, TEACHER_DATA_OFFSET)
    )
    m, u = teacher_params(spec.features, param_seed, zero_rows=spec.kind == "nonlinear")
    meta = {"teacher_m": m, "teacher_u": u}
    ty, vy = teacher_labels(tx, m, u), teacher_labels(vx, m, u)
    if spec.normalize_output:
        # Divide by the teacher's exact output std (a property of M and u alone, so the
        # train and valid splits and every data seed share one scale); 1 if it is 0.
        std = teacher_output_std(m, u)
        scale = std if std > 0.0 else 1.0
        ty, vy = ty / scale, vy / scale
        meta["output_scale"] = scale
    return TaskData(tx, ty, vx, vy, meta)


def make_constant(spec: TaskSpec, data_seed: int, param_seed: int) -> TaskData:
    """zeros / ones: every feature and label is 0 / 1."""
    value = 1.0 if spec.kind == "ones" else 0.0
    n, v, f = spec.num_train, spec.num_valid, spec.features
    return TaskData(
        np.full((n, f), value), np.full(n, value), np.full((v, f), value), np.full(v, value), {}
    )


def make_increment(spec: TaskSpec, data_seed: int, param_seed: int) -> TaskData:
    """Training example k: features and label k*inc; validation restarts at 0."""
    inc = spec.increment
    ty = np.arange(spec.num_train, dtype=np.float64) * inc
    vy = np.arange(spec.num_valid, dtype=np.float64) * inc
    tx = np.repeat(ty[:, None], spec.features, axis=1)
    vx = np.repeat(vy[:, None], spec.features, axis=1)
    return TaskData(tx, ty, vx, vy, {"increment": inc})


def make_fixed(spec: TaskSpec, data_seed: int, param_seed: int) -> TaskData:
    fx = spec.fixed
    return TaskData(
        np.array(fx.train_features, dtype=np.float64),
        np.array(fx.train_labels, dtype=np.float64),
        np.array(fx.valid_features, dtype=np.float64),
        np.array(fx.valid_labels, dtype=np.float64),
        {},
    )


GENERATORS = {
    "linear": make_linear,
    "affine": make_affine,
    "nonlinear": make_teacher,
    "nonlinear_plain": make_teacher,
    "zeros": make_constant,
    "ones": make_constant,
    "increment": make_increment,
    "fixed": make_fixed,
}
