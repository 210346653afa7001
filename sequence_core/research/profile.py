"""`research profile <symbol>`: one book's microstructure, cost model and regime from the store.

Window: the last ``days`` days ending at the book's last recorded trade. The venue is the one
given, else the venue with the most trades of the symbol. Definitions (docs/research.md):
- spread: quoted spread of the best bid/ask rows, in bps of the mid, sampled on a 1 s grid
  (the last quote of each second), so quiet and busy periods weigh by time;
- depth: best bid and ask sizes on the same grid (base units and quote notional);
- volatility: standard deviation of log mid returns over 1 s, 10 s, 60 s and 300 s, in bps,
  and annualised from 60 s (365-day year);
- trades: count, notional, size distribution (mean, median, p90, p99 of notional);
- autocorrelation: lag-1 autocorrelation of 1 s mid returns, and of trade signs;
- quote-to-trade: best bid/ask updates per trade;
- cost model: square-root impact ``impact_bps = Y · σ_day_bps · sqrt(q / ADV)`` fitted by
  least squares through the origin on 1 s buckets: q = |signed traded volume| in the bucket,
  impact = the 10 s mid move after the bucket in the direction of its net flow; reported with
  Y, its standard error, R² and the number of buckets;
- regime: "volatile" when the last hour's 60 s volatility is above the window's 75th
  percentile of hourly volatilities, "calm" under the 25th, else "normal"; "trending" or
  "mean-reverting" when the lag-1 return autocorrelation is beyond ±0.05.
"""

from __future__ import annotations

import math

import msgspec
import numpy as np

from ..errors import UsageError
from ..market import quote_notional
from .grid import QUOTE_STALE_S, SECOND, TRADE_STALE_S, lagged_diff, last_at, positions, timeline

HORIZONS_S = (1, 10, 60, 300)


class ImpactFit(msgspec.Struct):
    model: str
    y: float | None
    y_stderr: float | None
    r2: float | None
    buckets: int
    sigma_day_bps: float | None
    adv: float | None                # average daily volume, in the venue's size units


class Profile(msgspec.Struct):
    symbol: str
    venue: str
    start_ns: int
    end_ns: int
    trades: int
    notional: float
    adv_usd: float
    trade_notional: dict[str, float]     # mean, median, p90, p99
    spread_bps: dict[str, float | None]  # p25, median, p75
    depth: dict[str, float | None]       # median bid/ask size and notional at the touch
    volatility_bps: dict[str, float | None]
    volatility_annual_pct: float | None
    autocorr_returns_1s: float | None
    autocorr_trade_signs: float | None
    quote_to_trade: float | None
    impact: ImpactFit
    regime: str
    regime_detail: str
    covered_s: int = 0                   # seconds of the 1 s grid with a fresh mid (gaps left out)
    trade_days: int = 0                  # UTC days with recorded trades: ADV's denominator


def sig(x: float, digits: int = 6) -> float:
    """*x* rounded to *digits* significant digits (a spread of 0.0016198 bps keeps its digits;
    rounding to decimals would make it 0.0016)."""
    return float(f"{x:.{digits}g}")


def _autocorr(x: np.ndarray) -> float | None:
    """Lag-1 autocorrelation over the pairs of neighbours that are both defined."""
    a, b = x[:-1], x[1:]
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 10 or np.std(a[ok]) == 0 or np.std(b[ok]) == 0:
        return None
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def fit_sqrt_impact(q: np.ndarray, adv: float, sigma_day_bps: float, impact_bps: np.ndarray) -> tuple[float, float, float]:
    """(Y, stderr, R²) of impact = Y · σ · sqrt(q/ADV), least squares through the origin."""
    x = sigma_day_bps * np.sqrt(q / adv)
    sxx = float(x @ x)
    y = float(x @ impact_bps) / sxx
    resid = impact_bps - y * x
    n = len(x)
    stderr = math.sqrt(float(resid @ resid) / max(n - 1, 1) / sxx)
    r2 = 1.0 - float(resid @ resid) / float(impact_bps @ impact_bps) if float(impact_bps @ impact_bps) > 0 else 0.0
    return y, stderr, r2


def busiest_venue(store, symbol: str, start: str | None = None, end: str | None = None) -> str | None:
    """The venue with the most recorded trades of *symbol*, in the UTC dates *start*..*end*
    when given (row counts from Parquet metadata)."""
    from ..store import open_part

    venues = sorted({part[0] for part in store.partitions("trades", symbol=symbol, start=start, end=end)})
    return max(venues, key=lambda v: sum(open_part(f).metadata.num_rows
                                         for f in store.files("trades", v, symbol, start, end)), default=None)


