"""`research scan`: rank the store's pairs by fields that scanners compute, filtered by
``--where`` predicates (sequence_core/research/predicate.py).

Scanners are plugins (hook ``register_scanners``): an object with a ``name``, ``fields``
(field -> (kind, description), kind one of number, set, text) and
``scan(store, days) -> {symbol: {field: value}}``. The core's ``store`` scanner computes,
per symbol over the trailing ``days`` of its recorded trades (all venues together):
``venues`` (set: venues with trades in the window), ``trades``, ``adv_usd`` (traded
notional per UTC day with recorded trades; an inverse perp's contracts count at their USD
value), ``trade_days`` (those days), ``volatility_bps``
(standard deviation of 60 s log returns of the last trade price), ``sharpe`` (annualised
mean/stdev of one-minute returns of the last trade price; a buy-and-hold figure) and
``spread_bps`` (median quoted spread of the best bid/ask rows of its busiest venue: the
most trades in the window). Prices are carried forward on the minute grid for at most a
minute (grid.py): gaps in the data are left out, not read as a flat market.
"""

from __future__ import annotations

import math

import msgspec
import numpy as np

from ..errors import UsageError
from ..market import quote_notional
from .predicate import parse
from .profile import sig


class ScanRow(msgspec.Struct):
    symbol: str
    rank_value: float | None
    fields: dict


def _series(ts, px, step_s: int):
    """Log of the last price on a *step_s* grid, NaN where the last trade is older than
    grid.TRADE_STALE_S (or a step): a gap in the data is no price, not a flat one."""
    from .grid import SECOND, TRADE_STALE_S, last_at, timeline

    if len(ts) < 2:
        return np.zeros(0)
    order = np.argsort(ts, kind="stable")
    ts, px = ts[order], px[order]
    step, stale = step_s * SECOND, max(TRADE_STALE_S, step_s) * SECOND
    k = timeline(ts, int(ts[0]), step, stale, pad=1)
    return np.log(last_at(ts, px, k, int(ts[0]), step, stale))


