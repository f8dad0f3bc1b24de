"""examples/stats.py: exact binomial intervals, t quantiles, paired and Fisher tests, pinned to
reference values (computed with scipy 1.17: binomtest(...).proportion_ci('exact'), t.ppf,
fisher_exact, ttest_rel) and, where scipy is installed, checked against it on more cases."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import stats  # noqa: E402

sys.path.pop(0)


@pytest.mark.parametrize(
    ("k", "n", "lo", "hi"),
    [
        (0, 10, 0.0, 0.30849710781876294),
        (1, 10, 0.0025285785444625728, 0.44501611702819543),
        (5, 10, 0.1870860284474045, 0.8129139715525955),
        (11, 30, 0.19929862501201415, 0.5614401509880425),
        (50, 50, 0.9288782635357954, 1.0),
        (3, 250, 0.002481558254699233, 0.03466661457477235),
        (41, 500_000, 5.884523819803574e-05, 0.0001112406326283138),
    ],
)
def test_clopper_pearson_pinned(k, n, lo, hi):
    got = stats.clopper_pearson(k, n)
    assert got[0] == pytest.approx(lo, rel=1e-9, abs=1e-15)
    assert got[1] == pytest.approx(hi, rel=1e-9, abs=1e-15)


def test_clopper_pearson_rejects_bad_counts():
    with pytest.raises(ValueError):
        stats.clopper_pearson(3, 2)
    with pytest.raises(ValueError):
        stats.clopper_pearson(0, 0)


def test_rate_summary_and_ratio():
    s = stats.rate_summary(11, 30)
    assert s["successes"] == 11 and s["n"] == 30 and s["rate"] == pytest.approx(11 / 30)
    r = stats.ratio_bounds(11, 30, 3, 250)
    assert r["ratio"] == pytest.approx((11 / 30) / (3 / 250))
    assert r["ci"][0] < r["ratio"] < r["ci"][1]
    # Nothing found by either side: no ratio, an uninformative interval.
    r0 = stats.ratio_bounds(0, 30, 0, 50)
    assert r0["ratio"] is None and r0["ci"][0] == 0.0 and math.isinf(r0["ci"][1])


def test_t_quantiles_pinned():
    assert stats.t_ppf(0.975, 9) == pytest.approx(2.262157162798205, rel=1e-10)
    assert stats.t_ppf(0.975, 2.5) == pytest.approx(3.5746548420036817, rel=1e-10)
    assert stats.t_ppf(0.5, 4) == pytest.approx(0.0, abs=1e-9)
    lo, hi = stats.t_interval([1.0, 2.0, 3.0, 4.0, 5.0])
    half = 2.7764451051977934 * math.sqrt(2.5) / math.sqrt(5)  # t.ppf(0.975, 4)
    assert (lo, hi) == pytest.approx((3 - half, 3 + half), rel=1e-9)


def test_fisher_and_paired_pinned():
    assert stats.fisher_exact(11, 30, 3, 250) == pytest.approx(9.546550621034171e-10, rel=1e-8)
    assert stats.fisher_exact(0, 30, 0, 50) == 1.0
    a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    b = [1.5, 2.1, 2.0, 4.6, 5.9, 6.3]
    res = stats.paired_test(a, b)
    # scipy.stats.ttest_rel(a, b).pvalue; sign test: 1 win, 5 losses -> binomtest(1, 6).pvalue
    assert res["p_t"] == pytest.approx(0.4276089031142788, rel=1e-8)
    assert (res["wins"], res["losses"], res["ties"]) == (1, 5, 0)
    assert res["p_sign"] == pytest.approx(0.21875, rel=1e-12)


def test_bootstrap_is_seeded_and_brackets_the_mean():
    xs = [0.2, 0.5, 0.4, 0.9, 0.1, 0.3, 0.6]
    a = stats.bootstrap_interval(xs)
    assert a == stats.bootstrap_interval(xs)
    assert a[0] < sum(xs) / len(xs) < a[1]
    s = stats.score_summary(xs)
    assert s["n"] == 7 and s["values"] == xs and s["t_ci"][0] < s["mean"] < s["t_ci"][1]


def test_against_scipy_when_installed():
    sst = pytest.importorskip("scipy.stats")
    for k, n in [(0, 1), (1, 1), (7, 13), (2, 1000), (999, 1000), (123, 4567)]:
        ref = sst.binomtest(k, n).proportion_ci(method="exact", confidence_level=0.9)
        got = stats.clopper_pearson(k, n, 0.9)
        assert got == pytest.approx((ref.low, ref.high), rel=1e-8, abs=1e-14)
    for df in (1, 3, 29, 99):
        assert stats.t_ppf(0.9, df) == pytest.approx(sst.t.ppf(0.9, df), rel=1e-9)
    for k1, n1, k2, n2 in [(3, 10, 1, 12), (0, 50, 4, 50), (20, 50, 8, 40)]:
        ref = sst.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue
        assert stats.fisher_exact(k1, n1, k2, n2) == pytest.approx(ref, rel=1e-8)