def profile(store, symbol: str, venue: str | None = None, days: int = 7,
            start_date: str | None = None, end_date: str | None = None) -> Profile:
    """The profile of the trailing *days*, or of the UTC dates *start_date*..*end_date*
    (inclusive) when given (``research materialize`` profiles one date at a time)."""
    if days <= 0:
        raise UsageError(f"--days {days} must be positive")
    venues = sorted({part[0] for part in store.partitions("trades", symbol=symbol)})
    if not venues:
        raise UsageError(f"no recorded trades for {symbol} in the store at {store.root}; "
                         "`sequence research coverage` shows what is there")
    if venue is not None and venue not in venues:
        raise UsageError(f"no recorded trades for {symbol} on {venue}; recorded on: {', '.join(venues)}")
    if venue is None:
        venue = busiest_venue(store, symbol)
    dates = {"start": start_date, "end": end_date} if start_date else {}
    tr = store.arrays("trades", venue=venue, symbol=symbol, **dates)
    end = int(tr["ts_recv"].max())
    start = end - days * 86_400 * SECOND if not start_date else int(tr["ts_recv"].min())
    keep = np.flatnonzero(tr["ts_recv"] >= start)
    keep = keep[np.argsort(tr["ts_recv"][keep], kind="stable")]
    t_ts, t_px, t_sz = tr["ts_recv"][keep], tr["price"][keep] / 1e9, tr["size"][keep] / 1e9
    t_side = np.asarray(tr["side"])[keep].astype(np.int64)
    start = max(start, int(t_ts.min()))
    notional = quote_notional(venue, symbol, t_px, t_sz)
    # per UTC day with recorded trades: a window's unrecorded days are not days without trading,
    # and a few recorded minutes are not scaled up to a day
    trade_days = len(np.unique(t_ts // (86_400 * SECOND)))
    adv = float(t_sz.sum() / trade_days)
    try:
        bb = store.arrays("bbo", venue=venue, symbol=symbol, **dates)
        sel = (bb["ts_recv"] >= start) & (bb["ts_recv"] <= end)
        q_ts = bb["ts_recv"][sel]
        bid, ask = bb["bid_price"][sel] / 1e9, bb["ask_price"][sel] / 1e9
        bsz = bb["bid_size"][sel] / 1e9 if "bid_size" in bb else np.full(len(q_ts), np.nan)
        asz = bb["ask_size"][sel] / 1e9 if "ask_size" in bb else np.full(len(q_ts), np.nan)
    except UsageError:
        q_ts = np.zeros(0, np.int64)
        bid = ask = bsz = asz = np.zeros(0)
    last_s = (end - start) // SECOND
    if len(q_ts) >= 2:
        order = np.argsort(q_ts, kind="stable")
        q_ts, bid, ask, bsz, asz = q_ts[order], bid[order], ask[order], bsz[order], asz[order]
        k = timeline(q_ts, start, SECOND, QUOTE_STALE_S * SECOND)
        k = k[k <= last_s]
        at = lambda v: last_at(q_ts, v, k, start, SECOND, QUOTE_STALE_S * SECOND)  # noqa: E731
        mid_all = (bid + ask) / 2
        mid, spread = at(mid_all), at((ask - bid) / mid_all * 1e4)
        gb, ga = at(bsz), at(asz)
    else:                                # no quotes: the trade prices stand in for the mid
        k = timeline(t_ts, start, SECOND, TRADE_STALE_S * SECOND)
        k = k[k <= last_s]
        mid = last_at(t_ts, t_px, k, start, SECOND, TRADE_STALE_S * SECOND)
        spread = gb = ga = np.full(len(mid), np.nan)
    covered_s = int(np.isfinite(mid).sum())
    logm = np.log(mid)
    vol = {}
    for h in HORIZONS_S:
        r = lagged_diff(logm, h)
        vol[f"{h}s"] = sig(float(np.std(r) * 1e4)) if len(r) > 2 else None
    r1 = np.diff(logm)
    r60 = lagged_diff(logm, 60)
    annual = float(np.std(r60) * math.sqrt(525_600) * 100) if len(r60) > 2 else None
    sigma_day_bps = float(np.std(r60) * math.sqrt(1440) * 1e4) if len(r60) > 2 else None

    # square-root impact on 1 s buckets of net flow (trades in seconds off the grid drop out)
    pos = positions(k, (t_ts - start) // SECOND)
    on = pos >= 0
    flow = np.bincount(pos[on], weights=(t_sz * t_side)[on], minlength=len(mid))[: len(mid)]
    idx = np.flatnonzero(flow != 0)
    idx = idx[idx + 10 < len(mid)]
    fit = ImpactFit("sqrt", None, None, None, 0, sigma_day_bps, adv)
    if len(idx) >= 20 and sigma_day_bps and adv > 0:
        move = (logm[idx + 10] - logm[idx]) * 1e4 * np.sign(flow[idx])
        ok = np.isfinite(move)
        if ok.sum() >= 20:
            y, se, r2 = fit_sqrt_impact(np.abs(flow[idx][ok]), adv, sigma_day_bps, move[ok])
            fit = ImpactFit("sqrt", sig(y), sig(se), sig(r2), int(ok.sum()), sig(sigma_day_bps), adv)

    level, detail = _regime(logm, covered_s)
    ac = _autocorr(r1)
    drift = "" if ac is None or abs(ac) <= 0.05 else (", trending" if ac > 0 else ", mean-reverting")
    pct = lambda a, q: sig(float(np.nanpercentile(a, q))) if np.isfinite(a).any() else None  # noqa: E731
    return Profile(
        symbol=symbol, venue=venue, start_ns=start, end_ns=end, trades=int(len(t_ts)),
        notional=round(float(notional.sum()), 2), adv_usd=round(float(notional.sum() / trade_days), 2),
        trade_notional={"mean": sig(float(notional.mean())), "median": sig(float(np.median(notional))),
                        "p90": sig(float(np.percentile(notional, 90))), "p99": sig(float(np.percentile(notional, 99)))},
        spread_bps={"p25": pct(spread, 25), "median": pct(spread, 50), "p75": pct(spread, 75)},
        depth={"bid_size": pct(gb, 50), "ask_size": pct(ga, 50),
               "bid_notional": pct(quote_notional(venue, symbol, mid, gb), 50),
               "ask_notional": pct(quote_notional(venue, symbol, mid, ga), 50)},
        volatility_bps=vol, volatility_annual_pct=sig(annual) if annual is not None else None,
        autocorr_returns_1s=sig(ac) if ac is not None else None,
        autocorr_trade_signs=sig(v) if (v := _autocorr(t_side.astype(float))) is not None else None,
        quote_to_trade=sig(len(q_ts) / len(t_ts)) if len(t_ts) else None,
        impact=fit, regime=level + drift, regime_detail=detail, covered_s=covered_s, trade_days=trade_days)


REGIME_MIN_S = 4 * 3600      # seconds of data covered before a volatility level is classified
HOUR_MIN_RETURNS = 1800      # an hour's volatility counts when half its 60 s returns are defined


def _regime(logm: np.ndarray, covered_s: int) -> tuple[str, str]:
    """The volatility level of the last hour against the window's hourly volatilities (hours
    of the grid: recorded time, gaps left out) and why."""
    if covered_s < REGIME_MIN_S:        # not "normal": a scan's `regime == "normal"` would match it
        return "unclassified", (f"{covered_s / 3600:.2f} h of data covered, under 4 hours: volatility level not "
                                "classified")
    hourly = [float(np.std(r)) for h0 in range(0, len(logm) - 3600 + 1, 3600)
              if len(r := lagged_diff(logm[h0:h0 + 3601], 60)) >= HOUR_MIN_RETURNS]
    rl = lagged_diff(logm[-3601:], 60)
    if len(hourly) < 4 or len(rl) < HOUR_MIN_RETURNS:
        return "unclassified", "under 4 mostly recorded hours: volatility level not classified"
    now = float(np.std(rl))
    p25, p75 = np.percentile(hourly, [25, 75])
    level = "volatile" if now > p75 else "calm" if now < p25 else "normal"
    return level, (f"last hour's 60 s volatility {now * 1e4:.2f} bps vs the window's hourly p25 {p25 * 1e4:.2f} / "
                   f"p75 {p75 * 1e4:.2f}")


VOLUME_PROFILE_DAYS = 14      # trailing days of recorded trades a volume profile is learned from


def hourly_volume_profile(store, books: list[tuple[str, str]], days: int = VOLUME_PROFILE_DAYS) -> list[float] | None:
    """The intraday volume curve of *books* ((venue, symbol) pairs) from the store's trades: 24
    weights, the mean quote notional traded in each UTC hour over the days that hour was
    recorded, in the trailing *days* days of each book's data. None unless every hour of the
    day was recorded at least once: a curve learned from part of a day would starve the rest."""
    total = np.zeros(24)
    seen: set[tuple[int, int]] = set()                      # (day, hour) with trades
    for venue, symbol in books:
        files = store.files("trades", venue, symbol)
        if not files:
            continue
        dates = sorted({p.parent.name[5:] for p in files})[-days:]
        try:
            t = store.arrays("trades", venue=venue, symbol=symbol, start=dates[0], end=dates[-1],
                             columns=["ts_recv", "price", "size"])
        except UsageError:
            continue
        if not len(t["ts_recv"]):
            continue
        seconds = t["ts_recv"] // 1_000_000_000
        day, hour = seconds // 86_400, seconds % 86_400 // 3600
        notional = quote_notional(venue, symbol, t["price"] / 1e9, t["size"] / 1e9)
        total += np.bincount(hour, weights=notional, minlength=24)
        seen.update(zip(day.tolist(), hour.tolist()))
    days_seen = np.bincount([h for _, h in seen], minlength=24)
    if not seen or (days_seen == 0).any():
        return None
    return [float(x) for x in total / days_seen]
