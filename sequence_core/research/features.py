"""`research feature-eval`: walk-forward information coefficients of features against labels
on one-second bars of the recorded store (docs/research.md).

Features and labels are plugins (hook ``register_scanners``; objects with ``kind`` "feature"
or "label", a ``name``, a ``description`` and ``compute(bars) -> array`` aligned with the
bars, NaN where undefined). Bars, per symbol, from its busiest venue: ``ts`` (bar end),
``mid`` (best bid/ask mid, else the last trade), ``flow`` (signed traded size in the bar),
``trades``, ``spread_bps``.
"""

from __future__ import annotations

import math

import msgspec
import numpy as np

from ..errors import UsageError

DECAY_S = (1, 5, 10, 30, 60)
MIN_FOLD_PAIRS = 10      # a fold's IC needs at least this many (symbol, second) pairs (spearman)


class Bars(msgspec.Struct):
    symbol: str
    ts: object
    mid: object
    flow: object
    trades: object
    spread_bps: object


class Feature:
    kind = "feature"

    def __init__(self, name, description, fn):
        self.name, self.description, self._fn = name, description, fn

    def compute(self, bars: Bars):
        return self._fn(bars)


class Label(Feature):
    kind = "label"


def _lag(x, k):
    out = np.full(len(x), np.nan)
    if k < len(x):
        out[k:] = x[:-k] if k else x
    return out


def _lead(x, k):
    out = np.full(len(x), np.nan)
    if k < len(x):
        out[:-k] = x[k:]
    return out


def _logm(b):
    return np.log(b.mid)


def _rolling_std(x, w):
    """Standard deviation over the trailing *w* values; undefined (NaN) where any of them is
    (an undefined return read as 0 made a gap look like a flat market)."""
    out = np.full(len(x), np.nan)
    if len(x) < w:
        return out

    def window_sums(v):
        c = np.cumsum(v)
        return c[w - 1:] - np.concatenate([[0], c[:-w]])

    s1, s2 = window_sums(np.nan_to_num(x)), window_sums(np.nan_to_num(x) ** 2)
    gaps = window_sums(np.isnan(x).astype(np.int64))
    out[w - 1:] = np.where(gaps > 0, np.nan, np.sqrt(np.maximum(s2 / w - (s1 / w) ** 2, 0)))
    return out


BUILTIN = [
    Feature("ofi_1s", "signed traded size in the bar (buys minus sells)", lambda b: np.asarray(b.flow, float)),
    Feature("mom_10s", "log mid change over the past 10 s", lambda b: _logm(b) - _lag(_logm(b), 10)),
    Feature("mom_60s", "log mid change over the past 60 s", lambda b: _logm(b) - _lag(_logm(b), 60)),
    Feature("vol_60s", "stdev of 1 s log mid returns over the past 60 s",
            lambda b: _rolling_std(np.concatenate([[np.nan], np.diff(_logm(b))]), 60)),
    Feature("spread_bps", "quoted spread at the bar's end, bps", lambda b: np.asarray(b.spread_bps, float)),
    Label("fwd_ret_1s", "log mid change over the next 1 s", lambda b: _lead(_logm(b), 1) - _logm(b)),
    Label("fwd_ret_10s", "log mid change over the next 10 s", lambda b: _lead(_logm(b), 10) - _logm(b)),
    Label("fwd_ret_60s", "log mid change over the next 60 s", lambda b: _lead(_logm(b), 60) - _logm(b)),
]


def rank(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties sharing their average rank (as Spearman's rho needs)."""
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x))
    sx = x[order]
    i = 0
    n = len(x)
    # runs of equal values share the mean of their positions
    bounds = np.flatnonzero(np.diff(sx) != 0) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [n]])
    for s, e in zip(starts, ends):
        ranks[order[s:e]] = (s + e + 1) / 2.0
    del i
    return ranks


def spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < MIN_FOLD_PAIRS:
        return None
    ra, rb = rank(a[ok]), rank(b[ok])
    if np.std(ra) == 0 or np.std(rb) == 0:
        return None
    return float(np.corrcoef(ra, rb)[0, 1])


