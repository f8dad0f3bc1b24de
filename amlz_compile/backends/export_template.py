# export-begin: template_note
# The template of the standalone module `amlz export` writes, in three parts, each a real module:
# this file (the algorithm and the evaluation protocol), `export_template_estimators.py` (the
# scikit-learn compatible estimators) and `export_template_selftest.py` (the self-test vectors
# and their runner). `backends/numpy_export.py` reads them, drops each later part's
# `part_header` block (its docstring and imports, which hold for the part on its own), appends
# them in that order and fills the result textually: a line ending in `# export: NAME` is
# replaced whole, and the lines from `# export-begin: NAME` to `# export-end: NAME` by a block
# (this note by nothing, `imports` by the imports of all three parts). Everything else is copied
# verbatim, so these files are the exported code: they are linted, and importable as
# `amlz_compile.backends.export_template` etc. (an empty algorithm, with the project's generator
# imported instead of copied) for tests.
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
is non-finite or that large (for the classifier: whose logit is NaN; a logit of +-inf is a certain
prediction, classified as the interpreter's accuracy pass does) get it, with a DivergenceWarning.
The fallback is the training-target mean for the regressor and, for the classifier, the logit of
the training share of classes_[1] (so predict gives the majority class, classes_[0] on a tie).
predict_raw returns the unguarded values.

The algorithm:

    def Setup():  # export: algorithm
"""

from __future__ import annotations

# export-begin: imports
import math

import numpy as np

# export-end: imports

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


def draws(draw, p, q, shape):
    """An array of `shape` filled with draw(p, q) (rng.uniform(lo, hi) or
    rng.gaussian(mu, sigma)) element by element in index (row-major) order."""
    out = np.empty(shape)
    flat = out.reshape(-1)
    for i in range(flat.size):
        flat[i] = draw(p, q)
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


def run_protocol(case):
    """The task kernel, in NumPy, on one case: a mapping with the arrays `train_x`, `train_y`,
    `orders` (one row of training indices per epoch), `valid_x`, `valid_y`, and `n_train_steps`,
    `n_valid`, `is_accuracy`, `max_abs_error` and `seed` (as a SELF_TESTS entry holds them,
    arrays decoded). Returns (epoch_loss list, trace list, train_steps).

    Validation follows each epoch on the live memory; a failing training step (NaN or error
    above max_abs_error) ends the run; a failing validation makes that epoch's loss NaN.
    """
    train_x = np.asarray(case["train_x"], dtype=np.float64)
    valid_x = np.asarray(case["valid_x"], dtype=np.float64)
    train_y, valid_y, orders = case["train_y"], case["valid_y"], case["orders"]
    n_train_steps, n_valid, seed = case["n_train_steps"], case["n_valid"], case["seed"]
    is_accuracy, max_abs_error = case["is_accuracy"], case["max_abs_error"]
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
