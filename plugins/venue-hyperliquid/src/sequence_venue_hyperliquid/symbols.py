"""Hyperliquid: the perpetuals and spot pairs this plugin declares, the symbol map and the price/size rules.

Perps are named by coin (``BTC``) and traded by asset index = position in ``meta.universe``
(https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/asset-ids), learnt from
``POST /info {"type": "meta"}``. Tick and lot rules
(https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/tick-and-lot-size): sizes
have at most ``szDecimals`` decimals; prices at most 5 significant figures (integers always
allowed) and at most ``6 - szDecimals`` decimals for perps. The ticks declared here hold at the
reference prices (BTC 1, ETH 0.1, SOL 0.01); the venue's minimum order value is $10.
Margin and collateral are USDC, so canonical names are ``BTC-USDC-PERP``.

Spot (https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/asset-ids): "Spot endpoints
expect 10000 + spotInfo["index"] where spotInfo is the corresponding object in spotMeta that has
the desired quote and base tokens" (PURR/USDC: 10000); mainnet HYPE is token 150, spot pair 107,
testnet token 1105, pair 1035. ``POST /info {"type": "spotMeta"}``
(https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/info-endpoint/spot) answers
``{tokens: [{name, szDecimals, weiDecimals, index, ...}], universe: [{name, tokens: [base, quote],
index, isCanonical}]}``; a pair's ``name`` is its coin on the wire (l2Book, trades, allMids,
openOrders, fills, orderUpdates): "PURR/USDC" for pair 0, ``@<index>`` for every other
(the docs' example ``@1``; the official SDK's examples/basic_spot_order.py: "For other spot assets
other than PURR/USDC use @{index}"; its Info builds the asset as ``spot_info["index"] + 10000``
and the size decimals from the *base* token's ``szDecimals``, hyperliquid/info.py). Spot prices
follow the same 5 significant figures with ``8 - szDecimals`` decimals (tick-and-lot-size page:
"MAX_DECIMALS is 6 for perps and 8 for spot"; the SDK's ``_slippage_price`` rounds to
``(6 if not is_spot else 8) - szDecimals``). Spot orders have a minimum value of 10 of the quote
(error-responses: MinTradeSpotNtl "Order must have minimum value of 10 {quote_token}").
Declared pairs (canonical ``BASE-USDC``, the base as spotMeta names the token): HYPE-USDC =
``@107`` (the asset-ids page), PURR-USDC = ``PURR/USDC`` (pair 0, szDecimals 0 in the spot docs'
example), and Unit's wrapped coins UBTC-USDC = ``@142`` and USOL-USDC = ``@156`` (a recorded
``userFills`` answer, shared/data/responses/hyperliquid/http_user_fills_dust_conversion.json: ``@156``
bought 1.267 at 160.32 with its fee in USOL, ``@142`` at 104730). They keep the venue's token names
(UBTC is not BTC), as fills and balances name them. Since the declared ``@index`` names are
network-specific, a session checks each against ``spotMeta`` (the pair's tokens must be the
declared base and USDC) before trading it, and refuses a mismatch (testnet's numbering) unsent.
Ticks declared hold at reference prices (HYPE 30: 0.001; PURR 0.2: 0.00001; UBTC 100000: 1; USOL 150: 0.01).
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from sequence_core.errors import InvalidOrder
from sequence_core.market import SymbolMap, perp, spot

V = "hyperliquid"
MAX_PERP_DECIMALS = 6
MAX_SPOT_DECIMALS = 8
SPOT_OFFSET = 10_000                # spot asset id = SPOT_OFFSET + the pair's index in spotMeta.universe

INSTRUMENTS = (
    perp(V, "BTC", "USDC", "BTC", "1", "0.00001", "10"),
    perp(V, "ETH", "USDC", "ETH", "0.1", "0.0001", "10"),
    perp(V, "SOL", "USDC", "SOL", "0.01", "0.01", "10"),
    spot(V, "HYPE", "USDC", "@107", "0.001", "0.01", "10"),
    spot(V, "PURR", "USDC", "PURR/USDC", "0.00001", "1", "10"),
    spot(V, "UBTC", "USDC", "@142", "1", "0.00001", "10"),
    spot(V, "USOL", "USDC", "@156", "0.01", "0.001", "10"),
)

SYMBOLS = SymbolMap(INSTRUMENTS)


def from_meta(meta: dict) -> dict[str, tuple[int, int]]:
    """coin -> (asset index, szDecimals) from a ``meta`` answer (delisted coins keep their index)."""
    return {u["name"]: (n, int(u["szDecimals"])) for n, u in enumerate(meta["universe"])}


def max_decimals(inst) -> int:
    return MAX_PERP_DECIMALS if inst.kind == "perp" else MAX_SPOT_DECIMALS


def spot_from_meta(spot_meta: dict) -> dict[str, tuple[int, int, str, str]]:
    """pair name (``@107``, ``PURR/USDC``) -> (asset id, the base's szDecimals, base token, quote token)."""
    tokens = {t["index"]: t for t in spot_meta["tokens"]}
    out = {}
    for pair in spot_meta["universe"]:
        base, quote = (tokens[i] for i in pair["tokens"])
        out[pair["name"]] = (SPOT_OFFSET + int(pair["index"]), int(base["szDecimals"]), base["name"], quote["name"])
    return out


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


def valid_price(price: Decimal, sz_decimals: int, most: int = MAX_PERP_DECIMALS) -> bool:
    """*most*: MAX_PERP_DECIMALS, or MAX_SPOT_DECIMALS for a spot pair."""
    if price <= 0:
        return False
    decimals = max(0, -price.normalize().as_tuple().exponent)
    if decimals > most - sz_decimals:
        return False
    return price == price.to_integral_value() or len(price.normalize().as_tuple().digits) <= 5


def round_price(price: Decimal, sz_decimals: int, up: bool, most: int = MAX_PERP_DECIMALS) -> Decimal:
    """The nearest valid price on one side (up: never below ``price``). Used for aggressive
    orders, so a buy's cap is never exceeded (round down) nor a sell's floor (round up)."""
    rounding = ROUND_CEILING if up else ROUND_FLOOR
    if price >= Decimal(10) ** 5:
        return price.to_integral_value(rounding)
    exponent = max(price.adjusted() - 4, -(most - sz_decimals))
    return price.quantize(Decimal(1).scaleb(exponent), rounding).normalize()


def check_order(price: Decimal | None, qty: Decimal, sz_decimals: int, coin: str, most: int = MAX_PERP_DECIMALS) -> None:
    """Refuse, before signing, what the venue would refuse for its tick and lot rules."""
    if qty <= 0 or qty != qty.quantize(Decimal(1).scaleb(-sz_decimals)):
        raise InvalidOrder(f"hyperliquid: size {qty} for {coin} must be positive with at most {sz_decimals} decimals")
    if price is not None and not valid_price(price, sz_decimals, most):
        raise InvalidOrder(f"hyperliquid: price {price} for {coin} needs at most 5 significant figures (or an integer) "
                           f"and at most {most - sz_decimals} decimals")
