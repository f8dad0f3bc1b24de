# export-begin: template_note
# The template of the standalone module `amlz export` writes: `backends/numpy_export.py` reads
# this file and fills it textually. A line ending in `# export: NAME` is replaced whole, and the
# lines from `# export-begin: NAME` to `# export-end: NAME` are replaced by a block (this note
# by nothing). Everything else is copied verbatim, so this file is the exported code: it is
# linted, and importable as `amlz_compile.backends.export_template` (an empty algorithm, with
# the project's generator imported instead of copied) for tests.
# export-end: template_note
"""An algorithm evolved by amlz-compile (AutoML-Zero), exported as standalone NumPy code.

Needs only NumPy; the estimators are scikit-learn compatible (they pass its check_estimator)
without importing it.

    from this_module import AlgorithmRegressor, AlgorithmClassifier
    est = AlgorithmRegressor(epochs=1, random_state=0).fit(X, y)   # any feature count F
    est.predict(X_new)

`python this_file.py` re-runs the embedded self-test vectors against the outputs recorded at
export time (exit 0 = pass, 1 = fail). `amlz verify this_file.py` checks more: it reads
ALGORITHM_JSON and the self-test inputs as data, recomputes the outputs with the amlz
interpreter and compares them with this file's code, run in a subprocess.

Protocol (the task kernel's, followed exactly): memory is zeroed and Setup runs once; then per
training example in epoch order: v[0] <- x, s[0] <- 0, Predict, s[1] <- sigmoid(s[1]) for a
classifier, v[0] <- x, s[0] <- y, Learn. Epoch 0 visits the examples in their natural order; later
epochs reshuffle the previous order (Fisher-Yates on a SplitMix64 stream seeded from
random_state; the algorithm's own random ops use the stream seeded with random_state).
Prediction runs Predict (v[0] <- x, s[0] <- 0) over X in order on a COPY of the fitted memory and
generator, as the interpreter's validation pass does after training: memory changes made while
predicting carry from one row of X to the next but never into the fitted estimator, so predict
is deterministic; with independent_rows=True every row starts from a fresh copy instead.
A classifier's positive class is classes_[1]; it is predicted when sigmoid(s[1]) > 0.5; with
one_vs_rest=True and more than two classes one memory is trained per class and the class with
the largest logit is predicted. standardize=True scales the features (and a regressor's target)
by the training rows' mean and standard deviation before the algorithm sees them.

Divergence: when a training prediction is non-finite (or, for the regressor, larger in magnitude
than DIVERGENCE_FACTOR times the largest absolute training target, at least 1), fit warns with
DivergenceWarning and every prediction is the fallback; otherwise only the rows whose prediction
is non-finite or that large get it, with a DivergenceWarning. The fallback is the training-target
mean for the regressor and, for the classifier, the logit of the training share of classes_[1]
(so predict gives the majority class, classes_[0] on a tie). predict_raw returns the unguarded
values.

The algorithm:

    def Setup():  # export: algorithm
"""

from __future__ import annotations

import base64
import math
import sys
import warnings

import numpy as np

FORMAT_VERSION = 2  # export: format_version
METADATA = {}  # export: metadata
N_SCALARS, N_VECTORS, N_MATRICES = 2, 1, 0  # export: memory

# The algorithm as data, in amlz's JSON program format: `amlz verify` parses it (without running
# this file) to recompute the self-test outputs. The code below does not read it.
ALGORITHM_JSON = ""  # export: algorithm_json

INF = float("inf")
NAN = float("nan")

# -- the project's random generator (amlz_compile/rng.py, verbatim) ---------------------------

# export-begin: rng
from ..rng import GAMMA, INV_2_53, MASK64, MUL1, MUL2, TWO_PI, SplitMix64  # noqa: E402, F401

# export-end: rng


def uniform_fill(rng, lo, hi, shape):
    """Element by element in index (row-major) order."""
    out = np.empty(shape)
    flat = out.reshape(-1)
    for i in range(flat.size):
        flat[i] = rng.uniform(lo, hi)
    return out


def gaussian_fill(rng, mu, sigma, shape):
    """Element by element in index (row-major) order."""
    out = np.empty(shape)
    flat = out.reshape(-1)
    for i in range(flat.size):
        flat[i] = rng.gaussian(mu, sigma)
    return out


# -- op helpers: the interpreter's arithmetic, IEEE results instead of exceptions --------------


