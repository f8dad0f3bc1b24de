# export-begin: part_header
"""The export template, part 2 of 3: the scikit-learn compatible estimators over the algorithm
and protocol of `export_template.py` (whose note says how the parts become one module)."""

from __future__ import annotations

import math
import sys
import warnings

import numpy as np

from .export_template import (
    INF,
    MASK64,
    SplitMix64,
    new_memory,
    predict_step,
    setup,
    sigmoid,
    train_learn,
    train_predict,
)

# export-end: part_header


# -- scikit-learn compatible estimators --------------------------------------------------------

DIVERGENCE_FACTOR = 1e6  # export: divergence_factor


class NotFittedError(ValueError, AttributeError):
    """predict, decision_function, predict_proba or predict_raw called before fit."""


class DataConversionWarning(UserWarning):
    """A column-vector y was flattened to 1-D."""


class DivergenceWarning(RuntimeWarning):
    """The algorithm's predictions became non-finite or blew up; the fallback was returned."""


_SKLEARN_TWINS = {}


def _sklearn_flavoured(cls):
    """`cls`, or when scikit-learn is already imported a subclass of both `cls` and the class of
    the same name in sklearn.exceptions, so that its checks and filters recognise it.

    Only sys.modules is consulted: this module never imports scikit-learn.
    """
    base = getattr(sys.modules.get("sklearn.exceptions"), cls.__name__, None)
    if not isinstance(base, type) or issubclass(cls, base):
        return cls
    if base not in _SKLEARN_TWINS:
        body = {"__doc__": cls.__doc__, "__module__": __name__}
        _SKLEARN_TWINS[base] = type(cls.__name__, (cls, base), body)
    return _SKLEARN_TWINS[base]


def _is_sparse(a):
    """A scipy.sparse matrix or array, recognised by its attributes (scipy is not imported)."""
    return hasattr(a, "toarray") and hasattr(a, "format") and hasattr(a, "nnz")


def _dense(a, what):
    """`a` as a NumPy array; sparse and complex input rejected with scikit-learn's messages."""
    if _is_sparse(a):
        raise TypeError(
            f"Sparse data was passed for {what}, but dense data is required. "
            "Use '.toarray()' to convert to a dense numpy array."
        )
    a = np.asarray(a)
    if np.iscomplexobj(a):
        raise ValueError(f"Complex data not supported: {what} has dtype {a.dtype}")
    return a


def _check_finite(a, what):
    """ValueError naming NaN or infinity (scikit-learn's wording) unless all of `a` is finite."""
    if np.any(np.isnan(a)):
        raise ValueError(f"Input {what} contains NaN.")
    if not np.all(np.isfinite(a)):
        too_large = "infinity or a value too large for dtype('float64')"
        raise ValueError(f"Input {what} contains {too_large}.")


def check_X(X):
    """X as a finite 2-D float64 array with at least one row and one column (a float64 array
    is returned as is); errors carry scikit-learn's messages, which its checks match."""
    X = _dense(X, "X")
    if X.ndim < 2:
        raise ValueError(
            f"Expected 2D array, got {'scalar' if X.ndim == 0 else '1D'} array instead:\n"
            f"array={X!r}.\nReshape your data either using array.reshape(-1, 1) if your data "
            "has a single feature or array.reshape(1, -1) if it contains a single sample."
        )
    if X.ndim > 2:
        raise ValueError(f"Found array with dim {X.ndim}, while dim <= 2 is required.")
    X = X.astype(np.float64, copy=False)
    for axis, what in ((0, "sample"), (1, "feature")):
        if X.shape[axis] < 1:
            raise ValueError(
                f"Found array with 0 {what}(s) (shape={X.shape}) while a minimum of 1 is required."
            )
    _check_finite(X, "X")
    return X


def check_y(y, n_samples):
    """y as a 1-D array of n_samples entries; a column vector is flattened with a
    DataConversionWarning, as scikit-learn estimators do."""
    if y is None:
        raise ValueError("This estimator requires y to be passed, but the target y is None.")
    y = _dense(y, "y")
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            _sklearn_flavoured(DataConversionWarning)(
                "A column-vector y was passed when a 1d array was expected. Please change "
                "the shape of y to (n_samples, ), for example using ravel()."
            ),
            stacklevel=4,
        )
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y should be a 1d array, got an array of shape {y.shape} instead.")
    if y.shape[0] != n_samples:
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: "
            f"[{n_samples}, {y.shape[0]}]"
        )
    return y


