"""dex_ethereum: the instruments per chain, and the symbol map.

Canonical ``ETH-USDC`` / ``BTC-USDC`` name the Uniswap v3 pool traded on the configured chain;
the venue symbol is ``<chain>:<token>/<token>:<fee tier>`` (``arbitrum:WETH/USDC:500``). ETH is
WETH and BTC is WBTC in the pool (contracts.py). Ticks are display steps for the quote (pool
prices are continuous); lots are the token's smallest unit where practical (1e-6 ETH; 1 satoshi
of WBTC); the minimum notional is 1 USDC (gas dominates below that anyway).
"""

from sequence_core.market import SymbolMap, spot

from .contracts import CHAINS, venue_symbol_of

V = "dex_ethereum"
_STEPS = {"ETH": ("0.01", "0.000001"), "BTC": ("0.01", "0.00000001")}


def instruments_for(chain: str = "arbitrum") -> tuple:
    ch = CHAINS[chain]
    return tuple(spot(V, p.base, p.quote, venue_symbol_of(ch, p), *_STEPS[p.base], "1") for p in ch.pairs)


INSTRUMENTS = instruments_for("arbitrum")
SYMBOLS = SymbolMap(INSTRUMENTS)