def bars_for(store, symbol: str, t0: int, t1: int, start: str | None = None, end: str | None = None) -> list[Bars]:
    """One-second bars of *symbol* in [t0, t1) from its busiest venue in the UTC dates
    *start*..*end*, as runs of consecutive seconds: a run's seconds without a fresh mid
    (grid.py: quotes at most 5 s old, else trades at most 60 s) are NaN, and recorded
    stretches further apart than 300 s are separate runs (memory follows the data)."""
    from .grid import QUOTE_STALE_S, SECOND, TRADE_STALE_S, last_at, positions, timeline
    from .profile import busiest_venue

    venue = busiest_venue(store, symbol, start, end)
    if venue is None:
        return []
    tr = store.arrays("trades", venue=venue, symbol=symbol, start=start, end=end)
    keep = (tr["ts_recv"] >= t0) & (tr["ts_recv"] < t1)
    ts, px, sz, side = tr["ts_recv"][keep], tr["price"][keep] / 1e9, tr["size"][keep] / 1e9, np.asarray(tr["side"])[keep]
    if len(ts) < 2:
        return []
    order = np.argsort(ts, kind="stable")
    ts, px, sz, side = ts[order], px[order], sz[order], side[order]
    a = int(ts[0]) // SECOND * SECOND
    first = a + SECOND                                  # bar k ends at first + k s and holds second k after a
    try:
        bb = store.arrays("bbo", venue=venue, symbol=symbol, start=start, end=end,
                          columns=["ts_recv", "bid_price", "ask_price"])
        q = np.flatnonzero((bb["ts_recv"] >= t0) & (bb["ts_recv"] < t1))
        q = q[np.argsort(bb["ts_recv"][q], kind="stable")]
        qts, bid, ask = bb["ts_recv"][q], bb["bid_price"][q] / 1e9, bb["ask_price"][q] / 1e9
    except UsageError:
        qts, bid, ask = np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    k = timeline(np.sort(np.concatenate([ts, qts])), first, SECOND, TRADE_STALE_S * SECOND)
    last = max(int(ts[-1]), int(qts[-1]) if len(qts) else 0)
    k = k[first + k * SECOND <= min(t1, last + SECOND)]   # no bars after the data: they would only carry it
    mid = last_at(ts, px, k, first, SECOND, TRADE_STALE_S * SECOND, strictly_before=True)
    spread = np.full(len(k), np.nan)
    if len(qts):
        m = (bid + ask) / 2
        qmid = last_at(qts, m, k, first, SECOND, QUOTE_STALE_S * SECOND, strictly_before=True)
        mid = np.where(np.isfinite(qmid), qmid, mid)
        spread = last_at(qts, (ask - bid) / m * 1e4, k, first, SECOND, QUOTE_STALE_S * SECOND, strictly_before=True)
    pos = positions(k, (ts - a) // SECOND)
    on = pos >= 0
    flow = np.bincount(pos[on], weights=(sz * side)[on], minlength=len(k))
    count = np.bincount(pos[on], minlength=len(k)).astype(float)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], (k >= 0).astype(np.int8), [0]])))   # spacers cut the runs
    return [Bars(symbol, first + k[lo:hi] * SECOND, mid[lo:hi], flow[lo:hi], count[lo:hi], spread[lo:hi])
            for lo, hi in zip(edges[::2], edges[1::2])]


class FoldIC(msgspec.Struct):
    fold: int
    start_ns: int
    end_ns: int
    n: int
    ic: float | None


class Evaluation(msgspec.Struct):
    feature: str
    label: str
    folds: list[FoldIC]
    ic_mean: float | None
    ic_std: float | None
    ic_ir: float | None
    t_stat: float | None
    decay: dict[str, float | None]     # IC against the forward mid change at each horizon


def summarize(ics: list[float]) -> tuple[float | None, float | None, float | None, float | None]:
    vals = [x for x in ics if x is not None]
    if not vals:
        return None, None, None, None
    mean = float(np.mean(vals))
    if len(vals) < 2:
        return mean, None, None, None
    sd = float(np.std(vals, ddof=1))
    if sd == 0:
        return mean, 0.0, None, None
    return mean, sd, mean / sd, mean / (sd / math.sqrt(len(vals)))


def _day_ns(day) -> int:
    """Nanoseconds at the start of the UTC *day* (a ``datetime.date``)."""
    import calendar

    return calendar.timegm(day.timetuple()) * 10**9


