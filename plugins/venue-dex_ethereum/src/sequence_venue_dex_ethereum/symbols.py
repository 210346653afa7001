"""DEX (Ethereum, Arbitrum): the instruments this plugin declares, and the symbol map.

Ticks, lots and minimums follow the venue's instrument endpoint (see venue.py); the
sandbox trades exactly these.
"""

from sequence_core.market import SymbolMap, spot

V = "dex_ethereum"

INSTRUMENTS = (
    spot(V, "ETH", "USDC", "arbitrum:WETH/USDC:500", "0.01", "0.000001", "1"),
    spot(V, "BTC", "USDC", "arbitrum:WBTC/USDC:500", "0.01", "0.00000001", "1"),
)

SYMBOLS = SymbolMap(INSTRUMENTS)
