"""The drift statistics of `research monitor` against scipy's reference computations."""

from __future__ import annotations

import numpy as np
import pytest

from sequence_core.research.drift import Tolerance, bootstrap_mean_diff, compare, kolmogorov_sf, ks_2samp, psi


@pytest.mark.parametrize("n, m, shift", [(200, 300, 0.0), (1_000, 800, 0.3), (50, 5_000, 1.0), (4_000, 4_000, 0.05)])
def test_ks_matches_scipy(n, m, shift):
    from scipy import stats

    rng = np.random.default_rng(n + m)
    a, b = rng.normal(0, 1, n), rng.normal(shift, 1.2, m)
    d, p = ks_2samp(a, b)
    ref = stats.ks_2samp(a, b, method="asymp")
    assert d == pytest.approx(ref.statistic, abs=1e-12)
    en = n * m / (n + m)
    assert p == pytest.approx(stats.kstwobign.sf(d * np.sqrt(en)), rel=1e-9, abs=1e-300)
    # scipy's asymptotic p uses the finite-n Kolmogorov distribution; ours its limit: close for these sizes
    assert p == pytest.approx(ref.pvalue, rel=0.25, abs=1e-3)


def test_kolmogorov_survival_matches_scipy():
    from scipy import stats

    for x in (0.0, 0.1, 0.3, 0.5, 0.8, 1.0, 1.36, 2.0, 3.0, 5.0):
        assert kolmogorov_sf(x) == pytest.approx(stats.kstwobign.sf(x), rel=1e-9, abs=1e-14)


def test_psi_is_the_symmetric_kl_of_the_binned_shares():
    from scipy.special import rel_entr

    rng = np.random.default_rng(1)
    base, cur = rng.normal(0, 1, 5_000), rng.normal(0.5, 1.3, 4_000)
    edges = np.quantile(base, np.linspace(0, 1, 11)[1:-1])
    b = np.histogram(base, np.concatenate([[-np.inf], edges, [np.inf]]))[0] / len(base)
    c = np.histogram(cur, np.concatenate([[-np.inf], edges, [np.inf]]))[0] / len(cur)
    assert psi(base, cur) == pytest.approx(float(np.sum(rel_entr(c, b) + rel_entr(b, c))), rel=1e-9)
    assert psi(base, base) == pytest.approx(0.0, abs=1e-12)
    assert psi(base, rng.normal(0, 1, 4_000)) < 0.02 < 0.25 < psi(base, cur)


def test_psi_with_ties_and_empty_bins_stays_finite():
    base = np.array([0.0] * 90 + [1.0] * 10)
    cur = np.array([2.0] * 100)                              # every value beyond the baseline's bins
    v = psi(base, cur)
    assert np.isfinite(v) and v > 5


def test_bootstrap_interval_matches_scipy():
    from scipy import stats

    rng = np.random.default_rng(4)
    a, b = rng.normal(1.0, 2.0, 400), rng.normal(1.5, 2.0, 500)
    diff, lo, hi = bootstrap_mean_diff(a, b, n_resamples=4_000, seed=9)
    ref = stats.bootstrap((b, a), lambda x, y, axis=-1: np.mean(x, axis=axis) - np.mean(y, axis=axis),
                          n_resamples=4_000, method="percentile", random_state=9, vectorized=True)
    assert diff == pytest.approx(b.mean() - a.mean(), rel=1e-12)
    width = ref.confidence_interval.high - ref.confidence_interval.low
    assert lo == pytest.approx(ref.confidence_interval.low, abs=0.1 * width)
    assert hi == pytest.approx(ref.confidence_interval.high, abs=0.1 * width)


def test_compare_verdicts():
    rng = np.random.default_rng(5)
    base = rng.normal(0, 1, 2_000)
    same = compare("x", base, rng.normal(0, 1, 2_000), bootstrap=True)
    assert same.verdict == "ok" and same.reasons == [] and same.mean_diff_ci[0] < 0 < same.mean_diff_ci[1]
    worse = compare("x", base, rng.normal(-0.5, 1, 2_000), bootstrap=True)
    assert worse.verdict == "drift" and any("excludes 0" in r for r in worse.reasons)
    better = compare("x", base, rng.normal(0.12, 1, 20_000), bootstrap=True)
    assert better.verdict == "watch" and "better, not a failure" in better.reasons[-1]
    few = compare("x", base, base[:10], Tolerance(min_samples=30))
    assert few.verdict == "insufficient" and few.psi is None
