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

Per-series terms. Every series carries ``fee_type`` and ``fee_multiplier``
(``GET /series/{series_ticker}`` -> ``{"series": {...}}``, and the same ``Series`` objects in
``GET /series``; https://docs.kalshi.com/api-reference/market/get-series,
https://docs.kalshi.com/api-reference/market/get-series-list, OpenAPI 3.29.0). ``fee_type`` is
one of ``quadratic`` ("the General Trading Fees Table": the taker formula above, makers pay
nothing), ``quadratic_with_maker_fees`` ("... with maker fees described in the Maker Fees
section": makers pay 0.25 of the taker rate, 0.07 x 0.25 = 0.0175, the schedule's maker
coefficient), ``quadratic_with_combo_maker_fees`` ("the same maker-fee structure with a 0.5
maker multiplier instead of 0.25") and ``flat`` ("the Specific Trading Fees Table");
``fee_multiplier`` is "a floating point multiplier applied to the fee calculations", so it
scales taker and maker coefficients alike and 0 means no fee. The Specific Trading Fees
Table is not in the schedule PDF or docs read for this module, so a ``flat`` series with a
non-zero multiplier, and an unknown ``fee_type``, are estimated with the general schedule
(decided so that such markets stay routable; the fill reports the fee charged). A market's series is its event's: ``GET /markets/{ticker}``
gives ``event_ticker``, ``GET /events/{event_ticker}`` gives ``event.series_ticker``
(https://docs.kalshi.com/python-sdk/models/EventData). "Event fees are an override layered on
top of the parent series' fee structure": an event's ``fee_type_override`` and
``fee_multiplier_override``, each null when the event "falls back to the parent series' fee
structure" / "fee multiplier" (https://docs.kalshi.com/api-reference/events/get-event-fee-changes;
the event object carries the overrides in force). Kalshi also publishes scheduled
changes (``GET /series/fee_changes`` -> ``series_fee_change_arr`` of ``{id, series_ticker,
fee_type, fee_multiplier, scheduled_ts}``, https://docs.kalshi.com/python-sdk/models/SeriesFeeChange):
not read here; a series' own terms are the ones in force, and they are read again after
``TERMS_TTL_S``.

Where the terms come from: ``KalshiSession.prepare`` (execution.py) reads them before the
engine admits a live order and keeps them here (``TERMS``, by market ticker: both legs share
them); ``KalshiVenue.fee`` only looks them up (venue.py), else the general schedule.
"""

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import NamedTuple

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
          "This is the general schedule: each series sets its own fee_type and fee_multiplier "
          "(https://docs.kalshi.com/api-reference/market/get-series), which live orders, `fees` and preview() "
          "read from Kalshi for their market. "
          "Sub-cent prices and fractional contracts: trade fee ceiled to $0.0001, balance floored to the cent "
          "(https://docs.kalshi.com/getting_started/fee_rounding).",
)

TAKER_COEFFICIENT = Decimal("0.07")
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


def charge(price: Decimal, qty: Decimal, coefficient: Decimal) -> Decimal:
    """A buyer's net fee for ``qty`` contracts at ``price`` dollars filled at once at this
    coefficient, for a non-direct member: trade fee plus rounding fee."""
    charged = trade_fee(price, qty, coefficient)
    if not charged:
        return Decimal("0.00")
    rounding, _ = fill_fee(-(price * qty), charged)
    return charged + rounding


def fee(price: Decimal, qty: Decimal, liquidity: str) -> Decimal:
    """The general schedule's fee: with whole contracts at whole-cent prices this is the
    schedule's ``ceil¢(0.07 x C x P x (1 - P))`` for a taker; makers pay nothing."""
    return charge(price, qty, GENERAL.coefficient(liquidity))


#: the maker's share of the taker coefficient by ``fee_type`` (module docstring); ``flat`` is absent: unknown
MAKER_SHARE = {"quadratic": Decimal(0), "quadratic_with_maker_fees": Decimal("0.25"),
               "quadratic_with_combo_maker_fees": Decimal("0.5")}


class SeriesFees(NamedTuple):
    """One series' fee terms as Kalshi publishes them."""

    fee_type: str = "quadratic"
    multiplier: Decimal = Decimal(1)
    series: str = ""                 # the series ticker; "" for the general schedule

    def coefficient(self, liquidity: str) -> Decimal:
        """The P x (1 - P) coefficient a taker or maker pays. A type whose formula is not
        published where this was read (``flat`` with a fee, or a type added later) is estimated
        with the general schedule: an estimate either way, and the fill reports what was charged."""
        if self.multiplier == 0:
            return Decimal(0)
        if self.fee_type not in MAKER_SHARE:
            return GENERAL.coefficient(liquidity)
        share = Decimal(1) if liquidity == "taker" else MAKER_SHARE[self.fee_type]
        return TAKER_COEFFICIENT * share * self.multiplier


GENERAL = SeriesFees()

TERMS_TTL_S = 3600.0      # a market's terms are read again when older than an hour
RETRY_S = 60.0            # a market whose read failed is not asked again for this long

#: market ticker -> (its series' terms, when they were read: ``time.monotonic()``); filled by
#: ``KalshiSession.prepare`` only, so the sandbox and anything outside a live engine keep GENERAL
TERMS: dict[str, tuple[SeriesFees, float]] = {}
FAILED: dict[str, float] = {}     # market ticker -> when its read last failed (``time.monotonic()``)


def terms_for(ticker: str) -> SeriesFees:
    """The terms last read for this market, however old (a failed refresh keeps them), else GENERAL."""
    found = TERMS.get(ticker)
    return GENERAL if found is None else found[0]


def needs_terms(ticker: str, now: float) -> bool:
    """Unknown or an hour old, and not failed in the last minute (a Kalshi outage must not
    cost every live order on the market a timed-out read)."""
    found = TERMS.get(ticker)
    stale = found is None or now - found[1] >= TERMS_TTL_S
    return stale and now - FAILED.get(ticker, -RETRY_S) >= RETRY_S


def from_series(series: dict, event: dict | None = None) -> SeriesFees:
    """The terms of a ``Series`` object, each overridden by the event's where it sets one
    (``fee_multiplier`` is a JSON number: read through str, never a binary float)."""
    event = event or {}
    fee_type = event.get("fee_type_override") or series.get("fee_type") or "quadratic"
    multiplier = event.get("fee_multiplier_override")
    if multiplier is None:
        multiplier = series.get("fee_multiplier")
    multiplier = Decimal(str(multiplier)) if multiplier is not None else Decimal(1)
    if not multiplier.is_finite() or multiplier < 0:
        raise ValueError(f"fee_multiplier {multiplier} is not a fee multiplier")
    return SeriesFees(str(fee_type), multiplier, str(series.get("ticker") or ""))


def series_fee(price: Decimal, qty: Decimal, liquidity: str, terms: SeriesFees = GENERAL) -> Decimal:
    """The fee for one fill under a series' terms."""
    return charge(price, qty, terms.coefficient(liquidity))


def schedule_for(terms: SeriesFees) -> FeeSchedule:
    """The schedule as ``fees`` shows it for one series."""
    if terms == GENERAL:
        return SCHEDULE
    maker, taker = terms.coefficient("maker"), terms.coefficient("taker")
    name = terms.series or "series"
    return FeeSchedule(
        venue="kalshi", tiers=(FeeTier(name, maker, taker),), source=SCHEDULE.source, as_of=SCHEDULE.as_of,
        model="kalshi_binary",
        curve=_curve(maker, taker),
        notes=f"series {name}: fee_type {terms.fee_type}, fee_multiplier {_fmt(terms.multiplier)} "
              f"(https://docs.kalshi.com/api-reference/market/get-series); taker {_fmt(taker)} x C x P x (1 - P), "
              f"maker {_fmt(maker)} x C x P x (1 - P), each rounded up to the cent.",
    )


def _curve(maker: Decimal, taker: Decimal) -> str:
    """The formula ``fees`` prints in both columns: so it names the maker's share when there is one."""
    if not taker:
        return ""
    return f"{_fmt(taker)}×C×P×(1−P)" + (f" taker, {_fmt(maker)}× maker" if maker else "") + ", ceil ¢"


def _fmt(x: Decimal) -> str:
    return format(x.normalize(), "f")
