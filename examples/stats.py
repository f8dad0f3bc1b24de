"""Statistics for the experiments: exact binomial intervals, t and bootstrap intervals, paired
tests. Pure Python (no scipy needed); tests/test_experiment_stats.py pins the values.

* `clopper_pearson(k, n)`: exact (conservative) binomial interval for a success rate.
* `rate_summary(k, n)`: k, n, k / n and its Clopper-Pearson interval, as a dict for JSON.
* `t_interval(xs)`, `bootstrap_interval(xs)`: intervals for a mean score over seeds.
* `score_summary(xs)`: n, mean, sd, t interval, bootstrap interval and the raw values.
* `paired_test(a, b)`: mean difference a - b with its t interval, two-sided paired t p-value and
  exact sign-test p-value.
* `ratio_bounds(k1, n1, k2, n2)`: a conservative interval for the ratio of two success rates
  (each rate's Clopper-Pearson interval at 1 - (1 - conf) / 2, so jointly >= conf); defined
  when either count is zero (then a one-sided bound).
* `fisher_exact(k1, n1, k2, n2)`: two-sided Fisher exact p-value for equal rates.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

__all__ = [
    "betainc",
    "binom_sf",
    "bootstrap_interval",
    "clopper_pearson",
    "fisher_exact",
    "paired_test",
    "rate_summary",
    "ratio_bounds",
    "score_summary",
    "t_cdf",
    "t_interval",
    "t_ppf",
]


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny, eps = 1e-300, 1e-15
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < eps:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b) (a, b > 0, 0 <= x <= 1)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, 1.0 - x) / b


def _beta_ppf(q: float, a: float, b: float) -> float:
    """The q-quantile of Beta(a, b), by bisection (60 halvings: about 1e-18 in x)."""
    lo, hi = 0.0, 1.0
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if betainc(a, b, mid) < q:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-15 * max(mid, 1e-300):
            break
    return 0.5 * (lo + hi)


def binom_sf(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    return betainc(k, n - k + 1, p)


def clopper_pearson(k: int, n: int, conf: float = 0.95) -> tuple[float, float]:
    """Exact two-sided binomial interval for k successes in n trials."""
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, n > 0 (got k={k}, n={n})")
    alpha = 1.0 - conf
    lo = 0.0 if k == 0 else _beta_ppf(alpha / 2, k, n - k + 1)
    hi = 1.0 if k == n else _beta_ppf(1 - alpha / 2, k + 1, n - k)
    return lo, hi


def rate_summary(k: int, n: int, conf: float = 0.95) -> dict:
    lo, hi = clopper_pearson(k, n, conf)
    return {"successes": int(k), "n": int(n), "rate": k / n, "ci": [lo, hi], "conf": conf}


def ratio_bounds(k1: int, n1: int, k2: int, n2: int, conf: float = 0.95) -> dict:
    """Rate1 / rate2 with a conservative (Bonferroni) interval from the two exact intervals."""
    each = 1.0 - (1.0 - conf) / 2.0
    lo1, hi1 = clopper_pearson(k1, n1, each)
    lo2, hi2 = clopper_pearson(k2, n2, each)
    r1, r2 = k1 / n1, k2 / n2
    ratio = r1 / r2 if r2 > 0 else None
    lower = lo1 / hi2
    upper = hi1 / lo2 if lo2 > 0 else math.inf
    return {"ratio": ratio, "ci": [lower, upper], "conf": conf, "method": "bonferroni-cp"}


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def fisher_exact(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided Fisher exact p-value (sum of tables no more likely than the observed one)."""
    total_k, total_n = k1 + k2, n1 + n2
    lo, hi = max(0, total_k - n2), min(total_k, n1)

    def logp(x: int) -> float:
        return _log_comb(n1, x) + _log_comb(n2, total_k - x) - _log_comb(total_n, total_k)

    observed = logp(k1)
    p = sum(math.exp(logp(x)) for x in range(lo, hi + 1) if logp(x) <= observed + 1e-7)
    return min(1.0, p)


