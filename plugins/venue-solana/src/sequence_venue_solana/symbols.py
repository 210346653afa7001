"""Solana (Jupiter): the instruments this plugin declares, the token mints behind them, and
the symbol map.

A venue symbol is ``<base mint>/<quote mint>``. Mints and decimals are the tokens' on-chain
mint accounts (https://explorer.solana.com/address/<mint>; Circle lists the USDC mint at
https://developers.circle.com/stablecoins/usdc-contract-addresses; JUP and BONK as in
Jupiter's token list, https://dev.jup.ag/docs/token-api). SOL is traded as native SOL: the
swap wraps and unwraps it (``wrapAndUnwrapSol``), and its mint here is the wrapped-SOL mint
the aggregator routes with, so the canonical asset is ``SOL``, never ``WSOL``.
Ticks are display precision of the quote (an aggregator has no price grid); a lot is one
base unit of the token (1 lamport for SOL); the minimum notional is 1 USDC.
"""

from decimal import Decimal

from sequence_core.market import SymbolMap, spot

V = "solana"
WSOL_MINT = "So11111111111111111111111111111111111111112"
LAMPORTS_PER_SOL = 10**9

#: canonical asset -> (mint, decimals)
TOKENS = {
    "SOL": (WSOL_MINT, 9),
    "USDC": ("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", 6),
    "JUP": ("JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN", 6),
    "BONK": ("DezXAZ8z7PnrnRJjz3wXBoRgixCa6xjnB7YaB1pPB263", 5),
}
ASSET_OF_MINT = {mint: asset for asset, (mint, _) in TOKENS.items()}

#: the size ``quote`` prices by default (venue setting ``quote_size`` overrides), about 20-150 USDC
DEFAULT_QUOTE_SIZE = {"SOL": Decimal("1"), "JUP": Decimal("100"), "BONK": Decimal("1000000")}


def _pair(base: str, quote: str, tick: str) -> object:
    lot = str(Decimal(1).scaleb(-TOKENS[base][1]))
    return spot(V, base, quote, f"{TOKENS[base][0]}/{TOKENS[quote][0]}", tick, lot, "1")


INSTRUMENTS = (
    _pair("SOL", "USDC", "0.0001"),
    _pair("JUP", "USDC", "0.000001"),
    _pair("BONK", "USDC", "0.0000000001"),
)

SYMBOLS = SymbolMap(INSTRUMENTS)


def mint(asset: str) -> str:
    return TOKENS[asset][0]


def decimals(asset: str) -> int:
    return TOKENS[asset][1]


def to_raw(asset: str, amount: Decimal, rounding: str = "ROUND_DOWN") -> int:
    """Token units (lamports for SOL) of a Decimal amount."""
    return int(amount.scaleb(decimals(asset)).to_integral_value(rounding=rounding))


def from_raw(asset: str, raw: int) -> Decimal:
    return Decimal(raw).scaleb(-decimals(asset))
