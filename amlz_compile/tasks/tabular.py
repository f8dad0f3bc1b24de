"""Search, select and final tasks from a user's table (X, y): regression or classification.

The paper's meta-learning setup asks for an algorithm that learns well on *several* tasks, is
chosen on other data, and is reported on data nobody looked at. One table becomes that setup:

- **final split**: a held-out share of the rows (`final_fraction`, default 0.2), stratified by
  class for classification. It is used once, for the final evaluation.
- **select split**: another share (`select_fraction`, default 0.2). Three select tasks train
  on half the search rows, all of them, and as many rows as the whole table has (the search rows
  repeated in shuffled passes: as many training steps as the final model takes), and validate
  on the select rows; they rank the candidates of search experiments. The final model trains
  longer than any search task, so a candidate whose learning breaks down as training grows (a
  learning rate that keeps increasing, say) loses at selection rather than after it.
- **search tasks**: the remaining rows cut into `folds` folds (default 4); search task k trains
  on the other folds and validates on fold k (K-fold cross-validation as the set of tasks, so a
  program is rewarded for learning, not for fitting one split).
- **multi-class** (more than two classes) is one-vs-rest over binary programs, as in the
  paper's extension: a task for class c labels c as 1 and every other class 0. Search task k
  uses fold k mod folds and class k mod C (max(folds, C) tasks, so every class and every fold
  is seen); select has three tasks per class, final one per class. A model predicts the class whose
  program outputs the largest logit.
- **standardisation** (default on): features, and regression targets, are scaled by the mean
  and standard deviation of the non-final rows; the transform is returned with the tasks
  (`Standardiser`) and kept by the model, which applies it to new inputs and undoes it on
  predictions.

Each task is a `fixed` task spec (the data is embedded), so the tasks travel to worker
processes and into checkpoints as plain JSON. Search tasks keep at most `max_train` training
and `max_valid` validation rows (a seeded subsample) so a search on a large table stays
affordable; select and final tasks use all their rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .base import ACCURACY, RMS_ERROR, TaskError

REGRESSION = "regression"
CLASSIFICATION = "classification"
PROBLEMS = (REGRESSION, CLASSIFICATION)
MAX_AUTO_CLASSES = 20  # integer targets with at most this many values count as classes
MIN_SAMPLES = 5
MIN_SEARCH_TRAIN = 10  # the search's minimum of training examples per task


class DataError(TaskError):
    """A table that cannot become tasks: too few rows, NaN, wrong shapes, one class."""


@dataclass(frozen=True)
class Standardiser:
    """Per-feature mean and scale (and the target's, for regression) of the non-final rows.

    Constant columns keep scale 1. `transform_x` maps raw features to what the algorithm sees;
    `inverse_y` maps an algorithm's regression output back to the user's units.
    """

    x_mean: tuple[float, ...]
    x_scale: tuple[float, ...]
    y_mean: float = 0.0
    y_scale: float = 1.0

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray | None = None) -> Standardiser:
        mean = x.mean(axis=0)
        scale = x.std(axis=0)
        scale[scale <= 1e-12 * np.maximum(np.abs(mean), 1.0)] = 1.0
        y_mean, y_scale = 0.0, 1.0
        if y is not None:
            y_mean = float(np.mean(y))
            y_scale = float(np.std(y))
            if not y_scale > 1e-12 * max(abs(y_mean), 1.0):
                y_scale = 1.0
        return cls(tuple(map(float, mean)), tuple(map(float, scale)), y_mean, y_scale)

    @classmethod
    def identity(cls, features: int) -> Standardiser:
        return cls((0.0,) * features, (1.0,) * features)

    def transform_x(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=np.float64) - np.array(self.x_mean)) / np.array(self.x_scale)

    def transform_y(self, y: np.ndarray) -> np.ndarray:
        return (np.asarray(y, dtype=np.float64) - self.y_mean) / self.y_scale

    def inverse_y(self, y: np.ndarray) -> np.ndarray:
        return np.asarray(y, dtype=np.float64) * self.y_scale + self.y_mean

    def to_dict(self) -> dict:
        return {
            "x_mean": list(self.x_mean),
            "x_scale": list(self.x_scale),
            "y_mean": self.y_mean,
            "y_scale": self.y_scale,
        }


@dataclass(frozen=True)
class DataTasks:
    """The task specs made from one table, with what a model needs to use them.

    `search`, `select`, `final` are task spec dicts (kind `fixed`); `classes` are the sorted
    class labels (classification) and `encoded` says which of them each task's label 1 is
    (None for regression and binary tasks); `parts` holds the row indices of each split.
    """

    problem: str
    search: list[dict]
    select: list[dict]
    final: list[dict]
    standardiser: Standardiser
    classes: tuple = ()
    parts: dict = field(default_factory=dict)

    @property
    def multiclass(self) -> bool:
        return len(self.classes) > 2

    def summary(self) -> dict:
        """Plain data for run summaries: sizes of the splits and the task layout."""
        return {
            "problem": self.problem,
            "rows": {k: int(len(v)) for k, v in self.parts.items()},
            "search_tasks": len(self.search),
            "select_tasks": len(self.select),
            "final_tasks": len(self.final),
            "classes": [c.item() if hasattr(c, "item") else c for c in self.classes],
            "standardiser": self.standardiser.to_dict(),
        }


def infer_problem(y: np.ndarray) -> str:
    """'classification' for text labels or few integer values, else 'regression'."""
    y = np.asarray(y)
    if y.dtype.kind in "OUSb":
        return CLASSIFICATION
    if y.dtype.kind in "iu":
        return CLASSIFICATION if len(np.unique(y)) <= MAX_AUTO_CLASSES else REGRESSION
    yf = y.astype(np.float64)
    if np.all(np.isfinite(yf)) and np.all(yf == np.round(yf)):
        return CLASSIFICATION if len(np.unique(yf)) <= MAX_AUTO_CLASSES else REGRESSION
    return REGRESSION


def check_table(x: np.ndarray, y: np.ndarray, problem: str) -> tuple[np.ndarray, np.ndarray]:
    """(x float64 2-D, y) validated: finite, matching lengths, enough rows (DataError)."""
    if problem not in PROBLEMS:
        raise DataError(f"problem must be one of {PROBLEMS}, got {problem!r}")
    x = np.asarray(x)
    if x.ndim != 2:
        raise DataError(f"features must be a 2-D table, got shape {x.shape}")
    if x.dtype.kind not in "iufb":
        raise DataError(f"features must be numeric, got dtype {x.dtype}")
    x = x.astype(np.float64)
    y = np.asarray(y).reshape(-1) if np.ndim(y) == 2 and 1 in np.shape(y) else np.asarray(y)
    if y.ndim != 1 or y.shape[0] != x.shape[0]:
        raise DataError(f"{x.shape[0]} feature rows but targets of shape {y.shape}")
    if x.shape[0] < MIN_SAMPLES:
        raise DataError(f"a search needs at least {MIN_SAMPLES} rows, got n_samples = {x.shape[0]}")
    if x.shape[1] < 1:
        raise DataError("the table has no feature columns")
    if not np.all(np.isfinite(x)):
        raise DataError("features contain NaN or infinity")
    if problem == REGRESSION:
        try:
            y = y.astype(np.float64)
        except (TypeError, ValueError):
            raise DataError("regression targets must be numbers") from None
        if not np.all(np.isfinite(y)):
            raise DataError("targets contain NaN or infinity")
    return x, y


def _stratified_parts(
    groups: np.ndarray, fractions: Sequence[float], rng: np.random.Generator
) -> list[np.ndarray]:
    """Row indices cut into len(fractions) + 1 parts (the last gets the rest), per group, so
    each part holds about its share of every group."""
    parts: list[list[int]] = [[] for _ in range(len(fractions) + 1)]
    for g in np.unique(groups):
        rows = rng.permutation(np.flatnonzero(groups == g))
        start = 0
        for i, frac in enumerate(fractions):
            take = int(round(frac * len(rows)))
            parts[i].extend(rows[start : start + take])
            start += take
        parts[-1].extend(rows[start:])
    return [np.sort(np.array(p, dtype=np.int64)) for p in parts]


def _spec(
    name: str,
    x: np.ndarray,
    y: np.ndarray,
    train: np.ndarray,
    valid: np.ndarray,
    eval_type: str,
    epochs: int,
    seed: int,
) -> dict:
    return {
        "kind": "fixed",
        "name": name,
        "eval_type": eval_type,
        "epochs": int(epochs),
        "data_seeds": [int(seed)],
        "fixed": {
            "train_features": x[train].tolist(),
            "train_labels": y[train].tolist(),
            "valid_features": x[valid].tolist(),
            "valid_labels": y[valid].tolist(),
        },
    }


def _cap(rows: np.ndarray, limit: int | None, rng: np.random.Generator) -> np.ndarray:
    if limit is None or len(rows) <= limit:
        return rows
    return np.sort(rng.choice(rows, size=limit, replace=False))


def _training_rows(rows: np.ndarray, length: int, rng: np.random.Generator) -> np.ndarray:
    """`length` training rows from `rows`: a subset in order when shorter, else shuffled
    passes over all of them (the last pass cut short)."""
    if length <= len(rows):
        return np.sort(rng.permutation(rows)[:length])
    passes = [rng.permutation(rows) for _ in range(-(-length // len(rows)))]
    return np.concatenate(passes)[:length]


def _at_least(rows: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """`rows`, plus rows drawn from them with replacement up to `count` (tiny tables)."""
    if len(rows) >= count:
        return rows
    return np.concatenate([rows, rng.choice(rows, size=count - len(rows), replace=True)])


def tasks_from_data(
    x: np.ndarray,
    y: np.ndarray,
    problem: str,
    *,
    folds: int = 4,
    select_fraction: float = 0.2,
    final_fraction: float = 0.2,
    epochs: int = 1,
    standardise: bool = True,
    max_train: int | None = 2000,
    max_valid: int | None = 1000,
    seed: int = 0,
) -> DataTasks:
    """Search, select and final tasks from one table (see the module docstring)."""
    x, y = check_table(x, y, problem)
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise DataError(f"folds must be an integer >= 2, got {folds!r}")
    for name, frac in (("select_fraction", select_fraction), ("final_fraction", final_fraction)):
        if not (isinstance(frac, int | float) and 0.0 < frac < 0.5):
            raise DataError(f"{name} must be a number in (0, 0.5), got {frac!r}")
    rng = np.random.default_rng(seed)
    classes: tuple = ()
    if problem == CLASSIFICATION:
        try:
            classes_arr, codes = np.unique(y, return_inverse=True)
        except TypeError:
            raise DataError("class labels must be all numbers or all strings") from None
        if len(classes_arr) < 2:
            raise DataError(f"classification needs at least 2 classes, got 1 class: {y[0]!r}")
        classes = tuple(classes_arr.tolist())
        groups = codes
    else:
        codes = None
        groups = np.zeros(len(y), dtype=np.int64)
    final, select, search = _stratified_parts(groups, [final_fraction, select_fraction], rng)
    if min(len(final), len(select)) < 1 or len(search) < folds:
        raise DataError(
            f"{len(y)} rows are too few for a final split, a select split and {folds} search "
            f"folds (got n_samples = {len(y)}); give more rows or fewer folds"
        )
    fit_rows = np.concatenate([search, select])
    if standardise:
        scaler = Standardiser.fit(x[fit_rows], y[fit_rows] if problem == REGRESSION else None)
    else:
        scaler = Standardiser.identity(x.shape[1])
    xs = scaler.transform_x(x)
    fold_of = np.empty(len(search), dtype=np.int64)
    fold_of[rng.permutation(len(search))] = np.arange(len(search)) % folds
    if problem == REGRESSION:
        ys = scaler.transform_y(y)
        labels = [ys]
        eval_type = RMS_ERROR
    else:
        n_bin = 1 if len(classes) == 2 else len(classes)
        positive = [len(classes) - 1] if n_bin == 1 else list(range(n_bin))
        labels = [(codes == c).astype(np.float64) for c in positive]
        eval_type = ACCURACY

    def label_name(k: int) -> str:
        if len(labels) == 1:
            return ""
        return f"-class{k}"

    n_search = max(folds, len(labels))
    search_specs = []
    for k in range(n_search):
        fold, lab = k % folds, k % len(labels)
        train = _at_least(_cap(search[fold_of != fold], max_train, rng), MIN_SEARCH_TRAIN, rng)
        valid = _cap(search[fold_of == fold], max_valid, rng)
        search_specs.append(
            _spec(
                f"data-search{k}{label_name(lab)}",
                xs,
                labels[lab],
                train,
                valid,
                eval_type,
                epochs,
                k,
            )  # fmt: skip
        )
    # Select at three training lengths: half the search rows, all of them, and as many
    # training steps as the final model takes on the whole table (the search rows repeated in
    # shuffled passes). The final model trains longer than any search task, so a candidate
    # whose learning breaks down as training grows must lose here, not after selection.
    lengths = (max(1, len(search) // 2), len(search), max(len(search), len(y)))
    select_specs = [
        _spec(
            f"data-select{j}{label_name(k)}",
            xs,
            lab,
            _training_rows(search, length, np.random.default_rng([seed, 1000 + j])),
            select,
            eval_type,
            epochs,
            1000 + 10 * k + j,
        )
        for k, lab in enumerate(labels)
        for j, length in enumerate(lengths)
    ]
    final_specs = [
        _spec(f"data-final{label_name(k)}", xs, lab, fit_rows, final, eval_type, epochs, 2000 + k)
        for k, lab in enumerate(labels)
    ]
    return DataTasks(
        problem=problem,
        search=search_specs,
        select=select_specs,
        final=final_specs,
        standardiser=scaler,
        classes=classes,
        parts={"search": search, "select": select, "final": final},
    )


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """RMSE and R^2 (R^2 is 1 - SSE/SST; 0 when the targets are constant and not matched)."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    with np.errstate(all="ignore"):
        sse = float(np.sum((y_true - y_pred) ** 2))
        sst = float(np.sum((y_true - y_true.mean()) ** 2))
    rmse = math.sqrt(sse / len(y_true)) if math.isfinite(sse) else math.inf
    r2 = 1.0 - sse / sst if sst > 0 else float(sse == 0)
    return {"rmse": rmse, "r2": r2 if math.isfinite(r2) else -math.inf}


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))