def f32(x):
    """A data field: float32, used as a double."""
    return float(np.float32(x))


def _ieee(fn, x, on_domain):
    try:
        return np.float64(fn(float(x)))
    except OverflowError:
        return np.float64(INF)
    except ValueError:
        return np.float64(on_domain(float(x)))


def sin(x):
    return _ieee(math.sin, x, lambda x: NAN)


def cos(x):
    return _ieee(math.cos, x, lambda x: NAN)


def tan(x):
    return _ieee(math.tan, x, lambda x: NAN)


def arcsin(x):
    return _ieee(math.asin, x, lambda x: NAN)


def arccos(x):
    return _ieee(math.acos, x, lambda x: NAN)


def arctan(x):
    return np.float64(math.atan(float(x)))


def exp(x):
    return _ieee(math.exp, x, lambda x: NAN)


def log(x):
    return _ieee(math.log, x, lambda x: -INF if x == 0.0 else NAN)


def heaviside(x):
    """Vector and matrix heaviside: 1 where x > 0, else 0 (NaN -> 0)."""
    return np.where(x > 0.0, 1.0, 0.0)


def total(x, axis=None):
    """Sum from 0.0, left to right in index (row-major) order, as the interpreter does."""
    if axis is None:
        x = np.reshape(x, -1)
        return 0.0 + np.cumsum(x)[-1]
    return 0.0 + np.take(np.cumsum(x, axis=axis), -1, axis=axis)


def dot(a, b):
    return total(a * b)


def matvec(a, b):
    return total(a * b[None, :], axis=1)


def matmul(a, b):
    out = np.empty_like(a)
    for i in range(a.shape[0]):
        out[i] = total(a[i][:, None] * b, axis=0)
    return out


def norm(x, axis=None):
    return np.sqrt(total(x * x, axis=axis))


def mean(x, axis=None):
    n = x.size if axis is None else x.shape[axis]
    return total(x, axis=axis) / n


def std(x, axis=None):
    """One-pass sqrt(E[x^2] - mean^2), unguarded (may be NaN), as the reference."""
    n = x.size if axis is None else x.shape[axis]
    mu = total(x, axis=axis) / n
    return np.sqrt(total(x * x, axis=axis) / n - mu * mu)


def minimum(a, b):
    return np.where(a < b, a, b)


def maximum(a, b):
    return np.where(a > b, a, b)


def index(f, F):
    """The reference's FloatToIndex: trunc(float32(F) * float32(f)), clamped to [0, F-1]."""
    p = np.float32(F) * np.float32(f)
    if not p >= 0.0:
        return 0
    if p >= F:
        return F - 1
    return int(p)


def sigmoid(x):
    return 1.0 / (1.0 + exp(-x))


# -- the algorithm -----------------------------------------------------------------------------


# export-begin: components
def setup(s, v, m, rng, F):
    """Setup: runs once on the zeroed memory."""


def predict(s, v, m, rng, F):
    """Predict: v[0] holds the features, s[0] is 0; leaves the prediction in s[1]."""


def learn(s, v, m, rng, F):
    """Learn: v[0] holds the features, s[0] the label."""


# export-end: components


# -- the evaluation protocol -------------------------------------------------------------------


def new_memory(F):
    """Zeroed memory (scalars, vectors, matrices) for feature size F."""
    return np.zeros(N_SCALARS), np.zeros((N_VECTORS, F)), np.zeros((N_MATRICES, F, F))


def train_predict(mem, rng, x, is_accuracy):
    """The Predict half of a training step; returns s[1] (after the sigmoid for a classifier)."""
    s, v, m = mem
    v[0] = x
    s[0] = 0.0
    predict(s, v, m, rng, v.shape[1])
    if is_accuracy:
        s[1] = sigmoid(s[1])
    return float(s[1])


def train_learn(mem, rng, x, y):
    """The Learn half of a training step: v[0] <- x, s[0] <- y, Learn."""
    s, v, m = mem
    v[0] = x
    s[0] = y
    learn(s, v, m, rng, v.shape[1])


def predict_step(mem, rng, x):
    """One prediction: v[0] <- x, s[0] <- 0, Predict; returns s[1]."""
    s, v, m = mem
    v[0] = x
    s[0] = 0.0
    predict(s, v, m, rng, v.shape[1])
    return s[1]


