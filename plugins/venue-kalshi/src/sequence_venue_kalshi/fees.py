"""Kalshi: the published binary-contract fee schedule and the exchange's fee rounding.

Schedule (https://kalshi.com/docs/kalshi-fee-schedule.pdf): a taker pays
``0.07 x C x P x (1 - P)`` for C contracts at P dollars, rounded up to the next cent; makers
pay nothing on most markets, ``0.0175 x C x P x (1 - P)`` where a series lists a maker fee.
The coefficient is the same at P and 1 - P, so YES and NO legs of one trade cost the same.

Rounding (https://docs.kalshi.com/getting_started/fee_rounding), since sub-penny prices and
fractional contracts: the trade fee is rounded *up* to $0.0001 (centicent); the balance
change ``revenue - trade_fee`` (revenue negative for a buyer) is floored to the member's
balance precision ($0.01 for non-direct members, $0.0001 for direct members) and the
difference is a rounding fee; a per-order accumulator refunds whole cents once the
rounding paid exceeds $0.01. For whole contracts at whole-cent prices this is exactly the
schedule's "round up to the cent". Fills carry the fee Kalshi charged (``fee_cost``); these
functions are for estimates (``fees``, ``preview()``) and the sandbox.
"""

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from sequence_core.market import FeeSchedule, FeeTier

SCHEDULE = FeeSchedule(
    venue="kalshi",
    tiers=(FeeTier("general", Decimal("0"), Decimal("0.07")),),
    source="https://kalshi.com/docs/kalshi-fee-schedule.pdf",
    as_of="2026-11-24",
    model="kalshi_binary",
    curve="0.07×C×P×(1−P), ceil ¢",
    notes="taker fee = round up to the cent of 0.07 x C x P x (1 - P); makers pay nothing on most markets "
          "(0.0175 x C x P x (1 - P) where Kalshi lists a maker fee). The rate column is the coefficient, not % of notional. "
          "Sub-cent prices and fractional contracts: trade fee ceiled to $0.0001, balance floored to the cent "
          "(https://docs.kalshi.com/getting_started/fee_rounding).",
)

TAKER_COEFFICIENT = Decimal("0.07")
MAKER_COEFFICIENT = Decimal("0.0175")       # only on series that list a maker fee
CENT = Decimal("0.01")
CENTICENT = Decimal("0.0001")


def _ceil(x: Decimal, step: Decimal) -> Decimal:
    return (x / step).to_integral_value(rounding=ROUND_CEILING) * step


def _floor(x: Decimal, step: Decimal) -> Decimal:
    return (x / step).to_integral_value(rounding=ROUND_FLOOR) * step


def trade_fee(price: Decimal, qty: Decimal, coefficient: Decimal) -> Decimal:
    """The fee model's charge, rounded up to the centicent."""
    return _ceil(coefficient * qty * price * (1 - price), CENTICENT)


def fill_fee(revenue: Decimal, fee: Decimal, precision: Decimal = CENT) -> tuple[Decimal, Decimal]:
    """(rounding fee, balance change) of one fill: ``revenue`` signed (negative for a buyer),
    ``fee`` the trade fee already ceiled to the centicent, ``precision`` the member's balance
    precision. The accumulator's rebates across an order's fills are the exchange's business."""
    change = revenue - fee
    floored = _floor(change, precision)
    return change - floored, floored


def fee(price: Decimal, qty: Decimal, liquidity: str, maker_coefficient: Decimal = Decimal(0)) -> Decimal:
    """A buyer's net fee for ``qty`` contracts at ``price`` dollars filled at once, for a
    non-direct member: trade fee plus rounding fee. With whole contracts at whole-cent prices
    this is the schedule's ``ceil¢(0.07 x C x P x (1 - P))``."""
    coefficient = TAKER_COEFFICIENT if liquidity == "taker" else maker_coefficient
    charged = trade_fee(price, qty, coefficient)
    if not charged:
        return Decimal("0.00")
    rounding, _ = fill_fee(-(price * qty), charged)
    return charged + rounding
