"""Binance: the published tier-0 fee schedule (rates are fractions of notional)."""

from decimal import Decimal

from sequence_core.market import FeeSchedule, FeeTier

SCHEDULE = FeeSchedule(
    venue="binance",
    tiers=(FeeTier("Regular (spot)", Decimal("0.001"), Decimal("0.001")),),
    perp_tiers=(FeeTier("Regular (USD-M)", Decimal("0.0002"), Decimal("0.0005")),),
    source="https://www.binance.com/en/fee/schedule",
    as_of="2026-11-24",
    notes="spot 0.10%/0.10%, USD-M 0.02%/0.05% at the Regular tier; BNB discounts not applied",
)