def run_protocol(
    train_x,
    train_y,
    orders,
    n_train_steps,
    valid_x,
    valid_y,
    n_valid,
    is_accuracy,
    max_abs_error,
    seed,
):
    """The task kernel, in NumPy: returns (epoch_loss list, trace list, train_steps).

    Validation follows each epoch on the live memory; a failing training step (NaN or error
    above max_abs_error) ends the run; a failing validation makes that epoch's loss NaN.
    """
    train_x = np.asarray(train_x, dtype=np.float64)
    valid_x = np.asarray(valid_x, dtype=np.float64)
    N, F = train_x.shape
    rng = SplitMix64(seed)
    mem = new_memory(F)
    s, v, m = mem
    epoch_loss, trace, steps = [], [], 0
    remaining = min(int(n_train_steps), len(orders) * N)
    if remaining <= 0:
        return epoch_loss, trace, steps
    n_valid = min(int(n_valid), valid_x.shape[0])
    with np.errstate(all="ignore"):
        setup(s, v, m, rng, F)
        epoch = 0
        while remaining > 0:
            failed = False
            for k in range(min(N, remaining)):
                i = int(orders[epoch][k])
                steps += 1
                p = train_predict(mem, rng, train_x[i], is_accuracy)
                trace.append(p)
                y = float(train_y[i])
                if not abs(y - p) <= max_abs_error:
                    failed = True
                    break
                train_learn(mem, rng, train_x[i], y)
            if failed:
                break
            remaining -= N
            loss = 0.0
            for k in range(n_valid):
                p = float(predict_step(mem, rng, valid_x[k]))
                trace.append(p)
                y = float(valid_y[k])
                if is_accuracy:
                    err = 0.0 if (y > 0.5) == (sigmoid(p) > 0.5) else 1.0
                    sq = err
                else:
                    err = y - p
                    sq = err * err
                if not abs(err) <= max_abs_error:
                    loss = NAN
                    break
                loss += sq
            epoch_loss.append(loss)
            epoch += 1
    return epoch_loss, trace, steps


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
        with np.errstate(invalid="ignore"):
            bad = ~(np.isfinite(raw) & (np.abs(raw) <= self.prediction_bound_))
        if self.diverged_:
            bad[:] = True
        if bad.any():
            warnings.warn(
                DivergenceWarning(
                    f"{type(self).__name__}: {int(bad.sum())} of {bad.size} predictions "
                    f"diverged (non-finite or beyond {self.prediction_bound_:g}); they are the "
                    f"fallback {self.fallback_!r}"
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
    Diverged logits (see the module docstring) are the logit of the training share of the
    class, so such rows get the majority class.
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


# -- self-test vectors: inputs, and the outputs the amlz interpreter computed at export time ----

SELF_TESTS = []  # export: self_tests


def _decode(blob):
    raw = base64.b64decode(blob["b64"])
    return np.frombuffer(raw, dtype=blob["dtype"]).reshape(blob["shape"])


def _same(a, b, rtol, atol):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return False
    both_nan = np.isnan(a) & np.isnan(b)
    with np.errstate(all="ignore"):
        close = (a == b) | (np.abs(a - b) <= atol + rtol * np.abs(b))
    return bool(np.all(both_nan | close))


def self_test(rtol=1e-9, atol=1e-12, verbose=False):
    """Re-run every embedded case; True when all predictions match the recorded ones (False
    when there is no case).

    Bit-exact on the machine that exported; the tolerance covers another libm. The recorded
    outputs are this file's own claim: `amlz verify` recomputes them independently.
    """
    if not SELF_TESTS:
        if verbose:
            print("self-test FAILED: this module embeds no self-test vectors")
        return False
    ok = True
    for case in SELF_TESTS:
        loss, trace, steps = run_protocol(
            _decode(case["train_x"]),
            _decode(case["train_y"]),
            _decode(case["orders"]),
            case["n_train_steps"],
            _decode(case["valid_x"]),
            _decode(case["valid_y"]),
            case["n_valid"],
            case["is_accuracy"],
            case["max_abs_error"],
            case["seed"],
        )
        good = (
            steps == case["train_steps"]
            and _same(trace, _decode(case["trace"]), rtol, atol)
            and _same(loss, _decode(case["epoch_loss"]), rtol, atol)
        )
        if verbose:
            print(f"self-test {case['name']}: {'ok' if good else 'FAILED'}")
        ok = ok and good
    return ok


if __name__ == "__main__":
    sys.exit(0 if self_test(verbose=True) else 1)
