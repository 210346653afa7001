"""Kalshi: the published tier-0 fee schedule (rates are fractions of notional)."""

from decimal import ROUND_CEILING, Decimal

from sequence_core.market import FeeSchedule, FeeTier

SCHEDULE = FeeSchedule(
    venue="kalshi",
    tiers=(FeeTier("general", Decimal("0"), Decimal("0.07")),),
    source="https://kalshi.com/docs/kalshi-fee-schedule.pdf",
    as_of="2026-11-24",
    model="kalshi_binary",
    curve="0.07×C×P×(1−P), ceil ¢",
    notes="taker fee = round up to the cent of 0.07 x C x P x (1 - P); makers pay nothing on most markets "
          "(0.0175 x C x P x (1 - P) where Kalshi lists a maker fee). The rate column is the coefficient, not % of notional.",
)

TAKER_COEFFICIENT = Decimal("0.07")
CENT = Decimal("0.01")


def fee(price: Decimal, qty: Decimal, liquidity: str, maker_coefficient: Decimal = Decimal(0)) -> Decimal:
    """Kalshi's published binary-contract fee for ``qty`` contracts at ``price`` dollars,
    rounded up to the next cent (a fractional cent is always charged as a full one)."""
    coefficient = TAKER_COEFFICIENT if liquidity == "taker" else maker_coefficient
    raw = coefficient * qty * price * (1 - price)
    return (raw / CENT).to_integral_value(rounding=ROUND_CEILING) * CENT