def _is_continuous(y):
    """True when y holds a non-integral number (scikit-learn's 'continuous' target)."""
    if y.dtype.kind == "f":
        _check_finite(y, "y")
        return bool(np.any(y != np.round(y)))
    if y.dtype.kind == "O":
        numbers = [float(v) for v in y if isinstance(v, (float, np.floating))]
        _check_finite(np.array(numbers, dtype=np.float64), "y")
        return any(v != round(v) for v in numbers)
    return False


def classes_of(y):
    """The sorted labels of y, at least two (ValueError with scikit-learn's messages)."""
    if _is_continuous(y):
        raise ValueError(
            "Unknown label type: continuous. Maybe you are trying to fit a classifier, which "
            "expects discrete classes on a regression target with continuous values."
        )
    try:
        classes = np.unique(y)
    except TypeError as exc:
        raise ValueError(f"Unknown label type: labels of mixed types ({exc})") from None
    if len(classes) < 2:
        raise ValueError(
            "The classifier needs samples of at least 2 classes, but the data contains only "
            f"one class: {classes[0]!r}."
        )
    return classes


def binary_classes(y):
    """The two sorted labels of y (ValueError with scikit-learn's messages otherwise)."""
    classes = classes_of(y)
    if len(classes) > 2:
        raise ValueError(
            "Only binary classification is supported. The type of the target is multiclass."
        )
    return classes


class _RegressorMixin:
    _estimator_type = "regressor"

    def score(self, X, y):
        """R^2 of the predictions (scikit-learn's default regression score)."""
        y = check_y(y, len(X)).astype(np.float64)
        resid = np.sum((y - self.predict(X)) ** 2)
        total_ss = np.sum((y - y.mean()) ** 2)
        return float(1.0 - resid / total_ss) if total_ss > 0 else float(resid == 0)


class _ClassifierMixin:
    _estimator_type = "classifier"

    def score(self, X, y):
        """Accuracy (scikit-learn's default classification score)."""
        return float(np.mean(self.predict(X) == check_y(y, len(X))))


def _epoch_orders(n, epochs, random_state):
    """Epoch 0 natural; each later epoch a Fisher-Yates reshuffle of the previous order."""
    rng = SplitMix64((int(random_state) ^ 0x5DEECE66D) & MASK64)
    order = list(range(n))
    orders = [list(order)]
    for _ in range(1, epochs):
        for i in range(n - 1, 0, -1):
            j = int(rng.next_u64() % (i + 1))
            order[i], order[j] = order[j], order[i]
        orders.append(list(order))
    return orders


def _standardiser(X):
    """Per-column mean and scale of X (population std; a constant column keeps scale 1)."""
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale <= 1e-12 * np.maximum(np.abs(mean), 1.0)] = 1.0
    return mean, scale