def _utc(ns: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ns / 1e9, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _check_folds(bars: list[Bars], edges) -> None:
    """Refuses folds (cut at *edges*) of which one has under MIN_FOLD_PAIRS seconds with a
    defined mid: folds are slices of calendar time, so a gap in the data can empty one."""
    folds = len(edges) - 1
    for k in range(folds):
        n = sum(int((np.isfinite(np.asarray(b.mid, float)) & (b.ts >= edges[k]) & (b.ts < edges[k + 1])).sum())
                for b in bars)
        if n < MIN_FOLD_PAIRS:
            raise UsageError(
                f"--folds {folds}: fold {k + 1} ({_utc(int(edges[k]))} to {_utc(int(edges[k + 1]))} UTC) has "
                f"{n:,} seconds with a defined mid, under {MIN_FOLD_PAIRS} (folds cut the window's time evenly, "
                f"so a gap in the data leaves a fold empty): use fewer folds, or a window without the gap")


def evaluate(store, features: list[str], labels: list[str], start: str, end: str, folds: int = 5,
             symbols: list[str] | None = None) -> list[Evaluation]:
    import datetime as dt

    from .materialize import _check_date
    from .scan import research_plugins

    reg = research_plugins()
    known_f = {k: v for k, v in reg.items() if getattr(v, "kind", "") == "feature"}
    known_l = {k: v for k, v in reg.items() if getattr(v, "kind", "") == "label"}
    for f in features:
        if f not in known_f:
            raise UsageError(f"unknown feature '{f}'; features: {', '.join(sorted(known_f))}")
    for lab in labels:
        if lab not in known_l:
            raise UsageError(f"unknown label '{lab}'; labels: {', '.join(sorted(known_l))}")
    if not features or not labels:
        raise UsageError("give at least one --feature and one --label")
    if folds < 2:
        raise UsageError(f"--folds {folds} must be at least 2 (walk-forward needs several folds)")
    day0, day1 = _check_date("--start", start), _check_date("--end", end)
    t0, t1 = _day_ns(day0), _day_ns(day1 + dt.timedelta(days=1))
    if t0 >= t1:
        raise UsageError(f"--start {start} is after --end {end}")
    syms = symbols or sorted({part[1] for part in store.partitions("trades", start=start, end=end)})
    bars = [b for s in syms for b in bars_for(store, s, t0, t1, start, end)]
    if not bars:
        raise UsageError(f"no recorded trades between {start} and {end}"
                         + (f" for {', '.join(symbols)}" if symbols else ""))
    defined = sum(int(np.isfinite(np.asarray(b.mid, float)).sum()) for b in bars)
    if defined < folds * MIN_FOLD_PAIRS:
        most = defined // MIN_FOLD_PAIRS
        advice = f"use at most {most} folds, or a longer window" if most >= 2 else \
            f"too little for any evaluation (2 folds need {2 * MIN_FOLD_PAIRS}): use a longer window"
        raise UsageError(f"--folds {folds}: the window has {defined:,} seconds with a defined mid, too few for "
                         f"{folds} folds of at least {MIN_FOLD_PAIRS} ({advice})")
    lo = min(int(b.ts[0]) for b in bars)
    hi = max(int(b.ts[-1]) for b in bars) + 1
    edges = np.linspace(lo, hi, folds + 1).astype(np.int64)
    _check_folds(bars, edges)
    out = []
    for f in features:
        fv = [known_f[f].compute(b) for b in bars]
        for lab in labels:
            lv = [known_l[lab].compute(b) for b in bars]
            fold_ics = []
            for k in range(folds):
                xs, ys = [], []
                for b, x, y in zip(bars, fv, lv):
                    sel = (b.ts >= edges[k]) & (b.ts < edges[k + 1])
                    xs.append(x[sel])
                    ys.append(y[sel])
                x, y = np.concatenate(xs), np.concatenate(ys)
                ok = np.isfinite(x) & np.isfinite(y)
                ic = spearman(x, y)
                fold_ics.append(FoldIC(k + 1, int(edges[k]), int(edges[k + 1]), int(ok.sum()),
                                       round(ic, 6) if ic is not None else None))
            mean, sd, ir, t = summarize([fo.ic for fo in fold_ics])
            decay = {}
            for h in DECAY_S:
                fwd = np.concatenate([_lead(np.log(b.mid), h) - np.log(b.mid) for b in bars])
                ic = spearman(np.concatenate(fv), fwd)
                decay[f"{h}s"] = round(ic, 6) if ic is not None else None
            r = lambda v: None if v is None else round(v, 6)  # noqa: E731
            out.append(Evaluation(f, lab, fold_ics, r(mean), r(sd), r(ir), r(t), decay))
    return out
