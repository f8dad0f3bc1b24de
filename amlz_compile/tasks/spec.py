"""TaskSpec: what tasks to make (the reference's `TaskSpec`), validated on creation.

See docs/semantics.md#tasks.

A spec makes `num_tasks` tasks of one kind; task i gets data/param seeds by the reference's rule
(see `seeds.assign_seeds`). `eval_type` is derived from the kind when not given (accuracy for
projected_binary, rms otherwise); unit-test kinds may choose either. `from_dict` accepts the
field names below and the reference's proto names (`features_size`, `num_train_examples`, ...).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .base import ACCURACY, EVAL_TYPES, TaskError
from .kinds import KIND_ALIASES, KIND_INFO, KINDS, SOURCES

SPLITS = ("train", "test")
PROJECTIONS = ("random", "none")
_FILE_SOURCES = {".npz": "npz", ".csv": "csv"}
_SOURCE_ALIASES = {"cifar-10": "cifar10", "cifar_10": "cifar10", "sklearn-digits": "digits"}
PROJECTED_ONLY = (
    "dataset",
    "path",
    "positive_class",
    "negative_class",
    "held_out_pairs",
    "min_data_seed",
    "max_data_seed",
    "split",
    "num_test",
    "projection",
    "label_noise",
)
TEACHER_KINDS = ("nonlinear", "nonlinear_plain")
KEY_ALIASES = {
    "features_size": "features",
    "num_train_examples": "num_train",
    "num_valid_examples": "num_valid",
    "num_test_examples": "num_test",
    "num_train_epochs": "epochs",
    "min_supported_data_seed": "min_data_seed",
    "max_supported_data_seed": "max_data_seed",
    "dataset_name": "dataset",
    "task": "kind",
    "type": "kind",
}


@dataclass(frozen=True)
class FixedExamples:
    """Explicit examples of a `fixed` task (each label is one number)."""

    train_features: tuple[tuple[float, ...], ...]
    train_labels: tuple[float, ...]
    valid_features: tuple[tuple[float, ...], ...]
    valid_labels: tuple[float, ...]

    def to_dict(self) -> dict[str, list]:
        return {
            "train_features": [list(r) for r in self.train_features],
            "train_labels": list(self.train_labels),
            "valid_features": [list(r) for r in self.valid_features],
            "valid_labels": list(self.valid_labels),
        }


@dataclass(frozen=True)
class TaskSpec:
    """A validated description of `num_tasks` tasks of one kind (see `describe_task_kinds`).

    Every kind: kind, features (F), num_train, num_valid, num_tasks (1), epochs (1),
    data_seeds / param_seeds (empty = reference defaults), eval_type (derived), name (used in
    task names). increment: `increment` (1.0). fixed: `fixed` = {train_features, train_labels,
    valid_features, valid_labels} (sizes derived when omitted). projected_binary: `dataset`
    (digits, cifar10, mnist, npz, csv, or a .npz/.csv path), `path` (directory or file),
    positive_class + negative_class (or neither: a seeded random pair), held_out_pairs,
    min_data_seed (0) / max_data_seed (10) bounding the projection seed, split ('train' or
    'test' for cifar10/mnist), num_test (0; > 0 adds the reference's test split, kept in
    `Task.meta['test_x'/'test_y']`), projection ('random' or 'none' = keep the D features),
    label_noise (0.0; p in [0, 0.5): each training label flips with probability p, drawn from a
    generator seeded by the task's data seed; validation and test labels stay clean).
    nonlinear / nonlinear_plain: `normalize_output` (false; true divides every label of a task
    by its teacher's exact output standard deviation over x ~ N(0, I), so labels have unit
    scale; see `synthetic.teacher_output_std`).
    """

    kind: str
    features: int | None = None
    num_train: int | None = None
    num_valid: int | None = None
    num_tasks: int = 1
    epochs: int = 1
    data_seeds: tuple[int, ...] = ()
    param_seeds: tuple[int, ...] = ()
    eval_type: str | None = None
    name: str | None = None
    # increment
    increment: float = 1.0
    # nonlinear, nonlinear_plain
    normalize_output: bool = False
    # fixed
    fixed: FixedExamples | Mapping | None = None
    # projected_binary
    dataset: str | None = None
    path: str | None = None
    positive_class: int | str | None = None
    negative_class: int | str | None = None
    held_out_pairs: tuple[tuple[int | str, int | str], ...] = ()
    min_data_seed: int = 0
    max_data_seed: int = 10
    split: str = "train"
    num_test: int = 0
    projection: str = "random"
    label_noise: float = 0.0

    def __post_init__(self) -> None:
        kind = KIND_ALIASES.get(str(self.kind).strip().lower().replace("-", "_"))
        if kind is None:
            raise TaskError(f"unknown task kind {self.kind!r}; known kinds: {', '.join(KINDS)}")
        info = KIND_INFO[kind]
        set_ = object.__setattr__
        set_(self, "kind", kind)
        if self.name is not None and not isinstance(self.name, str):
            raise TaskError(f"name must be a string, got {self.name!r}")

        self._check_other_kind_options(kind)
        if kind == "fixed":
            self._normalise_fixed()
        for key in ("features", "num_train", "num_valid"):
            if getattr(self, key) is None:
                raise TaskError(f"{kind} task spec needs {key!r}")
        set_(self, "features", _int("features", self.features, info.min_features))
        set_(self, "num_train", _int("num_train", self.num_train, 1))
        set_(self, "num_valid", _int("num_valid", self.num_valid, 1))
        set_(self, "num_tasks", _int("num_tasks", self.num_tasks, 1))
        set_(self, "epochs", _int("epochs", self.epochs, 1))
        set_(self, "data_seeds", _seeds("data_seeds", self.data_seeds))
        set_(self, "param_seeds", _seeds("param_seeds", self.param_seeds))

        eval_type = self.eval_type
        if eval_type is None:
            eval_type = info.eval_types[0]
        eval_type = str(eval_type).lower()
        eval_type = {"rms_error": "rms", "rmse": "rms"}.get(eval_type, eval_type)
        if eval_type not in EVAL_TYPES:
            raise TaskError(f"eval_type must be one of {EVAL_TYPES}, got {self.eval_type!r}")
        if eval_type not in info.eval_types:
            raise TaskError(
                f"{kind} tasks use eval_type {' or '.join(info.eval_types)}, not {eval_type!r}"
            )
        set_(self, "eval_type", eval_type)

        inc = self.increment
        if isinstance(inc, bool) or not isinstance(inc, int | float) or not math.isfinite(inc):
            raise TaskError(f"increment must be a finite number, got {inc!r}")
        set_(self, "increment", float(inc))
        if kind == "fixed":
            self._check_fixed_sizes()
        if kind == "projected_binary":
            self._normalise_projected()

    # -- validation helpers ------------------------------------------------------------------

    def _check_other_kind_options(self, kind: str) -> None:
        defaults = {f.name: f.default for f in dataclasses.fields(TaskSpec)}
        if kind != "projected_binary":
            for key in PROJECTED_ONLY:
                value = getattr(self, key)
                if key == "held_out_pairs" and not isinstance(value, str) and not value:
                    continue
                if value != defaults[key]:
                    raise TaskError(f"{key!r} applies only to projected_binary tasks, not {kind}")
        if kind != "increment" and self.increment != 1.0:
            raise TaskError(f"'increment' applies only to increment tasks, not {kind}")
        if kind != "fixed" and self.fixed is not None:
            raise TaskError(f"'fixed' applies only to fixed tasks, not {kind}")
        if not isinstance(self.normalize_output, bool):
            raise TaskError(
                f"normalize_output must be true or false, got {self.normalize_output!r}"
            )
        if self.normalize_output and kind not in TEACHER_KINDS:
            raise TaskError(
                f"'normalize_output' applies only to {' and '.join(TEACHER_KINDS)} tasks, "
                f"not {kind}"
            )

    def _normalise_fixed(self) -> None:
        fx = self.fixed
        if fx is None:
            raise TaskError(
                "fixed task spec needs 'fixed' = {train_features, train_labels, valid_features, "
                "valid_labels}"
            )
        if isinstance(fx, Mapping):
            keys = ("train_features", "train_labels", "valid_features", "valid_labels")
            unknown = set(fx) - set(keys)
            missing = [k for k in keys if k not in fx]
            if unknown or missing:
                raise TaskError(
                    f"'fixed' needs exactly the keys {', '.join(keys)}"
                    + (f"; unknown: {sorted(unknown)}" if unknown else "")
                    + (f"; missing: {missing}" if missing else "")
                )
            fx = FixedExamples(
                _rows("fixed.train_features", fx["train_features"]),
                _labels("fixed.train_labels", fx["train_labels"]),
                _rows("fixed.valid_features", fx["valid_features"]),
                _labels("fixed.valid_labels", fx["valid_labels"]),
            )
        elif not isinstance(fx, FixedExamples):
            raise TaskError(f"'fixed' must be a mapping, got {type(fx).__name__}")
        object.__setattr__(self, "fixed", fx)
        widths = {len(r) for r in fx.train_features + fx.valid_features}
        if len(widths) != 1:
            raise TaskError("fixed task: every feature row must have the same length")
        width = widths.pop()
        for key, value in (
            ("features", width),
            ("num_train", len(fx.train_features)),
            ("num_valid", len(fx.valid_features)),
        ):
            if getattr(self, key) is None:
                object.__setattr__(self, key, value)

    def _check_fixed_sizes(self) -> None:
        fx = self.fixed
        assert isinstance(fx, FixedExamples)
        checks = (
            ("train_labels", len(fx.train_labels), len(fx.train_features), "train_features"),
            ("valid_labels", len(fx.valid_labels), len(fx.valid_features), "valid_features"),
            ("num_train", self.num_train, len(fx.train_features), "train_features"),
            ("num_valid", self.num_valid, len(fx.valid_features), "valid_features"),
            ("features", self.features, len(fx.train_features[0]), "each feature row"),
        )
        for what, got, want, of in checks:
            if got != want:
                raise TaskError(f"fixed task: {what} is {got} but {of} has {want}")

    def _normalise_projected(self) -> None:
        set_ = object.__setattr__
        dataset, path = self.dataset, self.path
        if dataset is not None and not isinstance(dataset, str | os.PathLike):
            raise TaskError(f"dataset must be a name or a path, got {dataset!r}")
        if path is not None and not isinstance(path, str | os.PathLike):
            raise TaskError(f"path must be a string, got {path!r}")
        if dataset is not None:
            dataset = os.fspath(dataset)
        if path is not None:
            path = os.path.expanduser(os.fspath(path))
        if dataset is not None:
            low = _SOURCE_ALIASES.get(dataset.lower(), dataset.lower())
            suffix = os.path.splitext(dataset)[1].lower()
            if low in SOURCES:
                dataset = low
            elif suffix in _FILE_SOURCES and path is None:
                dataset, path = _FILE_SOURCES[suffix], os.path.expanduser(dataset)
            else:
                raise TaskError(
                    f"unknown dataset {self.dataset!r}; use one of {', '.join(SOURCES)} "
                    "or a path to a .npz/.csv file"
                )
        elif path is not None and os.path.splitext(path)[1].lower() in _FILE_SOURCES:
            dataset = _FILE_SOURCES[os.path.splitext(path)[1].lower()]
        else:
            raise TaskError(
                f"projected_binary task spec needs 'dataset' (one of {', '.join(SOURCES)}) "
                "or a 'path' to a .npz/.csv file"
            )
        if dataset != "digits" and path is None:
            raise TaskError(f"dataset {dataset!r} needs 'path' (see `amlz tasks`)")
        if dataset == "digits" and path is not None:
            raise TaskError("dataset 'digits' is built in and takes no 'path'")
        set_(self, "dataset", dataset)
        set_(self, "path", path)

        pos, neg = self.positive_class, self.negative_class
        if (pos is None) != (neg is None):
            raise TaskError("give both positive_class and negative_class, or neither")
        if pos is not None:
            _class_value("positive_class", pos)
            _class_value("negative_class", neg)
            if str(pos) == str(neg):
                raise TaskError(f"positive_class and negative_class are both {pos!r}")
        pairs = self.held_out_pairs
        if isinstance(pairs, str | bytes) or not isinstance(pairs, Sequence):
            raise TaskError(f"held_out_pairs must be a list of [a, b] pairs, got {pairs!r}")
        norm = []
        for pair in pairs:
            if isinstance(pair, str | bytes) or not isinstance(pair, Sequence) or len(pair) != 2:
                raise TaskError(f"held_out_pairs: each pair must be [a, b], got {pair!r}")
            a = _class_value("held_out_pairs", pair[0])
            b = _class_value("held_out_pairs", pair[1])
            if str(a) == str(b):
                raise TaskError(f"held_out_pairs: pair {list(pair)} names one class twice")
            norm.append((a, b))
        set_(self, "held_out_pairs", tuple(norm))
        lo = _int("min_data_seed", self.min_data_seed, 0)
        hi = _int("max_data_seed", self.max_data_seed, 1)
        if not lo < hi or hi > 2**31 - 1:
            raise TaskError(f"need 0 <= min_data_seed < max_data_seed <= 2**31-1, got {lo}, {hi}")
        set_(self, "min_data_seed", lo)
        set_(self, "max_data_seed", hi)
        if self.split not in SPLITS:
            raise TaskError(f"split must be one of {SPLITS}, got {self.split!r}")
        if self.projection not in PROJECTIONS:
            raise TaskError(f"projection must be one of {PROJECTIONS}, got {self.projection!r}")
        set_(self, "num_test", _int("num_test", self.num_test, 0))
        for key in ("num_train", "num_valid"):
            if getattr(self, key) < 2:
                raise TaskError(
                    f"projected_binary needs {key} >= 2 (the split is stratified over 2 classes)"
                )
        if self.num_test == 1:
            raise TaskError("projected_binary needs num_test = 0 or >= 2 (stratified split)")
        noise = self.label_noise
        if isinstance(noise, bool) or not isinstance(noise, int | float):
            raise TaskError(f"label_noise must be a number in [0, 0.5), got {noise!r}")
        noise = float(noise)
        if not 0.0 <= noise < 0.5:
            raise TaskError(f"label_noise must be in [0, 0.5) (0 <= p < 0.5), got {noise!r}")
        set_(self, "label_noise", noise)

    # -- conversions -------------------------------------------------------------------------

    def estimated_bytes(self) -> int:
        """Bytes its tasks will hold: features and labels of every example (float64), the
        epoch orders (int64), and the test split when asked for, over all `num_tasks`."""
        examples = self.num_train + self.num_valid + self.num_test
        per_task = 8 * examples * (self.features + 1) + 8 * self.num_train * self.epochs
        return per_task * self.num_tasks

    @property
    def is_accuracy(self) -> bool:
        return self.eval_type == ACCURACY

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON/TOML-safe): kind, sizes, eval_type and every non-default field."""
        out: dict[str, Any] = {}
        always = ("kind", "features", "num_train", "num_valid", "eval_type")
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name not in always and value == f.default:
                continue
            if f.name == "fixed" and value is not None:
                value = value.to_dict()
            elif f.name == "held_out_pairs":
                value = [list(p) for p in value]
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskSpec:
        """Build a spec from plain data; unknown keys and bad values raise TaskError."""
        if isinstance(data, TaskSpec):
            return data
        if not isinstance(data, Mapping):
            raise TaskError(f"a task spec must be a mapping, got {type(data).__name__}")
        names = [f.name for f in dataclasses.fields(cls)]
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            canon = KEY_ALIASES.get(key, key)
            if canon not in names:
                raise TaskError(f"unknown task spec key {key!r}; known keys: {', '.join(names)}")
            if canon in kwargs:
                raise TaskError(f"task spec key {canon!r} given twice (as {key!r})")
            kwargs[canon] = value
        if "kind" not in kwargs:
            raise TaskError(f"a task spec needs 'kind' (one of {', '.join(KINDS)})")
        for key in ("data_seeds", "param_seeds", "held_out_pairs"):
            if key in kwargs and isinstance(kwargs[key], list):
                kwargs[key] = tuple(kwargs[key])
        return cls(**kwargs)


# -- value checks -----------------------------------------------------------------------------


def _int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            import numpy as np

            if isinstance(value, np.integer):
                value = int(value)
            else:
                raise TypeError
        except TypeError:
            raise TaskError(f"{name} must be an integer, got {value!r}") from None
    if value < minimum:
        raise TaskError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _seeds(name: str, values: Any) -> tuple[int, ...]:
    if isinstance(values, int) and not isinstance(values, bool):
        values = (values,)
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise TaskError(f"{name} must be a list of integers, got {values!r}")
    out = []
    for v in values:
        v = _int(name, v, 0)
        if v >= 2**32:
            raise TaskError(f"{name}: seeds are uint32 (< 2**32), got {v}")
        out.append(v)
    return tuple(out)


def _class_value(name: str, value: Any) -> int | str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TaskError(f"{name}: a class is an integer or a label string, got {value!r}")
    return value


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise TaskError(f"{name}: expected a number, got {value!r}") from None
    return float(value)


def _rows(name: str, rows: Any) -> tuple[tuple[float, ...], ...]:
    if isinstance(rows, str | bytes) or not isinstance(rows, Sequence) or not rows:
        raise TaskError(f"{name} must be a non-empty list of feature lists")
    out = []
    for row in rows:
        if isinstance(row, str | bytes) or not isinstance(row, Sequence) or not row:
            raise TaskError(f"{name}: each example must be a non-empty list of numbers")
        out.append(tuple(_number(name, v) for v in row))
    return tuple(out)


def _labels(name: str, labels: Any) -> tuple[float, ...]:
    if isinstance(labels, str | bytes) or not isinstance(labels, Sequence) or not labels:
        raise TaskError(f"{name} must be a non-empty list of numbers")
    out = []
    for v in labels:
        if isinstance(v, Sequence) and not isinstance(v, str | bytes):
            if len(v) != 1:
                raise TaskError(f"{name}: each label has exactly one element, got {v!r}")
            v = v[0]
        out.append(_number(name, v))
    return tuple(out)
