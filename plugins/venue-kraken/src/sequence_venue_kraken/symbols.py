"""Kraken: the instruments this plugin declares, and the symbol map.

Ticks, lots and minimums follow the venue's instrument endpoint (see venue.py); the
sandbox trades exactly these.
"""

from sequence_core.market import SymbolMap, spot

V = "kraken"

INSTRUMENTS = (
    spot(V, "BTC", "USD", "XBT/USD", "0.1", "0.00000001", "0.5", "0.00005"),
    spot(V, "ETH", "USD", "ETH/USD", "0.01", "0.00000001", "0.5", "0.002"),
    spot(V, "SOL", "USD", "SOL/USD", "0.01", "0.00000001", "0.5", "0.02"),
    spot(V, "XRP", "USD", "XRP/USD", "0.00001", "0.00000001", "0.5", "2"),
    spot(V, "BTC", "USDT", "XBT/USDT", "0.1", "0.00000001", "0.5", "0.00005"),
)

SYMBOLS = SymbolMap(INSTRUMENTS)
