"""Bitget: the instruments this plugin declares, and the symbol map.

Ticks, lots and minimums follow the venue's instrument endpoint (see venue.py); the
sandbox trades exactly these. Futures share the spot name; ``_UMCBL`` (Bitget's historical USDT-M suffix) keeps venue symbols unique here.
"""

from decimal import Decimal

from sequence_core.market import SymbolMap, perp, plain, spot

V = "bitget"

INSTRUMENTS = (
    spot(V, "BTC", "USDT", "BTCUSDT", "0.01", "0.000001", "1"),
    spot(V, "ETH", "USDT", "ETHUSDT", "0.01", "0.0001", "1"),
    spot(V, "SOL", "USDT", "SOLUSDT", "0.001", "0.001", "1"),
    perp(V, "BTC", "USDT", "BTCUSDT_UMCBL", "0.1", "0.0001", "5"),
    perp(V, "ETH", "USDT", "ETHUSDT_UMCBL", "0.01", "0.01", "5"),
)

SYMBOLS = SymbolMap(INSTRUMENTS)


def from_symbols(rows: list) -> list:
    """Spot instruments from ``GET /api/v2/spot/public/symbols``: tick 10^-``pricePrecision``,
    lot 10^-``quantityPrecision``, ``minTradeAmount`` (base), ``minTradeUSDT`` (notional);
    ``status`` online or not."""
    import msgspec

    out = []
    for r in rows:
        tick, lot = f"{Decimal(1).scaleb(-int(r['pricePrecision'])):f}", f"{Decimal(1).scaleb(-int(r['quantityPrecision'])):f}"
        inst = spot(V, r["baseCoin"], r["quoteCoin"], r["symbol"], tick, lot, plain(r.get("minTradeUSDT") or "0"),
                    plain(r.get("minTradeAmount") or "0"))
        out.append(msgspec.structs.replace(inst, status="trading" if r.get("status") == "online" else "halted"))
    return out
