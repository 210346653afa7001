"""Bybit: the published tier-0 fee schedule (rates are fractions of notional)."""

from decimal import Decimal

from sequence_core.market import FeeSchedule, FeeTier

SCHEDULE = FeeSchedule(
    venue="bybit",
    tiers=(FeeTier("Non-VIP (spot)", Decimal("0.001"), Decimal("0.001")),),
    perp_tiers=(FeeTier("Non-VIP (derivatives)", Decimal("0.0002"), Decimal("0.00055")),),
    source="https://www.bybit.com/en/help-center/article/Trading-Fee-Structure",
    as_of="2026-11-24",
)
