"""Bybit: the instruments this plugin declares, and the symbol map.

Ticks, lots and minimums follow the venue's instrument endpoint (see venue.py); the
sandbox trades exactly these. Spot and linear share names across categories; ``_LINEAR`` keeps venue symbols unique here and the adapter sends ``category=linear``.
"""

from sequence_core.market import SymbolMap, perp, spot

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
