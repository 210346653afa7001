"""Hyperliquid: the perpetuals this plugin declares, the symbol map and the price/size rules.

Perps are named by coin (``BTC``) and traded by asset index = position in ``meta.universe``
(https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/asset-ids), learnt from
``POST /info {"type": "meta"}``. Tick and lot rules
(https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/tick-and-lot-size): sizes
have at most ``szDecimals`` decimals; prices at most 5 significant figures (integers always
allowed) and at most ``6 - szDecimals`` decimals for perps. The ticks declared here hold at the
reference prices (BTC 1, ETH 0.1, SOL 0.01); the venue's minimum order value is $10.
Margin and collateral are USDC, so canonical names are ``BTC-USDC-PERP``.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from sequence_core.errors import InvalidOrder
from sequence_core.market import SymbolMap, perp

V = "hyperliquid"
MAX_PERP_DECIMALS = 6

INSTRUMENTS = (
    perp(V, "BTC", "USDC", "BTC", "1", "0.00001", "10"),
    perp(V, "ETH", "USDC", "ETH", "0.1", "0.0001", "10"),
    perp(V, "SOL", "USDC", "SOL", "0.01", "0.01", "10"),
)

SYMBOLS = SymbolMap(INSTRUMENTS)


def from_meta(meta: dict) -> dict[str, tuple[int, int]]:
    """coin -> (asset index, szDecimals) from a ``meta`` answer (delisted coins keep their index)."""
    return {u["name"]: (n, int(u["szDecimals"])) for n, u in enumerate(meta["universe"])}


def instruments_from_meta(meta: dict) -> list:
    """The perps ``meta`` lists, as instruments (lot from szDecimals; the tick is the finest the
    price rule allows at one significant figure, since Hyperliquid's tick moves with price)."""
    import msgspec

    out = []
    for u in meta["universe"]:
        sz = int(u["szDecimals"])
        inst = perp(V, u["name"], "USDC", u["name"], str(Decimal(1).scaleb(-(MAX_PERP_DECIMALS - sz))),
                    str(Decimal(1).scaleb(-sz)), "10")
        out.append(msgspec.structs.replace(inst, status="halted" if u.get("isDelisted") else "trading"))
    return out


def valid_price(price: Decimal, sz_decimals: int) -> bool:
    if price <= 0:
        return False
    decimals = max(0, -price.normalize().as_tuple().exponent)
    if decimals > MAX_PERP_DECIMALS - sz_decimals:
        return False
    return price == price.to_integral_value() or len(price.normalize().as_tuple().digits) <= 5


def round_price(price: Decimal, sz_decimals: int, up: bool) -> Decimal:
    """The nearest valid price on one side (up: never below ``price``). Used for aggressive
    orders, so a buy's cap is never exceeded (round down) nor a sell's floor (round up)."""
    rounding = ROUND_CEILING if up else ROUND_FLOOR
    if price >= Decimal(10) ** 5:
        return price.to_integral_value(rounding)
    exponent = max(price.adjusted() - 4, -(MAX_PERP_DECIMALS - sz_decimals))
    return price.quantize(Decimal(1).scaleb(exponent), rounding).normalize()


def check_order(price: Decimal | None, qty: Decimal, sz_decimals: int, coin: str) -> None:
    """Refuse, before signing, what the venue would refuse for its tick and lot rules."""
    if qty <= 0 or qty != qty.quantize(Decimal(1).scaleb(-sz_decimals)):
        raise InvalidOrder(f"hyperliquid: size {qty} for {coin} must be positive with at most {sz_decimals} decimals")
    if price is not None and not valid_price(price, sz_decimals):
        raise InvalidOrder(f"hyperliquid: price {price} for {coin} needs at most 5 significant figures (or an integer) "
                           f"and at most {MAX_PERP_DECIMALS - sz_decimals} decimals")
