"""Solana (DEX aggregator): the instruments this plugin declares, and the symbol map.

Ticks, lots and minimums follow the venue's instrument endpoint (see venue.py); the
sandbox trades exactly these.
"""

from sequence_core.market import SymbolMap, spot

V = "solana"

INSTRUMENTS = (
    spot(V, "SOL", "USDC", "So11111111111111111111111111111111111111112/EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", "0.0001", "0.000000001", "1"),
)

SYMBOLS = SymbolMap(INSTRUMENTS)
