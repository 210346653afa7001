"""Crypto.com Exchange: the published tier-0 fee schedule (rates are fractions of notional).

The account's own rates are ``private/get-instrument-fee-rate`` (``effective_maker_rate_bps``,
``effective_taker_rate_bps``) and each order's ``maker_fee_rate`` / ``taker_fee_rate``; the
client reads the former (http.py ``fee_rate``).
"""

from decimal import Decimal

from sequence_core.market import FeeSchedule, FeeTier

SCHEDULE = FeeSchedule(
    venue="cryptocom",
    tiers=(FeeTier("Tier 1 (spot)", Decimal("0.0025"), Decimal("0.005")),),
    perp_tiers=(FeeTier("Tier 1 (derivatives)", Decimal("0.00034"), Decimal("0.0005")),),
    source="https://crypto.com/exchange/document/fees-limits",
    as_of="2026-11-24",
    notes="spot figures as carried by ccxt 4.5.90; check the page for promotional tiers; "
          "private/get-instrument-fee-rate gives an account's own rate",
)