def t_cdf(t: float, df: float) -> float:
    """CDF of Student's t with df degrees of freedom."""
    t2 = t * t
    if t2 < df:  # I_x(df/2, 1/2) = 1 - I_{1-x}(1/2, df/2), accurate near t = 0
        tail = 0.5 * (1.0 - betainc(0.5, df / 2.0, t2 / (df + t2)))
    else:
        tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t2))
    return 1.0 - tail if t > 0 else tail


def t_ppf(q: float, df: float) -> float:
    """Quantile of Student's t (bisection on t_cdf)."""
    if not 0.0 < q < 1.0:
        raise ValueError("q must be in (0, 1)")
    lo, hi = -1e6, 1e6
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if t_cdf(mid, df) < q:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _mean_sd(xs: Sequence[float]) -> tuple[float, float]:
    n = len(xs)
    mean = sum(xs) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1)) if n > 1 else math.nan
    return mean, sd


def t_interval(xs: Sequence[float], conf: float = 0.95) -> tuple[float, float]:
    """Student t interval for the mean of xs (NaN bounds for fewer than two values)."""
    n = len(xs)
    mean, sd = _mean_sd(xs)
    if n < 2:
        return math.nan, math.nan
    half = t_ppf(1.0 - (1.0 - conf) / 2.0, n - 1) * sd / math.sqrt(n)
    return mean - half, mean + half


def bootstrap_interval(
    xs: Sequence[float],
    stat: Callable[[Sequence[float]], float] | None = None,
    reps: int = 5000,
    conf: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of stat (default: the mean), seeded (reproducible)."""
    stat = stat or (lambda v: sum(v) / len(v))
    rng = random.Random(seed)
    n = len(xs)
    values = sorted(stat([xs[rng.randrange(n)] for _ in range(n)]) for _ in range(reps))
    a = (1.0 - conf) / 2.0
    return values[int(math.floor(a * (reps - 1)))], values[int(math.ceil((1 - a) * (reps - 1)))]


def score_summary(xs: Sequence[float], conf: float = 0.95) -> dict:
    xs = [float(x) for x in xs]
    mean, sd = _mean_sd(xs)
    return {
        "n": len(xs),
        "mean": mean,
        "sd": sd,
        "t_ci": list(t_interval(xs, conf)),
        "bootstrap_ci": list(bootstrap_interval(xs, conf=conf)) if len(xs) > 1 else None,
        "conf": conf,
        "values": xs,
    }


def paired_test(a: Sequence[float], b: Sequence[float], conf: float = 0.95) -> dict:
    """a - b over paired values: mean difference, its t interval, t and sign-test p-values."""
    if len(a) != len(b):
        raise ValueError("paired samples need equal lengths")
    d = [float(x) - float(y) for x, y in zip(a, b, strict=True)]
    n = len(d)
    mean, sd = _mean_sd(d)
    if n > 1 and sd > 0:
        t = mean / (sd / math.sqrt(n))
        p_t = 2.0 * (1.0 - t_cdf(abs(t), n - 1))
    else:
        t, p_t = math.nan, math.nan if n < 2 else (1.0 if mean == 0 else 0.0)
    wins, losses = sum(x > 0 for x in d), sum(x < 0 for x in d)
    m = wins + losses
    p_sign = min(1.0, 2.0 * binom_sf(max(wins, losses), m, 0.5)) if m else 1.0
    return {
        "n": n,
        "mean_difference": mean,
        "t_ci": list(t_interval(d, conf)),
        "t": t,
        "p_t": p_t,
        "wins": wins,
        "losses": losses,
        "ties": n - m,
        "p_sign": p_sign,
    }


def fmt_rate(s: dict) -> str:
    """'k/n = r [lo, hi]'."""
    lo, hi = s["ci"]
    return f"{s['successes']}/{s['n']} = {s['rate']:.3g} [{lo:.3g}, {hi:.3g}]"


def fmt_score(s: dict, digits: int = 4) -> str:
    """'mean [lo, hi] (n)' with the t interval."""
    lo, hi = s["t_ci"]
    return f"{s['mean']:.{digits}g} [{lo:.{digits}g}, {hi:.{digits}g}] (n = {s['n']})"
