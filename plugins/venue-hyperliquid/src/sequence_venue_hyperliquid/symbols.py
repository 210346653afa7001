"""Hyperliquid: the instruments this plugin declares, and the symbol map.

Ticks, lots and minimums follow the venue's instrument endpoint (see venue.py); the
sandbox trades exactly these.
"""

from sequence_core.market import SymbolMap, perp

V = "hyperliquid"

INSTRUMENTS = (
    perp(V, "BTC", "USDC", "BTC", "1", "0.00001", "10"),
    perp(V, "ETH", "USDC", "ETH", "0.1", "0.0001", "10"),
    perp(V, "SOL", "USDC", "SOL", "0.01", "0.01", "10"),
)

SYMBOLS = SymbolMap(INSTRUMENTS)