class _Algorithm:
    """Shared fit/predict machinery; see the module docstring for the protocol.

    scikit-learn compatible without importing it: get_params/set_params (so clone() works),
    score, __sklearn_tags__ and __sklearn_is_fitted__, its input checks and error messages.

    `standardize=True` scales the features (and a regressor's target) by the training rows'
    mean and standard deviation (x_mean_, x_scale_, y_mean_, y_scale_) before the algorithm
    sees them, and maps a regressor's predictions back. `independent_rows=True` predicts every
    row from a fresh copy of the fitted memory and generator (predictions do not depend on the
    other rows of X) instead of carrying memory from row to row as the interpreter's
    validation pass does.
    """

    _is_accuracy = False
    _PARAMS = ("epochs", "random_state", "max_abs_error", "standardize", "independent_rows")

    def __init__(
        self,
        epochs=1,
        random_state=0,
        max_abs_error=None,
        standardize=False,
        independent_rows=False,
    ):
        self.epochs = epochs
        self.random_state = random_state
        self.max_abs_error = max_abs_error
        self.standardize = standardize
        self.independent_rows = independent_rows

    def get_params(self, deep=True):
        return {k: getattr(self, k) for k in self._PARAMS}

    def set_params(self, **params):
        for key, value in params.items():
            if key not in self._PARAMS:
                raise ValueError(f"invalid parameter {key!r} for {type(self).__name__}")
            setattr(self, key, value)
        return self

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def _multi_class(self):
        return False

    def __sklearn_tags__(self):
        """scikit-learn's tags (only scikit-learn calls this, so importing it here is free)."""
        from sklearn.utils import ClassifierTags, RegressorTags, Tags, TargetTags

        classifier = self._estimator_type == "classifier"
        return Tags(
            estimator_type=self._estimator_type,
            target_tags=TargetTags(required=True),
            classifier_tags=ClassifierTags(multi_class=self._multi_class()) if classifier else None,
            regressor_tags=None if classifier else RegressorTags(),
        )

    def __sklearn_is_fitted__(self):
        return hasattr(self, "memory_")

    def _check_fitted(self):
        if not hasattr(self, "memory_"):
            raise _sklearn_flavoured(NotFittedError)(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )

    def _check_predict_X(self, X):
        """Fitted check, then X checked like at fit and against n_features_in_."""
        self._check_fitted()
        X = check_X(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input."
            )
        return X

    def _train(self, X, y, seed, epochs):
        """Setup, then Predict/Learn over the rows for `epochs` epochs: (memory, generator
        state, steps, stopped early, (step, prediction) of the first divergence or None)."""
        limit = INF if self.max_abs_error is None else float(self.max_abs_error)
        bound = self._prediction_bound(y)
        N, F = X.shape
        rng = SplitMix64(seed)
        mem = new_memory(F)
        s, v, m = mem
        stopped, steps, diverged_at = False, 0, None
        with np.errstate(all="ignore"):
            setup(s, v, m, rng, F)
            for order in _epoch_orders(N, epochs, seed):
                for i in order:
                    p = train_predict(mem, rng, X[i], self._is_accuracy)
                    steps += 1
                    if diverged_at is None and not (math.isfinite(p) and abs(p) <= bound):
                        diverged_at = (steps, p)
                    if self.max_abs_error is not None and not abs(y[i] - p) <= limit:
                        stopped = True
                        break
                    train_learn(mem, rng, X[i], y[i])
                if stopped:
                    break
        return mem, rng.state, steps, stopped, diverged_at

    def fit(self, X, y):
        """Run Setup, then Predict/Learn over the examples for `epochs` epochs; returns self."""
        X = check_X(X)
        targets = self._fit_targets(check_y(y, X.shape[0]))
        epochs = int(self.epochs)
        if epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {self.epochs}")
        seed = 0 if self.random_state is None else int(self.random_state)
        if self.standardize:
            self.x_mean_, self.x_scale_ = _standardiser(X)
            X = (X - self.x_mean_) / self.x_scale_
        runs = [self._train(X, t, seed, epochs) for t in targets]
        self.memories_ = [r[0] for r in runs]
        self.rng_states_ = [r[1] for r in runs]
        self.memory_, self.rng_state_ = self.memories_[0], self.rng_states_[0]
        self.n_features_in_ = X.shape[1]
        self.n_train_steps_ = sum(r[2] for r in runs)
        self.stopped_early_ = any(r[3] for r in runs)
        self.prediction_bound_ = self._prediction_bound(targets[0])
        self.fallbacks_ = [self._fallback(t) for t in targets]
        self.fallback_ = self.fallbacks_[0]
        self.diverged_ = any(r[4] is not None for r in runs)
        if self.diverged_:
            step, p = next(r[4] for r in runs if r[4] is not None)
            warnings.warn(
                DivergenceWarning(
                    f"{type(self).__name__}: the algorithm diverged while training (prediction "
                    f"{p!r} at step {step}); every prediction will be the fallback"
                ),
                stacklevel=2,
            )
        return self

    def _scaled(self, X):
        return (X - self.x_mean_) / self.x_scale_ if self.standardize else X

    def _raw(self, X, k=0):
        """s[1] after Predict for each row of X (scaled), from the fitted memory k: on one copy
        carried over the rows, or on a fresh copy per row (independent_rows)."""
        out = np.empty(X.shape[0])
        mem = rng = None
        with np.errstate(all="ignore"):
            for row in range(X.shape[0]):
                if mem is None or self.independent_rows:
                    mem = tuple(a.copy() for a in self.memories_[k])
                    rng = SplitMix64(0)
                    rng.state = self.rng_states_[k]
                out[row] = predict_step(mem, rng, X[row])
        return out

    def predict_raw(self, X):
        """s[1] after Predict for each row of X exactly as the amlz interpreter computes it,
        without the divergence guard (values may be NaN, infinite or huge); with one-vs-rest,
        one column per class."""
        X = self._scaled(self._check_predict_X(X))
        cols = [self._raw(X, k) for k in range(len(self.memories_))]
        return cols[0] if len(cols) == 1 else np.column_stack(cols)

    def _guarded(self, X):
        """predict_raw with the fallback where the algorithm diverged (DivergenceWarning)."""
        raw = self.predict_raw(X)
        fallback = self.fallback_ if raw.ndim == 1 else np.array(self.fallbacks_)
        bad = self._diverged_rows(raw)
        if self.diverged_:
            bad[:] = True
        if bad.any():
            warnings.warn(
                DivergenceWarning(
                    f"{type(self).__name__}: {int(bad.sum())} of {bad.size} predictions "
                    f"diverged ({self._divergence_rule()}); they are the fallback "
                    f"{self.fallback_!r}"
                ),
                stacklevel=3,
            )
            raw = np.where(bad, fallback, raw)
        return raw


