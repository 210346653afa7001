"""Bitget: the instruments this plugin declares, and the symbol map.

Ticks, lots and minimums follow the venue's instrument endpoint (see venue.py); the
sandbox trades exactly these. Futures share the spot name; ``_UMCBL`` (Bitget's historical USDT-M suffix) keeps venue symbols unique here.
"""

from sequence_core.market import SymbolMap, perp, spot

V = "bitget"

INSTRUMENTS = (
    spot(V, "BTC", "USDT", "BTCUSDT", "0.01", "0.000001", "1"),
    spot(V, "ETH", "USDT", "ETHUSDT", "0.01", "0.0001", "1"),
    spot(V, "SOL", "USDT", "SOLUSDT", "0.001", "0.001", "1"),
    perp(V, "BTC", "USDT", "BTCUSDT_UMCBL", "0.1", "0.0001", "5"),
    perp(V, "ETH", "USDT", "ETHUSDT_UMCBL", "0.01", "0.01", "5"),
)

SYMBOLS = SymbolMap(INSTRUMENTS)
