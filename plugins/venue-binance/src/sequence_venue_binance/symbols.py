"""Binance: the instruments this plugin declares, and the symbol map.

Ticks, lots and minimums follow the venue's instrument endpoint (see venue.py); the
sandbox trades exactly these. USD-M perps share the spot name on another host; ``_PERP`` keeps venue symbols unique here and is stripped by the adapter.
"""

from sequence_core.market import SymbolMap, perp, plain, spot

V = "binance"

INSTRUMENTS = (
    spot(V, "BTC", "USDT", "BTCUSDT", "0.01", "0.00001", "5"),
    spot(V, "ETH", "USDT", "ETHUSDT", "0.01", "0.0001", "5"),
    spot(V, "SOL", "USDT", "SOLUSDT", "0.01", "0.001", "5"),
    spot(V, "XRP", "USDT", "XRPUSDT", "0.0001", "0.1", "5"),
    spot(V, "BTC", "USDC", "BTCUSDC", "0.01", "0.00001", "5"),
    spot(V, "ETH", "USDC", "ETHUSDC", "0.01", "0.0001", "5"),
    perp(V, "BTC", "USDT", "BTCUSDT_PERP", "0.1", "0.001", "100"),
    perp(V, "ETH", "USDT", "ETHUSDT_PERP", "0.01", "0.001", "20"),
)

SYMBOLS = SymbolMap(INSTRUMENTS)


def from_exchange_info(body: dict) -> list:
    """Spot instruments from ``GET /api/v3/exchangeInfo``: PRICE_FILTER.tickSize, LOT_SIZE.stepSize
    and minQty, NOTIONAL (or the older MIN_NOTIONAL) minNotional; status TRADING or halted."""
    import msgspec

    out = []
    for s in body.get("symbols", []):
        f = {x["filterType"]: x for x in s.get("filters", [])}
        notional = f.get("NOTIONAL", f.get("MIN_NOTIONAL", {})).get("minNotional", "0")
        inst = spot(V, s["baseAsset"], s["quoteAsset"], s["symbol"], plain(f["PRICE_FILTER"]["tickSize"]),
                    plain(f["LOT_SIZE"]["stepSize"]), plain(notional), plain(f["LOT_SIZE"].get("minQty", "0")))
        out.append(msgspec.structs.replace(inst, status="trading" if s.get("status") == "TRADING" else "halted"))
    return out
