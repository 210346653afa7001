"""Distribution-drift statistics for `research monitor` (docs/research.md): population
stability index, two-sample Kolmogorov-Smirnov, and a bootstrap of a difference in means.
numpy only; each is tested against scipy's reference computation."""

from __future__ import annotations

import math

import msgspec
import numpy as np

PSI_FLOOR = 1e-4          # an empty bin counts as this share, so the log stays finite


class Comparison(msgspec.Struct):
    """One metric compared between the baseline (evaluation) and the current window."""
    metric: str
    n_baseline: int
    n_current: int
    mean_baseline: float | None
    mean_current: float | None
    psi: float | None
    ks_stat: float | None
    ks_pvalue: float | None
    mean_diff: float | None = None            # current - baseline (bootstrap metrics only)
    mean_diff_ci: list[float] | None = None   # percentile interval at Tolerance.confidence (99%)
    verdict: str = "ok"                       # ok | watch | drift | insufficient
    reasons: list[str] = []


class Tolerance(msgspec.Struct, frozen=True):
    psi_watch: float = 0.10           # the conventional PSI bands: < 0.1 stable, 0.1-0.25 moderate
    psi_drift: float = 0.25           # > 0.25 a significant shift
    ks_alpha: float = 0.01            # KS p-value under this, with D over ks_min_stat, is drift
    ks_min_stat: float = 0.10         # so huge samples do not flag negligible differences
    min_samples: int = 30
    confidence: float = 0.99          # of the bootstrap interval of the difference in means


def psi(baseline: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    """PSI = Σ (c − b) · ln(c / b) over bins at the baseline's quantiles (ties merged); both
    sides' shares floored at 1e-4. Equals KL(c‖b) + KL(b‖c) of the binned shares."""
    baseline = np.asarray(baseline, np.float64)
    current = np.asarray(current, np.float64)
    edges = np.unique(np.quantile(baseline, np.linspace(0, 1, bins + 1)[1:-1]))
    b = np.bincount(np.searchsorted(edges, baseline, side="right"), minlength=len(edges) + 1) / len(baseline)
    c = np.bincount(np.searchsorted(edges, current, side="right"), minlength=len(edges) + 1) / len(current)
    b, c = np.maximum(b, PSI_FLOOR), np.maximum(c, PSI_FLOOR)
    return float(np.sum((c - b) * np.log(c / b)))


def kolmogorov_sf(x: float) -> float:
    """P(K > x) for the Kolmogorov distribution: 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²x²}."""
    if x <= 0:
        return 1.0
    if x < 0.2:                        # the alternating series converges slowly; P is 1 to 1e-15 here
        return 1.0
    total = 0.0
    for k in range(1, 101):
        term = math.exp(-2.0 * k * k * x * x)
        total += term if k % 2 else -term
        if term < 1e-17:
            break
    return min(1.0, max(0.0, 2.0 * total))


def ks_2samp(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(D, asymptotic p-value) of the two-sample Kolmogorov-Smirnov test: D is the largest gap
    between the empirical CDFs; p = Kolmogorov survival at D · sqrt(n·m / (n + m))."""
    a = np.sort(np.asarray(a, np.float64))
    b = np.sort(np.asarray(b, np.float64))
    both = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, both, side="right") / len(a)
    cdf_b = np.searchsorted(b, both, side="right") / len(b)
    d = float(np.max(np.abs(cdf_a - cdf_b)))
    en = len(a) * len(b) / (len(a) + len(b))
    return d, kolmogorov_sf(d * math.sqrt(en))


def bootstrap_mean_diff(baseline: np.ndarray, current: np.ndarray, n_resamples: int = 2000, seed: int = 0,
                        confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean(current) − mean(baseline), low, high): the percentile interval of the difference
    over resamples drawn with replacement from each sample independently."""
    rng = np.random.default_rng(seed)
    baseline = np.asarray(baseline, np.float64)
    current = np.asarray(current, np.float64)
    diffs = np.empty(n_resamples)
    for i in range(n_resamples):
        diffs[i] = current[rng.integers(0, len(current), len(current))].mean() - \
            baseline[rng.integers(0, len(baseline), len(baseline))].mean()
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(diffs, [alpha, 1 - alpha])
    return float(current.mean() - baseline.mean()), float(lo), float(hi)


def compare(metric: str, baseline, current, tol: Tolerance = Tolerance(), bootstrap: bool = False,
            seed: int = 0) -> Comparison:
    """PSI and KS (and with ``bootstrap`` the difference in means) with a verdict."""
    b = np.asarray(baseline, np.float64)
    c = np.asarray(current, np.float64)
    b, c = b[np.isfinite(b)], c[np.isfinite(c)]
    out = Comparison(metric, len(b), len(c), float(b.mean()) if len(b) else None,
                     float(c.mean()) if len(c) else None, None, None, None)
    if len(b) < tol.min_samples or len(c) < tol.min_samples:
        out.verdict = "insufficient"
        out.reasons = [f"under {tol.min_samples} observations on a side ({len(b)} baseline, {len(c)} current)"]
        return out
    out.psi = round(psi(b, c), 6)
    d, p = ks_2samp(b, c)
    out.ks_stat, out.ks_pvalue = round(d, 6), p
    reasons, level = [], 0
    if out.psi >= tol.psi_drift:
        reasons.append(f"PSI {out.psi:.3f} ≥ {tol.psi_drift}")
        level = 2
    elif out.psi >= tol.psi_watch:
        reasons.append(f"PSI {out.psi:.3f} ≥ {tol.psi_watch}")
        level = 1
    if p < tol.ks_alpha and d >= tol.ks_min_stat:
        reasons.append(f"KS D {d:.3f}, p {p:.2g} < {tol.ks_alpha}")
        level = 2
    if bootstrap:
        diff, lo, hi = bootstrap_mean_diff(b, c, seed=seed, confidence=tol.confidence)
        out.mean_diff, out.mean_diff_ci = diff, [lo, hi]
        ci = f"{tol.confidence:.0%} CI {lo:.6g} … {hi:.6g}"
        if hi < 0:
            reasons.append(f"mean lower by {-diff:.6g} ({ci} excludes 0)")
            level = 2
        elif lo > 0:
            reasons.append(f"mean higher by {diff:.6g} ({ci}); better, not a failure")
            level = max(level, 1)
    out.verdict = ("ok", "watch", "drift")[level]
    out.reasons = reasons
    return out
