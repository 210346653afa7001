"""Bitget: the published tier-0 fee schedule (rates are fractions of notional)."""

from decimal import Decimal

from sequence_core.market import FeeSchedule, FeeTier

SCHEDULE = FeeSchedule(
    venue="bitget",
    tiers=(FeeTier("VIP 0 (spot)", Decimal("0.001"), Decimal("0.001")),),
    perp_tiers=(FeeTier("VIP 0 (futures)", Decimal("0.0002"), Decimal("0.0006")),),
    source="https://www.bitget.com/fee",
    as_of="2026-11-24",
    notes="ccxt 4.5.90 carries 0.20%/0.20% for spot (older schedule)",
)