class StoreScanner:
    name = "store"
    fields = {
        "symbol": ("text", "the store's canonical symbol"),
        "venues": ("set", "venues with recorded trades"),
        "trades": ("number", "trades in the window"),
        "adv_usd": ("number", "traded notional per UTC day with recorded trades in the window"),
        "trade_days": ("number", "UTC days with recorded trades in the window (ADV's denominator)"),
        "volatility_bps": ("number", "stdev of 60 s log returns of the last price, bps"),
        "sharpe": ("number", "annualised Sharpe of one-minute returns (buy and hold)"),
        "spread_bps": ("number", "median quoted spread of the busiest venue, bps"),
    }

    def scan(self, store, days: int) -> dict[str, dict]:
        from .grid import lagged_diff

        out = {}
        for sym in sorted({part[1] for part in store.partitions("trades")}):
            by_venue = {v: store.arrays("trades", venue=v, symbol=sym, columns=["ts_recv", "price", "size"])
                        for v in sorted({part[0] for part in store.partitions("trades", symbol=sym)})}
            last = max(int(t["ts_recv"].max()) for t in by_venue.values())
            start = last - days * 86_400 * 1_000_000_000
            window = {v: {c: x[t["ts_recv"] >= start] for c, x in t.items()} for v, t in by_venue.items()}
            window = {v: t for v, t in window.items() if len(t["ts_recv"])}     # venues with trades in the window
            ts = np.concatenate([t["ts_recv"] for t in window.values()])
            px = np.concatenate([t["price"] for t in window.values()]) / 1e9
            # an inverse perp's sizes are contracts of its venue: notional per venue
            notional = sum(float(quote_notional(v, sym, t["price"] / 1e9, t["size"] / 1e9).sum())
                           for v, t in window.items())
            trade_days = len(np.unique(ts // (86_400 * 1_000_000_000)))
            r60 = lagged_diff(_series(ts, px, 60), 1)
            sharpe = None
            if len(r60) >= 30 and np.std(r60) > 0:        # 30 one-minute returns: 30 minutes of data
                sharpe = round(float(np.mean(r60) / np.std(r60, ddof=1) * math.sqrt(525_600)), 4)
            busiest = max(window, key=lambda v: len(window[v]["ts_recv"]))
            out[sym] = {"symbol": sym, "venues": sorted(window), "trades": int(len(ts)),
                        "adv_usd": round(notional / trade_days, 2), "trade_days": trade_days,
                        "volatility_bps": round(float(np.std(r60) * 1e4), 4) if len(r60) > 2 else None,
                        "sharpe": sharpe, "spread_bps": _median_spread(store, busiest, sym, start, last)}
        return out


def _median_spread(store, venue: str, symbol: str, t0: int, t1: int) -> float | None:
    """Median quoted spread (bps) of the book's best bid/ask rows received in [t0, t1]."""
    import datetime as dt

    day = lambda ns: dt.datetime.fromtimestamp(ns / 1e9, dt.timezone.utc).date().isoformat()  # noqa: E731
    try:
        bb = store.arrays("bbo", venue=venue, symbol=symbol, start=day(t0), end=day(t1),
                          columns=["ts_recv", "bid_price", "ask_price"])
    except UsageError:
        return None
    bid, ask = bb["bid_price"] / 1e9, bb["ask_price"] / 1e9
    ok = (bid > 0) & (ask > 0) & (bb["ts_recv"] >= t0) & (bb["ts_recv"] <= t1)
    if not ok.any():
        return None
    return sig(float(np.median((ask[ok] - bid[ok]) / ((ask[ok] + bid[ok]) / 2) * 1e4)))


class ProfilesScanner:
    """Fields from ``research materialize``'s daily profiles (the research store): per symbol,
    the materialized days of its busiest venue within the trailing ``days`` of its latest
    materialized date. A symbol never materialized has none of these fields."""

    name = "profiles"
    fields = {
        "impact_y": ("number", "square-root impact coefficient Y (mean over materialized days)"),
        "impact_r2": ("number", "R² of the impact fit (mean over materialized days)"),
        "depth_usd": ("number", "median touch depth, bid + ask notional (mean over materialized days)"),
        "quote_to_trade": ("number", "quote updates per trade (mean over materialized days)"),
        "regime": ("text", "regime of the latest materialized day"),
        "profile_days": ("number", "materialized days in the window"),
    }

    def scan(self, store, days: int) -> dict[str, dict]:
        import datetime as dt

        from ..home import ensure_home
        from .materialize import read_profiles, research_root

        by_book: dict[tuple[str, str], list[dict]] = {}
        for r in read_profiles(research_root(ensure_home())):
            by_book.setdefault((r["symbol"], r["venue"]), []).append(r)
        out: dict[str, dict] = {}
        for (sym, _venue), rows in sorted(by_book.items()):
            last = max(r["date"] for r in rows)
            first = (dt.date.fromisoformat(last) - dt.timedelta(days=days - 1)).isoformat()
            rows = sorted((r for r in rows if r["date"] >= first), key=lambda r: r["date"])
            notional = sum(r["notional"] or 0 for r in rows)
            if sym in out and out[sym]["_notional"] >= notional:
                continue

            def mean(key, rows=rows):
                vals = [r[key] for r in rows if r.get(key) is not None]
                return sig(float(np.mean(vals))) if vals else None

            depth = [r["depth_bid_notional"] + r["depth_ask_notional"] for r in rows
                     if r.get("depth_bid_notional") is not None and r.get("depth_ask_notional") is not None]
            out[sym] = {"_notional": notional, "impact_y": mean("impact_y"), "impact_r2": mean("impact_r2"),
                        "depth_usd": round(float(np.mean(depth)), 2) if depth else None,
                        "quote_to_trade": mean("quote_to_trade"), "regime": rows[-1]["regime"],
                        "profile_days": len(rows)}
        for row in out.values():
            row.pop("_notional")
        return out


def research_plugins() -> dict:
    """Everything registered through ``register_scanners``: scanners, features, labels."""
    from ..plugins import get_plugins

    return get_plugins().registry("register_scanners")


def scanners() -> dict:
    return {k: v for k, v in research_plugins().items() if getattr(v, "kind", "scanner") == "scanner"}


def scan(store, where: list[str], rank_by: str | None, top: int | None, days: int = 7) -> list[ScanRow]:
    found = scanners()
    fields: dict[str, str] = {}
    for s in found.values():
        fields.update({k: v[0] for k, v in s.fields.items()})
    if rank_by is not None and fields.get(rank_by) != "number":
        numeric = sorted(k for k, v in fields.items() if v == "number")
        raise UsageError(f"--rank-by '{rank_by}' is not a numeric field; numeric fields: {', '.join(numeric)}")
    if days <= 0:
        raise UsageError(f"--days {days} must be positive")
    if top is not None and top <= 0:
        raise UsageError(f"--top {top} must be positive")
    predicates = [parse(w, fields) for w in where]
    rows: dict[str, dict] = {}
    for s in found.values():
        for sym, values in s.scan(store, days).items():
            rows.setdefault(sym, {"symbol": sym}).update(values)
    kept = [r for r in rows.values() if all(p.test(r) for p in predicates)]
    if rank_by:
        kept.sort(key=lambda r: (r.get(rank_by) is None, -(r.get(rank_by) or 0), r["symbol"]))
    else:
        kept.sort(key=lambda r: r["symbol"])
    if top:
        kept = kept[:top]
    return [ScanRow(r["symbol"], r.get(rank_by) if rank_by else None, r) for r in kept]
