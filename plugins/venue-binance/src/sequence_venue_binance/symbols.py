"""Binance: the instruments this plugin declares, and the symbol map.

Ticks, lots and minimums follow the venue's instrument endpoint (see venue.py); the
sandbox trades exactly these. USD-M perps share the spot name on another host; ``_PERP`` keeps venue symbols unique here and is stripped by the adapter.
"""

from sequence_core.market import SymbolMap, perp, spot

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
