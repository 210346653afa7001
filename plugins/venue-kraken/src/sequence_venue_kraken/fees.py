"""Kraken: the published tier-0 fee schedule (rates are fractions of notional)."""

from decimal import Decimal

from sequence_core.market import FeeSchedule, FeeTier

SCHEDULE = FeeSchedule(
    venue="kraken",
    tiers=(
        FeeTier("$0-10K", Decimal("0.0025"), Decimal("0.004")),
        FeeTier("$10K-50K", Decimal("0.002"), Decimal("0.0035"), Decimal("10000")),
    ),
    source="https://www.kraken.com/features/fee-schedule",
    as_of="2026-11-24",
    notes="Kraken Pro spot; ccxt 4.5.90 still carries the older 0.16%/0.26% first tier",
)
