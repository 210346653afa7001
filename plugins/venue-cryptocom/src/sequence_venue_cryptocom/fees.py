"""Crypto.com Exchange: the published tier-0 fee schedule (rates are fractions of notional)."""

from decimal import Decimal

from sequence_core.market import FeeSchedule, FeeTier

SCHEDULE = FeeSchedule(
    venue="cryptocom",
    tiers=(FeeTier("Tier 1 (spot)", Decimal("0.0025"), Decimal("0.005")),),
    perp_tiers=(FeeTier("Tier 1 (derivatives)", Decimal("0.00034"), Decimal("0.0005")),),
    source="https://crypto.com/exchange/document/fees-limits",
    as_of="2026-11-24",
    notes="spot figures as carried by ccxt 4.5.90; check the page for promotional tiers",
)
