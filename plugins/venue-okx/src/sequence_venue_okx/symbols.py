"""OKX: the instruments this plugin declares, and the symbol map.

Ticks, lots and minimums follow the venue's instrument endpoint (see venue.py); the
sandbox trades exactly these.
"""

from sequence_core.market import SymbolMap, perp, plain, spot

V = "okx"

INSTRUMENTS = (
    spot(V, "BTC", "USDT", "BTC-USDT", "0.1", "0.00000001", "0", "0.00001"),
    spot(V, "ETH", "USDT", "ETH-USDT", "0.01", "0.000001", "0", "0.0001"),
    spot(V, "SOL", "USDT", "SOL-USDT", "0.01", "0.000001", "0", "0.001"),
    spot(V, "XRP", "USDT", "XRP-USDT", "0.0001", "0.000001", "0", "0.1"),
    spot(V, "BTC", "USDC", "BTC-USDC", "0.1", "0.00000001", "0", "0.00001"),
    perp(V, "BTC", "USDT", "BTC-USDT-SWAP", "0.1", "0.0001", "0", "0.0001"),
    perp(V, "ETH", "USDT", "ETH-USDT-SWAP", "0.01", "0.001", "0", "0.001"),
)

SYMBOLS = SymbolMap(INSTRUMENTS)


def from_instruments(data: list) -> list:
    """Spot instruments from ``GET /api/v5/public/instruments?instType=SPOT``: ``tickSz``,
    ``lotSz``, ``minSz`` (OKX has no minimum notional for spot); ``state`` live or not."""
    import msgspec

    out = []
    for d in data:
        inst = spot(V, d["baseCcy"], d["quoteCcy"], d["instId"], plain(d["tickSz"]), plain(d["lotSz"]), "0", plain(d["minSz"]))
        out.append(msgspec.structs.replace(inst, status="trading" if d.get("state") == "live" else "halted"))
    return out
