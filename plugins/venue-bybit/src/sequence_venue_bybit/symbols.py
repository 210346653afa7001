"""Bybit: the instruments this plugin declares, and the symbol map.

Ticks, lots and minimums follow the venue's instrument endpoint (see venue.py); the
sandbox trades exactly these. Spot and linear share names across categories; ``_LINEAR`` keeps venue symbols unique here and the adapter sends ``category=linear``.
"""

from sequence_core.market import SymbolMap, perp, plain, spot

V = "bybit"

INSTRUMENTS = (
    spot(V, "BTC", "USDT", "BTCUSDT", "0.01", "0.000001", "5"),
    spot(V, "ETH", "USDT", "ETHUSDT", "0.01", "0.00001", "5"),
    spot(V, "SOL", "USDT", "SOLUSDT", "0.01", "0.001", "5"),
    spot(V, "XRP", "USDT", "XRPUSDT", "0.0001", "0.01", "5"),
    perp(V, "BTC", "USDT", "BTCUSDT_LINEAR", "0.1", "0.001", "5"),
    perp(V, "ETH", "USDT", "ETHUSDT_LINEAR", "0.01", "0.01", "5"),
)

SYMBOLS = SymbolMap(INSTRUMENTS)


def from_instruments_info(rows: list) -> list:
    """Spot instruments from ``GET /v5/market/instruments-info?category=spot``
    (https://bybit-exchange.github.io/docs/v5/market/instrument): ``priceFilter.tickSize``,
    ``lotSizeFilter.basePrecision`` (lot), ``minOrderAmt`` (min notional); ``status`` Trading
    or not. Spot ``minOrderQty`` is not read: "deprecated, no longer check minOrderQty, check
    minOrderAmt instead" (the page, since 2025-10-24), so it is no minimum here either."""
    import msgspec

    out = []
    for r in rows:
        lot = r["lotSizeFilter"]
        inst = spot(V, r["baseCoin"], r["quoteCoin"], r["symbol"], plain(r["priceFilter"]["tickSize"]),
                    plain(lot.get("basePrecision") or lot.get("qtyStep")), plain(lot.get("minOrderAmt") or "0"))
        out.append(msgspec.structs.replace(inst, status="trading" if r.get("status") == "Trading" else "halted"))
    return out