class AlgorithmRegressor(_RegressorMixin, _Algorithm):
    """The algorithm as a regressor: the prediction is s[1] after Predict (mapped back to y's
    units with standardize=True).

    Diverged predictions (see the module docstring) are the training-target mean.
    """

    def _fit_targets(self, y):
        y = y.astype(np.float64)
        _check_finite(y, "y")
        if self.standardize:
            self.y_mean_ = float(np.mean(y))
            scale = float(np.std(y))
            self.y_scale_ = scale if scale > 1e-12 * max(abs(self.y_mean_), 1.0) else 1.0
            y = (y - self.y_mean_) / self.y_scale_
        return [y]

    def _prediction_bound(self, y):
        return DIVERGENCE_FACTOR * max(1.0, float(np.max(np.abs(y))))

    def _diverged_rows(self, raw):
        """Predictions that are non-finite or beyond prediction_bound_."""
        with np.errstate(invalid="ignore"):
            return ~(np.isfinite(raw) & (np.abs(raw) <= self.prediction_bound_))

    def _divergence_rule(self):
        return f"non-finite or beyond {self.prediction_bound_:g}"

    def _fallback(self, y):
        return float(np.mean(y))

    def predict(self, X):
        z = self._guarded(X)
        return z * self.y_scale_ + self.y_mean_ if self.standardize else z


class AlgorithmClassifier(_ClassifierMixin, _Algorithm):
    """The algorithm as a classifier: s[1] is the logit of classes_[1].

    Two classes by default. `one_vs_rest=True` also takes more: one memory is trained per
    class (that class 1, the others 0), decision_function gives one logit per class, predict
    the class of the largest, predict_proba the per-class sigmoids normalised to sum to 1.
    Diverged logits (NaN; see the module docstring) are the logit of the training share of
    the class, so such rows get the majority class; +-inf logits are kept.
    """

    _is_accuracy = True
    _PARAMS = _Algorithm._PARAMS + ("one_vs_rest",)

    def __init__(
        self,
        epochs=1,
        random_state=0,
        max_abs_error=None,
        standardize=False,
        independent_rows=False,
        one_vs_rest=False,
    ):
        super().__init__(epochs, random_state, max_abs_error, standardize, independent_rows)
        self.one_vs_rest = one_vs_rest

    def _multi_class(self):
        return bool(self.one_vs_rest)

    def _fit_targets(self, y):
        if self.one_vs_rest:
            self.classes_ = classes_of(y)
            if len(self.classes_) > 2:
                return [(y == c).astype(np.float64) for c in self.classes_]
        else:
            self.classes_ = binary_classes(y)
        return [(y == self.classes_[1]).astype(np.float64)]

    def _prediction_bound(self, y):
        return INF

    def _diverged_rows(self, raw):
        """NaN logits only. A logit of +-inf is a certain prediction, not a divergence: its
        sigmoid is 1 or 0, and the interpreter's accuracy pass classifies it so
        (docs/semantics.md#training-and-validation), so it is returned as is."""
        return np.isnan(raw)

    def _divergence_rule(self):
        return "NaN logits"

    def _fallback(self, y):
        share = min(max(float(np.mean(y)), 1e-12), 1.0 - 1e-12)
        return math.log(share / (1.0 - share))

    def decision_function(self, X):
        """The logit s[1] (the positive class is classes_[1]); (n, classes) with
        one-vs-rest on more than two classes."""
        return self._guarded(X)

    def predict_proba(self, X):
        z = self.decision_function(X)
        with np.errstate(all="ignore"):
            p = np.vectorize(sigmoid, otypes=[np.float64])(z) if z.size else z.astype(float)
        if z.ndim == 1:
            return np.column_stack([1.0 - p, p])
        total = p.sum(axis=1, keepdims=True)
        return np.where(total > 0, p / np.where(total > 0, total, 1.0), 1.0 / p.shape[1])

    def predict(self, X):
        z = self.decision_function(X)
        if z.ndim == 2:
            return self.classes_[np.argmax(z, axis=1)]
        with np.errstate(all="ignore"):
            positive = np.array([sigmoid(v) > 0.5 for v in z], dtype=bool)
        return self.classes_[positive.astype(np.int64)]
