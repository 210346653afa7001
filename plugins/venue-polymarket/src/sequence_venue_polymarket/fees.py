"""Polymarket: the published fee schedule (rates are fractions of notional) and the V2 fee curve.

https://docs.polymarket.com/trading/fees: in CLOB V2 fees are not part of the signed order; the
operator charges them at match from the market's fee parameters, which the CLOB publishes as
``fd`` {r: rate, e: exponent, to: takers only} at ``GET /clob-markets/{condition_id}``
(clob-client-v2 getClobMarketInfo). A taker pays rate x (p x (1 - p))^exponent per share:
shares x rate x (p(1-p))^e, floored to 5 decimals of pUSD; makers pay nothing. The SDK's fee
test (clob-client-v2 tests/client/feeCalculations.test.ts) works 100 shares at 0.5 with rate
0.25 and exponent 2 to 1.5625. ``GET /fee-rate`` ({"base_fee": bps}) is the V1 fee field.
"""

from decimal import ROUND_FLOOR, Decimal

from sequence_core.market import FeeSchedule, FeeTier

SCHEDULE = FeeSchedule(
    venue="polymarket",
    tiers=(FeeTier("platform", Decimal("0"), Decimal("0")),),
    source="https://docs.polymarket.com/trading/fees",
    as_of="2026-11-24",
    model="polymarket_curve",
    curve="C×rate×(P(1−P))^e, takers",
    notes="V2: takers pay C x rate x (p x (1 - p))^exponent, floored to 5 decimals, with rate and exponent "
          "per market (CLOB market info 'fd'); makers pay nothing. Most markets have rate 0.",
)

FIVE_DP = Decimal("0.00001")


def fee(price: Decimal, qty: Decimal, liquidity: str, rate: Decimal = Decimal(0), exponent: int = 1) -> Decimal:
    """Polymarket's V2 platform fee for ``qty`` shares at ``price`` (takers only)."""
    if liquidity != "taker" or rate == 0:
        return Decimal(0)
    raw = qty * rate * (price * (1 - price)) ** exponent
    return raw.quantize(FIVE_DP, rounding=ROUND_FLOOR)


#: token id -> the market's ``fd`` as last read; filled by ``PolymarketSession.prepare`` only (before
#: a live order is admitted, and for live `fees`/`preview`), so the sandbox and anything outside
#: a live read keep SCHEDULE. ``FAILED``: token id -> when its read failed (``time.monotonic()``).
FD: dict[str, dict] = {}
FAILED: dict[str, float] = {}
RETRY_S = 60.0            # a market whose read failed is not asked again for this long


def schedule_for(fd: dict | None) -> FeeSchedule:
    """The schedule `fees` shows for a market whose ``fd`` was read (its taker rate is the
    curve's coefficient, not a fraction of notional: the notes say so), else SCHEDULE."""
    if not fd or not fd.get("r"):
        return SCHEDULE
    rate, exponent = Decimal(str(fd["r"])), int(fd.get("e") or 0)
    return FeeSchedule(venue="polymarket", tiers=(FeeTier("market", Decimal(0), rate),), source=SCHEDULE.source,
                       as_of=SCHEDULE.as_of, model="polymarket_curve", curve=f"C×{rate}×(P(1−P))^{exponent}, takers",
                       notes=f"this market's fee parameters (CLOB market info 'fd': rate {rate}, exponent {exponent}): "
                             "takers pay shares x rate x (p x (1 - p))^exponent, floored to 5 decimals; makers pay nothing.")


def market_fee(price: Decimal, qty: Decimal, liquidity: str, fd: dict | None) -> Decimal:
    """The fee for one fill from a market's ``fd`` (absent: the market charges none)."""
    fd = fd or {}
    return fee(price, qty, liquidity, Decimal(str(fd.get("r") or 0)), int(fd.get("e") or 0))
