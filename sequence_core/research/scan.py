"""`research scan`: rank the store's pairs by fields that scanners compute, filtered by
``--where`` predicates (sequence_core/research/predicate.py).

Scanners are plugins (hook ``register_scanners``): an object with a ``name``, ``fields``
(field -> (kind, description), kind one of number, set, text) and
``scan(store, days) -> {symbol: {field: value}}``. The core's ``store`` scanner computes,
per symbol over the trailing ``days`` of its recorded trades (all venues together):
``venues`` (set), ``trades``, ``adv_usd`` (traded notional per day; an inverse perp's
contracts count at their USD value), ``volatility_bps``
(standard deviation of 60 s log returns of the last trade price), ``sharpe`` (annualised
mean/stdev of one-minute returns of the last trade price; a buy-and-hold figure) and
``spread_bps`` (median quoted spread of the best bid/ask rows of its busiest venue).
"""

from __future__ import annotations

import math

import msgspec
import numpy as np

from ..errors import UsageError
from ..market import quote_notional
from .predicate import parse


class ScanRow(msgspec.Struct):
    symbol: str
    rank_value: float | None
    fields: dict


def _series(ts, px, step_s: int):
    if len(ts) < 2:
        return np.zeros(0)
    order = np.argsort(ts, kind="stable")
    ts, px = ts[order], px[order]
    grid = np.arange(ts[0], ts[-1] + 1, step_s * 1_000_000_000, dtype=np.int64)
    idx = np.searchsorted(ts, grid, side="right") - 1
    return np.log(px[idx])


class StoreScanner:
    name = "store"
    fields = {
        "symbol": ("text", "the store's canonical symbol"),
        "venues": ("set", "venues with recorded trades"),
        "trades": ("number", "trades in the window"),
        "adv_usd": ("number", "traded notional per day"),
        "volatility_bps": ("number", "stdev of 60 s log returns of the last price, bps"),
        "sharpe": ("number", "annualised Sharpe of one-minute returns (buy and hold)"),
        "spread_bps": ("number", "median quoted spread of the busiest venue, bps"),
    }

    def scan(self, store, days: int) -> dict[str, dict]:
        symbols = sorted({part[1] for part in store.partitions("trades")})
        out = {}
        for sym in symbols:
            tr = store.arrays("trades", symbol=sym)
            ts = np.asarray(tr["ts_recv"])
            start = int(ts.max()) - days * 86_400 * 1_000_000_000
            keep = ts >= start
            ts, px = ts[keep], tr["price"][keep] / 1e9
            venues = sorted({part[0] for part in store.partitions("trades", symbol=sym)})
            notional = 0.0           # per venue: an inverse perp's sizes are contracts of its venue
            for v in venues:
                tv = store.arrays("trades", venue=v, symbol=sym, columns=["ts_recv", "price", "size"])
                k = tv["ts_recv"] >= start
                notional += float(quote_notional(v, sym, tv["price"][k] / 1e9, tv["size"][k] / 1e9).sum())
            span_days = max((int(ts.max()) - int(ts.min())) / 86_400e9, 1 / 1440) if len(ts) else 1
            r60 = np.diff(_series(ts, px, 60))
            r1m = r60
            sharpe = None
            if len(r1m) >= 30 and np.std(r1m) > 0:
                sharpe = round(float(np.mean(r1m) / np.std(r1m, ddof=1) * math.sqrt(525_600)), 4)
            row = {"symbol": sym, "venues": venues, "trades": float(len(ts)),
                   "adv_usd": round(notional / span_days, 2),
                   "volatility_bps": round(float(np.std(r60) * 1e4), 4) if len(r60) > 2 else None,
                   "sharpe": sharpe, "spread_bps": None}
            busiest = max(venues, key=lambda v: len(store.files("trades", v, sym)), default=None)
            try:
                bb = store.arrays("bbo", venue=busiest, symbol=sym, columns=["ts_recv", "bid_price", "ask_price"])
                bid, ask = bb["bid_price"] / 1e9, bb["ask_price"] / 1e9
                ok = (bid > 0) & (ask > 0)
                if ok.any():
                    row["spread_bps"] = round(float(np.median((ask[ok] - bid[ok]) / ((ask[ok] + bid[ok]) / 2) * 1e4)), 6)
            except UsageError:
                pass
            out[sym] = row
        return out


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
                return round(float(np.mean(vals)), 6) if vals else None

            depth = [r["depth_bid_notional"] + r["depth_ask_notional"] for r in rows
                     if r.get("depth_bid_notional") is not None and r.get("depth_ask_notional") is not None]
            out[sym] = {"_notional": notional, "impact_y": mean("impact_y"), "impact_r2": mean("impact_r2"),
                        "depth_usd": round(float(np.mean(depth)), 2) if depth else None,
                        "quote_to_trade": mean("quote_to_trade"), "regime": rows[-1]["regime"],
                        "profile_days": float(len(rows))}
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
