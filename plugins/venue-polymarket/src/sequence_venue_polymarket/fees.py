"""Polymarket: the published tier-0 fee schedule (rates are fractions of notional)."""

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
