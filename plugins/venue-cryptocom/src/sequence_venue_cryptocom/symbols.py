"""Crypto.com Exchange: the instruments this plugin declares, and the symbol map.

Ticks, lots and minimums follow the venue's instrument endpoint (see venue.py); the
sandbox trades exactly these.
"""

from sequence_core.market import SymbolMap, perp, spot

V = "cryptocom"

INSTRUMENTS = (
    spot(V, "BTC", "USD", "BTC_USD", "0.01", "0.00001", "1"),
    spot(V, "ETH", "USD", "ETH_USD", "0.01", "0.0001", "1"),
    spot(V, "BTC", "USDT", "BTC_USDT", "0.01", "0.00001", "1"),
    perp(V, "BTC", "USD", "BTCUSD-PERP", "0.1", "0.0001", "1"),
)

SYMBOLS = SymbolMap(INSTRUMENTS)
