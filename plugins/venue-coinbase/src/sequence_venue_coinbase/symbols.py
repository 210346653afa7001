"""Coinbase Advanced Trade: the instruments this plugin declares, and the symbol map.

Ticks, lots and minimums follow the venue's instrument endpoint (see venue.py); the
sandbox trades exactly these.
"""

from sequence_core.market import SymbolMap, spot

V = "coinbase"

INSTRUMENTS = (
    spot(V, "BTC", "USD", "BTC-USD", "0.01", "0.00000001", "1"),
    spot(V, "ETH", "USD", "ETH-USD", "0.01", "0.00000001", "1"),
    spot(V, "SOL", "USD", "SOL-USD", "0.01", "0.00000001", "1"),
    spot(V, "XRP", "USD", "XRP-USD", "0.0001", "0.000001", "1"),
)

SYMBOLS = SymbolMap(INSTRUMENTS)
